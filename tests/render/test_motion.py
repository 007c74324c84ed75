"""Measuring a take's camera move: synthetic clips with known motion, and every move the studio can
ask for, staged by the animatic (through `bot.camera`, as the production builds requests)."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest

from bot.camera import RenderDefaults, request_for
from render.animatic import AnimaticRenderer
from render.motion import MeasuredMotion, measure_motion, measure_take
from render.types import CameraMotion, MotionDirection, MotionKind, MotionSpeed, RenderRequest
from studio.models import Scene, Shot, ShotList
from studio.vocab import CameraMove, IntExt, MoveDirection, MoveSpeed, ShotSize, TimeOfDay

cv2 = pytest.importorskip("cv2")

K, D = MotionKind, MotionDirection


def _texture(height: int = 360, width: int = 640, seed: int = 0) -> np.ndarray:
    """A textured RGB still: blurred noise at two scales, so flow has something to hold on to."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.random((height // 16, width // 16)), (width, height))
    fine = cv2.GaussianBlur(rng.random((height, width)), (0, 0), 1.5)
    grey = (0.6 * coarse + 0.4 * fine) * 255
    return np.repeat(grey.astype(np.uint8)[..., None], 3, axis=2)


def _clip(
    frames: int = 33,
    *,
    grow: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
    turn: float = 0.0,
    shake: float = 0.0,
    size: tuple[int, int] = (320, 180),
) -> np.ndarray:
    """The texture filmed with a known move: the picture grows `grow` times, slides by `shift`
    (fractions of the frame, + right/down) and turns `turn` degrees counter-clockwise on screen,
    evenly over the clip; `shake` adds a random wander of that many frame fractions."""
    width, height = size
    still = _texture(height * 2, width * 2)
    rng = np.random.default_rng(1)
    out = np.empty((frames, height, width, 3), np.uint8)
    for i in range(frames):
        t = i / max(frames - 1, 1)
        zoom = grow**t
        wobble = rng.normal(0, shake, 2) if shake else np.zeros(2)
        matrix = cv2.getRotationMatrix2D((width, height), turn * t, zoom)
        # Centre the big still's middle in the frame, then slide.
        matrix[0, 2] += -width / 2 + (shift[0] * t + wobble[0]) * width
        matrix[1, 2] += -height / 2 + (shift[1] * t + wobble[1]) * height
        out[i] = cv2.warpAffine(still, matrix, (width, height), flags=cv2.INTER_LINEAR)
    return out


@pytest.mark.parametrize(
    ("clip", "kind", "direction"),
    [
        ({}, K.STATIC, D.NONE),
        ({"grow": 1.3}, K.DOLLY, D.IN),
        ({"grow": 0.75}, K.DOLLY, D.OUT),
        ({"shift": (-0.25, 0.0)}, K.PAN, D.RIGHT),  # the picture slides left: the camera goes right
        ({"shift": (0.25, 0.0)}, K.PAN, D.LEFT),
        ({"shift": (0.0, 0.25)}, K.TILT, D.UP),  # it slides down: the camera goes up
        ({"shift": (0.0, -0.25)}, K.TILT, D.DOWN),
        ({"turn": 12.0}, K.ARC, D.RIGHT),  # it turns counter-clockwise: the camera rolls clockwise
        ({"turn": -12.0}, K.ARC, D.LEFT),
        ({"shake": 0.01}, K.HANDHELD, D.NONE),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else "+".join(v) or "still",
)
def test_known_motion_is_recovered(
    clip: dict[str, object], kind: MotionKind, direction: MotionDirection
) -> None:
    measured = measure_motion(_clip(**clip), fps=16)  # type: ignore[arg-type]
    assert (measured.kind, measured.direction) == (kind, direction), measured
    assert measured.confidence > 0.3, measured


def test_magnitudes_are_in_frame_units() -> None:
    moved = measure_motion(_clip(grow=1.2, shift=(-0.1, 0.05)), fps=16)
    assert moved.scale == pytest.approx(1.2, rel=0.02)
    # The shift happens on the enlarged picture's centre: the camera went right and up.
    assert moved.horizontal == pytest.approx(0.1, abs=0.01)
    assert moved.vertical == pytest.approx(0.05, abs=0.01)
    turned = measure_motion(_clip(turn=10.0), fps=16)
    assert turned.roll == pytest.approx(10.0, abs=0.5)
    assert turned.label == "roll right"
    assert turned.seconds == pytest.approx(2.0)


def test_a_figure_crossing_a_still_frame_is_not_a_move() -> None:
    """RANSAC keeps the set, not the actor: a bright block walks across a locked-off frame."""
    frames = np.repeat(_clip(frames=1), 25, axis=0)
    for i, frame in enumerate(frames):
        x = 20 + i * 8
        frame[60:150, x : x + 50] = 230
    measured = measure_motion(frames, fps=16)
    assert measured.kind is K.STATIC, measured


def test_mismatches_are_reported() -> None:
    pans_right = measure_motion(_clip(shift=(-0.25, 0.0)), fps=16)
    assert pans_right.matches(CameraMotion(K.PAN, D.RIGHT))
    assert pans_right.matches(CameraMotion(K.TRUCK, D.RIGHT))  # frames can't tell them apart
    assert not pans_right.matches(CameraMotion(K.PAN, D.LEFT))
    assert not pans_right.matches(CameraMotion(K.DOLLY, D.IN))
    assert not pans_right.matches(CameraMotion(K.STATIC))
    assert pans_right.verdict(CameraMotion(K.TRUCK, D.RIGHT)) == "truck right ✓"
    assert pans_right.verdict(CameraMotion(K.PAN, D.LEFT)) == "pan right ✗"

    pushes_in = measure_motion(_clip(grow=1.3), fps=16)
    assert pushes_in.matches(CameraMotion(K.ZOOM, D.IN))
    assert pushes_in.verdict(CameraMotion(K.ZOOM, D.IN, MotionSpeed.SLOW)) == "zoom in ✓"
    assert not pushes_in.matches(CameraMotion(K.DOLLY, D.OUT))
    assert not pushes_in.matches(CameraMotion(K.HANDHELD))

    still = measure_motion(_clip(), fps=16)
    assert not still.matches(CameraMotion(K.DOLLY, D.IN))
    assert not still.matches(CameraMotion(K.HANDHELD))
    assert still.verdict(CameraMotion(K.CRANE, D.UP)) == "static ✗"


def test_measured_motion_round_trips() -> None:
    measured = measure_motion(_clip(grow=1.3), fps=16)
    assert MeasuredMotion.from_data(measured.to_data()) == measured
    with pytest.raises(ValueError, match="Not a measured camera move"):
        MeasuredMotion.from_data({**measured.to_data(), "axis": "sideways"})


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="Expected"):
        measure_motion(np.zeros((4, 8)), fps=16)
    with pytest.raises(ValueError, match="frame rate"):
        measure_motion(np.zeros((4, 8, 8, 3), np.uint8), fps=0)
    one = measure_motion(np.zeros((1, 32, 32, 3), np.uint8), fps=16)
    assert one.kind is K.STATIC and one.pairs == 0


# Every studio move × direction, staged by the animatic: the measured move matches the ask.

PAIRS = [(move, direction) for move in CameraMove for direction in MoveDirection]


def _request(
    move: CameraMove,
    direction: MoveDirection,
    speed: MoveSpeed = MoveSpeed.SLOW,
    size: tuple[int, int] = (160, 120),
    duration: float = 0.5,
    fps: int = 18,
) -> RenderRequest:
    shot = Shot(
        number="4",
        description="Mara waits by the counter.",
        characters=("Mara", "Joe"),
        size=ShotSize.FULL,
        movement=move,
        direction=direction,
        speed=speed,
        duration=duration,
        scene=Scene(int_ext=IntExt.INT, location="Diner on Route 9", time_of_day=TimeOfDay.DAY),
    )
    return request_for(
        ShotList(fps=fps, shots=(shot,)), shot, RenderDefaults(width=size[0], height=size[1])
    )


def _animatic(move: CameraMove, direction: MoveDirection) -> tuple[CameraMotion, MeasuredMotion]:
    """A slow move, 160x120, 9 frames, as tests/render/test_camera_moves.py stages them."""
    request = _request(move, direction)
    return request.previz.motion, measure_take(AnimaticRenderer().render(request))


@pytest.mark.parametrize(("move", "direction"), PAIRS, ids=lambda v: str(v) or "none")
def test_every_studio_move_measures_as_asked(move: CameraMove, direction: MoveDirection) -> None:
    asked, measured = _animatic(move, direction)
    assert measured.matches(asked), (asked.label, measured)


@pytest.mark.parametrize("speed", [MoveSpeed.MEDIUM, MoveSpeed.FAST])
def test_longer_takes_measure_as_asked_at_every_speed(speed: MoveSpeed) -> None:
    """41 frames at 416x240, where moves travel further (a fast pan crosses 60% of the frame);
    each distinct move once. benchmarks/motion_check.py runs every pair at 832x480x81."""
    requests = {}
    for move, direction in PAIRS:
        request = _request(move, direction, speed, (416, 240), 2.5, 16)
        requests.setdefault(request.previz.motion, request)
    wrong = []
    for asked, request in requests.items():
        measured = measure_take(AnimaticRenderer().render(request))
        if not measured.matches(asked):
            wrong.append((asked.label, measured))
    assert not wrong


def test_a_take_that_contradicts_the_ask_is_a_mismatch() -> None:
    """The frames of a pan left, checked against every other ask, match only the pan family."""
    asked, measured = _animatic(CameraMove.PAN, MoveDirection.LEFT)
    assert measured.matches(asked)
    for other in (
        CameraMotion(K.PAN, D.RIGHT),
        CameraMotion(K.TILT, D.UP),
        CameraMotion(K.DOLLY, D.IN),
        CameraMotion(K.ZOOM, D.OUT),
        CameraMotion(K.STATIC),
        CameraMotion(K.HANDHELD),
    ):
        assert not measured.matches(other), other


def test_measuring_a_full_take_is_fast() -> None:
    """The issue asks under 0.3 s of CPU for 81 frames at 832x480 (benchmarks/motion_check.py
    measures it properly); the bound here is loose so a busy machine does not fail it."""
    shot_frames = _clip(frames=81, grow=1.3, size=(832, 480))
    measure_motion(shot_frames, fps=16)  # warm up OpenCV
    started = time.process_time()
    measure_motion(shot_frames, fps=16)
    assert time.process_time() - started < 1.5
    assert math.isfinite(started)


@pytest.mark.parametrize("seed", range(12))
def test_a_slow_wander_is_never_static(seed: int) -> None:
    """The animatic's handheld path is random per take: whatever it draws, a hand is not a tripod,
    and a locked-off shot of the same set measures static."""
    request = _request(CameraMove.HANDHELD, MoveDirection.NONE)
    wander = measure_take(AnimaticRenderer().render(replace(request, seed=seed)))
    assert wander.kind is K.HANDHELD, wander
    still = _request(CameraMove.STATIC, MoveDirection.NONE)
    assert measure_take(AnimaticRenderer().render(replace(still, seed=seed))).kind is K.STATIC


def test_measuring_a_take_leaves_nothing_holding_its_frames() -> None:
    """A take's frames (about 100 MB at 832x480) are freed as soon as the caller drops them, not
    at the garbage collector's next full pass: a bot measuring take after take stays flat."""
    import gc
    import weakref

    frames = np.random.default_rng(3).integers(0, 255, (17, 120, 160, 3), np.uint8)
    held = weakref.ref(frames)
    gc.disable()
    try:
        measure_motion(frames, 16.0)
        del frames
        assert held() is None
    finally:
        gc.enable()
