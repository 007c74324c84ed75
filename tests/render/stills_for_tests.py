"""Distinctive little pictures saved to disk and described as `ReferenceImage`s."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from render.types import ElementKind, ReferenceImage


def checkerboard(
    size: tuple[int, int] = (96, 128),
    colours: tuple[tuple[int, int, int], tuple[int, int, int]] = ((255, 0, 255), (0, 255, 0)),
    cell: int = 8,
) -> Image.Image:
    image = Image.new("RGB", size, colours[0])
    pixels = image.load()
    assert pixels is not None
    for y in range(size[1]):
        for x in range(size[0]):
            if (x // cell + y // cell) % 2:
                pixels[x, y] = colours[1]
    return image


def save_reference(
    folder: Path,
    image: Image.Image,
    name: str,
    kind: ElementKind = ElementKind.CHARACTER,
    view: str = "front",
) -> ReferenceImage:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{view}-{len(list(folder.iterdir()))}.png"
    image.save(path)
    return ReferenceImage.from_file(path, kind, name, view)
