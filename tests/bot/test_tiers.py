"""Draft and final on the product side: which tier a request gets, /finish rendering exactly the
approved drafts with their seeds, and the cut taking finals over drafts and saying which."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app import production
from bot.camera import RenderDefaults, request_for
from bot.settings import Settings
from render.diffusers import resolve_model
from render.types import InvalidRenderRequest, Tier
from studio.errors import InvalidValue
from studio.models import Shot, ShotList

SCOPE = "local"
BRIEF = (
    "A 20-second teaser. Mia, a detective, waits in a rain-soaked alley at night. "
    "Cole steps out of a car holding a letter. Mia reads the letter in the diner."
)


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None, **overrides)  # type: ignore[call-arg]


def film() -> tuple[ShotList, Shot]:
    shotlist = ShotList(shots=(Shot(description="Mia waits under the lamp.", duration=3.0),))
    return shotlist, shotlist.shots[0]


def test_the_tier_a_request_gets() -> None:
    shotlist, shot = film()
    _, preset = resolve_model("wan2.1-1.3b")
    final = request_for(shotlist, shot, RenderDefaults(model="wan2.1-1.3b", tier="final"))
    assert final.tier is Tier.FINAL and final.steps == preset.steps
    # "auto" drafts only when the crew configured a draft LoRA (a preset's own may need a licence).
    auto = request_for(shotlist, shot, RenderDefaults(model="wan2.1-1.3b"))
    assert auto == final
    configured = RenderDefaults(model="wan2.1-1.3b", draft_lora="org/distill:lora.safetensors")
    draft = request_for(shotlist, shot, configured)
    assert draft.tier is Tier.DRAFT and draft.steps < final.steps and draft.guidance == 1.0
    assert (draft.seed, draft.prompt) == (final.seed, final.prompt)
    asked = request_for(shotlist, shot, RenderDefaults(model="wan2.1-1.3b", tier="draft"))
    assert asked.tier is Tier.DRAFT
    off = RenderDefaults(model="wan2.1-1.3b", tier="draft", draft_lora="off")
    with pytest.raises(InvalidRenderRequest, match="no draft tier"):
        request_for(shotlist, shot, off)


@pytest.mark.parametrize(
    ("field", "value"), [("draft_lora", "org/a@0.5,org/b@0.5"), ("quality", "rough")]
)
def test_bad_tier_settings_are_refused(tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        settings_for(tmp_path, **{field: value})


async def test_finish_renders_exactly_the_approved_drafts_and_the_cut_takes_finals(
    tmp_path: Path,
) -> None:
    async with production(settings_for(tmp_path), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        numbers = [shot.number for shot in project.shotlist.shots]
        drafts = await prod.render(SCOPE, project.id, "ana", quality="draft")
        await prod.wait(drafts.id)
        with pytest.raises(InvalidValue, match="No approved draft"):
            await prod.finish(SCOPE, project.id, "ana")
        approved = {}
        for number in numbers[:2]:
            approved[number] = (await prod.approve(SCOPE, project.id, "ana", number)).card.take
        cut = await prod.cut(SCOPE, project.id)
        assert list(cut.drafts) == numbers  # every shot is still a draft, and the cut says so
        batch = await prod.finish(SCOPE, project.id, "ana")
        assert [number for _, number in batch.jobs] == numbers[:2]  # the approved ones only
        await prod.wait(batch.id)
        takes = await prod.store.takes(project.id)
        finals = [take for take in takes if take.request.get("tier") == "final"]
        assert sorted(take.seed for take in finals) == sorted(t.seed for t in approved.values())
        cut = await prod.cut(SCOPE, project.id)
        assert list(cut.drafts) == numbers[2:]
        assert {take.id for take in cut.takes} >= {take.id for take in finals}
        again = await prod.finish(SCOPE, project.id, "ana")
        assert again.jobs == [] and sorted(again.skipped) == sorted(numbers[:2])


async def test_drafts_go_ahead_of_finishing_work(tmp_path: Path) -> None:
    async with production(settings_for(tmp_path), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        draft = await prod.render(SCOPE, project.id, "ana", ["1"], quality="draft")
        final = await prod.render(SCOPE, project.id, "ana", ["1"], quality="final")
        await prod.wait(draft.id)
        await prod.wait(final.id)
        jobs = {job.id: job for job in await prod.store.batch_jobs(draft.id)}
        jobs |= {job.id: job for job in await prod.store.batch_jobs(final.id)}
        assert jobs[draft.jobs[0][0]].priority == jobs[final.jobs[0][0]].priority + 1
