"""Renderers for the farm's tests. They run inside Ray actors (other processes), so the test talks
to them through files in a folder: `open` lets renders finish, logs say what they did."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from render.animatic import AnimaticRenderer
from render.types import (
    CancelToken,
    ModelLoadError,
    ProgressCallback,
    RenderCancelled,
    Renderer,
    RenderError,
    RenderProgress,
    RenderRequest,
    RenderResult,
)


def log_line(folder: Path, name: str, line: str) -> None:
    with open(folder / name, "a", encoding="utf-8") as file:
        file.write(line + "\n")


def lines(folder: Path, name: str) -> list[str]:
    path = folder / name
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


class GatedFileRenderer:
    """Step 1 at once (with a preview); step 2 once `folder/open` exists. Model "oom" fails as a
    renderer does, "boom" crashes."""

    name = "gated"

    def __init__(self, folder: Path, model: str) -> None:
        self.folder = folder
        self.model = model

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        log_line(self.folder, "started.log", f"{request.prompt} {os.getpid()}")
        if progress is not None:
            progress(RenderProgress(1, 2, Image.new("RGB", (8, 8), "red")))
        while not (self.folder / "open").exists():
            if cancel is not None and cancel.cancelled:
                log_line(self.folder, "cancelled.log", request.prompt)
                raise RenderCancelled("cancelled")
            time.sleep(0.005)
        if self.model == "oom":
            raise RenderError("Out of GPU memory: try a smaller size.")
        if self.model == "boom":
            raise RuntimeError("CUDA kernel exploded")
        log_line(self.folder, "rendered.log", request.prompt)
        if progress is not None:
            progress(RenderProgress(2, 2))
        frames = np.full((3, 64, 64, 3), 40, np.uint8)
        return RenderResult(frames=frames, fps=8, seconds=0.0, model=self.name, info={"fake": True})


@dataclass(frozen=True)
class NoisyRenderer:
    """Renders at once, but its frames are noise, slow to encode: developing a take takes a
    while. Notes the wall-clock time each render starts (`renders.log`: prompt, time)."""

    folder: Path
    name = "noisy"

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        started = time.time()
        log_line(self.folder, "renders.log", f"{request.prompt} {started}")
        if progress is not None:
            progress(RenderProgress(1, 1, Image.new("RGB", (640, 360), "blue")))
        noise = np.random.default_rng(request.seed).integers(0, 255, (48, 240, 320, 3), np.uint8)
        return RenderResult(frames=noise, fps=16, seconds=time.time() - started, model=self.name)


@dataclass(frozen=True)
class FarmTestLoader:
    """A picklable loader: what a farm actor needs to build its renderers. `gate_all`: every
    model (the animatic too) renders gated, for a production whose renders must wait."""

    folder: str
    gate_all: bool = False

    def __call__(self, model: str, worker: int) -> Renderer:
        log_line(Path(self.folder), "loads.log", f"{model} {worker} {os.getpid()}")
        if model == "broken":
            raise ModelLoadError("The model 'broken' could not be loaded.")
        if model == "animatic" and not self.gate_all:
            return AnimaticRenderer()
        if model == "noisy":
            return NoisyRenderer(Path(self.folder))
        return GatedFileRenderer(Path(self.folder), model)
