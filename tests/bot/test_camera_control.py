"""Camera moves on the product side: the previz as control (settings and per render), LoRA
settings, and rerolling the takes whose measured move is not the one asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app import diffusers_options, production
from bot.settings import Settings
from render.types import CameraControl
from studio.records import NewJob, NewTake

SCOPE = "local"
BRIEF = (
    "A 20-second teaser. Mia, a detective, waits in a rain-soaked alley at night. "
    "Cole steps out of a car holding a letter. Mia reads the letter in the diner."
)


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None, **overrides)  # type: ignore[call-arg]


async def test_previz_control_from_the_settings_and_per_render(tmp_path: Path) -> None:
    async with production(
        settings_for(tmp_path, camera_control="previz", control_strength=0.7)
    ) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        shot = project.shotlist.shots[0]
        request = prod.renders.request(project.shotlist, shot)
        assert (request.camera_control, request.control_strength) == (CameraControl.PREVIZ, 0.7)
        prompt_only = prod.renders.request(project.shotlist, shot, camera_control="prompt")
        assert prompt_only.camera_control is CameraControl.PROMPT
        assert prompt_only.cache_key() != request.cache_key()  # the control changes the pixels
    async with production(settings_for(tmp_path)) as prod:
        plain = prod.renders.request(project.shotlist, shot)
        assert (
            plain.camera_control is CameraControl.PROMPT
            and plain.cache_key() == prompt_only.cache_key()
        )
        stronger = prod.renders.request(
            project.shotlist, shot, camera_control="previz", control_strength=1.5
        )
        assert stronger.control_strength == 1.5


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("loras", "org/style:not a file@x", "SLATE_LORAS"),
        ("camera_loras", "sideways=org/x", "SLATE_CAMERA_LORAS"),
        ("control_strength", 3.0, "less than or equal to 2"),
        ("camera_control", "mind-reading", "prompt"),
    ],
)
def test_bad_camera_settings_are_refused_clearly(
    tmp_path: Path, field: str, value: object, words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        settings_for(tmp_path, **{field: value})


def test_lora_settings_reach_the_diffusers_options(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, loras="org/noir:noir.safetensors@0.8#noir", camera_loras="ltx-2"
    )
    options = diffusers_options(settings)
    assert [lora.adapter_name for lora in options.loras] == ["noir"]
    assert options.camera_loras  # the LTX-2 camera LoRAs, one per move


async def test_reroll_mismatched_rerolls_exactly_the_takes_whose_move_failed(
    tmp_path: Path,
) -> None:
    async with production(settings_for(tmp_path), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        await prod.wait((await prod.render(SCOPE, project.id, "ana")).id)
        assert await prod.mismatched_shots(SCOPE, project.id) == []  # the animatic does as asked
        shot = project.shotlist.shots[1]
        take = (await prod.store.takes(project.id, shot.uid))[-1]
        # A newer take of shot 2 whose measured move is not the one asked for.
        await prod.store.add_batch(
            "bx",
            project.id,
            "ana",
            [NewJob("jx", shot.uid, shot.number, "fx", "ana", 0, take.request)],
        )
        motion = {"asked": "dolly in", "measured": "pan left", "matches": False}
        await prod.store.finish_job(
            "jx",
            NewTake(
                project.id,
                shot.uid,
                "fx",
                1,
                "m",
                take.request,
                take.clip,
                take.poster,
                1.0,
                {"motion": motion},
            ),
        )
        assert await prod.mismatched_shots(SCOPE, project.id) == [shot.number]
        batch = await prod.reroll(SCOPE, project.id, "ana", "mismatched")
        assert [number for _, number in batch.jobs] == [shot.number]
        await prod.wait(batch.id)
        assert await prod.mismatched_shots(SCOPE, project.id) == []
