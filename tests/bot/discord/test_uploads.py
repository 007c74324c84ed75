"""Our upload-size logic, with small limits (SimCord itself always allows 25 MiB)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.discord._uploads import clip_upload
from render.encode import encode_clip, write_poster
from studio.errors import InvalidValue


@pytest.fixture
def noisy_clip(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, size=(24, 128, 160, 3), dtype=np.uint8)  # noise compresses badly
    clip = encode_clip(frames, 12, tmp_path / "take.mp4", crf=10)
    return clip, write_poster(frames, tmp_path / "take.png")


async def test_a_clip_under_the_limit_goes_as_is(noisy_clip: tuple[Path, Path]) -> None:
    clip, poster = noisy_clip
    async with clip_upload(clip, poster, clip.stat().st_size) as upload:
        assert upload.note == "" and upload.file.filename == "take.mp4"


async def test_an_oversized_clip_is_re_encoded_to_fit(noisy_clip: tuple[Path, Path]) -> None:
    clip, poster = noisy_clip
    limit = clip.stat().st_size // 3 + 64 * 1024
    async with clip_upload(clip, poster, limit, name="shot-1.mp4") as upload:
        assert "Re-encoded" in upload.note and upload.file.filename == "shot-1.mp4"
        size = len(upload.file.fp.read())
        assert 0 < size <= limit


async def test_when_nothing_fits_the_poster_is_posted(noisy_clip: tuple[Path, Path]) -> None:
    clip, poster = noisy_clip
    limit = poster.stat().st_size  # far below any encoding of the clip, but the poster fits
    async with clip_upload(clip, poster, limit) as upload:
        assert upload.file.filename == "take.png" and "poster" in upload.note


async def test_without_a_poster_the_refusal_is_a_user_message(
    noisy_clip: tuple[Path, Path],
) -> None:
    clip, _ = noisy_clip
    with pytest.raises(InvalidValue, match="limit"):
        async with clip_upload(clip, None, 1000):
            pass
