"""Test-only renderers shared by the service and Discord tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PIL import Image

from bot.app import renderer_loader
from bot.settings import Settings
from render.types import (
    CancelToken,
    ProgressCallback,
    RenderCancelled,
    Renderer,
    RenderProgress,
    RenderRequest,
    RenderResult,
)


class GatedRenderer:
    """Holds every render until the gate opens, honouring cancellation meanwhile; then renders
    with the real renderer. With `preview`, reports it first, as a diffusion step would."""

    name = "gated"

    def __init__(
        self, gate: threading.Event, inner: Renderer, preview: Image.Image | None = None
    ) -> None:
        self.gate, self.inner, self.preview = gate, inner, preview

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        if progress is not None and self.preview is not None:
            progress(RenderProgress(step=0, total=1, preview=self.preview))
        while not self.gate.wait(0.01):
            if cancel is not None and cancel.cancelled:
                raise RenderCancelled("cancelled")
        return self.inner.render(request, progress, cancel)


def gated_loader(
    settings: Settings, gate: threading.Event, preview: Image.Image | None = None
) -> Callable[[str, int], Renderer]:
    """A drop-in for `bot.app.renderer_loader` whose renderers wait on `gate`."""
    real = renderer_loader(settings)
    return lambda model, worker=0: GatedRenderer(gate, real(model, worker), preview)
