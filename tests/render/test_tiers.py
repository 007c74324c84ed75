"""Draft and final tiers: the request each tier renders, the draft LoRA only on drafts, and the
final's pixels untouched by it (tiny random Wan pipeline, a random LoRA saved as published)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from render.diffusers import (
    PRESETS,
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
