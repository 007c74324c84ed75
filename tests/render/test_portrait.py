"""Casting portraits: a tiny random text-to-image pipeline loaded from a folder, and the offline
portrait cards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from render.animatic import _character_colour
from render.portrait import (
    GENERIC_PORTRAIT_PRESET,
    PORTRAIT_PRESETS,
    AnimaticPortraits,
    DiffusersPortraits,
    PortraitRequest,
    check_portrait_request,
    resolve_portrait_model,
)
from render.types import CancelToken, InvalidRenderRequest, ModelLoadError, RenderCancelled
from tests.render.random_sd import build_random_sd


@pytest.fixture(scope="module")
def tiny_sd_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield build_random_sd(tmp_path_factory.mktemp("tiny-sd"))
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


def _ask(model: str | Path = "animatic", **changes: object) -> PortraitRequest:
    fields: dict[str, object] = {
        "prompt": "a young woman in a red coat",
        "name": "Mia",
        "width": 256,
        "height": 256,
        "count": 2,
        "seed": 11,
        "steps": 2,
        "model": str(model),
    }
    fields.update(changes)
    return PortraitRequest(**fields)  # type: ignore[arg-type]


def test_import_does_not_load_torch() -> None:
    code = "import sys, render.portrait; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_presets_hub_ids_and_folders(tiny_sd_path: Path, tmp_path: Path) -> None:
    assert resolve_portrait_model("flux2-klein-4b") == (
        "black-forest-labs/FLUX.2-klein-4B",
        PORTRAIT_PRESETS["flux2-klein-4b"],
    )
    assert PORTRAIT_PRESETS["qwen-image"].guidance_arg == "true_cfg_scale"
    assert resolve_portrait_model("stabilityai/stable-diffusion-xl-base-1.0")[1].name == "sdxl"
    assert resolve_portrait_model("someone/new-image-model")[1] is GENERIC_PORTRAIT_PRESET
    assert resolve_portrait_model(str(tiny_sd_path))[1] is GENERIC_PORTRAIT_PRESET
    klein = tmp_path / "klein"
    klein.mkdir()
    (klein / "model_index.json").write_text(json.dumps({"_class_name": "Flux2KleinPipeline"}))
    assert resolve_portrait_model(str(klein))[1] is PORTRAIT_PRESETS["flux2-klein-4b"]
    with pytest.raises(ModelLoadError, match="Unknown portrait model 'flux'"):
        resolve_portrait_model("flux")
    with pytest.raises(ModelLoadError, match="no model_index.json"):
        resolve_portrait_model(str(tmp_path))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt": " "}, "description is empty"),
        ({"count": 0}, "Ask for 1 to 8 portraits; got 0"),
        ({"width": 100}, "256 to 2048 px a side; got 100x256"),
        ({"width": 260}, "multiples of 16; got 260x256"),
        ({"steps": 0}, "Steps must be between 1 and 200"),
        ({"guidance": -1.0}, "Guidance must be 0 or more"),
        ({"seed": -1}, "Seed must be between"),
    ],
)
def test_check_portrait_request(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRenderRequest, match=message):
        check_portrait_request(_ask(**changes), size_multiple=16)


def test_diffusers_portraits_from_a_folder(tiny_sd_path: Path) -> None:
    portraits = DiffusersPortraits(str(tiny_sd_path))
    assert not portraits.loaded  # nothing loads before the first render
    two = portraits.render(_ask(tiny_sd_path))
    assert [image.size for image in two] == [(256, 256), (256, 256)]
    assert all(image.mode == "RGB" for image in two)
    assert not np.array_equal(np.asarray(two[0]), np.asarray(two[1]))
    # Candidate 2 is seed 12: rendered again alone, it is the same picture.
    again = portraits.render(_ask(tiny_sd_path, seed=12, count=1))
    assert np.array_equal(np.asarray(two[1]), np.asarray(again[0]))
    assert portraits.load_count == 1

    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(RenderCancelled):
        portraits.render(_ask(tiny_sd_path), cancel=cancel)


def test_a_video_pipeline_is_not_a_portrait_model(tiny_wan_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not a text-to-image pipeline"):
        DiffusersPortraits(str(tiny_wan_path)).render(_ask(tiny_wan_path))


def test_animatic_portrait_cards() -> None:
    cards = AnimaticPortraits().render(PortraitRequest(prompt="thirties, red coat", name="Mia"))
    assert len(cards) == 4 and all(card.size == (768, 1024) for card in cards)
    again = AnimaticPortraits().render(PortraitRequest(prompt="thirties, red coat", name="Mia"))
    assert all(
        np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(cards, again, strict=True)
    )
    assert not np.array_equal(np.asarray(cards[0]), np.asarray(cards[1]))  # candidates differ
    # The figure wears the colour the animatic gives Mia on the set.
    pixels = np.asarray(cards[0]).reshape(-1, 3)
    colour = np.asarray(_character_colour("Mia"))
    assert (np.abs(pixels.astype(int) - colour).max(axis=1) <= 2).mean() > 0.1
    joe = AnimaticPortraits().render(PortraitRequest(prompt="thirties, red coat", name="Joe"))
    assert not np.array_equal(np.asarray(cards[0]), np.asarray(joe[0]))
    square = AnimaticPortraits().render(
        PortraitRequest(prompt="x", name="Mia", width=1024, height=1024, count=1)
    )
    assert square[0].size == (1024, 1024)
