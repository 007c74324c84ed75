"""H.264 MP4 encoding, posters, size fitting and probing (PyAV).

Everything here blocks; async callers run it in a worker thread. Files are written to a temporary
sibling and renamed into place, so a path that exists is always a complete file (the render pool's
content-addressed cache relies on that).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
from PIL import Image

from render.types import RenderError

log = logging.getLogger(__name__)

DEFAULT_CRF = 21
DEFAULT_PRESET = "veryfast"
# Re-encode ladder for fit_to_size: quality first, then resolution.
_FIT_LADDER: tuple[tuple[int, float], ...] = (
    (28, 1.0),
    (34, 1.0),
    (40, 1.0),
    (36, 0.75),
    (40, 0.5),
    (44, 0.35),
    (51, 0.25),
)
_MIN_SIDE = 16
# Threads one encode may use; 0 lets x264 take every core. A farm actor sets its CPU share here
# (`set_threads`), so actors sharing a machine don't all fight over every core.
_threads = 0


def set_threads(count: int) -> None:
    """Encode with at most `count` threads from now on (0: as many as the machine has)."""
    global _threads
    if count < 0:
        raise ValueError(f"an encoder thread count is 0 or more; got {count}")
    _threads = count


# `temp_sibling`'s names: ".<stem>.<pid>.tmp<suffix>".
_PARTIAL_NAME = re.compile(r"\..+\.(?P<pid>\d+)\.tmp(\.[^.]+)?")


class ClipTooLarge(RenderError):
    """The clip cannot be brought under the upload limit."""


@dataclass(frozen=True)
class ClipInfo:
    codec: str
    pix_fmt: str
    frames: int
    fps: float
    duration: float  # seconds
    width: int
    height: int
    size: int  # bytes


def even_frame(frame: np.ndarray) -> np.ndarray:
    """Pad an odd height/width by one edge row/column: yuv420p needs even dimensions."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if not (pad_h or pad_w):
        return frame
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def temp_sibling(path: Path) -> Path:
    # Keep the suffix so muxers and PIL still infer the format from the name; the pid tells
    # `remove_partial_files` whether the writer may still be at work.
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def remove_partial_files(folder: Path) -> int:
    """Delete the temporary files (`temp_sibling`'s names) that writers killed mid-file left in
    `folder`, and return how many. Those of a process still running (this one, or another Slate
    on the same folder) are kept. Blocking; a missing folder has none."""
    removed = 0
    try:
        entries = list(Path(folder).iterdir())
    except FileNotFoundError:
        return 0
    for path in entries:
        match = _PARTIAL_NAME.fullmatch(path.name)
        if match is None or process_running(int(match["pid"])) or not path.is_file():
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as error:  # e.g. Windows: still open in a process we could not see
            log.warning("could not remove partial file %s: %s", path, error)
            continue
        log.info("removed partial file %s", path)
        removed += 1
    return removed


def process_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return False  # no signal 0 here; a file still open elsewhere refuses to be removed
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True  # another user's process
    return True


class ClipWriter:
    """Streams RGB frames of one size into an H.264/yuv420p MP4 with `+faststart`.

    Frames with odd dimensions are padded to even ones. The file appears at `path` only on a clean
    `close()`; an exception inside the `with` block leaves nothing behind.
    """

    def __init__(
        self,
        path: Path,
        fps: int | Fraction,
        *,
        crf: int = DEFAULT_CRF,
        preset: str = DEFAULT_PRESET,
    ) -> None:
        self.path = Path(path)
        self.fps = Fraction(fps)
        self.crf = crf
        self.preset = preset
        self.frames_written = 0
        self._tmp = temp_sibling(self.path)
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None

    def _open(self, width: int, height: int) -> av.video.stream.VideoStream:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(
            str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": self.preset, "threads": str(_threads)}
        self._stream = stream
        return stream

    def write(self, frame: np.ndarray) -> None:
        frame = even_frame(np.ascontiguousarray(frame, dtype=np.uint8))
        stream = self._stream or self._open(frame.shape[1], frame.shape[0])
        if (frame.shape[1], frame.shape[0]) != (stream.width, stream.height):
            raise ValueError(
                f"frame {frame.shape[1]}x{frame.shape[0]} differs from the clip's "
                f"{stream.width}x{stream.height}"
            )
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        video_frame.pts = self.frames_written
        assert self._container is not None
        self._container.mux(stream.encode(video_frame))
        self.frames_written += 1

    def close(self) -> Path:
        if self._stream is None or self._container is None:
            raise ValueError("a clip needs at least one frame")
        self._container.mux(self._stream.encode(None))
        self._container.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self._container is not None:
            self._container.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def encode_clip(
    frames: np.ndarray | Iterable[np.ndarray],
    fps: int | Fraction,
    path: Path,
    *,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
) -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames to an H.264 MP4 at `path`; returns `path`."""
    with ClipWriter(Path(path), fps, crf=crf, preset=preset) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)


def write_poster(frames: np.ndarray, path: Path, index: int | None = None) -> Path:
    """Save one frame (the middle one unless `index` is given) as a PNG poster."""
    if len(frames) == 0:
        raise ValueError("a poster needs at least one frame")
    frame = frames[len(frames) // 2 if index is None else index]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    Image.fromarray(np.asarray(frame, dtype=np.uint8)).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def probe(path: Path) -> ClipInfo:
    """Describe the first video stream of a clip."""
    path = Path(path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
        rate = stream.average_rate or stream.guessed_rate or Fraction(0)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = frames / float(rate) if rate else 0.0
        return ClipInfo(
            codec=stream.codec_context.name,
            pix_fmt=stream.codec_context.pix_fmt or "",
            frames=frames,
            fps=float(rate),
            duration=duration,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            size=path.stat().st_size,
        )


def clip_problem(path: Path) -> str | None:
    """Why a clip can't be used (missing, empty, cut short, unreadable), or None when it is whole.
    Demuxes without decoding: a clip cut short by a kill or a full disk has fewer packets than its
    index promises, or none past the break. Blocking."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return "is empty"
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            promised = stream.frames
            found = sum(1 for packet in container.demux(stream) if packet.size)
    except FileNotFoundError:
        return "is missing"
    except (OSError, av.error.FFmpegError, IndexError) as error:
        return f"can't be read ({error.__class__.__name__})"
    if found == 0 or (promised and found < promised):
        return f"is cut short ({found} of {promised or '?'} frames)"
    return None


def decode_frames(path: Path, size: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    """Yield a clip's frames as RGB arrays, optionally scaled to `size` (width, height)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if size is None:
                yield frame.to_ndarray(format="rgb24")
            else:
                yield frame.to_ndarray(format="rgb24", width=size[0], height=size[1])


def fit_to_size(src: Path, dst: Path, max_bytes: int) -> Path:
    """Write `src` to `dst` under `max_bytes`, re-encoding with higher CRF, then smaller frames.

    Raises ClipTooLarge when even the smallest rung of the ladder does not fit.
    """
    src, dst = Path(src), Path(dst)
    info = probe(src)
    if info.size <= max_bytes:
        if src != dst:
            shutil.copyfile(src, dst)
        return dst
    fps = Fraction(info.fps).limit_denominator(1001)
    smallest = info.size
    # Every rung decodes the untouched source and writes a scratch file; `dst` is replaced only by
    # a fitting clip, so `fit_to_size(clip, clip, ...)` never degrades or loses the original.
    attempt = dst.with_name(f".{dst.stem}.fit{dst.suffix}")
    try:
        for crf, scale in _FIT_LADDER:
            width = max(_MIN_SIDE, round(info.width * scale / 2) * 2)
            height = max(_MIN_SIDE, round(info.height * scale / 2) * 2)
            size = None if scale == 1.0 else (width, height)
            encode_clip(decode_frames(src, size), fps, attempt, crf=crf, preset="faster")
            smallest = attempt.stat().st_size
            log.debug(
                "fit_to_size %s: crf %d at %dx%d -> %d bytes",
                src.name,
                crf,
                width,
                height,
                smallest,
            )
            if smallest <= max_bytes:
                os.replace(attempt, dst)
                return dst
    finally:
        attempt.unlink(missing_ok=True)
    if dst != src:
        dst.unlink(missing_ok=True)  # no stale clip from an earlier call under the name
    raise ClipTooLarge(
        f"This clip is still {smallest / 1e6:.1f} MB at the lowest quality, over the "
        f"{max_bytes / 1e6:.1f} MB limit; try a shorter shot or a smaller size."
    )
