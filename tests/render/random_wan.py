"""Random-weight Wan pipelines saved to disk, so tests load them the way users load real ones.

`kind` picks the pipeline: "t2v" (`WanPipeline`), "vace" (`WanVACEPipeline`, references and
control video) or "ti2v" (`WanPipeline` with Wan 2.2's per-token timesteps, which diffusers'
`WanImageToVideoPipeline` drives from a first frame).

Built as diffusers' own fast tests build theirs (`get_dummy_components`), with an in-memory
word-level tokenizer so nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

Scale = Literal["tiny", "bench"]
Kind = Literal["t2v", "vace", "ti2v"]

# Enough words that prompts in tests tokenize to more than <unk>.
_WORDS = [
    "a",
    "the",
    "of",
    "in",
    "on",
    "at",
    "and",
    "with",
    "to",
    "from",
    "red",
    "blue",
    "green",
    "dark",
    "light",
    "small",
    "big",
    "old",
    "young",
    "man",
    "woman",
    "child",
    "dog",
    "cat",
    "car",
    "street",
    "room",
    "house",
    "city",
    "sea",
    "sky",
    "night",
    "day",
    "rain",
    "sun",
    "walks",
    "runs",
    "looks",
    "sits",
    "close",
    "up",
    "wide",
    "shot",
    "camera",
    "dolly",
    "pan",
    "slow",
    "fast",
]
_SPECIAL = ["<pad>", "</s>", "<unk>"]

# (transformer kwargs, vae base_dim, text d_model) per scale; "bench" makes one 128x128x17,
# 8-step shot take a few seconds on 2 CPU cores, so pool overhead is measured against real work.
_SCALES: dict[str, tuple[dict[str, int], int, int]] = {
    "tiny": (
        {"num_attention_heads": 2, "attention_head_dim": 12, "ffn_dim": 32, "num_layers": 2},
        3,
        32,
    ),
    "bench": (
        {"num_attention_heads": 6, "attention_head_dim": 64, "ffn_dim": 1536, "num_layers": 12},
        16,
        64,
    ),
}


def _tokenizer() -> object:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {word: index for index, word in enumerate(_SPECIAL + _WORDS)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def build_random_wan(
    path: str | Path, scale: Scale = "tiny", seed: int = 0, kind: Kind = "t2v"
) -> Path:
    """Save a random-weight Wan pipeline of `kind` to `path` and return the folder."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanPipeline,
        WanTransformer3DModel,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {sorted(_SCALES)}; got {scale!r}")
    transformer_size, vae_dim, text_dim = _SCALES[scale]
    tokenizer = _tokenizer()

    torch.manual_seed(seed)
    vae = AutoencoderKLWan(
        base_dim=vae_dim,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    common = {
        "patch_size": (1, 2, 2),
        "in_channels": 16,
        "out_channels": 16,
        "text_dim": text_dim,
        "freq_dim": 256,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "rope_max_seq_len": 32,
        **transformer_size,
    }
    transformer: Any
    if kind == "vace":
        # As diffusers' own VACE tests: a third block, control blocks on the first and last, and
        # 96 control channels (16 inactive + 16 reactive video latents + 8x8 mask).
        common["num_layers"] = 3
        transformer = WanVACETransformer3DModel(**common, vace_layers=[0, 2], vace_in_channels=96)
    else:
        transformer = WanTransformer3DModel(**common)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(_SPECIAL) + len(_WORDS),
            d_model=text_dim,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_max_distance=16,
            relative_attention_num_buckets=8,
            pad_token_id=0,
            eos_token_id=1,
        )
    )
    if kind == "vace":
        # At PyTorch's default init the control path's effect on the latents (~1e-3) vanishes in
        # the 3-channel random VAE's decode; four times stronger weights make a reference's
        # content show in the pixels, so tests can see it there and not only in the call.
        with torch.no_grad():
            for name, parameter in transformer.named_parameters():
                if name.startswith("vace_"):
                    parameter.mul_(4.0)
    components = {
        "tokenizer": tokenizer,
        "text_encoder": text_encoder,
        "vae": vae,
        "transformer": transformer,
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=7.0),
    }
    pipe: Any
    if kind == "vace":
        pipe = WanVACEPipeline(**components)
    else:
        pipe = WanPipeline(**components, expand_timesteps=kind == "ti2v")
    folder = Path(path)
    pipe.save_pretrained(folder)
    return folder
