"""The offline (rule-based) director: planning from briefs and taking plain directions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.base import DirectorReply, MemoryEditor, RenderAsk
from agents.offline import FOOTER, OfflineDirector, fit_durations, grammar_notes
from studio.edits import Edit, SetProjectInfo
from studio.errors import InvalidValue, LimitReached
from studio.models import Scene, Shot, ShotList
from studio.records import Turn
from studio.vocab import Angle, CameraMove, IntExt, MoveDirection, MoveSpeed, ShotSize, TimeOfDay

NOIR = (
    "A 30-second noir teaser: Mia, a red-haired detective, walks through a rain-soaked alley at "
    "night. She finds a letter in a puddle, then looks up at the tower. Detective Cole runs after her."
)
BRIEFS = [
    NOIR,
    "Sam wakes up in his kitchen at dawn. He makes coffee and stares out of the window. Then he "
    "drives to the beach and walks across the sand. He cries.",
    "1 minute short, cyberpunk. Neo races across the rooftop as drones chase him. He jumps. In the "
    "warehouse, Trinity reveals the chip.",
    "Two friends argue at the diner. Ana tells Ben the truth. Ben leaves.",
    "A 90s spot for a bakery: at sunrise, Lena opens the shop and smells the bread. She smiles.",
    "In the forest at dusk, Oliver follows a fox. He discovers an abandoned cabin. Inside the cabin, "
    "he finds an old photograph and realises it shows his mother.",
]

director = OfflineDirector()


@pytest.fixture(scope="module")
def noir() -> ShotList:
    return asyncio.run(director.plan(NOIR))


def _no_jump_cuts(plan: ShotList) -> None:
    """No two shots in a row of one size on the same people in one place (a shot and its
    reverse share a size: the 30° rule is about the same framing, not the same size)."""
    for previous, shot in zip(plan.shots, plan.shots[1:], strict=False):
        same = (previous.scene, previous.size, previous.characters)
        assert same != (shot.scene, shot.size, shot.characters), (previous, shot)


def _base() -> ShotList:
    """A fixed six-shot list so revision tests read like a shot list on paper."""
    alley = Scene(int_ext=IntExt.EXT, location="ALLEY", time_of_day=TimeOfDay.NIGHT)
    diner = Scene(int_ext=IntExt.INT, location="DINER", time_of_day=TimeOfDay.NIGHT)
    specs = [
        (alley, "Rain on the alley.", ShotSize.EXTREME_WIDE, 5.0, ()),
        (alley, "Mia walks in.", ShotSize.WIDE, 4.0, ("Mia",)),
        (alley, "Mia stops.", ShotSize.MEDIUM, 3.0, ("Mia",)),
        (alley, "She reads the letter.", ShotSize.INSERT, 2.0, ("Mia",)),
        (diner, "The diner, empty.", ShotSize.WIDE, 4.0, ()),
        (diner, "Mia sits down.", ShotSize.MEDIUM, 4.0, ("Mia",)),
    ]
    shots = tuple(
        Shot(
            uid=f"{i:08x}",
            seed=i,
            number=str(i),
            scene=scene,
            description=text,
            size=size,
            duration=seconds,
            characters=cast,
        )
        for i, (scene, text, size, seconds, cast) in enumerate(specs, 1)
    )
    return ShotList(title="Test", shots=shots)


async def _direct(
    message: str, shotlist: ShotList | None = None, history: tuple[Turn, ...] = ()
) -> tuple[DirectorReply, ShotList]:
    editor = MemoryEditor(shotlist or _base())
    reply = await director.direct(message, editor, history)
    return reply, await editor.shotlist()


# --- planning --------------------------------------------------------------------------------


@pytest.mark.parametrize("brief", BRIEFS)
async def test_plans_are_valid_varied_and_established(brief: str) -> None:
    plan = await director.plan(brief)
    assert 4 <= len(plan.shots) <= 40
    ShotList.model_validate(plan.model_dump())
    _no_jump_cuts(plan)
    seen: set[str] = set()
    for shot in plan.shots:
        if shot.scene.location not in seen and shot.scene.location != "UNSPECIFIED":
            seen.add(shot.scene.location)
            assert shot.size in (ShotSize.EXTREME_WIDE, ShotSize.WIDE), shot
    assert all(0.5 <= shot.duration <= 30 for shot in plan.shots)
    assert not [n for n in grammar_notes(plan) if "opens on" in n]


@pytest.mark.parametrize(
    ("brief", "target"),
    [
        (NOIR, 30),
        (BRIEFS[2], 60),
        (BRIEFS[4], 90),
        ("A 15 second ad: Jo runs along the beach.", 15),
    ],
)
async def test_target_length_is_met(brief: str, target: float) -> None:
    plan = await director.plan(brief)
    assert plan.target_length == target
    assert abs(plan.runtime - target) <= 0.5


async def test_noir_brief_reads_cast_places_style_and_moves(noir: ShotList) -> None:
    assert noir.style.name == "film noir"
    assert noir.character("Mia") is not None
    assert noir.character("Mia").description == "red-haired detective"  # type: ignore[union-attr]
    assert noir.character("Detective Cole") is not None
    assert [loc.name for loc in noir.locations] == ["ALLEY"]
    first = noir.shots[0]
    assert first.scene.slugline == "EXT. ALLEY - NIGHT" and first.size is ShotSize.EXTREME_WIDE
    by_text = {shot.description: shot for shot in noir.shots}
    letter = next(s for t, s in by_text.items() if "letter" in t)
    assert letter.size is ShotSize.INSERT and letter.characters == ("Mia",)
    tower = next(s for t, s in by_text.items() if "tower" in t)
    assert (tower.movement, tower.direction) == (CameraMove.TILT, MoveDirection.UP)
    assert tower.description.startswith("She looks up")
    chase = next(s for t, s in by_text.items() if "runs" in t)
    assert chase.movement in (CameraMove.FOLLOW, CameraMove.HANDHELD)
    assert noir.title == "The Letter"


async def test_moves_follow_the_language() -> None:
    plan = await director.plan(BRIEFS[5])
    moves = {shot.description: shot.movement for shot in plan.shots}
    assert any(
        m in (CameraMove.DOLLY_IN, CameraMove.CRANE) for t, m in moves.items() if "discovers" in t
    )
    assert any(m is CameraMove.DOLLY_IN for t, m in moves.items() if "realises" in t)
    assert any(m is CameraMove.STEADICAM for t, m in moves.items() if "follows" in t)
    walk = await director.plan("Sam walks across the street at noon. He waves.")
    assert any(s.movement is CameraMove.TRUCK for s in walk.shots)


async def test_locations_sluglines_and_characters() -> None:
    plan = await director.plan(BRIEFS[1])
    assert [loc.name for loc in plan.locations] == ["KITCHEN", "BEACH"]
    sluglines = {shot.scene.slugline for shot in plan.shots}
    assert {"INT. KITCHEN - DAWN", "EXT. BEACH - DAWN"} <= sluglines
    assert [c.name for c in plan.characters] == ["Sam"]
    assert all("Sam" in s.characters for s in plan.shots if s.description.startswith("He "))


async def test_style_argument_quoted_title_and_no_false_names() -> None:
    plan = await director.plan(
        'A short film titled "The Last Train": In March, Ava waits at the '
        "station. The train arrives and she boards it.",
        style="anime",
    )
    assert plan.title == "The Last Train"
    assert plan.style.name == "anime"
    assert [c.name for c in plan.characters] == ["Ava"]


async def test_horror_needs_a_cue_but_noir_does_not() -> None:
    plan = await director.plan("Kim watches in horror as the door opens in the hallway.")
    assert plan.style.name == "naturalistic"
    plan = await director.plan("A horror short: Kim hides in the basement. The lights die.")
    assert plan.style.name == "horror"


@pytest.mark.parametrize("brief", ["", "   ", "?!?", "asdf", "qwertyuiop zxcvbnm", "12345"])
async def test_empty_or_nonsense_brief_is_refused(brief: str) -> None:
    with pytest.raises(InvalidValue, match="brief"):
        await director.plan(brief)


def test_fit_durations() -> None:
    assert sum(fit_durations([5, 4, 3, 2], 30)) == pytest.approx(30, abs=0.05)
    assert fit_durations([1, 1, 1], 90) == [30, 30, 30]
    with pytest.raises(InvalidValue):
        fit_durations([3, 3], 0.5)


@given(st.lists(st.floats(0.5, 30), min_size=1, max_size=40), st.floats(0.5, 1200))
def test_fit_durations_property(durations: list[float], target: float) -> None:
    if not len(durations) * 0.5 <= target <= len(durations) * 30:
        return
    fitted = fit_durations(durations, target)
    assert abs(sum(fitted) - target) <= 0.5
    assert all(0.5 <= d <= 30 for d in fitted)


# --- grammar notes ---------------------------------------------------------------------------


def test_grammar_notes() -> None:
    kitchen = Scene(location="KITCHEN")
    shots = (
        Shot(number="1", scene=kitchen, description="Mia cries.", size="CU", characters=("Mia",)),
        Shot(
            number="2", scene=kitchen, description="Mia cries more.", size="CU", characters=("Mia",)
        ),
    )
    notes = grammar_notes(ShotList(shots=shots, target_length=60))
    assert any("Scene KITCHEN opens on a close-up" in n for n in notes)
    assert any("Shots 1 and 2 are both close-ups of Mia" in n and "30°" in n for n in notes)
    assert any("target of 60 s" in n for n in notes)
    assert grammar_notes(_base()) == []


# --- revisions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "number", "expected"),
    [
        ("shot 3: close-up", "3", {"size": ShotSize.CLOSE_UP}),
        ("Shot 3 CU", "3", {"size": ShotSize.CLOSE_UP}),
        (
            "make shot 2 a slow dolly in",
            "2",
            {"movement": CameraMove.DOLLY_IN, "speed": MoveSpeed.SLOW},
        ),
        (
            "can shot two be a slow push-in?",
            "2",
            {"movement": CameraMove.DOLLY_IN, "speed": MoveSpeed.SLOW},
        ),
        ("shot 4 should last 6 seconds", "4", {"duration": 6}),
        ("make shot 4 6s long", "4", {"duration": 6}),
        ("the fourth shot: 1.5 seconds", "4", {"duration": 1.5}),
        ("make the second shot longer", "2", {"duration": 6}),
        ("make shot 2 shorter", "2", {"duration": 2.5}),
        ("make shot 2 two seconds longer", "2", {"duration": 6}),
        ("low angle on shot 2", "2", {"angle": Angle.LOW}),
        ("dutch angle for 3", "3", {"angle": Angle.DUTCH}),
        ("pan left on shot 1", "1", {"movement": CameraMove.PAN, "direction": MoveDirection.LEFT}),
        (
            "tilt up on the 3rd shot",
            "3",
            {"movement": CameraMove.TILT, "direction": MoveDirection.UP},
        ),
        ("85mm lens on shot 6", "6", {"lens_mm": 85}),
        (
            "shot 3 at dawn",
            "3",
            {"scene": Scene(int_ext="EXT", location="ALLEY", time_of_day="DAWN")},
        ),
        ("#3 wide", "3", {"size": ShotSize.WIDE}),
        ("make the last shot handheld", "6", {"movement": CameraMove.HANDHELD}),
        ("shot 3 tighter", "3", {"size": ShotSize.MEDIUM_CLOSE_UP}),
        (
            "shot 2 over the shoulder from below",
            "2",
            {"size": ShotSize.OVER_THE_SHOULDER, "angle": Angle.LOW},
        ),
        (
            "please make shot six a fast whip pan, thanks",
            "6",
            {"movement": CameraMove.WHIP_PAN, "speed": MoveSpeed.FAST},
        ),
        ("shot 1 dissolve", "1", {"transition": "dissolve"}),
        (
            "shot 1 description: Thunder over the alley.",
            "1",
            {"description": "Thunder over the alley."},
        ),
    ],
)
async def test_shot_updates(message: str, number: str, expected: dict[str, object]) -> None:
    reply, after = await _direct(message)
    assert reply.edits >= 1, reply.text
    shot = after.shot(number)
    for name, value in expected.items():
        assert getattr(shot, name) == value, (name, reply.text)
    assert reply.text.startswith(f"Shot {number}") and reply.text.endswith(FOOTER)


async def test_several_directions_in_one_message() -> None:
    reply, after = await _direct("shot 3 close-up and make it 5 seconds")
    assert reply.edits == 2
    assert (after.shot(3).size, after.shot(3).duration) == (ShotSize.CLOSE_UP, 5)
    reply, after = await _direct(
        "delete shot 2 and make shot 3 a close-up"
    )  # numbers as first read
    assert after.shots[1].description == "Mia stops." and after.shots[1].size is ShotSize.CLOSE_UP


@pytest.mark.parametrize(
    "message",
    [
        "delete shot 5",
        "cut shot 5",
        "lose the fifth shot",
        "remove #5",
        "get rid of shot five please",
    ],
)
async def test_remove(message: str) -> None:
    reply, after = await _direct(message)
    assert [s.description for s in after.shots].count("The diner, empty.") == 0
    assert len(after.shots) == 5 and "Cut shot 5" in reply.text


async def test_remove_several_uses_the_numbers_as_said() -> None:
    reply, after = await _direct("delete shots 2 and 4")
    assert [s.description for s in after.shots] == [
        "Rain on the alley.",
        "Mia stops.",
        "The diner, empty.",
        "Mia sits down.",
    ]
    assert "Cut shot 2" in reply.text and "Cut shot 4" in reply.text


@pytest.mark.parametrize(
    ("message", "position", "text", "size"),
    [
        ("add a shot after 2: Mia opens the door", 3, "Mia opens the door.", None),
        ("after shot 2 add Mia opening the door", 3, "Mia opening the door.", None),
        ("add an insert of the letter at the end", 7, "Insert of the letter.", ShotSize.INSERT),
        ("add a close-up of Mia before shot 1", 1, "Close-up of Mia.", ShotSize.CLOSE_UP),
        ("add a shot at the start: Lightning splits the sky", 1, "Lightning splits the sky.", None),
    ],
)
async def test_add(message: str, position: int, text: str, size: ShotSize | None) -> None:
    reply, after = await _direct(message)
    assert len(after.shots) == 7 and reply.edits == 1
    shot = after.shots[position - 1]
    assert shot.description == text
    if size is not None:
        assert shot.size is size
    assert f"Added shot {position}" in reply.text


async def test_added_shot_inherits_scene_and_cast() -> None:
    _, after = await _direct("add a shot after 2: Mia opens the door")
    assert after.shots[2].scene == after.shots[1].scene
    _, before = await _direct("Mia is a detective")
    _, after = await _direct("add a shot after 2: Mia opens the door", before)
    assert after.shots[2].characters == ("Mia",)


@pytest.mark.parametrize(
    "message",
    [
        "swap shots 1 and 2",
        "switch 1 and 2",
        "swap shot 1 with shot 2",
        "swap the first and second shots",
    ],
)
async def test_swap(message: str) -> None:
    reply, after = await _direct(message)
    assert [s.description for s in after.shots[:2]] == ["Mia walks in.", "Rain on the alley."]
    assert reply.text.startswith("Swapped shots")


@pytest.mark.parametrize(
    ("message", "order"),
    [
        ("move shot 4 to the start", [4, 1, 2, 3, 5, 6]),
        ("move shot 4 to the beginning", [4, 1, 2, 3, 5, 6]),
        ("move shot 4 to the end", [1, 2, 3, 5, 6, 4]),
        ("move shot 4 before shot 2", [1, 4, 2, 3, 5, 6]),
        ("move shot 2 after 5", [1, 3, 4, 5, 2, 6]),
        ("move shot 2 after shot 3", [1, 3, 2, 4, 5, 6]),
        ("move shot 6 to position 2", [1, 6, 2, 3, 4, 5]),
    ],
)
async def test_move(message: str, order: list[int]) -> None:
    base = _base()
    reply, after = await _direct(message, base)
    assert [s.uid for s in after.shots] == [base.shots[i - 1].uid for i in order], reply.text


async def test_split() -> None:
    reply, after = await _direct("split shot 3")
    assert len(after.shots) == 7
    assert after.shots[2].duration == after.shots[3].duration == 1.5
    assert "Split shot 3 into shots 3 and 4" in reply.text


@pytest.mark.parametrize("message", ["undo", "go back", "revert that", "Undo that, please"])
async def test_undo(message: str) -> None:
    editor = MemoryEditor(_base())
    await editor.apply(SetProjectInfo(title="Changed"))
    reply = await director.direct(message, editor)
    assert (await editor.shotlist()).title == "Test"
    assert reply.text.startswith("Undone")


async def test_undo_with_nothing_to_undo() -> None:
    reply, after = await _direct("undo")
    assert "Nothing to undo" in reply.text and after == _base()


@pytest.mark.parametrize(
    ("message", "style"),
    [
        ("make it film noir", "film noir"),
        ("style: cyberpunk", "cyberpunk"),
        ("make it noir", "film noir"),
        ("make it look like a western", "western"),
        ("in the style of wes anderson", "storybook"),
        ("go anime", "anime"),
    ],
)
async def test_style(message: str, style: str) -> None:
    reply, after = await _direct(message)
    assert after.style.name == style
    assert reply.text.startswith(f"The look is now {style}")


async def test_character_and_location_bible() -> None:
    reply, after = await _direct("Mia is a red-haired detective in a grey trench coat")
    assert after.character("Mia").description == "red-haired detective in a grey trench coat"  # type: ignore[union-attr]
    assert reply.text.startswith("Mia is now a red-haired detective")
    reply, after = await _direct("the location diner is a chrome 50s diner")
    assert after.location("DINER").description == "chrome 50s diner"  # type: ignore[union-attr]
    reply, after = await _direct("Detective Cole: a tired man in a fedora")
    assert after.character("Detective Cole").description == "tired man in a fedora"  # type: ignore[union-attr]


async def test_title_and_film_length() -> None:
    reply, after = await _direct("title: The Last Train")
    assert after.title == "The Last Train" and "The Last Train" in reply.text
    reply, after = await _direct("call it Night Shift")
    assert after.title == "Night Shift"
    reply, after = await _direct("make it 45 seconds")
    assert after.target_length == 45 and abs(after.runtime - 45) <= 0.5
    assert [s.uid for s in after.shots] == [s.uid for s in _base().shots]  # takes keep their shots
    reply, after = await _direct("make the film one minute long")
    assert abs(after.runtime - 60) <= 0.5


@pytest.mark.parametrize(
    ("message", "shots"),
    [
        ("render it", ()),
        ("render shot 3", ("3",)),
        ("render shots 2 and 4", ("2", "4")),
        ("Render the last shot", ("6",)),
        ("please render shots 2-4", ("2", "3", "4")),
    ],
)
async def test_render_requests(message: str, shots: tuple[str, ...]) -> None:
    reply, after = await _direct(message)
    assert reply.render == RenderAsk(shots=shots)
    assert reply.edits == 0 and after == _base()


@pytest.mark.parametrize(
    "message", ["what is the meaning of life", "hello", "banana", "make it pop", "shot 3 fabulous"]
)
async def test_unknown_text_gets_help_and_changes_nothing(message: str) -> None:
    reply, after = await _direct(message)
    assert reply.edits == 0 and after == _base()
    assert "shot 3: close-up" in reply.text and "swap shots 1 and 2" in reply.text


@pytest.mark.parametrize(
    "message",
    [
        "shot 9 close-up",
        "delete shot 12",
        "swap shots 1 and 40",
        "render shot 7",
        "move shot 8 to the start",
        "shot 3 close-up and delete shot 9",
    ],
)
async def test_bad_shot_number(message: str) -> None:
    reply, after = await _direct(message)
    assert after == _base() and reply.edits == 0
    assert "There is no shot" in reply.text and "shots 1–6" in reply.text


async def test_failed_part_applies_nothing() -> None:
    reply, after = await _direct("shot 3 close-up and make shot 2 40 seconds")
    assert after == _base() and reply.edits == 0
    assert "30 seconds" in reply.text


async def test_it_refers_to_the_shot_under_discussion() -> None:
    history = (
        Turn(role="user", author="ana", content="shot 3: close-up"),
        Turn(role="assistant", author="slate", content="Shot 3 is now a close-up."),
    )
    _, after = await _direct("make it longer", history=history)
    assert after.shot(3).duration == 4.5
    reply, after = await _direct("make it longer")
    assert "Which shot" in reply.text and after == _base()


async def test_revision_notes_flag_new_grammar_problems() -> None:
    reply, _ = await _direct("shot 2 medium shot")
    assert any("Shots 2 and 3 are both medium shots of Mia" in n for n in reply.notes)


# --- it never raises -------------------------------------------------------------------------

# fmt: off
WORDS = ["shot", "shots", "3", "two", "second", "last", "#4", "5th", "close-up", "wide", "CU", "pan",
         "left", "slow", "dolly", "in", "push", "make", "it", "longer", "shorter", "seconds", "s", "and",
         "then", "delete", "cut", "swap", "switch", "move", "to", "the", "start", "end", "before", "after",
         "add", "a", ":", "insert", "of", "letter", "split", "undo", "render", "noir", "style", "title",
         "Mia", "is", "location", "diner", "85mm", "low", "angle", "dutch", "for", "night", "45", "0",
         "999", "-", ",", "minute", "tighter", "wider", "description", "?", "!", "200", "30"]
# fmt: on


async def _check_never_raises(message: str) -> None:
    base = _base()
    editor = MemoryEditor(base)
    reply = await director.direct(message, editor)
    after = await editor.shotlist()
    assert isinstance(reply.text, str) and reply.text.endswith(FOOTER)
    ShotList.model_validate(after.model_dump())
    if reply.edits == 0:
        assert after == base
    else:
        assert after != base or message.strip().lower().startswith(("undo", "go back"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120))
def test_random_text_never_raises(message: str) -> None:
    asyncio.run(_check_never_raises(message))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join))
def test_random_directions_never_raise(message: str) -> None:
    asyncio.run(_check_never_raises(message))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(
            st.sampled_from(
                WORDS
                + [
                    "walks",
                    "runs",
                    "finds",
                    "alley",
                    "kitchen",
                    ".",
                    "at",
                    "dawn",
                    "Cole",
                    "teaser",
                    "1",
                ]
            ),
            max_size=30,
        ).map(" ".join),
    )
)
def test_random_briefs_plan_or_refuse(brief: str) -> None:
    try:
        plan = asyncio.run(director.plan(brief))
    except InvalidValue:
        return
    ShotList.model_validate(plan.model_dump())
    assert 1 <= len(plan.shots) <= 200


async def test_free_text_ends_where_a_new_direction_starts() -> None:
    reply, after = await _direct("Mia is a tired detective. Make shot 3 a close-up")
    assert after.character("Mia").description == "tired detective"  # type: ignore[union-attr]
    assert after.shot(3).size is ShotSize.CLOSE_UP and reply.edits == 2
    _, after = await _direct("add a shot after 2: Mia opens the door. She smiles.")
    assert after.shots[2].description == "Mia opens the door. She smiles."


async def test_overlong_text_is_refused_cleanly() -> None:
    reply, after = await _direct("shot 1 sound: " + "x" * 400)
    assert "300 characters" in reply.text and after == _base()


async def test_film_length_versus_shot_length_with_history() -> None:
    history = (Turn(role="assistant", author="slate", content="Shot 3 is now a close-up."),)
    _, after = await _direct("make it 45 seconds", history=history)
    assert abs(after.runtime - 45) <= 0.5
    _, after = await _direct("make it 5 seconds", history=history)
    assert after.shot(3).duration == 5
    _, after = await _direct("make the film 20 seconds", history=history)
    assert abs(after.runtime - 20) <= 0.5


async def test_unknown_style_argument_is_refused() -> None:
    with pytest.raises(InvalidValue, match="style"):
        await director.plan(NOIR, style="vaporwave")


async def test_brief_descriptions_dialogue_and_pronouns() -> None:
    plan = await director.plan(
        "Mia is a red-haired detective. Cole is her tired partner. At the diner, "
        'Mia slides a photo across the table. Cole says "Where did you get this?" '
        "Later, on the rooftop at night, they argue."
    )
    assert plan.character("Cole").description == "her tired partner"  # type: ignore[union-attr]
    assert not any("red-haired" in s.description for s in plan.shots), "descriptions are not beats"
    said = next(s for s in plan.shots if s.dialogue)
    assert said.dialogue == "Where did you get this?" and said.characters[0] == "Cole"
    argue = next(s for s in plan.shots if "argue" in s.description)
    assert (
        set(argue.characters) == {"Mia", "Cole"} and argue.scene.slugline == "EXT. ROOFTOP - NIGHT"
    )
    assert plan.shots[0].scene.slugline == "INT. DINER - DAY"


async def test_sluglines_and_montage_briefs() -> None:
    plan = await director.plan(
        "INT. KITCHEN - NIGHT. Mia cooks. EXT. STREET - DAY. Cole waits by the car."
    )
    assert [s.scene.slugline for s in plan.shots if "Establishing" in s.description] == [
        "INT. KITCHEN - NIGHT",
        "EXT. STREET - DAY",
    ]
    montage = await director.plan(
        "The city wakes. A bus passes. Kids run to school. A dog barks. The baker opens the shop. Rain "
        "starts. Umbrellas open. A couple kisses. A man loses his hat. The hat flies down the street. A "
        "girl catches it. She laughs. The sun returns. Everyone smiles. The end."
    )
    texts = [s.description for s in montage.shots]
    assert len(texts) >= 12 and len(set(texts)) == len(texts), "one shot per image, none twice"
    assert montage.characters == ()
    assert grammar_notes(montage) == []


async def test_a_one_line_brief_gets_coverage() -> None:
    plan = await director.plan("Mia runs.")  # two words are a film when one of them acts
    assert plan.shots[0].size in (ShotSize.EXTREME_WIDE, ShotSize.WIDE)
    run = [s for s in plan.shots if s.characters == ("Mia",)]
    assert run and run[0].movement is CameraMove.FOLLOW
    assert {s.scene.location for s in plan.shots} == {"UNSPECIFIED"}, "no place was named"
    assert len({s.size for s in plan.shots}) >= 3


async def test_add_keeps_position_words_inside_the_action() -> None:
    _, after = await _direct("add a shot after 2: Mia walks to the end of the alley")
    assert after.shots[2].description == "Mia walks to the end of the alley."
    _, after = await _direct("after shot 2 add Mia running to the end")
    assert after.shots[2].description == "Mia running to the end."


async def test_render_after_edits_uses_the_new_numbers() -> None:
    reply, after = await _direct("make shot 3 a close-up and render it")
    assert reply.render == RenderAsk(shots=("3",)) and after.shot(3).size is ShotSize.CLOSE_UP
    reply, after = await _direct("move shot 4 to the start, then render shot 4")
    assert (
        reply.render == RenderAsk(shots=("1",))
        and after.shots[0].description == "She reads the letter."
    )


async def test_render_of_a_shot_cut_in_the_same_message_is_refused() -> None:
    reply, after = await _direct("delete shot 3 and render shot 3")
    assert reply.render is None and after == _base() and "can't render" in reply.text


# --- one direction = one version -------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "shot 2: close-up, and cut shot 5",
        "swap shots 1 and 2. Make shot 3 last 6 seconds. Title: Rain",
        "split shot 3, then move shot 6 to the start",
    ],
)
async def test_a_multi_part_direction_is_one_undo_step(message: str) -> None:
    base = _base()
    editor = MemoryEditor(base)
    reply = await director.direct(message, editor)
    assert reply.edits >= 2 and await editor.shotlist() != base, reply.text
    undone = await director.direct("undo", editor)
    assert undone.text.startswith("Undone")
    assert await editor.shotlist() == base  # the exact list from before, in one step
    assert "Nothing to undo" in (await director.direct("undo", editor)).text


async def test_make_it_45_seconds_then_undo_restores_every_duration() -> None:
    base = _base()
    editor = MemoryEditor(base)
    reply = await director.direct("make it 45 seconds", editor)
    retimed = await editor.shotlist()
    assert reply.edits > 1 and abs(retimed.runtime - 45) <= 0.5
    await director.direct("undo", editor)
    after = await editor.shotlist()
    assert [s.duration for s in after.shots] == [s.duration for s in base.shots]
    assert after == base


class _CountingEditor(MemoryEditor):
    def __init__(self, shotlist: ShotList, *, refuse: bool = False) -> None:
        super().__init__(shotlist)
        self.calls: list[int] = []
        self.refuse = refuse

    async def apply(self, edit: Edit) -> ShotList:
        raise AssertionError("the offline director applies through apply_many")

    async def apply_many(self, edits: Sequence[Edit]) -> ShotList:
        self.calls.append(len(edits))
        if self.refuse:
            raise LimitReached("The project is at its limit.")
        return await super().apply_many(edits)


async def test_direct_applies_through_one_apply_many() -> None:
    editor = _CountingEditor(_base())
    reply = await director.direct("shot 2: close-up. Cut shot 5. Title: Rain", editor)
    assert editor.calls == [3] and reply.edits == 3
    assert "Title" in reply.text or "Rain" in reply.text
    render_only = _CountingEditor(_base())
    await director.direct("render shot 2", render_only)
    assert render_only.calls == []  # nothing to apply: no empty version


async def test_a_refused_direction_changes_nothing() -> None:
    editor = _CountingEditor(_base(), refuse=True)
    reply = await director.direct("shot 2: close-up, and cut shot 5", editor)
    assert reply.edits == 0 and "at its limit" in reply.text and "Nothing was changed" in reply.text
    assert await editor.shotlist() == _base()


async def test_split_keeps_the_shot_on_the_first_half() -> None:
    base = _base()
    reply, after = await _direct("split shot 3, then render shot 3", base)
    first, second = after.shots[2], after.shots[3]
    assert (first.uid, first.seed) == (base.shots[2].uid, base.shots[2].seed)
    assert second.uid not in {s.uid for s in base.shots}
    assert reply.render == RenderAsk(shots=("3",))


# --- planning quality: briefs a director would sign -------------------------------------------

KIDS = (
    "Two kids race bikes through a sunny suburb, then crash into a hedge. They laugh. At home, their "
    "mother bandages a scraped knee in the kitchen."
)
NOIR_MEET = (
    "A 30-second noir teaser. Night in a rain-soaked alley: Mia, a red-haired detective in a grey "
    "trench coat, waits under a flickering lamp. A car pulls up and Cole steps out holding a "
    "letter. Inside the diner, Mia reads the letter and realises she has been set up."
)
AD = "A 15-second ad: a barista pours latte art in a sunlit café, a customer smiles, logo on the cup."
MARS = (
    "EXT. MARS COLONY - DUSK. Commander Reyes walks the perimeter. INT. AIRLOCK - NIGHT. Alarms flash; "
    "she seals the door."
)
DOC = (
    "A short documentary about a fisherman in a Scottish harbour town. At dawn, Angus loads nets onto "
    "his boat. Out at sea, he hauls in the catch. Back at the harbour, he sells fish at the market."
)
RECITAL = (
    "A 2-minute short film. Emma, a young violinist, practises alone in her bedroom at night. The "
    "next morning she takes the train to the city. At the concert hall, she waits backstage, "
    "trembling. She walks onto the stage and plays. The audience is silent. Then they stand and "
    "applaud. Outside, her father hugs her in the rain."
)
HEIST = """A heist thriller.

Vera, a safecracker, studies blueprints in a cramped apartment at night. Her partner Leo paces by the
window. They argue about the plan.

The next day, at the bank, Vera walks across the marble lobby. A guard watches her. Leo waits in the van
outside, drumming on the wheel.

In the vault, Vera cracks the safe. Alarms blare. She runs down the corridor, chased by guards, and dives
into the van. Leo speeds away through the city streets.

At dawn, on a quiet beach, they count the money and laugh."""


def _signable(plan: ShotList) -> None:
    """What every plan must hold: each new set opens wide, sizes vary, no framing lines as beats."""
    seen: set[tuple[IntExt, str]] = set()
    for shot in plan.shots:
        key = (shot.scene.int_ext, shot.scene.location)
        if key not in seen and shot.scene.location != "UNSPECIFIED":
            seen.add(key)
            assert shot.size in (ShotSize.EXTREME_WIDE, ShotSize.WIDE), shot
            assert "Establishing" in shot.description, shot
    _no_jump_cuts(plan)
    assert not [n for n in grammar_notes(plan) if "opens on" in n or "jump cut" in n]
    used = {s.scene.location for s in plan.shots}
    assert {loc.name for loc in plan.locations} <= used, "every listed location is a set we shoot"
    for shot in plan.shots:
        # A borrowed subject is who acts ("The kids crash"), never a number or a noun ("Two crash").
        assert not re.match(
            r"(?:Two|Three|A|An|The) (?:crash|seals|laugh)\b|\w+ (?:she|he|they)\b",
            shot.description,
        ), shot.description


async def test_kids_brief_finds_the_suburb_and_the_kitchen() -> None:
    plan = await director.plan(KIDS)
    _signable(plan)
    sluglines = [s.scene.slugline for s in plan.shots]
    assert sluglines[0] == "EXT. SUBURB - DAY" and sluglines[-1] == "INT. KITCHEN - DAY"
    assert "INT. HOME - DAY" not in sluglines, "'at home' is the building; the kitchen is the set"
    race = next(s for s in plan.shots if "race" in s.description)
    assert race.movement in (CameraMove.FOLLOW, CameraMove.TRUCK, CameraMove.STEADICAM)
    crash = next(s for s in plan.shots if "crash" in s.description)
    assert crash.description.startswith(("The kids ", "They ")), crash.description
    assert crash.movement is not CameraMove.STATIC
    knee = next(s for s in plan.shots if "knee" in s.description)
    assert knee.description.startswith("Their mother"), "the slugline carries 'At home,'"


async def test_noir_meeting_keeps_descriptions_clean_and_covers_the_meeting() -> None:
    plan = await director.plan(NOIR_MEET)
    _signable(plan)
    assert abs(plan.runtime - 30) <= 0.5
    assert [c.name for c in plan.characters] == ["Mia", "Cole"]
    assert [loc.name for loc in plan.locations] == ["ALLEY", "DINER"]
    assert any("Mia waits under a flickering lamp" in s.description for s in plan.shots)
    assert not any("trench coat" in s.description for s in plan.shots), "the bible has it"
    assert not any(s.description.startswith(("Night in", "Inside the diner")) for s in plan.shots)
    alley = [s for s in plan.shots if s.scene.location == "ALLEY"]
    assert any("Cole" in s.characters for s in alley), "Cole's arrival plays in the alley"
    assert all(s.scene.time_of_day is TimeOfDay.NIGHT for s in plan.shots)


async def test_product_spot_splits_its_beats_and_ends_on_the_logo() -> None:
    plan = await director.plan(AD)
    _signable(plan)
    assert abs(plan.runtime - 15) <= 0.5
    descriptions = [s.description for s in plan.shots]
    assert "A customer smiles." in descriptions
    assert (
        plan.shots[-1].description == "Logo on the cup." and plan.shots[-1].size is ShotSize.INSERT
    )
    pour = next(s for s in plan.shots if "pours" in s.description)
    assert pour.size in (ShotSize.INSERT, ShotSize.CLOSE_UP, ShotSize.EXTREME_CLOSE_UP)


async def test_slugline_brief_keeps_its_scenes_and_pronoun_subjects() -> None:
    plan = await director.plan(MARS)
    _signable(plan)
    assert [loc.name for loc in plan.locations] == ["MARS COLONY", "AIRLOCK"]
    assert {"EXT. MARS COLONY - DUSK", "INT. AIRLOCK - NIGHT"} <= {
        s.scene.slugline for s in plan.shots
    }
    seal = next(s for s in plan.shots if "seals" in s.description)
    assert seal.description == "She seals the door." and seal.characters == ("Commander Reyes",)
    walk = next(s for s in plan.shots if "walks" in s.description)
    assert walk.movement is not CameraMove.STATIC


async def test_documentary_framing_line_is_not_a_shot_and_no_demonym_is_cast() -> None:
    plan = await director.plan(DOC)
    _signable(plan)
    assert [c.name for c in plan.characters] == ["Angus"]
    assert not any("documentary" in s.description for s in plan.shots)
    assert plan.shots[0].scene.slugline == "EXT. HARBOUR - DAWN"
    assert any(s.scene.location == "SEA" for s in plan.shots)


async def test_one_sentence_brief_gets_a_named_reaction() -> None:
    plan = await director.plan("A cat watches the rain.")
    covered = [s.description for s in plan.shots[1:] if s.description != "A cat watches the rain."]
    assert covered and all("the cat" in d for d in covered if d.startswith("Close")), covered
    assert not any("them" in s.description for s in plan.shots), "no one to be 'them'"


async def test_two_minute_brief_has_enough_setups_and_fits_the_target() -> None:
    plan = await director.plan(RECITAL)
    _signable(plan)
    assert plan.target_length == 120 and abs(plan.runtime - 120) <= 0.5
    assert 10 <= len(plan.shots) <= 40
    assert max(s.duration for s in plan.shots) <= 15
    sluglines = [s.scene.slugline for s in plan.shots]
    assert "INT. BEDROOM - NIGHT" in sluglines and "INT. CONCERT HALL - MORNING" in sluglines
    hug = next(s for s in plan.shots if "hugs" in s.description)
    assert hug.scene.int_ext is IntExt.EXT and hug.scene.location == "CONCERT HALL"
    assert not any(s.description.startswith(("Then ", "Outside,")) for s in plan.shots)


async def test_long_brief_keeps_every_scene_established() -> None:
    plan = await director.plan(HEIST)
    _signable(plan)
    assert [c.name for c in plan.characters] == ["Vera", "Leo"]
    assert not any("thriller" in s.description for s in plan.shots)
    locations = [loc.name for loc in plan.locations]
    assert {"APARTMENT", "VAULT", "BEACH"} <= set(locations)
    assert {"BANK", "LOBBY"} & set(locations), "the bank's marble lobby is a set"
    establishing = [s for s in plan.shots if "Establishing" in s.description]
    assert len(establishing) == len({(s.scene.int_ext, s.scene.location) for s in plan.shots})
    assert all(
        s.description.count("Establishing") == 1
        for s in plan.shots
        if "Establishing" in s.description
    )
    assert plan.shots[-1].scene.slugline == "EXT. BEACH - DAWN"
    run = next(s for s in plan.shots if "runs" in s.description)
    assert run.movement is CameraMove.FOLLOW


# --- "it" after a cut means the film -------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "Cut shot 2. Make it 45 seconds",
        "cut 2. make it 45s",
        "Lose shot 2 and make it 25 seconds",
        "Cut shot 2. Make it 20 seconds",
    ],
)
@pytest.mark.parametrize(
    "history", [(), (Turn(role="assistant", author="slate", content="Shot 2 is now a close-up."),)]
)
async def test_make_it_after_a_cut_retimes_the_film(
    message: str, history: tuple[Turn, ...]
) -> None:
    reply, after = await _direct(message, history=history)
    target = float(
        re.search(r"(\d+)\s*s", message.split(".")[-1] + message.split("and")[-1]).group(1)
    )  # type: ignore[union-attr]
    assert len(after.shots) == 5 and after.target_length == target, reply.text
    assert abs(after.runtime - target) <= 0.5


async def test_make_it_after_a_cut_in_an_earlier_turn_means_the_film() -> None:
    history = (
        Turn(role="user", author="u", content="cut shot 2"),
        Turn(
            role="assistant",
            author="slate",
            content="Cut shot 2 (Mia walks in); the shots after it move up.",
        ),
    )
    before = _base()
    before = before.model_copy(update={"shots": before.shots[:1] + before.shots[2:]})
    _, after = await _direct("make it 20 seconds", before, history=history)
    assert after.target_length == 20 and abs(after.runtime - 20) <= 0.5


async def test_a_film_length_after_a_shot_edit_in_the_same_message() -> None:
    _, after = await _direct("shot 2: close-up, and make it 45 seconds")
    assert after.shot(2).size is ShotSize.CLOSE_UP
    assert after.target_length == 45 and abs(after.runtime - 45) <= 0.5
    _, after = await _direct("shot 2: close-up, and make it 6 seconds")
    assert after.shot(2).duration == 6 and after.target_length is None


# --- complex briefs: world leads, appositives, moves to a new set -----------------------------

NOIR_1947 = (
    "Rain-soaked 1947 Los Angeles: a tired private eye, Mack Doyle, meets a femme fatale, Vera "
    "Lane, in a smoky jazz bar; she hands him a photograph and a lie, and he follows her into the "
    "alley where a shot rings out."
)
CREW = (
    "A heist thriller. Nina Cole, a veteran safecracker, meets her crew in a dingy warehouse at "
    "night: Rex, a nervous getaway driver, and Jules, a hacker, study the blueprints. The next "
    "morning Nina walks across the marble lobby of the bank while Jules types in the van outside. "
    "Rex speeds away through the city streets."
)
ROMANCE = (
    "A romance in Paris. Claire, a shy florist, waits on the bridge at sunset. Luc runs to her and "
    'says "I almost missed the train." She laughs and kisses him.'
)
NATURE = (
    "A nature documentary. At dawn, mist drifts over the swamp. A heron stalks the shallows, then "
    "strikes. Later, in the forest, a fox cub tumbles out of its den."
)
CABIN = (
    "INT. CABIN - NIGHT. Ellie, a college student, hears scratching at the door. She grabs a knife. "
    "EXT. WOODS - NIGHT. Ellie runs through the trees, and something chases her."
)


def _sluglines(plan: ShotList) -> list[str]:
    """Each scene's slugline once, in the order the film plays them."""
    return list(dict.fromkeys(s.scene.slugline for s in plan.shots))


def _established_first(plan: ShotList) -> None:
    """A set's establishing shot comes right before the first beat played there."""
    for i, shot in enumerate(plan.shots):
        if "Establishing" in shot.description:
            assert i + 1 < len(plan.shots), "an establishing shot leads into a beat"
            assert plan.shots[i + 1].scene == shot.scene, plan.shots[i + 1]


async def test_period_noir_reads_its_world_appositives_and_the_move_to_the_alley() -> None:
    plan = await director.plan(NOIR_1947)
    _signable(plan)
    _established_first(plan)
    assert [(c.name, c.description) for c in plan.characters] == [
        ("Mack Doyle", "tired private eye"),
        ("Vera Lane", "femme fatale"),
    ], "a year and a city are the setting; the description before a name is that person's"
    assert plan.style.name == "film noir"
    assert _sluglines(plan) == ["INT. BAR - DAY", "EXT. ALLEY - DAY"]
    assert "1947 Los Angeles" in plan.shots[0].description  # the world, on the establishing shot
    beats = [s for s in plan.shots if "Establishing" not in s.description]
    assert not any("Los Angeles" in s.description or "private eye" in s.description for s in beats)

    def first(word: str) -> Shot:
        return next(s for s in beats if word in s.description)

    meet, photo, follow, gunshot = first("meets"), first("hands"), first("follows"), first("rings")
    assert "Mack Doyle meets Vera Lane" in meet.description, "appositives go to the bible"
    assert meet.size in (ShotSize.TWO_SHOT, ShotSize.OVER_THE_SHOULDER)
    assert photo.description.startswith("She hands him"), "one beat per clause"
    assert photo.scene.location == "BAR" and set(photo.characters) == {"Mack Doyle", "Vera Lane"}
    assert photo.size in (ShotSize.INSERT, ShotSize.OVER_THE_SHOULDER)
    assert follow.description.startswith("He follows her") and follow.scene.location == "ALLEY"
    assert follow.movement in (CameraMove.FOLLOW, CameraMove.STEADICAM)
    assert gunshot.description.startswith("A shot rings out") and gunshot.characters
    assert gunshot.movement is CameraMove.WHIP_PAN or gunshot.size.tightness >= 5


async def test_city_names_and_years_are_setting_never_cast() -> None:
    for brief, world in (
        ("In 1920s Paris, Coco, a young seamstress, sews a dress in her attic.", "1920s Paris"),
        ("New York, 1977: a rookie cop, Tony Russo, walks his beat on a hot street.", "1977"),
        ("Hong Kong: Mei runs across the rooftop. A Hong Kong cop chases her.", "Hong Kong"),
    ):
        plan = await director.plan(brief)
        _signable(plan)
        assert [c.name for c in plan.characters] in (["Coco"], ["Tony Russo"], ["Mei"]), brief
        assert world in plan.shots[0].description
        assert not any(
            s.description.startswith(("In 1920s", "New York", "Hong Kong")) for s in plan.shots
        )


async def test_heist_crew_splits_the_colon_and_cross_cuts_to_the_van() -> None:
    plan = await director.plan(CREW)
    _signable(plan)
    _established_first(plan)
    assert [(c.name, c.description) for c in plan.characters] == [
        ("Nina Cole", "veteran safecracker"),
        ("Rex", "nervous getaway driver"),
        ("Jules", "hacker"),
    ], "'Nina' later is Nina Cole, not a fourth member of the crew"
    assert _sluglines(plan) == [
        "INT. WAREHOUSE - NIGHT",
        "INT. LOBBY - MORNING",
        "INT. VAN - MORNING",
        "EXT. CITY STREET - MORNING",
    ]
    study = next(s for s in plan.shots if "blueprints" in s.description)
    assert study.description == "Rex and Jules study the blueprints."
    assert set(study.characters) == {"Rex", "Jules"}
    walk = next(s for s in plan.shots if "walks" in s.description)
    assert walk.characters == ("Nina Cole",) and "Jules" not in walk.description
    assert walk.movement is not CameraMove.STATIC
    types = next(s for s in plan.shots if "types" in s.description)
    assert types.scene.location == "VAN" and types.characters == ("Jules",)
    speed = next(s for s in plan.shots if "speeds" in s.description)
    assert speed.movement is CameraMove.FOLLOW


async def test_romance_keeps_its_dialogue_and_frames_no_title_line() -> None:
    plan = await director.plan(ROMANCE)
    _signable(plan)
    _established_first(plan)
    assert [(c.name, c.description) for c in plan.characters] == [
        ("Claire", "shy florist"),
        ("Luc", ""),
    ], "'Paris. Claire' is two sentences, not one name"
    assert _sluglines(plan) == ["EXT. BRIDGE - DUSK"]
    assert not any("romance" in s.description.lower() for s in plan.shots)
    run = next(s for s in plan.shots if "runs" in s.description)
    assert run.dialogue == "I almost missed the train." and run.movement is CameraMove.FOLLOW
    kiss = next(s for s in plan.shots if "kisses" in s.description)
    assert set(kiss.characters) == {"Claire", "Luc"}, "'she … him' is both of them"


async def test_nature_documentary_has_no_cast_and_moves_with_the_animals() -> None:
    plan = await director.plan(NATURE)
    _signable(plan)
    _established_first(plan)
    assert plan.characters == () or list(plan.characters) == []
    assert _sluglines(plan) == ["EXT. SWAMP - DAWN", "EXT. FOREST - DAWN"]
    assert not any("documentary" in s.description for s in plan.shots)
    stalk = next(s for s in plan.shots if "stalks" in s.description)
    assert stalk.movement is not CameraMove.STATIC
    assert any(s.description == "The heron strikes." for s in plan.shots)
    cub = next(s for s in plan.shots if "tumbles" in s.description)
    assert cub.scene.location == "FOREST" and cub.movement is not CameraMove.STATIC


async def test_horror_sluglines_keep_their_order_and_plural_sets_read_right() -> None:
    plan = await director.plan(CABIN)
    _signable(plan)
    _established_first(plan)
    assert [(c.name, c.description) for c in plan.characters] == [("Ellie", "college student")]
    assert _sluglines(plan) == ["INT. CABIN - NIGHT", "EXT. WOODS - NIGHT"]
    assert any(s.description == "Establishing: the woods at night." for s in plan.shots)
    assert not any("INT" in s.description or "EXT" in s.description for s in plan.shots)
    knife = next(s for s in plan.shots if "knife" in s.description)
    assert knife.size in (ShotSize.INSERT, ShotSize.CLOSE_UP)
    run = next(s for s in plan.shots if "runs" in s.description)
    assert run.movement in (CameraMove.FOLLOW, CameraMove.HANDHELD, CameraMove.STEADICAM)


@pytest.mark.parametrize("brief", [NOIR_1947, CREW, ROMANCE, NATURE, CABIN])
async def test_complex_briefs_fit_a_target_and_stay_signable(brief: str) -> None:
    plan = await director.plan(f"A 45-second film. {brief}")
    _signable(plan)
    _established_first(plan)
    assert plan.target_length == 45 and abs(plan.runtime - 45) <= 0.5
    assert not any(c.name in ("Los Angeles", "Paris", "Hong Kong") for c in plan.characters)
    if brief is NOIR_1947:
        assert "1947 Los Angeles" in plan.shots[0].description
