"""Reference images and first frames: loading them, choosing them and fitting them to a render.

Shared by the diffusers renderer and the animatic. Loading is blocking file I/O; renderers run in
worker threads, so that is fine. PIL is imported lazily, like everything heavy in render/.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from render.types import ElementKind, ReferenceImage, RenderError

if TYPE_CHECKING:
    from PIL import Image

NOT_USED = "not used by this model"
NONE = "none"

# Characters carry a shot; then where it happens; then what is handled.
_KIND_ORDER = {ElementKind.CHARACTER: 0, ElementKind.LOCATION: 1, ElementKind.PROP: 2}
_MAX_PIXELS = 64_000_000  # a still larger than this is a decompression bomb, not a reference


def load_still(image: ReferenceImage) -> Image.Image:
    """Open `image` as RGBA (alpha kept for cut-outs), checking its bytes still match its sha256.

    Raises `RenderError` naming the image when it is missing, unreadable or changed on disk:
    a changed file would otherwise poison the clip cache, which keys on the recorded hash.
    """
    import io

    from PIL import Image, ImageOps

    try:
        blob = Path(image.path).read_bytes()
    except OSError as exc:
        raise RenderError(
            f"The image {image.label} is missing or unreadable ({image.path}): "
            f"{exc.strerror or exc}."
        ) from exc
    if hashlib.sha256(blob).hexdigest() != image.sha256:
        raise RenderError(
            f"The image {image.label} at {image.path} changed since it was recorded; "
            "add it again to use the new picture."
        )
    try:
        with Image.open(io.BytesIO(blob)) as opened:
            if opened.width * opened.height > _MAX_PIXELS:
                raise RenderError(f"The image {image.label} is too large to use.")
            still = ImageOps.exif_transpose(opened).convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise RenderError(f"The image {image.label} is not a readable picture: {exc}.") from exc
    return still


def load_stills(images: Iterable[ReferenceImage]) -> dict[str, Image.Image]:
    """Each distinct image once, by sha256."""
    loaded: dict[str, Image.Image] = {}
    for image in images:
        if image.sha256 not in loaded:
            loaded[image.sha256] = load_still(image)
    return loaded


def choose_references(
    references: Sequence[ReferenceImage], limit: int
) -> tuple[list[ReferenceImage], list[ReferenceImage]]:
    """The references a model with `limit` slots should get, and those left out.

    One view of every element comes before a second view of any: characters first, then the
    location, then props; within that, the request's own order (its first view of an element first).
    """
    seen: set[tuple[ElementKind, str]] = set()
    ranked: list[tuple[int, int, int, ReferenceImage]] = []
    for position, reference in enumerate(references):
        element = (reference.kind, reference.name)
        extra_view = 1 if element in seen else 0
        seen.add(element)
        ranked.append((extra_view, _KIND_ORDER[reference.kind], position, reference))
    ranked.sort(key=lambda entry: entry[:3])
    ordered = [entry[3] for entry in ranked]
    return ordered[:limit], ordered[limit:]


def describe_references(
    used: Sequence[ReferenceImage], left_out: Sequence[ReferenceImage], takes_them: bool
) -> str:
    """What a take card says about the references: "used: Mia (front), ALLEY (front)"."""
    if not used and not left_out:
        return NONE
    if not takes_them:
        return NOT_USED
    text = "used: " + ", ".join(reference.label for reference in used)
    if left_out:
        names = ", ".join(reference.label for reference in left_out)
        text += f"; left out (the model takes {len(used)}): {names}"
    return text


def describe_first_frame(first_frame: ReferenceImage | None, takes_it: bool) -> str:
    if first_frame is None:
        return NONE
    return f"used: {first_frame.label}" if takes_it else NOT_USED


def on_white(still: Image.Image) -> Image.Image:
    """RGB with transparent parts white: VACE reads white as "nothing here"."""
    from PIL import Image

    if still.mode != "RGBA":
        return still.convert("RGB")
    canvas = Image.new("RGB", still.size, (255, 255, 255))
    canvas.paste(still, mask=still.getchannel("A"))
    return canvas


def fit_on_white(still: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The whole still, as large as fits, centred on a white canvas of `size` (width, height).

    This is the layout WanVACEPipeline gives references itself; doing it here also turns
    transparency white and lets tests see exactly what the model receives.
    """
    from PIL import Image

    width, height = size
    scale = min(width / still.width, height / still.height)
    fitted = on_white(still).resize(
        (max(1, round(still.width * scale)), max(1, round(still.height * scale))),
        Image.Resampling.LANCZOS,
    )
    canvas = Image.new("RGB", size, (255, 255, 255))
    canvas.paste(fitted, ((width - fitted.width) // 2, (height - fitted.height) // 2))
    return canvas


def fill_frame(still: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The still scaled to cover `size` and centre-cropped: a first frame fills the picture."""
    from PIL import Image, ImageOps

    return ImageOps.fit(on_white(still), size, Image.Resampling.LANCZOS)
