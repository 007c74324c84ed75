"""Draft and final tiers on a CUDA GPU: the product's render path against the raw diffusers pipeline.

Real-size Wan 2.1 1.3B architecture with random weights (benchmarks/gpu_wan.py's configs; compute
time does not depend on weight values), saved to a folder so Slate loads it as a user's model, and
a random rank-32 LoRA standing in for the draft's distillation LoRA. Measured in one run on one
card, 832x480x81 unless told otherwise:

- raw pipeline: diffusers default (CFG 5), regional compile (CFG 5), draft (LoRA, 4 steps, CFG 1);
- product (`DiffusersRenderer`, CUDA defaults: regional compile and warm-up on): load + warm-up,
  final, draft at full size (4 steps) and the preset's draft (480x272, 8 steps); optional final
  with First Block Cache (--fbc) and FP8 (--fp8, torchao, SM >= 8.9);
- six draft shots back to back through the render pool with developing overlapped, against six
  times one shot's denoise+decode.

Goals (issue 11): draft shot <= 6 s end to end; final >= 1.3x the diffusers default; product
within 3% of raw with the same switches; six overlapped shots within 5% of six renders alone.

    python benchmarks/gpu_tiers.py --steps 50 --json "$OUT/gpu-tiers.json"   (about 7 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.gpu_wan import build_pipeline  # noqa: E402

logger = logging.getLogger(__name__)
PROMPT = "a woman walks through rain at night"


def build_folder(folder: Path) -> tuple[Path, Path]:
    """Save the random real-size pipeline and a random rank-32 LoRA for it; return both paths."""
    import torch
    from diffusers import WanPipeline
    from peft import LoraConfig, get_peft_model_state_dict

    pipe = build_pipeline(small_text_encoder=True)
    pipe.save_pretrained(folder / "wan")
    torch.manual_seed(1)
    config = LoraConfig(
        r=32,
        lora_alpha=32,
        target_modules=["to_q", "to_k", "to_v", "to_out.0"],
        init_lora_weights=False,
    )
    pipe.transformer.add_adapter(config)
    WanPipeline.save_lora_weights(
        folder / "lora",
        transformer_lora_layers=get_peft_model_state_dict(pipe.transformer),
        weight_name="draft.safetensors",
    )
    del pipe
    torch.cuda.empty_cache()
    return folder / "wan", folder / "lora"


def timed_call(
    pipe: Any, args: argparse.Namespace, steps: int, guidance: float
) -> dict[str, float]:
    import torch

    stamps: list[float] = []

    def on_step_end(_p: Any, _i: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        return tensors

    torch.cuda.synchronize()
    started = time.perf_counter()
    pipe(
        prompt=PROMPT,
        height=args.height,
        width=args.width,
        num_frames=args.frames,
        num_inference_steps=steps,
        guidance_scale=guidance,
        output_type="np",
        generator=torch.Generator("cpu").manual_seed(0),
        callback_on_step_end=on_step_end,
    )
    torch.cuda.synchronize()
    shot = time.perf_counter() - started
    return {"s_per_step": _median_step(stamps), "s_per_shot": shot}


def _median_step(stamps: list[float]) -> float:
    gaps = sorted(b - a for a, b in zip(stamps, stamps[1:], strict=False))
    return gaps[len(gaps) // 2] if gaps else float("nan")


def raw_runs(model: Path, lora: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    import torch
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(model, torch_dtype=torch.bfloat16).to("cuda")
    pipe.set_progress_bar_config(disable=True)
    out = {}
    timed_call(pipe, args, 2, 5.0)  # warm-up: kernels, allocator
    out["raw default, CFG 5"] = timed_call(pipe, args, args.steps, 5.0)
    pipe.transformer.compile_repeated_blocks(fullgraph=True)
    timed_call(pipe, args, 2, 5.0)  # compile
    out["raw compiled, CFG 5"] = timed_call(pipe, args, args.steps, 5.0)
    pipe.load_lora_weights(str(lora), weight_name="draft.safetensors", adapter_name="draft")
    timed_call(pipe, args, 2, 1.0)
    out["raw compiled draft (LoRA, 4 steps, CFG 1)"] = timed_call(pipe, args, 4, 1.0)
    del pipe
    torch.cuda.empty_cache()
    torch.compiler.reset()
    return out


def product_runs(model: Path, lora: Path, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from render.diffusers import DiffusersOptions, DiffusersRenderer, DraftSpec, request_tier
    from render.lora import LoraSpec
    from render.types import RenderProgress, RenderRequest, Tier

    spec = LoraSpec(str(lora), "draft.safetensors", 1.0, "draft")
    options = DiffusersOptions(draft_lora=spec, warmup=True, warmup_size=None, preview_every=0)
    renderer = DiffusersRenderer(str(model), options)
    started = time.perf_counter()
    renderer.load()
    out: dict[str, Any] = {"product load + warm-up (s)": time.perf_counter() - started}
    final = RenderRequest(
        prompt=PROMPT,
        width=args.width,
        height=args.height,
        frames=args.frames,
        steps=args.steps,
        guidance=5.0,
        model=str(model),
    )
    full_draft = request_tier(final, renderer.preset, Tier.DRAFT, DraftSpec(spec, steps=4))
    preset_draft = request_tier(final, renderer.preset, Tier.DRAFT, renderer.draft)

    def timed(request: RenderRequest) -> dict[str, Any]:
        stamps: list[float] = []

        def progress(_update: RenderProgress) -> None:
            torch.cuda.synchronize()
            stamps.append(time.perf_counter())

        began = time.perf_counter()
        result = renderer.render(request, progress)
        return {
            "s_per_step": _median_step(stamps),
            "s_per_shot": time.perf_counter() - began,
            "speedups": result.info["speedups"],
            "tier": result.info["tier"],
            "size": f"{request.width}x{request.height}x{request.frames}, {request.steps} steps",
        }

    out["product final, CFG 5"] = timed(final)
    out["product draft, full size, 4 steps"] = timed(full_draft)
    out["product draft, preset size"] = timed(preset_draft)
    out["pool, six drafts"] = asyncio.run(pool_run(renderer, full_draft, args))
    for flag, extra in (("fbc", {"first_block_cache": 0.05}), ("fp8", {"fp8": True})):
        if getattr(args, flag):
            other = DiffusersRenderer(str(model), DiffusersOptions(preview_every=0, **extra))
            other.load()
            began = time.perf_counter()
            result = other.render(final)
            out[f"product final + {flag}"] = {
                "s_per_shot": time.perf_counter() - began,
                "speedups": result.info["speedups"],
                "refused": result.info.get("speedups_refused", {}),
            }
            del other
            torch.cuda.empty_cache()
            torch.compiler.reset()
    return out


async def pool_run(renderer: Any, draft: Any, args: argparse.Namespace) -> dict[str, float]:
    from dataclasses import replace

    from render.pool import JobFinished, PoolEvent, RenderJob, RenderPool

    finished: dict[str, JobFinished] = {}
    done = asyncio.Event()

    def listen(event: PoolEvent) -> None:
        if isinstance(event, JobFinished):
            finished[event.job_id] = event
            if len(finished) == args.shots:
                done.set()

    with tempfile.TemporaryDirectory() as out:
        async with RenderPool(lambda m, w: renderer, Path(out)) as pool:
            pool.add_listener(listen)
            began = time.perf_counter()
            for i in range(args.shots):
                pool.submit(RenderJob(f"s{i}", "crew", replace(draft, seed=100 + i)))
            await done.wait()
            wall = time.perf_counter() - began
    renders = sum(float(f.info["render_seconds"]) for f in finished.values())
    first = min(f.seconds for f in finished.values())
    return {
        "wall_s": wall,
        "renders_alone_s": renders,
        "ratio": wall / renders,
        "first_shot_end_to_end_s": first,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--shots", type=int, default=6)
    parser.add_argument("--fbc", action="store_true")
    parser.add_argument("--fp8", action="store_true")
    parser.add_argument("--json", type=Path, default=Path("gpu-tiers.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        import torch
    except ImportError:
        print("This benchmark needs torch with CUDA; torch is not installed.")
        return 0
    if not torch.cuda.is_available():
        print("This benchmark needs a CUDA GPU; none is available here, so nothing was run.")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        model, lora = build_folder(Path(tmp))
        raw = raw_runs(model, lora, args)
        product = product_runs(model, lora, args)
    base = raw["raw default, CFG 5"]["s_per_shot"]
    compiled = raw["raw compiled, CFG 5"]["s_per_shot"]
    final = product["product final, CFG 5"]["s_per_shot"]
    report = {
        "device": torch.cuda.get_device_name(),
        "raw": raw,
        "product": product,
        "goals": {
            "final speed-up over diffusers default (>= 1.3)": base / final,
            "product over raw, same switches (<= 1.03)": final / compiled,
            "draft shot s, full size (<= 6)": product["product draft, full size, 4 steps"][
                "s_per_shot"
            ],
            "six overlapped over six alone (<= 1.05)": product["pool, six drafts"]["ratio"],
        },
    }
    print(json.dumps(report, indent=2, default=str))
    args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
