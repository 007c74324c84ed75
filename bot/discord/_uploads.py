"""Files that fit: clips over the guild's upload limit are re-encoded, or replaced by a poster."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import discord

from render.encode import ClipTooLarge, fit_to_size
from studio.errors import InvalidValue

log = logging.getLogger(__name__)

# Multipart framing and the JSON payload travel in the same request as the file.
_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class Upload:
    file: discord.File
    note: str  # why the upload is not the original clip ("" when it is)


REQUEST_LIMIT = 25 * 1024 * 1024  # Discord caps one request at 25 MiB whatever the guild's tier


def upload_limit(interaction: discord.Interaction | None, guild: discord.Guild | None) -> int:
    """The per-file limit right now: the interaction's when there is one, else the guild's; never
    over the per-request cap (a boosted guild's 50 or 100 MiB still travels in one request)."""
    if interaction is not None:
        limit = interaction.filesize_limit
    elif guild is not None:
        limit = guild.filesize_limit
    else:
        limit = 10 * 1024 * 1024
    return min(limit, REQUEST_LIMIT)


def _size(path: Path | None) -> int | None:
    """The file's size, or None when there is no such file (a stat is cheap: no thread needed)."""
    try:
        return path.stat().st_size if path is not None else None
    except FileNotFoundError:
        return None


@asynccontextmanager
async def clip_upload(
    clip: Path, poster: Path | None, limit: int, *, name: str | None = None
) -> AsyncIterator[Upload]:
    """A `discord.File` for `clip` under `limit` bytes: as is, re-encoded, or the poster frame."""
    clip = Path(clip)
    filename = name or clip.name
    if (_size(clip) or 0) <= limit:
        yield Upload(discord.File(clip, filename=filename), "")
        return
    with tempfile.TemporaryDirectory(prefix="slate-upload-") as folder:
        fitted = Path(folder) / filename
        try:
            # Re-encoding is CPU-bound: keep it off the event loop.
            await asyncio.to_thread(fit_to_size, clip, fitted, max(1, limit - _OVERHEAD))
        except ClipTooLarge as error:
            log.info("clip %s over the %d byte limit: posting the poster", clip.name, limit)
            poster_size = _size(poster)
            if poster is None or poster_size is None or poster_size > limit:
                raise InvalidValue(str(error)) from None
            yield Upload(
                discord.File(poster, filename=Path(poster).name),
                f"The clip is too large to upload here ({error}); showing its poster frame.",
            )
            return
        yield Upload(
            discord.File(fitted, filename=filename),
            f"Re-encoded to fit this server's {limit / 1e6:.0f} MB upload limit.",
        )
