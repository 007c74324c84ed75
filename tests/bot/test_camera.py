"""Studio's vocabulary on render's side: every term maps, and the shot's card reads as the shot."""

from __future__ import annotations

import pytest

from bot.camera import (
    angle_for,
    daylight_for,
    direction_for,
    framing_for,
    motion_for,
    move_for,
    previz_card,
    setting_for,
    speed_for,
)
from render.types import (
    CameraAngle,
    CameraMotion,
    Daylight,
    Framing,
    MotionDirection,
    MotionKind,
    MotionSpeed,
    Setting,
)
from studio.models import Scene, Shot, ShotList
from studio.vocab import (
    Angle,
    CameraMove,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ShotSize,
    TimeOfDay,
)


def test_every_term_has_a_render_term() -> None:
    assert {framing_for(size) for size in ShotSize} == set(Framing)
    assert {angle_for(angle) for angle in Angle} == set(CameraAngle)
    assert {move_for(move)[0] for move in CameraMove} == set(MotionKind)
    assert {speed_for(speed) for speed in MoveSpeed} == set(MotionSpeed)
    assert {daylight_for(time) for time in TimeOfDay} == set(Daylight)
    assert {setting_for(place) for place in IntExt} == set(Setting)
    assert {direction_for(way) for way in MoveDirection} <= set(MotionDirection)


@pytest.mark.parametrize("move", list(CameraMove))
def test_every_move_direction_and_speed_makes_a_valid_motion(move: CameraMove) -> None:
    for direction in MoveDirection:
        for speed in MoveSpeed:
            motion = motion_for(move, direction, speed)  # CameraMotion checks its direction
            assert motion.speed is speed_for(speed)


@pytest.mark.parametrize(
    ("move", "direction", "expected"),
    [
        (
            CameraMove.DOLLY_OUT,
            MoveDirection.LEFT,
            CameraMotion(MotionKind.DOLLY, MotionDirection.OUT),
        ),
        (CameraMove.ZOOM_OUT, MoveDirection.UP, CameraMotion(MotionKind.ZOOM, MotionDirection.OUT)),
        (
            CameraMove.DOLLY_IN,
            MoveDirection.NONE,
            CameraMotion(MotionKind.DOLLY, MotionDirection.IN),
        ),
        (CameraMove.PAN, MoveDirection.LEFT, CameraMotion(MotionKind.PAN, MotionDirection.LEFT)),
        (CameraMove.PAN, MoveDirection.UP, CameraMotion(MotionKind.PAN)),
        (CameraMove.TILT, MoveDirection.DOWN, CameraMotion(MotionKind.TILT, MotionDirection.DOWN)),
        (
            CameraMove.FOLLOW,
            MoveDirection.LEFT,
            CameraMotion(MotionKind.TRUCK, MotionDirection.LEFT),
        ),
        (CameraMove.STATIC, MoveDirection.LEFT, CameraMotion()),
        (CameraMove.HANDHELD, MoveDirection.DOWN, CameraMotion(MotionKind.HANDHELD)),
    ],
)
def test_motion_for(move: CameraMove, direction: MoveDirection, expected: CameraMotion) -> None:
    assert motion_for(move, direction, MoveSpeed.MEDIUM) == expected


def test_previz_card_reads_the_shot() -> None:
    shot = Shot(
        number="3",
        description="Mia reads the letter.",
        characters=("Mia",),
        size=ShotSize.OVER_THE_SHOULDER,
        angle=Angle.WORMS_EYE,
        movement=CameraMove.CRANE,
        direction=MoveDirection.DOWN,
        speed=MoveSpeed.FAST,
        scene=Scene(int_ext=IntExt.EXT, location="back alley", time_of_day=TimeOfDay.EVENING),
    )
    card = previz_card(ShotList(shots=(shot,)), shot)
    assert card.framing is Framing.MEDIUM_CLOSE_UP
    assert card.angle is CameraAngle.WORMS_EYE
    assert card.motion == CameraMotion(MotionKind.CRANE, MotionDirection.DOWN, MotionSpeed.FAST)
    assert (card.setting, card.daylight) == (Setting.EXTERIOR, Daylight.DUSK)
    assert (card.number, card.location, card.characters) == ("3", "Back Alley", ("Mia",))
