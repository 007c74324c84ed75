from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from render.encode import (
    ClipTooLarge,
    clip_problem,
    encode_clip,
    fit_to_size,
    probe,
    remove_partial_files,
    temp_sibling,
    write_poster,
)

REPO = Path(__file__).resolve().parents[2]


def _frames(count: int, width: int, height: int, noise: bool = False) -> np.ndarray:
    if noise:  # incompressible: makes size limits bite
        return np.random.default_rng(0).integers(0, 256, (count, height, width, 3), dtype=np.uint8)
    frames = np.zeros((count, height, width, 3), np.uint8)
    frames[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)
    for i in range(count):
        frames[i, height // 4 : height // 2, (i * 4) % width : (i * 4) % width + 12] = 255
    return frames


def _top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        boxes.append(kind.decode("latin-1"))
        offset += size
    return boxes


def test_encode_h264_yuv420p_faststart(tmp_path: Path) -> None:
    clip = encode_clip(_frames(24, 160, 96), 16, tmp_path / "shot.mp4")
    info = probe(clip)
    assert (info.codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 160, 96)
    assert info.frames == 24 and info.fps == 16.0
    assert info.duration == pytest.approx(1.5)
    assert info.size == clip.stat().st_size
    boxes = _top_level_boxes(clip)
    assert boxes.index("moov") < boxes.index("mdat")
    with av.open(str(clip)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 24
    assert decoded[0].shape == (96, 160, 3)
    assert (
        np.abs(decoded[5].astype(int) - _frames(24, 160, 96)[5]).mean() < 6
    )  # close to the source


def test_odd_dimensions_are_padded(tmp_path: Path) -> None:
    info = probe(encode_clip(_frames(5, 75, 41), 12, tmp_path / "odd.mp4"))
    assert (info.width, info.height, info.frames) == (76, 42, 5)


def test_no_partial_file_on_error(tmp_path: Path) -> None:
    frames = [_frames(1, 64, 64)[0], _frames(1, 80, 64)[0]]
    with pytest.raises(ValueError, match="differs"):
        encode_clip(frames, 16, tmp_path / "bad.mp4")
    assert list(tmp_path.iterdir()) == []


def test_poster_is_middle_frame(tmp_path: Path) -> None:
    frames = _frames(9, 64, 48)
    poster = write_poster(frames, tmp_path / "poster.png")
    assert np.array_equal(np.asarray(Image.open(poster)), frames[4])


def test_fit_to_size_under_limit(tmp_path: Path) -> None:
    src = encode_clip(_frames(16, 256, 144, noise=True), 16, tmp_path / "big.mp4")
    limit = probe(src).size // 3
    out = fit_to_size(src, tmp_path / "small.mp4", limit)
    info = probe(out)
    assert info.size <= limit and info.frames == 16 and info.fps == 16.0


def test_fit_to_size_copies_small_clip(tmp_path: Path) -> None:
    src = encode_clip(_frames(4, 64, 64), 16, tmp_path / "a.mp4")
    out = fit_to_size(src, tmp_path / "b.mp4", 10**9)
    assert out.read_bytes() == src.read_bytes()


def test_fit_to_size_impossible(tmp_path: Path) -> None:
    src = encode_clip(_frames(4, 64, 64, noise=True), 16, tmp_path / "a.mp4")
    with pytest.raises(ClipTooLarge, match="limit"):
        fit_to_size(src, tmp_path / "b.mp4", 500)
    assert not (tmp_path / "b.mp4").exists()


def test_fit_to_size_in_place_keeps_the_original_when_it_cannot_fit(tmp_path: Path) -> None:
    src = encode_clip(_frames(4, 64, 64, noise=True), 16, tmp_path / "a.mp4")
    original = src.read_bytes()
    with pytest.raises(ClipTooLarge):
        fit_to_size(src, src, 500)
    assert src.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]  # no scratch files left


def test_fit_to_size_in_place_shrinks_from_the_original(tmp_path: Path) -> None:
    src = encode_clip(_frames(16, 256, 144, noise=True), 16, tmp_path / "big.mp4")
    limit = probe(src).size // 3
    assert fit_to_size(src, src, limit) == src
    info = probe(src)
    assert info.size <= limit and info.frames == 16


def test_remove_partial_files_after_a_kill(tmp_path: Path) -> None:
    """A process killed while encoding leaves its temporary file; the next start removes it."""
    clip = tmp_path / "shot.mp4"
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        from pathlib import Path
        from render.encode import ClipWriter

        writer = ClipWriter(Path({str(clip)!r}), 16)
        for _ in range(80):  # past the encoder's lookahead: packets reach the file
            writer.write(np.zeros((64, 64, 3), np.uint8))
        print("encoding", flush=True)
        time.sleep(60)
    """)
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "encoding\n"
    finally:
        process.kill()
        process.wait(timeout=30)
    [partial] = list(tmp_path.iterdir())
    assert partial.name == f".shot.{process.pid}.tmp.mp4"
    assert remove_partial_files(tmp_path) == 1
    assert list(tmp_path.iterdir()) == []


def test_remove_partial_files_keeps_everything_else(tmp_path: Path) -> None:
    dead = 2**22 + 1  # above Linux's largest pid: no such process
    done = encode_clip(_frames(4, 64, 64), 16, tmp_path / "done.mp4")
    left = [
        tmp_path / f".a.{dead}.tmp.mp4",
        tmp_path / f".b.{dead}.tmp.png",
        tmp_path / f".c.{dead}.tmp",
    ]
    mine = temp_sibling(tmp_path / "mine.mp4")  # this process is still writing it
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        try:
            theirs = tmp_path / f".theirs.{other.pid}.tmp.mp4"  # another live Slate's
            unrelated = [tmp_path / name for name in (".hidden", "x.1.tmp.mp4", ".y.tmp.mp4")]
            folder = tmp_path / f".dir.{dead}.tmp.mp4"
            folder.mkdir()
            for path in [*left, mine, theirs, *unrelated]:
                path.write_bytes(b"partial")
            assert remove_partial_files(tmp_path) == len(left)
            kept = {done, mine, theirs, folder, *unrelated}
            assert set(tmp_path.iterdir()) == kept
            assert remove_partial_files(tmp_path) == 0
        finally:
            other.kill()
    assert remove_partial_files(tmp_path) == 1  # its owner is gone now
    assert remove_partial_files(tmp_path / "missing") == 0


def test_clip_problem_finds_missing_empty_and_cut_short_clips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (24, 64, 96, 3), dtype=np.uint8)  # noise: every frame is big
    whole = encode_clip(frames, 12, tmp_path / "whole.mp4")
    assert clip_problem(whole) is None
    assert clip_problem(tmp_path / "gone.mp4") == "is missing"
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert clip_problem(tmp_path / "empty.mp4") == "is empty"
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # a kill or a full disk mid-write
    assert (problem := clip_problem(cut)) is not None and "cut short" in problem
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 10)
    assert clip_problem(tmp_path / "junk.mp4") is not None
