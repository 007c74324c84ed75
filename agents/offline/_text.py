"""Shared parsing helpers: shot references, numbers, ordinals, tidy text and film-term scanning."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from studio.errors import InvalidValue
from studio.models import (
    MAX_SHOTS,
    MAX_TEXT,
)
from studio.vocab import (
    DIRECTION_HINTS,
    Angle,
    CameraMove,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ShotSize,
    TimeOfDay,
    Transition,
    aliases,
    fold,
)

# ---------------------------------------------------------------------------------------------
# Words and numbers
# ---------------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    word: i
    for i, word in enumerate(
        (
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        )
    )
}
_ORDINAL_WORDS = {
    word: i
    for i, word in enumerate(
        (
            "zeroth",
            "first",
            "second",
            "third",
            "fourth",
            "fifth",
            "sixth",
            "seventh",
            "eighth",
            "ninth",
            "tenth",
            "eleventh",
            "twelfth",
            "thirteenth",
            "fourteenth",
            "fifteenth",
            "sixteenth",
            "seventeenth",
            "eighteenth",
            "nineteenth",
            "twentieth",
        )
    )
}


def _alternation(words: Sequence[str]) -> str:
    # Longest first, so "seventeen" is not read as "seven".
    return "|".join(sorted(words, key=len, reverse=True))


# A number as typed, read whole: a sign or a decimal part is part of the number, so "shot 3.5" or
# "shot -2" reads as one (refused) number, never as shot 3 or shot 2. Atomic, so a regex can't
# back off to the "3" of "3.5".
_DIGITS = r"(?:(?<![\w.])[-−](?=\d))?(?>\d+(?:\.\d+)?)"
_NUM = rf"(?:{_DIGITS}|{_alternation(list(_NUMBER_WORDS))})"
_ORD = rf"(?:{_DIGITS}(?:st|nd|rd|th)|{_alternation(list(_ORDINAL_WORDS))}|last|final|penultimate)"
_UNIT_AHEAD = r"(?!\s*-?\s*(?:s\b|secs?\b|seconds?\b|mm\b|min|h\b|hrs?\b|hours?\b|%|x\b))"
_SHOT_LIST_REF = (
    rf"\bshots?\s*(?:no\.?\s*|number\s*|#\s*)?(?P<n>{_NUM})\b{_UNIT_AHEAD}"
    rf"(?P<more>(?:\s*(?:,|&|\band\b|\bor\b|-|–|\bthrough\b|\bthru\b)\s*(?:shot\s*)?#?\s*{_NUM}\b{_UNIT_AHEAD})*)"
)
_REF_RE = re.compile(
    rf"{_SHOT_LIST_REF}"
    rf"|\b(?:the\s+)?(?P<o>{_ORD})\s+(?:shot|one)\b"
    rf"|#\s*(?P<h>{_DIGITS})\b"
    rf"|\b(?:for|on)\s+#?(?P<f>{_NUM})\b{_UNIT_AHEAD}(?!\s*(?:st|nd|rd|th)\b)",
    re.IGNORECASE,
)
_BARE_NUMBER_RE = re.compile(rf"(?<![\w.])#?(?P<n>{_ORD}|{_NUM})\b{_UNIT_AHEAD}", re.IGNORECASE)


_TYPED_NUMBER_RE = re.compile(r"(?P<sign>[-−]?)(?P<whole>\d+)(?P<fraction>\.\d+)?")
_MOST_DIGITS = len(str(MAX_SHOTS * 100))  # past this a number can't name a shot or a place


def _number(token: str, count: int, *, kind: str = "shot") -> int:
    """'3', 'three', '3rd', 'third', 'last' → an int (positions are 1-based).

    A number that can't be a `kind` number (3.5, -2, 10000000000000000000000) raises `InvalidValue`
    naming it, so a direction is refused rather than read as some other shot.
    """
    word = token.strip().lower().lstrip("#")
    if word in ("last", "final"):
        return count
    if word == "penultimate":
        return count - 1
    typed = _TYPED_NUMBER_RE.match(word)
    if typed:
        whole = typed.group("whole")
        shown = _shown_number(token.strip().lstrip("#"))
        if typed.group("sign") or typed.group("fraction"):
            raise InvalidValue(f"There is no {kind} {shown}: {kind}s are numbered 1, 2, 3…")
        if len(whole.lstrip("0")) > _MOST_DIGITS:
            raise InvalidValue(
                f"There is no {kind} {shown}: a shot list holds at most {MAX_SHOTS} shots."
            )
        return int(whole)
    return _NUMBER_WORDS.get(word, _ORDINAL_WORDS.get(word, 0))


def _shown_number(text: str) -> str:
    """A number as the crew typed it, cut short when it is absurdly long."""
    return text if len(text) <= 32 else f"{text[:24]}…"


@dataclass(frozen=True)
class _Ref:
    numbers: tuple[int, ...]
    start: int
    end: int


def _refs(text: str, count: int) -> list[_Ref]:
    """Every shot reference in the text, in order, with its span."""
    found = []
    for match in _REF_RE.finditer(text):
        if match.group("n"):
            numbers = [_number(match.group("n"), count)]
            more = match.group("more") or ""
            for sep, token in re.findall(
                rf"(,|&|\band\b|\bor\b|-|–|\bthrough\b|\bthru\b)\s*(?:shot\s*)?#?\s*({_NUM})\b",
                more,
                re.IGNORECASE,
            ):
                value = _number(token, count)
                if (
                    sep.lower() in ("-", "–", "through", "thru")
                    and 0 < value - numbers[-1] <= MAX_SHOTS
                ):
                    numbers.extend(range(numbers[-1] + 1, value + 1))
                else:
                    numbers.append(value)
        else:
            token = match.group("o") or match.group("h") or match.group("f")
            numbers = [_number(token, count)]
        found.append(_Ref(tuple(dict.fromkeys(numbers)), match.start(), match.end()))
    return found


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Blank out spans (keeping offsets) so later scans do not re-read them."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _tidy(text: str) -> str:
    """Collapse spacing, trim stray punctuation and any quotes wrapped round the whole text."""
    text = re.sub(r"\s+", " ", text).strip(" ,;:-—")
    if len(text) > 1 and text[0] in "\"“'‘" and text[-1] in "\"”'’":
        text = text[1:-1].strip()
    return text


def _sentence(text: str) -> str:
    """Capitalise and end with a full stop: the way a shot description reads."""
    text = _tidy(text)[: MAX_TEXT - 1]
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in '.!?…"”' else text + "."


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _article(phrase: str) -> str:
    vowel_sound = phrase[:1].lower() in "aeiou" or re.match(r"8|1[18](?:\d\d)?(?!\d)", phrase)
    return ("an " if vowel_sound else "a ") + phrase


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------------------------
# Vocabulary scanning
# ---------------------------------------------------------------------------------------------

# Alias spellings that are also everyday words ("long", "high", "still", "cut") are too risky
# to read out of free text; crews say "long shot", "high angle", "cut to" instead.
_RISKY = {
    ShotSize: {"long", "full", "mid", "ins", "ls", "2s", "2shot"},
    Angle: {"high", "low", "eye", "neutral", "worm"},
    CameraMove: {"still", "fixed", "none", "circle", "slide", "push", "following", "ped", "nomove"},
    TimeOfDay: {"cont", "continuous"},
    Transition: {"cut", "fade"},
}
_SPEEDS = {
    "slow",
    "slowly",
    "gentle",
    "gently",
    "subtle",
    "fast",
    "quick",
    "quickly",
    "rapid",
    "snappy",
}
_DIRECTIONS = {"left", "right", "up", "down"}
_SCAN_ORDER: tuple[type[StrEnum], ...] = (
    Transition,
    Angle,
    CameraMove,
    ShotSize,
    TimeOfDay,
    IntExt,
    MoveSpeed,
    MoveDirection,
)


def _scan_table(enum: type[StrEnum]) -> dict[str, StrEnum]:
    table: dict[str, StrEnum] = dict(aliases(enum))
    if enum is MoveSpeed:
        return {k: v for k, v in table.items() if k in _SPEEDS}
    if enum is MoveDirection:
        return {k: v for k, v in table.items() if k in _DIRECTIONS}
    return {k: v for k, v in table.items() if k not in _RISKY.get(enum, set())}


_TABLES = {enum: _scan_table(enum) for enum in _SCAN_ORDER}
# Crew phrasings the vocabulary tables do not carry.
_TABLES[CameraMove] |= {"lockoff": CameraMove.STATIC, "lockitoff": CameraMove.STATIC}
_TABLES[TimeOfDay] |= {
    "goldenhour": TimeOfDay.DUSK,
    "magichour": TimeOfDay.DUSK,
    "bluehour": TimeOfDay.DUSK,
}
_TOKEN_RE = re.compile(r"[\w'’°]+(?:-[\w'’°]+)*")
# "6 seconds", "6s", "6-second", "1.5 minutes", "a minute", "half a minute", "2 hours". An amount is
# read whole: a minus sign or "minus" is part of it, so "-5 seconds" reads as -5 (and is refused),
# never as 5; "1e+06 seconds" is a million seconds, never 6.
_AMOUNT = (
    r"(?:(?P<neg>(?<![\w.])[-−](?=\d)|\bminus\s+)|(?<![\w.+\-−]))"
    rf"(?:(?P<v>(?>\d+(?:\.\d+)?(?:e[+-]?\d+)?)|{_alternation(list(_NUMBER_WORDS))})\s*-?\s*"
    r"(?P<u>seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)"
    r"|(?P<a>an?|half an?|half a|half)(?:\s+|-)(?P<au>second|minute|hour))\b"
)
_DURATION_RE = re.compile(rf"{_AMOUNT}(?:\s+long\b)?", re.IGNORECASE)
_LENS_RE = re.compile(
    r"(?:(?P<neg>(?<![\w.])[-−](?=\d))|\b)(?P<mm>(?>\d+(?:\.\d+)?))\s*-?\s*"
    r"(?:mm|millimet(?:er|re)s?)\b(?:\s+lens\b)?",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def _duration_value(match: re.Match[str]) -> float:
    """Seconds in a matched amount; `InvalidValue` for a negative or absurdly long one."""
    if match.group("a"):
        value = 0.5 if match.group("a").lower().startswith("half") else 1.0
        unit = match.group("au")
    else:
        raw = match.group("v").lower()
        value = float(raw) if raw[0].isdigit() else float(_NUMBER_WORDS[raw])
        unit = match.group("u")
    said = _shown_number(re.sub(r"\s+", " ", match.group().strip()))
    if match.group("neg"):
        raise InvalidValue(f"A length can't be negative (“{said}”).")
    seconds = value * _UNIT_SECONDS[unit[0].lower()]
    if not math.isfinite(seconds):
        raise InvalidValue(f"“{said}” is longer than anything I can time.")
    return seconds


def _lens_value(match: re.Match[str]) -> int:
    """The focal length in a matched '85mm'; `InvalidValue` for one no lens has."""
    mm = match.group("mm")
    if match.group("neg") or "." in mm or len(mm.lstrip("0")) > 4:
        raise InvalidValue(
            f"There is no {_shown_number((match.group('neg') or '') + mm)}mm lens: "
            "name a whole focal length, e.g. '35mm'."
        )
    return int(mm)


@dataclass
class _Terms:
    """What film vocabulary a piece of text names, first mention wins."""

    values: dict[type[StrEnum], StrEnum] = field(default_factory=dict)
    hinted_direction: MoveDirection | None = None  # "pan left" names its direction in the move

    def get(self, enum: type[StrEnum]) -> StrEnum | None:
        return self.values.get(enum)


# Single camera words that are everyday words in a story ("follows", "pan", "crane", "close"):
# a brief only sets a shot's framing with unmistakable camera language.
# fmt: off
_EVERYDAY = {"follow", "pan", "crane", "boom", "jib", "zoom", "tilt", "orbit", "arc", "whip", "tracking",
             "crab", "tripod", "shaky", "vertigo", "gimbal", "static", "dolly", "wide", "close", "tight",
             "medium", "insert", "cutaway", "aerial", "overhead", "canted", "tilted", "oblique", "macro",
             "stabilized", "circle", "dissolve", "wipe", "crossfade", "interior", "exterior", "int", "ext",
             "closeup", "establishing", "long"}
# fmt: on


def _scan(text: str, *, story: bool = False) -> _Terms:
    """Film terms in the text; `story=True` ignores camera words that are also everyday words."""
    terms = _Terms()
    tokens = list(_TOKEN_RE.finditer(text))
    i = 0
    while i < len(tokens):
        for n in range(min(4, len(tokens) - i), 0, -1):
            start, end = tokens[i].start(), tokens[i + n - 1].end()
            if re.search(r"[.;:!?,]", text[start:end]):
                continue  # a phrase does not run across punctuation
            phrase = " ".join(t.group().lower().replace("’", "'") for t in tokens[i : i + n])
            key = fold(phrase)
            if story and n == 1 and (key in _EVERYDAY or key.removesuffix("s") in _EVERYDAY):
                continue
            hits = [
                (enum, _TABLES[enum][k])
                for k in (key, key.removesuffix("s"))
                for enum in _SCAN_ORDER
                if k in _TABLES[enum]
            ]  # "close-ups" reads as "close-up"
            if hits:
                enum, member = hits[0]
                terms.values.setdefault(enum, member)
                hint = DIRECTION_HINTS.get(phrase.replace("-", " "))
                if enum is CameraMove and hint and terms.hinted_direction is None:
                    terms.hinted_direction = hint
                i += n
                break
        else:
            i += 1
    return terms


def _describe_text(text: str) -> str:
    text = _tidy(re.sub(r"^(?:a|an)\s+", "", text.strip(), flags=re.IGNORECASE)).rstrip(".")
    return text[:MAX_TEXT]
