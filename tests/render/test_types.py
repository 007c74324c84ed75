from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from render.types import (
    CameraAngle,
    CameraMotion,
    Daylight,
    ElementKind,
    Framing,
    InvalidRenderRequest,
    MotionDirection,
    MotionKind,
    MotionSpeed,
    Previz,
    ReferenceImage,
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


MIA = ReferenceImage(
    path="/data/refs/ab/mia.png", sha256="a" * 64, kind=ElementKind.CHARACTER, name="Mia"
)
ALLEY = ReferenceImage(
    path="/data/refs/cd/alley.png",
    sha256="c" * 64,
    kind=ElementKind.LOCATION,
    name="ALLEY",
    view="wide",
)
LAST_FRAME = ReferenceImage(
    path="/clips/3.png",
    sha256="f" * 64,
    kind=ElementKind.LOCATION,
    name="shot 3",
    view="last frame",
)
WITH_IMAGES = RenderRequest(
    prompt="Mia in the alley", references=(MIA, ALLEY), first_frame=LAST_FRAME
)


def test_references_and_first_frame_round_trip() -> None:
    data = WITH_IMAGES.to_data()
    assert json.loads(json.dumps(data)) == data
    assert data["references"][0] == {
        "path": "/data/refs/ab/mia.png",
        "sha256": "a" * 64,
        "kind": "character",
        "name": "Mia",
        "view": "front",
    }
    assert data["first_frame"]["view"] == "last frame"
    assert RenderRequest.from_data(json.loads(json.dumps(data))) == WITH_IMAGES
    assert RenderRequest.from_data({"prompt": "x", "first_frame": None}).first_frame is None
    assert MIA.label == "Mia (front)"


def test_reference_from_file_hashes_its_bytes(tmp_path: Path) -> None:
    image = tmp_path / "mia.png"
    image.write_bytes(b"not really a png")
    reference = ReferenceImage.from_file(image, ElementKind.CHARACTER, "Mia")
    assert reference.sha256 == hashlib.sha256(b"not really a png").hexdigest()
    assert reference.path == str(image) and reference.view == "front"


def test_cache_key_follows_image_content_not_paths() -> None:
    plain = RenderRequest(prompt="Mia in the alley")
    moved = replace(
        WITH_IMAGES,
        references=(replace(MIA, path="D:/elsewhere/mia.png"), ALLEY),
        first_frame=replace(LAST_FRAME, path="/tmp/x.png"),
    )
    assert moved.cache_key() == WITH_IMAGES.cache_key()
    assert moved.cache_key("salt") == WITH_IMAGES.cache_key("salt")
    new_face = replace(WITH_IMAGES, references=(replace(MIA, sha256="b" * 64), ALLEY))
    new_start = replace(WITH_IMAGES, first_frame=replace(LAST_FRAME, sha256="e" * 64))
    keys = {
        plain.cache_key(),
        WITH_IMAGES.cache_key(),
        new_face.cache_key(),
        new_start.cache_key(),
        replace(WITH_IMAGES, first_frame=None).cache_key(),
        replace(WITH_IMAGES, references=(ALLEY, MIA)).cache_key(),  # order is what the model sees
    }
    assert len(keys) == 6


def test_request_without_images_keeps_its_old_key() -> None:
    # Keys computed by the release before requests could carry images: clips already in the
    # cache stay valid.
    assert RenderRequest(prompt="a dog").cache_key() == "7d614daaf951a89f87fecbb2d0ff0edf"
    close_up = RenderRequest(prompt="a dog", seed=3, previz=Previz(framing=Framing.CLOSE_UP))
    assert close_up.cache_key("salt") == "c6033f8b8c4328f3f7217ab84ea19c7a"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["references"][0].update(kind="person"), r"\(references\[0\].kind\)"),
        (lambda d: d["references"][1].pop("sha256"), r"\(references\[1\]\): sha256 is missing"),
        (lambda d: d.update(references="Mia"), r"\(references\): expected a list"),
        (lambda d: d["first_frame"].update(sha256="abc"), "64-character lowercase hex SHA-256"),
        (lambda d: d["first_frame"].update(path=""), "has no path"),
    ],
)
def test_from_data_says_what_it_cannot_read_in_images(
    change: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = WITH_IMAGES.to_data()
    change(data)
    with pytest.raises(InvalidRenderRequest, match=message):
        RenderRequest.from_data(data)
