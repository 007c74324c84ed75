"""Film grammar: the notes a script supervisor would raise, and fitting durations to a target."""

from __future__ import annotations

from collections.abc import Sequence

from agents.offline._words import article as _article
from agents.offline._words import joined as _and
from agents.offline._words import seconds as _seconds
from studio.errors import InvalidValue
from studio.models import (
    MAX_DURATION,
    MIN_DURATION,
    ShotList,
)
from studio.vocab import (
    ShotSize,
)

# ---------------------------------------------------------------------------------------------
# Film grammar
# ---------------------------------------------------------------------------------------------

LADDER = (
    ShotSize.EXTREME_WIDE,
    ShotSize.WIDE,
    ShotSize.FULL,
    ShotSize.MEDIUM_WIDE,
    ShotSize.MEDIUM,
    ShotSize.MEDIUM_CLOSE_UP,
    ShotSize.CLOSE_UP,
    ShotSize.EXTREME_CLOSE_UP,
)


def size_name(size: ShotSize) -> str:
    """How a size reads in a sentence: 'a POV shot', not 'a point of view'."""
    return {ShotSize.POV: "POV shot", ShotSize.OVER_THE_SHOULDER: "over-the-shoulder shot"}.get(
        size, size.value
    )


def _plural(size: ShotSize) -> str:
    word = size_name(size)
    return word[:-4] + "shots" if word.endswith(" shot") else word + "s"


def grammar_notes(shotlist: ShotList) -> list[str]:
    """Film-grammar warnings a script supervisor would raise about this shot list."""
    notes: list[str] = []
    shots = shotlist.shots
    for i, shot in enumerate(shots):
        previous = shots[i - 1] if i else None
        if previous is None or previous.scene.location != shot.scene.location:
            if shot.size.tightness >= ShotSize.MEDIUM_CLOSE_UP.tightness:
                notes.append(
                    f"Scene {shot.scene.location} opens on {_article(size_name(shot.size))} "
                    f"(shot {shot.number}); consider an establishing shot first."
                )
            continue
        if (
            previous.size is shot.size
            and previous.angle is shot.angle
            and previous.characters == shot.characters
        ):
            who = f" of {_and(list(shot.characters))}" if shot.characters else ""
            notes.append(
                f"Shots {previous.number} and {shot.number} are both {_plural(shot.size)}{who}: "
                "consider varying the size or angle (30° rule) to avoid a jump cut."
            )
    target = shotlist.target_length
    if target and shots and abs(shotlist.runtime - target) > max(1.0, target * 0.1):
        notes.append(
            f"The cut runs {_seconds(shotlist.runtime)} against a target of {_seconds(target)}; "
            f"say 'make it {target:g} seconds' to retime the shots."
        )
    return notes


def fit_durations(durations: Sequence[float], target: float) -> list[float]:
    """Scale shot durations to sum to `target` (to 0.1 s), each within the allowed range."""
    count = len(durations)
    if not count:
        raise InvalidValue("There are no shots to retime yet.")
    if not count * MIN_DURATION <= target <= count * MAX_DURATION:
        raise InvalidValue(
            f"{count} shots can't add up to {_seconds(target)}: each lasts {MIN_DURATION:g}–"
            f"{MAX_DURATION:g} s, so the film can run {count * MIN_DURATION:g}–{count * MAX_DURATION:g} s."
        )
    weights = [max(d, 0.1) for d in durations]
    fitted = [0.0] * count
    free = set(range(count))
    remaining = target
    while free:
        scale = remaining / sum(weights[i] for i in free)
        clamped = {i for i in free if not MIN_DURATION <= weights[i] * scale <= MAX_DURATION}
        if not clamped:
            for i in free:
                fitted[i] = weights[i] * scale
            break
        for i in clamped:
            fitted[i] = MIN_DURATION if weights[i] * scale < MIN_DURATION else MAX_DURATION
            remaining -= fitted[i]
        free -= clamped
    rounded = [min(MAX_DURATION, max(MIN_DURATION, round(d, 1))) for d in fitted]
    # Put the rounding remainder on the longest shot that can take it, so the sum is exact.
    for _ in range(count):
        gap = round(target - sum(rounded), 1)
        if not gap:
            break
        room = [i for i in range(count) if MIN_DURATION <= rounded[i] + gap <= MAX_DURATION]
        i = (
            max(room, key=lambda k: rounded[k])
            if room
            else max(range(count), key=lambda k: rounded[k])
        )
        rounded[i] = round(min(MAX_DURATION, max(MIN_DURATION, rounded[i] + gap)), 1)
    return rounded
