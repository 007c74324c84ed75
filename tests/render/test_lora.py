"""LoRAs on presets: the settings format, camera LoRAs chosen by the move, and adapters loaded once
and switched per render on a tiny random Wan pipeline loaded from a folder (LoRAs saved with
`save_lora_weights`, as published ones are)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from render.diffusers import DiffusersOptions, DiffusersRenderer
from render.lora import (
    LTX2_CAMERA_LORAS,
    LoraSpec,
    LoraSpecError,
    parse_camera_loras,
    parse_lora,
    parse_loras,
    plan_loras,
)
from render.types import (
    CameraMotion,
    ModelLoadError,
    MotionDirection,
    MotionKind,
    Previz,
    RenderRequest,
)

K, D = MotionKind, MotionDirection

# --- settings ---


def test_parse_loras() -> None:
    specs = parse_loras(
        "org/style-lora:style.safetensors@0.8#noir, /loras/grain.safetensors@-0.5 ,org/plain"
    )
    assert specs == (
        LoraSpec("org/style-lora", "style.safetensors", 0.8, "noir"),
        LoraSpec("/loras/grain.safetensors", None, -0.5),
        LoraSpec("org/plain"),
    )
    assert [spec.name for spec in specs] == ["noir", "grain", "plain"]
    assert specs[0].label == "noir (0.8)"
    assert parse_loras("") == parse_loras(" , ") == ()
    assert parse_lora(r"C:\loras\x.safetensors@1").source == r"C:\loras\x.safetensors"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("org/x@strong", "must be a number, like @0.8; got 'strong'"),
        ("org/x:", "no weight file"),
        ("@0.5#name", "names no LoRA"),
        ("org/x@9", "scale between -4 and 4; got 9.0"),
        ("org/x@nan", "scale between"),
        ("org/x#my.lora", "may only use letters"),
        ("org/a:w.safetensors, org/b:w.safetensors", "two LoRAs are named 'w'"),
    ],
)
def test_parse_loras_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(LoraSpecError, match="SLATE_LORAS") as caught:
        parse_loras(text)
    assert problem in str(caught.value)


def test_parse_camera_loras() -> None:
    assert parse_camera_loras("LTX-2") == dict(LTX2_CAMERA_LORAS)
    moves = parse_camera_loras("dolly in=org/push:push.safetensors@0.9, crane up=/loras/jib-up")
    assert moves == {
        (K.DOLLY, D.IN): LoraSpec("org/push", "push.safetensors", 0.9),
        (K.CRANE, D.UP): LoraSpec("/loras/jib-up"),
    }
    assert parse_camera_loras("static=org/still")[(K.STATIC, D.NONE)].name == "still"
    for text, problem in [
        ("pan sideways=org/x", "'pan sideways' is not a camera move"),
        ("org/x", "needs the form 'move=lora'"),
        ("pan left=org/a, pan  left=org/b", "has two LoRAs"),
    ]:
        with pytest.raises(LoraSpecError, match="SLATE_CAMERA_LORAS") as caught:
            parse_camera_loras(text)
        assert problem in str(caught.value)


def test_camera_lora_follows_the_move_and_says_when_there_is_none() -> None:
    style = LoraSpec("org/style", adapter_name="style")
    plan = plan_loras([style], LTX2_CAMERA_LORAS, CameraMotion(K.DOLLY, D.IN))
    assert [spec.name for spec in plan.adapters] == ["style", "dolly-in"]
    assert plan.notes == {
        "loras": "style (1), dolly-in (1)",
        "camera_lora": "dolly-in (1) for dolly in",
    }
    # A truck with no direction goes right: LTX-2's "Dolly-Right".
    assert (
        plan_loras([], LTX2_CAMERA_LORAS, CameraMotion(K.TRUCK)).adapters[0].name == "dolly-right"
    )
    pan = plan_loras([style], LTX2_CAMERA_LORAS, CameraMotion(K.PAN, D.LEFT))
    assert pan.adapters == (style,)
    assert pan.notes["camera_lora"] == "none for pan left: the prompt carries the move"
    assert plan_loras([], {}, CameraMotion()).notes == {"loras": "none", "camera_lora": "off"}


def test_loras_enter_the_clip_cache_tag() -> None:
    plain = DiffusersOptions()
    assert "lora" not in plain.cache_tag()
    styled = DiffusersOptions(loras=(LoraSpec("org/style", scale=0.8),))
    camera = DiffusersOptions(camera_loras=LTX2_CAMERA_LORAS)
    tags = {plain.cache_tag(), styled.cache_tag(), camera.cache_tag()}
    tags.add(replace(styled, loras=(LoraSpec("org/style", scale=0.7),)).cache_tag())
    assert len(tags) == 4
    with pytest.raises(LoraSpecError, match="two LoRAs are named"):
        DiffusersOptions(
            loras=(LoraSpec("org/a", adapter_name="x"),),
            camera_loras={(K.STATIC, D.NONE): LoraSpec("org/b", adapter_name="x")},
        )


# --- adapters on a real (tiny) pipeline ---


def _save_random_lora(model: Path, folder: Path, weight_name: str, seed: int) -> None:
    import torch
    from diffusers import WanPipeline
    from peft import LoraConfig, get_peft_model_state_dict

    pipe = WanPipeline.from_pretrained(model)
    torch.manual_seed(seed)
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["to_q", "to_k", "to_v", "to_out.0"],
        init_lora_weights=False,  # random A and B: the adapter changes the output
    )
    pipe.transformer.add_adapter(config)
    WanPipeline.save_lora_weights(
        folder,
        transformer_lora_layers=get_peft_model_state_dict(pipe.transformer),
        weight_name=weight_name,
    )


@pytest.fixture(scope="module")
def lora_folder(tiny_wan_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("peft")
    folder = tmp_path_factory.mktemp("loras")
    _save_random_lora(tiny_wan_path, folder, "push.safetensors", seed=1)
    _save_random_lora(tiny_wan_path, folder, "slide.safetensors", seed=2)
    return folder


def shot(model: Path, motion: CameraMotion) -> RenderRequest:
    return RenderRequest(
        prompt="a woman walks down a dark street at night",
        width=64,
        height=64,
        frames=9,
        steps=2,
        seed=7,
        model=str(model),
        previz=Previz(motion=motion),
    )


def test_camera_loras_switch_per_shot_without_reloading(
    tiny_wan_path: Path, lora_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    push = LoraSpec(str(lora_folder), "push.safetensors", 1.0, "push")
    slide = LoraSpec(str(lora_folder / "slide.safetensors"), scale=0.8)
    renderer = DiffusersRenderer(
        str(tiny_wan_path),
        DiffusersOptions(camera_loras={(K.DOLLY, D.IN): push, (K.TRUCK, D.RIGHT): slide}),
    )
    plain = DiffusersRenderer(str(tiny_wan_path))  # never saw a LoRA
    still, dolly, truck = CameraMotion(), CameraMotion(K.DOLLY, D.IN), CameraMotion(K.TRUCK)

    base = plain.render(shot(tiny_wan_path, still)).frames
    first = renderer.render(shot(tiny_wan_path, still))
    assert np.array_equal(first.frames, base)
    assert first.info["camera_lora"] == "none for static: the prompt carries the move"

    pushed = renderer.render(shot(tiny_wan_path, dolly))
    assert pushed.info["camera_lora"] == "push (1) for dolly in"
    assert not np.array_equal(pushed.frames, base)
    slid = renderer.render(shot(tiny_wan_path, truck))
    assert slid.info["loras"] == "slide (0.8)"
    assert not np.array_equal(slid.frames, base) and not np.array_equal(slid.frames, pushed.frames)

    # Disabling restores the base model exactly; switching back gives the same take again.
    assert np.array_equal(renderer.render(shot(tiny_wan_path, still)).frames, base)
    assert np.array_equal(renderer.render(shot(tiny_wan_path, dolly)).frames, pushed.frames)
    assert renderer.load_count == 1  # the base model, once
    assert renderer.loras.load_calls == 2  # each LoRA, once
    assert set(renderer.loras.loaded) == {"push", "slide"}


def test_preset_loras_apply_to_every_render(tiny_wan_path: Path, lora_folder: Path) -> None:
    style = LoraSpec(str(lora_folder), "push.safetensors", 0.5, "style")
    renderer = DiffusersRenderer(str(tiny_wan_path), DiffusersOptions(loras=(style,)))
    plain = DiffusersRenderer(str(tiny_wan_path))
    request = shot(tiny_wan_path, CameraMotion(K.PAN, D.LEFT))
    result = renderer.render(request)
    assert result.info["loras"] == "style (0.5)" and result.info["camera_lora"] == "off"
    assert not np.array_equal(result.frames, plain.render(request).frames)
    assert plain.render(request).info["loras"] == "none"


def test_a_lora_that_cannot_load_is_named(tiny_wan_path: Path, tmp_path: Path) -> None:
    missing = LoraSpec(str(tmp_path / "nowhere.safetensors"), adapter_name="grain")
    renderer = DiffusersRenderer(str(tiny_wan_path), DiffusersOptions(loras=(missing,)))
    with pytest.raises(ModelLoadError, match="Could not load the LoRA 'grain' from"):
        renderer.render(shot(tiny_wan_path, CameraMotion()))
    assert renderer.loras.loaded == {}
