"""A random-weight text-to-image pipeline saved to disk (a tiny StableDiffusionPipeline, the
cheapest diffusers builds), so portrait tests load it the way users load real models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.render.random_wan import _tokenizer


def build_random_sd(path: str | Path, seed: int = 0) -> Path:
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet: Any = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=2,
        attention_head_dim=2,
    )
    vae: Any = AutoencoderKL(
        # Four blocks: 8x downsampling as in real SD, so a 256 px portrait is a 32x32 latent and
        # the UNet's attention stays cheap.
        block_out_channels=[4, 4, 4, 4],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
        norm_num_groups=2,
    )
    tokenizer: Any = _tokenizer()
    tokenizer.model_max_length = 16
    text_encoder: Any = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=1,
            eos_token_id=1,
            pad_token_id=0,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            layer_norm_eps=1e-5,
            vocab_size=len(tokenizer),
            max_position_embeddings=16,
        )
    )
    pipe: Any = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=DDIMScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False
        ),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    folder = Path(path)
    pipe.save_pretrained(folder)
    return folder
