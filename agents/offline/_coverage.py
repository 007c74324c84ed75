"""Covering a read brief: set-ups from the coverage patterns (data/coverage.toml), fitted to the
film's length, as one `ShotList`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from agents.offline._brief import Beat, Place, Reading
from agents.offline._lexicon import coverage, lexicon
from agents.offline._notes import LADDER, fit_durations
from agents.offline._words import sentence
from studio.edits import (
    Edit,
    ReplaceShots,
    SetCharacter,
    SetLocation,
    SetProjectInfo,
    SetStyle,
    ShotChanges,
    apply_edit,
)
from studio.errors import InvalidValue
from studio.models import MAX_DURATION, MAX_NAME, MAX_SHOTS, MAX_TEXT, MIN_DURATION, ShotList
from studio.vocab import CameraMove, MoveDirection, MoveSpeed, ShotSize, TimeOfDay

_WHEN = {TimeOfDay.DAY: "", TimeOfDay.NIGHT: " at night"}
_INSTEAD = {
    ShotSize.INSERT: ShotSize.EXTREME_CLOSE_UP,
    ShotSize.TWO_SHOT: ShotSize.MEDIUM_WIDE,
    ShotSize.OVER_THE_SHOULDER: ShotSize.MEDIUM_CLOSE_UP,
    ShotSize.POV: ShotSize.CLOSE_UP,
}
_WEIGHT = {ShotSize.EXTREME_WIDE: 1.3, ShotSize.WIDE: 1.2, ShotSize.INSERT: 0.7}


@dataclass
class Setup:
    """One planned shot before it has a duration."""

    text: str
    size: ShotSize
    place: Place | None
    time: TimeOfDay
    people: list[str] = field(default_factory=list)
    move: dict[str, str] = field(default_factory=dict)
    beat: int = -1  # the beat it covers; -1 = establishing
    own: bool = False  # the beat's own shot (never dropped, only merged)
    dialogue: str = ""

    def changes(self, duration: float) -> ShotChanges:
        place = self.place
        return ShotChanges(
            description=sentence(self.text),
            characters=list(self.people),
            size=self.size,
            movement=CameraMove(self.move.get("move", "static")),
            direction=MoveDirection(self.move.get("direction", "")),
            speed=MoveSpeed(self.move.get("speed", "medium")),
            duration=duration,
            int_ext=place.int_ext if place else None,
            location=place.name[:MAX_NAME] if place else None,
            time_of_day=self.time,
            dialogue=self.dialogue[:MAX_TEXT],
        )


def _who(spec: str, beat: Beat, scene_people: list[str]) -> list[str]:
    people = beat.people or scene_people[-1:]
    others = [p for p in scene_people if p not in people]
    a = people[0] if people else ""
    b = people[1] if len(people) > 1 else (others[-1] if others else "")
    return {
        "pair": [p for p in (a, b) if p],
        "reverse": [p for p in (b, a) if p],
        "first": [a] if a else [],
        "second": [b or a] if (b or a) else [],
        "all": list(people),
        "none": [],
    }[spec]


def _setup(entry: dict[str, Any], beat: Beat, index: int, scene: list[str], own: bool) -> Setup:
    single = entry["who"] in ("first", "second")  # a beat's own shot holds all who act in it
    people = _who("all" if own and single and beat.people else entry["who"], beat, scene)
    pair = _who("pair", beat, scene) or [beat.subject or "them"]
    names = {"a": pair[0], "b": pair[-1]}
    text = beat.text if own else entry["cover"].format(beat=beat.text.rstrip("."), **names)
    move: dict[str, str] = {k: str(entry[k]) for k in ("move", "direction", "speed") if k in entry}
    if own and not move and (verb := lexicon().moves_re.search(beat.text)):
        move = {"move": lexicon().moves[verb.group().lower()]}  # "walks" → truck with them
    size = ShotSize(entry["size"])
    return Setup(text, size, beat.place, beat.time, people, move, index, own, beat.dialogue * own)


def _cover(reading: Reading) -> tuple[list[Setup], list[list[Setup]]]:
    """Every beat's core set-ups in order, and each beat's further set-ups to draw on."""
    kinds = coverage()["kind"]
    shots: list[Setup] = []
    spare: list[list[Setup]] = []
    scene: Place | None = None
    turns: dict[str, int] = {}
    scene_people: list[str] = []
    for index, beat in enumerate(reading.beats):
        if beat.place != scene or not shots:
            scene, turns, scene_people = beat.place, {}, []
            if not shots or beat.place not in [s.place for s in shots]:  # a return cuts straight in
                shots.append(_establishing(beat, "" if shots else reading.world))
        kind = reading.form if reading.form in ("documentary", "music") else beat.kind
        scene_people += [p for p in beat.people if p not in scene_people]
        if kind == "talk" and len(scene_people) < 2:
            kind = "plain"  # no one to talk to: no shoulder to look over
        pattern = kinds[kind]
        rotation = pattern["rotation"]
        turn = turns.get(kind, 0)
        core = pattern["scene_core"] if turn == 0 else 1
        entries = [rotation[(turn + i) % len(rotation)] for i in range(len(rotation) + 2)]
        nobody = not (beat.people or scene_people or beat.subject)  # never "Close on them"
        setups = [
            _setup(entry, beat, index, scene_people, own=i == 0)
            for i, entry in enumerate(entries)
            if i == 0 or not (nobody and "{a}" in entry["cover"])
        ]
        shots += setups[:core]
        spare.append(setups[core:])
        turns[kind] = turn + core
    return shots, spare


def _establishing(beat: Beat, world: str) -> Setup:
    place = beat.place
    entry = coverage()["establish"]["EXT" if place and place.int_ext.value == "EXT" else "INT"]
    where = place.description if place else "the world of the film"
    if world and world.lower() not in where.lower():
        where = f"{world}, {where}" if place else world  # "1947 Los Angeles, smoky jazz bar"
    when = _WHEN.get(beat.time, f" at {beat.time.value.lower()}")
    text = f"Establishing: {where}{when}"
    move = {k: entry[k] for k in ("move", "direction", "speed") if k in entry}
    return Setup(text, ShotSize(entry["size"]), place, beat.time, [], move)


def _budget(reading: Reading, core: int, essential: int) -> int:
    """How many shots the film wants: its length over the form's pace, or a little coverage
    (without a length, every scene keeps its establishing shot and every beat its own)."""
    if reading.target is None:
        return max(essential, min(12, max(core, 4, core + 2)))
    pace = float(coverage()["pace"].get(reading.form, 4.0))
    least = math.ceil(reading.target / MAX_DURATION)
    most = math.floor(reading.target / MIN_DURATION)
    return max(least, min(most, round(reading.target / pace), MAX_SHOTS))


def _fit(shots: list[Setup], spare: list[list[Setup]], budget: int, reading: Reading) -> None:
    priority = {k: v["priority"] for k, v in coverage()["kind"].items()}
    order = sorted(range(len(spare)), key=lambda i: priority[reading.beats[i].kind])
    while len(shots) < budget and any(spare):
        for i in order:
            if spare[i] and len(shots) < budget:
                extra = spare[i].pop(0)
                last = max(n for n, s in enumerate(shots) if s.beat == i)
                shots.insert(last + 1, extra)
    while len(shots) > budget and (drop := [s for s in shots if s.beat >= 0 and not s.own]):
        shots.remove(drop[-1])
    while len(shots) > budget and (later := [s for s in shots[1:] if s.beat < 0]):
        shots.remove(later[-1])  # a later scene goes without its establishing shot
    while len(shots) > max(budget, 1):
        i = min(range(len(shots) - 1), key=lambda k: len(shots[k].text + shots[k + 1].text))
        first, second = shots[i], shots[i + 1]
        first.text = f"{sentence(first.text)} {sentence(second.text)}"
        first.people = list(dict.fromkeys(first.people + second.people))
        del shots[i + 1]


def _vary(shots: list[Setup]) -> None:
    """No two shots in a row at one size on the same people in one place: step the later one."""
    for before, shot in zip(shots, shots[1:], strict=False):
        same = before.size is shot.size and before.people == shot.people
        if same and before.place == shot.place:
            if shot.size not in LADDER:
                shot.size = _INSTEAD[shot.size]
            else:
                step = LADDER.index(shot.size) + 1
                shot.size = LADDER[step if step < len(LADDER) else step - 2]


def plan_shots(reading: Reading, style: str | None) -> ShotList:
    shots, spare = _cover(reading)
    most = min(MAX_SHOTS, len(shots) + sum(len(s) for s in spare))
    target = reading.target
    if target is not None and target > most * MAX_DURATION:
        raise InvalidValue(
            f"A film of {reading.target_said} ({target:g} s) needs more story than this brief "
            f"has: it covers at most {most} shots of {MAX_DURATION:g} s. Add more action or ask "
            "for a shorter film."
        )
    essential = sum(1 for s in shots if s.own or s.beat < 0)
    _fit(shots, spare, _budget(reading, len(shots), essential), reading)
    _vary(shots)
    weights = [_WEIGHT.get(s.size, 1.0) * (1.2 if s.move else 1.0) * 3.5 for s in shots]
    durations = fit_durations(weights, target) if target else [round(w, 1) for w in weights]
    edits: list[Edit] = [
        SetProjectInfo(
            title=(reading.title or "Untitled")[: MAX_NAME * 2],
            logline=reading.logline,
            target_length=target,
        )
    ]
    edits += [SetCharacter(name=n[:MAX_NAME], description=d) for n, d in reading.cast.items()]
    places = {s.place.name: s.place for s in shots if s.place}
    edits += [
        SetLocation(name=p.name[:MAX_NAME], description=p.description) for p in places.values()
    ]
    if style or reading.style:
        edits.append(SetStyle(preset=style or reading.style))
    edits.append(ReplaceShots(shots=[s.changes(d) for s, d in zip(shots, durations, strict=True)]))
    shotlist = ShotList()
    for edit in edits:
        shotlist = apply_edit(shotlist, edit)
    return shotlist
