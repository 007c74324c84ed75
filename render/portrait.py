"""Portraits for casting: candidate stills of a character, place or prop from its description.

Two renderers share one entry, `render(request) -> list[PIL.Image.Image]`:

- `DiffusersPortraits` runs a diffusers text-to-image pipeline from a preset, a hub id or a local
  folder (the pipeline class comes from the folder's model_index.json). The presets are open
  models that diffusers drives natively, chosen for a casting gallery where a director picks
  among a few candidates:

  * ``flux2-klein-4b`` (default; FLUX.2 [klein] 4B, Apache-2.0): step- and guidance-distilled, so a
    1024 px candidate takes 4 steps, runs on a consumer GPU (~13 GB), and the same model edits
    from reference images later (character sheets from a picked face).
  * ``qwen-image`` (Qwen-Image 20B, Apache-2.0): the best prompt following and text rendering of
    the open models; needs a large GPU, 50 steps with true CFG.
  * ``sdxl`` (SDXL base 1.0, CreativeML Open RAIL++-M): small, well known, huge LoRA ecosystem,
    runs almost anywhere; weaker prompt following.

  Non-commercial models (FLUX.1 [dev], FLUX.2 [klein] 9B, FLUX Kontext) are deliberately not
  presets; any of them can still be named by hub id or folder.
- `AnimaticPortraits` draws a portrait card offline: a stylised figure in the colour the animatic
  gives that name, the name and the description. The whole cast flow works without weights.

torch and diffusers are imported on the first diffusers render only.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import re
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from render.diffusers import DiffusersOptions, load_pipeline, resolve_source, short_error
from render.types import CancelToken, InvalidRenderRequest, ModelLoadError, RenderCancelled

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

MAX_PORTRAITS = 8
MIN_SIDE = 256
MAX_SIDE = 2048


@dataclass(frozen=True)
class PortraitRequest:
    """Candidates to cast from. `prompt` is the element's description; `name` labels the offline
    card. Candidate i is rendered with seed `seed + i`, so a pick can be rendered again alone."""

    prompt: str
    negative_prompt: str = ""
    width: int = 768
    height: int = 1024
    seed: int = 0
    count: int = 4
    model: str = "animatic"  # "animatic", a portrait preset, a hub id or a local folder
    name: str = ""
    steps: int | None = None  # None: the preset's
    guidance: float | None = None  # None: the preset's


class PortraitRenderer(Protocol):
    name: str

    def render(
        self, request: PortraitRequest, cancel: CancelToken | None = None
    ) -> list[Image.Image]: ...


@dataclass(frozen=True)
class PortraitPreset:
    name: str
    hub_id: str | None
    label: str
    steps: int
    guidance: float
    size_multiple: int
    # The call argument that carries the guidance: most pipelines take `guidance_scale`;
    # Qwen-Image's real classifier-free guidance is `true_cfg_scale` (and needs a negative prompt).
    guidance_arg: str = "guidance_scale"


PORTRAIT_PRESETS: dict[str, PortraitPreset] = {
    preset.name: preset
    for preset in (
        PortraitPreset(
            name="flux2-klein-4b",
            hub_id="black-forest-labs/FLUX.2-klein-4B",
            label="FLUX.2 klein",
            steps=4,
            guidance=1.0,
            size_multiple=16,
        ),
        PortraitPreset(
            name="qwen-image",
            hub_id="Qwen/Qwen-Image",
            label="Qwen-Image",
            steps=50,
            guidance=4.0,
            size_multiple=16,
            guidance_arg="true_cfg_scale",
        ),
        PortraitPreset(
            name="sdxl",
            hub_id="stabilityai/stable-diffusion-xl-base-1.0",
            label="SDXL",
            steps=30,
            guidance=7.0,
            size_multiple=8,
        ),
    )
}
DEFAULT_PORTRAIT_PRESET = "flux2-klein-4b"
GENERIC_PORTRAIT_PRESET = PortraitPreset(
    name="generic", hub_id=None, label="This model", steps=30, guidance=5.0, size_multiple=8
)
_PIPELINE_PRESETS = {
    "Flux2KleinPipeline": "flux2-klein-4b",
    "QwenImagePipeline": "qwen-image",
    "StableDiffusionXLPipeline": "sdxl",
}
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def resolve_portrait_model(model: str) -> tuple[str, PortraitPreset]:
    """Map a portrait preset, hub id or folder to what `from_pretrained` loads and its rules."""
    return resolve_source(
        model,
        PORTRAIT_PRESETS,
        _portrait_preset_from_folder,
        GENERIC_PORTRAIT_PRESET,
        "portrait model",
    )


def _portrait_preset_from_folder(folder: Path) -> PortraitPreset:
    index_file = folder / "model_index.json"
    try:
        class_name = str(json.loads(index_file.read_text()).get("_class_name", ""))
    except FileNotFoundError:
        raise ModelLoadError(
            f"{folder} is not a diffusers pipeline folder (it has no model_index.json)."
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Could not read {index_file}: {exc}") from exc
    preset_name = _PIPELINE_PRESETS.get(class_name)
    return PORTRAIT_PRESETS[preset_name] if preset_name else GENERIC_PORTRAIT_PRESET


def check_portrait_request(request: PortraitRequest, size_multiple: int = 8) -> None:
    """Raise `InvalidRenderRequest` naming every problem with `request` at once."""
    problems = []
    if not request.prompt.strip():
        problems.append("The description is empty.")
    if not 1 <= request.count <= MAX_PORTRAITS:
        problems.append(f"Ask for 1 to {MAX_PORTRAITS} portraits; got {request.count}.")
    width, height = request.width, request.height
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
        problems.append(
            f"Portraits must be {MIN_SIDE} to {MAX_SIDE} px a side; got {width}x{height}."
        )
    elif width % size_multiple or height % size_multiple:
        problems.append(
            f"Portrait width and height must be multiples of {size_multiple}; got {width}x{height}."
        )
    if request.steps is not None and not 1 <= request.steps <= 200:
        problems.append(f"Steps must be between 1 and 200; got {request.steps}.")
    if request.guidance is not None and not (
        math.isfinite(request.guidance) and request.guidance >= 0
    ):
        problems.append(f"Guidance must be 0 or more; got {request.guidance}.")
    if not 0 <= request.seed < 2**63 - MAX_PORTRAITS:
        problems.append(f"Seed must be between 0 and 2^63-{MAX_PORTRAITS + 1}; got {request.seed}.")
    if problems:
        raise InvalidRenderRequest(" ".join(problems))


class DiffusersPortraits:
    """Text-to-image candidates from one diffusers pipeline, loaded on first use and kept."""

    def __init__(
        self, model: str = DEFAULT_PORTRAIT_PRESET, options: DiffusersOptions | None = None
    ) -> None:
        self.model = model
        self.options = options or DiffusersOptions()
        self.source, self.preset = resolve_portrait_model(model)
        self.name = f"diffusers:{model}"
        self.load_count = 0
        self._pipe: Any = None
        self._call_params: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    def _load(self) -> None:
        if self._pipe is not None:
            return
        started = time.perf_counter()
        pipe, device, _ = load_pipeline(
            self.model,
            self.source,
            self.options,
            needs="Portraits from a model need",
            otherwise="or draw the candidates offline (SLATE_PORTRAIT_MODEL=animatic)",
        )
        call_params = frozenset(inspect.signature(pipe.__call__).parameters)
        if "num_frames" in call_params or not {"prompt", "height", "width"} <= call_params:
            raise ModelLoadError(
                f"{type(pipe).__name__} ({self.model}) is not a text-to-image pipeline."
            )
        try:
            if self.options.cpu_offload and device != "cpu":
                pipe.enable_model_cpu_offload(device=device)
            else:
                pipe.to(device)
        except Exception as exc:
            raise ModelLoadError(
                f"Could not move {self.model!r} to {device}: {short_error(exc)}."
            ) from exc
        pipe.set_progress_bar_config(disable=True)
        self._pipe, self._call_params = pipe, call_params
        self.load_count += 1
        logger.info("loaded portraits %s in %.1f s", self.model, time.perf_counter() - started)

    def render(
        self, request: PortraitRequest, cancel: CancelToken | None = None
    ) -> list[Image.Image]:
        """`request.count` candidates, one pipeline call each (seed, seed+1, ...). Blocks."""
        check_portrait_request(request, self.preset.size_multiple)
        with self._lock:
            self._load()
            return [
                self._one(request, request.seed + index, cancel) for index in range(request.count)
            ]

    def _one(self, request: PortraitRequest, seed: int, cancel: CancelToken | None) -> Image.Image:
        import torch

        if cancel is not None and cancel.cancelled:
            raise RenderCancelled("The portraits were cancelled.")
        preset = self.preset
        negative = request.negative_prompt
        if preset.guidance_arg == "true_cfg_scale" and not negative:
            negative = " "  # Qwen-Image runs CFG only with a negative prompt, even a blank one
        wanted: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": negative or None,
            "width": request.width,
            "height": request.height,
            "num_inference_steps": request.steps or preset.steps,
            preset.guidance_arg: (
                request.guidance if request.guidance is not None else preset.guidance
            ),
            "num_images_per_prompt": 1,
            "generator": torch.Generator(device="cpu").manual_seed(seed),
            "output_type": "pil",
        }
        kwargs = {key: value for key, value in wanted.items() if key in self._call_params}
        with torch.inference_mode():
            image: Image.Image = self._pipe(**kwargs).images[0]
        return image.convert("RGB")


class AnimaticPortraits:
    """Offline portrait cards: the figure the animatic draws for this name (same colour), framed
    head and shoulders on a backdrop that varies by candidate, with the name and description."""

    name = "animatic"

    def render(
        self, request: PortraitRequest, cancel: CancelToken | None = None
    ) -> list[Image.Image]:
        check_portrait_request(request, 2)
        cards = []
        for index in range(request.count):
            if cancel is not None and cancel.cancelled:
                raise RenderCancelled("The portraits were cancelled.")
            cards.append(_card(request, request.seed + index))
        return cards


def _card(request: PortraitRequest, seed: int) -> Image.Image:
    import numpy as np
    from PIL import Image, ImageDraw

    # The animatic's own drawing, so a character's card and its figure on the set match.
    from render.animatic import _character_colour, _draw_figure, _font, _gradient, _rgb, _shade

    width, height = request.width, request.height
    name = request.name.strip() or "?"
    digest = hashlib.sha256(f"portrait\x1f{name.lower()}\x1f{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    figure = _character_colour(name)
    top, bottom = _rgb(rng.integers(30, 120, 3)), _rgb(rng.integers(120, 230, 3))
    card = Image.fromarray(np.ascontiguousarray(_gradient(height, width, top, bottom)))
    draw = ImageDraw.Draw(card)
    # Head and shoulders: a figure twice the card's height, its head in the upper third.
    figure_h = height * 2.0
    offset = (float(rng.uniform(-0.08, 0.08))) * width
    _draw_figure(
        draw, width / 2 + offset, height * 0.12, figure_h, name, height * 3, show_name=False
    )
    band_top = int(height * 0.72)
    draw.rectangle((0, band_top, width, height), fill=_shade(figure, 0.35))
    pad = max(8, width // 24)
    title = _font(max(16, height // 14))
    draw.text((pad, band_top + pad), name, font=title, fill=(255, 255, 255))
    body = _font(max(12, height // 32))
    line_h = max(14, height // 28)
    chars = max(12, int(width / max(12, height // 32) * 1.8))
    y = band_top + pad + max(18, height // 12)
    for line in textwrap.wrap(" ".join(request.prompt.split()), chars)[:4]:
        draw.text((pad, y), line, font=body, fill=(230, 230, 230))
        y += line_h
    return card
