"""The image store: refusals in one sentence with nothing written, content addressing, atomic
writes."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from studio.errors import InvalidImage, InvalidValue
from studio.images import MAX_BYTES, ImageInfo, ImageStore
from studio.vocab import ReferenceSource, ReferenceView


def encode(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def picture(width: int = 320, height: int = 400, colour: str = "teal") -> Image.Image:
    return Image.new("RGB", (width, height), colour)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size (its pixels are never there): what a decompression bomb's header
    looks like to a reader."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def images(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "images")


@pytest.mark.parametrize(
    ("format", "suffix"), [("PNG", ".png"), ("JPEG", ".jpg"), ("WEBP", ".webp")]
)
def test_png_jpeg_and_webp_are_stored_as_they_came(
    images: ImageStore, format: str, suffix: str
) -> None:
    data = encode(picture(), format)
    info = images.put(data)
    assert info == ImageInfo(hashlib.sha256(data).hexdigest(), suffix, 320, 400)
    stored = images.path(info.sha256, info.suffix)
    assert stored == images.root / info.sha256[:2] / f"{info.sha256}{suffix}"
    assert stored.read_bytes() == data  # never re-encoded
    assert files(images.root) == [stored]  # no temporary file left behind
    assert info in images and images.check(data) == info


@pytest.mark.parametrize("format", ["BMP", "GIF", "TIFF"])
def test_other_still_formats_are_stored_as_png(images: ImageStore, format: str) -> None:
    data = encode(picture(300, 260, "orange"), format)
    info = images.put(data)
    assert info.suffix == ".png" and (info.width, info.height) == (300, 260)
    stored = images.path(info.sha256, ".png").read_bytes()
    assert hashlib.sha256(stored).hexdigest() == info.sha256
    with Image.open(io.BytesIO(stored)) as again:
        assert again.format == "PNG" and again.size == (300, 260)
    assert images.put(data) == info  # the conversion is deterministic: one file


def test_the_same_image_is_stored_once_and_never_overwritten(images: ImageStore) -> None:
    data = encode(picture(), "PNG")
    info = images.put(data)
    stored = images.path(info.sha256, info.suffix)
    before = stored.stat()
    assert images.put(data) == info
    assert stored.stat().st_mtime_ns == before.st_mtime_ns and stored.stat().st_ino == before.st_ino
    other = images.put(encode(picture(colour="red"), "PNG"))
    assert other.sha256 != info.sha256
    assert len(files(images.root)) == 2


def test_a_sideways_photo_reports_its_size_as_displayed(images: ImageStore) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    data = encode(picture(400, 300), "JPEG", exif=exif)
    info = images.put(data)
    assert (info.width, info.height) == (300, 400)
    assert images.path(info.sha256, ".jpg").read_bytes() == data


def animated(format: str) -> bytes:
    frames = [picture(colour="red"), picture(colour="blue")]
    return encode(frames[0], format, save_all=True, append_images=frames[1:], duration=100)


BAD_IMAGES = {
    "empty": (b"", "not an image"),
    "text": (b"Mia, front view, please", "not an image"),
    "a PDF": (b"%PDF-1.4\n" + b"0" * 600, "not an image"),
    "an EPS (would run Ghostscript)": (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 400 400\n" + b"0" * 600,
        "not an image",
    ),
    "cut short": (encode(picture(), "PNG")[:200], "cannot be decoded|not an image"),
    "an animated GIF": (animated("GIF"), "animated"),
    "an APNG": (animated("PNG"), "animated"),
    "an animated WebP": (animated("WEBP"), "animated"),
    "too small": (
        encode(picture(640, 255), "PNG"),
        "640×255 pixels; a reference needs at least 256",
    ),
    "over 20 MB": (encode(picture(), "PNG") + b"\0" * MAX_BYTES, "at most 20 MB"),
    "a bomb over our limit": (png_header(9000, 8000), "too large to open safely \\(9000×8000"),
    "a bomb Pillow warns of": (png_header(10_000, 10_000), "too large to open safely"),
    "a bomb Pillow refuses": (png_header(20_000, 20_000), "too large to open safely"),
}


@pytest.mark.parametrize(("data", "problem"), BAD_IMAGES.values(), ids=BAD_IMAGES.keys())
def test_bad_images_are_refused_in_one_sentence_and_nothing_is_written(
    images: ImageStore, data: bytes, problem: str
) -> None:
    with pytest.raises(InvalidImage, match=problem) as refused:
        images.put(data)
    message = str(refused.value)
    assert message.endswith(".") and "\n" not in message
    assert isinstance(refused.value, InvalidValue)
    assert refused.value.__cause__ is None
    assert files(images.root) == []
    with pytest.raises(InvalidImage):
        images.check(data)


def test_the_bomb_check_leaves_warnings_as_they_were(images: ImageStore) -> None:
    import warnings

    before = list(warnings.filters)
    with pytest.raises(InvalidImage):
        images.check(png_header(10_000, 10_000))
    assert warnings.filters == before


@pytest.mark.parametrize(
    ("sha256", "suffix"),
    [("../" * 20 + "a" * 4, ".png"), ("a" * 64, ".exe"), ("A" * 64, ".png"), ("a" * 63, ".png")],
)
def test_a_path_is_only_ever_inside_the_store(images: ImageStore, sha256: str, suffix: str) -> None:
    with pytest.raises(InvalidValue, match="does not name a reference image"):
        images.path(sha256, suffix)


def test_an_image_becomes_a_reference(images: ImageStore) -> None:
    info = images.put(encode(picture(), "JPEG"))
    reference = info.reference("3/4", "take", added_by="ana")
    assert reference.view is ReferenceView.THREE_QUARTER
    assert reference.source is ReferenceSource.TAKE
    assert (reference.sha256, reference.suffix, reference.width, reference.height) == (
        info.sha256,
        ".jpg",
        320,
        400,
    )
    assert reference in images
    assert info.reference().view is ReferenceView.FRONT


def test_a_cameras_multi_picture_jpeg_is_a_still_photo(images: ImageStore) -> None:
    data = encode(picture(), "MPO", save_all=True, append_images=[picture(colour="red")])
    with Image.open(io.BytesIO(data)) as opened:
        assert opened.format == "MPO" and getattr(opened, "n_frames", 1) == 2
    info = images.put(data)
    assert info.suffix == ".jpg"
    assert images.path(info.sha256, ".jpg").read_bytes() == data
