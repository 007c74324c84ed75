from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from render.types import (
    CameraAngle,
    CameraMotion,
    Daylight,
    Framing,
    InvalidRenderRequest,
    MotionDirection,
    MotionKind,
    MotionSpeed,
    Previz,
    RenderRequest,
    Setting,
)

REQUEST = RenderRequest(
    prompt="a diner at night",
    negative_prompt="blurry",
    width=640,
    height=360,
    frames=49,
    fps=16,
    steps=30,
    guidance=4.5,
    seed=7,
    model="wan-1.3b",
    previz=Previz(
        number="12A",
        framing=Framing.CLOSE_UP,
        angle=CameraAngle.LOW,
        motion=CameraMotion(MotionKind.DOLLY, MotionDirection.OUT, MotionSpeed.FAST),
        action="Mara slides the envelope across.",
        location="Diner On Route 9",
        setting=Setting.EXTERIOR,
        daylight=Daylight.NIGHT,
        characters=("Mara", "Joe"),
        look="neon",
    ),
)


def test_to_data_is_plain_json() -> None:
    data = REQUEST.to_data()
    assert json.loads(json.dumps(data)) == data
    previz = data["previz"]
    assert previz["framing"] == "close-up" and type(previz["framing"]) is str
    assert previz["motion"] == {"kind": "dolly", "direction": "out", "speed": "fast"}
    assert previz["characters"] == ["Mara", "Joe"]
    assert data["guidance"] == 4.5 and data["frames"] == 49


def test_round_trip() -> None:
    assert RenderRequest.from_data(REQUEST.to_data()) == REQUEST
    assert RenderRequest.from_data(json.loads(json.dumps(REQUEST.to_data()))) == REQUEST
    assert RenderRequest.from_data({"prompt": "x"}) == RenderRequest(prompt="x")
    assert RenderRequest.from_data({"prompt": "x", "guidance": 5}).guidance == 5.0


def test_cache_key_is_deterministic_and_covers_the_card() -> None:
    same = RenderRequest.from_data(REQUEST.to_data())
    assert REQUEST.cache_key() == same.cache_key()
    assert REQUEST.cache_key() != REQUEST.cache_key("salt")
    still = RenderRequest(prompt=REQUEST.prompt, previz=Previz(motion=CameraMotion()))
    moving = RenderRequest(
        prompt=REQUEST.prompt, previz=Previz(motion=CameraMotion(MotionKind.PAN))
    )
    assert still.cache_key() != moving.cache_key()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("prompt"), "prompt is missing"),
        (lambda d: d.update(frames="49"), r"\(frames\): expected int"),
        (lambda d: d.update(seed=True), r"\(seed\): expected int"),
        (lambda d: d.update(size="close-up"), "does not know the fields size"),
        (lambda d: d["previz"].update(framing="gigantic"), "'gigantic' is not one of"),
        (
            lambda d: d["previz"]["motion"].update(kind="dolly in"),
            r"\(previz.motion.kind\): .dolly in. is not one of",
        ),
        (
            lambda d: d["previz"].update(characters="Mara"),
            r"\(previz.characters\): expected a list of names",
        ),
        (lambda d: d.update(previz="close-up"), "expected a mapping"),
        (lambda d: d["previz"]["motion"].update(direction="left"), "A dolly goes in or out"),
    ],
)
def test_from_data_says_what_it_cannot_read(
    change: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = REQUEST.to_data()
    change(data)
    with pytest.raises(InvalidRenderRequest, match=message):
        RenderRequest.from_data(data)


def test_motion_directions() -> None:
    assert CameraMotion(MotionKind.PAN).heading is MotionDirection.RIGHT
    assert CameraMotion(MotionKind.PAN, MotionDirection.LEFT).label == "pan left"
    assert CameraMotion(MotionKind.HANDHELD).label == "handheld"
    with pytest.raises(InvalidRenderRequest, match="no direction"):
        CameraMotion(MotionKind.STATIC, MotionDirection.LEFT)
    with pytest.raises(InvalidRenderRequest, match="A tilt goes up or down, not in"):
        CameraMotion(MotionKind.TILT, MotionDirection.IN)
    for kind in MotionKind:
        for direction in kind.directions:
            assert CameraMotion(kind, direction).heading is direction
