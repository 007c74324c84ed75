from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.edits import (
    AddReference,
    AddShot,
    Edit,
    MoveShot,
    RemoveProp,
    RemoveReference,
    RemoveShot,
    ReplaceShots,
    SetCharacter,
    SetLocation,
    SetProjectInfo,
    SetProp,
    SetStyle,
    ShotChanges,
    SplitShot,
    SwapShots,
    UpdateShot,
    apply_edit,
    apply_edits,
    describe_edit,
    describe_edits,
    dump_edits,
    parse_edit,
    parse_edits,
)
from studio.errors import EditError, InvalidValue, ShotNotFound, SlateError
from studio.models import MAX_SHOTS, Prop, Scene, Shot, ShotList
from studio.styles import style_preset
from studio.vocab import (
    CameraMove,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ShotSize,
    ShotStatus,
    TimeOfDay,
)
from tests.studio.conftest import make_reference, make_shotlist


def assert_numbered(shotlist: ShotList) -> None:
    assert [s.number for s in shotlist.shots] == [str(i) for i in range(1, len(shotlist.shots) + 1)]


def descriptions(shotlist: ShotList) -> list[str]:
    return [s.description for s in shotlist.shots]


# --- add -----------------------------------------------------------------------------------------


def test_add_at_end_inherits_the_last_scene(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, AddShot(shot=ShotChanges(description="she leaves", size="WS")))
    assert descriptions(after) == ["action 1", "action 2", "action 3", "she leaves"]
    new = after.shots[-1]
    assert new.size is ShotSize.WIDE
    assert new.scene == shotlist.shots[-1].scene
    assert new.status is ShotStatus.PLANNED
    assert new.uid not in {s.uid for s in shotlist.shots}
    assert_numbered(after)


def test_add_at_position(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, AddShot(shot=ShotChanges(description="insert"), position=2))
    assert descriptions(after) == ["action 1", "insert", "action 2", "action 3"]
    assert after.shot(3).uid == shotlist.shot(2).uid
    assert_numbered(after)


def test_add_at_start_inherits_the_first_scene() -> None:
    first = Scene(int_ext="EXT", location="ROOF", time_of_day="DAWN")
    shotlist = make_shotlist(2)
    shotlist = shotlist.model_copy(
        update={"shots": (shotlist.shots[0].model_copy(update={"scene": first}), shotlist.shots[1])}
    )
    after = apply_edit(shotlist, AddShot(shot=ShotChanges(description="opening"), position=1))
    assert after.shots[0].description == "opening"
    assert after.shots[0].scene == first
    assert_numbered(after)


def test_add_with_scene_fields_does_not_inherit(shotlist: ShotList) -> None:
    after = apply_edit(
        shotlist,
        AddShot(shot=ShotChanges(description="outside", int_ext="EXT.", location="car park")),
    )
    assert after.shots[-1].scene.slugline == "EXT. CAR PARK - DAY"


def test_add_to_an_empty_list_uses_the_default_scene() -> None:
    after = apply_edit(ShotList(), AddShot(shot=ShotChanges(description="first light")))
    assert after.shots[0].number == "1"
    assert after.shots[0].scene == Scene()


def test_add_last_position_plus_one_is_allowed(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, AddShot(shot=ShotChanges(description="tail"), position=4))
    assert after.shots[-1].description == "tail"


# --- update --------------------------------------------------------------------------------------


def test_update_changes_only_named_fields(shotlist: ShotList) -> None:
    before = shotlist.shot(2)
    after = apply_edit(
        shotlist, UpdateShot(shot="2", changes=ShotChanges(size="ECU", duration=7.5))
    )
    shot = after.shot(2)
    assert shot.size is ShotSize.EXTREME_CLOSE_UP
    assert shot.duration == 7.5
    assert (shot.uid, shot.description, shot.seed, shot.characters) == (
        before.uid,
        before.description,
        before.seed,
        before.characters,
    )
    assert after.shots[0] == shotlist.shots[0] and after.shots[2] == shotlist.shots[2]
    assert_numbered(after)


def test_update_scene_fields(shotlist: ShotList) -> None:
    after = apply_edit(
        shotlist, UpdateShot(shot="#1", changes=ShotChanges(time_of_day="sunrise", location="roof"))
    )
    assert after.shot(1).scene.slugline == "INT. ROOF - DAWN"
    assert after.shot(2).scene.slugline == "INT. KITCHEN - NIGHT"


def test_update_movement_resets_direction(shotlist: ShotList) -> None:
    panned = apply_edit(
        shotlist, UpdateShot(shot="1", changes=ShotChanges(movement="pan", direction="left"))
    )
    assert panned.shot(1).direction is MoveDirection.LEFT
    pushed = apply_edit(panned, UpdateShot(shot="1", changes=ShotChanges(movement="push in")))
    assert pushed.shot(1).movement is CameraMove.DOLLY_IN
    assert pushed.shot(1).direction is MoveDirection.NONE
    # Changing something else keeps the direction.
    kept = apply_edit(panned, UpdateShot(shot="1", changes=ShotChanges(duration=4)))
    assert kept.shot(1).direction is MoveDirection.LEFT


def test_update_movement_resets_speed_unless_given(shotlist: ShotList) -> None:
    fast = apply_edit(
        shotlist, UpdateShot(shot="1", changes=ShotChanges(movement="follow", speed="fast"))
    )
    assert fast.shot(1).speed is MoveSpeed.FAST
    craned = apply_edit(
        fast, UpdateShot(shot="1", changes=ShotChanges(movement="crane", direction="up"))
    )
    assert craned.shot(1).speed is MoveSpeed.MEDIUM  # not a "fast crane up"
    assert craned.shot(1).direction is MoveDirection.UP
    slow = apply_edit(
        fast, UpdateShot(shot="1", changes=ShotChanges(movement="push in", speed="slow"))
    )
    assert slow.shot(1).speed is MoveSpeed.SLOW
    kept = apply_edit(fast, UpdateShot(shot="1", changes=ShotChanges(duration=4)))
    assert kept.shot(1).speed is MoveSpeed.FAST  # no new move: the speed stays


def test_apply_edits_is_sequential_and_all_or_nothing(shotlist: ShotList) -> None:
    edits: list[Edit] = [RemoveShot(shot="1"), UpdateShot(shot="1", changes=ShotChanges(notes="x"))]
    after = apply_edits(shotlist, edits)
    assert descriptions(after) == ["action 2", "action 3"] and after.shot(1).notes == "x"
    assert apply_edits(shotlist, []) == shotlist
    with pytest.raises(ShotNotFound):
        apply_edits(shotlist, [RemoveShot(shot="1"), RemoveShot(shot="3")])
    assert descriptions(shotlist) == ["action 1", "action 2", "action 3"]  # input untouched


def test_several_edits_store_as_a_list_one_as_an_object(shotlist: ShotList) -> None:
    one: list[Edit] = [SplitShot(shot="1")]
    several: list[Edit] = [RemoveShot(shot="2"), SetProjectInfo(title="Day")]
    assert isinstance(json.loads(dump_edits(one)), dict)
    assert isinstance(json.loads(dump_edits(several)), list)
    assert parse_edits(json.loads(dump_edits(one))) == one
    assert parse_edits(json.loads(dump_edits(several))) == several
    assert describe_edits(several) == "remove shot 2; project: title"


def test_update_by_uid(shotlist: ShotList) -> None:
    uid = shotlist.shots[1].uid
    after = apply_edit(shotlist, UpdateShot(shot=uid, changes=ShotChanges(notes="check focus")))
    assert after.shot(2).notes == "check focus"


# --- remove, move, swap ----------------------------------------------------------------------------


def test_remove_renumbers(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, RemoveShot(shot="1"))
    assert descriptions(after) == ["action 2", "action 3"]
    assert_numbered(after)


@pytest.mark.parametrize(
    ("shot", "position", "expected"),
    [
        ("3", 1, ["action 3", "action 1", "action 2"]),
        ("1", 3, ["action 2", "action 3", "action 1"]),
        ("2", 2, ["action 1", "action 2", "action 3"]),
    ],
)
def test_move(shotlist: ShotList, shot: str, position: int, expected: list[str]) -> None:
    after = apply_edit(shotlist, MoveShot(shot=shot, position=position))
    assert descriptions(after) == expected
    assert_numbered(after)


def test_swap(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, SwapShots(first="1", second="3"))
    assert descriptions(after) == ["action 3", "action 2", "action 1"]
    assert after.shot(1).uid == shotlist.shot(3).uid
    assert_numbered(after)


# --- split ---------------------------------------------------------------------------------------


def test_split_halves_the_duration(shotlist: ShotList) -> None:
    original = shotlist.shot(2)  # 4 s
    after = apply_edit(shotlist, SplitShot(shot="2", second=ShotChanges(size="CU")))
    assert len(after.shots) == 4
    first, second = after.shot(2), after.shot(3)
    assert first.duration == second.duration == 2.0
    assert first.description == second.description == original.description
    assert second.size is ShotSize.CLOSE_UP
    assert first.size is original.size
    # The first half IS the original shot (its takes stay linked); the second half is new.
    assert (first.uid, first.seed) == (original.uid, original.seed)
    assert second.uid != original.uid
    assert second.scene == original.scene
    assert after.shot(4).uid == shotlist.shot(3).uid
    assert_numbered(after)


def test_split_too_short_shot() -> None:
    shotlist = make_shotlist(1)
    shotlist = apply_edit(shotlist, UpdateShot(shot="1", changes=ShotChanges(duration=0.9)))
    with pytest.raises(EditError, match="too short to split"):
        apply_edit(shotlist, SplitShot(shot="1"))


# --- style, cast, locations, project -------------------------------------------------------------


def test_set_style_preset(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, SetStyle(preset="noir"))
    assert after.style == style_preset("film noir")
    assert after.style.name == "film noir"
    assert after.shots == shotlist.shots


def test_set_style_preset_with_field_overrides(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, SetStyle(preset="Film Noir", palette="sepia"))
    assert after.style.palette == "sepia"
    assert after.style.lighting == style_preset("noir").lighting


def test_set_style_fields_keep_the_rest(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, SetStyle(lighting="candlelight"))
    assert after.style.lighting == "candlelight"
    assert after.style.description == shotlist.style.description
    assert after.style.name == shotlist.style.name


def test_set_style_unknown_preset(shotlist: ShotList) -> None:
    with pytest.raises(InvalidValue, match="I don't know the style 'vaporwave'.*film noir"):
        apply_edit(shotlist, SetStyle(preset="vaporwave"))


def test_set_character_adds_and_changes_in_place() -> None:
    shotlist = make_shotlist(1)
    shotlist = apply_edit(shotlist, SetCharacter(name="Theo", description="a porter"))
    shotlist = apply_edit(shotlist, SetCharacter(name="June", description="a surgeon"))
    assert [c.name for c in shotlist.characters] == ["Mara", "Theo", "June"]
    changed = apply_edit(shotlist, SetCharacter(name="theo", description="a night porter, 60"))
    assert [c.name for c in changed.characters] == ["Mara", "theo", "June"]
    assert changed.character("Theo").description == "a night porter, 60"  # type: ignore[union-attr]
    assert len(changed.characters) == 3


def test_set_location_adds_and_replaces(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, SetLocation(name="roof", description="windy helipad"))
    assert after.location("ROOF").description == "windy helipad"  # type: ignore[union-attr]
    again = apply_edit(after, SetLocation(name="Kitchen", description="a spotless kitchen"))
    assert [loc.name for loc in again.locations].count("KITCHEN") == 1
    assert again.location("kitchen").description == "a spotless kitchen"  # type: ignore[union-attr]


def test_set_project_info(shotlist: ShotList) -> None:
    after = apply_edit(
        shotlist, SetProjectInfo(title="Day Shift", target_length=60, aspect_ratio="2.39:1")
    )
    assert (after.title, after.target_length, after.aspect_ratio) == ("Day Shift", 60, "2.39:1")
    assert after.shots == shotlist.shots
    assert after.logline == shotlist.logline


def test_set_project_info_bad_aspect_ratio(shotlist: ShotList) -> None:
    with pytest.raises(InvalidValue, match="aspect_ratio"):
        apply_edit(shotlist, SetProjectInfo(aspect_ratio="3:2"))


def test_replace_shots_carries_the_scene_forward(shotlist: ShotList) -> None:
    after = apply_edit(
        shotlist,
        ReplaceShots(
            shots=[
                ShotChanges(
                    description="establishing",
                    size="EWS",
                    int_ext="EXT",
                    location="street",
                    time_of_day="night",
                ),
                ShotChanges(description="she walks"),
                ShotChanges(description="inside", int_ext="INT", location="lobby"),
                ShotChanges(description="she waits"),
            ]
        ),
    )
    assert [s.scene.slugline for s in after.shots] == [
        "EXT. STREET - NIGHT",
        "EXT. STREET - NIGHT",
        "INT. LOBBY - DAY",
        "INT. LOBBY - DAY",
    ]
    assert not {s.uid for s in after.shots} & {s.uid for s in shotlist.shots}
    assert_numbered(after)
    assert after.characters == shotlist.characters


def test_replace_shots_needs_descriptions(shotlist: ShotList) -> None:
    with pytest.raises(InvalidValue, match="needs a description"):
        apply_edit(shotlist, ReplaceShots(shots=[ShotChanges(description="ok"), ShotChanges()]))


# --- invalid edits change nothing ----------------------------------------------------------------

INVALID: list[tuple[Edit, type[SlateError]]] = [
    (UpdateShot(shot="9", changes=ShotChanges(size="CU")), ShotNotFound),
    (RemoveShot(shot="0"), ShotNotFound),
    (MoveShot(shot="9", position=1), ShotNotFound),
    (SwapShots(first="1", second="9"), ShotNotFound),
    (SplitShot(shot="#4"), ShotNotFound),
    (UpdateShot(shot="1", changes=ShotChanges(duration=31)), InvalidValue),
    (UpdateShot(shot="1", changes=ShotChanges(duration=0.2)), InvalidValue),
    (UpdateShot(shot="1", changes=ShotChanges(lens_mm=2)), InvalidValue),
    (UpdateShot(shot="1", changes=ShotChanges(description="   ")), InvalidValue),
    (UpdateShot(shot="1", changes=ShotChanges()), EditError),
    (AddShot(shot=ShotChanges(description="")), InvalidValue),
    (AddShot(shot=ShotChanges(size="CU")), InvalidValue),
    (AddShot(shot=ShotChanges(description="\x1f")), InvalidValue),  # whitespace pydantic keeps
    (ReplaceShots(shots=[ShotChanges(description="\u2028")]), InvalidValue),
    (AddShot(shot=ShotChanges(description="x", duration=45)), InvalidValue),
    (AddShot(shot=ShotChanges(description="x"), position=0), EditError),
    (AddShot(shot=ShotChanges(description="x"), position=5), EditError),
    (MoveShot(shot="1", position=0), EditError),
    (MoveShot(shot="1", position=4), EditError),
    (SwapShots(first="2", second="#2"), EditError),
    (SetStyle(preset="nope"), InvalidValue),
    (SetProjectInfo(), EditError),
    (SetProjectInfo(target_length=100_000), InvalidValue),
]


@pytest.mark.parametrize(("edit", "error"), INVALID, ids=lambda v: getattr(v, "kind", ""))
def test_invalid_edit_raises_and_changes_nothing(
    shotlist: ShotList, edit: Edit, error: type[SlateError]
) -> None:
    before = shotlist.model_dump()
    with pytest.raises(error) as caught:
        apply_edit(shotlist, edit)
    assert isinstance(caught.value, SlateError)
    assert str(caught.value)
    assert shotlist.model_dump() == before


def test_no_op_update_message(shotlist: ShotList) -> None:
    with pytest.raises(EditError, match="changes nothing"):
        apply_edit(shotlist, UpdateShot(shot="1", changes=ShotChanges()))


def test_cannot_grow_past_200_shots() -> None:
    full = ShotList(
        shots=tuple(Shot(number=str(i), description="x") for i in range(1, MAX_SHOTS + 1))
    )
    before = full.model_dump()
    for edit in (AddShot(shot=ShotChanges(description="one more")), SplitShot(shot="1")):
        with pytest.raises(EditError, match=f"at most {MAX_SHOTS} shots"):
            apply_edit(full, edit)
    assert full.model_dump() == before
    assert len(apply_edit(full, RemoveShot(shot="200")).shots) == MAX_SHOTS - 1


# --- parse_edit ----------------------------------------------------------------------------------

EDITS: list[Edit] = [
    AddShot(
        shot=ShotChanges(description="a kettle boils", size="ECU", characters=["Mara"]), position=2
    ),
    UpdateShot(shot="3", changes=ShotChanges(movement="push in", speed="slow", time_of_day="dusk")),
    RemoveShot(shot="2"),
    MoveShot(shot="1", position=3),
    SwapShots(first="1", second="2"),
    SplitShot(shot="1", second=ShotChanges(size="CU")),
    SetStyle(preset="noir", palette="sepia"),
    SetCharacter(name="Theo", description="a porter"),
    SetLocation(name="roof", description="windy"),
    SetProjectInfo(title="Day Shift", aspect_ratio="1:1"),
    ReplaceShots(shots=[ShotChanges(description="one"), ShotChanges(description="two")]),
]


@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.kind)
def test_parse_edit_round_trips(edit: Edit, shotlist: ShotList) -> None:
    for data in (edit.model_dump(), edit.model_dump(mode="json", exclude_none=True)):
        parsed = parse_edit(data)
        assert type(parsed) is type(edit)
        assert parsed == edit
        assert apply_edit(shotlist, parsed).model_dump(
            exclude={"shots": {"__all__": {"uid", "seed"}}}
        ) == apply_edit(shotlist, edit).model_dump(exclude={"shots": {"__all__": {"uid", "seed"}}})
    assert describe_edit(edit)


def test_parse_edit_reads_crew_spellings() -> None:
    edit = parse_edit(
        {"kind": "update_shot", "shot": "2", "changes": {"size": "close up", "int_ext": "EXT."}}
    )
    assert isinstance(edit, UpdateShot)
    assert edit.changes.size is ShotSize.CLOSE_UP
    assert edit.changes.int_ext is IntExt.EXT
    assert edit.changes.set_fields() == {"size": ShotSize.CLOSE_UP, "int_ext": IntExt.EXT}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"kind": "explode_shot", "shot": "1"}, "kind"),
        ({"shot": "1"}, "kind"),
        ({"kind": "remove_shot"}, "shot"),
        ({"kind": "remove_shot", "shot": "1", "why": "bad"}, "is not a field I know"),
        (
            {"kind": "update_shot", "shot": "1", "changes": {"size": "gigantic"}},
            "is not a shot size",
        ),
        ({"kind": "move_shot", "shot": "1", "position": "first"}, "position"),
        ({"kind": "set_character", "name": ""}, "name"),
        ({"kind": "replace_shots", "shots": "all of them"}, "shots"),
    ],
)
def test_parse_edit_rejects_junk(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_edit(data)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_describe_edit_lines() -> None:
    assert describe_edit(MoveShot(shot="1", position=3)) == "move shot 1 to 3"
    assert describe_edit(SetStyle(preset="noir")) == "style: noir"
    assert describe_edit(SetLocation(name="roof")) == "location ROOF"
    assert describe_edit(ReplaceShots(shots=[ShotChanges(description="a")])) == "plan 1 shots"
    assert describe_edit(SetProjectInfo(title="T", logline="L")) == "project: title, logline"


# --- property: any sequence of edits keeps the list valid ------------------------------------------

_refs = st.one_of(st.integers(-1, 8).map(str), st.just("#2"), st.just("nonsense"))
_sizes = st.sampled_from(["CU", "wide", "cowboy", "gigantic", "OTS"])
_changes = st.builds(
    ShotChanges,
    description=st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=12)),
    size=st.one_of(st.none(), st.sampled_from(list(ShotSize))),
    movement=st.one_of(st.none(), st.sampled_from(list(CameraMove))),
    direction=st.one_of(st.none(), st.sampled_from(list(MoveDirection))),
    duration=st.one_of(st.none(), st.floats(-5, 40, allow_nan=False)),
    lens_mm=st.one_of(st.none(), st.integers(0, 700)),
    time_of_day=st.one_of(st.none(), st.sampled_from(list(TimeOfDay))),
    location=st.one_of(st.none(), st.sampled_from(["", "roof", "KITCHEN"])),
)
_edits = st.one_of(
    st.builds(AddShot, shot=_changes, position=st.one_of(st.none(), st.integers(-1, 8))),
    st.builds(UpdateShot, shot=_refs, changes=_changes),
    st.builds(RemoveShot, shot=_refs),
    st.builds(MoveShot, shot=_refs, position=st.integers(-1, 8)),
    st.builds(SwapShots, first=_refs, second=_refs),
    st.builds(SplitShot, shot=_refs, second=_changes),
    st.builds(
        SetStyle,
        preset=st.one_of(st.none(), st.sampled_from(["noir", "cyberpunk", "nope"])),
        lighting=st.one_of(st.none(), st.text(max_size=10)),
    ),
    st.builds(
        SetCharacter,
        name=st.sampled_from(["Mara", "theo", "June"]),
        description=st.text(max_size=10),
    ),
    st.builds(
        SetLocation, name=st.sampled_from(["roof", "kitchen"]), description=st.text(max_size=10)
    ),
    st.builds(
        SetProjectInfo,
        title=st.one_of(st.none(), st.text(max_size=10)),
        aspect_ratio=st.one_of(st.none(), st.sampled_from(["16:9", "1:1", "3:2"])),
    ),
    st.builds(ReplaceShots, shots=st.lists(_changes, max_size=4)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(_edits, max_size=12))
def test_random_edit_sequences_keep_the_list_valid(edits: list[Edit]) -> None:
    shotlist = make_shotlist(3)
    for edit in edits:
        before = shotlist.model_dump()
        try:
            result = apply_edit(shotlist, edit)
        except SlateError:
            assert shotlist.model_dump() == before
            continue
        assert_numbered(result)
        # Still a valid ShotList: re-validating the dump gives the same list.
        assert ShotList.model_validate(result.model_dump()) == result
        assert len({s.uid for s in result.shots}) == len(result.shots)
        assert all(0.5 <= s.duration <= 30 for s in result.shots)
        shotlist = result


# --- a shot held by uid that is gone --------------------------------------------------------------


@pytest.mark.parametrize(
    "edit_for",
    [
        lambda uid: UpdateShot(shot=uid, changes=ShotChanges(notes="x")),
        lambda uid: RemoveShot(shot=uid),
        lambda uid: SplitShot(shot=uid),
    ],
)
def test_a_gone_shot_never_shows_its_uid(shotlist: ShotList, edit_for: Any) -> None:
    uid = shotlist.shot(2).uid
    after = apply_edit(shotlist, RemoveShot(shot="2"))
    with pytest.raises(ShotNotFound) as caught:
        apply_edit(after, edit_for(uid))
    assert str(caught.value) == "That shot is no longer in the list."
    assert uid not in str(caught.value)
    with pytest.raises(ShotNotFound, match="There is no shot 9; this list has shots 1–2"):
        after.shot("9")  # a number still gets the numbered message


@pytest.mark.parametrize(
    "make_edit",
    [
        lambda sl: AddShot(shot=ShotChanges(description="A new beat.")),
        lambda sl: SplitShot(shot="1"),
        lambda sl: ReplaceShots(
            shots=[ShotChanges(description="One."), ShotChanges(description="Two.")]
        ),
    ],
)
def test_new_shots_never_reuse_a_uid(monkeypatch: pytest.MonkeyPatch, make_edit: Any) -> None:
    shotlist = make_shotlist(2)
    clash = shotlist.shots[0].uid
    uids = iter([clash, clash, "0000beef", clash, "0000cafe"])
    monkeypatch.setattr("studio.edits.new_uid", lambda: next(uids))
    after = apply_edit(shotlist, make_edit(shotlist))
    assert len({s.uid for s in after.shots}) == len(after.shots)
    assert ShotList.model_validate_json(after.model_dump_json()) == after  # it loads back


# --- the bible's faces: references and props ----------------------------------------------------


def add_ref(name: str, label: str, view: str = "front", element: str = "character") -> AddReference:
    return AddReference(element=element, name=name, reference=make_reference(label, view))


def test_add_reference_puts_a_front_view_first_and_other_views_after(shotlist: ShotList) -> None:
    after = apply_edits(
        shotlist,
        [
            add_ref("mara", "side", "profile"),
            add_ref("Mara", "face"),
            add_ref("MARA", "d", "detail"),
        ],
    )
    refs = after.characters[0].references
    assert [r.view.value for r in refs] == ["front", "profile", "detail"]
    assert refs[0] == make_reference("face")
    # A newer front view leads; the older one stays among the references.
    again = apply_edit(after, add_ref("Mara", "new face"))
    assert again.characters[0].lead_reference == make_reference("new face")
    assert make_reference("face") in again.characters[0].references


def test_a_fifth_reference_is_refused_and_nothing_changes(shotlist: ShotList) -> None:
    full = apply_edits(shotlist, [add_ref("Mara", str(i), "detail") for i in range(4)])
    with pytest.raises(EditError, match=r"^Mara already has 4 references; remove one first\.$"):
        apply_edit(full, add_ref("Mara", "5", "detail"))
    # All or nothing: a batch with a fifth keeps none of it.
    with pytest.raises(EditError):
        apply_edits(shotlist, [add_ref("Mara", str(i), "detail") for i in range(5)])


def test_the_same_image_twice_is_refused(shotlist: ShotList) -> None:
    once = apply_edit(shotlist, add_ref("Mara", "a"))
    with pytest.raises(EditError, match="already one of Mara's references"):
        apply_edit(once, add_ref("Mara", "a", "profile"))


@pytest.mark.parametrize(
    ("element", "name"),
    [("character", "Theo"), ("location", "Pier"), ("prop", "the letter")],
)
def test_a_reference_for_an_element_the_bible_lacks_is_refused(
    shotlist: ShotList, element: str, name: str
) -> None:
    with pytest.raises(EditError, match=f"There is no {element} called {name}"):
        apply_edit(shotlist, add_ref(name, "x", element=element))


def test_locations_and_props_take_references(shotlist: ShotList) -> None:
    after = apply_edits(
        shotlist,
        [
            add_ref("kitchen", "k", element="location"),
            SetProp(name="the letter", description="a sealed envelope"),
            add_ref("The Letter", "l", "detail", element="prop"),
        ],
    )
    assert after.locations[0].references == (make_reference("k"),)
    assert after.props == (
        Prop(
            name="the letter",
            description="a sealed envelope",
            references=(make_reference("l", "detail"),),
        ),
    )


def test_remove_reference_by_digest_or_a_unique_prefix(shotlist: ShotList) -> None:
    after = apply_edits(
        shotlist, [add_ref("Mara", "a"), add_ref("Mara", "b", "profile"), add_ref("Mara", "c")]
    )
    digest = make_reference("c").sha256
    fewer = apply_edit(after, RemoveReference(element="character", name="mara", sha256=digest))
    assert [r.sha256 for r in fewer.characters[0].references] == [
        make_reference("a").sha256,
        make_reference("b").sha256,
    ]
    prefix = make_reference("a").sha256[:6]
    last = apply_edit(fewer, RemoveReference(element="cast", name="Mara", sha256=prefix))
    assert last.characters[0].references == (make_reference("b", "profile"),)
    with pytest.raises(EditError, match="Mara has no reference image"):
        apply_edit(last, RemoveReference(element="character", name="Mara", sha256=prefix))


def test_redescribing_an_element_keeps_its_references(shotlist: ShotList) -> None:
    referenced = apply_edits(
        shotlist,
        [
            add_ref("Mara", "a"),
            add_ref("KITCHEN", "k", element="location"),
            SetProp(name="keys"),
            add_ref("keys", "y", element="prop"),
        ],
    )
    after = apply_edits(
        referenced,
        [
            SetCharacter(name="mara", description="older now"),
            SetLocation(name="kitchen", description="bare"),
            SetProp(name="Keys", description="a ring of brass keys"),
        ],
    )
    assert after.character("Mara").references == (make_reference("a"),)  # type: ignore[union-attr]
    assert after.location("KITCHEN").references == (make_reference("k"),)  # type: ignore[union-attr]
    assert after.prop("keys") == Prop(
        name="Keys", description="a ring of brass keys", references=(make_reference("y"),)
    )


def test_a_prop_a_shot_names_joins_the_bible(shotlist: ShotList) -> None:
    after = apply_edit(
        shotlist, UpdateShot(shot="2", changes=ShotChanges(props=["the letter", "a kettle"]))
    )
    assert after.shots[1].props == ("the letter", "a kettle")
    assert [p.name for p in after.props] == ["the letter", "a kettle"]
    # Named again in another case: still one prop.
    again = apply_edit(after, UpdateShot(shot="3", changes=ShotChanges(props=["The Letter"])))
    assert [p.name for p in again.props] == ["the letter", "a kettle"]
    planned = apply_edit(
        ShotList(), ReplaceShots(shots=[ShotChanges(description="x", props=["the red car"])])
    )
    assert [p.name for p in planned.props] == ["the red car"]


def test_remove_prop_takes_it_out_of_every_shot(shotlist: ShotList) -> None:
    shown = apply_edits(
        shotlist,
        [
            UpdateShot(shot="1", changes=ShotChanges(props=["letter", "keys"])),
            UpdateShot(shot="3", changes=ShotChanges(props=["Letter"])),
        ],
    )
    after = apply_edit(shown, RemoveProp(name="LETTER"))
    assert [p.name for p in after.props] == ["keys"]
    assert [s.props for s in after.shots] == [("keys",), (), ()]
    with pytest.raises(EditError, match="There is no prop called letter"):
        apply_edit(after, RemoveProp(name="letter"))


def test_a_shot_continues_the_previous_one_but_the_first_cannot(shotlist: ShotList) -> None:
    after = apply_edit(shotlist, UpdateShot(shot="2", changes=ShotChanges(continues=True)))
    assert [s.continues for s in after.shots] == [False, True, False]
    back = apply_edit(after, UpdateShot(shot="2", changes=ShotChanges(continues=False)))
    assert not back.shots[1].continues
    with pytest.raises(EditError, match="first shot has no shot before it"):
        apply_edit(shotlist, UpdateShot(shot="1", changes=ShotChanges(continues=True)))
    with pytest.raises(EditError, match="first shot"):
        apply_edit(shotlist, AddShot(shot=ShotChanges(description="x", continues=True), position=1))
    with pytest.raises(EditError, match="first shot"):
        apply_edit(shotlist, ReplaceShots(shots=[ShotChanges(description="x", continues=True)]))


def test_reference_edits_round_trip_and_read_for_the_history(shotlist: ShotList) -> None:
    edits: list[Edit] = [
        add_ref("Mara", "a", "3/4"),
        RemoveReference(element="character", name="Mara", sha256=make_reference("a").sha256),
        SetProp(name="the letter", description="sealed"),
        RemoveProp(name="the letter"),
        UpdateShot(shot="2", changes=ShotChanges(props=["keys"], continues=True)),
    ]
    assert parse_edits(json.loads(dump_edits(edits))) == edits
    lines = [describe_edit(edit) for edit in edits]
    assert lines[0] == "Mara: three-quarter reference (upload)"
    assert lines[1].startswith("Mara: remove reference ")
    assert lines[2:4] == ["prop the letter", "remove prop the letter"]
    assert "continues=True" in lines[4]
