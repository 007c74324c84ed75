"""The animatic draws the shot's reference images: faces on figures, the location as the set,
props in inserts and in the foreground."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from render.animatic import AnimaticRenderer
from render.types import (
    Daylight,
    ElementKind,
    Framing,
    Previz,
    ReferenceImage,
    RenderError,
    RenderRequest,
)
from tests.render.stills_for_tests import checkerboard, save_reference

MAGENTA, GREEN = (255, 0, 255), (0, 255, 0)
YELLOW, BLUE = (255, 255, 0), (0, 0, 255)


def _request(*references: ReferenceImage, **previz: object) -> RenderRequest:
    card = Previz(
        number="4",
        framing=Framing.MEDIUM,
        action="Mara reads the letter.",
        location="Back alley",
        daylight=Daylight.DAY,
        characters=("Mara", "Joe"),
    )
    return RenderRequest(
        prompt="an alley",
        width=256,
        height=160,
        frames=5,
        fps=16,
        previz=dataclasses.replace(card, **previz),
        references=references,
    )


def _share(frames: np.ndarray, *colours: tuple[int, int, int], tolerance: int = 40) -> float:
    """The fraction of the first frame's pixels close to any of `colours`."""
    picture = frames[0].astype(int)
    hits = np.zeros(picture.shape[:2], bool)
    for colour in colours:
        hits |= (np.abs(picture - np.asarray(colour)) <= tolerance).all(axis=2)
    return float(hits.mean())


@pytest.fixture
def board(tmp_path: Path) -> Image.Image:
    return checkerboard()


def _render(request: RenderRequest) -> np.ndarray:
    return AnimaticRenderer().render(request).frames


def test_a_character_reference_becomes_the_figure_face(tmp_path: Path, board: Image.Image) -> None:
    mara = save_reference(tmp_path, board, "Mara")
    without = _render(_request())
    with_face = _render(_request(mara))
    assert _share(without, MAGENTA, GREEN) < 0.001
    assert _share(with_face, MAGENTA, GREEN) > 0.01
    close_up = _render(_request(mara, framing=Framing.CLOSE_UP, characters=("MARA",)))
    assert _share(close_up, MAGENTA, GREEN) > 0.1  # names match whatever the case


def test_tiny_figures_carry_a_portrait_card(tmp_path: Path, board: Image.Image) -> None:
    mara = save_reference(tmp_path, board, "Mara")
    wide = _request(mara, framing=Framing.EXTREME_WIDE)
    assert _share(_render(wide), MAGENTA, GREEN) > 0.002
    assert _share(_render(_request(framing=Framing.EXTREME_WIDE)), MAGENTA, GREEN) < 0.001


def test_a_location_reference_is_the_set_lit_and_graded_like_it(tmp_path: Path) -> None:
    alley = save_reference(
        tmp_path, checkerboard(colours=(YELLOW, BLUE)), "Back alley", ElementKind.LOCATION
    )
    day = _render(_request(alley, characters=()))
    assert _share(day, YELLOW, BLUE) > 0.5
    assert _share(_render(_request(characters=())), YELLOW, BLUE) < 0.01
    night = _render(_request(alley, characters=(), daylight=Daylight.NIGHT))
    assert night[0].mean() < day[0].mean() * 0.6
    noir = _render(_request(alley, characters=(), look="black and white"))
    picture = noir[0, :100].astype(int)
    assert np.abs(picture - picture.mean(axis=2, keepdims=True)).max() <= 2  # grey, like the set


def test_a_prop_reference_fills_its_insert_and_stands_in_other_shots(
    tmp_path: Path, board: Image.Image
) -> None:
    letter = save_reference(tmp_path, board, "the letter", ElementKind.PROP)
    insert = _render(_request(letter, framing=Framing.INSERT))
    assert _share(insert, MAGENTA, GREEN) > 0.06
    assert _share(_render(_request(framing=Framing.INSERT)), MAGENTA, GREEN) < 0.001
    close = _render(_request(letter, framing=Framing.EXTREME_CLOSE_UP, characters=()))
    assert _share(close, MAGENTA, GREEN) > 0.06
    medium = _share(_render(_request(letter)), MAGENTA, GREEN)
    assert 0.002 < medium < _share(insert, MAGENTA, GREEN)


def test_the_result_says_which_references_were_drawn(tmp_path: Path, board: Image.Image) -> None:
    mara = save_reference(tmp_path, board, "Mara")
    mara_profile = save_reference(
        tmp_path, board.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "Mara", view="profile"
    )
    ana = save_reference(tmp_path, board, "Ana")
    last = save_reference(tmp_path, board, "shot 3", ElementKind.LOCATION, view="last frame")
    request = dataclasses.replace(_request(mara_profile, mara, ana), first_frame=last)
    info = AnimaticRenderer().render(request).info
    assert info["references"] == "used: Mara (front); not in frame: Mara (profile), Ana (front)"
    assert info["first_frame"] == "not used by this model"
    assert AnimaticRenderer().render(_request()).info["references"] == "none"


def test_references_render_deterministically_and_a_new_picture_changes_the_frames(
    tmp_path: Path, board: Image.Image
) -> None:
    mara = save_reference(tmp_path, board, "Mara")
    recast = save_reference(tmp_path, checkerboard(colours=(YELLOW, BLUE)), "Mara")
    first, again = _render(_request(mara)), _render(_request(mara))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, _render(_request(recast)))


def test_a_missing_reference_fails_the_render_by_name(tmp_path: Path, board: Image.Image) -> None:
    mara = save_reference(tmp_path, board, "Mara")
    Path(mara.path).unlink()
    with pytest.raises(RenderError, match=r"Mara \(front\) is missing"):
        _render(_request(mara))
