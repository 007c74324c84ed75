"""Wan 2.1 1.3B timings on a CUDA GPU, without downloading weights.

Builds the pipeline from the published configs with random weights (compute time does not depend
on weight values) and times a 832x480x81, 50-step shot with and without the speed switches.

    python benchmarks/gpu_wan.py --small-text-encoder --json wan-timings.json

Caveat: First Block Cache skips blocks when consecutive residuals are similar, which depends on
real weights; with random weights its numbers show only the overhead, not the published ~1.6x.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer/config.json
TRANSFORMER_CONFIG: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "rope_max_seq_len": 1024,
}
# The Wan 2.1 VAE is AutoencoderKLWan's default configuration.
VAE_CONFIG: dict[str, Any] = {
    "base_dim": 96,
    "z_dim": 16,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "temperal_downsample": [False, True, True],
}
# UMT5-XXL encoder (text_encoder/config.json).
TEXT_ENCODER_CONFIG: dict[str, Any] = {
    "vocab_size": 256384,
    "d_model": 4096,
    "d_ff": 10240,
    "d_kv": 64,
    "num_layers": 24,
    "num_heads": 64,
    "feed_forward_proj": "gated-gelu",
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
}
# Same width (the transformer needs 4096-d text), two layers: only transformer time matters.
SMALL_TEXT_ENCODER_OVERRIDES: dict[str, Any] = {"num_layers": 2, "d_ff": 1024, "num_heads": 8}
FLOW_SHIFT = 3.0  # Wan's recommendation for 480p


@dataclass
class Timing:
    setting: str
    step_seconds: float  # median of the timed run's steps
    shot_seconds: float  # whole call: text encoding, all steps, VAE decode
    warmup_seconds: float  # first call, including any compilation
    peak_memory_gib: float


def build_pipeline(small_text_encoder: bool) -> Any:
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

    words = ["<pad>", "</s>", "<unk>", "a", "woman", "walks", "through", "rain", "at", "night"]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    text_config = dict(TEXT_ENCODER_CONFIG)
    if small_text_encoder:
        text_config.update(SMALL_TEXT_ENCODER_OVERRIDES)
    torch.manual_seed(0)
    # Build straight on the GPU in bf16: the 1.3B transformer and UMT5-XXL are slow to init on CPU.
    with torch.device("cuda"):
        transformer = WanTransformer3DModel(**TRANSFORMER_CONFIG).to(torch.bfloat16)
        text_encoder = UMT5EncoderModel(UMT5Config(**text_config)).to(torch.bfloat16)
        vae = AutoencoderKLWan(**VAE_CONFIG).to(torch.float32)  # Wan decodes in fp32
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=FLOW_SHIFT),
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def time_shot(pipe: Any, args: argparse.Namespace, steps: int) -> tuple[float, list[float]]:
    import torch

    stamps: list[float] = []

    def on_step_end(_pipe: Any, _i: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        return tensors

    torch.cuda.synchronize()
    started = time.perf_counter()
    pipe(
        prompt="a woman walks through rain at night",
        height=args.height,
        width=args.width,
        num_frames=args.frames,
        num_inference_steps=steps,
        guidance_scale=5.0,
        generator=torch.Generator("cpu").manual_seed(0),
        output_type="np",
        callback_on_step_end=on_step_end,
    )
    torch.cuda.synchronize()
    shot = time.perf_counter() - started
    steps_seconds = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
    return shot, steps_seconds


def run_setting(setting: str, args: argparse.Namespace) -> Timing:
    import torch
    from diffusers.hooks import FirstBlockCacheConfig

    pipe = build_pipeline(args.small_text_encoder)
    if "fbc" in setting:
        pipe.transformer.enable_cache(FirstBlockCacheConfig(threshold=args.fbc_threshold))
    if "compile" in setting:
        # Cache hooks graph-break, so fullgraph only without them (as render/diffusers.py does).
        pipe.transformer.compile_repeated_blocks(fullgraph="fbc" not in setting)
    torch.cuda.reset_peak_memory_stats()
    warmup, _ = time_shot(pipe, args, steps=args.warmup_steps)
    shot, steps = time_shot(pipe, args, steps=args.steps)
    steps.sort()
    timing = Timing(
        setting=setting,
        step_seconds=steps[len(steps) // 2] if steps else float("nan"),
        shot_seconds=shot,
        warmup_seconds=warmup,
        peak_memory_gib=torch.cuda.max_memory_allocated() / 2**30,
    )
    logger.info("%s: %s", setting, timing)
    del pipe
    torch.cuda.empty_cache()
    torch.compiler.reset()
    return timing


def markdown(timings: list[Timing], args: argparse.Namespace, device: str) -> str:
    base = timings[0].shot_seconds if timings else float("nan")
    lines = [
        f"Wan 2.1 1.3B (random weights), {args.width}x{args.height}x{args.frames}, "
        f"{args.steps} steps, CFG 5, bf16 on {device}",
        "",
        "| setting | s/step | s/shot | speed-up | first call (s) | peak GiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in timings:
        lines.append(
            f"| {t.setting} | {t.step_seconds:.3f} | {t.shot_seconds:.1f} | "
            f"{base / t.shot_seconds:.2f}x | {t.warmup_seconds:.1f} | {t.peak_memory_gib:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--fbc-threshold", type=float, default=0.05)
    parser.add_argument(
        "--settings",
        default="baseline,compile,fbc,compile+fbc",
        help="comma-separated: baseline, compile, fbc, compile+fbc",
    )
    parser.add_argument("--small-text-encoder", action="store_true")
    parser.add_argument("--json", type=Path, default=Path("wan-gpu-timings.json"))
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

    device = torch.cuda.get_device_name()
    timings = [run_setting(setting.strip(), args) for setting in args.settings.split(",")]
    table = markdown(timings, args, device)
    print(table)
    report = {
        "device": device,
        "torch": torch.__version__,
        "args": {key: str(value) for key, value in vars(args).items()},
        "timings": [asdict(t) for t in timings],
    }
    args.json.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
