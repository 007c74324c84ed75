"""Reference images and first frames through the real DiffusersRenderer on tiny random pipelines
(WanVACEPipeline, a Wan 2.2 TI2V-style WanPipeline, plain Wan T2V), each loaded from a folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import render.diffusers as render_diffusers
from render.diffusers import PRESETS, DiffusersRenderer, resolve_model
from render.stills import choose_references, fit_on_white
from render.types import ElementKind, ReferenceImage, RenderError, RenderRequest
from tests.render.stills_for_tests import checkerboard, save_reference


def shot(model: Path, **changes: Any) -> RenderRequest:
    fields: dict[str, Any] = {
        "prompt": "a woman walks down a dark street at night",
        "width": 64,
        "height": 64,
        "frames": 9,
        "steps": 2,
        "seed": 7,
        "model": str(model),
    }
    fields.update(changes)
    return RenderRequest(**fields)


@pytest.fixture(scope="module")
def vace(tiny_vace_path: Path) -> DiffusersRenderer:
    return DiffusersRenderer(str(tiny_vace_path))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """Every (pipeline, kwargs) the renderer hands to diffusers."""
    seen: list[tuple[Any, dict[str, Any]]] = []
    real = render_diffusers._call_pipeline

    def spy(pipe: Any, kwargs: dict[str, Any]) -> Any:
        seen.append((pipe, kwargs))
        return real(pipe, kwargs)

    monkeypatch.setattr(render_diffusers, "_call_pipeline", spy)
    yield seen


@pytest.fixture
def cast(tmp_path: Path) -> dict[str, ReferenceImage]:
    folder = tmp_path / "refs"
    return {
        "mia": save_reference(folder, checkerboard(), "Mia"),
        "mia_recast": save_reference(
            folder, checkerboard(colours=((255, 255, 0), (0, 0, 255)), cell=4), "Mia"
        ),
        "alley": save_reference(
            folder, Image.new("RGB", (160, 90), (90, 60, 30)), "ALLEY", ElementKind.LOCATION
        ),
        "letter": save_reference(
            folder, Image.new("RGB", (40, 40), (250, 240, 200)), "the letter", ElementKind.PROP
        ),
        "joe": save_reference(folder, Image.new("RGB", (50, 80), (20, 20, 200)), "Joe"),
    }


def test_vace_presets_and_folders_declare_what_they_take(tiny_vace_path: Path) -> None:
    for name in ("wan2.1-vace-1.3b", "wan2.1-vace-14b"):
        preset = PRESETS[name]
        assert preset.takes_references and preset.takes_first_frame
        assert preset.takes_control_video and preset.max_references == 3
    assert resolve_model("wan2.1-vace-1.3b")[0] == "Wan-AI/Wan2.1-VACE-1.3B-diffusers"
    assert resolve_model(str(tiny_vace_path))[1] is PRESETS["wan2.1-vace-1.3b"]
    assert PRESETS["wan2.2-5b"].takes_first_frame
    assert not PRESETS["wan2.2-5b"].takes_references
    assert not PRESETS["wan2.1-1.3b"].takes_references


def test_vace_renders_with_references_fitted_on_white(
    vace: DiffusersRenderer,
    tiny_vace_path: Path,
    cast: dict[str, ReferenceImage],
    calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    request = shot(tiny_vace_path, references=(cast["alley"], cast["mia"]))
    result = vace.render(request)

    assert type(vace._pipe).__name__ == "WanVACEPipeline" and vace.takes_references
    assert result.frames.shape == (9, 64, 64, 3)
    assert result.info["references"] == "used: Mia (front), ALLEY (front)"  # characters first
    assert result.info["first_frame"] == "none"
    sent = calls[-1][1]["reference_images"]
    assert [image.size for image in sent] == [(64, 64), (64, 64)]
    mia = np.asarray(sent[0])
    # 96x128 portrait on a 64x64 canvas: white bars left and right, the checkerboard between.
    assert (mia[:, :8] == 255).all() and (mia[:, -8:] == 255).all()
    assert mia[32, 32].tolist() in ([255, 0, 255], [0, 255, 0]) or mia[:, 16:48].std() > 50


def test_changing_a_reference_changes_exactly_the_shots_that_use_it(
    vace: DiffusersRenderer, tiny_vace_path: Path, cast: dict[str, ReferenceImage]
) -> None:
    with_mia = shot(tiny_vace_path, references=(cast["mia"], cast["alley"]))
    alley_only = shot(tiny_vace_path, references=(cast["alley"],), seed=8)
    before = vace.render(with_mia).frames, vace.render(alley_only).frames

    recast = replace(with_mia, references=(cast["mia_recast"], cast["alley"]))
    after = vace.render(recast).frames, vace.render(alley_only).frames

    assert not np.array_equal(before[0], after[0])  # Mia's shot follows her new look
    assert np.array_equal(before[1], after[1])  # the shot without her is untouched
    assert recast.cache_key() != with_mia.cache_key()
    assert alley_only.cache_key() == replace(alley_only).cache_key()
    plain = vace.render(shot(tiny_vace_path)).frames
    assert not np.array_equal(plain, before[0])  # references change the render at all


def test_references_over_the_limit_are_named_not_dropped(
    vace: DiffusersRenderer,
    tiny_vace_path: Path,
    cast: dict[str, ReferenceImage],
    calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    request = shot(
        tiny_vace_path,
        references=(cast["letter"], cast["alley"], cast["mia"], cast["joe"]),
        steps=1,
    )
    result = vace.render(request)
    assert len(calls[-1][1]["reference_images"]) == 3
    assert result.info["references"] == (
        "used: Mia (front), Joe (front), ALLEY (front); "
        "left out (the model takes 3): the letter (front)"
    )


def test_choose_references_puts_one_view_of_everything_first(
    cast: dict[str, ReferenceImage],
) -> None:
    mia_profile = replace(cast["mia"], view="profile")
    used, left_out = choose_references(
        [cast["letter"], cast["mia"], mia_profile, cast["alley"]], limit=3
    )
    assert used == [cast["mia"], cast["alley"], cast["letter"]]
    assert left_out == [mia_profile]


def test_vace_first_frame_is_a_kept_control_frame(
    vace: DiffusersRenderer,
    tiny_vace_path: Path,
    cast: dict[str, ReferenceImage],
    calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    last_frame = replace(cast["alley"], name="shot 3", view="last frame")
    result = vace.render(shot(tiny_vace_path, first_frame=last_frame))
    other = vace.render(shot(tiny_vace_path, first_frame=cast["mia"]))

    assert result.info["first_frame"] == "used: shot 3 (last frame)"
    assert result.info["references"] == "none"
    video, mask = calls[0][1]["video"], calls[0][1]["mask"]
    assert len(video) == len(mask) == 9
    assert np.asarray(video[0]).tolist()[10][10] == [90, 60, 30]  # the still, filling the frame
    assert np.asarray(mask[0]).max() == 0 and np.asarray(mask[1]).min() == 255
    assert not np.array_equal(result.frames, other.frames)


def test_image_to_video_first_frame_goes_through_wan_i2v(
    tiny_ti2v_path: Path,
    cast: dict[str, ReferenceImage],
    calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    renderer = DiffusersRenderer(str(tiny_ti2v_path))
    assert renderer.preset is PRESETS["wan2.2-5b"]
    request = shot(tiny_ti2v_path, width=64, height=64, first_frame=cast["mia"])
    first = renderer.render(request)
    second = renderer.render(replace(request, first_frame=cast["joe"]))
    plain = renderer.render(replace(request, first_frame=None))

    assert first.info["first_frame"] == "used: Mia (front)"
    assert plain.info["first_frame"] == "none"
    pipes = [type(pipe).__name__ for pipe, _ in calls]
    assert pipes == ["WanImageToVideoPipeline", "WanImageToVideoPipeline", "WanPipeline"]
    assert calls[0][1]["image"].size == (64, 64)
    assert not np.array_equal(first.frames, second.frames)
    assert renderer.load_count == 1  # the image-to-video pipeline shares the loaded weights


def test_text_only_model_says_it_did_not_use_them(
    tiny_wan_path: Path, cast: dict[str, ReferenceImage]
) -> None:
    renderer = DiffusersRenderer(str(tiny_wan_path))
    plain = renderer.render(shot(tiny_wan_path))
    asked = renderer.render(
        shot(tiny_wan_path, references=(cast["mia"],), first_frame=cast["alley"])
    )
    assert asked.info["references"] == "not used by this model"
    assert asked.info["first_frame"] == "not used by this model"
    assert plain.info["references"] == "none"
    assert np.array_equal(plain.frames, asked.frames)


def test_missing_or_changed_image_is_a_clear_error(
    vace: DiffusersRenderer, tiny_vace_path: Path, cast: dict[str, ReferenceImage]
) -> None:
    gone = replace(cast["mia"], path=str(Path(cast["mia"].path).with_name("gone.png")))
    with pytest.raises(RenderError, match=r"Mia \(front\) is missing"):
        vace.render(shot(tiny_vace_path, references=(gone,)))
    checkerboard(cell=2).save(cast["joe"].path)
    with pytest.raises(RenderError, match=r"Joe \(front\) .* changed since it was recorded"):
        vace.render(shot(tiny_vace_path, references=(cast["joe"],)))


def test_fit_on_white_turns_transparency_white() -> None:
    cutout = Image.new("RGBA", (20, 40), (255, 0, 0, 0))
    cutout.paste((255, 0, 0, 255), (5, 5, 15, 35))
    fitted = np.asarray(fit_on_white(cutout, (64, 32)))
    assert fitted.shape == (32, 64, 3)
    assert fitted[0, 0].tolist() == [255, 255, 255]  # canvas
    assert fitted[1, 32].tolist() == [255, 255, 255]  # transparent border of the cut-out
    assert fitted[16, 32].tolist() == [255, 0, 0]
