from __future__ import annotations

from enum import StrEnum

import pytest

from studio.errors import InvalidValue, SlateError
from studio.vocab import (
    Angle,
    CameraMove,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ShotSize,
    ShotStatus,
    TimeOfDay,
    Transition,
    aliases,
    fold,
    parse,
)

ENUMS: list[type[StrEnum]] = [
    ShotSize,
    Angle,
    CameraMove,
    MoveDirection,
    MoveSpeed,
    Transition,
    ShotStatus,
    IntExt,
    TimeOfDay,
]


@pytest.mark.parametrize(
    ("enum", "text", "expected"),
    [
        (ShotSize, "close up", ShotSize.CLOSE_UP),
        (ShotSize, "CU", ShotSize.CLOSE_UP),
        (ShotSize, "closeup", ShotSize.CLOSE_UP),
        (ShotSize, "Close-Up", ShotSize.CLOSE_UP),
        (ShotSize, "  close-up  ", ShotSize.CLOSE_UP),
        (ShotSize, "MCU", ShotSize.MEDIUM_CLOSE_UP),
        (ShotSize, "ECU", ShotSize.EXTREME_CLOSE_UP),
        (ShotSize, "cowboy", ShotSize.MEDIUM_WIDE),
        (ShotSize, "OTS", ShotSize.OVER_THE_SHOULDER),
        (ShotSize, "over the shoulder", ShotSize.OVER_THE_SHOULDER),
        (ShotSize, "2S", ShotSize.TWO_SHOT),
        (CameraMove, "push in", CameraMove.DOLLY_IN),
        (CameraMove, "Push-In", CameraMove.DOLLY_IN),
        (CameraMove, "pull back", CameraMove.DOLLY_OUT),
        (CameraMove, "vertigo", CameraMove.DOLLY_ZOOM),
        (CameraMove, "hand-held", CameraMove.HANDHELD),
        (Angle, "bird's eye", Angle.OVERHEAD),
        (Angle, "birds-eye", Angle.OVERHEAD),
        (Angle, "worm's eye", Angle.WORMS_EYE),
        (Angle, "Dutch", Angle.DUTCH),
        (IntExt, "EXT.", IntExt.EXT),
        (IntExt, "int", IntExt.INT),
        (IntExt, "INT./EXT.", IntExt.INT_EXT),
        (TimeOfDay, "sunset", TimeOfDay.DUSK),
        (TimeOfDay, "night", TimeOfDay.NIGHT),
        (MoveSpeed, "slowly", MoveSpeed.SLOW),
        (MoveDirection, "none", MoveDirection.NONE),
        (MoveDirection, "", MoveDirection.NONE),
        (Transition, "fade to black", Transition.FADE_OUT),
    ],
)
def test_parse_accepts_crew_spellings(enum: type[StrEnum], text: str, expected: StrEnum) -> None:
    assert parse(enum, text) is expected


def test_parse_returns_members_unchanged() -> None:
    assert parse(ShotSize, ShotSize.INSERT) is ShotSize.INSERT


@pytest.mark.parametrize(
    ("enum", "text", "label"),
    [
        (ShotSize, "gigantic shot", "shot size"),
        (CameraMove, "teleport", "camera move"),
        (Angle, "sideways", "camera angle"),
        (TimeOfDay, "teatime", "time of day"),
    ],
)
def test_unknown_term_raises_invalid_value_listing_options(
    enum: type[StrEnum], text: str, label: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse(enum, text)
    message = str(caught.value)
    assert f"'{text}'" in message
    assert label in message
    for member in enum:
        if member.value:
            assert member.value in message
    assert isinstance(caught.value, SlateError)
    assert isinstance(caught.value, ValueError)


def test_option_list_skips_the_empty_direction() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse(MoveDirection, "diagonal")
    assert "Try one of: left, right, up, down." in str(caught.value)


@pytest.mark.parametrize(
    ("enum", "member"),
    [(enum, member) for enum in ENUMS for member in enum],
    ids=lambda v: v.__name__ if isinstance(v, type) else repr(str(v)),
)
def test_every_member_round_trips(enum: type[StrEnum], member: StrEnum) -> None:
    assert parse(enum, member.value) is member
    assert parse(enum, member.name) is member
    assert parse(enum, member.name.lower().replace("_", " ")) is member


def test_aliases_table_covers_abbreviations() -> None:
    table = aliases(ShotSize)
    for size in ShotSize:
        assert table[size.abbreviation.lower()] is size
    # A copy: mutating it must not corrupt the parser.
    table["cu"] = ShotSize.WIDE
    assert parse(ShotSize, "CU") is ShotSize.CLOSE_UP


def test_tightness_orders_sizes() -> None:
    assert ShotSize.EXTREME_WIDE.tightness < ShotSize.WIDE.tightness < ShotSize.MEDIUM.tightness
    assert (
        ShotSize.MEDIUM.tightness
        < ShotSize.CLOSE_UP.tightness
        < ShotSize.EXTREME_CLOSE_UP.tightness
    )


def test_fold_is_public_and_matches_alias_keys() -> None:
    assert fold("Close-Up") == fold("close up") == fold("CLOSEUP") == "closeup"
    assert fold("bird’s eye") == fold("bird's-eye") == "bird'seye"  # typographic apostrophe
    assert all(key == fold(key) for key in aliases(ShotSize))
