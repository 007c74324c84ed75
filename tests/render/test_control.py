"""The previz as a control video: the staging passes, and VACE following them through the real
DiffusersRenderer on a tiny random WanVACEPipeline loaded from a folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import render.diffusers as render_diffusers
from render.animatic import AnimaticRenderer, staging_pass
from render.control import control_video, describe_camera_control, previz_control
from render.diffusers import PRESETS, DiffusersRenderer, check_request
from render.motion import measure_motion, measure_take
from render.types import (
    CameraControl,
    CameraMotion,
    Framing,
    InvalidRenderRequest,
    MotionDirection,
    MotionKind,
    Previz,
    RenderRequest,
    Setting,
)

K, D = MotionKind, MotionDirection
PREVIZ = CameraControl.PREVIZ
STATIC = CameraMotion()


def staged(motion: CameraMotion = STATIC, **changes: Any) -> RenderRequest:
    fields: dict[str, Any] = {
        "prompt": "a woman walks down a dark street at night",
        "width": 64,
        "height": 64,
        "frames": 9,
        "steps": 2,
        "seed": 7,
        "previz": Previz(
            framing=Framing.MEDIUM_WIDE,
            characters=("Mia", "Joe"),
            location="Diner on Route 9",
            motion=motion,
        ),
    }
    fields.update(changes)
    return RenderRequest(**fields)


# --- the staging passes ---


def test_control_video_is_one_rgb_frame_per_frame_at_the_request_size() -> None:
    request = staged(CameraMotion(K.PAN, D.LEFT), width=96, height=64)
    video = control_video(request)
    assert len(video) == 9
    assert {(frame.size, frame.mode) for frame in video} == {((96, 64), "RGB")}
    with pytest.raises(InvalidRenderRequest, match="'depth' or 'layout'"):
        control_video(request, "pose")  # type: ignore[arg-type]


def test_depth_puts_the_set_far_and_the_figures_near() -> None:
    request = staged(width=320, height=192)
    depth = staging_pass(request, "depth")[0].astype(int)
    # A medium wide two-shot: the figures' chests at 20% and 80% across; the wall behind them.
    wall = depth[8, 8]
    figures = [depth[120, 64], depth[120, 256]]
    assert all(figure > wall + 60 for figure in figures), (wall, figures)
    assert depth[-1].mean() > depth[8].mean()  # the floor comes towards the camera
    exterior = replace(request, previz=replace(request.previz, setting=Setting.EXTERIOR))
    assert staging_pass(exterior, "depth")[0][2].mean() < wall  # the sky is further still


def test_layout_is_the_animatic_set_in_grey() -> None:
    request = staged(width=320, height=192)
    layout = staging_pass(request, "layout")
    assert layout.shape == (9, 192, 320)
    assert layout.std() > 10


@pytest.mark.parametrize(
    "motion",
    [
        CameraMotion(K.STATIC),
        CameraMotion(K.PAN, D.LEFT),
        CameraMotion(K.TILT, D.UP),
        CameraMotion(K.DOLLY, D.IN),
        CameraMotion(K.DOLLY, D.OUT),
        CameraMotion(K.CRANE, D.DOWN),
    ],
    ids=lambda motion: motion.label,
)
@pytest.mark.parametrize("kind", ["depth", "layout"])
def test_the_control_video_moves_as_the_animatic_does(motion: CameraMotion, kind: str) -> None:
    request = staged(motion, width=320, height=192, frames=33)
    control = measure_motion(staging_pass(request, kind), fps=16)  # type: ignore[arg-type]
    animatic = measure_take(AnimaticRenderer().render(request))
    assert control.label == animatic.label
    assert control.matches(motion)
    assert control.scale == pytest.approx(animatic.scale, abs=0.02)
    assert control.horizontal == pytest.approx(animatic.horizontal, abs=0.02)


def test_a_first_frame_stays_frame_one_and_is_kept() -> None:
    request = staged(CameraMotion(K.DOLLY, D.IN), control_strength=0.6)
    still = Image.new("RGB", (64, 64), (200, 10, 10))
    kwargs = previz_control(request, first_frame=still)
    assert np.asarray(kwargs["video"][0])[5, 5].tolist() == [200, 10, 10]
    assert np.asarray(kwargs["mask"][0]).max() == 0
    assert all(np.asarray(mask).min() == 255 for mask in kwargs["mask"][1:])
    assert kwargs["conditioning_scale"] == 0.6


def test_strength_is_checked_and_the_mode_round_trips() -> None:
    request = staged(camera_control=PREVIZ, control_strength=0.75)
    assert RenderRequest.from_data(request.to_data()) == request
    with pytest.raises(InvalidRenderRequest, match="camera_control"):
        RenderRequest.from_data({**request.to_data(), "camera_control": "lora"})
    for bad in (-0.1, 2.5, float("nan")):
        with pytest.raises(InvalidRenderRequest, match="Control strength"):
            check_request(replace(request, control_strength=bad), PRESETS["wan2.1-vace-1.3b"])


def test_cache_key_counts_camera_control_only_when_it_is_used() -> None:
    plain = staged()
    assert replace(plain, control_strength=0.3).cache_key() == plain.cache_key()
    driven = replace(plain, camera_control=PREVIZ)
    assert driven.cache_key() != plain.cache_key()
    assert replace(driven, control_strength=0.5).cache_key() != driven.cache_key()


def test_take_card_line() -> None:
    assert describe_camera_control(staged(), True) == "prompt"
    driven = staged(camera_control=PREVIZ, control_strength=0.8)
    assert describe_camera_control(driven, True) == "previz (depth, strength 0.8)"
    assert describe_camera_control(driven, False).startswith("prompt only")


# --- VACE follows the previz ---


@pytest.fixture(scope="module")
def vace(tiny_vace_path: Path) -> DiffusersRenderer:
    return DiffusersRenderer(str(tiny_vace_path))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The kwargs of every call the renderer hands to diffusers."""
    seen: list[dict[str, Any]] = []
    real = render_diffusers._call_pipeline

    def spy(pipe: Any, kwargs: dict[str, Any]) -> Any:
        seen.append(kwargs)
        return real(pipe, kwargs)

    monkeypatch.setattr(render_diffusers, "_call_pipeline", spy)
    yield seen


def test_vace_gets_the_previz_as_control_video(
    vace: DiffusersRenderer, tiny_vace_path: Path, calls: list[dict[str, Any]]
) -> None:
    request = staged(
        CameraMotion(K.DOLLY, D.IN),
        model=str(tiny_vace_path),
        camera_control=PREVIZ,
        control_strength=0.7,
    )
    result = vace.render(request)
    sent = calls[-1]
    expected = control_video(request)
    assert len(sent["video"]) == len(sent["mask"]) == 9
    assert all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(sent["video"], expected, strict=True)
    )
    assert all(np.asarray(mask).min() == 255 for mask in sent["mask"])
    assert sent["conditioning_scale"] == 0.7
    assert result.info["camera_control"] == "previz (depth, strength 0.7)"
    assert vace.takes_control_video


def test_changing_the_move_changes_the_render(
    vace: DiffusersRenderer, tiny_vace_path: Path, calls: list[dict[str, Any]]
) -> None:
    def render(motion: CameraMotion, **changes: Any) -> np.ndarray:
        request = staged(motion, model=str(tiny_vace_path), camera_control=PREVIZ, **changes)
        return vace.render(request).frames

    pan = render(CameraMotion(K.PAN, D.LEFT))
    assert np.array_equal(pan, render(CameraMotion(K.PAN, D.LEFT)))  # seeded: the same again
    assert not np.array_equal(pan, render(CameraMotion(K.DOLLY, D.IN)))
    assert not np.array_equal(pan, render(CameraMotion(K.PAN, D.LEFT), control_strength=0.2))


def test_prompt_mode_sends_no_control_video(
    vace: DiffusersRenderer, tiny_vace_path: Path, calls: list[dict[str, Any]]
) -> None:
    request = staged(CameraMotion(K.PAN, D.LEFT), model=str(tiny_vace_path))
    result = vace.render(request)
    assert "video" not in calls[-1] and "conditioning_scale" not in calls[-1]
    assert result.info["camera_control"] == "prompt"
    # The move only changes the prompt-driven render through the words: here, not at all.
    other = vace.render(replace(request, previz=replace(request.previz, motion=CameraMotion())))
    assert np.array_equal(result.frames, other.frames)


def test_a_model_without_control_video_says_so(
    tiny_wan_path: Path, calls: list[dict[str, Any]]
) -> None:
    renderer = DiffusersRenderer(str(tiny_wan_path))
    assert not renderer.takes_control_video
    result = renderer.render(staged(model=str(tiny_wan_path), camera_control=PREVIZ))
    assert "video" not in calls[-1]
    assert result.info["camera_control"] == "prompt only: this model takes no control video"
