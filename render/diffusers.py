"""Text-to-video through a diffusers pipeline (Wan, LTX-Video, CogVideoX or any compatible folder).

Models that can follow pictures get them: VACE takes the shot's reference images
(`reference_images=`, each fitted onto a white canvas) and a first frame (as a one-frame control
video whose mask keeps it); image-to-video pipelines take the first frame as `image=`. A model that
cannot renders from the prompt alone, and the result's `info` says so.

Importing this module is cheap: torch and diffusers load on the first render, so the bot and the
CLI start fast and machines without a GPU stack can still run the animatic.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict, TypeVar

from render.control import control_strength_error, describe_camera_control, previz_control
from render.lora import (
    DraftOff,
    LoraRack,
    LoraSpec,
    MoveKey,
    check_lora_names,
    plan_loras,
)
from render.stills import (
    choose_references,
    describe_first_frame,
    describe_references,
    fill_frame,
    fit_on_white,
    load_stills,
)
from render.types import (
    CameraControl,
    CancelToken,
    InvalidRenderRequest,
    ModelLoadError,
    ProgressCallback,
    RenderCancelled,
    RenderError,
    RenderProgress,
    RenderRequest,
    RenderResult,
    Tier,
)

if TYPE_CHECKING:
    import numpy as np
    import torch
    from PIL import Image

logger = logging.getLogger(__name__)

LatentLayout = Literal["bcthw", "btchw"]
# How a loaded pipeline takes a first frame: as `image=` (image-to-video), as a one-frame control
# video whose mask keeps it (VACE), through a sibling pipeline built with `from_pipe`, or not at all.
FirstFrameMode = Literal["image", "control", "sibling", "none"]

# Limits past which a request is a typo, not a shot: they keep one request from holding the GPU
# for hours or running it out of memory.
MAX_SIDE = 2048
MAX_STEPS = 200
MAX_FPS = 60


# Draft LoRAs: step- and CFG-distillation adapters that let a model render a reviewable take in a
# handful of steps without classifier-free guidance (one transformer pass per step, not two).
#
# - Wan 2.1 14B (the VACE 14B preset shares its blocks): lightx2v's 4-step T2V LoRA,
#   `lightx2v/Wan2.1-Distill-Loras` : `wan2.1_t2v_14b_lora_rank64_lightx2v_4step.safetensors`
#   (Apache-2.0, 631 MB), scale 1.0, 4 steps, guidance 1, flow shift 5 (the schedule it was
#   distilled for: timesteps 1000, 937.5, 833.3, 625). Kijai's rank-32 extraction of the same
#   distillation (`Kijai/WanVideo_comfy` : `Wan21_T2V_14B_lightx2v_cfg_step_distill_lora_rank32
#   .safetensors`, half the size) works the same way but its repository states no licence of its
#   own: set it through SLATE_DRAFT_LORA if you prefer it.
# - Wan 2.1 1.3B (T2V and VACE): no lightx2v LoRA exists for 1.3B; CausVid's bidirectional
#   distillation extracted as a LoRA, `Kijai/WanVideo_comfy` :
#   `Wan21_CausVid_bidirect2_T2V_1_3B_lora_rank32.safetensors`, scale 0.3 (stronger flickers and
#   slows motion), 8 steps, guidance 1, flow shift 7. CausVid is released under CC BY-NC-SA 4.0:
#   NON-COMMERCIAL. A commercial crew sets SLATE_DRAFT_LORA to a LoRA it may use (or "off").
# Distilled drafts slow motion down: finals stay undistilled, so camera-heavy shots are judged on
# the final.
_LIGHTX2V_14B = "lightx2v/Wan2.1-Distill-Loras"
_KIJAI = "Kijai/WanVideo_comfy"
MAX_DRAFT_STEPS = 16


@dataclass(frozen=True)
class DraftSpec:
    """How a preset renders its draft tier: `lora` (None: none, only fewer steps), `steps` and
    `guidance` (1.0: no classifier-free guidance, what distilled LoRAs expect), an optional smaller
    `width` x `height` (None: the final's size), the scheduler's flow `shift` the LoRA was
    distilled for (None: the pipeline's own), and the LoRA's `licence` for the crew to read."""

    lora: LoraSpec | None
    steps: int = 4
    guidance: float = 1.0
    width: int | None = None
    height: int | None = None
    shift: float | None = None
    licence: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.steps <= MAX_DRAFT_STEPS:
            problems.append(
                f"draft steps must be between 1 and {MAX_DRAFT_STEPS}; got {self.steps}"
            )
        if not (math.isfinite(self.guidance) and self.guidance >= 0):
            problems.append(f"draft guidance must be 0 or more; got {self.guidance}")
        if (self.width is None) != (self.height is None):
            problems.append("a draft size needs both width and height (or neither)")
        elif (
            self.width is not None and self.height is not None and min(self.width, self.height) < 1
        ):
            problems.append(f"a draft size must be positive; got {self.width}x{self.height}")
        if self.shift is not None and not (math.isfinite(self.shift) and self.shift > 0):
            problems.append(f"draft shift must be positive; got {self.shift}")
        if problems:
            text = "; ".join(problems)
            raise ValueError(f"{text[0].upper()}{text[1:]}.")


_CAUSVID_1_3B = DraftSpec(
    lora=LoraSpec(
        _KIJAI,
        "Wan21_CausVid_bidirect2_T2V_1_3B_lora_rank32.safetensors",
        scale=0.3,
        adapter_name="draft-causvid",
    ),
    steps=8,
    guidance=1.0,
    width=480,
    height=272,
    shift=7.0,
    licence="CC BY-NC-SA 4.0 (CausVid): non-commercial",
)
_LIGHTX2V_14B_DRAFT = DraftSpec(
    lora=LoraSpec(
        _LIGHTX2V_14B,
        "wan2.1_t2v_14b_lora_rank64_lightx2v_4step.safetensors",
        scale=1.0,
        adapter_name="draft-lightx2v",
    ),
    steps=4,
    guidance=1.0,
    width=832,
    height=480,
    shift=5.0,
    licence="Apache-2.0 (lightx2v)",
)


@dataclass(frozen=True)
class ModelPreset:
    """A model family's defaults and the input rules its pipeline enforces."""

    name: str
    hub_id: str | None
    label: str  # how error messages name the model: "Wan needs 4k+1 frames..."
    width: int
    height: int
    frames: int
    fps: int
    steps: int
    guidance: float
    frame_step: int  # valid frame counts are k * frame_step + 1
    size_multiple: int  # width and height must be multiples of this
    max_frames: int
    # How the step callback's latents are laid out, for previews; None: no preview.
    latent_layout: LatentLayout | None
    # What the model can follow besides the prompt. A loaded pipeline's own signature decides in
    # the end (a folder of an unknown class may still take them); these say it before loading.
    takes_references: bool = False
    takes_first_frame: bool = False
    takes_control_video: bool = False
    max_references: int = 0
    # A diffusers class that takes the first frame when the loaded pipeline does not, built from
    # the loaded one's components with `from_pipe` (Wan 2.2 TI2V: WanPipeline -> WanImageToVideo).
    first_frame_pipeline: str | None = None
    # The draft tier (render.types.Tier.DRAFT); None: the model has no draft LoRA of its own.
    draft: DraftSpec | None = None


PRESETS: dict[str, ModelPreset] = {
    preset.name: preset
    for preset in (
        ModelPreset(
            name="wan2.1-1.3b",
            hub_id="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
            label="Wan",
            width=832,
            height=480,
            frames=81,
            fps=16,
            steps=50,
            guidance=5.0,
            frame_step=4,
            size_multiple=16,
            max_frames=161,
            latent_layout="bcthw",
            draft=_CAUSVID_1_3B,
        ),
        ModelPreset(
            name="wan2.2-5b",
            hub_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
            label="Wan 2.2",
            width=1280,
            height=704,
            frames=121,
            fps=24,
            steps=50,
            guidance=5.0,
            frame_step=4,
            size_multiple=32,
            max_frames=241,
            latent_layout="bcthw",
            takes_first_frame=True,
            first_frame_pipeline="WanImageToVideoPipeline",
        ),
        ModelPreset(
            name="wan2.1-vace-1.3b",
            hub_id="Wan-AI/Wan2.1-VACE-1.3B-diffusers",
            label="Wan VACE",
            width=832,
            height=480,
            frames=81,
            fps=16,
            steps=50,
            guidance=5.0,
            frame_step=4,
            size_multiple=16,
            max_frames=161,
            latent_layout="bcthw",
            takes_references=True,
            takes_first_frame=True,
            takes_control_video=True,
            max_references=3,
            draft=_CAUSVID_1_3B,
        ),
        ModelPreset(
            name="wan2.1-vace-14b",
            hub_id="Wan-AI/Wan2.1-VACE-14B-diffusers",
            label="Wan VACE",
            width=1280,
            height=720,
            frames=81,
            fps=16,
            steps=50,
            guidance=5.0,
            frame_step=4,
            size_multiple=16,
            max_frames=161,
            latent_layout="bcthw",
            takes_references=True,
            takes_first_frame=True,
            takes_control_video=True,
            max_references=3,
            draft=_LIGHTX2V_14B_DRAFT,
        ),
        ModelPreset(
            name="ltx-distilled",
            hub_id="Lightricks/LTX-Video-0.9.7-distilled",
            label="LTX-Video",
            width=704,
            height=512,
            frames=121,
            fps=24,
            steps=8,
            guidance=1.0,
            frame_step=8,
            size_multiple=32,
            max_frames=257,
            latent_layout=None,  # LTX hands the callback packed (batch, tokens, channels) latents
        ),
        ModelPreset(
            name="cogvideox-2b",
            hub_id="THUDM/CogVideoX-2b",
            label="CogVideoX",
            width=720,
            height=480,
            frames=49,
            fps=8,
            steps=50,
            guidance=6.0,
            frame_step=4,
            size_multiple=16,
            max_frames=49,  # CogVideoX 1.0 was trained on 49 frames and degrades past them
            latent_layout="btchw",
        ),
    )
}
DEFAULT_PRESET = "wan2.1-1.3b"

# Rules for a folder or hub id we know nothing about: only what every video VAE needs.
GENERIC_PRESET = ModelPreset(
    name="generic",
    hub_id=None,
    label="This model",
    width=832,
    height=480,
    frames=49,
    fps=16,
    steps=50,
    guidance=5.0,
    frame_step=1,
    size_multiple=8,
    max_frames=257,
    latent_layout="bcthw",
)

# model_index.json `_class_name` -> preset whose rules the folder follows.
_PIPELINE_PRESETS = {
    "WanPipeline": "wan2.1-1.3b",
    "WanVACEPipeline": "wan2.1-vace-1.3b",
    "LTXPipeline": "ltx-distilled",
    "LTXConditionPipeline": "ltx-distilled",
    "CogVideoXPipeline": "cogvideox-2b",
}
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


class RequestDefaults(TypedDict):
    width: int
    height: int
    frames: int
    fps: int
    steps: int
    guidance: float


def _preset_from_folder(folder: Path) -> ModelPreset:
    index_file = folder / "model_index.json"
    try:
        index = json.loads(index_file.read_text())
    except FileNotFoundError:
        raise ModelLoadError(
            f"{folder} is not a diffusers pipeline folder (it has no model_index.json)."
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Could not read {index_file}: {exc}") from exc
    class_name = str(index.get("_class_name", ""))
    # Wan 2.2 TI2V shares WanPipeline with 2.1; its per-token timesteps give it away.
    if class_name == "WanPipeline" and index.get("expand_timesteps"):
        return PRESETS["wan2.2-5b"]
    preset_name = _PIPELINE_PRESETS.get(class_name)
    if preset_name is None:
        logger.info(
            "no preset for pipeline class %r in %s; using generic rules", class_name, folder
        )
        return GENERIC_PRESET
    return PRESETS[preset_name]


def resolve_model(model: str) -> tuple[str, ModelPreset]:
    """Map a preset name, hub id or local folder to what `from_pretrained` loads and its rules."""
    return resolve_source(model, PRESETS, _preset_from_folder, GENERIC_PRESET, "model")


class _HasHubId(Protocol):
    @property
    def hub_id(self) -> str | None: ...


_P = TypeVar("_P", bound=_HasHubId)


def resolve_source(
    model: str,
    presets: Mapping[str, _P],
    from_folder: Callable[[Path], _P],
    generic: _P,
    what: str,
) -> tuple[str, _P]:
    """A preset name, a local folder (its rules read from the folder), a known or generic hub id:
    what `from_pretrained` loads, and the preset whose rules apply. Anything else is a clear
    `ModelLoadError` naming the presets (`what` says which kind of model it is)."""
    model = model.strip()
    if model in presets:
        preset = presets[model]
        assert preset.hub_id is not None
        return preset.hub_id, preset
    folder = Path(model).expanduser()
    if folder.is_dir():
        return str(folder.resolve()), from_folder(folder)
    for preset in presets.values():
        if preset.hub_id == model:
            return model, preset
    looks_like_path = model.startswith(("/", ".", "~")) or "\\" in model
    if _HUB_ID.match(model) and not looks_like_path:
        return model, generic
    if looks_like_path:
        raise ModelLoadError(f"There is no model folder at {model}.")
    raise ModelLoadError(
        f"Unknown {what} {model!r}: use a preset ({', '.join(presets)}), "
        "a hub id like org/name, or a model folder."
    )


def preset_request_defaults(model: str | ModelPreset = DEFAULT_PRESET) -> RequestDefaults:
    """Size, length and sampling defaults for `RenderRequest(prompt=..., **defaults)`."""
    preset = model if isinstance(model, ModelPreset) else resolve_model(model)[1]
    return RequestDefaults(
        width=preset.width,
        height=preset.height,
        frames=preset.frames,
        fps=preset.fps,
        steps=preset.steps,
        guidance=preset.guidance,
    )


def frames_for_duration(seconds: float, fps: int, preset: ModelPreset) -> int:
    """The valid frame count closest to `seconds` at `fps`, within the preset's limits."""
    if not (seconds > 0 and math.isfinite(seconds)):
        raise InvalidRenderRequest(f"A shot must last more than 0 seconds; got {seconds}.")
    if fps < 1:
        raise InvalidRenderRequest(f"Frame rate must be at least 1 fps; got {fps}.")
    step = preset.frame_step
    longest = (preset.max_frames - 1) // step
    chunks = round((seconds * fps - 1) / step)
    return min(max(chunks, 1 if step > 1 else 0), longest) * step + 1


def _frame_rule_error(frames: int, preset: ModelPreset) -> str | None:
    step = preset.frame_step
    if frames < 1:
        return f"A shot needs at least 1 frame; got {frames}."
    if (frames - 1) % step:
        below = (frames - 1) // step * step + 1
        examples = f"{below} or {below + step}" if below > 1 else f"{below + step}"
        return f"{preset.label} needs {step}k+1 frames (e.g. {examples}); got {frames}."
    if frames > preset.max_frames:
        return (
            f"{preset.label} renders at most {preset.max_frames} frames; got {frames}. "
            "Split the shot or lower the frame rate."
        )
    return None


def _size_rule_error(width: int, height: int, preset: ModelPreset) -> str | None:
    multiple = preset.size_multiple
    if width < multiple or height < multiple:
        return f"Width and height must be at least {multiple} px; got {width}x{height}."
    if width > MAX_SIDE or height > MAX_SIDE:
        return f"Width and height must be at most {MAX_SIDE} px; got {width}x{height}."
    if width % multiple or height % multiple:
        near_w = max(multiple, round(width / multiple) * multiple)
        near_h = max(multiple, round(height / multiple) * multiple)
        return (
            f"{preset.label} needs width and height in multiples of {multiple}; "
            f"got {width}x{height} (try {near_w}x{near_h})."
        )
    return None


def check_request(request: RenderRequest, preset: ModelPreset) -> None:
    """Raise `InvalidRenderRequest` if the pipeline could not render `request` exactly as asked."""
    problems = [
        _frame_rule_error(request.frames, preset),
        _size_rule_error(request.width, request.height, preset),
    ]
    if not request.prompt.strip():
        problems.append("The prompt is empty.")
    if not 1 <= request.steps <= MAX_STEPS:
        problems.append(f"Steps must be between 1 and {MAX_STEPS}; got {request.steps}.")
    if not 1 <= request.fps <= MAX_FPS:
        problems.append(f"Frame rate must be between 1 and {MAX_FPS} fps; got {request.fps}.")
    if not (math.isfinite(request.guidance) and request.guidance >= 0):
        problems.append(f"Guidance must be 0 or more; got {request.guidance}.")
    if not 0 <= request.seed < 2**63:
        problems.append(f"Seed must be between 0 and 2^63-1; got {request.seed}.")
    problems.append(control_strength_error(request))
    messages = [problem for problem in problems if problem]
    if messages:
        raise InvalidRenderRequest(" ".join(messages))


def draft_spec_for(preset: ModelPreset, override: LoraSpec | DraftOff | None) -> DraftSpec | None:
    """The draft tier a renderer of `preset` runs: the preset's own, its steps, guidance, size
    and shift with the LoRA `override` (SLATE_DRAFT_LORA, read by `render.lora.parse_draft_lora`)
    when one is set, or None: no draft tier ("off", or a preset without a draft LoRA and no
    override). An override on a preset without a draft of its own renders 4 steps at guidance 1
    (the lightx2v recipe) at the final's size."""
    if override == "off":
        return None
    if override is None:
        return preset.draft
    assert isinstance(override, LoraSpec)
    licence = "set by SLATE_DRAFT_LORA: read its licence"
    if preset.draft is None:
        return DraftSpec(lora=override, steps=4, guidance=1.0, licence=licence)
    return replace(preset.draft, lora=override, licence=licence)


def _draft_side(side: int, factor: float, multiple: int) -> int:
    return min(side, max(multiple, round(side * factor / multiple) * multiple))


def request_tier(
    request: RenderRequest, preset: ModelPreset, tier: Tier, draft: DraftSpec | None = None
) -> RenderRequest:
    """`request` as `tier` renders it, everything else (prompt, seed, references, control) kept.

    DRAFT takes the draft's steps and guidance and, when the draft has a size, shrinks the frame
    by the draft's size over the preset's (exactly the draft's size for a request at the preset's
    size; otherwise the same factor, rounded to the model's size multiple, never larger).
    `draft` defaults to the preset's own (pass `draft_spec_for(preset, override)` when the crew set
    one); a model without a draft tier raises `InvalidRenderRequest`. FINAL turns a draft back
    into the preset's final steps, guidance and size (a final with a size of its own should be
    rebuilt from the shot instead). A request already at `tier` comes back unchanged.
    """
    if request.tier is tier:
        return request
    if tier is Tier.FINAL:
        return replace(
            request,
            tier=Tier.FINAL,
            steps=preset.steps,
            guidance=preset.guidance,
            width=preset.width,
            height=preset.height,
        )
    spec = draft or preset.draft
    if spec is None:
        raise InvalidRenderRequest(
            f"{preset.label} has no draft tier: set SLATE_DRAFT_LORA to a step-distillation LoRA "
            "for it, or render the final."
        )
    width, height = request.width, request.height
    if spec.width is not None and spec.height is not None:
        multiple = preset.size_multiple
        width = _draft_side(request.width, spec.width / preset.width, multiple)
        height = _draft_side(request.height, spec.height / preset.height, multiple)
    return replace(
        request,
        tier=Tier.DRAFT,
        steps=spec.steps,
        guidance=spec.guidance,
        width=width,
        height=height,
    )


_DTYPES = ("auto", "bfloat16", "float16", "float32")


@dataclass(frozen=True)
class DiffusersOptions:
    """How the pipeline runs. On CUDA the fast path is the default (regional compile and a
    warm-up render at load); caches and FP8 are settings, off unless asked for."""

    device: str = "auto"  # "auto": cuda when available, else cpu
    dtype: str = "auto"  # "auto": bfloat16 on CUDA, float32 on CPU
    cpu_offload: bool = False  # whole-model offload between components; trades speed for VRAM
    vae_tiling: bool = False
    # Regional compile of the transformer's repeated blocks; None: on for CUDA, never on CPU.
    compile: bool | None = None
    # A short render at load (2 steps at the preset's size, the draft's too) so the first crew
    # render does not pay compilation; None: on for CUDA (where compile is), off on CPU.
    warmup: bool | None = None
    warmup_size: tuple[int, int, int] | None = None  # (width, height, frames); None: the preset's
    # Final-tier step caches (drafts are too short to gain): First Block Cache's threshold, or
    # MagCache's magnitude ratios calibrated for this model (diffusers' MagCacheConfig).
    first_block_cache: float | None = None  # residual-difference threshold, e.g. 0.05
    mag_cache: tuple[float, ...] | None = None
    mag_cache_threshold: float = 0.06
    fp8: bool = False  # torchao float8 dynamic quantisation of the transformer (CUDA, SM >= 8.9)
    preview_every: int = 5  # steps between preview images; 0 turns previews off
    # LoRAs on every render, and camera LoRAs chosen per shot by its move (render.lora).
    loras: tuple[LoraSpec, ...] = ()
    camera_loras: Mapping[MoveKey, LoraSpec] = field(default_factory=dict)
    # The draft tier's LoRA (SLATE_DRAFT_LORA): None: the preset's own; "off": no draft tier.
    draft_lora: LoraSpec | DraftOff | None = None

    def __post_init__(self) -> None:
        draft = [self.draft_lora] if isinstance(self.draft_lora, LoraSpec) else []
        check_lora_names([*self.loras, *self.camera_loras.values(), *draft], "LoRAs")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}; got {self.dtype!r}")
        if self.preview_every < 0:
            raise ValueError(f"preview_every must be 0 or more; got {self.preview_every}")
        if self.first_block_cache is not None and self.first_block_cache <= 0:
            raise ValueError(f"first_block_cache must be positive; got {self.first_block_cache}")
        if self.first_block_cache is not None and self.mag_cache is not None:
            raise ValueError("Choose one step cache: first_block_cache or mag_cache, not both.")
        if self.mag_cache is not None and (
            len(self.mag_cache) < 2 or not all(math.isfinite(r) and r > 0 for r in self.mag_cache)
        ):
            raise ValueError(
                "mag_cache needs the model's calibrated magnitude ratios: two or more positive "
                "numbers (diffusers' MagCacheConfig(calibrate=True) prints them)."
            )
        if not (math.isfinite(self.mag_cache_threshold) and self.mag_cache_threshold > 0):
            raise ValueError(
                f"mag_cache_threshold must be positive; got {self.mag_cache_threshold}"
            )
        if self.warmup_size is not None and min(self.warmup_size) < 1:
            raise ValueError(f"warmup_size must be positive; got {self.warmup_size}")

    def cache_tag(self) -> str:
        """The options that change a render's pixels, for the clip cache's key.

        Left out: `cpu_offload` (where weights wait, not what they compute), `preview_every` and
        the warm-up. "auto" stays "auto": one machine resolves it the same way every time (compile
        None is written "auto"). Options added since (MagCache, FP8, the draft LoRA) appear only
        when set, so a configuration without them keeps its tag.
        """
        compile_ = "auto" if self.compile is None else self.compile
        tag = (
            f"device={self.device};dtype={self.dtype};vae_tiling={self.vae_tiling};"
            f"compile={compile_};first_block_cache={self.first_block_cache}"
        )
        if self.loras or self.camera_loras:  # none: the tag it had before LoRAs
            cameras = sorted(f"{k}:{d}={_lora_tag(s)}" for (k, d), s in self.camera_loras.items())
            loras = [_lora_tag(spec) for spec in self.loras]
            tag += f";loras={','.join(loras)};camera_loras={','.join(cameras)}"
        if self.mag_cache is not None:
            ratios = ",".join(f"{r:g}" for r in self.mag_cache)
            tag += f";mag_cache={self.mag_cache_threshold:g}:{ratios}"
        if self.fp8:
            tag += ";fp8=True"
        if self.draft_lora is not None:
            draft = self.draft_lora
            tag += f";draft_lora={_lora_tag(draft) if isinstance(draft, LoraSpec) else draft}"
        return tag


def _lora_tag(spec: LoraSpec) -> str:
    return f"{spec.name}:{spec.source}:{spec.weight_name or ''}@{spec.scale:g}"


class _Cancelled(Exception):
    """Raised from the step callback to leave the denoising loop before the VAE decode."""


# Fixed latent -> RGB projection for previews: every third channel feeds one colour, so any
# channel count works and the picture is stable across steps. A false-colour sketch, not a decode.
def _latent_rgb_weights(channels: int) -> torch.Tensor:
    import torch

    weights = torch.zeros(3, channels)
    for channel in range(channels):
        weights[channel % 3, channel] = 1.0
    return weights / weights.sum(dim=1, keepdim=True).clamp(min=1.0)


_PREVIEW_LONG_SIDE = 320


def latent_preview(
    latents: torch.Tensor, layout: LatentLayout, size: tuple[int, int]
) -> Image.Image | None:
    """A cheap RGB look at the middle latent frame, or None if `latents` is not 5-D."""
    import torch
    from PIL import Image

    if latents.ndim != 5:
        return None
    # Middle frame of the first video, as (channels, height, width).
    frame = (
        latents[0, :, latents.shape[2] // 2]
        if layout == "bcthw"
        else latents[0, latents.shape[1] // 2]
    )
    frame = frame.detach().float().cpu()
    rgb = torch.einsum("oc,chw->ohw", _latent_rgb_weights(frame.shape[0]), frame)
    low, high = rgb.amin(), rgb.amax()
    rgb = (rgb - low) / (high - low).clamp(min=1e-6)
    pixels = (rgb.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    width, height = size
    scale = min(1.0, _PREVIEW_LONG_SIDE / max(width, height))
    preview_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return Image.fromarray(pixels).resize(preview_size, Image.Resampling.BILINEAR)


def _to_uint8_video(frames: Any) -> np.ndarray:
    import numpy as np

    video = np.asarray(frames, dtype=np.float32)
    return (video.clip(0.0, 1.0) * 255.0).round().astype(np.uint8)


def _call_pipeline(pipe: Any, kwargs: dict[str, Any]) -> Any:
    import torch

    try:
        with torch.inference_mode():
            return pipe(**kwargs)
    except BaseException:
        # Leaving early skips the pipeline's own cleanup (cache state, offload hooks); without it
        # the next render would start from this one's leftovers.
        if hasattr(pipe, "maybe_free_model_hooks"):
            pipe.maybe_free_model_hooks()
        raise


def load_pipeline(
    model: str, source: str, options: DiffusersOptions, *, needs: str, otherwise: str
) -> tuple[Any, str, str]:
    """Load `source` as a diffusers pipeline in the options' dtype: the pipeline (not yet moved
    to its device), the device and the dtype's name, "auto" resolved. ModelLoadError says what
    to do: install (`needs` torch and diffusers), download it, or `otherwise`. Blocking."""
    try:
        import diffusers
        import torch
        from packaging.version import Version
    except ImportError as exc:
        raise ModelLoadError(
            f"{needs} torch and diffusers installed "
            f"(pip install torch diffusers transformers): {short_error(exc)}."
        ) from exc
    device = options.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype_name = options.dtype
    if dtype_name == "auto":
        dtype_name = "bfloat16" if device.startswith("cuda") else "float32"
    # diffusers 0.42 renamed `torch_dtype` to `dtype`; older releases only know the former.
    dtype_kwarg = "dtype" if Version(diffusers.__version__) >= Version("0.42") else "torch_dtype"
    logger.info("loading %s from %s on %s (%s)", model, source, device, dtype_name)
    try:
        pipeline_class: Any = diffusers.DiffusionPipeline
        pipe = pipeline_class.from_pretrained(source, **{dtype_kwarg: getattr(torch, dtype_name)})
    except Exception as exc:
        if not Path(source).is_dir() and _not_cached(exc):
            raise ModelLoadError(
                f"The model {model} ({source}) is not in the local Hugging Face cache and the "
                f"hub can't be reached. Download it once with `slate models pull {model}`, "
                f"{otherwise}."
            ) from exc
        raise ModelLoadError(f"Could not load model {model!r}: {short_error(exc)}.") from exc
    return pipe, device, dtype_name


def _not_cached(exc: BaseException) -> bool:
    """Whether loading failed because the weights are neither cached nor downloadable."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ in ("LocalEntryNotFoundError", "OfflineModeIsEnabled"):
            return True
        if "cached" in str(seen) and ("offline" in str(seen) or "outgoing" in str(seen)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def short_error(exc: BaseException) -> str:
    """The first line of an error (at most 200 characters), for a message people read."""
    text = str(exc).strip().splitlines()
    return (text[0][:200] if text else type(exc).__name__).rstrip(".")


# What a pipeline's __call__ needs to follow a control video (VACE).
_CONTROL_PARAMS = frozenset({"video", "mask", "conditioning_scale"})


class DiffusersRenderer:
    """Renders `RenderRequest`s with one diffusers pipeline, loaded on first use and kept."""

    def __init__(
        self, model: str = DEFAULT_PRESET, options: DiffusersOptions | None = None
    ) -> None:
        self.model = model
        self.options = options or DiffusersOptions()
        self.source, self.preset = resolve_model(model)
        self.name = f"diffusers:{model}"
        self.load_count = 0  # how many times the weights were loaded; stays 1 in a healthy process
        self._pipe: Any = None
        self._call_params: frozenset[str] = frozenset()
        self._first_frame_mode: FirstFrameMode = "none"
        self._needs_first_frame = False  # an image-to-video pipeline whose `image` is required
        self._sibling: Any = None  # the `from_pipe` pipeline that takes first frames
        self._sibling_params: frozenset[str] = frozenset()
        self._device = ""
        self._dtype = ""
        self._speedups: list[str] = []  # switches that took effect at load, reported in `info`
        self._refused: dict[str, str] = {}  # switches asked for that could not apply, and why
        self.loras = LoraRack()  # adapters loaded into the pipeline, switched per render
        # The draft tier: its LoRA joins the rack for DRAFT requests only (finals disable it).
        self.draft = draft_spec_for(self.preset, self.options.draft_lora)
        self._cache_config: Any = None  # the final tier's step cache, switched off for drafts
        self._cache_on = False
        self._cache_steps = 0
        self._schedulers: dict[int, tuple[Any, Any]] = {}  # id(pipe) -> (final, draft scheduler)
        self.warmups = 0  # warm-up passes run: one per loaded pipeline when warm-up is on
        self.warmup_seconds = 0.0
        # One pipeline, one render at a time: diffusers pipelines keep per-call state on `self`.
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    @property
    def takes_references(self) -> bool:
        """Whether renders follow `request.references`: the preset's word until the pipeline is
        loaded, then the pipeline's own signature."""
        if self._pipe is None:
            return self.preset.takes_references
        return "reference_images" in self._call_params

    @property
    def takes_first_frame(self) -> bool:
        if self._pipe is None:
            return self.preset.takes_first_frame
        return self._first_frame_mode != "none"

    @property
    def takes_control_video(self) -> bool:
        """Whether `camera_control=previz` reaches the model: the preset's word until the pipeline
        is loaded, then the pipeline's own signature."""
        if self._pipe is None:
            return self.preset.takes_control_video
        return self._call_params >= _CONTROL_PARAMS

    def load(self) -> None:
        """Load the pipeline now (the first `render` does it otherwise)."""
        with self._lock:
            self._load()

    def _load(self) -> None:
        if self._pipe is not None:
            return
        self._speedups, self._refused = [], {}  # a failed earlier attempt may have left some
        started = time.perf_counter()
        pipe, device, dtype_name = load_pipeline(
            self.model,
            self.source,
            self.options,
            needs="The diffusers renderer needs",
            otherwise="set SLATE_MODEL to a local diffusers folder, or render the animatic "
            "(SLATE_RENDERER=animatic)",
        )
        call_params = frozenset(inspect.signature(pipe.__call__).parameters)
        if not {"num_frames", "callback_on_step_end"} <= call_params:
            raise ModelLoadError(
                f"{type(pipe).__name__} ({self.model}) is not a text-to-video pipeline Slate can drive."
            )
        try:
            self._place(pipe, device)
        except Exception as exc:
            raise ModelLoadError(
                f"Could not move {self.model!r} to {device}: {short_error(exc)}."
            ) from exc
        on_cuda = device.startswith("cuda")
        compile_ = on_cuda if self.options.compile is None else self.options.compile
        self._apply_speed_switches(pipe, device, compile_)
        pipe.set_progress_bar_config(disable=True)  # progress goes through our callback instead
        self._pipe, self._call_params = pipe, call_params
        self._first_frame_mode = self._detect_first_frame_mode(pipe, call_params)
        image_param = inspect.signature(pipe.__call__).parameters.get("image")
        self._needs_first_frame = (
            image_param is not None and image_param.default is inspect.Parameter.empty
        )
        self._device, self._dtype = device, dtype_name
        self.load_count += 1
        logger.info("loaded %s in %.1f s", self.model, time.perf_counter() - started)
        if on_cuda if self.options.warmup is None else self.options.warmup:
            self._warm_up()

    def _warm_up(self) -> None:
        """Two steps of a final (and a draft, with its LoRA) at the sizes the crew renders, so
        compilation, LoRA loading and allocator growth happen now rather than in the first take."""
        preset = self.preset
        width, height, frames = self.options.warmup_size or (
            preset.width,
            preset.height,
            preset.frames,
        )
        final = RenderRequest(
            prompt="warm-up",
            width=width,
            height=height,
            frames=frames,
            fps=preset.fps,
            steps=2,
            guidance=preset.guidance,
            model=self.model,
        )
        requests = [final]
        if self.draft is not None:
            draft = request_tier(final, preset, Tier.DRAFT, self.draft)
            requests.append(replace(draft, steps=min(2, draft.steps)))
        started = time.perf_counter()
        for request in requests:
            try:
                self._render(request, None, None)
            except Exception as exc:  # the crew's own render will say what is wrong
                logger.warning(
                    "warm-up (%s) of %s failed: %s", request.tier, self.model, short_error(exc)
                )
        self.warmups += 1
        self.warmup_seconds = time.perf_counter() - started
        logger.info("warmed up %s in %.1f s", self.model, self.warmup_seconds)

    def _detect_first_frame_mode(self, pipe: Any, call_params: frozenset[str]) -> FirstFrameMode:
        if "image" in call_params:
            return "image"
        if {"video", "mask", "reference_images"} <= call_params:
            return "control"
        sibling = self.preset.first_frame_pipeline
        if sibling is not None:
            import diffusers

            if hasattr(diffusers, sibling):
                return "sibling"
            logger.warning("first frames off: this diffusers has no %s", sibling)
        return "none"

    def _first_frame_pipe(self) -> tuple[Any, frozenset[str]]:
        """The sibling pipeline that takes first frames, sharing the loaded one's weights."""
        if self._sibling is None:
            import diffusers

            sibling_class: Any = getattr(diffusers, str(self.preset.first_frame_pipeline))
            try:
                sibling = sibling_class.from_pipe(self._pipe)
            except Exception as exc:
                raise ModelLoadError(
                    f"Could not set up {self.model!r} to start from a first frame: {short_error(exc)}."
                ) from exc
            sibling.set_progress_bar_config(disable=True)
            self._sibling = sibling
            self._sibling_params = frozenset(inspect.signature(sibling.__call__).parameters)
        return self._sibling, self._sibling_params

    def _place(self, pipe: Any, device: str) -> None:
        if self.options.cpu_offload and device != "cpu":
            pipe.enable_model_cpu_offload(device=device)
            self._speedups.append("cpu_offload")
            return
        if self.options.cpu_offload:
            logger.warning("cpu_offload ignored: the pipeline already runs on the CPU")
        pipe.to(device)

    def _apply_speed_switches(self, pipe: Any, device: str, compile_: bool) -> None:
        kind = type(pipe).__name__
        vae: Any = getattr(pipe, "vae", None)
        transformer: Any = getattr(pipe, "transformer", None)
        if self.options.vae_tiling:
            if hasattr(vae, "enable_tiling"):
                vae.enable_tiling()
                self._speedups.append("vae_tiling")
            else:
                logger.warning("vae_tiling ignored: %s has no tiling VAE", kind)
        if self.options.fp8:
            self._quantise_fp8(transformer, device)
        # The cache hooks go on before compiling so the compiled blocks see them.
        if self.options.first_block_cache is not None or self.options.mag_cache is not None:
            if hasattr(transformer, "enable_cache"):
                self._set_cache(transformer, True, self.preset.steps)
            else:
                self._refuse("cache", f"{kind} has no cacheable transformer")
        if compile_:
            if device == "cpu":
                self._refuse("compile", "not on the CPU (compiling costs more than it saves)")
            elif hasattr(transformer, "compile_repeated_blocks"):
                # The cache hooks branch on Python state (a graph break), so with them the blocks
                # cannot compile to one graph; without them fullgraph catches accidental breaks.
                try:
                    transformer.compile_repeated_blocks(fullgraph=self._cache_config is None)
                    self._speedups.append("compile")
                except ValueError as exc:  # the model declares no repeated blocks
                    self._refuse("compile", short_error(exc))
            else:
                self._refuse("compile", f"{kind} has no regionally compilable transformer")

    def _refuse(self, switch: str, reason: str) -> None:
        logger.warning("%s ignored: %s", switch, reason)
        self._refused[switch] = reason

    def _quantise_fp8(self, transformer: Any, device: str) -> None:
        """torchao's float8 dynamic activation + weight quantisation of the transformer, where the
        GPU has float8 matmuls (compute capability 8.9+: Ada, Hopper, Blackwell)."""
        import torch

        if not device.startswith("cuda"):
            return self._refuse("fp8", "FP8 needs a CUDA GPU of compute capability 8.9 or newer")
        capability = torch.cuda.get_device_capability(torch.device(device))
        if capability < (8, 9):
            major, minor = capability
            return self._refuse("fp8", f"this GPU (sm {major}.{minor}) has no float8 matmuls")
        try:
            from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, quantize_
        except ImportError:
            return self._refuse("fp8", "torchao is not installed (pip install torchao)")
        try:
            quantize_(transformer, Float8DynamicActivationFloat8WeightConfig())
        except Exception as exc:
            return self._refuse("fp8", short_error(exc))
        self._speedups.append("fp8")

    def _set_cache(self, transformer: Any, on: bool, steps: int) -> None:
        """The final tier's step cache on (configured for `steps`) or off (drafts)."""
        import diffusers

        if on and self._cache_on and (self.options.mag_cache is None or steps == self._cache_steps):
            return
        if self._cache_on:
            transformer.disable_cache()
            self._cache_on = False
        if not on:
            return
        config: Any
        if self.options.mag_cache is not None:
            if not hasattr(diffusers, "MagCacheConfig"):
                return self._refuse("mag_cache", "this diffusers has no MagCache")
            mag_config: Any = diffusers.MagCacheConfig
            config = mag_config(
                threshold=self.options.mag_cache_threshold,
                num_inference_steps=steps,
                mag_ratios=list(self.options.mag_cache),
            )
        else:
            fbc_config: Any = diffusers.FirstBlockCacheConfig
            config = fbc_config(threshold=self.options.first_block_cache)
        try:
            transformer.enable_cache(config)
        except ValueError as exc:  # diffusers' "not supported" for this model
            self._cache_config = None
            return self._refuse(self._cache_name, short_error(exc))
        self._cache_config, self._cache_on, self._cache_steps = config, True, steps

    @property
    def _cache_name(self) -> str:
        return "mag_cache" if self.options.mag_cache is not None else "first_block_cache"

    def _use_scheduler(self, pipe: Any, shift: float | None) -> float | None:
        """Give `pipe` its own scheduler (finals) or one with the draft's flow shift; returns the
        shift in use, or None for the pipeline's own."""
        scheduler: Any = getattr(pipe, "scheduler", None)
        if scheduler is None:
            return None
        final, draft = self._schedulers.setdefault(id(pipe), (scheduler, None))
        if shift is None:
            pipe.scheduler = final
            return None
        config = final.config
        key = next((k for k in ("flow_shift", "shift") if k in config), None)
        if key is None:
            pipe.scheduler = final
            return None
        if draft is None or draft.config[key] != shift:
            draft = type(final).from_config(config, **{key: shift})
            self._schedulers[id(pipe)] = (final, draft)
        pipe.scheduler = draft
        return shift

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        """Render one shot. Blocks; call it off the event loop."""
        check_request(request, self.preset)
        with self._lock:
            if cancel is not None and cancel.cancelled:
                raise RenderCancelled("The render was cancelled before it started.")
            self._load()
            if self._needs_first_frame and request.first_frame is None:
                raise InvalidRenderRequest(
                    f"{type(self._pipe).__name__} ({self.model}) only animates a still: "
                    "the shot needs a first frame."
                )
            return self._render(request, progress, cancel)

    def _conditioning(self, request: RenderRequest) -> tuple[Any, dict[str, Any], dict[str, str]]:
        """The pipeline to call, the image arguments for it, and what the take card says about
        the request's references and first frame. Loads the images (blocking)."""
        pipe, call_params = self._pipe, self._call_params
        size = (request.width, request.height)
        kwargs: dict[str, Any] = {}
        takes_references = "reference_images" in call_params
        limit = (self.preset.max_references or 3) if takes_references else 0
        used, left_out = choose_references(request.references, limit)
        mode = self._first_frame_mode if request.first_frame is not None else "none"
        if mode == "sibling":
            pipe, call_params = self._first_frame_pipe()
        wanted = list(used)
        if request.first_frame is not None and mode != "none":
            wanted.append(request.first_frame)
        stills = load_stills(wanted)
        if used:
            kwargs["reference_images"] = [
                fit_on_white(stills[reference.sha256], size) for reference in used
            ]
        if request.first_frame is not None and mode != "none":
            first = fill_frame(stills[request.first_frame.sha256], size)
            if mode == "control":
                kwargs.update(_first_frame_control(first, request.frames))
            else:
                kwargs["image"] = first
        # The previz as control video; a first frame stays frame one of it, kept by the mask.
        takes_control = call_params >= _CONTROL_PARAMS
        if request.camera_control is CameraControl.PREVIZ and takes_control:
            kept = kwargs["video"][0] if mode == "control" else None
            kwargs.update(previz_control(request, first_frame=kept))
        notes = {
            "references": describe_references(used, left_out, takes_references),
            "first_frame": describe_first_frame(request.first_frame, mode != "none"),
            "camera_control": describe_camera_control(request, takes_control),
        }
        return pipe, kwargs, notes

    def _render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> RenderResult:
        import torch

        pipe, image_kwargs, notes = self._conditioning(request)
        lora_plan = plan_loras(self.options.loras, self.options.camera_loras, request.previz.motion)
        adapters = list(lora_plan.adapters)
        drafting = request.tier is Tier.DRAFT
        draft_lora = self.draft.lora if drafting and self.draft is not None else None
        if draft_lora is not None and draft_lora.name not in {a.name for a in adapters}:
            adapters.append(draft_lora)
        self.loras.activate(self._pipe, adapters)  # the sibling shares its modules
        speedups = list(self._speedups)
        transformer: Any = getattr(self._pipe, "transformer", None)
        if self._cache_config is not None or self._cache_on:
            self._set_cache(transformer, not drafting, request.steps)
            if self._cache_on:
                speedups.append(self._cache_name)
        shift = self._use_scheduler(pipe, self.draft.shift if drafting and self.draft else None)
        if draft_lora is not None:
            speedups.append("draft_lora")
        notes = {**notes, **lora_plan.notes, "tier": request.tier.value}
        if drafting:
            notes["draft_lora"] = draft_lora.label if draft_lora else "none for this model"
            if shift is not None:
                notes["draft_shift"] = f"{shift:g}"
        preview_every = self.options.preview_every
        layout = self.preset.latent_layout

        def on_step_end(
            pipeline: Any, index: int, timestep: Any, tensors: dict[str, Any]
        ) -> dict[str, Any]:
            step = index + 1
            if progress is not None:
                preview = None
                if layout is not None and preview_every and step % preview_every == 0:
                    preview = latent_preview(
                        tensors["latents"], layout, (request.width, request.height)
                    )
                total = getattr(pipeline, "num_timesteps", None) or request.steps
                progress(RenderProgress(step=step, total=total, preview=preview))
            if cancel is not None and cancel.cancelled:
                raise _Cancelled
            return tensors

        # A CPU generator gives the same noise for a seed on any device.
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        wanted: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt or None,
            "height": request.height,
            "width": request.width,
            "num_frames": request.frames,
            "num_inference_steps": request.steps,
            "guidance_scale": request.guidance,
            "frame_rate": request.fps,  # LTX conditions on it; others have no such argument
            "generator": generator,
            "output_type": "np",
            "callback_on_step_end": on_step_end,
            "callback_on_step_end_tensor_inputs": ["latents"],
        }
        call_params = frozenset(inspect.signature(pipe.__call__).parameters)
        kwargs = {key: value for key, value in wanted.items() if key in call_params}
        kwargs.update(image_kwargs)
        started = time.perf_counter()
        try:
            output = _call_pipeline(pipe, kwargs)
        except _Cancelled:
            raise RenderCancelled("The render was cancelled.") from None
        except torch.cuda.OutOfMemoryError as exc:
            raise RenderError(
                f"The GPU ran out of memory at {request.width}x{request.height}, "
                f"{request.frames} frames. Try a smaller size, fewer frames or cpu_offload."
            ) from exc
        seconds = time.perf_counter() - started
        frames = _to_uint8_video(output.frames[0])
        logger.info(
            "rendered %d frames %dx%d in %.1f s with %s",
            frames.shape[0],
            request.width,
            request.height,
            seconds,
            self.model,
        )
        return RenderResult(
            frames=frames,
            fps=request.fps,
            seconds=seconds,
            model=self.model,
            info={
                "preset": self.preset.name,
                "source": self.source,
                "device": self._device,
                "dtype": self._dtype,
                "steps": request.steps,
                "guidance": request.guidance,
                "seed": request.seed,
                "speedups": speedups,
                **({"speedups_refused": dict(self._refused)} if self._refused else {}),
                **notes,
            },
        )


def _first_frame_control(first: Image.Image, frames: int) -> dict[str, Any]:
    """VACE's first-frame task: a control video holding the still then neutral grey, with a mask
    that keeps frame one (black) and generates the rest (white)."""
    from PIL import Image

    grey = Image.new("RGB", first.size, (128, 128, 128))
    keep = Image.new("L", first.size, 0)
    generate = Image.new("L", first.size, 255)
    return {
        "video": [first] + [grey] * (frames - 1),
        "mask": [keep.convert("RGB")] + [generate.convert("RGB")] * (frames - 1),
    }
