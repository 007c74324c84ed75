from __future__ import annotations

from studio.diff import diff
from studio.edits import (
    AddReference,
    AddShot,
    MoveShot,
    RemoveProp,
    RemoveReference,
    RemoveShot,
    SetCharacter,
    SetLocation,
    SetProjectInfo,
    SetProp,
    SetStyle,
    ShotChanges,
    UpdateShot,
    apply_edit,
    apply_edits,
)
from tests.studio.conftest import make_reference, make_shotlist


def test_identical_versions_have_no_diff() -> None:
    shotlist = make_shotlist(3)
    assert diff(shotlist, shotlist) == []


def test_added_shot() -> None:
    before = make_shotlist(2)
    after = apply_edit(
        before, AddShot(shot=ShotChanges(description="she leaves", size="WS", duration=4))
    )
    assert diff(before, after) == ["+ 3. WS · static · 4s — she leaves"]


def test_removed_shot_and_renumbering() -> None:
    before = make_shotlist(3)
    after = apply_edit(before, RemoveShot(shot="1"))
    assert diff(before, after) == [
        "- 1. MS · static · 3s — action 1",
        "↕ 2 → 1. action 2",
        "↕ 3 → 2. action 3",
    ]


def test_changed_fields() -> None:
    before = make_shotlist(2)
    after = apply_edit(
        before,
        UpdateShot(
            shot="2",
            changes=ShotChanges(
                size="CU",
                duration=6,
                movement="pan",
                direction="left",
                characters=[],
                time_of_day="day",
            ),
        ),
    )
    [line] = diff(before, after)
    assert line.startswith("~ 2. ")
    for part in (
        "size medium shot → close-up",
        "movement static → pan",
        "direction — → left",
        "duration 4s → 6s",
        "characters Mara → —",
        "scene INT. KITCHEN - NIGHT → INT. KITCHEN - DAY",
    ):
        assert part in line
    assert "angle" not in line


def test_moved_shot() -> None:
    before = make_shotlist(3)
    after = apply_edit(before, MoveShot(shot="3", position=1))
    assert diff(before, after) == ["↕ 3 → 1. action 3", "↕ 1 → 2. action 1", "↕ 2 → 3. action 2"]


def test_style_change() -> None:
    before = make_shotlist(1)
    after = apply_edit(before, SetStyle(preset="noir"))
    assert diff(before, after) == ["* style: test look → film noir"]


def test_cast_lines() -> None:
    before = make_shotlist(1)
    added = apply_edit(before, SetCharacter(name="Theo", description="a porter"))
    assert diff(before, added) == ["* cast: + Theo: a porter"]
    changed = apply_edit(added, SetCharacter(name="Mara", description="a surgeon"))
    assert diff(added, changed) == ["* cast: Mara: a tired nurse in teal scrubs → a surgeon"]


def test_location_and_project_lines() -> None:
    before = make_shotlist(1)
    after = apply_edit(before, SetLocation(name="roof", description="windy"))
    assert diff(before, after) == ["* location: ROOF: windy"]
    retitled = apply_edit(before, SetProjectInfo(title="Day Shift"))
    assert diff(before, retitled) == ["* title: Night Shift → Day Shift"]


def test_reference_lines_say_who_added_what() -> None:
    before = make_shotlist(2)
    face = make_reference("face", added_by="ana")
    side = make_reference("side", "profile", source="generated", added_by="")
    after = apply_edits(
        before,
        [
            AddReference(element="character", name="Mara", reference=face),
            AddReference(element="location", name="kitchen", reference=side),
        ],
    )
    assert diff(before, after) == [
        "+ Mara: front reference (upload by ana)",
        "+ KITCHEN: profile reference (generated)",
    ]
    removed = apply_edit(
        after, RemoveReference(element="character", name="Mara", sha256=face.sha256)
    )
    assert diff(after, removed) == ["- Mara: front reference (upload by ana)"]
    assert diff(removed, after) == ["+ Mara: front reference (upload by ana)"]  # e.g. an undo


def test_prop_lines_and_shot_props_and_continuity() -> None:
    before = make_shotlist(2)
    after = apply_edits(
        before,
        [
            SetProp(name="the letter", description="sealed"),
            UpdateShot(shot="2", changes=ShotChanges(props=["the letter"], continues=True)),
        ],
    )
    assert diff(before, after) == [
        "~ 2. props — → the letter; continues no → yes",
        "* prop: + the letter: sealed",
    ]
    redescribed = apply_edit(after, SetProp(name="The Letter", description="torn open"))
    assert diff(after, redescribed) == ["* prop: The Letter: sealed → torn open"]
    gone = apply_edit(after, RemoveProp(name="the letter"))
    assert diff(after, gone) == ["~ 2. props the letter → —", "* prop: - the letter"]
