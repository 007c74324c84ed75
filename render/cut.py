"""The final cut, its OpenTimelineIO timeline and a storyboard contact sheet.

All blocking; async callers run these in a worker thread.
"""

from __future__ import annotations

import logging
import math
import os
import textwrap
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import opentimelineio as otio
from PIL import Image, ImageDraw, ImageFont

from render.encode import ClipWriter, decode_frames, even_frame, temp_sibling

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CutEntry:
    clip: Path
    duration_s: float
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)  # JSON-able: shot id, prompt, seed...


@dataclass(frozen=True)
class SheetEntry:
    image: Path | Image.Image
    number: str
    size: str
    movement: str
    action: str


@dataclass(frozen=True)
class _StreamShape:
    codec: str
    width: int
    height: int
    pix_fmt: str
    rate: Fraction
    time_base: Fraction


def _shape(path: Path) -> _StreamShape:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        return _StreamShape(
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            pix_fmt=ctx.pix_fmt or "",
            rate=Fraction(stream.average_rate or stream.guessed_rate or 0),
            time_base=Fraction(stream.time_base or 0),
        )


def final_cut(clips: list[Path], out: Path) -> Path:
    """Join clips in order into `out`; stream copy when they match, else re-encode to the first's shape."""
    if not clips:
        raise ValueError("a cut needs at least one clip")
    clips = [Path(c) for c in clips]
    shapes = [_shape(c) for c in clips]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if all(s == shapes[0] for s in shapes):
        _concat_copy(clips, out)
    else:
        log.info("final cut: clips differ in shape, re-encoding %d clips", len(clips))
        _concat_reencode(clips, shapes, out)
    return out


def _concat_copy(clips: list[Path], out: Path) -> None:
    """Remux packets, shifting each clip's timestamps by the running end of the cut."""
    tmp = temp_sibling(out)
    with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
        out_stream = None
        offset = 0  # in the inputs' (shared) stream time base
        for clip in clips:
            with av.open(str(clip)) as source:
                in_stream = source.streams.video[0]
                if out_stream is None:
                    out_stream = output.add_stream_from_template(in_stream)
                end = offset
                for packet in source.demux(in_stream):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    duration = packet.duration or 0
                    if packet.pts is not None:
                        end = max(end, offset + packet.pts + duration)
                        packet.pts += offset
                    packet.dts += offset
                    packet.stream = out_stream
                    output.mux(packet)
                offset = end
    os.replace(tmp, out)


def _concat_reencode(clips: list[Path], shapes: list[_StreamShape], out: Path) -> None:
    """Letterbox every clip into the first clip's size and resample it to the first's frame rate."""
    target = shapes[0]
    width, height = target.width + target.width % 2, target.height + target.height % 2
    fps = target.rate
    with ClipWriter(out, fps) as writer:
        for clip, shape in zip(clips, shapes, strict=True):
            frames = list(decode_frames(clip))
            if not frames:
                continue
            # Keep each clip's duration: pick source frames at the output rate.
            count = max(1, round(len(frames) * fps / shape.rate))
            step = float(shape.rate / fps)
            picks = np.minimum((np.arange(count) * step).astype(int), len(frames) - 1)
            cache: dict[int, np.ndarray] = {}
            for index in picks:
                if index not in cache:
                    cache = {index: _letterbox(frames[index], width, height)}
                writer.write(cache[index])


def _letterbox(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    if frame.shape[:2] == (height, width):
        return frame
    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(2, round(w * scale)), max(2, round(h * scale))
    resized = np.asarray(Image.fromarray(frame).resize((new_w, new_h), Image.Resampling.BILINEAR))
    canvas = np.zeros((height, width, 3), np.uint8)
    y, x = (height - new_h) // 2, (width - new_w) // 2
    canvas[y : y + new_h, x : x + new_w] = resized
    return even_frame(canvas)


def write_timeline(
    entries: list[CutEntry], out_path: Path, fps: float, name: str = "Slate cut"
) -> Path:
    """Write an `.otio` timeline: one clip per entry, its metadata under the "slate" key."""
    timeline = otio.schema.Timeline(name=name)
    track = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for entry in entries:
        duration = otio.opentime.RationalTime(round(entry.duration_s * fps), fps)
        track.append(
            otio.schema.Clip(
                name=entry.name,
                media_reference=otio.schema.ExternalReference(
                    target_url=Path(entry.clip).resolve().as_uri(),
                    available_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(0, fps), duration
                    ),
                ),
                source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps), duration),
                metadata={"slate": dict(entry.metadata)},
            )
        )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    otio.adapters.write_to_file(timeline, str(out_path))
    return out_path


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    width: float,
    lines: int,
) -> list[str]:
    """Greedy word wrap by measured width; the last allowed line ends in an ellipsis if cut."""
    chars = max(8, int(width / max(draw.textlength("n", font=font), 1)))
    wrapped = textwrap.wrap(" ".join(text.split()), width=chars) or [""]
    out: list[str] = []
    for line in wrapped:
        while draw.textlength(line, font=font) > width and len(line) > 1:
            line = line[:-1]
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1].rstrip()[:-1] + "…"
    return out


def contact_sheet(
    entries: list[SheetEntry],
    out_path: Path,
    columns: int = 4,
    thumb_width: int = 320,
    action_lines: int = 3,
) -> Path:
    """A storyboard PNG: key frames in a grid, each with number, size, move and wrapped action."""
    if not entries:
        raise ValueError("a contact sheet needs at least one shot")
    columns = max(1, min(columns, len(entries)))
    rows = math.ceil(len(entries) / columns)
    images = [e.image if isinstance(e.image, Image.Image) else Image.open(e.image) for e in entries]
    aspect = images[0].height / images[0].width
    thumb_h = round(thumb_width * aspect)
    gap = 12
    head_font = ImageFont.load_default(size=18)
    body_font = ImageFont.load_default(size=14)
    text_h = 8 + 24 + action_lines * 18 + 8
    cell_w, cell_h = thumb_width + gap, thumb_h + text_h + gap
    sheet = Image.new("RGB", (columns * cell_w + gap, rows * cell_h + gap), (245, 243, 238))
    draw = ImageDraw.Draw(sheet)
    for i, (entry, image) in enumerate(zip(entries, images, strict=True)):
        x = gap + (i % columns) * cell_w
        y = gap + (i // columns) * cell_h
        thumb = image.convert("RGB")
        thumb.thumbnail((thumb_width, thumb_h), Image.Resampling.LANCZOS)
        sheet.paste(
            thumb, (x + (thumb_width - thumb.width) // 2, y + (thumb_h - thumb.height) // 2)
        )
        draw.rectangle((x - 1, y - 1, x + thumb_width, y + thumb_h), outline=(40, 40, 40))
        ty = y + thumb_h + 8
        draw.text(
            (x, ty),
            f"{entry.number}  {entry.size}  ·  {entry.movement}",
            font=head_font,
            fill=(20, 20, 20),
        )
        for n, line in enumerate(_wrap(draw, entry.action, body_font, thumb_width, action_lines)):
            draw.text((x, ty + 24 + n * 18), line, font=body_font, fill=(60, 60, 60))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path, format="PNG")
    return out_path
