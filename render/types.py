"""Plain render requests and results: the only shapes the camera shares with the rest of Slate.

Nothing here knows about projects or shots; the production service turns a shot into a
`RenderRequest` (prompt plus a `Previz` card of plain strings for the animatic).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

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


@dataclass(frozen=True)
class Previz:
    """What the animatic needs to stage a shot: plain strings, no domain types."""

    number: str = "1"
    size: str = "medium shot"
    angle: str = "eye level"
    movement: str = "static"
    direction: str = ""
    speed: str = "medium"
    action: str = ""
    location: str = ""
    int_ext: str = "INT"
    time_of_day: str = "DAY"
    characters: tuple[str, ...] = ()
    look: str = ""  # the style's palette in words ("monochrome black and white", "neon")


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

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    def cache_key(self, salt: str = "") -> str:
        """Content address: identical requests share one clip. `salt` names whatever else changes
        the pixels (the renderer's configuration); the empty salt keeps the plain request's key."""
        data: dict[str, Any] = asdict(self)
        if salt:
            data["_salt"] = salt
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:32]


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
