"""LoRAs on model presets: style or subject LoRAs on every render, camera LoRAs chosen by the move.

A `LoraSpec` names one LoRA (a hub id or a local file or folder, the weight file inside it, a
scale, an adapter name). A `LoraRack` keeps a loaded pipeline's adapters: each LoRA is loaded once
per worker (`load_lora_weights`), and every render only switches which are active
(`set_adapters`, or `disable_lora` when none are), so changing adapters between shots never
reloads the base model.

Settings carry LoRAs as text, parsed by `parse_loras`:

    SLATE_LORAS="org/style-lora:style.safetensors@0.8#noir, /loras/grain.safetensors@0.5"
    SLATE_CAMERA_LORAS="ltx-2"        (LTX-2's camera-control LoRAs), or
    SLATE_CAMERA_LORAS="dolly in=org/push:push.safetensors@1.0, crane up=/loras/jib-up"
    SLATE_DRAFT_LORA="Kijai/WanVideo_comfy:Wan21_T2V_14B_lightx2v_cfg_step_distill_lora_rank32.safetensors"
                      (the draft tier's distillation LoRA; empty: the preset's own; "off": none)
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

from render.types import CameraMotion, ModelLoadError, MotionDirection, MotionKind

logger = logging.getLogger(__name__)

MAX_LORA_SCALE = 4.0


class LoraSpecError(ValueError):
    """A LoRA setting cannot be read; the message says which entry and why."""


_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class LoraSpec:
    """One LoRA: `source` is a hub id ("org/name") or a local file or folder; `weight_name` the
    .safetensors file inside a repo or folder (None: the only one there); `scale` its strength;
    `adapter_name` how the pipeline knows it (empty: made from the weight file or source)."""

    source: str
    weight_name: str | None = None
    scale: float = 1.0
    adapter_name: str = ""

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise LoraSpecError("A LoRA needs a source: a hub id, a file or a folder.")
        if not (math.isfinite(self.scale) and -MAX_LORA_SCALE <= self.scale <= MAX_LORA_SCALE):
            raise LoraSpecError(
                f"The LoRA {self.source!r} needs a scale between {-MAX_LORA_SCALE:g} and "
                f"{MAX_LORA_SCALE:g}; got {self.scale}."
            )
        if self.adapter_name and _NAME.search(self.adapter_name):
            raise LoraSpecError(
                f"The LoRA name {self.adapter_name!r} may only use letters, digits, '-' and '_'."
            )

    @property
    def name(self) -> str:
        """The adapter name: the one given, else the weight file's or source's stem."""
        if self.adapter_name:
            return self.adapter_name
        stem = PurePath(self.weight_name or self.source.rstrip("/")).stem
        return _NAME.sub("_", stem).strip("_") or "lora"

    @property
    def label(self) -> str:
        """How a take card names it: "noir (0.8)"."""
        return f"{self.name} ({self.scale:g})"


def parse_lora(text: str, where: str = "SLATE_LORAS") -> LoraSpec:
    """One `source[:weight_name][@scale][#name]` entry; raises `LoraSpecError` saying `where`."""
    entry = text.strip()
    rest, _, name = entry.partition("#")
    rest, at, scale_text = rest.rpartition("@") if "@" in rest else (rest, "", "")
    source, weight = rest, None
    # "org/repo:file.safetensors"; a Windows drive ("C:\\...") is part of the source.
    if ":" in rest and not re.match(r"^[A-Za-z]:[\\/]", rest):
        source, _, weight = rest.rpartition(":")
        if not weight:
            raise LoraSpecError(f"{where}: {entry!r} has ':' but no weight file after it.")
    scale = 1.0
    if at:
        try:
            scale = float(scale_text)
        except ValueError:
            raise LoraSpecError(
                f"{where}: the scale in {entry!r} must be a number, like @0.8; got {scale_text!r}."
            ) from None
    if not source.strip():
        raise LoraSpecError(f"{where}: {entry!r} names no LoRA before ':', '@' or '#'.")
    try:
        return LoraSpec(source.strip(), (weight or "").strip() or None, scale, name.strip())
    except LoraSpecError as exc:
        raise LoraSpecError(f"{where}: {exc}") from None


def parse_loras(text: str, where: str = "SLATE_LORAS") -> tuple[LoraSpec, ...]:
    """Comma-separated `parse_lora` entries; empty text is no LoRAs. Two with one adapter name
    are an error (the second would replace the first)."""
    specs = tuple(parse_lora(entry, where) for entry in text.split(",") if entry.strip())
    check_lora_names(specs, where)
    return specs


def check_lora_names(specs: Iterable[LoraSpec], where: str) -> None:
    """Raise `LoraSpecError` when two different LoRAs share an adapter name."""
    seen: dict[str, LoraSpec] = {}
    for spec in specs:
        other = seen.setdefault(spec.name, spec)
        if other is not spec and other != spec:
            raise LoraSpecError(
                f"{where}: two LoRAs are named {spec.name!r} ({other.source} and {spec.source}); "
                "give one a different name with #name."
            )


DraftOff = Literal["off"]


def parse_draft_lora(text: str, where: str = "SLATE_DRAFT_LORA") -> LoraSpec | DraftOff | None:
    """The draft tier's LoRA setting: empty is None (each preset's own draft LoRA), "off" turns
    the draft tier off, anything else is one `parse_lora` entry."""
    text = text.strip()
    if not text:
        return None
    if text.lower() in ("off", "none"):
        return "off"
    if "," in text:
        raise LoraSpecError(f"{where}: the draft tier takes one LoRA; got {text!r}.")
    return parse_lora(text, where)


MoveKey = tuple[MotionKind, MotionDirection]

_LTX2 = "Lightricks/LTX-2-19b-LoRA-Camera-Control-"
# LTX-2's camera-control LoRAs (LTX-2 community licence: read its terms before shipping). Its
# "dolly left/right" slide the camera sideways: a truck.
LTX2_CAMERA_LORAS: Mapping[MoveKey, LoraSpec] = {
    (MotionKind.DOLLY, MotionDirection.IN): LoraSpec(_LTX2 + "Dolly-In", adapter_name="dolly-in"),
    (MotionKind.DOLLY, MotionDirection.OUT): LoraSpec(
        _LTX2 + "Dolly-Out", adapter_name="dolly-out"
    ),
    (MotionKind.TRUCK, MotionDirection.LEFT): LoraSpec(
        _LTX2 + "Dolly-Left", adapter_name="dolly-left"
    ),
    (MotionKind.TRUCK, MotionDirection.RIGHT): LoraSpec(
        _LTX2 + "Dolly-Right", adapter_name="dolly-right"
    ),
    (MotionKind.CRANE, MotionDirection.UP): LoraSpec(_LTX2 + "Jib-Up", adapter_name="jib-up"),
    (MotionKind.CRANE, MotionDirection.DOWN): LoraSpec(_LTX2 + "Jib-Down", adapter_name="jib-down"),
    (MotionKind.STATIC, MotionDirection.NONE): LoraSpec(_LTX2 + "Static", adapter_name="static"),
}
CAMERA_LORA_SETS: Mapping[str, Mapping[MoveKey, LoraSpec]] = {"ltx-2": LTX2_CAMERA_LORAS}


def move_key(motion: CameraMotion) -> MoveKey:
    """A move as camera LoRAs are keyed: its kind and the way it actually goes."""
    return motion.kind, motion.heading


def _move_from_label(label: str, where: str) -> MoveKey:
    words = " ".join(label.lower().split())
    for kind in MotionKind:
        for direction in (*kind.directions, MotionDirection.NONE):
            if f"{kind.value} {direction.value}".strip() == words:
                return move_key(CameraMotion(kind, direction))
    raise LoraSpecError(
        f"{where}: {label.strip()!r} is not a camera move; write it as the slate does, "
        "like 'dolly in', 'truck left', 'crane up' or 'static'."
    )


def parse_camera_loras(text: str, where: str = "SLATE_CAMERA_LORAS") -> dict[MoveKey, LoraSpec]:
    """A named set ("ltx-2") or comma-separated `move=lora` entries ("dolly in=org/x@0.9")."""
    text = text.strip()
    if text.lower() in CAMERA_LORA_SETS:
        return dict(CAMERA_LORA_SETS[text.lower()])
    moves: dict[MoveKey, LoraSpec] = {}
    for entry in (part for part in text.split(",") if part.strip()):
        label, equals, spec = entry.partition("=")
        if not equals:
            sets = ", ".join(CAMERA_LORA_SETS)
            raise LoraSpecError(
                f"{where}: {entry.strip()!r} needs the form 'move=lora' "
                f"(like 'dolly in=org/name@0.8'), or a named set: {sets}."
            )
        key = _move_from_label(label, where)
        if key in moves:
            raise LoraSpecError(f"{where}: {label.strip()!r} has two LoRAs.")
        moves[key] = parse_lora(spec, where)
    check_lora_names(moves.values(), where)
    return moves


@dataclass(frozen=True)
class LoraPlan:
    """What one render runs with: the adapters to activate and the take card's lines."""

    adapters: tuple[LoraSpec, ...]
    notes: dict[str, str] = field(default_factory=dict)


def plan_loras(
    loras: Sequence[LoraSpec],
    camera_loras: Mapping[MoveKey, LoraSpec],
    motion: CameraMotion,
) -> LoraPlan:
    """The preset's LoRAs plus the camera LoRA for `motion`, if one is set for it."""
    adapters = list(loras)
    if not camera_loras:
        camera_note = "off"
    elif (spec := camera_loras.get(move_key(motion))) is not None:
        if spec.name not in {other.name for other in adapters}:
            adapters.append(spec)
        camera_note = f"{spec.label} for {motion.label}"
    else:
        camera_note = f"none for {motion.label}: the prompt carries the move"
    used = ", ".join(spec.label for spec in adapters) or "none"
    return LoraPlan(tuple(adapters), {"loras": used, "camera_lora": camera_note})


class LoraRack:
    """A loaded pipeline's LoRAs: each loaded once, then only switched on and off per render.

    Not thread-safe: the renderer calls it under its own lock, as it calls the pipeline."""

    def __init__(self) -> None:
        self.loaded: dict[str, LoraSpec] = {}  # adapter name -> what was loaded under it
        self.load_calls = 0  # `load_lora_weights` calls: one per adapter in a healthy worker
        self._enabled = True

    def activate(self, pipe: Any, adapters: Sequence[LoraSpec]) -> None:
        """Make exactly `adapters` active on `pipe` (loading any new one), or none."""
        if adapters and not hasattr(pipe, "load_lora_weights"):
            raise ModelLoadError(f"{type(pipe).__name__} takes no LoRAs.")
        for spec in adapters:
            self._load(pipe, spec)
        if not adapters:
            if self.loaded and self._enabled:
                pipe.disable_lora()
                self._enabled = False
            return
        if not self._enabled:
            pipe.enable_lora()
            self._enabled = True
        pipe.set_adapters([spec.name for spec in adapters], [spec.scale for spec in adapters])

    def _load(self, pipe: Any, spec: LoraSpec) -> None:
        known = self.loaded.get(spec.name)
        if known is not None:
            if (known.source, known.weight_name) != (spec.source, spec.weight_name):
                raise ModelLoadError(
                    f"Two LoRAs share the name {spec.name!r} ({known.source} and "
                    f"{spec.source}); give one a different name."
                )
            return
        kwargs: dict[str, Any] = {"adapter_name": spec.name}
        if spec.weight_name:
            kwargs["weight_name"] = spec.weight_name
        logger.info("loading LoRA %s from %s", spec.name, spec.source)
        self.load_calls += 1
        try:
            pipe.load_lora_weights(spec.source, **kwargs)
        except Exception as exc:
            text = str(exc).strip().splitlines()
            reason = text[0][:200] if text else type(exc).__name__
            raise ModelLoadError(
                f"Could not load the LoRA {spec.name!r} from {spec.source}: {reason.rstrip('.')}."
            ) from exc
        self.loaded[spec.name] = spec
