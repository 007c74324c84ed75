"""Draft and final tiers: the request each tier renders, the draft LoRA only on drafts, and the
final's pixels untouched by it (tiny random Wan pipeline, a random LoRA saved as published)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from render.diffusers import (
    PRESETS,
    DiffusersOptions,
    DiffusersRenderer,
    DraftSpec,
    check_request,
    draft_spec_for,
    request_tier,
)
from render.lora import LoraSpec, LoraSpecError, parse_draft_lora
from render.types import InvalidRenderRequest, RenderRequest, Tier

WAN = PRESETS["wan2.1-1.3b"]


def test_tier_round_trips_and_a_final_keeps_its_old_cache_key() -> None:
    final = RenderRequest(prompt="a dog")
    assert final.tier is Tier.FINAL
    # Pinned before tiers existed (tests/render/test_types.py).
    assert final.cache_key() == "7d614daaf951a89f87fecbb2d0ff0edf"
    draft = replace(final, tier=Tier.DRAFT)
    assert draft.cache_key() != final.cache_key()
    assert RenderRequest.from_data(draft.to_data()) == draft
    assert draft.to_data()["tier"] == "draft"
    with pytest.raises(InvalidRenderRequest, match=r"\(tier\).*'draft', 'final'"):
        RenderRequest.from_data({**draft.to_data(), "tier": "rough"})


def test_request_tier_takes_the_drafts_steps_guidance_and_size() -> None:
    final = RenderRequest(prompt="a dog", seed=7, model="wan2.1-1.3b")
    draft = request_tier(final, WAN, Tier.DRAFT)
    assert WAN.draft is not None
    assert (draft.tier, draft.steps, draft.guidance) == (Tier.DRAFT, 8, 1.0)
    assert (draft.width, draft.height) == (480, 272)
    assert (draft.seed, draft.prompt, draft.frames) == (7, "a dog", final.frames)
    check_request(draft, WAN)
    assert request_tier(draft, WAN, Tier.DRAFT) is draft
    assert request_tier(final, WAN, Tier.FINAL) is final
    assert request_tier(draft, WAN, Tier.FINAL) == final


@pytest.mark.parametrize(("width", "height"), [(64, 64), (480, 832), (1280, 720), (16, 16)])
def test_draft_sizes_keep_the_models_rules_and_never_grow(width: int, height: int) -> None:
    draft = request_tier(RenderRequest(prompt="x", width=width, height=height), WAN, Tier.DRAFT)
    check_request(draft, WAN)
    assert draft.width <= width and draft.height <= height


def test_a_draft_without_a_size_keeps_the_finals() -> None:
    spec = DraftSpec(lora=None, steps=6)
    draft = request_tier(RenderRequest(prompt="x", width=64, height=48), WAN, Tier.DRAFT, spec)
    assert (draft.width, draft.height, draft.steps) == (64, 48, 6)


def test_a_model_without_a_draft_tier_says_so() -> None:
    with pytest.raises(InvalidRenderRequest, match="LTX-Video has no draft tier.*SLATE_DRAFT_LORA"):
        request_tier(RenderRequest(prompt="x"), PRESETS["ltx-distilled"], Tier.DRAFT)


def test_presets_document_their_draft_loras() -> None:
    for name in ("wan2.1-1.3b", "wan2.1-vace-1.3b", "wan2.1-vace-14b"):
        spec = PRESETS[name].draft
        assert spec is not None and spec.lora is not None and spec.licence
        assert 4 <= spec.steps <= 8 and spec.guidance == 1.0
        draft = request_tier(RenderRequest(prompt="x", **_size(name)), PRESETS[name], Tier.DRAFT)
        check_request(draft, PRESETS[name])
    assert "non-commercial" in (PRESETS["wan2.1-1.3b"].draft or DraftSpec(None)).licence


def _size(name: str) -> dict[str, int]:
    return {"width": PRESETS[name].width, "height": PRESETS[name].height}


def test_draft_lora_setting() -> None:
    assert parse_draft_lora("") is None
    assert parse_draft_lora(" off ") == "off"
    spec = parse_draft_lora("org/fast:fast.safetensors@0.7#quick")
    assert spec == LoraSpec("org/fast", "fast.safetensors", 0.7, "quick")
    assert draft_spec_for(WAN, None) == WAN.draft
    assert draft_spec_for(WAN, "off") is None
    assert isinstance(spec, LoraSpec)
    mine = draft_spec_for(WAN, spec)
    assert mine is not None and mine.lora == spec and mine.steps == 8
    ltx = draft_spec_for(PRESETS["ltx-distilled"], spec)
    assert ltx is not None and (ltx.steps, ltx.guidance, ltx.width) == (4, 1.0, None)
    assert draft_spec_for(PRESETS["ltx-distilled"], None) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a/b@fast", "SLATE_DRAFT_LORA: the scale in 'a/b@fast' must be a number"),
        ("a/b, c/d", "SLATE_DRAFT_LORA: the draft tier takes one LoRA"),
        ("a/b@9", "SLATE_DRAFT_LORA: .*scale between -4 and 4"),
    ],
)
def test_draft_lora_setting_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(LoraSpecError, match=problem):
        parse_draft_lora(text)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"steps": 0}, "Draft steps must be between 1 and 16; got 0"),
        ({"guidance": -1.0}, "draft guidance must be 0 or more"),
        ({"width": 480}, "both width and height"),
        ({"shift": 0.0}, "draft shift must be positive"),
    ],
)
def test_draft_spec_validation(kwargs: dict[str, float], problem: str) -> None:
    with pytest.raises(ValueError, match=f"(?i){problem}"):
        DraftSpec(lora=None, **kwargs)  # type: ignore[arg-type]


# --- the renderer: the draft LoRA on drafts only, on a tiny random Wan pipeline ---


@pytest.fixture(scope="module")
def draft_lora(tiny_wan_path: Path, tmp_path_factory: pytest.TempPathFactory) -> LoraSpec:
    pytest.importorskip("peft")
    from tests.render.test_lora import _save_random_lora

    folder = tmp_path_factory.mktemp("draft-lora")
    _save_random_lora(tiny_wan_path, folder, "quick.safetensors", seed=3)
    return LoraSpec(str(folder), "quick.safetensors", 1.0, "quick")


def _final(model: Path) -> RenderRequest:
    return RenderRequest(
        prompt="a woman walks down a dark street at night",
        width=64,
        height=64,
        frames=9,
        steps=2,
        seed=11,
        model=str(model),
    )


def test_drafts_wear_the_draft_lora_and_finals_render_as_without_it(
    tiny_wan_path: Path, draft_lora: LoraSpec
) -> None:
    renderer = DiffusersRenderer(str(tiny_wan_path), DiffusersOptions(draft_lora=draft_lora))
    plain = DiffusersRenderer(str(tiny_wan_path), DiffusersOptions(draft_lora="off"))  # no LoRA
    final = _final(tiny_wan_path)
    base = plain.render(final).frames

    first = renderer.render(final)
    assert first.info["tier"] == "final" and "draft_lora" not in first.info["speedups"]
    assert np.array_equal(first.frames, base)

    assert renderer.draft is not None
    draft = request_tier(final, renderer.preset, Tier.DRAFT, renderer.draft)
    assert (draft.steps, draft.guidance, draft.width, draft.height) == (8, 1.0, 32, 32)
    drafted = renderer.render(draft)
    assert drafted.frames.shape[1:3] == (32, 32)
    assert drafted.info["tier"] == "draft" and drafted.info["steps"] == 8
    assert drafted.info["guidance"] == 1.0
    assert drafted.info["draft_lora"] == "quick (1)" and "draft_lora" in drafted.info["speedups"]
    assert drafted.info["draft_shift"] == "7"
    assert not np.array_equal(drafted.frames, plain.render(draft).frames)

    # The draft adapter stays loaded but off: the final is the base model's, exactly.
    again = renderer.render(final)
    assert np.array_equal(again.frames, base)
    assert "draft_lora" not in again.info
    assert renderer.render(draft).frames.tobytes() == drafted.frames.tobytes()
    assert renderer.load_count == 1 and renderer.loras.load_calls == 1


def test_a_draft_on_a_model_without_a_draft_lora_says_so(tiny_wan_path: Path) -> None:
    renderer = DiffusersRenderer(str(tiny_wan_path), DiffusersOptions(draft_lora="off"))
    assert renderer.draft is None
    spec = DraftSpec(lora=None, steps=2)
    result = renderer.render(request_tier(_final(tiny_wan_path), WAN, Tier.DRAFT, spec))
    assert result.info["tier"] == "draft"
    assert result.info["draft_lora"] == "none for this model"


def test_the_step_cache_is_for_finals(tiny_wan_path: Path, draft_lora: LoraSpec) -> None:
    options = DiffusersOptions(draft_lora=draft_lora, first_block_cache=0.05)
    renderer = DiffusersRenderer(str(tiny_wan_path), options)
    final = _final(tiny_wan_path)
    first = renderer.render(final)
    assert "first_block_cache" in first.info["speedups"]
    drafted = renderer.render(request_tier(final, renderer.preset, Tier.DRAFT, renderer.draft))
    assert "first_block_cache" not in drafted.info["speedups"]
    again = renderer.render(final)
    assert "first_block_cache" in again.info["speedups"]
    assert np.array_equal(again.frames, first.frames)


def test_mag_cache_runs_where_calibrated(tiny_wan_path: Path) -> None:
    options = DiffusersOptions(mag_cache=(1.0, 1.0, 0.99, 0.98), mag_cache_threshold=0.5)
    result = DiffusersRenderer(str(tiny_wan_path), options).render(_final(tiny_wan_path))
    assert "mag_cache" in result.info["speedups"] or "mag_cache" in result.info["speedups_refused"]


def test_cpu_defaults_skip_compile_and_warm_up_and_refuse_fp8(tiny_wan_path: Path) -> None:
    renderer = DiffusersRenderer(str(tiny_wan_path), DiffusersOptions(fp8=True))
    result = renderer.render(_final(tiny_wan_path))
    assert "compile" not in result.info["speedups"] and "fp8" not in result.info["speedups"]
    assert "CUDA GPU of compute capability 8.9" in result.info["speedups_refused"]["fp8"]
    assert renderer.warmups == 0
    forced = DiffusersRenderer(str(tiny_wan_path), DiffusersOptions(compile=True))
    refused = forced.render(_final(tiny_wan_path)).info["speedups_refused"]
    assert refused == {"compile": "not on the CPU (compiling costs more than it saves)"}


def test_warm_up_runs_once_at_load_and_covers_the_draft(
    tiny_wan_path: Path, draft_lora: LoraSpec
) -> None:
    options = DiffusersOptions(draft_lora=draft_lora, warmup=True, warmup_size=(64, 64, 9))
    renderer = DiffusersRenderer(str(tiny_wan_path), options)
    renderer.load()
    assert renderer.warmups == 1 and renderer.warmup_seconds > 0
    assert set(renderer.loras.loaded) == {"quick"}  # the draft's LoRA loaded at start
    final = _final(tiny_wan_path)
    for _ in range(2):
        renderer.render(final)
        renderer.render(request_tier(final, renderer.preset, Tier.DRAFT, renderer.draft))
    assert renderer.warmups == 1 and renderer.load_count == 1
    assert renderer.loras.load_calls == 1
    # Warm-up leaves no trace in the pixels.
    plain = DiffusersRenderer(str(tiny_wan_path))
    assert np.array_equal(renderer.render(final).frames, plain.render(final).frames)


def test_options_validation_and_cache_tags(draft_lora: LoraSpec) -> None:
    assert "compile=auto" in DiffusersOptions().cache_tag()
    old = "device=auto;dtype=auto;vae_tiling=False;compile=False;first_block_cache=None"
    assert DiffusersOptions(compile=False).cache_tag() == old  # the tag before tiers
    tags = {
        DiffusersOptions(compile=False, fp8=True).cache_tag(),
        DiffusersOptions(compile=False, draft_lora=draft_lora).cache_tag(),
        DiffusersOptions(compile=False, draft_lora="off").cache_tag(),
        DiffusersOptions(compile=False, mag_cache=(1.0, 0.9)).cache_tag(),
    }
    assert len(tags) == 4 and old not in tags
    with pytest.raises(ValueError, match="Choose one step cache"):
        DiffusersOptions(first_block_cache=0.05, mag_cache=(1.0, 0.9))
    with pytest.raises(ValueError, match="calibrated magnitude ratios"):
        DiffusersOptions(mag_cache=(1.0,))
    with pytest.raises(LoraSpecError, match="two LoRAs are named 'quick'"):
        DiffusersOptions(loras=(LoraSpec("a/b", adapter_name="quick"),), draft_lora=draft_lora)
