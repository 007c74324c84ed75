"""Numbers in, phrases out: reading amounts, shot numbers and lenses whole; writing film English.

A number is read whole, sign and decimals included, so "shot 3.5" or "-5 seconds" is refused by
name rather than read as shot 3 or 5 seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from studio.errors import InvalidValue
from studio.models import MAX_SHOTS, MAX_TEXT

# fmt: off
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                "seventeen", "eighteen", "nineteen", "twenty")
ORDINAL_WORDS = ("zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                 "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth",
                 "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth")
TENS = {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90}
# fmt: on


def alternation(words: Sequence[str]) -> str:
    """A regex alternation, longest first ("seventeen" before "seven")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_WORDS = alternation([*NUMBER_WORDS, *TENS])
# "6 seconds", "6-second", "1.5 minutes", "a minute", "half a minute", "-5 s", "minus 5 seconds",
# "1e+06 seconds" (a million, never 6).
AMOUNT = (
    r"(?:(?P<neg>(?<![\w.])[-−](?=\d)|\bminus\s+)|(?<![\w.+\-−]))"
    rf"(?!(?:1\d|20)\d0s\b)"  # "the 1970s" is a decade, not 1970 seconds
    rf"(?:(?P<v>(?>\d+(?:\.\d+)?(?:e[+-]?\d+)?)|{_WORDS})\s*-?\s*"
    r"(?P<u>seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)"
    r"|(?P<a>an?|one|half an?|half a|half)(?:\s+|-)(?P<au>second|minute|hour))\b"
)
AMOUNT_RE = re.compile(AMOUNT, re.IGNORECASE)
LENS_RE = re.compile(
    r"(?:(?P<neg>(?<![\w.])[-−](?=\d))|\b)(?P<mm>(?>\d+(?:\.\d+)?))\s*-?\s*"
    r"(?:mm|millimet(?:er|re)s?)\b(?:\s+lens\b)?",
    re.IGNORECASE,
)
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}
_MOST_DIGITS = len(str(MAX_SHOTS * 100))  # past this a number can't name a shot or a place


def shown(text: str) -> str:
    """A number as the crew typed it, cut short when it is absurdly long."""
    return text if len(text) <= 32 else f"{text[:24]}…"


def seconds_in(match: re.Match[str]) -> float:
    """Seconds in an `AMOUNT_RE` match; `InvalidValue` for a negative or endless one."""
    said = shown(re.sub(r"\s+", " ", match.group().strip()))
    if match.group("a"):
        value = 0.5 if match.group("a").lower().startswith("half") else 1.0
        unit = match.group("au")
    else:
        raw = match.group("v").lower()
        if raw[0].isdigit():
            value = float(raw)
        else:
            value = float(TENS.get(raw, NUMBER_WORDS.index(raw) if raw in NUMBER_WORDS else 0))
        unit = match.group("u")
    if match.group("neg"):
        raise InvalidValue(f"A length can't be negative (“{said}”).")
    value *= _UNIT[unit[0].lower()]
    if not math.isfinite(value):
        raise InvalidValue(f"“{said}” is longer than anything I can time.")
    return value


def lens_in(match: re.Match[str]) -> int:
    mm = match.group("mm")
    if match.group("neg") or "." in mm or len(mm.lstrip("0")) > 4:
        raise InvalidValue(
            f"There is no {shown((match.group('neg') or '') + mm)}mm lens: "
            "name a whole focal length, e.g. '35mm'."
        )
    return int(mm)


def whole_number(token: str, *, kind: str = "shot") -> int:
    """'3', 'three', '3rd', 'third' → 3; a number no `kind` has (3.5, -2, 10**30) is refused."""
    word = token.strip().lower().lstrip("#").removesuffix("th")
    word = re.sub(r"(?<=\d)(?:st|nd|rd)$", "", word)
    if word in NUMBER_WORDS:
        return NUMBER_WORDS.index(word)
    if word in ORDINAL_WORDS or word + "th" in ORDINAL_WORDS:
        return ORDINAL_WORDS.index(word if word in ORDINAL_WORDS else word + "th")
    typed = re.fullmatch(r"([-−]?)(\d+)(\.\d+)?", word)
    said = shown(token.strip().lstrip("#"))
    if typed is None or typed.group(1) or typed.group(3):
        raise InvalidValue(f"There is no {kind} {said}: {kind}s are numbered 1, 2, 3…")
    if len(typed.group(2).lstrip("0")) > _MOST_DIGITS:
        raise InvalidValue(
            f"There is no {kind} {said}: a shot list holds at most {MAX_SHOTS} shots."
        )
    return int(typed.group(2))


def seconds(value: float) -> str:
    return f"{value:g} s"


def article(phrase: str) -> str:
    vowel = phrase[:1].lower() in "aeiou" or re.match(r"8|1[18](?:\d\d)?(?!\d)", phrase)
    return ("an " if vowel else "a ") + phrase


def joined(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def tidy(text: str) -> str:
    """Collapse spacing, trim stray punctuation and quotes wrapped round the whole text."""
    text = re.sub(r"\s+", " ", text).strip(" ,;:-—")
    if len(text) > 1 and text[0] in "\"“'‘" and text[-1] in "\"”'’":
        text = text[1:-1].strip()
    return text


def sentence(text: str) -> str:
    """Capitalised, ending with a full stop: the way a shot description reads."""
    text = tidy(text)[: MAX_TEXT - 1]
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in '.!?…"”' else text + "."
