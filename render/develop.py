"""Developing a render into a take: its poster, its clip, and the camera move measured in it.

The one step after denoising that every executor runs (a worker thread, a farm actor), so a take
is written and checked the same way wherever it was rendered.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from render import encode
from render.encode import encode_clip, write_poster
from render.types import RenderRequest, RenderResult

log = logging.getLogger(__name__)


def develop(
    request: RenderRequest, result: RenderResult, clip: Path, poster: Path
) -> dict[str, Any]:
    """Write the poster, then the clip (the clip last: it marks the take done), and return the
    take's info: the renderer's own, how long developing took (`develop_seconds`), and `motion`:
    the move measured in the frames, what was asked and whether they agree (see render.motion)."""
    started = time.perf_counter()
    write_poster(result.frames, poster)
    encode_clip(result.frames, result.fps, clip)
    info: dict[str, Any] = {"model": result.model, "render_seconds": result.seconds, **result.info}
    motion = measure(request, result)
    if motion is not None:
        info["motion"] = motion
    info["develop_seconds"] = round(time.perf_counter() - started, 4)
    return info


def limit_threads(count: int) -> None:
    """Develop with at most `count` CPU threads (encoder and OpenCV) in this process: a farm actor
    keeps to its CPU share."""
    import cv2

    count = max(1, count)
    encode.set_threads(count)
    cv2.setNumThreads(count)


def measure(request: RenderRequest, result: RenderResult) -> dict[str, Any] | None:
    """The take's measured move against the asked one, or None when it can't be measured (a
    still, a clip too short): the take is still good, only unchecked."""
    from render.motion import MeasuredMotion, measure_take  # OpenCV: loaded on the first take

    if len(result.frames) < 2:
        return None
    try:
        measured: MeasuredMotion = measure_take(result)
    except ValueError as error:
        log.info("could not measure the move of a take: %s", error)
        return None
    asked = request.previz.motion
    return {
        **measured.to_data(),
        "asked": asked.label,
        "measured": measured.named_for(asked),
        "matches": measured.matches(asked),
    }
