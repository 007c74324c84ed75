"""Reference images: checked, then kept content-addressed under one folder.

`ImageStore.put` stores an image at `<root>/<sha256[:2]>/<sha256><suffix>`, where the digest is of
the bytes stored: the original file for PNG, JPEG and WebP (never re-encoded), a PNG conversion for
other still formats Pillow reads (GIF, BMP, TIFF). A file is written once, atomically (a temporary
file renamed into place), and never overwritten; the same image twice is stored once. Which project
owns which image is the store's business (`Store.add_image`).

Stored JPEG and WebP files keep their EXIF orientation: `ImageInfo.width` and `height` are the size
as displayed, so readers should apply `PIL.ImageOps.exif_transpose` when they load one.

Everything here blocks (file I/O, decoding): callers on an event loop run it in a thread.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import InvalidImage, InvalidValue
from studio.models import IMAGE_SUFFIXES, Reference, validated
from studio.vocab import ReferenceSource, ReferenceView

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["MAX_BYTES", "MAX_PIXELS", "MIN_SIDE", "ImageInfo", "ImageStore", "InvalidImage"]

MAX_BYTES = 20 * 1024 * 1024  # 20 MB
MIN_SIDE = 256  # pixels on the short side
MAX_PIXELS = 64_000_000  # above this an image is refused before it is decoded (a 48 MP photo fits)

# Formats kept as they are, by the suffix they are stored under (MPO: a camera's JPEG with extra
# pictures after the first, which is the photo).
_KEPT = {"PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg", "WEBP": ".webp"}
# Every format Pillow may open here: still formats that need no outside program to decode (its
# JPEG reader also opens MPO).
_OPENED = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
_ORIENTATION = 0x0112  # EXIF: values 5-8 turn the picture a quarter
_SHA256 = re.compile(r"[0-9a-f]{64}")

# warnings.catch_warnings changes process-wide state: one thread at a time.
_WARNINGS = threading.Lock()


@dataclass(frozen=True)
class ImageInfo:
    """A checked image: what the store records of it and what a `Reference` names."""

    sha256: str  # of the stored bytes
    suffix: str  # ".png", ".jpg" or ".webp"
    width: int  # as displayed (EXIF orientation applied)
    height: int

    def reference(
        self,
        view: ReferenceView | str = ReferenceView.FRONT,
        source: ReferenceSource | str = ReferenceSource.UPLOAD,
        added_by: str = "",
    ) -> Reference:
        """This image as a reference; `InvalidValue` for a view or source it cannot read."""
        reference: Reference = validated(
            Reference,
            sha256=self.sha256,
            view=view,
            suffix=self.suffix,
            width=self.width,
            height=self.height,
            source=source,
            added_by=added_by,
        )
        return reference


class ImageStore:
    """The folder of reference images, content-addressed. Blocking; see the module notes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def check(self, data: bytes) -> ImageInfo:
        """What `put` would store, or `InvalidImage` saying in one sentence why not."""
        return _prepare(data)[0]

    def put(self, data: bytes) -> ImageInfo:
        """Check and store an image (nothing is written when the check fails); an image already
        stored is left as it is."""
        info, payload = _prepare(data)
        target = self.path(info.sha256, info.suffix)
        if target.exists():
            return info
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(payload)
                file.flush()
                os.fsync(file.fileno())
            if not target.exists():  # another writer may have stored the same bytes meanwhile
                os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        return info

    def path(self, sha256: str, suffix: str) -> Path:
        """Where the image with this digest and suffix lies (whether or not it is stored)."""
        if not _SHA256.fullmatch(sha256) or suffix not in IMAGE_SUFFIXES:
            raise InvalidValue(f"{sha256[:80]}{suffix[:8]} does not name a reference image.")
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def __contains__(self, reference: object) -> bool:
        """Whether a `Reference`'s (or an `ImageInfo`'s) file is stored."""
        try:
            path = self.path(getattr(reference, "sha256", ""), getattr(reference, "suffix", ""))
        except InvalidValue:
            return False
        return path.is_file()


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _too_large(size: tuple[int, int] | None = None) -> InvalidImage:
    pixels = f"{size[0]}×{size[1]} pixels; " if size else ""
    return InvalidImage(
        f"That image is too large to open safely ({pixels}at most {MAX_PIXELS // 1_000_000} "
        "megapixels)."
    )


def _not_an_image() -> InvalidImage:
    return InvalidImage(
        "That file is not an image I can read; send a still PNG, JPEG or WebP picture."
    )


@contextmanager
def _pillow_guard() -> Iterator[None]:
    """Pillow's decompression-bomb warning raised as an error, while the lock is held."""
    from PIL import Image

    with _WARNINGS, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _open(data: bytes) -> Image.Image:
    """The image, opened (header read) and checked for size and frames; not yet decoded."""
    from PIL import Image

    try:
        with _pillow_guard():
            image = Image.open(io.BytesIO(data), formats=_OPENED)
            if image.width * image.height > MAX_PIXELS:
                raise _too_large(image.size)
            animated = image.format != "MPO" and bool(getattr(image, "is_animated", False))
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large() from None
    except Exception:  # a malformed file can fail in many ways inside a decoder
        raise _not_an_image() from None
    if animated:
        raise InvalidImage("That image is animated; a reference must be a still picture.")
    return image


def _prepare(data: bytes) -> tuple[ImageInfo, bytes]:
    """The image's info and the bytes to store, or `InvalidImage`."""
    from PIL import ImageOps

    if len(data) > MAX_BYTES:
        raise InvalidImage(
            f"That file is {_megabytes(len(data))}; a reference image may be at most "
            f"{MAX_BYTES // 1024 // 1024} MB."
        )
    if not data:
        raise _not_an_image()
    with _open(data) as image:
        width, height = image.size
        try:
            turned = image.getexif().get(_ORIENTATION) in (5, 6, 7, 8)
        except Exception:  # unreadable EXIF: take the pixels as they are
            turned = False
        if turned:
            width, height = height, width
        if min(width, height) < MIN_SIDE:
            raise InvalidImage(
                f"That image is {width}×{height} pixels; a reference needs at least {MIN_SIDE} "
                "pixels on its short side."
            )
        try:
            image.load()  # decodes every pixel: a cut-short or garbled file fails here
            suffix = _KEPT.get(image.format or "")
            payload = data if suffix else _png(ImageOps.exif_transpose(image))
        except Exception:
            raise InvalidImage(
                "That image cannot be decoded (is the file cut short?); send it again."
            ) from None
    info = ImageInfo(hashlib.sha256(payload).hexdigest(), suffix or ".png", width, height)
    return info, payload


def _png(image: Any) -> bytes:
    """A PNG of a still image in another format (its transparency kept)."""
    if image.mode not in ("1", "L", "LA", "RGB", "RGBA", "I", "I;16"):
        has_alpha = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
