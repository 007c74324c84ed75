"""Every camera move studio can write, in every direction, staged by the animatic and measured on
its frames.

Shots go through `bot.camera` (studio's vocabulary → render's), so this also exercises that
mapping. What each studio (move, direction) pair does, as the slate names it:

- A direction in the move's own name wins: dolly in/out and zoom in/out ignore the shot's direction
  ("dolly out" + "left" is a dolly out).
- Pan, whip pan, truck, follow (staged as a truck) and arc go left or right; tilt, pedestal and crane
  go up or down. Without a direction, or with one they cannot take ("pan" + "up"), they go their
  usual way: right, or up.
- Static, dolly zoom, handheld and steadicam take no direction; any direction is dropped.

On screen the set moves against the camera: a pan, truck or arc right slides it left; a tilt,
pedestal or crane up slides it down; a dolly or zoom in makes it grow. A crane also pulls back a
little (the set shrinks), and the animatic stages a dolly zoom as its zoom only (set and figures
share one canvas), so the set grows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from bot.camera import RenderDefaults, request_for
from render.animatic import AnimaticRenderer
from render.types import RenderResult
from studio.models import Scene, Shot, ShotList
from studio.vocab import CameraMove, IntExt, MoveDirection, MoveSpeed, ShotSize, TimeOfDay

LEFT, RIGHT, UP, DOWN = (
    MoveDirection.LEFT,
    MoveDirection.RIGHT,
    MoveDirection.UP,
    MoveDirection.DOWN,
)
SIDEWAYS = (RIGHT, LEFT)  # the usual direction first
UPWARDS = (UP, DOWN)

# Studio move → the name the slate gives it, and the directions it can take.
MOVES: dict[CameraMove, tuple[str, tuple[MoveDirection, ...]]] = {
    CameraMove.STATIC: ("static", ()),
    CameraMove.PAN: ("pan", SIDEWAYS),
    CameraMove.WHIP_PAN: ("whip pan", SIDEWAYS),
    CameraMove.TILT: ("tilt", UPWARDS),
    CameraMove.DOLLY_IN: ("dolly in", ()),
    CameraMove.DOLLY_OUT: ("dolly out", ()),
    CameraMove.TRUCK: ("truck", SIDEWAYS),
    CameraMove.FOLLOW: ("truck", SIDEWAYS),
    CameraMove.PEDESTAL: ("pedestal", UPWARDS),
    CameraMove.CRANE: ("crane", UPWARDS),
    CameraMove.ARC: ("arc", SIDEWAYS),
    CameraMove.ZOOM_IN: ("zoom in", ()),
    CameraMove.ZOOM_OUT: ("zoom out", ()),
    CameraMove.DOLLY_ZOOM: ("dolly zoom", ()),
    CameraMove.HANDHELD: ("handheld", ()),
    CameraMove.STEADICAM: ("steadicam", ()),
}


def expected_move(move: CameraMove, direction: MoveDirection) -> str:
    name, ways = MOVES[move]
    if not ways:
        return name
    return f"{name} {direction if direction in ways else ways[0]}"


@dataclass(frozen=True)
class Effect:
    """How the set moves in frame from the first frame to the measured one: each -1, 0 or +1.
    `growth` +1: the content grows; `across` +1: it slides right; `down` +1: it slides down."""

    growth: int = 0
    across: int = 0
    down: int = 0


DRIFT = Effect()  # handheld and steadicam: a small wander, checked apart

EFFECTS: dict[str, Effect] = {
    "static": Effect(),
    "dolly in": Effect(growth=1),
    "zoom in": Effect(growth=1),
    "dolly zoom": Effect(growth=1),
    "dolly out": Effect(growth=-1),
    "zoom out": Effect(growth=-1),
    **{f"{move} right": Effect(across=-1) for move in ("pan", "whip pan", "truck", "arc")},
    **{f"{move} left": Effect(across=1) for move in ("pan", "whip pan", "truck", "arc")},
    **{f"{move} up": Effect(down=1) for move in ("tilt", "pedestal")},
    **{f"{move} down": Effect(down=-1) for move in ("tilt", "pedestal")},
    "crane up": Effect(growth=-1, down=1),
    "crane down": Effect(growth=-1, down=-1),
    "handheld": DRIFT,
    "steadicam": DRIFT,
}

PAIRS = [(move, direction) for move in CameraMove for direction in MoveDirection]


def test_every_studio_move_is_described() -> None:
    assert set(MOVES) == set(CameraMove)
    assert {expected_move(move, way) for move, way in PAIRS} == set(EFFECTS)


def _render(move: CameraMove, direction: MoveDirection) -> RenderResult:
    """A slow move (the frames keep enough overlap to measure), 160x120, 9 frames."""
    shot = Shot(
        number="4",
        description="Mara waits by the counter.",
        characters=("Mara", "Joe"),
        size=ShotSize.FULL,
        movement=move,
        direction=direction,
        speed=MoveSpeed.SLOW,
        duration=0.5,
        scene=Scene(int_ext=IntExt.INT, location="Diner on Route 9", time_of_day=TimeOfDay.DAY),
    )
    shotlist = ShotList(fps=18, shots=(shot,))
    request = request_for(shotlist, shot, RenderDefaults(width=160, height=120))
    assert request.frames == 9
    return AnimaticRenderer().render(request)


@pytest.mark.parametrize(("move", "direction"), PAIRS, ids=lambda v: str(v) or "none")
def test_move_reported_and_performed(move: CameraMove, direction: MoveDirection) -> None:
    result = _render(move, direction)
    expected = expected_move(move, direction)
    assert result.info["move"] == expected

    # A whip pan slides 1.5 frame widths: measure it halfway, before the set has left the frame.
    last = len(result.frames) // 2 if move is CameraMove.WHIP_PAN else -1
    growth, across, down = _measure_move(result, last)
    effect = EFFECTS[expected]
    if effect is DRIFT:
        assert not np.array_equal(result.frames[0], result.frames[-1])
        assert abs(across) < 0.03 and abs(down) < 0.03 and abs(math.log(growth)) < 0.03
        return
    measured = Effect(
        growth=_sign(math.log(growth), big=0.06, small=0.02),
        across=_sign(across, big=0.08, small=0.01),
        down=_sign(down, big=0.08, small=0.01),
    )
    assert measured == effect, (expected, growth, across, down)


def _sign(value: float, *, big: float, small: float) -> int | float:
    """+1 or -1 for a clear change, 0 for none, the value itself when it is neither."""
    if abs(value) >= big:
        return 1 if value > 0 else -1
    return 0 if abs(value) <= small else value


def test_dolly_out_with_a_direction_pulls_out() -> None:
    """The bug this vocabulary fixes: "dolly out" + "left" used to render as a dolly in."""
    result = _render(CameraMove.DOLLY_OUT, LEFT)
    growth, across, down = _measure_move(result)
    assert result.info["move"] == "dolly out"
    assert growth < 0.9 and abs(across) < 0.01 and abs(down) < 0.01


# Measuring the move: find the content growth g and shift (dx, dy) that take the first frame to the
# last. For each g on a grid, enlarge one frame by g about its centre and phase-correlate it with
# the other; the sharpest correlation peak wins and its position is the shift.


def _measure_move(result: RenderResult, last: int = -1) -> tuple[float, float, float]:
    """The move from the first frame to frame `last`, on the picture (the caption band stays)."""
    _, picture_h = result.info["picture"]
    return measure(result.frames[0, :picture_h], result.frames[last, :picture_h])


def measure(first: np.ndarray, last: np.ndarray) -> tuple[float, float, float]:
    """(growth, dx, dy): `last` ≈ `first` enlarged `growth` times about the centre, then shifted
    by (dx, dy) fractions of the frame (positive: right, down)."""
    a, b = _grey(first), _grey(last)
    h, w = a.shape
    best = (-math.inf, 1.0, 0.0, 0.0)
    for g in np.exp(np.arange(-15, 16) * 0.02):  # 0.74x .. 1.35x
        if g >= 1:
            peak, dx, dy = _phase_correlate(_enlarge(a, g), b)
        else:  # enlarge the other frame instead, then bring its shift back to the first's scale
            peak, dx, dy = _phase_correlate(a, _enlarge(b, 1 / g))
            dx, dy = dx * g, dy * g
        if peak > best[0]:
            best = (peak, float(g), dx / w, dy / h)
    return best[1:]


def _grey(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _enlarge(image: np.ndarray, g: float) -> np.ndarray:
    h, w = image.shape
    box = (w / 2 * (1 - 1 / g), h / 2 * (1 - 1 / g), w / 2 * (1 + 1 / g), h / 2 * (1 + 1 / g))
    return np.asarray(Image.fromarray(image).resize((w, h), Image.Resampling.BILINEAR, box=box))


def _phase_correlate(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(peak, dx, dy) with b ≈ a shifted by (dx, dy) whole pixels; a sharper peak, a better match."""
    h, w = a.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    fa = np.fft.fft2((a - a.mean()) * window)
    fb = np.fft.fft2((b - b.mean()) * window)
    cross = fb * np.conj(fa)
    surface = np.fft.ifft2(cross / (np.abs(cross) + 1e-9)).real
    iy, ix = np.unravel_index(int(np.argmax(surface)), surface.shape)
    dy = iy - h if iy > h // 2 else iy
    dx = ix - w if ix > w // 2 else ix
    return float(surface.max()), float(dx), float(dy)
