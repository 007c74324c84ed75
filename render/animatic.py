"""The animatic camera: deterministic previz frames from a shot's `Previz` card.

The set (backdrop from location, setting and daylight; figures placed by the framing) is drawn once
with PIL on a canvas larger than the frame; the camera move is then a path of crop windows over that
canvas, so each frame is a slice (or one PIL box-resize) rather than a redraw. The caption band is
drawn once and stacked under every frame. No torch, no randomness outside seeded generators.

Reference images show on the set: a character's front view as the face of its figure (and a
portrait card beside figures too small to hold one), a location's as the backdrop (fitted and lit
like the set), a prop's in inserts and, smaller, in the foreground of other shots. Each image is
loaded once per render.
"""

from __future__ import annotations

import hashlib
import logging
import math
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, assert_never

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from render.stills import describe_first_frame, load_stills, on_white
from render.types import (
    CameraAngle,
    CameraMotion,
    CancelToken,
    Daylight,
    ElementKind,
    Framing,
    InvalidRenderRequest,
    MotionDirection,
    MotionKind,
    MotionSpeed,
    Previz,
    ProgressCallback,
    ReferenceImage,
    RenderCancelled,
    RenderProgress,
    RenderRequest,
    RenderResult,
    Setting,
)

log = logging.getLogger(__name__)

MAX_SECONDS = 30.0
MIN_SIDE = 64
MAX_SIDE = 2048
CHUNK_FRAMES = 8

RGB = tuple[int, int, int]


# Figure height as a multiple of the picture height, and how many figures fit the framing.
_FIGURES: dict[Framing, tuple[float, int]] = {
    Framing.EXTREME_WIDE: (0.12, 8),
    Framing.WIDE: (0.4, 6),
    Framing.FULL: (0.82, 4),
    Framing.MEDIUM_WIDE: (1.3, 3),
    Framing.MEDIUM: (1.9, 2),
    Framing.MEDIUM_CLOSE_UP: (2.7, 1),
    Framing.CLOSE_UP: (4.2, 1),
    Framing.EXTREME_CLOSE_UP: (9.0, 1),
    Framing.INSERT: (0.0, 0),
}


@dataclass(frozen=True)
class CameraPath:
    """Per-frame window centre offsets (fractions of the picture) and zoom (<1 = tighter).

    `motion` is the move performed, its direction resolved (a pan asked without one goes right)."""

    motion: CameraMotion
    dx: np.ndarray
    dy: np.ndarray
    zoom: np.ndarray


_SPEED: dict[MotionSpeed, float] = {
    MotionSpeed.SLOW: 0.5,
    MotionSpeed.MEDIUM: 1.0,
    MotionSpeed.FAST: 2.0,
}


def camera_path(previz: Previz, frames: int, seed: int) -> CameraPath:
    """Turn the card's motion into a smooth window path over `frames` frames.

    The window moves the way the camera does, so the set moves the other way in frame: a pan or
    truck right slides it left, a tilt, pedestal or crane up slides it down, a dolly or zoom in
    enlarges it."""
    motion = previz.motion
    heading = motion.heading
    performed = replace(motion, direction=heading)
    speed = _SPEED[motion.speed]
    t = np.linspace(0.0, 1.0, frames) if frames > 1 else np.zeros(1)
    ease = t * t * (3 - 2 * t)  # camera moves start and stop softly
    zero = np.zeros(frames)
    one = np.ones(frames)
    # +1 when the window moves right or down, or the camera moves in.
    sign = (
        1.0
        if heading in (MotionDirection.RIGHT, MotionDirection.DOWN, MotionDirection.IN)
        else -1.0
    )
    match motion.kind:
        case MotionKind.STATIC:
            return CameraPath(performed, zero, zero, one)
        case MotionKind.PAN | MotionKind.TRUCK:
            return CameraPath(performed, sign * 0.3 * speed * ease, zero, one)
        case MotionKind.WHIP_PAN:
            return CameraPath(performed, sign * 1.5 * t**3, zero, one)
        case MotionKind.TILT | MotionKind.PEDESTAL:
            return CameraPath(performed, zero, sign * 0.3 * speed * ease, one)
        case MotionKind.CRANE:
            # Rising or falling, the crane also pulls back a little: the view opens up.
            return CameraPath(performed, zero, sign * 0.35 * speed * ease, 1 + 0.15 * speed * ease)
        case MotionKind.DOLLY:
            return CameraPath(performed, zero, zero, _push(sign, 0.35 * speed, ease))
        case MotionKind.ZOOM:
            return CameraPath(performed, zero, zero, _push(sign, 0.3 * speed, ease))
        case MotionKind.DOLLY_ZOOM:
            # Set and figures share one canvas, so the animatic stages only the zoom: a push in.
            return CameraPath(performed, zero, zero, _push(1.0, 0.3 * speed, ease))
        case MotionKind.ARC:
            return CameraPath(
                performed, sign * 0.25 * speed * ease, zero, 1 - 0.08 * speed * np.sin(math.pi * t)
            )
        case MotionKind.HANDHELD | MotionKind.STEADICAM:
            rng = np.random.default_rng(_stable_seed("handheld", previz.number, str(seed)))
            amp = (0.015 if motion.kind is MotionKind.HANDHELD else 0.006) * speed
            # A smoothed random walk reads as a body holding the camera, not as noise.
            walk = np.cumsum(rng.normal(0, 1, (2, frames + 6)), axis=1)
            kernel = np.ones(6) / 6
            smooth = np.stack([np.convolve(w, kernel, mode="valid")[:frames] for w in walk])
            # A sway, not a move: it ends near where it began (a drifting walk reads as a tilt).
            smooth -= 0.8 * np.linspace(smooth[:, :1], smooth[:, -1:], frames, axis=1)[..., 0]
            smooth -= smooth.mean(axis=1, keepdims=True)
            smooth /= np.abs(smooth).max(axis=1, keepdims=True) + 1e-9
            return CameraPath(performed, amp * smooth[0], amp * smooth[1], one * (1 - amp))
        case _ as unreachable:
            assert_never(unreachable)


def _push(sign: float, amount: float, ease: np.ndarray) -> np.ndarray:
    """Window zoom for a move in (sign +1: the content grows to 1 + amount) or out (it shrinks
    by the same factor)."""
    if sign > 0:
        return 1 - amount * ease / (1 + amount)
    return 1 + amount * ease


def _stable_seed(*parts: str) -> int:
    # Python's hash() is salted per process; the set must look the same on every run.
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "little")


# Sky top, sky horizon, light (multiplier for interiors).
_TIMES: dict[Daylight, tuple[RGB, RGB, float]] = {
    Daylight.DAY: ((96, 160, 225), (190, 220, 240), 1.0),
    Daylight.NIGHT: ((8, 12, 34), (30, 38, 72), 0.4),
    Daylight.DUSK: ((70, 50, 110), (245, 140, 80), 0.7),
    Daylight.DAWN: ((110, 140, 200), (250, 190, 170), 0.8),
}


def _rgb(values: np.ndarray) -> RGB:
    return (int(values[0]), int(values[1]), int(values[2]))


def _shade(colour: RGB, factor: float) -> RGB:
    return (
        min(255, int(colour[0] * factor)),
        min(255, int(colour[1] * factor)),
        min(255, int(colour[2] * factor)),
    )


def _mix(a: RGB, b: RGB, k: float) -> RGB:
    return (
        int(a[0] + (b[0] - a[0]) * k),
        int(a[1] + (b[1] - a[1]) * k),
        int(a[2] + (b[2] - a[2]) * k),
    )


def _gradient(height: int, width: int, top: RGB, bottom: RGB) -> np.ndarray:
    k = np.linspace(0.0, 1.0, max(height, 1))[:, None]
    column = np.asarray(top, float) * (1 - k) + np.asarray(bottom, float) * k
    return np.broadcast_to(column[:, None, :], (height, width, 3)).astype(np.uint8)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


@dataclass(frozen=True)
class _Set:
    """Canvas geometry: the home framing window sits at (x0, y0) with size (w, h)."""

    width: int
    height: int
    x0: int
    y0: int
    w: int
    h: int


@dataclass
class _Looks:
    """The request's reference images, loaded once, by what they show; `drawn` collects the
    references that made it into the picture (for the take card)."""

    faces: dict[str, tuple[ReferenceImage, Image.Image]] = field(default_factory=dict)
    location: tuple[ReferenceImage, Image.Image] | None = None
    props: list[tuple[ReferenceImage, Image.Image]] = field(default_factory=list)
    drawn: list[ReferenceImage] = field(default_factory=list)

    @classmethod
    def load(cls, references: Sequence[ReferenceImage]) -> _Looks:
        stills = load_stills(references)
        looks = cls()
        # One view per element: its front view if it has one, else the first given.
        chosen: dict[tuple[ElementKind, str], ReferenceImage] = {}
        for reference in references:
            element = (reference.kind, reference.name.strip().lower())
            if element not in chosen or (
                reference.view == "front" and chosen[element].view != "front"
            ):
                chosen[element] = reference
        for (kind, name), reference in chosen.items():
            still = stills[reference.sha256]
            if kind is ElementKind.CHARACTER:
                looks.faces[name] = (reference, still)
            elif kind is ElementKind.LOCATION and looks.location is None:
                looks.location = (reference, still)
            elif kind is ElementKind.PROP:
                looks.props.append((reference, still))
        return looks


def _cutout(still: Image.Image, size: tuple[int, int], fit: bool = True) -> Image.Image:
    """`still` as RGBA of exactly `size`: fitted whole (transparent margins) or cropped to fill."""
    width, height = max(1, size[0]), max(1, size[1])
    if not fit:
        return ImageOps.fit(still, (width, height), Image.Resampling.LANCZOS, centering=(0.5, 0.3))
    scale = min(width / still.width, height / still.height)
    fitted = still.resize(
        (max(1, round(still.width * scale)), max(1, round(still.height * scale))),
        Image.Resampling.LANCZOS,
    )
    card = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    card.paste(fitted, ((width - fitted.width) // 2, (height - fitted.height) // 2))
    return card


def _paste_framed(img: Image.Image, picture: Image.Image, box: tuple[float, float]) -> None:
    """A photo card with a light border, top-left at `box`."""
    x, y = round(box[0]), round(box[1])
    border = max(1, min(picture.size) // 24)
    frame = Image.new("RGB", (picture.width + 2 * border, picture.height + 2 * border), (240,) * 3)
    frame.paste(on_white(picture), (border, border))
    img.paste(frame, (x - border, y - border))


def _draw_location_reference(img: Image.Image, still: Image.Image, previz: Previz) -> None:
    """The location's picture as the whole set, lit for the time of day like the drawn set."""
    light = _TIMES[previz.daylight][2]
    backdrop = ImageOps.fit(on_white(still), img.size, Image.Resampling.LANCZOS)
    if light != 1.0:
        backdrop = ImageEnhance.Brightness(backdrop).enhance(light)
    img.paste(backdrop, (0, 0))


def _draw_face(
    img: Image.Image, still: Image.Image, cx: float, head_cy: float, head_r: float, geo: _Set
) -> None:
    """The character's reference as the figure's face (a round cut-out over the drawn head);
    figures too small to show a face get a portrait card above their head."""
    diameter = round(head_r * 2.3)
    if diameter >= 20:
        face = _cutout(still, (diameter, diameter), fit=False)
        ring = Image.new("L", face.size, 0)
        ImageDraw.Draw(ring).ellipse((0, 0, diameter - 1, diameter - 1), fill=255)
        alpha = Image.fromarray(np.minimum(np.asarray(ring), np.asarray(face.getchannel("A"))))
        img.paste(on_white(face), (round(cx - diameter / 2), round(head_cy - diameter / 2)), alpha)
        return
    card_h = max(16, round(geo.h * 0.22))
    card = _cutout(still, (round(card_h * 0.75), card_h), fit=False)
    _paste_framed(img, card, (cx - card.width / 2, head_cy - head_r - card_h - geo.h * 0.04))


def _draw_props(img: Image.Image, geo: _Set, looks: _Looks, height: float) -> None:
    """Props the shot shows, standing in the foreground at the lower right."""
    x = geo.x0 + geo.w * 0.95
    floor = geo.y0 + geo.h * 0.97
    for reference, still in looks.props:
        prop = _cutout(still, (round(height), round(height)))
        box = prop.getbbox() or (0, 0, prop.width, prop.height)
        prop = prop.crop(box)
        x -= prop.width
        if prop.getchannel("A").getextrema()[0] == 255:  # an opaque photo: show it as a card
            _paste_framed(img, prop, (x, floor - prop.height))
        else:
            img.paste(prop, (round(x), round(floor - prop.height)), prop)
        x -= geo.w * 0.03
        looks.drawn.append(reference)


def _draw_backdrop(img: Image.Image, geo: _Set, previz: Previz, horizon: float) -> None:
    """Sky/ground for exteriors, wall/floor for interiors; shapes seeded by the location name."""
    tod = previz.daylight
    sky_top, sky_low, light = _TIMES[tod]
    rng = np.random.default_rng(_stable_seed("location", previz.location.lower().strip()))
    interior = previz.setting is Setting.INTERIOR
    draw = ImageDraw.Draw(img)
    horizon_y = int(geo.y0 + geo.h * horizon)
    width, height = geo.width, geo.height
    if interior:
        wall = _shade(_rgb(rng.integers(90, 200, 3)), light)
        floor = _shade(_rgb(rng.integers(60, 140, 3)), light * 0.8)
        img.paste(Image.fromarray(_gradient(horizon_y, width, _shade(wall, 0.8), wall)), (0, 0))
        img.paste(
            Image.fromarray(
                _gradient(height - horizon_y, width, _shade(floor, 1.1), _shade(floor, 0.6))
            ),
            (0, horizon_y),
        )
        # Windows show the time of day; frames and doors give the pan something to pass.
        step = geo.w * rng.uniform(0.35, 0.55)
        x = float(rng.uniform(0, step))
        while x < width:
            kind = rng.integers(0, 3)
            w = geo.w * rng.uniform(0.1, 0.18)
            top = horizon_y - geo.h * rng.uniform(0.35, 0.5)
            if kind == 0:
                box = (x, top, x + w, horizon_y - geo.h * 0.12)
                draw.rectangle(
                    box, fill=sky_low if tod is Daylight.DAY else _mix(sky_top, sky_low, 0.4)
                )
                draw.rectangle(box, outline=_shade(wall, 0.5), width=max(2, geo.h // 120))
                draw.line(
                    (x + w / 2, box[1], x + w / 2, box[3]),
                    fill=_shade(wall, 0.5),
                    width=max(2, geo.h // 160),
                )
            elif kind == 1:
                draw.rectangle(
                    (x, horizon_y - geo.h * 0.45, x + w * 0.9, horizon_y), fill=_shade(wall, 0.6)
                )
            else:
                draw.rectangle(
                    (x, top, x + w * 0.7, top + w * 0.5),
                    fill=_shade(wall, 1.25),
                    outline=_shade(wall, 0.4),
                    width=2,
                )
            x += step * rng.uniform(0.8, 1.3)
        # A table or counter in the foreground plane.
        tx = geo.x0 + geo.w * rng.uniform(0.05, 0.6)
        ty = horizon_y + (height - horizon_y) * 0.15
        draw.rectangle((tx, ty, tx + geo.w * 0.3, ty + geo.h * 0.05), fill=_shade(floor, 0.5))
    else:
        img.paste(Image.fromarray(_gradient(horizon_y, width, sky_top, sky_low)), (0, 0))
        ground = [(70, 110, 60), (150, 130, 90), (90, 90, 95)][int(rng.integers(0, 3))]
        ground = _shade(ground, light)
        img.paste(
            Image.fromarray(
                _gradient(height - horizon_y, width, _shade(ground, 1.1), _shade(ground, 0.7))
            ),
            (0, horizon_y),
        )
        if tod is Daylight.NIGHT:
            stars = rng.integers(
                0, [width, max(horizon_y, 1)], (int(width * horizon_y / 4000) + 1, 2)
            )
            for sx, sy in stars:
                draw.point((int(sx), int(sy)), fill=(230, 230, 210))
            draw.ellipse(
                _circle(geo.x0 + geo.w * 0.8, geo.y0 + geo.h * 0.15, geo.h * 0.05),
                fill=(235, 235, 215),
            )
        else:
            sun_y = geo.y0 + geo.h * (0.15 if tod is Daylight.DAY else horizon * 0.85)
            draw.ellipse(_circle(geo.x0 + geo.w * 0.2, sun_y, geo.h * 0.06), fill=(255, 236, 170))
        # Skyline: buildings, hills or trees along the horizon, seeded by the location name.
        silhouette = _mix(sky_low, ground, 0.6) if tod is Daylight.DAY else _shade(sky_top, 0.6)
        x = float(-rng.uniform(0, geo.w * 0.1))
        while x < width:
            kind = rng.integers(0, 3)
            w = geo.w * rng.uniform(0.06, 0.2)
            tall = geo.h * rng.uniform(0.08, 0.35)
            colour = _shade(silhouette, rng.uniform(0.8, 1.1))
            if kind == 0:
                draw.rectangle((x, horizon_y - tall, x + w, horizon_y), fill=colour)
            elif kind == 1:
                draw.ellipse(
                    (x - w * 0.5, horizon_y - tall, x + w * 1.5, horizon_y + tall), fill=colour
                )
            else:
                draw.polygon(
                    [(x, horizon_y), (x + w / 2, horizon_y - tall), (x + w, horizon_y)], fill=colour
                )
            x += w * rng.uniform(0.7, 1.4)
        # Restore the ground over hill bottoms.
        img.paste(
            Image.fromarray(
                _gradient(height - horizon_y, width, _shade(ground, 1.1), _shade(ground, 0.7))
            ),
            (0, horizon_y),
        )


def _circle(cx: float, cy: float, r: float) -> tuple[float, float, float, float]:
    return (cx - r, cy - r, cx + r, cy + r)


def _character_colour(name: str) -> RGB:
    return _rgb(np.random.default_rng(_stable_seed("character", name.lower())).integers(40, 200, 3))


def _draw_figure(
    draw: ImageDraw.ImageDraw,
    cx: float,
    top: float,
    height: float,
    name: str,
    floor_y: float,
    face: tuple[Image.Image, Image.Image, _Set] | None = None,
    show_name: bool = True,
) -> None:
    """A silhouette: head, shoulders/torso, legs; the name on the chest (or above tiny figures).
    `face` (canvas, reference still, set) puts the reference on the head."""
    colour = _character_colour(name or "figure")
    dark = _shade(colour, 0.55)
    head_r = 0.075 * height
    head_cy = top + 0.09 * height
    shoulder = top + 0.18 * height
    hip = top + 0.55 * height
    half = 0.14 * height
    outline = max(1, int(height / 160))
    draw.rounded_rectangle(
        (cx - half, shoulder, cx + half, hip),
        radius=max(1, half * 0.5),
        fill=colour,
        outline=dark,
        width=outline,
    )
    leg = half * 0.45
    feet = top + height
    draw.rectangle((cx - half * 0.9, hip - 1, cx - half * 0.9 + leg * 1.6, feet), fill=dark)
    draw.rectangle((cx + half * 0.9 - leg * 1.6, hip - 1, cx + half * 0.9, feet), fill=dark)
    draw.rectangle(
        (cx - head_r * 0.45, head_cy + head_r * 0.8, cx + head_r * 0.45, shoulder + 2),
        fill=_shade(colour, 0.8),
    )
    draw.ellipse(
        _circle(cx, head_cy, head_r), fill=_shade(colour, 1.25), outline=dark, width=outline
    )
    # Eyes give close-ups a subject and a look direction.
    eye = head_r * 0.14
    for side in (-1, 1):
        draw.ellipse(
            _circle(cx + side * head_r * 0.35, head_cy - head_r * 0.1, eye), fill=(25, 25, 30)
        )
    if face is not None:
        canvas, still, geo = face
        _draw_face(canvas, still, cx, head_cy, head_r, geo)
    if feet < floor_y + height:  # a shadow where the feet meet the floor
        draw.ellipse(
            (cx - half * 1.3, feet - height * 0.015, cx + half * 1.3, feet + height * 0.02),
            fill=_shade(dark, 0.6),
        )
    if not name or not show_name:
        return
    font = _font(int(min(max(height * 0.06, 12), 40)))
    if height < 80:
        draw.text(
            (cx, top - 4),
            name,
            font=font,
            fill=(255, 255, 255),
            anchor="md",
            stroke_width=2,
            stroke_fill=(0, 0, 0),
        )
    else:
        draw.text(
            (cx, (shoulder + hip) / 2),
            name,
            font=font,
            fill=(255, 255, 255),
            anchor="mm",
            stroke_width=2,
            stroke_fill=(0, 0, 0),
        )


def _draw_insert(
    img: Image.Image, draw: ImageDraw.ImageDraw, geo: _Set, previz: Previz, looks: _Looks
) -> None:
    """An insert frames an object: the prop's reference (or a seeded shape) on a surface,
    labelled with the action."""
    rng = np.random.default_rng(
        _stable_seed("insert", previz.action.lower(), previz.location.lower())
    )
    cx, cy = geo.x0 + geo.w / 2, geo.y0 + geo.h * 0.55
    surface = _shade(_rgb(rng.integers(90, 170, 3)), 0.8)
    draw.rectangle((0, cy + geo.h * 0.12, geo.width, geo.height), fill=surface)
    colour = _rgb(rng.integers(120, 240, 3))
    size = geo.h * 0.28
    kind = int(rng.integers(0, 3))
    if looks.props:
        # Side by side, filling most of the frame: the insert is about them.
        count = len(looks.props)
        cell_w, cell_h = geo.w * 0.8 / count, geo.h * 0.62
        for i, (reference, still) in enumerate(looks.props):
            prop = _cutout(still, (round(cell_w * 0.92), round(cell_h)))
            left = geo.x0 + geo.w * 0.1 + cell_w * i + (cell_w - prop.width) / 2
            img.paste(prop, (round(left), round(cy - cell_h * 0.62)), prop)
            looks.drawn.append(reference)
        size = cell_h * 0.62
    elif kind == 0:
        draw.rounded_rectangle(
            (cx - size * 1.2, cy - size * 0.6, cx + size * 1.2, cy + size * 0.5),
            radius=size * 0.1,
            fill=colour,
            outline=(20, 20, 20),
            width=3,
        )
    elif kind == 1:
        draw.ellipse(_circle(cx, cy, size * 0.7), fill=colour, outline=(20, 20, 20), width=3)
    else:
        draw.polygon(
            [(cx - size, cy + size * 0.5), (cx, cy - size * 0.8), (cx + size, cy + size * 0.5)],
            fill=colour,
            outline=(20, 20, 20),
        )
    label = textwrap.shorten((previz.action or "insert").split(".")[0], 40, placeholder="…")
    draw.text(
        (cx, cy + size * 0.8),
        label,
        font=_font(max(14, geo.h // 22)),
        fill=(255, 255, 255),
        anchor="mm",
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )


# Where the horizon sits in the frame: low angles put it low, high angles lift it.
_HORIZON: dict[CameraAngle, float] = {
    CameraAngle.EYE_LEVEL: 0.62,
    CameraAngle.DUTCH: 0.62,
    CameraAngle.HIGH: 0.4,
    CameraAngle.LOW: 0.85,
    CameraAngle.WORMS_EYE: 0.85,
    CameraAngle.OVERHEAD: 0.05,
}


def _draw_set(geo: _Set, previz: Previz, looks: _Looks | None = None) -> Image.Image:
    looks = looks or _Looks()
    horizon = _HORIZON[previz.angle]
    img = Image.new("RGB", (geo.width, geo.height))
    if looks.location is not None:
        _draw_location_reference(img, looks.location[1], previz)
        looks.drawn.append(looks.location[0])
    else:
        _draw_backdrop(img, geo, previz, horizon)
    draw = ImageDraw.Draw(img)
    if _frames_an_object(previz, looks):
        _draw_insert(img, draw, geo, previz, looks)
        return img
    scale, most = _FIGURES[previz.framing]
    names = list(previz.characters)[:most] or ([""] if scale > 0.8 else [])
    figure_h = geo.h * scale
    floor_y = geo.y0 + geo.h * (horizon + (1 - horizon) * 0.6)
    # Feet visible: stand them on the floor; tighter: keep the eye line on the upper third.
    top = floor_y - figure_h if scale <= 0.82 else geo.y0 + geo.h * 0.33 - 0.09 * figure_h
    count = len(names)
    spread = min(1.0, 0.35 * count) if scale <= 1.0 else 0.6
    for i, name in enumerate(names):
        offset = (i - (count - 1) / 2) / max(count - 1, 1) * spread if count > 1 else 0.0
        look = looks.faces.get(name.strip().lower()) if name else None
        face = (img, look[1], geo) if look is not None else None
        _draw_figure(draw, geo.x0 + geo.w * (0.5 + offset), top, figure_h, name, floor_y, face)
        if look is not None:
            looks.drawn.append(look[0])
    if looks.props:
        _draw_props(img, geo, looks, geo.h * min(0.3, max(0.12, scale * 0.12)))
    return _tilt(img, previz)


def _frames_an_object(previz: Previz, looks: _Looks) -> bool:
    """Inserts, and an extreme close-up of nobody with a prop in the shot (the prop's close-up)."""
    prop_shot = previz.framing is Framing.EXTREME_CLOSE_UP and looks.props and not previz.characters
    return previz.framing is Framing.INSERT or bool(prop_shot)


def _tilt(img: Image.Image, previz: Previz) -> Image.Image:
    if previz.angle is CameraAngle.DUTCH:
        return img.rotate(8, resample=Image.Resampling.BICUBIC, expand=False)
    return img


def _caption(
    previz: Previz, motion: CameraMotion, request: RenderRequest, height: int
) -> np.ndarray:
    """The slate band: shot number, size, move, duration on one line, the action under it."""
    width = request.width
    band = Image.new("RGB", (width, height), (14, 14, 18))
    draw = ImageDraw.Draw(band)
    big = _font(int(height * 0.34))
    small = _font(int(height * 0.26))
    move = motion.label
    if motion.kind is not MotionKind.STATIC and motion.speed is not MotionSpeed.MEDIUM:
        move = f"{move} ({motion.speed})"
    head = f"#{previz.number}   {previz.framing.upper()}   {move.upper()}   {request.duration:.1f}s"
    pad = max(4, height // 8)
    draw.text((pad, pad), head, font=big, fill=(250, 210, 80))
    action = " ".join(previz.action.split()) or request.prompt
    limit = width - 2 * pad
    if draw.textlength(action, font=small) > limit:
        while action and draw.textlength(action + "…", font=small) > limit:
            action = action[:-1]
        action = action.rstrip() + "…"
    draw.text((pad, height - pad), action, font=small, fill=(235, 235, 235), anchor="ld")
    return np.asarray(band)


def _grade(image: Image.Image, look: str) -> Image.Image:
    """A colour grade from the style's words, applied once to the set: previz should read as the
    film's look (a noir board in black and white, a neon one in magenta and cyan)."""
    words = look.lower()
    if any(w in words for w in ("black and white", "monochrome", "b&w", "greyscale")):
        # Harder contrast, same exposure: a night set stays dark.
        grey = ImageEnhance.Contrast(image.convert("L")).enhance(1.35)
        return grey.convert("RGB")
    tints = (
        (("neon", "magenta", "cyan"), (200, 40, 200), 0.28),
        (("amber", "warm", "sepia", "honey", "ochre", "gold"), (220, 150, 60), 0.22),
        (("green", "cold", "desaturated"), (70, 110, 100), 0.3),
        (("pastel",), (250, 200, 210), 0.3),
    )
    for keys, colour, amount in tints:
        if any(key in words for key in keys):
            return Image.blend(image, Image.new("RGB", image.size, colour), amount)
    return image


class AnimaticRenderer:
    """Offline previz renderer: the set, the framing and the move, no model weights."""

    name = "animatic"

    @staticmethod
    def check_inputs(request: RenderRequest) -> None:
        if request.width % 2 or request.height % 2:
            raise InvalidRenderRequest(
                f"Width and height must be even, got {request.width}x{request.height}."
            )
        if min(request.width, request.height) < MIN_SIDE:
            raise InvalidRenderRequest(f"Width and height must be at least {MIN_SIDE} px.")
        if max(request.width, request.height) > MAX_SIDE:
            raise InvalidRenderRequest(f"Width and height must be at most {MAX_SIDE} px.")
        if request.frames < 1:
            raise InvalidRenderRequest("A shot needs at least one frame.")
        if not 1 <= request.fps <= 60:
            raise InvalidRenderRequest(f"The frame rate must be 1 to 60 fps, got {request.fps}.")
        if request.duration > MAX_SECONDS:
            raise InvalidRenderRequest(
                f"Shots are limited to {MAX_SECONDS:.0f} s; this one is {request.duration:.1f} s."
            )

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        self.check_inputs(request)
        started = time.perf_counter()
        previz = request.previz
        path = camera_path(previz, request.frames, request.seed)
        band_h = max(24, min(request.height // 5, int(request.height * 0.14) + 8)) & ~1
        pic_w, pic_h = request.width, request.height - band_h
        if pic_h < 16:
            raise InvalidRenderRequest("The frame is too short for the picture and its caption.")

        windows = _Windows.along(path, pic_w, pic_h)
        geo = windows.geo
        looks = _Looks.load(request.references)
        canvas_img = _grade(_draw_set(geo, previz, looks), previz.look)
        canvas = np.asarray(canvas_img)
        band = _caption(previz, path.motion, request, band_h)

        frames = np.empty((request.frames, request.height, request.width, 3), np.uint8)
        frames[:, pic_h:] = band
        total = math.ceil(request.frames / CHUNK_FRAMES)
        for chunk in range(total):
            if cancel is not None and cancel.cancelled:
                raise RenderCancelled("The animatic was cancelled.")
            for i in range(chunk * CHUNK_FRAMES, min(request.frames, (chunk + 1) * CHUNK_FRAMES)):
                frames[i, :pic_h] = windows.shoot(canvas_img, canvas, i)
            if progress is not None:
                last = min(request.frames, (chunk + 1) * CHUNK_FRAMES) - 1
                # Previews only at the ends: the first shows the staging, the last the move's end.
                preview = Image.fromarray(frames[last]) if chunk in (0, total - 1) else None
                progress(RenderProgress(step=chunk + 1, total=total, preview=preview))
        seconds = time.perf_counter() - started
        log.debug(
            "animatic #%s: %d frames in %.3f s (%s, %s)",
            previz.number,
            request.frames,
            seconds,
            previz.framing,
            path.motion.label,
        )
        return RenderResult(
            frames=frames,
            fps=request.fps,
            seconds=seconds,
            model=self.name,
            info={
                "size": previz.framing.value,
                "move": path.motion.label,
                "picture": [pic_w, pic_h],
                "canvas": [geo.width, geo.height],
                "references": _describe_drawn(request.references, looks.drawn),
                "first_frame": describe_first_frame(request.first_frame, takes_it=False),
            },
        )


def _describe_drawn(references: Sequence[ReferenceImage], drawn: Sequence[ReferenceImage]) -> str:
    """The take card's line: what the animatic drew, and what it had no place for."""
    if not references:
        return "none"
    shown = list(dict.fromkeys(drawn))
    missing = [reference for reference in references if reference not in shown]
    parts = []
    if shown:
        parts.append("used: " + ", ".join(reference.label for reference in shown))
    if missing:
        parts.append("not in frame: " + ", ".join(reference.label for reference in missing))
    return "; ".join(parts)


# The camera over the canvas, shared by the animatic and its staging passes.


@dataclass(frozen=True)
class _Windows:
    """Per-frame crop windows over a canvas (`geo`) that contains them all, in canvas pixels."""

    geo: _Set
    left: np.ndarray
    top: np.ndarray
    width: np.ndarray
    height: np.ndarray
    zoom: np.ndarray

    @classmethod
    def along(cls, path: CameraPath, pic_w: int, pic_h: int) -> _Windows:
        """Windows in picture units around the home frame; the canvas is sized to hold them."""
        win_w, win_h = pic_w * path.zoom, pic_h * path.zoom
        cx, cy = pic_w * (0.5 + path.dx), pic_h * (0.5 + path.dy)
        left, top = cx - win_w / 2, cy - win_h / 2
        margin_x = int(math.ceil(max(0.0, -left.min(), (left + win_w).max() - pic_w))) + 2
        margin_y = int(math.ceil(max(0.0, -top.min(), (top + win_h).max() - pic_h))) + 2
        geo = _Set(pic_w + 2 * margin_x, pic_h + 2 * margin_y, margin_x, margin_y, pic_w, pic_h)
        return cls(geo, left + margin_x, top + margin_y, win_w, win_h, path.zoom)

    def shoot(self, canvas_img: Image.Image, canvas: np.ndarray, i: int) -> np.ndarray:
        """Frame `i`: the window's picture at the frame size (RGB or grey, as the canvas)."""
        pic_w, pic_h = self.geo.w, self.geo.h
        x, y = self.left[i], self.top[i]
        if self.zoom[i] == 1.0:
            # Pure translation, snapped to whole pixels: a slice, no resampling.
            xi, yi = round(x), round(y)
            return canvas[yi : yi + pic_h, xi : xi + pic_w]
        box = (float(x), float(y), float(x + self.width[i]), float(y + self.height[i]))
        return np.asarray(canvas_img.resize((pic_w, pic_h), Image.Resampling.BILINEAR, box=box))


# Staging passes: the shot's set, figures and move as grey control video for models that follow
# one (VACE's `video=`). Same set, same camera path as the animatic, over the whole frame (no
# caption band), so what the crew approved in previz is what the model is asked to follow.

StagingPass = Literal["depth", "layout"]

# Depth-style grey levels: far is dark, near is bright.
_DEPTH_SKY = 10
_DEPTH_WALL = 50
_DEPTH_FLOOR_NEAR = 125  # the floor or ground at the bottom of the canvas
_DEPTH_FIGURE = (150, 215)  # from figures in a wide shot to a close-up's
_DEPTH_PROP = 245


def staging_pass(request: RenderRequest, kind: StagingPass = "depth") -> np.ndarray:
    """The shot's staging as (frames, height, width) uint8 grey frames at the request's size.

    "depth": layers of distance, far = dark: sky or back wall darkest (keeping a faint copy of the
    set's shading, so a pan over a bare wall still moves), the floor brightening towards the
    camera, figures brighter (closer framings brighter still), props nearest. "layout": the
    animatic's own graded set in grey. Either way the camera path is `camera_path`'s, applied as
    in `AnimaticRenderer.render`."""
    AnimaticRenderer.check_inputs(request)
    if kind not in ("depth", "layout"):
        raise InvalidRenderRequest(f"A staging pass is 'depth' or 'layout', not {kind!r}.")
    previz = request.previz
    path = camera_path(previz, request.frames, request.seed)
    windows = _Windows.along(path, request.width, request.height)
    looks = _Looks.load(request.references)
    if kind == "layout":
        canvas_img = _grade(_draw_set(windows.geo, previz, looks), previz.look).convert("L")
    else:
        canvas_img = _depth_set(windows.geo, previz, looks)
    canvas = np.asarray(canvas_img)
    frames = np.empty((request.frames, request.height, request.width), np.uint8)
    for i in range(request.frames):
        frames[i] = windows.shoot(canvas_img, canvas, i)
    return frames


def _depth_set(geo: _Set, previz: Previz, looks: _Looks) -> Image.Image:
    """The set as distance ("L" image): layers found by drawing the set bare, with its figures,
    and with its props, and seeing what each added."""
    horizon = _HORIZON[previz.angle]
    object_shot = _frames_an_object(previz, looks)
    backdrop = Image.new("RGB", (geo.width, geo.height))
    if looks.location is not None:
        _draw_location_reference(backdrop, looks.location[1], previz)
    else:
        _draw_backdrop(backdrop, geo, previz, horizon)
    full = np.asarray(_draw_set(geo, previz, replace(looks, drawn=[])))

    horizon_y = int(geo.y0 + geo.h * horizon)
    far = _DEPTH_SKY if previz.setting is Setting.EXTERIOR else _DEPTH_WALL
    column = np.full(geo.height, float(far))
    below = np.arange(geo.height) >= horizon_y
    reach = max(1, geo.height - horizon_y)
    column[below] = _DEPTH_WALL + (_DEPTH_FLOOR_NEAR - _DEPTH_WALL) * (
        (np.arange(geo.height)[below] - horizon_y) / reach
    )
    shading = np.asarray(backdrop.convert("L"), np.float32)
    depth = np.clip(0.8 * column[:, None] + 0.15 * shading, 0, 255).astype(np.uint8)
    base = Image.fromarray(depth, "L")
    if object_shot:
        back = np.asarray(backdrop)
        depth = np.asarray(base).copy()
        depth[np.any(full != back, axis=2)] = _DEPTH_PROP
        return Image.fromarray(depth, "L")
    back = np.asarray(_tilt(backdrop, previz))
    depth = np.asarray(_tilt(base, previz)).copy()
    figures = np.asarray(_draw_set(geo, previz, replace(looks, props=[], drawn=[])))
    scale = _FIGURES[previz.framing][0]
    near, nearest = _DEPTH_FIGURE
    depth[np.any(figures != back, axis=2)] = round(near + (nearest - near) * min(1.0, scale / 4))
    depth[np.any(full != figures, axis=2)] = _DEPTH_PROP
    return Image.fromarray(depth, "L")
