"""The real DiffusersRenderer on a tiny random-weight Wan pipeline loaded from disk."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from render.diffusers import (
    GENERIC_PRESET,
    PRESETS,
    DiffusersOptions,
    DiffusersRenderer,
    check_request,
    frames_for_duration,
    preset_request_defaults,
    resolve_model,
)
from render.types import (
    CancelToken,
    InvalidRenderRequest,
    ModelLoadError,
    RenderCancelled,
    RenderProgress,
    RenderRequest,
)

WAN = PRESETS["wan2.1-1.3b"]


def shot(model: Path | str, **changes: object) -> RenderRequest:
    fields: dict[str, object] = {
        "prompt": "a man walks down a dark street at night",
        "width": 64,
        "height": 64,
        "frames": 9,
        "fps": 16,
        "steps": 3,
        "guidance": 5.0,
        "seed": 7,
        "model": str(model),
    }
    fields.update(changes)
    return RenderRequest(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def renderer(tiny_wan_path: Path) -> DiffusersRenderer:
    return DiffusersRenderer(str(tiny_wan_path), DiffusersOptions(preview_every=2))


# --- model resolution and request rules (no torch needed) ---


def test_import_does_not_load_torch() -> None:
    code = "import sys, render.diffusers; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_resolve_preset_hub_id_and_folder(tiny_wan_path: Path, tmp_path: Path) -> None:
    assert resolve_model("wan2.1-1.3b") == ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", WAN)
    assert resolve_model("Lightricks/LTX-Video-0.9.7-distilled")[1] is PRESETS["ltx-distilled"]
    assert resolve_model("someone/new-video-model") == ("someone/new-video-model", GENERIC_PRESET)
    assert resolve_model(str(tiny_wan_path)) == (str(tiny_wan_path.resolve()), WAN)

    unknown = tmp_path / "mystery"
    unknown.mkdir()
    (unknown / "model_index.json").write_text(json.dumps({"_class_name": "MysteryPipeline"}))
    assert resolve_model(str(unknown))[1] is GENERIC_PRESET
    wan22 = tmp_path / "wan22"
    wan22.mkdir()
    index = {"_class_name": "WanPipeline", "expand_timesteps": True}
    (wan22 / "model_index.json").write_text(json.dumps(index))
    assert resolve_model(str(wan22))[1] is PRESETS["wan2.2-5b"]


def test_unusable_models_raise_model_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no model folder"):
        DiffusersRenderer(str(tmp_path / "missing"))
    with pytest.raises(ModelLoadError, match="no model_index.json"):
        DiffusersRenderer(str(tmp_path))
    with pytest.raises(ModelLoadError, match="Unknown model 'wan'"):
        resolve_model("wan")


def test_broken_folder_fails_on_load_with_clear_message(
    tiny_wan_path: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_wan_path, broken, ignore=shutil.ignore_patterns("transformer"))
    renderer = DiffusersRenderer(str(broken))
    with pytest.raises(ModelLoadError, match="Could not load model") as caught:
        renderer.render(shot(broken))
    assert caught.value.__cause__ is not None
    assert renderer.load_count == 0


def test_preset_defaults_fill_a_valid_request() -> None:
    for preset in PRESETS.values():
        request = RenderRequest(
            prompt="a dog", model=preset.name, **preset_request_defaults(preset)
        )
        check_request(request, preset)
    assert preset_request_defaults("ltx-distilled")["steps"] == 8


@pytest.mark.parametrize(
    ("seconds", "fps", "preset", "frames"),
    [
        (5.0, 16, "wan2.1-1.3b", 81),
        (5.0, 24, "ltx-distilled", 121),
        (0.1, 16, "wan2.1-1.3b", 5),
        (60.0, 16, "wan2.1-1.3b", 161),
        (6.0, 8, "cogvideox-2b", 49),
    ],
)
def test_frames_for_duration_snaps_to_valid_counts(
    seconds: float, fps: int, preset: str, frames: int
) -> None:
    assert frames_for_duration(seconds, fps, PRESETS[preset]) == frames
    check_request(
        RenderRequest(prompt="x", frames=frames, fps=fps, width=704, height=512), PRESETS[preset]
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"frames": 80}, "Wan needs 4k+1 frames (e.g. 77 or 81); got 80"),
        ({"frames": 0}, "at least 1 frame"),
        ({"frames": 401}, "at most 161 frames"),
        ({"width": 100}, "multiples of 16; got 100x64 (try 96x64)"),
        ({"height": 4096}, "at most 2048 px"),
        ({"steps": 0}, "Steps must be between 1 and 200; got 0"),
        ({"prompt": "  "}, "prompt is empty"),
        ({"seed": -1}, "Seed must be"),
    ],
)
def test_check_request_rejects_with_user_facing_message(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidRenderRequest) as caught:
        check_request(shot("wan2.1-1.3b", **changes), WAN)
    assert message in str(caught.value)


def test_ltx_frame_rule_names_the_model() -> None:
    ltx = PRESETS["ltx-distilled"]
    with pytest.raises(InvalidRenderRequest) as caught:
        check_request(shot("ltx-distilled", frames=120, width=704, height=512), ltx)
    assert "LTX-Video needs 8k+1 frames (e.g. 113 or 121); got 120." in str(caught.value)


# --- real renders ---


def test_render_shape_progress_and_previews(
    renderer: DiffusersRenderer, tiny_wan_path: Path
) -> None:
    events: list[RenderProgress] = []
    result = renderer.render(shot(tiny_wan_path, steps=4), progress=events.append)

    assert result.frames.shape == (9, 64, 64, 3)
    assert result.frames.dtype == np.uint8
    assert result.fps == 16
    assert result.info["seed"] == 7 and result.info["preset"] == "wan2.1-1.3b"
    assert result.info["device"] == "cpu" and result.info["dtype"] == "float32"
    assert [(event.step, event.total) for event in events] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    previews = [event.preview for event in events]
    assert previews[0] is None and previews[2] is None
    for preview in (previews[1], previews[3]):
        assert preview is not None
        assert preview.mode == "RGB" and preview.size == (64, 64)


def test_seed_makes_renders_reproducible(renderer: DiffusersRenderer, tiny_wan_path: Path) -> None:
    first = renderer.render(shot(tiny_wan_path, steps=2))
    again = renderer.render(shot(tiny_wan_path, steps=2))
    other = renderer.render(shot(tiny_wan_path, steps=2, seed=8))
    assert np.array_equal(first.frames, again.frames)
    assert not np.array_equal(first.frames, other.frames)


def test_cancel_stops_within_a_step_and_renderer_recovers(
    renderer: DiffusersRenderer, tiny_wan_path: Path
) -> None:
    cancel = CancelToken()
    steps_seen: list[int] = []

    def on_progress(event: RenderProgress) -> None:
        steps_seen.append(event.step)
        if event.step == 2:
            cancel.cancel()

    with pytest.raises(RenderCancelled):
        renderer.render(shot(tiny_wan_path, steps=4), progress=on_progress, cancel=cancel)
    assert steps_seen == [1, 2]

    result = renderer.render(shot(tiny_wan_path, steps=2))
    assert result.frames.shape == (9, 64, 64, 3)


def test_already_cancelled_token_does_not_render(
    renderer: DiffusersRenderer, tiny_wan_path: Path
) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(RenderCancelled):
        renderer.render(shot(tiny_wan_path), cancel=cancel)


def test_invalid_request_is_rejected_before_loading(tiny_wan_path: Path) -> None:
    fresh = DiffusersRenderer(str(tiny_wan_path))
    with pytest.raises(InvalidRenderRequest, match="4k\\+1"):
        fresh.render(shot(tiny_wan_path, frames=8))
    assert not fresh.loaded


def test_pipeline_loads_once_for_many_renders(
    renderer: DiffusersRenderer, tiny_wan_path: Path
) -> None:
    for seed in (1, 2):
        renderer.render(shot(tiny_wan_path, steps=1, seed=seed))
    assert renderer.load_count == 1


def test_speed_switches_apply_or_warn(
    tiny_wan_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    options = DiffusersOptions(cpu_offload=True, first_block_cache=0.05, vae_tiling=True)
    renderer = DiffusersRenderer(str(tiny_wan_path), options)
    cancel = CancelToken()

    def cancel_at_first_step(event: RenderProgress) -> None:
        cancel.cancel()

    # A cancelled render must not leave First Block Cache state behind for the next one.
    with pytest.raises(RenderCancelled):
        renderer.render(shot(tiny_wan_path), progress=cancel_at_first_step, cancel=cancel)
    first = renderer.render(shot(tiny_wan_path, steps=2))
    again = renderer.render(shot(tiny_wan_path, steps=2))

    assert np.array_equal(first.frames, again.frames)
    assert first.info["speedups"] == ["vae_tiling", "first_block_cache"]
    assert "cpu_offload ignored" in caplog.text
