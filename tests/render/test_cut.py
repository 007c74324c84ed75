from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image

from render.cut import CutEntry, SheetEntry, contact_sheet, final_cut, write_timeline
from render.encode import encode_clip, probe


def _clip(
    path: Path, count: int, width: int = 128, height: int = 96, fps: int = 16, shade: int = 0
) -> Path:
    frames = np.full((count, height, width, 3), shade, np.uint8)
    for i in range(count):
        frames[i, :, (i * 3) % width : (i * 3) % width + 8] = 255
    return encode_clip(frames, fps, path)


def _decoded_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _payloads(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def test_matching_clips_are_stream_copied(tmp_path: Path) -> None:
    clips = [_clip(tmp_path / f"{i}.mp4", n, shade=40 * i) for i, n in enumerate((20, 33, 7))]
    out = final_cut(clips, tmp_path / "cut.mp4")
    info = probe(out)
    assert info.frames == 60 and _decoded_count(out) == 60
    assert info.duration == pytest.approx(sum(probe(c).duration for c in clips), abs=1e-3)
    # Stream copy: the cut's packets are the clips' packets, byte for byte, in order.
    assert _payloads(out) == [p for c in clips for p in _payloads(c)]
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert frames[25][50, 100].mean() == pytest.approx(40, abs=8)  # order kept: clip 1's shade
    assert frames[55][50, 100].mean() == pytest.approx(80, abs=8)


def test_mismatched_clips_are_reencoded(tmp_path: Path) -> None:
    a = _clip(tmp_path / "a.mp4", 20)  # 1.25 s at 16 fps, 128x96
    b = _clip(tmp_path / "b.mp4", 24, width=100, height=80, fps=24)  # 1.0 s at 24 fps
    out = final_cut([a, b], tmp_path / "cut.mp4")
    info = probe(out)
    assert (info.width, info.height, info.fps) == (128, 96, 16.0)
    assert info.duration == pytest.approx(2.25, abs=1 / 16)
    assert _decoded_count(out) == 36


def test_timeline_round_trip(tmp_path: Path) -> None:
    entries = [
        CutEntry(tmp_path / "1.mp4", 4.0, "1", {"shot_id": 1, "prompt": "a diner", "seed": 7}),
        CutEntry(tmp_path / "2A.mp4", 2.5, "2A", {"shot_id": 2, "prompt": "neon", "seed": 8}),
    ]
    path = write_timeline(entries, tmp_path / "cut.otio", fps=16)
    timeline = otio.adapters.read_from_file(str(path))
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["1", "2A"]
    assert clips[1].metadata["slate"]["prompt"] == "neon"
    assert clips[0].metadata["slate"]["seed"] == 7
    assert clips[0].media_reference.target_url.endswith("1.mp4")
    assert timeline.duration().to_seconds() == pytest.approx(6.5)


def test_contact_sheet_grid(tmp_path: Path) -> None:
    key = Image.new("RGB", (160, 90), (200, 60, 60))
    key_path = tmp_path / "key.png"
    key.save(key_path)
    entries = [
        SheetEntry(key if i % 2 else key_path, str(i + 1), "MCU", "dolly in", "Mara waits. " * 12)
        for i in range(6)
    ]
    sheet = Image.open(contact_sheet(entries, tmp_path / "sheet.png", columns=4, thumb_width=160))
    two_rows = Image.open(
        contact_sheet(entries[:4], tmp_path / "one.png", columns=4, thumb_width=160)
    )
    assert sheet.width == two_rows.width and sheet.width > 4 * 160
    assert sheet.height > 2 * 90 and sheet.height == pytest.approx(2 * two_rows.height, abs=12)
    pixels = np.asarray(sheet)
    assert (pixels[20:60, 20:100] == (200, 60, 60)).all()  # first key frame, top left
    below = pixels[12 + 90 + 8 : 12 + 90 + 60, 12 : 12 + 160]
    assert (below < 100).any()  # caption text under it
