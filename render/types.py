"""Plain render requests and results: the only shapes the camera shares with the rest of Slate.

Nothing here knows about projects or shots; the production service turns a shot into a
`RenderRequest` (prompt plus a `Previz` card for the animatic, plus the reference images of the
characters, location and props the shot shows). The card speaks render's own small film vocabulary
below; `bot/camera.py` maps studio's vocabulary onto it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, get_args, get_origin, get_type_hints

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


class RenderError(Exception):
    """A render failed for a reason the user can act on; `str(error)` is written for them."""


class InvalidRenderRequest(RenderError, ValueError):
    """The request cannot be rendered as asked (size, frame count, steps...)."""


class ModelLoadError(RenderError):
    """The model preset, hub id or folder could not be loaded."""


class RenderCancelled(RenderError):
    """The render was cancelled before it finished."""


class Framing(StrEnum):
    """How much of the set the frame holds; the animatic scales and counts figures by it."""

    EXTREME_WIDE = "extreme wide shot"
    WIDE = "wide shot"
    FULL = "full shot"
    MEDIUM_WIDE = "medium wide shot"
    MEDIUM = "medium shot"
    MEDIUM_CLOSE_UP = "medium close-up"
    CLOSE_UP = "close-up"
    EXTREME_CLOSE_UP = "extreme close-up"
    INSERT = "insert"


class CameraAngle(StrEnum):
    EYE_LEVEL = "eye level"
    HIGH = "high angle"
    LOW = "low angle"
    OVERHEAD = "overhead"
    WORMS_EYE = "worm's-eye"
    DUTCH = "dutch angle"


class MotionKind(StrEnum):
    """What the camera body (or lens) does; which way it goes is a `MotionDirection`."""

    STATIC = "static"
    PAN = "pan"
    WHIP_PAN = "whip pan"
    TILT = "tilt"
    DOLLY = "dolly"
    TRUCK = "truck"
    PEDESTAL = "pedestal"
    CRANE = "crane"
    ARC = "arc"
    ZOOM = "zoom"
    DOLLY_ZOOM = "dolly zoom"
    HANDHELD = "handheld"
    STEADICAM = "steadicam"

    @property
    def directions(self) -> tuple[MotionDirection, ...]:
        """The directions this move can take, its usual one first; empty for moves without one."""
        return _DIRECTIONS[self]


class MotionDirection(StrEnum):
    """Which way the camera goes (the picture's content goes the other way)."""

    NONE = ""
    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"
    IN = "in"  # towards the subject
    OUT = "out"


class MotionSpeed(StrEnum):
    SLOW = "slow"
    MEDIUM = "medium"
    FAST = "fast"


class Daylight(StrEnum):
    """The light the time of day gives the set."""

    DAY = "day"
    DAWN = "dawn"
    DUSK = "dusk"
    NIGHT = "night"


class Setting(StrEnum):
    INTERIOR = "interior"
    EXTERIOR = "exterior"


_SIDEWAYS = (MotionDirection.RIGHT, MotionDirection.LEFT)
_UPWARDS = (MotionDirection.UP, MotionDirection.DOWN)
_INWARDS = (MotionDirection.IN, MotionDirection.OUT)
_DIRECTIONS: dict[MotionKind, tuple[MotionDirection, ...]] = {
    MotionKind.STATIC: (),
    MotionKind.PAN: _SIDEWAYS,
    MotionKind.WHIP_PAN: _SIDEWAYS,
    MotionKind.TILT: _UPWARDS,
    MotionKind.DOLLY: _INWARDS,
    MotionKind.TRUCK: _SIDEWAYS,
    MotionKind.PEDESTAL: _UPWARDS,
    MotionKind.CRANE: _UPWARDS,
    MotionKind.ARC: _SIDEWAYS,
    MotionKind.ZOOM: _INWARDS,
    MotionKind.DOLLY_ZOOM: (),
    MotionKind.HANDHELD: (),
    MotionKind.STEADICAM: (),
}


@dataclass(frozen=True)
class CameraMotion:
    """One camera move. `direction` NONE means the move's usual direction (a pan goes right)."""

    kind: MotionKind = MotionKind.STATIC
    direction: MotionDirection = MotionDirection.NONE
    speed: MotionSpeed = MotionSpeed.MEDIUM

    def __post_init__(self) -> None:
        if not self.direction or self.direction in self.kind.directions:
            return
        if not self.kind.directions:
            raise InvalidRenderRequest(
                f"A {self.kind} move has no direction, not even {self.direction}."
            )
        ways = " or ".join(self.kind.directions)
        raise InvalidRenderRequest(f"A {self.kind} goes {ways}, not {self.direction}.")

    @property
    def heading(self) -> MotionDirection:
        """The direction the camera actually goes: the one asked for, else the move's usual one
        (NONE for moves without a direction)."""
        if self.direction:
            return self.direction
        return self.kind.directions[0] if self.kind.directions else MotionDirection.NONE

    @property
    def label(self) -> str:
        """How a slate writes it: "dolly out", "pan right", "static"."""
        return f"{self.kind} {self.heading}".strip()


@dataclass(frozen=True)
class Previz:
    """What the animatic needs to stage a shot, in render's own vocabulary."""

    number: str = "1"
    framing: Framing = Framing.MEDIUM
    angle: CameraAngle = CameraAngle.EYE_LEVEL
    motion: CameraMotion = field(default_factory=CameraMotion)
    action: str = ""
    location: str = ""
    setting: Setting = Setting.INTERIOR
    daylight: Daylight = Daylight.DAY
    characters: tuple[str, ...] = ()
    look: str = ""  # the style's palette in words ("monochrome black and white", "neon")


class ElementKind(StrEnum):
    """What a reference image shows; renderers order and stage references by it."""

    CHARACTER = "character"
    LOCATION = "location"
    PROP = "prop"


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ReferenceImage:
    """A still the render should follow: an element's look, or a shot's first frame.

    `path` says where the image lies on this machine; `sha256` (lowercase hex of the file's bytes)
    is what it is, and only the latter enters the clip cache key, since paths differ between
    machines. `view` is the angle for references ("front", "three-quarter", "profile", "detail").
    """

    path: str
    sha256: str
    kind: ElementKind
    name: str
    view: str = "front"

    def __post_init__(self) -> None:
        if not _SHA256.match(self.sha256):
            raise InvalidRenderRequest(
                f"The reference image {self.name!r} needs its 64-character lowercase hex SHA-256; "
                f"got {self.sha256!r}."
            )
        if not self.path:
            raise InvalidRenderRequest(f"The reference image {self.name!r} has no path.")

    @classmethod
    def from_file(
        cls, path: str | Path, kind: ElementKind, name: str, view: str = "front"
    ) -> ReferenceImage:
        """Describe the image at `path`, hashing its bytes (blocking file I/O)."""
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return cls(path=str(path), sha256=digest, kind=kind, name=name, view=view)

    @property
    def label(self) -> str:
        """How a take card names it: "Mia (front)"."""
        return f"{self.name} ({self.view})"


class CameraControl(StrEnum):
    """How a render is told the shot's camera move: in the prompt's words only, or also by the
    previz (the animatic's staging and move as a control video, for models that take one)."""

    PROMPT = "prompt"
    PREVIZ = "previz"


class Tier(StrEnum):
    """How finished a render is: a DRAFT to review fast (a step- and CFG-distillation LoRA, few
    steps, guidance 1, often smaller), or the FINAL take at the model's full quality."""

    DRAFT = "draft"
    FINAL = "final"


@dataclass(frozen=True)
class RenderRequest:
    prompt: str
    negative_prompt: str = ""
    width: int = 832
    height: int = 480
    frames: int = 81
    fps: int = 16
    steps: int = 50
    guidance: float = 5.0
    seed: int = 0
    model: str = "animatic"  # "animatic", a diffusers preset name, a hub id or a local folder
    previz: Previz = field(default_factory=Previz)
    # Looks to follow (characters first by convention), for models that take references.
    references: tuple[ReferenceImage, ...] = ()
    # A still to start from (the previous take's last frame, an I2V start image).
    first_frame: ReferenceImage | None = None
    # PREVIZ: models that take a control video follow the animatic's staging and move, as
    # strongly as `control_strength` (VACE's conditioning_scale, 0 to 2; 1 is the model's own).
    camera_control: CameraControl = CameraControl.PROMPT
    control_strength: float = 1.0
    # DRAFT: the renderer adds the model's draft LoRA (render.diffusers.request_tier sets the
    # draft's steps, guidance and size); FINAL renders exactly as asked.
    tier: Tier = Tier.FINAL

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    def to_data(self) -> dict[str, Any]:
        """The request as JSON-ready data: nested dicts, lists, and enums as their string values."""
        data = _data(self)
        assert isinstance(data, dict)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RenderRequest:
        """Read what `to_data` wrote. Missing fields take their defaults (the prompt is required);
        raises `InvalidRenderRequest` on unknown fields or values of the wrong kind."""
        return _read(cls, data)

    def cache_key(self, salt: str = "") -> str:
        """Content address: identical requests share one clip. `salt` names whatever else changes
        the pixels (the renderer's configuration); the empty salt keeps the plain request's key.

        Images count by content (`sha256`), never by `path`; a request without images keeps the
        key it had before requests could carry them, and one driven by the prompt alone the key it
        had before camera control (its strength then changes nothing), and a final one the key it
        had before tiers."""
        data = self.to_data()
        del data["references"], data["first_frame"]
        del data["camera_control"], data["control_strength"], data["tier"]
        if self.tier is not Tier.FINAL:
            data["tier"] = self.tier.value
        if self.camera_control is not CameraControl.PROMPT:
            data["camera_control"] = self.camera_control.value
            data["control_strength"] = self.control_strength
        if self.references:
            data["references"] = [_without_path(image) for image in self.references]
        if self.first_frame is not None:
            data["first_frame"] = _without_path(self.first_frame)
        if salt:
            data["_salt"] = salt
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:32]


def _without_path(image: ReferenceImage) -> object:
    data = _data(image)
    assert isinstance(data, dict)
    del data["path"]
    return data


def _data(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _data(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_data(item) for item in value]
    return value


_D = TypeVar("_D")


def _read(cls: type[_D], data: object, path: str = "") -> _D:
    """Build dataclass `cls` from `data`, converting each field by its annotation; `path` names
    where `data` sits in the request ("previz.motion")."""
    if not isinstance(data, Mapping):
        raise _unreadable(path, f"expected a mapping of fields, got {data!r}")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise _unreadable(path, f"this version does not know the fields {', '.join(unknown)}")
    missing = [
        name
        for name, f in known.items()
        if name not in data and f.default is MISSING and f.default_factory is MISSING
    ]
    if missing:
        raise _unreadable(path, f"{', '.join(missing)} is missing")
    hints = get_type_hints(cls)
    prefix = f"{path}." if path else ""
    return cls(**{name: _value(hints[name], data[name], prefix + name) for name in data})


def _value(kind: Any, value: object, path: str) -> object:
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(value)
        except (ValueError, TypeError):
            options = ", ".join(repr(m.value) for m in kind)
            raise _unreadable(path, f"{value!r} is not one of {options}") from None
    if isinstance(kind, type) and is_dataclass(kind):
        return _read(kind, value, path)
    if isinstance(kind, types.UnionType) and type(None) in get_args(kind):
        if value is None:
            return None
        (inner,) = (arg for arg in get_args(kind) if arg is not type(None))
        return _value(inner, value, path)
    if get_origin(kind) is tuple and kind != tuple[str, ...]:
        item_kind = get_args(kind)[0]
        if not isinstance(value, list | tuple):
            raise _unreadable(path, f"expected a list, got {value!r}")
        return tuple(_value(item_kind, item, f"{path}[{i}]") for i, item in enumerate(value))
    if kind == tuple[str, ...]:
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise _unreadable(path, f"expected a list of names, got {value!r}")
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str) and type(value) is kind:
        return value
    raise _unreadable(path, f"expected {kind.__name__}, got {value!r}")


def _unreadable(path: str, problem: str) -> InvalidRenderRequest:
    where = f" ({path})" if path else ""
    return InvalidRenderRequest(f"The render request cannot be read{where}: {problem}.")


PREVIEW_WIDTH = 320  # px: a preview is a glance (the crew's status shows it this wide)


def glance(image: Image.Image) -> Image.Image:
    """`image` no wider than PREVIEW_WIDTH, same aspect: what the crew sees of a preview."""
    if image.width <= PREVIEW_WIDTH:
        return image
    from PIL import Image

    height = max(1, round(image.height * PREVIEW_WIDTH / image.width))
    return image.resize((PREVIEW_WIDTH, height), Image.Resampling.BILINEAR)


@dataclass(frozen=True)
class RenderProgress:
    step: int  # 1-based step just finished
    total: int
    preview: Image.Image | None = None  # cheap preview every few steps, else None


ProgressCallback = Callable[[RenderProgress], None]


class CancelToken:
    """Thread-safe flag checked by renderers between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class RenderResult:
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    fps: int
    seconds: float  # wall time of the render itself
    model: str
    info: dict[str, Any] = field(default_factory=dict)


class Renderer(Protocol):
    """One `render` entry, as diffusers pipelines have one `__call__`."""

    name: str

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult: ...
