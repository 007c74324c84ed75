from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from studio.errors import EditError, InvalidValue, ShotNotFound
from studio.models import (
    MAX_SHOTS,
    Character,
    Location,
    Prop,
    Reference,
    Scene,
    Shot,
    ShotList,
    validated,
)
from studio.vocab import (
    Angle,
    CameraMove,
    ElementKind,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ReferenceSource,
    ReferenceView,
    ShotSize,
    TimeOfDay,
)
from tests.studio.conftest import make_reference, make_shotlist


@pytest.mark.parametrize("duration", [0.5, 1, 12.345, 30])
def test_duration_inside_range_is_accepted(duration: float) -> None:
    shot = Shot(description="a door opens", duration=duration)
    assert shot.duration == round(duration, 2)


@pytest.mark.parametrize("duration", [0, 0.49, 30.01, -1, 120])
def test_duration_outside_range_is_rejected(duration: float) -> None:
    with pytest.raises(ValidationError, match="between 0.5 and 30 seconds"):
        Shot(description="a door opens", duration=duration)


@pytest.mark.parametrize("description", ["", "   ", "\n\t"])
def test_blank_description_is_rejected(description: str) -> None:
    with pytest.raises(ValidationError):
        Shot(description=description)


def test_description_is_stripped() -> None:
    assert Shot(description="  she runs  ").description == "she runs"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mara, Theo", ("Mara", "Theo")),
        ("Mara and Theo", ("Mara", "Theo")),
        ("Mara, Theo and June", ("Mara", "Theo", "June")),
        (" Mara ,Mara, Theo ", ("Mara", "Theo")),
        ("", ()),
    ],
)
def test_characters_from_a_comma_string(text: str, expected: tuple[str, ...]) -> None:
    assert Shot(description="x", characters=text).characters == expected


def test_characters_from_a_list_are_deduplicated_in_order() -> None:
    shot = Shot(description="x", characters=["Theo", " Mara ", "Theo"])
    assert shot.characters == ("Theo", "Mara")


def test_blank_names_in_a_list_are_dropped() -> None:
    assert Shot(description="x", characters=["Mara", "  ", ""]).characters == ("Mara",)


def test_enum_spellings_accepted_on_construction() -> None:
    shot = Shot(
        description="x",
        size="CU",
        angle="bird's eye",
        movement="push in",
        direction="L",
        speed="slowly",
        scene={"int_ext": "EXT.", "location": "roof", "time_of_day": "sunset"},
    )
    assert shot.size is ShotSize.CLOSE_UP
    assert shot.angle is Angle.OVERHEAD
    assert shot.movement is CameraMove.DOLLY_IN
    assert shot.direction is MoveDirection.LEFT
    assert shot.speed is MoveSpeed.SLOW
    assert shot.scene.int_ext is IntExt.EXT
    assert shot.scene.time_of_day is TimeOfDay.DUSK
    assert shot.scene.slugline == "EXT. ROOF - DUSK"


def test_unknown_enum_spelling_is_rejected_with_the_options() -> None:
    with pytest.raises(ValidationError, match="Try one of"):
        Shot(description="x", size="enormous")


@pytest.mark.parametrize(
    ("lens", "ok"), [(8, True), (50, True), (600, True), (7, False), (601, False)]
)
def test_lens_range(lens: int, ok: bool) -> None:
    if ok:
        assert Shot(description="x", lens_mm=lens).lens_mm == lens
    else:
        with pytest.raises(ValidationError):
            Shot(description="x", lens_mm=lens)


def test_shots_are_frozen_and_strict() -> None:
    shot = Shot(description="x")
    with pytest.raises(ValidationError):
        shot.duration = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Shot(description="x", colour="red")  # type: ignore[call-arg]


def test_fresh_shots_get_distinct_uids_and_seeds() -> None:
    shots = [Shot(description="x") for _ in range(20)]
    assert len({s.uid for s in shots}) == 20
    assert all(len(s.uid) == 8 for s in shots)
    assert len({s.seed for s in shots}) > 1


def test_move_label() -> None:
    assert Shot(description="x", movement="static", direction="left").move_label == "static"
    assert Shot(description="x", movement="pan", direction="left").move_label == "pan left"
    assert Shot(description="x", movement="push in", speed="slow").move_label == "slow dolly in"


def test_scene_location_is_uppercased() -> None:
    assert Scene(location="kitchen").location == "KITCHEN"


def test_shotlist_holds_at_most_200_shots() -> None:
    shots = tuple(Shot(number=str(i), description="x") for i in range(1, MAX_SHOTS + 2))
    assert len(ShotList(shots=shots[:MAX_SHOTS]).shots) == MAX_SHOTS
    with pytest.raises(ValidationError):
        ShotList(shots=shots)


def test_shotlist_rejects_duplicate_uids() -> None:
    shot = Shot(description="x")
    with pytest.raises(ValidationError, match="share one uid"):
        ShotList(shots=(shot, shot.model_copy(update={"number": "2"})))


def test_shotlist_rejects_duplicate_character_names() -> None:
    with pytest.raises(ValidationError, match="share one name"):
        ShotList(characters=({"name": "Mara"}, {"name": "mara"}))


@pytest.mark.parametrize("ratio", ["16:9", "2.39:1", "1:1"])
def test_known_aspect_ratios(ratio: str) -> None:
    assert ShotList(aspect_ratio=ratio).aspect_ratio == ratio


@pytest.mark.parametrize("ratio", ["16x9", "3:2", ""])
def test_unknown_aspect_ratio(ratio: str) -> None:
    with pytest.raises(ValidationError, match="aspect ratio must be one of"):
        ShotList(aspect_ratio=ratio)


def test_runtime_sums_durations() -> None:
    assert make_shotlist(3).runtime == 3.0 + 4.0 + 5.0


@pytest.mark.parametrize("key", [2, "2", "#2", " #2 "])
def test_shot_lookup_by_number(key: str | int) -> None:
    shotlist = make_shotlist(3)
    assert shotlist.shot(key).description == "action 2"


def test_shot_lookup_by_uid() -> None:
    shotlist = make_shotlist(3)
    target = shotlist.shots[2]
    assert shotlist.shot(target.uid) is target
    assert shotlist.shot(target.uid.upper()) is target
    assert shotlist.index_of(target.uid) == 2


def test_shot_not_found_message() -> None:
    with pytest.raises(ShotNotFound) as caught:
        make_shotlist(3).shot(7)
    assert str(caught.value) == "There is no shot 7; this list has shots 1–3."
    assert isinstance(caught.value, EditError)
    with pytest.raises(ShotNotFound, match="no shots yet"):
        ShotList().shot("1")


def test_character_and_location_lookup_ignore_case() -> None:
    shotlist = make_shotlist(1)
    assert shotlist.character(" mara ") is shotlist.characters[0]
    assert shotlist.location("kitchen") is shotlist.locations[0]
    assert shotlist.character("Theo") is None


def test_validated_returns_the_model() -> None:
    shot = validated(Shot, description="a kettle boils", size="ECU")
    assert isinstance(shot, Shot)
    assert shot.size is ShotSize.EXTREME_CLOSE_UP


def test_validated_gives_one_readable_message() -> None:
    with pytest.raises(InvalidValue) as caught:
        validated(Shot, description="x", duration=45, size="gigantic", colour="red")
    message = str(caught.value)
    assert "\n" not in message
    assert "duration: a shot lasts between 0.5 and 30 seconds; got 45" in message
    assert "size: 'gigantic' is not a shot size I know" in message
    assert "colour: is not a field I know" in message
    assert "Value error" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_validated_names_nested_fields() -> None:
    with pytest.raises(InvalidValue, match=r"scene\.time_of_day: 'teatime' is not a time of day"):
        validated(Shot, description="x", scene={"time_of_day": "teatime"})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"description": "A beat.", "dialogue": "x" * 1001},
            "dialogue: is too long (at most 1000 characters).",
        ),
        ({"description": "A beat.", "lens_mm": 4}, "lens_mm: must be at least 8."),
        ({"description": "A beat.", "lens_mm": "wide"}, "lens_mm: must be a whole number."),
        ({}, "description: is required."),
    ],
)
def test_validation_errors_read_as_sentences_for_the_crew(
    fields: dict[str, object], expected: str
) -> None:
    with pytest.raises(InvalidValue) as raised:
        validated(Shot, **fields)
    assert str(raised.value) == expected


# --- the bible's elements: references, props, continuity -----------------------------------------


def test_a_snapshot_from_before_references_still_loads() -> None:
    old = make_shotlist(2).model_dump(mode="json")
    del old["props"]
    for element in (*old["characters"], *old["locations"]):
        del element["references"]
    for shot in old["shots"]:
        del shot["props"], shot["continues"]
    loaded = ShotList.model_validate_json(json.dumps(old))
    assert loaded.props == () and loaded.characters[0].references == ()
    assert loaded.shots[0].props == () and loaded.shots[0].continues is False


def test_references_round_trip_through_json() -> None:
    mara = Character(name="Mara", references=(make_reference("a"), make_reference("b", "profile")))
    shotlist = make_shotlist(1, characters=(mara,))
    again = ShotList.model_validate_json(shotlist.model_dump_json())
    assert again == shotlist
    assert again.characters[0].references[1].view is ReferenceView.PROFILE
    assert again.characters[0].lead_reference == make_reference("a")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"sha256": "abc"}, "sha256"),
        ({"sha256": "G" * 64}, "sha256"),
        ({"suffix": ".gif"}, "suffix"),
        ({"width": 0}, "width"),
        ({"view": "upside down"}, "reference view"),
        ({"source": "stolen"}, "reference source"),
    ],
)
def test_a_bad_reference_is_refused(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidValue, match=problem):
        validated(Reference, **make_reference().model_dump() | fields)


def test_reference_views_read_as_crews_write_them() -> None:
    assert make_reference(view="3/4").view is ReferenceView.THREE_QUARTER
    assert make_reference(view="side").view is ReferenceView.PROFILE
    assert make_reference(source="generated").source is ReferenceSource.GENERATED


def test_an_element_holds_at_most_four_distinct_references_front_first() -> None:
    four = tuple(make_reference(str(i), "front" if i == 0 else "detail") for i in range(4))
    assert Prop(name="the letter", references=four).references == four
    with pytest.raises(InvalidValue, match="at most 4"):
        validated(Character, name="Mia", references=(*four, make_reference("5", "detail")))
    with pytest.raises(InvalidValue, match="twice"):
        validated(Location, name="PIER", references=(four[0], four[0]))
    with pytest.raises(InvalidValue, match="front view must come first"):
        validated(Character, name="Mia", references=(four[1], four[0]))
    # Without a front view any order is fine.
    assert validated(Character, name="Mia", references=(four[2], four[1])).references


def test_shot_props_split_on_commas_only_and_deduplicate_in_any_case() -> None:
    shot = Shot(description="x", props="the salt and pepper, The Letter, the letter")
    assert shot.props == ("the salt and pepper", "The Letter")
    assert Shot(description="x", props=["  ", "keys"]).props == ("keys",)


def test_shotlist_rejects_two_props_of_one_name() -> None:
    with pytest.raises(ValidationError, match="two props share one name"):
        make_shotlist(1, props=(Prop(name="Letter"), Prop(name="letter")))


def bible() -> ShotList:
    """Mara in shots 1-3, Theo in 2; shots 1-2 in the kitchen, 3 on the pier; the letter in 2-3."""
    base = make_shotlist(3)
    pier = Scene(int_ext="EXT", location="pier", time_of_day="DAWN")
    shots = list(base.shots)
    shots[1] = shots[1].model_copy(update={"characters": ("Mara", "theo"), "props": ("letter",)})
    shots[2] = shots[2].model_copy(update={"scene": pier, "props": ("the letter", "Letter")})
    return base.model_copy(
        update={
            "characters": (*base.characters, Character(name="Theo")),
            "locations": (*base.locations, Location(name="Pier")),
            "props": (Prop(name="Letter", description="a sealed envelope"), Prop(name="keys")),
            "shots": tuple(shots),
        }
    )


def test_elements_in_a_shot_are_its_cast_location_and_props_from_the_bible() -> None:
    shotlist = bible()
    two = shotlist.elements_in(shotlist.shots[1])
    assert [(kind, element.name) for kind, element in two] == [
        (ElementKind.CHARACTER, "Mara"),
        (ElementKind.CHARACTER, "Theo"),
        (ElementKind.LOCATION, "KITCHEN"),
        (ElementKind.PROP, "Letter"),
    ]
    three = shotlist.elements_in(shotlist.shots[2])
    # "the letter" is not in the bible: left out; the pier matches "Pier" whatever its case.
    assert [element.name for _, element in three] == ["Mara", "Pier", "Letter"]
    for kind, element in two + three:
        assert shotlist.element(kind, element.name.upper()) is element


def test_shots_with_an_element_ignore_case() -> None:
    shotlist = bible()

    def numbers(kind: ElementKind, name: str) -> list[str]:
        return [shot.number for shot in shotlist.shots_with(kind, name)]

    assert numbers(ElementKind.CHARACTER, "MARA") == ["1", "2", "3"]
    assert numbers(ElementKind.CHARACTER, "Theo") == ["2"]
    assert numbers(ElementKind.LOCATION, "kitchen") == ["1", "2"]
    assert numbers(ElementKind.LOCATION, "Pier") == ["3"]
    assert numbers(ElementKind.PROP, "letter") == ["2", "3"]
    assert numbers(ElementKind.PROP, "keys") == []
    assert numbers(ElementKind.CHARACTER, "Nobody") == []
