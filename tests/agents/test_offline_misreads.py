"""The offline director refuses what it can't read exactly, rather than reading it as something else.

Numbers that can't name a shot or a place (3.5, -2, 10000000000000000000000), negative or absurd
lengths, and directions addressed to another project each get a reply that changes nothing and
says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agents.base import DirectorReply, MemoryEditor, project_id_of
from agents.offline import FOOTER, OfflineDirector
from studio.edits import Edit
from studio.errors import InvalidValue
from studio.models import ShotList
from studio.records import Turn
from tests.agents.test_offline import _base

director = OfflineDirector()
STORY = "Mia walks through the alley at night. She finds a letter."


async def _direct(
    message: str, *, project_id: int | None = None, history: tuple[Turn, ...] = ()
) -> tuple[DirectorReply, ShotList]:
    editor = MemoryEditor(_base(), project_id=project_id)
    reply = await director.direct(message, editor, history)
    return reply, await editor.shotlist()


def _assert_refused(reply: DirectorReply, after: ShotList, *named: str) -> None:
    assert reply.edits == 0 and reply.render is None, reply.text
    assert after == _base(), reply.text
    assert reply.text.endswith(FOOTER)
    assert "I didn't catch" not in reply.text, "a refusal says why, not 'didn't catch'"
    for text in named:
        assert text in reply.text, reply.text


# --- shot numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("shot 3.5: close-up", "3.5"),
        ("shots 2.5 and 3 wide", "2.5"),
        ("make the 3.5th shot wide", "3.5"),
        ("close-up on 4.5", "4.5"),
        ("shot -2: close-up", "-2"),
        ("add a shot after 10000000000000000000000: Mia runs", "10000000000000000000000"),
        ("add a shot after 10000000000000000000000", "10000000000000000000000"),
        ("delete shot 10000000000000000000000", "10000000000000000000000"),
        ("#10000000000000000000000 close-up", "10000000000000000000000"),
        ("render shot 10000000000000000000000", "10000000000000000000000"),
        ("swap 1 and 99999999999999999999999", "99999999999999999999999"),
        ("move shot 2 to position 2.5", "position 2.5"),
        ("move shot 2 to position 10000000000000000000000", "position 10000000000000000000000"),
        ("shot 9: close-up", "shot 9"),
        ("add a shot after 9: Mia runs", "shot 9"),
    ],
)
async def test_a_number_that_names_no_shot_is_refused_by_name(message: str, named: str) -> None:
    reply, after = await _direct(message)
    _assert_refused(reply, after, named)


_DECIMALS = st.builds(lambda whole, part: f"{whole}.{part}", st.integers(0, 99), st.integers(1, 9))
_NEGATIVES = st.integers(1, 99).map(lambda n: f"-{n}")
_HUGE = st.integers(10**7, 10**80).map(str)
_SHOT_DIRECTIONS = [
    "shot {n}: close-up",
    "make shot {n} a slow dolly in",
    "add a shot after {n}: Mia runs",
    "add a shot before shot {n}",
    "delete shot {n}",
    "cut {n}",
    "render shot {n}",
    "swap shots 1 and {n}",
    "move shot {n} to the end",
    "move shot 2 after shot {n}",
    "split shot {n}",
    "shot {n} dialogue: hello",
    "low angle on shot {n}",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SHOT_DIRECTIONS), st.one_of(_DECIMALS, _NEGATIVES, _HUGE))
@example("shot {n}: close-up", "9" * 4500)  # past Python's int-from-text digit limit
@example("add a shot after {n}: Mia runs", "1" + "0" * 400)  # past float's range
def test_no_direction_reads_a_non_shot_number_as_another_shot(template: str, number: str) -> None:
    reply, after = asyncio.run(_direct(template.format(n=number)))
    _assert_refused(reply, after, number[:20])


# --- lengths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "shot 2 last -5 seconds",
        "make shot 3 -4 seconds",
        "shot 3 should last minus 2 seconds",
        "make it -30 seconds",
        "make the film -1 minute",
    ],
)
async def test_a_negative_length_is_refused_not_turned_round(message: str) -> None:
    reply, after = await _direct(message)
    _assert_refused(reply, after, "negative")


@pytest.mark.parametrize(
    "message",
    [
        "shot 3 should last 99999999999999999999999999999999 seconds",
        "shot 3 should last " + "9" * 400 + " seconds",
        "make it 100000000000000000000000000 seconds",
        "make it 2 hours",
        "-35mm lens on shot 3",
        "35.5mm lens on shot 3",
        "99999999999999999999999mm lens on shot 3",
    ],
)
async def test_an_absurd_length_or_lens_is_refused_with_a_reason(message: str) -> None:
    reply, after = await _direct(message)
    _assert_refused(reply, after)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["shot 2 lasts {v} seconds", "make shot 2 {v} s", "make it {v} seconds"]),
    st.floats(0.5, 30).map(lambda v: round(v, 1)),
)
def test_a_negative_length_never_becomes_positive(template: str, value: float) -> None:
    reply, after = asyncio.run(_direct(template.format(v=f"-{value:g}")))
    _assert_refused(reply, after, "negative")


# --- a brief's target length ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("A 10 hour film", "10 hour"),
        ("A 2-hour movie", "2-hour"),
        ("A -5 second teaser", "-5 second"),
        ("A minus 5 second teaser", "minus 5 second"),
        ("Runtime: -30 seconds.", "-30 seconds"),
        ("A 0 second teaser", "0 second"),
        ("A 100000000000000000000000000000 second teaser", "1000000000000000000000"),
        ("A 90 minute film", "5400"),
    ],
)
async def test_a_target_no_shot_list_can_run_is_refused(header: str, named: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        await director.plan(f"{header}: {STORY}")
    assert named in str(refused.value)


async def test_hours_in_the_story_are_not_the_films_length() -> None:
    plan = await director.plan(f"In a 24-hour diner, Mia drinks coffee. {STORY}")
    assert plan.target_length is None and plan.shots


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.integers(-100, 400),
        st.floats(-100, 400).map(lambda v: round(v, 1)),
        st.integers(10**4, 10**40),
    ),
    st.sampled_from(["second teaser", "seconds long", "sec promo", "minute short"]),
)
def test_a_brief_gets_its_length_exactly_or_a_refusal(value: float, unit: str) -> None:
    try:
        plan = asyncio.run(director.plan(f"A {value:g} {unit}: {STORY}"))
    except InvalidValue:
        return
    asked = float(f"{value:g}") * (60 if unit.startswith("minute") else 1)
    assert plan.target_length == asked
    assert abs(plan.runtime - asked) <= 0.5


# --- another project -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "project 1: delete shot 1",
        "Project #1 - shot 3: close-up",
        "in project 1, swap shots 1 and 2",
        "delete shot 1 in project 1",
        "project one: undo",
        "project 1.5: delete shot 1",
    ],
)
async def test_a_direction_for_another_project_is_refused(message: str) -> None:
    reply, after = await _direct(message, project_id=2)
    _assert_refused(reply, after, "this chat is project #2")


@pytest.mark.parametrize(
    ("message", "edits"),
    [
        ("project 2: delete shot 1", 1),
        ("Project #2, shot 3: close-up", 1),
        ("swap shots 1 and 2 in project 2.", 1),
        ("title: Project 1", 1),  # a title, not an address
    ],
)
async def test_a_direction_for_this_project_is_taken(message: str, edits: int) -> None:
    reply, after = await _direct(message, project_id=2)
    assert reply.edits == edits and after != _base(), reply.text


class _Unnamed:
    """A `ProjectEditor` without `project_id` (the attribute is optional)."""

    def __init__(self) -> None:
        self._draft = MemoryEditor(_base())

    async def shotlist(self) -> ShotList:
        return await self._draft.shotlist()

    async def apply(self, edit: Edit) -> ShotList:
        return await self._draft.apply(edit)

    async def apply_many(self, edits: Sequence[Edit]) -> ShotList:
        return await self._draft.apply_many(edits)

    async def undo(self) -> ShotList:
        return await self._draft.undo()


async def test_an_editor_that_cant_say_its_project_refuses_any_address() -> None:
    assert project_id_of(_Unnamed()) is None and project_id_of(MemoryEditor(project_id=4)) == 4
    for editor in (_Unnamed(), MemoryEditor(_base())):
        reply = await director.direct("project 2: delete shot 1", editor)
        _assert_refused(reply, await editor.shotlist(), "project #2")
    reply = await director.direct("delete shot 1", _Unnamed())
    assert reply.edits == 1, "an editor without an id still takes plain directions"


# --- what the conversation is about --------------------------------------------------------


async def test_a_refusal_in_the_history_gives_no_subject() -> None:
    """After 'shot 99' was refused, 'make it longer' must not edit the shot the refusal listed."""
    for asked in ("shot 99: close-up", "shot 3.5: close-up", "dolly the zebra"):
        first, _ = await _direct(asked)
        history = (Turn("user", "ana", asked), Turn("director", "slate", first.text))
        reply, after = await _direct("make it longer", history=history)
        _assert_refused(reply, after)
