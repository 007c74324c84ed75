"""The offline director: a deterministic, rule-based `Director` for when no LLM is configured.

It plans a shot list from a written brief and takes plain revision directions ("shot 3: close-up",
"swap 1 and 2", "make it noir") using regexes and the vocabulary alias tables: no model, no
network. Every change goes through `apply_edit`, so the domain validates its work like anyone
else's, and a direction is checked in full in memory before any part of it is applied.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from agents.base import DirectorReply, ProjectEditor, RenderAsk
from studio.diff import diff
from studio.edits import (
    AddShot,
    Edit,
    MoveShot,
    RemoveShot,
    ReplaceShots,
    SetCharacter,
    SetLocation,
    SetProjectInfo,
    SetStyle,
    ShotChanges,
    SplitShot,
    SwapShots,
    UpdateShot,
    apply_edit,
    apply_edits,
)
from studio.errors import EditError, InvalidValue, SlateError
from studio.models import (
    MAX_DURATION,
    MAX_NAME,
    MAX_SHOTS,
    MAX_TEXT,
    MIN_DURATION,
    Shot,
    ShotList,
    validated,
)
from studio.store import Turn
from studio.styles import find_style, style_names
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

FOOTER = "— offline director"

__all__ = ["OfflineDirector", "fit_durations", "grammar_notes"]

# ---------------------------------------------------------------------------------------------
# Words and numbers
# ---------------------------------------------------------------------------------------------

_NUMBER_WORDS = {word: i for i, word in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty",
))}
_ORDINAL_WORDS = {word: i for i, word in enumerate((
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
))}


def _alternation(words: Sequence[str]) -> str:
    # Longest first, so "seventeen" is not read as "seven".
    return "|".join(sorted(words, key=len, reverse=True))


_NUM = rf"(?:\d{{1,4}}|{_alternation(list(_NUMBER_WORDS))})"
_ORD = rf"(?:\d{{1,4}}(?:st|nd|rd|th)|{_alternation(list(_ORDINAL_WORDS))}|last|final|penultimate)"
_UNIT_AHEAD = r"(?!\s*-?\s*(?:s\b|secs?\b|seconds?\b|mm\b|min|%|x\b))"
_SHOT_LIST_REF = (
    rf"\bshots?\s*(?:no\.?\s*|number\s*|#\s*)?(?P<n>{_NUM})\b{_UNIT_AHEAD}"
    rf"(?P<more>(?:\s*(?:,|&|\band\b|\bor\b|-|–|\bthrough\b|\bthru\b)\s*(?:shot\s*)?#?\s*{_NUM}\b{_UNIT_AHEAD})*)"
)
_REF_RE = re.compile(
    rf"{_SHOT_LIST_REF}"
    rf"|\b(?:the\s+)?(?P<o>{_ORD})\s+(?:shot|one)\b"
    rf"|#\s*(?P<h>\d{{1,4}})\b"
    rf"|\b(?:for|on)\s+#?(?P<f>\d{{1,4}}|{_alternation(list(_NUMBER_WORDS))})\b{_UNIT_AHEAD}(?!\s*(?:st|nd|rd|th)\b)",
    re.IGNORECASE,
)
_BARE_NUMBER_RE = re.compile(rf"(?<![\w.])#?(?P<n>{_ORD}|{_NUM})\b{_UNIT_AHEAD}", re.IGNORECASE)


def _number(token: str, count: int) -> int:
    """'3', 'three', '3rd', 'third', 'last' → an int (positions are 1-based)."""
    word = token.strip().lower().lstrip("#")
    if word in ("last", "final"):
        return count
    if word == "penultimate":
        return count - 1
    digits = re.match(r"\d+", word)
    if digits:
        return int(digits.group())
    return _NUMBER_WORDS.get(word, _ORDINAL_WORDS.get(word, 0))


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
            for sep, token in re.findall(rf"(,|&|\band\b|\bor\b|-|–|\bthrough\b|\bthru\b)\s*(?:shot\s*)?#?\s*({_NUM})\b",
                                         more, re.IGNORECASE):
                value = _number(token, count)
                if sep.lower() in ("-", "–", "through", "thru") and 0 < value - numbers[-1] <= MAX_SHOTS:
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
    text = _tidy(text)[:MAX_TEXT - 1]
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…\"”" else text + "."


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
_SPEEDS = {"slow", "slowly", "gentle", "gently", "subtle", "fast", "quick", "quickly", "rapid", "snappy"}
_DIRECTIONS = {"left", "right", "up", "down"}
_SCAN_ORDER: tuple[type[StrEnum], ...] = (
    Transition, Angle, CameraMove, ShotSize, TimeOfDay, IntExt, MoveSpeed, MoveDirection)


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
_TABLES[TimeOfDay] |= {"goldenhour": TimeOfDay.DUSK, "magichour": TimeOfDay.DUSK, "bluehour": TimeOfDay.DUSK}
_TOKEN_RE = re.compile(r"[\w'’°]+(?:-[\w'’°]+)*")
# "6 seconds", "6s", "6-second", "1.5 minutes", "a minute", "half a minute".
_AMOUNT = (rf"\b(?:(?P<v>\d+(?:\.\d+)?|{_alternation(list(_NUMBER_WORDS))})\s*-?\s*"
           r"(?P<u>seconds?|secs?|s|minutes?|mins?|m)|(?P<a>an?|half an?|half a)\s+(?P<au>second|minute))\b")
_DURATION_RE = re.compile(rf"{_AMOUNT}(?:\s+long\b)?", re.IGNORECASE)
_LENS_RE = re.compile(r"\b(?P<mm>\d{1,3})\s*-?\s*(?:mm|millimet(?:er|re)s?)\b(?:\s+lens\b)?", re.IGNORECASE)


def _duration_value(match: re.Match[str]) -> float:
    if match.group("a"):
        value = 0.5 if match.group("a").lower().startswith("half") else 1.0
        unit = match.group("au")
    else:
        raw = match.group("v").lower()
        value = float(raw) if raw[0].isdigit() else float(_NUMBER_WORDS[raw])
        unit = match.group("u")
    return value * (60 if unit.lower().startswith("m") else 1)


@dataclass
class _Terms:
    """What film vocabulary a piece of text names, first mention wins."""

    values: dict[type[StrEnum], StrEnum] = field(default_factory=dict)
    hinted_direction: MoveDirection | None = None  # "pan left" names its direction in the move

    def get(self, enum: type[StrEnum]) -> StrEnum | None:
        return self.values.get(enum)


# Single camera words that are everyday words in a story ("follows", "pan", "crane", "close"):
# a brief only sets a shot's framing with unmistakable camera language.
_EVERYDAY = {"follow", "pan", "crane", "boom", "jib", "zoom", "tilt", "orbit", "arc", "whip", "tracking",
             "crab", "tripod", "shaky", "vertigo", "gimbal", "static", "dolly", "wide", "close", "tight",
             "medium", "insert", "cutaway", "aerial", "overhead", "canted", "tilted", "oblique", "macro",
             "stabilized", "circle", "dissolve", "wipe", "crossfade", "interior", "exterior", "int", "ext",
             "closeup", "establishing", "long"}


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
            phrase = " ".join(t.group().lower().replace("’", "'") for t in tokens[i:i + n])
            key = fold(phrase)
            if story and n == 1 and (key in _EVERYDAY or key.removesuffix("s") in _EVERYDAY):
                continue
            hits = [(enum, _TABLES[enum][k]) for k in (key, key.removesuffix("s")) for enum in _SCAN_ORDER
                    if k in _TABLES[enum]]  # "close-ups" reads as "close-up"
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


# ---------------------------------------------------------------------------------------------
# Film grammar
# ---------------------------------------------------------------------------------------------

_LADDER = (ShotSize.EXTREME_WIDE, ShotSize.WIDE, ShotSize.FULL, ShotSize.MEDIUM_WIDE, ShotSize.MEDIUM,
           ShotSize.MEDIUM_CLOSE_UP, ShotSize.CLOSE_UP, ShotSize.EXTREME_CLOSE_UP)


def _size_name(size: ShotSize) -> str:
    """How a size reads in a sentence: 'a POV shot', not 'a point of view'."""
    return {ShotSize.POV: "POV shot", ShotSize.OVER_THE_SHOULDER: "over-the-shoulder shot"}.get(size, size.value)


def _plural(size: ShotSize) -> str:
    word = _size_name(size)
    return word[:-4] + "shots" if word.endswith(" shot") else word + "s"


def grammar_notes(shotlist: ShotList) -> list[str]:
    """Film-grammar warnings a script supervisor would raise about this shot list."""
    notes: list[str] = []
    shots = shotlist.shots
    for i, shot in enumerate(shots):
        previous = shots[i - 1] if i else None
        if previous is None or previous.scene.location != shot.scene.location:
            if shot.size.tightness >= ShotSize.MEDIUM_CLOSE_UP.tightness:
                notes.append(f"Scene {shot.scene.location} opens on {_article(_size_name(shot.size))} "
                             f"(shot {shot.number}); consider an establishing shot first.")
            continue
        if (previous.size is shot.size and previous.angle is shot.angle
                and previous.characters == shot.characters):
            who = f" of {_and(list(shot.characters))}" if shot.characters else ""
            notes.append(f"Shots {previous.number} and {shot.number} are both {_plural(shot.size)}{who}: "
                         "consider varying the size or angle (30° rule) to avoid a jump cut.")
    target = shotlist.target_length
    if target and shots and abs(shotlist.runtime - target) > max(1.0, target * 0.1):
        notes.append(f"The cut runs {_seconds(shotlist.runtime)} against a target of {_seconds(target)}; "
                     f"say 'make it {target:g} seconds' to retime the shots.")
    return notes


def fit_durations(durations: Sequence[float], target: float) -> list[float]:
    """Scale shot durations to sum to `target` (to 0.1 s), each within the allowed range."""
    count = len(durations)
    if not count:
        raise InvalidValue("There are no shots to retime yet.")
    if not count * MIN_DURATION <= target <= count * MAX_DURATION:
        raise InvalidValue(
            f"{count} shots can't add up to {_seconds(target)}: each lasts {MIN_DURATION:g}–"
            f"{MAX_DURATION:g} s, so the film can run {count * MIN_DURATION:g}–{count * MAX_DURATION:g} s.")
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
        i = max(room, key=lambda k: rounded[k]) if room else max(range(count), key=lambda k: rounded[k])
        rounded[i] = round(min(MAX_DURATION, max(MIN_DURATION, rounded[i] + gap)), 1)
    return rounded


# ---------------------------------------------------------------------------------------------
# Reading a brief
# ---------------------------------------------------------------------------------------------

_EXTERIORS = (
    "street", "streets", "alley", "alleyway", "rooftop", "roof", "beach", "forest", "woods", "park",
    "field", "fields", "desert", "mountain", "mountains", "road", "highway", "bridge", "harbor",
    "harbour", "dock", "docks", "pier", "river", "lake", "sea", "ocean", "shore", "garden", "yard",
    "backyard", "courtyard", "parking lot", "car park", "square", "plaza", "city", "town", "village",
    "cemetery", "graveyard", "platform", "market", "jungle", "meadow", "cliff", "cliffs", "canyon",
    "valley", "farm", "porch", "playground", "tracks", "crossroads", "sidewalk", "hill", "hills",
    "island", "campsite", "stadium", "port", "coast", "waterfront", "boardwalk", "skyline", "ruins",
    "swamp", "glacier", "wasteland", "battlefield", "runway", "train tracks",
)
_INTERIORS = (
    "kitchen", "diner", "bar", "pub", "restaurant", "cafe", "café", "office", "apartment", "flat",
    "bedroom", "bathroom", "living room", "hallway", "corridor", "room", "house", "home", "library",
    "church", "warehouse", "lab", "laboratory", "hospital", "classroom", "school", "studio", "shop",
    "store", "bakery", "garage", "basement", "attic", "elevator", "lift", "lobby", "hotel", "motel", "train",
    "subway", "car", "bus", "club", "nightclub", "gym", "museum", "theater", "theatre", "cabin",
    "cellar", "station", "police station", "train station", "precinct", "mall", "factory", "hangar",
    "spaceship", "cockpit", "tent", "barn", "casino", "jail", "cell", "courtroom", "prison",
    "stairwell", "staircase", "bunker", "dining room", "hotel room", "interrogation room", "taxi",
    "cab", "van", "truck", "ballroom", "hall", "chapel", "temple", "castle", "palace",
    "lighthouse", "newsroom", "study", "ward", "locker room", "dressing room", "greenhouse",
)
_LOCATION_KIND = {**{w: IntExt.EXT for w in _EXTERIORS}, **{w: IntExt.INT for w in _INTERIORS}}
_LOC_WORDS = _alternation([re.escape(w) for w in _LOCATION_KIND])
_LOC_PREP = (r"back at|back in|back to|in|at|inside|outside|into|onto|on|through|across|to|toward|"
             r"towards|near|from|under|along|over|around|enters|leaves|exits|reaches|crosses|fills|opens")
_ADJ = r"(?:(?!(?:the|a|an|of|and|with|in|at|on|to|from|her|his|their|its|as|then|while)\b)[\w'’-]+\s+)"
_LOCATION_RE = re.compile(
    rf"\b(?P<prep>{_LOC_PREP})\s+(?:the\s+|a\s+|an\s+|his\s+|her\s+|their\s+|its\s+|my\s+|"
    rf"[A-Z][\w]*['’]s\s+)?(?P<adj>{_ADJ}{{0,3}}?)(?P<loc>{_LOC_WORDS})\b",
    re.IGNORECASE,
)
_LOOK_RE = re.compile(r"\b(?:looks?|gazes?|stares?|glances?|peers?|points?|watch(?:es)?)(?:\s+(?:up|down|out|back))?\s*$",
                      re.IGNORECASE)
_SLUGLINE_RE = re.compile(
    r"\b(?P<ie>INT\.?/EXT|INT|EXT)\.?\s+(?P<loc>[A-Z0-9'’ ]+?)\s*(?:[-–—]\s*(?P<tod>[A-Z]+))?(?=[.\n]|$|\s{2})")
_TIME_WORDS = {
    "night": TimeOfDay.NIGHT, "nighttime": TimeOfDay.NIGHT, "midnight": TimeOfDay.NIGHT,
    "dawn": TimeOfDay.DAWN, "sunrise": TimeOfDay.DAWN, "daybreak": TimeOfDay.DAWN,
    "dusk": TimeOfDay.DUSK, "sunset": TimeOfDay.DUSK, "twilight": TimeOfDay.DUSK,
    "morning": TimeOfDay.MORNING, "evening": TimeOfDay.EVENING, "afternoon": TimeOfDay.DAY,
    "noon": TimeOfDay.DAY, "daytime": TimeOfDay.DAY, "daylight": TimeOfDay.DAY,
}
_TIME_RE = re.compile(rf"\b({_alternation(list(_TIME_WORDS))})\b", re.IGNORECASE)
_BARE_LOCATION_RE = re.compile(
    rf"^\s*(?:the\s+|a\s+|an\s+)?(?P<adj>{_ADJ}{{0,3}}?)(?P<loc>{_LOC_WORDS})"
    rf"(?:\s*,?\s*(?:at\s+|by\s+)?(?:{_alternation(list(_TIME_WORDS))}|day))?\s*$", re.IGNORECASE)

_FORMATS = ("teaser", "trailer", "spot", "short", "film", "ad", "advert", "commercial", "promo",
            "clip", "video", "piece", "sequence", "reel", "montage", "story", "movie", "sizzle",
            "intro", "opener", "animatic", "scene", "sting", "bumper")
_TARGET_RE = re.compile(
    rf"{_AMOUNT}(?=(?:\s+long\b|\s+in length\b|(?:\s+[\w-]+){{0,2}}\s+(?:{'|'.join(_FORMATS)})s?\b))"
    rf"|\b(?:runtime|running time|length|duration)\s*(?:of|:|is|=)?\s*{_AMOUNT.replace('?P<', '?P<t_')}",
    re.IGNORECASE,
)

# Presets named outright; the rest of the style aliases ("dark", "warm", "desert") are everyday
# words in a brief, so they only count with a cue ("horror teaser", "western style").
_CLEAR_STYLES = ("film noir", "neo-noir", "neo noir", "noir", "cyberpunk", "blade runner",
                 "wes anderson", "ghibli", "storybook", "anime", "70s film", "1970s", "seventies",
                 "16mm", "golden hour", "sci-fi", "scifi", "vérité", "verite", "spaghetti western",
                 "black and white", "documentary")
_STYLE_CUE = rf"(?:style|styled|look|feel|vibe|aesthetic|{'|'.join(_FORMATS)})"

_COMMON = {
    "a", "an", "the", "and", "but", "or", "so", "then", "when", "while", "as", "after", "before",
    "suddenly", "finally", "later", "meanwhile", "now", "soon", "at", "in", "on", "inside",
    "outside", "into", "onto", "from", "with", "without", "by", "under", "over", "through",
    "across", "behind", "beside", "near", "one", "two", "three", "some", "all", "every", "each",
    "no", "nothing", "someone", "somebody", "everyone", "something", "it", "its", "this", "that",
    "these", "those", "there", "here", "they", "them", "their", "he", "him", "his", "she", "her",
    "hers", "we", "our", "us", "you", "your", "i", "my", "me", "who", "what", "where", "why", "how",
    "which", "slowly", "quickly", "eventually", "int", "ext", "night", "day", "morning", "evening",
    "dawn", "dusk", "sunset", "sunrise", "midnight", "noon", "cut", "fade", "close", "wide",
    "establishing", "insert", "shot", "scene", "title", "teaser", "trailer", "film", "short",
    "spot", "story", "act", "chapter", "part", "end", "fin", "god", "yes", "oh", "just", "only",
    "even", "still", "also", "above", "below", "upstairs", "downstairs", "back", "home", "again",
    "once", "until", "unless", "if", "because", "though", "although", "not", "never", "always",
    "sometimes", "rain", "snow", "fog", "thunder", "lightning", "wind", "smoke", "light",
    "darkness", "silence", "music", "sound", "cue", "open", "opening", "final", "last", "first",
    "next", "another", "other", "tonight", "today", "tomorrow", "yesterday", "mr", "mrs", "ms",
    "dr", "sir", "madam", "black", "white", "red", "blue", "green", "police", "cops", "guards",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "ext.", "int.", "pov", "ecu", "cu", "ws", "ews", "mcu", "ots", "fs",
    "big", "small", "old", "young", "new", "dark", "bright", "cold", "hot", "quiet", "loud",
    "christmas", "halloween", "easter", "whose",
}
_HONORIFICS = {"detective", "officer", "captain", "doctor", "dr", "professor", "agent", "sergeant",
               "mr", "mrs", "ms", "miss", "lady", "lord", "sir", "king", "queen", "prince",
               "princess", "uncle", "aunt", "grandma", "grandpa", "father", "mother", "sister",
               "brother", "coach", "judge", "inspector", "general", "chief", "old", "little", "young"}
_NAME_RE = re.compile(r"\b[A-Z][a-z'’]+(?:\.?\s+[A-Z][a-z'’]+){0,2}\b")
_DESCRIBES_RE = re.compile(
    r"^(?P<name>[A-Z][\w'’.]*(?:\s+[A-Z][\w'’.]*){0,2})\s*(?:,\s*)?(?:is|was|:)\s+"
    r"(?P<desc>(?:a|an|the|her|his|their)\s+.+)$")
_SENTENCES_RE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”])\s+|\n+")
_APPOSITIVE_RE = re.compile(r"\b(?P<name>[A-Z][a-z'’]+(?:\s+[A-Z][a-z'’]+)?),\s+(?:a|an)\s+(?P<desc>[^,]{3,80}),")
_PRONOUNS_ONE = re.compile(r"\b(she|her|hers|herself|he|him|his|himself)\b", re.IGNORECASE)
_PRONOUNS_MANY = re.compile(r"\b(they|them|their|both|together|each other)\b", re.IGNORECASE)

_OBJECTS = (
    "letter", "key", "keys", "photo", "photograph", "picture", "phone", "note", "gun", "pistol",
    "ring", "map", "watch", "box", "envelope", "knife", "badge", "ticket", "clock", "book",
    "bottle", "glass", "cup", "coin", "card", "file", "folder", "bag", "wallet", "necklace",
    "locket", "diary", "journal", "cigarette", "lighter", "handle", "button", "screen", "message",
    "briefcase", "suitcase", "camera", "tape", "cassette", "flower", "rose", "candle", "mirror",
    "drawer", "receipt", "newspaper", "poster", "sign", "coffee", "chip", "drive", "syringe",
    "bullet", "ledger", "postcard", "umbrella", "hat", "shoe", "glove", "compass", "pendant",
)
_OBJECT_RE = re.compile(
    r"\b(?:finds?|found|picks? up|holds?|reads?|opens?|grabs?|takes?|pulls? out|notices?|discovers?|"
    r"drops?|hands?|unfolds?|clutches|pockets?|hides?|reveals?|checks?|lights?|loads?|dials?|"
    r"answers?|examines?|studies|inspects?|touches|slides?|places?|leaves?|sees?|spots?)\b"
    rf"[^.;]{{0,30}}?\b(?P<object>{_alternation(list(_OBJECTS))})\b",
    re.IGNORECASE,
)
_EMOTION_RE = re.compile(
    r"\b(?:cries|crying|tears?|weeps?|smiles?|realis\w*|realiz\w*|fear\w*|afraid|terrified|whispers?|"
    r"trembles?|shock\w*|stares?|gasps?|face|eyes|tension|tense|remembers?|hesitates?|breath\w*|"
    r"sobs?|kiss\w*|laughs?|grief|griev\w*|angry|anger|screams?|frowns?|panics?|worried|nervous|"
    r"heartbroken|hope\w*|longing|regret\w*|lonely|relief|relieved|furious|blinks?|swallows?)\b",
    re.IGNORECASE,
)
_ACTION_RE = re.compile(
    r"\b(?:runs?|running|chases?|chasing|flees|races?|sprints?|fights?|walks?|crosses|drives?|arrives?|"
    r"enters?|leaves|exits?|climbs?|jumps?|falls?|dances?|rides?|escapes?|pursues?|wanders?|strolls?|"
    r"rushes|storms?|steps?|approaches|follows?|crawls?|swims?|flies|marches|stumbles?|dashes)\b",
    re.IGNORECASE,
)
_TALK_RE = re.compile(
    r"\b(?:says?|asks?|tells?|talks?|argues?|argue|confronts?|replies|shouts?|yells?|speaks?|"
    r"explains?|interrogates?|questions?|begs?|pleads?|warns?|negotiates?)\b",
    re.IGNORECASE,
)
_QUOTE_RE = re.compile(r"[\"“](?P<q>[^\"”]{1,300})[\"”]")

# The camera move a beat's language suggests, in priority order: (pattern, move, direction, speed).
_MOVE_RULES: tuple[tuple[re.Pattern[str], CameraMove, MoveDirection, MoveSpeed], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), move, direction, speed) for pattern, move, direction, speed in (
        (r"\b(?:fights?|struggles?|scuffles?|brawls?|panics?|chaos|stumbles?|explodes?|explosion|"
         r"attacks?|grapples?)\b", CameraMove.HANDHELD, MoveDirection.NONE, MoveSpeed.FAST),
        (r"\b(?:runs?|running|chases?|chasing|flees|fleeing|races|sprints?|pursues?|escapes?|rushes|"
         r"dashes|speeds)\b", CameraMove.FOLLOW, MoveDirection.NONE, MoveSpeed.FAST),
        (r"\b(?:looks?|gazes?|stares?|glances?|peers?|cranes?)\s+up\b|\bup at\b", CameraMove.TILT,
         MoveDirection.UP, MoveSpeed.SLOW),
        (r"\b(?:looks?|gazes?|stares?|glances?|peers?)\s+down\b|\bdown at\b", CameraMove.TILT,
         MoveDirection.DOWN, MoveSpeed.SLOW),
        (r"\b(?:reveals?|revealing|revealed|discovers?|discovery|uncovers?|unveils?)\b",
         CameraMove.DOLLY_IN, MoveDirection.NONE, MoveSpeed.SLOW),
        (r"\b(?:walks?|strolls?|moves?|drifts?|wanders?|crosses)\s+(?:across|along|past)\b",
         CameraMove.TRUCK, MoveDirection.RIGHT, MoveSpeed.MEDIUM),
        (r"\b(?:tension|tense|realis\w*|realiz\w*|dread|suspense|slowly|uneasy|suspects?|remembers?|"
         r"understands?|stares?|creeps?)\b", CameraMove.DOLLY_IN, MoveDirection.NONE, MoveSpeed.SLOW),
        (r"\b(?:walks?|wanders?|follows?|strolls?|paces|approaches|makes (?:her|his|their) way)\b",
         CameraMove.STEADICAM, MoveDirection.NONE, MoveSpeed.MEDIUM),
        (r"\b(?:circles?|circling|spins?|turns around|surrounded|embrace\w*)\b", CameraMove.ARC,
         MoveDirection.NONE, MoveSpeed.SLOW),
        (r"\b(?:dizzy|vertigo|reels|disoriented)\b", CameraMove.DOLLY_ZOOM, MoveDirection.NONE,
         MoveSpeed.MEDIUM),
        (r"\b(?:walks away|drives away|drives off|disappears|vanishes|alone|goodbye|fades away)\b",
         CameraMove.DOLLY_OUT, MoveDirection.NONE, MoveSpeed.SLOW),
    ))
_ANGLE_RULES: tuple[tuple[re.Pattern[str], Angle], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), angle) for pattern, angle in (
        (r"\b(?:towering|looms?|looming|from below|menacing|towers over|giant|mighty)\b", Angle.LOW),
        (r"\b(?:from above|small|vulnerable|trapped|helpless|cowers?|cowering|lost|tiny)\b", Angle.HIGH),
        (r"\b(?:dizzy|disoriented|drunk|unhinged|off-kilter|delirious)\b", Angle.DUTCH),
        (r"\b(?:bird['’]?s[- ]eye|top-down|aerial|overhead)\b", Angle.OVERHEAD),
    ))


@dataclass
class _Place:
    name: str  # upper case, as sluglines print it
    description: str
    int_ext: IntExt


@dataclass
class _Planned:
    """One shot as the planner designs it, before it becomes `ShotChanges`."""

    description: str
    place: _Place | None
    time: TimeOfDay
    characters: list[str] = field(default_factory=list)
    size: ShotSize = ShotSize.MEDIUM
    angle: Angle = Angle.EYE_LEVEL
    movement: CameraMove = CameraMove.STATIC
    direction: MoveDirection = MoveDirection.NONE
    speed: MoveSpeed = MoveSpeed.MEDIUM
    dialogue: str = ""
    establishing: bool = False
    coverage: bool = False  # an extra angle on a beat, added to reach a length

    def changes(self, duration: float) -> ShotChanges:
        place = self.place
        return ShotChanges(
            description=self.description[:MAX_TEXT], dialogue=self.dialogue[:MAX_TEXT] or None,
            characters=self.characters, size=self.size, angle=self.angle, movement=self.movement,
            direction=self.direction, speed=self.speed, duration=duration,
            int_ext=place.int_ext if place else IntExt.INT,
            location=place.name if place else "UNSPECIFIED", time_of_day=self.time,
        )


def _default_duration(size: ShotSize, movement: CameraMove, speed: MoveSpeed) -> float:
    """Wider frames need longer to read; a slow move needs time to land."""
    base = {0: 5.0, 1: 4.5, 2: 4.0, 3: 4.0, 4: 3.5, 5: 3.0, 6: 3.0, 7: 2.0}[size.tightness]
    if movement is not CameraMove.STATIC:
        base += 1.0 if speed is MoveSpeed.SLOW else 0.5
    return base


def _vary(size: ShotSize, previous: ShotSize | None) -> ShotSize:
    """Never the same size twice in a row: step one rung tighter (or wider at the tight end)."""
    if previous is None or size is not previous:
        return size
    if size is ShotSize.INSERT:
        return ShotSize.CLOSE_UP
    if size in (ShotSize.TWO_SHOT, ShotSize.OVER_THE_SHOULDER, ShotSize.POV):
        return ShotSize.MEDIUM_CLOSE_UP
    index = _LADDER.index(size)
    return _LADDER[index + 1] if index < _LADDER.index(ShotSize.CLOSE_UP) else _LADDER[index - 1]


def _design(text: str, characters: list[str], place: _Place | None, time: TimeOfDay,
            previous: ShotSize | None, opens_scene: bool) -> _Planned:
    """Frame one beat the way its language asks for."""
    shot = _Planned(description=_sentence(text), place=place, time=time, characters=characters)
    terms = _scan(text, story=True)
    talk = bool(_TALK_RE.search(text))
    if isinstance(size := terms.get(ShotSize), ShotSize):
        shot.size = size
    elif _OBJECT_RE.search(text):
        shot.size = ShotSize.INSERT
    elif _EMOTION_RE.search(text):
        shot.size = ShotSize.MEDIUM_CLOSE_UP if talk else ShotSize.CLOSE_UP
    elif len(characters) >= 2:
        shot.size = ShotSize.OVER_THE_SHOULDER if talk else ShotSize.TWO_SHOT
    elif _ACTION_RE.search(text):
        shot.size = ShotSize.WIDE if place and place.int_ext is IntExt.EXT else ShotSize.FULL
    elif talk:
        shot.size = ShotSize.MEDIUM_CLOSE_UP
    if terms.get(ShotSize) is None:
        shot.size = _vary(shot.size, previous)
        if opens_scene and shot.size.tightness > ShotSize.MEDIUM.tightness:
            shot.size = ShotSize.MEDIUM  # a returning scene still needs its bearings
    if isinstance(move := terms.get(CameraMove), CameraMove):
        shot.movement = move
        shot.direction = terms.hinted_direction or MoveDirection.NONE
        if isinstance(direction := terms.get(MoveDirection), MoveDirection):
            shot.direction = direction
    else:
        for pattern, rule_move, rule_direction, rule_speed in _MOVE_RULES:
            if pattern.search(text):
                shot.movement, shot.direction, shot.speed = rule_move, rule_direction, rule_speed
                break
        if shot.movement is CameraMove.DOLLY_IN and shot.size.tightness <= ShotSize.WIDE.tightness:
            shot.movement, shot.direction = CameraMove.CRANE, MoveDirection.UP  # reveal a vista
    if isinstance(speed := terms.get(MoveSpeed), MoveSpeed):
        shot.speed = speed
    if isinstance(angle := terms.get(Angle), Angle):
        shot.angle = angle
    else:
        shot.angle = next((a for pattern, a in _ANGLE_RULES if pattern.search(text)), Angle.EYE_LEVEL)
    quote = _QUOTE_RE.search(text)
    if quote and talk:
        shot.dialogue = quote.group("q").strip()
    return shot


def _detect_style(text: str) -> str | None:
    lowered = text.lower()
    for phrase in _CLEAR_STYLES:
        if re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", lowered):
            return find_style(phrase)
    tokens = re.findall(r"[\w'-]+", lowered)
    for n in (3, 2, 1):
        for i in range(len(tokens) - n + 1):
            phrase = " ".join(tokens[i:i + n])
            cue = tokens[i + n] if i + n < len(tokens) else ""
            before = " ".join(tokens[max(0, i - 3):i])
            if (find_style(phrase) and (re.fullmatch(_STYLE_CUE + "s?", cue)
                                        or before.endswith("in the style of"))):
                return find_style(phrase)
    return None


def _target_length(text: str) -> tuple[float | None, tuple[int, int] | None]:
    match = _TARGET_RE.search(text)
    if not match:
        return None, None
    # Read the amount inside the match, whichever of the two forms matched.
    amount = re.search(_AMOUNT, match.group(0), re.IGNORECASE)
    value = _duration_value(amount) if amount else 0.0
    return (value if 0 < value <= MAX_SHOTS * MAX_DURATION else None), match.span()


def _find_characters(text: str, places: set[str]) -> dict[str, str]:
    """Capitalised names that act in the brief → description ('' when none is given)."""
    lowered_words = set(re.findall(r"\b[a-z][a-z'’]+\b", text))
    styles = {w for name in style_names() for w in name.split()}
    cast: dict[str, str] = {}
    for match in _NAME_RE.finditer(text):
        words = match.group().replace(".", "").split()
        # Drop leading common words ("The", "Then") but keep honorifics ("Detective Cole").
        while words and (words[0].lower() in _COMMON or words[0].lower() in lowered_words) \
                and words[0].lower() not in _HONORIFICS:
            words = words[1:]
        words = [w.removesuffix("'s").removesuffix("’s") for w in words]
        if not words or all(w.lower() in _HONORIFICS for w in words):
            continue
        name = " ".join(words)
        last = words[-1].lower()
        opens_sentence = re.search(r"(?:^|[.!?][\"”]?\s+|\n)$", text[:match.start()]) is not None
        acts = re.match(r"\s*(?:,|and\b|is\b|was\b|has\b|['’]s\b|[a-z]+(?:s|ed)\b)", text[match.end():])
        named_again = re.search(rf"[a-z,;:]\s+{re.escape(words[-1])}\b", text)
        if opens_sentence and len(words) == 1 and not acts and not named_again:
            continue  # "Kids run." / "Umbrellas open.": a plural noun, not a name
        preceding = text[max(0, match.start() - 12):match.start()].lower()
        if (last in _COMMON or last in lowered_words or last in styles or last in _LOCATION_KIND
                or name.upper() in places or re.search(r"\b(?:in|at|to|from|into|near|across)\s+$", preceding)):
            continue
        # "Cole" after "Detective Cole" is the same person.
        known = next((c for c in cast if c.split()[-1] == words[-1]), None)
        if known is None:
            cast[name] = ""
    for match in list(_APPOSITIVE_RE.finditer(text)) + [
            m for s in _SENTENCES_RE.split(text) if (m := _DESCRIBES_RE.match(s.strip()))]:
        described = next((c for c in cast if match.group("name") in (c, c.split()[-1])), None)
        if described and not cast[described]:
            cast[described] = _describe_text(match.group("desc"))
    return cast


def _find_places(text: str, *, sluglines_only: bool = False) -> Iterator[tuple[int, _Place]]:
    """Locations in order of mention: sluglines, 'in a rain-soaked alley', bare 'Kitchen.'"""
    for match in _SLUGLINE_RE.finditer(text):
        name = _tidy(match.group("loc")).upper()[:MAX_NAME]
        if name:
            kind = IntExt.EXT if match.group("ie").upper().startswith("EXT") else (
                IntExt.INT_EXT if "/" in match.group("ie") else IntExt.INT)
            yield match.start(), _Place(name, name.lower(), kind)
    if sluglines_only:  # a brief written in sluglines names its own sets
        return
    for match in _LOCATION_RE.finditer(text):
        if not _LOOK_RE.search(text[:match.start()]):  # "looks down at the city" is not a new set
            yield match.start(), _place(match)
    for clause in re.finditer(r"[^.;\n]+", text):
        bare = _BARE_LOCATION_RE.match(clause.group())
        if bare:  # "Kitchen." / "A rain-soaked alley, night."
            yield clause.start() + bare.start("loc"), _place(bare)


def _place(match: re.Match[str]) -> _Place:
    head = match.group("loc").lower()
    kind = _LOCATION_KIND.get(head, IntExt.INT)
    if match.groupdict().get("prep", "").lower() == "outside":
        kind = IntExt.EXT
    description = _tidy(f"{match.group('adj')}{match.group('loc')}").lower()
    return _Place(head.upper(), description, kind)


def _title_from(text: str, cast: Sequence[str], places: Sequence[_Place]) -> str:
    quoted = re.search(r"(?:titled|called|named|title)\s*:?\s*[\"“‘'](?P<t>[^\"”’']{1,150})[\"”’']", text,
                       re.IGNORECASE) or re.match(r"\s*[\"“](?P<t>[^\"”]{1,150})[\"”]", text)
    if quoted:
        return _tidy(quoted.group("t"))
    plain = re.search(r"\btitle\s*:\s*(?P<t>[^.\n]{1,150})", text, re.IGNORECASE)
    if plain:
        return _tidy(plain.group("t"))
    objects = [m.group("object") for m in _OBJECT_RE.finditer(text)]
    if objects:
        return f"The {objects[-1].capitalize()}"
    if cast:
        return cast[0]
    if places:
        return f"The {places[0].name.title()}"
    small = {"a", "an", "the", "of", "in", "on", "at", "to", "and", "for", "by", "with"}
    words = re.findall(r"[A-Za-z][\w'’-]*", text)[:5]
    return " ".join(w if i and w.lower() in small else w[:1].upper() + w[1:]
                    for i, w in enumerate(words)) or "Untitled"


def _is_brief(text: str) -> bool:
    """Enough real words to plan from (rejects blanks, keyboard mash and lone symbols)."""
    words = re.findall(r"[A-Za-z][a-z'’-]*", text)
    if not words:
        return False
    known = sum(1 for w in words if w.lower() in _COMMON or w.lower() in _LOCATION_KIND
                or _ACTION_RE.fullmatch(w) or _EMOTION_RE.fullmatch(w) or _TALK_RE.fullmatch(w)
                or w.lower() in _OBJECTS or w.lower() in _TIME_WORDS)
    return known >= 1 and len(words) >= 2


_BRIEF_HELP = ("Tell me the story in a sentence or two, e.g. \"A 30-second noir teaser: Mia, a "
               "detective, walks through a rain-soaked alley at night, then finds a letter.\"")


def _split_beats(body: str) -> list[str]:
    beats: list[str] = []
    for sentence in _SENTENCES_RE.split(body):
        for clause in re.split(r"\s*;\s*|,?\s+and then\s+|,?\s+then\s+|\s+[—–]\s+", sentence):
            clause = _tidy(clause)
            if not re.search(r"[A-Za-z]{2}", clause):
                continue
            words = [w.strip(",.!?").lower() for w in clause.split()]
            if all(w in _COMMON or w in _FORMATS or w in _NUMBER_WORDS or find_style(w) or not w.isalpha()
                   for w in words):
                continue  # "Short, cyberpunk." frames the brief; nothing happens in it
            # "…, then runs" borrows the subject of the clause before it.
            if beats and clause[0].islower():
                subject = re.match(r"(?:[A-Z][\w'’]*\s+){1,2}|(?i:she|he|they)\s+", beats[-1])
                if subject and not _ACTION_RE.fullmatch(subject.group().split()[0]):
                    clause = subject.group() + clause
            beats.append(clause)
    return beats


def _plan(brief: str, style: str | None) -> ShotList:
    text = re.sub(r"[ \t]+", " ", brief or "").strip()
    if not _is_brief(text):
        raise InvalidValue(f"I can't plan from that brief. {_BRIEF_HELP}")
    text = text[:20_000]
    target, target_span = _target_length(text)
    style_name = style or _detect_style(text)

    # A short "A 30-second noir teaser:" header frames the brief; the story follows it.
    body = text
    header = re.match(r"^(?P<h>[^.:\n]{1,120}):\s+(?=\S)", text)
    framing = header and re.search(rf"\b(?:{'|'.join(_FORMATS)}|title|titled|called)s?\b", header.group("h"),
                                   re.IGNORECASE)
    if header and framing and len(header.group("h").split()) <= 12 and not _ACTION_RE.search(header.group("h")):
        body = text[header.end():]
    elif target_span:
        body = _blank(text, [target_span])
    body = re.sub(r"(?:titled|called|named)\s*:?\s*[\"“‘'][^\"”’']{1,150}[\"”’']|\btitle\s*:[^.\n]*\.?",
                  " ", body, flags=re.IGNORECASE)

    body = re.sub(r"\b(INT|EXT)\.(?=\s+[A-Z])", r"\1", body)  # keep "INT. KITCHEN" in one sentence
    written = bool(_SLUGLINE_RE.search(body))
    mentions = sorted(_find_places(body, sluglines_only=written), key=lambda item: item[0])
    places: dict[str, _Place] = {}
    for _, found in mentions:
        places.setdefault(found.name, found)
    cast = _find_characters(body, set(places))
    time = TimeOfDay.DAY  # until the brief says otherwise; beats carry it forward

    planned: list[_Planned] = []
    current: _Place | None = places[mentions[0][1].name] if mentions else None
    setting_text: dict[str, str] = {}
    seen: set[str] = set()
    last_people: list[str] = []
    for beat in _split_beats(body):
        described = _DESCRIBES_RE.match(beat)
        if described and any(described.group("name") in (c, c.split()[-1]) for c in cast):
            continue  # "Mia is a red-haired detective." describes, it does not happen
        beat = _APPOSITIVE_RE.sub(lambda m: m.group("name"), beat)
        beat_places = [places.setdefault(p.name, p) for _, p in
                       sorted(_find_places(beat, sluglines_only=written), key=lambda item: item[0])]
        if beat_places:
            current = beat_places[0]
        if (beat_time := _TIME_RE.search(beat)) is not None:
            time = _TIME_WORDS[beat_time.group(1).lower()]
        if (slugline := _SLUGLINE_RE.search(beat)) is not None:
            time = aliases(TimeOfDay).get(fold(slugline.group("tod") or ""), time)
            continue  # the slugline sets the scene; its establishing shot comes with the next beat
        names = [c for c in cast if re.search(rf"\b{re.escape(c.split()[-1])}\b", beat)]
        if not names and _PRONOUNS_MANY.search(beat):
            names = last_people[-2:]
        elif not names and _PRONOUNS_ONE.search(beat):
            names = last_people[-1:]
        if names:
            last_people = [p for p in last_people if p not in names] + names
        setting_only = (not names and len(beat.split()) <= 8 and (beat_places or _TIME_RE.search(beat))
                        and not _ACTION_RE.search(beat) and not _OBJECT_RE.search(beat))
        key = current.name if current else ""
        if setting_only:
            setting_text.setdefault(key, beat)
            continue
        scene_changed = not planned or (planned[-1].place is not current)
        if current is not None and current.name not in seen:
            seen.add(current.name)
            wide = ShotSize.EXTREME_WIDE if current.int_ext is IntExt.EXT else ShotSize.WIDE
            when = "" if time is TimeOfDay.DAY else f" at {time.value.lower()}"
            what = setting_text.get(key) or f"Establishing: {_article(current.description)}{when}"
            planned.append(_Planned(
                description=_sentence(what), place=current, time=time, size=wide,
                movement=CameraMove.PAN if current.int_ext is IntExt.EXT else CameraMove.STATIC,
                direction=MoveDirection.RIGHT if current.int_ext is IntExt.EXT else MoveDirection.NONE,
                speed=MoveSpeed.SLOW, establishing=True))
            scene_changed = False
        previous = planned[-1].size if planned else None
        planned.append(_design(beat, names, current, time, previous, opens_scene=scene_changed and bool(planned)))
    if not planned and setting_text:
        for key, what in setting_text.items():
            place = places.get(key)
            planned.append(_Planned(description=_sentence(what), place=place, time=time,
                                    size=ShotSize.EXTREME_WIDE, establishing=True))
    if not planned:
        raise InvalidValue(f"I couldn't find any action in that brief. {_BRIEF_HELP}")

    planned = _fit_count(planned, target)
    for earlier, later in zip(planned, planned[1:], strict=False):  # merging may have paired sizes
        if earlier.place is later.place and not later.establishing:
            later.size = _vary(later.size, earlier.size)
    durations = [_default_duration(s.size, s.movement, s.speed) for s in planned]
    if target:
        durations = fit_durations(durations, target)

    title = _title_from(text, list(cast), list(places.values()))[:MAX_NAME * 2]
    logline = _tidy(body)
    if len(logline) > 240:
        logline = logline[:240].rsplit(" ", 1)[0] + "…"
    edits: list[Edit] = [SetProjectInfo(title=title or "Untitled", logline=logline, target_length=target)]
    edits += [SetCharacter(name=name[:MAX_NAME], description=desc) for name, desc in cast.items()]
    edits += [SetLocation(name=p.name, description=p.description[:MAX_TEXT]) for p in places.values()]
    if style_name:
        edits.append(SetStyle(preset=style_name))
    edits.append(ReplaceShots(shots=[s.changes(d) for s, d in zip(planned, durations, strict=True)]))
    shotlist = ShotList()
    for edit in edits:
        shotlist = apply_edit(shotlist, edit)
    return shotlist


def _fit_count(planned: list[_Planned], target: float | None) -> list[_Planned]:
    """Merge beats when there are too many for the runtime; add coverage when too few."""
    most = 12 if target is None else max(1, min(12, math.floor(target / 1.5)))
    while len(planned) > most:
        # Merge the adjacent pair in one scene whose merged shot stays shortest.
        pairs = [i for i in range(len(planned) - 1) if planned[i].place is planned[i + 1].place
                 and not planned[i + 1].establishing] or list(range(len(planned) - 1))
        i = min(pairs, key=lambda k: len(planned[k].description) + len(planned[k + 1].description))
        first, second = planned[i], planned[i + 1]
        keep = second if first.establishing else first
        keep.description = _sentence(f"{first.description} {second.description}")
        keep.characters = list(dict.fromkeys(first.characters + second.characters))
        keep.establishing = False
        planned[i:i + 2] = [keep]
    least = 4 if target is None else max(4, math.ceil(target / 20))
    least = min(least, MAX_SHOTS, len(planned) * (2 if target is None else 8))
    index = 0
    while len(planned) < least:
        source = [s for s in planned if not (s.establishing or s.coverage)] or planned
        beat = source[index % len(source)]
        spot = planned.index(beat) + 1
        previous = beat.size
        neighbour = planned[spot].size if spot < len(planned) else None
        options = (ShotSize.CLOSE_UP, ShotSize.MEDIUM_WIDE, ShotSize.MEDIUM, ShotSize.MEDIUM_CLOSE_UP)
        size = next(s for s in options if s not in (previous, neighbour))
        who = _and(beat.characters) if beat.characters else "the scene"
        angle = {ShotSize.CLOSE_UP: "Close on", ShotSize.MEDIUM_WIDE: "Wider on",
                 ShotSize.MEDIUM: "Reverse angle on", ShotSize.MEDIUM_CLOSE_UP: "Closer on"}[size]
        planned.insert(spot, _Planned(
            description=_sentence(f"{angle} {who}: {beat.description}"), place=beat.place,
            time=beat.time, characters=list(beat.characters), size=size,
            movement=CameraMove.DOLLY_IN if size is ShotSize.CLOSE_UP else CameraMove.STATIC,
            speed=MoveSpeed.SLOW, coverage=True))
        index += 1
    return planned


# ---------------------------------------------------------------------------------------------
# Taking directions
# ---------------------------------------------------------------------------------------------

_HELP = """I'm the offline director (rule-based; no AI model is configured), so I take plain directions like:
• "shot 3: close-up" · "make shot 2 a slow dolly in" · "low angle on shot 2" · "85mm lens on shot 6"
• "shot 4 should last 6 seconds" · "make the second shot longer" · "shot 3 at night"
• "add a shot after 2: Mia opens the door" · "delete shot 5" · "split shot 3"
• "swap shots 1 and 2" · "move shot 4 to the start" · "undo"
• "make it film noir" · "Mia is a red-haired detective" · "the location diner is a chrome 50s diner"
• "title: The Last Train" · "make it 45 seconds" · "render shot 3" · "render it\""""

_FILLER_START = re.compile(
    r"^(?:(?:please|pls|ok(?:ay)?|hey|now|also|and|so|right|alright|great|cool|could you|can you|"
    r"would you|will you|i(?:'d| would) like(?: you)? to|i want(?: you)? to|let['’]?s|lets|then)\b[\s,]*)+",
    re.IGNORECASE)
_FILLER_END = re.compile(r"(?:[\s,]*\b(?:please|pls|thanks|thank you|thx|for me)\b)+[\s.!?]*$|[\s.!?]+$",
                         re.IGNORECASE)
_BOUNDARY_RE = re.compile(
    r"\s*(?:;|\n|(?<=[.!?])\s+|,?\s+and then\s+|,?\s+then\s+|,?\s+also\s+|"
    r"(?:,\s*|,?\s+and\s+)(?=(?:make|set|change|give|add|insert|delete|remove|cut|lose|drop|swap|switch|"
    r"move|split|render|title|call|style|lengthen|shorten|have|use|put|it\b|its\b|it['’]s\b)))",
    re.IGNORECASE)
_SEGMENT_RE = re.compile(
    r"\n+|(?<=[.!?])\s+(?=(?:shot|make|set|change|swap|switch|move|delete|remove|cut|add|insert|split|"
    r"render|title|style|give|put|lose|drop|call)\b)", re.IGNORECASE)
_UNDO_RE = re.compile(
    r"^(?:undo|go back|revert|roll ?back|take (?:that|it) back|scratch that|back up)"
    r"(?:\s+(?:that|it|this|the last (?:change|edit|one|thing)|last (?:change|edit)|one step|a step|please))*$",
    re.IGNORECASE)
_RENDER_RE = re.compile(r"\b(?:re-?render|render|generate)\b", re.IGNORECASE)
_REMOVE_RE = re.compile(
    r"\b(?:delete|remove|cut|lose|drop|kill|scrap|ditch|bin|axe|get rid of|take out|strike)\b", re.IGNORECASE)
_TRANSITION_CUT_RE = re.compile(r"\b(?:cut to|smash cut|match cut|hard cut|jump cut|straight cut|cut on)\b",
                                re.IGNORECASE)
_SWAP_RE = re.compile(r"\b(?:swap|switch|exchange|flip|trade|interchange)\b", re.IGNORECASE)
_MOVE_RE = re.compile(r"\b(?:move|put|bring|place|shift|push)\b", re.IGNORECASE)
_SPLIT_RE = re.compile(r"\b(?:split|break up|divide)\b", re.IGNORECASE)
_TITLE_RE = re.compile(
    r"^(?:(?:set|change|make)\s+the\s+title\s+(?:to\s+)?|(?:the\s+)?(?:film\s+|project\s+)?title\s*(?:is|:|=|to)?\s*|"
    r"(?:call|name|rename|retitle)\s+(?:it|the film|the project|this)\s+(?:to\s+)?)(?P<t>.+)$",
    re.IGNORECASE | re.DOTALL)
_ADD_RE = re.compile(r"^(?:add|insert|append|include|put in|we need|give me)\s+(?P<what>.+)$",
                     re.IGNORECASE | re.DOTALL)
_ADD_AFTER_RE = re.compile(
    rf"^(?P<pos>(?:right\s+|just\s+)?(?:after|before)\s+(?:shot\s*|the\s+)?#?(?:{_NUM}|{_ORD})(?:\s+shot)?|"
    r"at the (?:start|beginning|end|top|front|opening))\s*,?\s*(?:add|insert|put|include)\s+(?P<what>.+)$",
    re.IGNORECASE | re.DOTALL)
_POSITION_RE = re.compile(
    rf"\b(?:(?:right|just)\s+)?(?P<rel>after|before)\s+(?:shot\s*|the\s+)?#?(?P<n>{_NUM}|{_ORD})(?:\s+shot)?\b"
    r"|\b(?P<start>(?:at|to)\s+the\s+(?:start|beginning|top|front|opening)|first)\b"
    r"|\b(?P<end>(?:at|to)\s+the\s+(?:end|bottom|close)|last)\b"
    rf"|\b(?:as|at|to|in)\s+(?:position|slot|spot|shot)?\s*#?(?P<at>{_NUM})\b{_UNIT_AHEAD}",
    re.IGNORECASE)
_FIELD_TEXT_RE = re.compile(
    r"^(?P<ref>.{1,40}?)\s*[,:-]?\s*\b(?P<field>description|action|dialogue|line|sound|notes?|characters|cast)"
    r"\s*(?::|=|\bto\b|\bis\b)\s*(?P<text>.+)$",
    re.IGNORECASE | re.DOTALL)
_CHARACTER_RE = re.compile(
    r"^(?:the\s+)?(?:character\s+)?(?P<name>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2})\s*"
    r"(?::|=|\bis\b|\bshould be\b|\blooks like\b)\s+(?P<desc>.+)$", re.DOTALL)
_NAMED_CHARACTER_RE = re.compile(
    r"^(?:the\s+)?character\s+(?P<name>[\w'’.-]+(?:\s+[\w'’.-]+)?)\s*(?::|=|\bis\b|\bshould be\b)\s+(?P<desc>.+)$",
    re.IGNORECASE | re.DOTALL)
_LOCATION_DESC_RE = re.compile(
    r"^(?:the\s+)?(?:location|set|place)\s+(?:called\s+|named\s+)?(?P<name>.{1,80}?)\s*"
    r"(?::|=|\bis\b|\bshould be\b|\blooks like\b)\s+(?P<desc>.+)$", re.IGNORECASE | re.DOTALL)
_STYLE_RE = re.compile(
    r"^(?:(?:the\s+)?(?:style|look)\s*(?::|=|\bis\b|\bto\b)?\s*(?P<a>.+)|"
    r"(?:make|have)\s+(?:it|this|the film|everything|the whole thing)\s+(?:look\s+|feel\s+)?(?:more\s+)?"
    r"(?:like\s+)?(?:a\s+|an\s+|more\s+)?(?P<b>.+?)(?:\s+(?:style|look|movie|film))?|"
    r"(?:go|switch|change it|change)\s+(?:to\s+|for\s+)?(?:a\s+)?(?P<c>.+?)(?:\s+(?:style|look))?|"
    r"(?:in\s+)?the\s+style\s+of\s+(?P<d>.+)|(?P<e>.+?)\s+(?:style|look)|(?P<f>.+))$",
    re.IGNORECASE | re.DOTALL)
_RELATIVE_RE = re.compile(
    r"\b(?P<much>a bit |a little |slightly |a touch |much |a lot |way )?"
    r"(?P<word>longer|shorter|tighter|closer|wider|looser|slower|faster|quicker)\b", re.IGNORECASE)
_FILM_LENGTH_RE = re.compile(
    r"\b(?:make\s+(?:it|the\s+(?:film|video|cut|whole thing|piece|edit|project))|target|runtime|"
    r"running time|total|overall|whole thing|the film|the video|the cut)\b", re.IGNORECASE)


_Say = Callable[[ShotList, ShotList], str]  # (before, after) → the reply line


@dataclass
class _Step:
    """One understood direction: its edits, the reply line, or a render request."""

    edits: list[Edit] = field(default_factory=list)
    say: _Say | None = None
    render: tuple[str, ...] | None = None  # uids to render; () = every shot


class _NotUnderstood(Exception):
    """A clause the rules do not cover; carries the clause for the help reply."""


def _uid(shotlist: ShotList, number: int) -> str:
    return shotlist.shot(str(number)).uid  # raises ShotNotFound with a readable message


def _number_of(shotlist: ShotList, uid: str) -> str:
    return next((s.number for s in shotlist.shots if s.uid == uid), "?")


def _move_phrase(shot: Shot) -> str:
    if shot.movement is CameraMove.STATIC:
        return "static"
    speed = f"{shot.speed.value} " if shot.speed is not MoveSpeed.MEDIUM else ""
    if shot.direction is not MoveDirection.NONE:
        return f"{speed}{shot.movement.value} {shot.direction.value}"
    return f"{speed}{shot.movement.value.replace(' ', '-')}"


def _describe_update(before: Shot, after: Shot) -> str:
    """'Shot 3 is now a slow dolly-in close-up and lasts 6 s.'"""
    parts: list[str] = []
    size_changed = before.size is not after.size
    move_changed = ((before.movement, before.direction, before.speed)
                    != (after.movement, after.direction, after.speed))
    if size_changed or move_changed:
        move = _move_phrase(after)
        if after.movement is CameraMove.STATIC:
            size = _size_name(after.size)
            parts.append(f"is now a static {size}" if move_changed else f"is now {_article(size)}")
        elif after.direction is not MoveDirection.NONE:
            parts.append(f"is now {_article(_size_name(after.size))} with a {move}")
        else:
            parts.append(f"is now {_article(move + ' ' + _size_name(after.size))}")
    if before.angle is not after.angle:
        parts.append({Angle.DUTCH: "has a dutch angle", Angle.OVERHEAD: "is shot overhead",
                      Angle.EYE_LEVEL: "is back at eye level"}.get(
            after.angle, f"is shot from {_article(after.angle.value)}"))
    if before.lens_mm != after.lens_mm:
        parts.append(f"is on {_article(f'{after.lens_mm}mm')} lens")
    if before.duration != after.duration:
        parts.append(f"lasts {_seconds(after.duration)} (was {_seconds(before.duration)})")
    if before.scene != after.scene:
        parts.append(f"moves to {after.scene.slugline}")
    if before.transition is not after.transition:
        parts.append(f"ends on {_article(after.transition.value)}")
    for name in ("description", "dialogue", "sound", "notes"):
        if getattr(before, name) != getattr(after, name):
            parts.append(f"has the {name} “{getattr(after, name).rstrip('.')}”")
    if before.characters != after.characters:
        parts.append(f"features {_and(list(after.characters)) if after.characters else 'no one'}")
    return f"Shot {after.number} {_and(parts) if parts else 'is updated'}."


def _step_duration(current: float, word: str, much: str) -> float:
    factor = {"": 1.5, "a bit": 1.25, "a little": 1.25, "slightly": 1.25, "a touch": 1.25,
              "much": 2.0, "a lot": 2.0, "way": 2.0}[much.strip().lower()]
    if word in ("longer",):
        value = max(current + (0.5 if factor < 1.5 else 1.0), round(current * factor * 2) / 2)
        return min(MAX_DURATION, value)
    value = min(current - (0.5 if factor < 1.5 else 1.0), round(current / factor * 2) / 2)
    return max(MIN_DURATION, value)


def _ladder_index(size: ShotSize) -> int:
    return next(i for i, s in enumerate(_LADDER) if s.tightness == size.tightness)


def _shot_changes(text: str, shot: Shot) -> dict[str, object]:
    """The field changes a clause asks of one shot ('slow dolly in', '6 seconds', 'at night')."""
    changes: dict[str, object] = {}
    spans: list[tuple[int, int]] = []
    for match in _LENS_RE.finditer(text):
        changes.setdefault("lens_mm", int(match.group("mm")))
        spans.append(match.span())
    relative = _RELATIVE_RE.search(text)
    for match in _DURATION_RE.finditer(text):
        value = _duration_value(match)
        after = text[match.end():match.end() + 12].lower()
        if re.match(r"\s*(?:longer|more)", after):
            changes["duration"] = shot.duration + value
            relative = None
        elif re.match(r"\s*(?:shorter|less)", after):
            changes["duration"] = shot.duration - value
            relative = None
        else:
            changes.setdefault("duration", value)
        spans.append(match.span())
    if relative:
        word = relative.group("word").lower()
        much = relative.group("much") or ""
        if word in ("longer", "shorter"):
            changes["duration"] = _step_duration(shot.duration, word, much)
            if changes["duration"] == shot.duration:
                raise EditError(f"Shot {shot.number} is already {_seconds(shot.duration)}, as "
                                f"{'long' if word == 'longer' else 'short'} as a shot can be.")
        elif word in ("tighter", "closer", "wider", "looser"):
            step = (2 if much.strip().lower() in ("much", "a lot", "way") else 1) * (
                1 if word in ("tighter", "closer") else -1)
            index = _ladder_index(shot.size) + step
            if not 0 <= index < len(_LADDER):
                raise EditError(f"Shot {shot.number} is already {_article(_size_name(shot.size))}; it can't go "
                                f"{word}.")
            changes["size"] = _LADDER[index]
        else:
            speeds = list(MoveSpeed)
            if shot.movement is CameraMove.STATIC and "movement" not in changes:
                raise EditError(f"Shot {shot.number} is static; give it a move first, e.g. "
                                f"'slow dolly in on shot {shot.number}'.")
            index = speeds.index(shot.speed) + (-1 if word == "slower" else 1)
            changes["speed"] = speeds[max(0, min(len(speeds) - 1, index))]
        spans.append(relative.span())
    rest = _blank(text, spans)
    terms = _scan(rest)
    fields = {ShotSize: "size", Angle: "angle", CameraMove: "movement", MoveSpeed: "speed",
              TimeOfDay: "time_of_day", IntExt: "int_ext", Transition: "transition"}
    for enum, name in fields.items():
        term = terms.get(enum)
        if term is not None:
            changes[name] = term
    if "movement" in changes:
        direction = terms.get(MoveDirection) or terms.hinted_direction
        if direction is not None:
            changes["direction"] = direction
    elif (direction := terms.get(MoveDirection)) is not None and shot.movement is not CameraMove.STATIC:
        changes["direction"] = direction
    if re.search(r"\b(?:from below)\b", rest, re.IGNORECASE):
        changes.setdefault("angle", Angle.LOW)
    elif re.search(r"\b(?:from above)\b", rest, re.IGNORECASE):
        changes.setdefault("angle", Angle.HIGH)
    if "speed" in changes and "movement" not in changes and shot.movement is CameraMove.STATIC:
        raise EditError(f"Shot {shot.number} is static, so it has no speed; name a move, e.g. "
                        f"'slow push in on shot {shot.number}'.")
    return changes


class _Reader:
    """Reads one message against the shot list it was written for, clause by clause."""

    def __init__(self, original: ShotList, context: int | None) -> None:
        self.original = original
        self.current = original
        self.recent = context  # the shot the conversation was last about
        self.context: int | None = None  # the shot an earlier clause of this message named
        self.steps: list[_Step] = []

    # Every step is tried against the in-memory list first, so a failing part applies nothing.
    def add(self, step: _Step) -> None:
        for edit in step.edits:
            self.current = apply_edit(self.current, edit)
        self.steps.append(step)

    def refs(self, text: str) -> list[int]:
        return [n for ref in _refs(text, len(self.original.shots)) for n in ref.numbers]

    def read(self, message: str) -> None:
        # A new sentence that opens with a direction is a new direction, even after free text.
        for segment in _SEGMENT_RE.split(message.strip()):
            self.read_segment(segment)

    def read_segment(self, text: str) -> None:
        cursor = 0
        while cursor < len(text):
            boundary = _BOUNDARY_RE.search(text, cursor)
            clause_end = boundary.start() if boundary else len(text)
            if self.read_free_text(_clean(text[cursor:])):
                return
            clause = _clean(text[cursor:clause_end])
            if re.search(r"\w", clause):
                self.read_clause(clause)
            cursor = boundary.end() if boundary else len(text)

    # --- directions whose free text runs to the end of the message -------------------------
    def read_free_text(self, text: str) -> bool:
        title = _TITLE_RE.match(text)
        if title and not _refs(text[:title.start("t")], 99):
            name = _tidy(title.group("t"))[:MAX_NAME * 2]
            if name:
                self.add(_Step([SetProjectInfo(title=name)], lambda _b, a: f"The film is now titled “{a.title}”."))
                return True
        if (match := _FIELD_TEXT_RE.match(text)) and (numbers := self.refs(match.group("ref"))):
            self.set_text_field(numbers, match.group("field").lower(), _tidy(match.group("text")))
            return True
        if (match := _LOCATION_DESC_RE.match(text)) or (match := self.known_location(text)):
            name, desc = _tidy(match.group("name")), _describe_text(match.group("desc"))
            if name and desc:
                self.add(_Step([SetLocation(name=name[:MAX_NAME], description=desc)],
                               lambda _b, a: f"Location {name.upper()}: {_location_desc(a, name)}."))
                return True
        if (match := _NAMED_CHARACTER_RE.match(text)) or (match := self.character_match(text)):
            name, desc = _tidy(match.group("name")), _describe_text(match.group("desc"))
            if name and desc:
                self.add(_Step([SetCharacter(name=name[:MAX_NAME], description=desc)],
                               lambda _b, a: f"{name} is now {_character_desc(a, name)}."))
                return True
        add = _ADD_AFTER_RE.match(text)
        if add:
            self.add_shot(f"{add.group('pos')} {add.group('what')}")
            return True
        add = _ADD_RE.match(text)
        if add and re.search(r"\bshot\b|:|\binsert\b|\bcutaway\b|\bof\b|\bafter\b|\bbefore\b|\bat the\b",
                             add.group("what"), re.IGNORECASE) and find_style(_tidy(add.group("what"))) is None:
            self.add_shot(add.group("what"))
            return True
        return False

    def known_location(self, text: str) -> re.Match[str] | None:
        for location in self.current.locations:
            match = re.match(rf"^(?:the\s+)?(?P<name>{re.escape(location.name)})\s*(?::|=|\bis\b|\blooks like\b)\s+"
                             r"(?P<desc>.+)$", text, re.IGNORECASE | re.DOTALL)
            if match:
                return match
        return None

    def character_match(self, text: str) -> re.Match[str] | None:
        for character in self.current.characters:
            match = re.match(rf"^(?P<name>{re.escape(character.name)})\s*(?::|=|\bis\b|\bshould be\b|\blooks like\b)\s+"
                             r"(?P<desc>.+)$", text, re.IGNORECASE | re.DOTALL)
            if match:
                return match
        match = _CHARACTER_RE.match(text)
        if match is None:
            return None
        words = match.group("name").split()
        lowered = [w.lower().rstrip(".") for w in words]
        if (any(w in _COMMON or w in _LOCATION_KIND for w in lowered)
                or any(w in ("shot", "style", "title", "location", "film", "it", "render", "scene")
                       for w in lowered)
                or find_style(match.group("name")) or _scan(match.group("name")).values):
            return None
        return match

    def set_text_field(self, numbers: list[int], name: str, value: str) -> None:
        key = {"action": "description", "line": "dialogue", "note": "notes", "cast": "characters"}.get(name, name)
        field_value: object = value
        if key == "characters":
            field_value = [n.strip() for n in re.split(r",|\band\b", value) if n.strip()]
        elif key == "description":
            field_value = _sentence(value)
        for number in numbers:
            uid = _uid(self.original, number)
            self.update(uid, validated(ShotChanges, **{key: field_value}))

    def add_shot(self, what: str) -> None:
        count = len(self.current.shots)
        position: int | None = None
        # With "…: what happens", only the words before the colon can say where the shot goes.
        place = _POSITION_RE.search(what.partition(":")[0] if ":" in what else what)
        if place:
            if place.group("rel"):
                anchor = _number(place.group("n"), len(self.original.shots))
                index = self.current.index_of(_uid(self.original, anchor))
                position = index + (2 if place.group("rel").lower() == "after" else 1)
            elif place.group("start"):
                position = 1
            elif place.group("at"):
                position = _number(place.group("at"), count)
            what = _blank(what, [place.span()])
        kind, _, description = what.partition(":")
        if not description.strip():
            kind, description = _split_kind(what)
        description = _tidy(description)
        if not description:
            raise InvalidValue("Tell me what happens in the new shot, e.g. "
                               "'add a shot after 2: Mia opens the door'.")
        cast = [c.name for c in self.current.characters
                if re.search(rf"\b{re.escape(c.name.split()[-1])}\b", description, re.IGNORECASE)]
        index = count if position is None else position - 1
        neighbour = self.current.shots[index - 1] if 0 < index <= count else None
        terms = _scan(kind)
        planned = _design(description, cast, None, TimeOfDay.DAY, neighbour.size if neighbour else None,
                          opens_scene=False)
        size = terms.get(ShotSize)
        if isinstance(size, ShotSize):
            planned.size = size
            if re.search(r"\bof\b", kind, re.IGNORECASE):  # "a close-up of Mia" → "Close-up of Mia."
                planned.description = _sentence(f"{size.value} of {description}")
        move = terms.get(CameraMove)
        if isinstance(move, CameraMove):
            planned.movement = move
            planned.direction = terms.hinted_direction or MoveDirection.NONE
        changes = ShotChanges(
            description=planned.description, dialogue=planned.dialogue or None, characters=cast,
            size=planned.size, angle=planned.angle, movement=planned.movement,
            direction=planned.direction, speed=planned.speed,
            duration=_default_duration(planned.size, planned.movement, planned.speed))

        def say(_before: ShotList, after: ShotList) -> str:
            shot = after.shots[index] if position is not None else after.shots[-1]
            return (f"Added shot {shot.number}: {_article(_move_phrase(shot) + ' ' + _size_name(shot.size))}, "
                    f"{_seconds(shot.duration)} — {shot.description}")

        self.add(_Step([AddShot(shot=changes, position=position)], say))

    def update(self, uid: str, changes: ShotChanges) -> None:
        before = self.current.shot(uid)
        edit = UpdateShot(shot=uid, changes=changes)
        if apply_edit(self.current, edit).shot(uid) == before:
            # Nothing would change: say so rather than record an empty version.
            self.add(_Step(say=lambda _b, _a: f"Shot {before.number} already looks like that; nothing changed."))
            return
        self.add(_Step([edit], lambda _b, a: _describe_update(before, a.shot(uid))))

    # --- one clause ----------------------------------------------------------------------------
    def read_clause(self, clause: str) -> None:
        count = len(self.original.shots)
        refs = _refs(clause, count)
        numbers = list(dict.fromkeys(n for ref in refs for n in ref.numbers))
        if _RENDER_RE.search(clause):
            self.render(clause, numbers)
            return
        if not numbers and (style := _style_in(clause)):
            self.add(_Step([SetStyle(preset=style)],
                           lambda _b, a: f"The look is now {a.style.name}: {a.style.description}."))
            return
        if _REMOVE_RE.search(clause) and not _TRANSITION_CUT_RE.search(clause):
            if not numbers:
                raise _NotUnderstood(clause)
            uids = [_uid(self.original, n) for n in numbers]
            for uid in uids:
                gone = self.original.shot(uid)  # name it by the number the crew used
                self.add(_Step([RemoveShot(shot=uid)], _cut_reply(gone)))
            return
        if _SWAP_RE.search(clause):
            if len(numbers) < 2:
                rest = _blank(clause, [(r.start, r.end) for r in refs])
                numbers += [_number(m.group("n"), count) for m in _BARE_NUMBER_RE.finditer(rest)]
            if len(numbers) != 2:
                raise InvalidValue("Name the two shots to swap, e.g. 'swap shots 1 and 2'.")
            first, second = (_uid(self.original, n) for n in numbers)
            self.add(_Step([SwapShots(first=first, second=second)],
                           lambda _b, _a: f"Swapped shots {min(numbers)} and {max(numbers)}."))
            return
        if _SPLIT_RE.search(clause):
            numbers = numbers or self.context_numbers(clause)
            for number in numbers:
                uid = _uid(self.original, number)
                index = self.current.index_of(uid)
                self.add(_Step([SplitShot(shot=uid)], _split_reply(index)))
            return
        if _MOVE_RE.search(clause) and numbers and (place := _POSITION_RE.search(
                _blank(clause, [(refs[0].start, refs[0].end)]))):
            self.move(numbers[0], place)
            return
        duration = _DURATION_RE.search(clause)
        if not numbers and self.context is None and duration and (film := _FILM_LENGTH_RE.search(clause)):
            seconds = _duration_value(duration)
            # "make it 5 seconds" right after talking about shot 3 means shot 3; the film otherwise.
            if film.group().lower() != "make it" or self.recent is None or seconds > MAX_DURATION:
                self.retime(seconds)
                return
        targets = numbers or self.context_numbers(clause)
        if not targets:
            raise _NotUnderstood(clause)
        body = _blank(clause, [(r.start, r.end) for r in refs])
        for number in targets:
            uid = _uid(self.original, number)
            changes = _shot_changes(body, self.current.shot(uid))
            if not changes:
                raise _NotUnderstood(clause)
            self.update(uid, validated(ShotChanges, **changes))
        self.context = targets[0]  # "…and make it 5 seconds" means this shot

    def context_numbers(self, clause: str) -> list[int]:
        shot = self.context if self.context is not None else self.recent
        if shot is None:
            if _shot_words(clause):
                raise InvalidValue("Which shot? Say e.g. 'shot 3: close-up' or 'make the second shot longer'.")
            return []
        return [shot]

    def render(self, clause: str, numbers: list[int]) -> None:
        count = len(self.original.shots)
        if not count:
            raise EditError("There are no shots to render yet: plan the film first.")
        if not numbers and re.search(r"\bshots?\b", clause, re.IGNORECASE):
            numbers = [_number(m.group("n"), count) for m in _BARE_NUMBER_RE.finditer(clause)]
        if not numbers and self.context is not None and re.search(r"\b(?:it|that|this)\b", clause, re.IGNORECASE):
            numbers = [self.context]  # "make shot 3 a close-up and render it"
        # Held as uids: an edit earlier in the message may renumber the shots.
        uids = tuple(_uid(self.original, n) for n in dict.fromkeys(numbers))
        live = {shot.uid for shot in self.current.shots}
        if gone := [n for n, uid in zip(dict.fromkeys(numbers), uids, strict=True) if uid not in live]:
            raise EditError(f"Shot {gone[0]} is cut in this same message, so I can't render it.")
        self.steps.append(_Step(render=uids, say=lambda _b, a: _render_reply(a, uids)))

    def move(self, number: int, place: re.Match[str]) -> None:
        uid = _uid(self.original, number)
        index = self.current.index_of(uid)
        count = len(self.current.shots)
        if place.group("rel"):
            anchor = self.current.index_of(_uid(self.original, _number(place.group("n"), len(self.original.shots))))
            if anchor == index:
                raise EditError(f"Shot {number} can't move relative to itself.")
            anchor -= 1 if anchor > index else 0  # where the anchor sits once the shot is lifted out
            position = anchor + (2 if place.group("rel").lower() == "after" else 1)
        elif place.group("start"):
            position = 1
        elif place.group("end"):
            position = count
        else:
            position = _number(place.group("at"), count)
        if position == index + 1:
            raise EditError(f"Shot {number} is already at position {position}.")
        self.add(_Step([MoveShot(shot=uid, position=position)],
                       lambda _b, a: f"Moved shot {number} to position {_number_of(a, uid)}; the list is renumbered."))

    def retime(self, target: float) -> None:
        shots = self.current.shots
        durations = fit_durations([s.duration for s in shots], target)
        edits: list[Edit] = [SetProjectInfo(target_length=target)]
        edits += [UpdateShot(shot=s.uid, changes=ShotChanges(duration=d))
                  for s, d in zip(shots, durations, strict=True) if d != s.duration]
        self.add(_Step(edits, lambda _b, a: (
            f"The film now runs {_seconds(a.runtime)} (target {_seconds(target)}): "
            f"retimed {len(edits) - 1} shot{'s' if len(edits) != 2 else ''} in proportion.")))


def _shot_words(clause: str) -> bool:
    return bool(_scan(clause).values or _RELATIVE_RE.search(clause) or _DURATION_RE.search(clause)
                or _LENS_RE.search(clause))


def _split_kind(what: str) -> tuple[str, str]:
    """'an insert of the letter' → ('an insert of', 'the letter'); 'Mia opening the door' → ('', …)."""
    match = re.match(
        r"^(?P<kind>(?:(?:a|an|one|another|new|extra)\s+)*(?:[\w'’-]+\s+){0,3}?(?:shot|insert|cutaway|close-?up|"
        r"close up|wide|pov|two-shot|reaction|establishing)s?(?:\s+shots?)?\b(?:\s+(?:of|where|showing|"
        r"with|in which|on|that shows))?)\s*(?P<rest>.*)$", what.strip(), re.IGNORECASE | re.DOTALL)
    if match:
        return match.group("kind"), match.group("rest")
    return "", what


def _style_in(clause: str) -> str | None:
    match = _STYLE_RE.match(clause)
    if not match:
        return None
    explicit = match.group("a") or match.group("d") or match.group("e")
    candidate = next((g for g in match.groups() if g), "")
    name = find_style(_tidy(candidate))
    if name is None and explicit:
        name = _detect_style(f"{explicit} style")
    return name


def _clean(text: str) -> str:
    text = _FILLER_START.sub("", text.strip())
    return _FILLER_END.sub("", text).strip()


def _describe_text(text: str) -> str:
    text = _tidy(re.sub(r"^(?:a|an)\s+", "", text.strip(), flags=re.IGNORECASE)).rstrip(".")
    return text[:MAX_TEXT]


def _location_desc(shotlist: ShotList, name: str) -> str:
    location = shotlist.location(name)
    return location.description if location else ""


def _character_desc(shotlist: ShotList, name: str) -> str:
    character = shotlist.character(name)
    return _article(character.description) if character and character.description else "in the cast"


def _split_reply(index: int) -> _Say:
    def say(_before: ShotList, after: ShotList) -> str:
        # The first half keeps the shot's uid, the second is new: find both by position.
        first, second = after.shots[index], after.shots[index + 1]
        return (f"Split shot {first.number} into shots {first.number} and {second.number} "
                f"({_seconds(first.duration)} and {_seconds(second.duration)}).")
    return say


def _render_reply(shotlist: ShotList, uids: tuple[str, ...]) -> str:
    if not uids:
        return f"Rendering all {len(shotlist.shots)} shots."
    numbers = [s.number for s in shotlist.shots if s.uid in uids]
    return f"Rendering shot{'s' if len(numbers) > 1 else ''} {_and(numbers)}."


def _cut_reply(gone: Shot) -> _Say:
    return lambda _before, _after: (f"Cut shot {gone.number} ({gone.description.rstrip('.')}); "
                                    "the shots after it move up.")


def _context_from(history: Sequence[Turn]) -> int | None:
    """The shot the conversation was last about, so 'make it longer' has a subject."""
    for turn in reversed(history):
        refs = _refs(turn.content, MAX_SHOTS)
        if refs:
            return refs[-1].numbers[0]
    return None


class OfflineDirector:
    """The rule-based director: deterministic, offline, and honest about being the fallback."""

    name = "offline director (rule-based)"

    async def plan(self, brief: str, *, style: str | None = None) -> ShotList:
        """Turn a written brief into a first shot list; `InvalidValue` when there is nothing to plan."""
        return _plan(brief, style)

    async def direct(
        self, message: str, editor: ProjectEditor, history: Sequence[Turn] = ()
    ) -> DirectorReply:
        """Take one direction; never raises for any text (errors come back as the reply)."""
        before = await editor.shotlist()
        text = (message or "").strip()[:5000]
        if _UNDO_RE.match(_clean(text)):
            return await _undo(editor, before)
        reader = _Reader(before, _context_from(history))
        try:
            reader.read(text)
        except _NotUnderstood as unknown:
            return _reply(f"I didn't catch “{(_tidy(str(unknown)) or str(unknown))[:80]}”. {_HELP}")
        except SlateError as error:
            return _reply(f"{error} Nothing was changed.")
        if not reader.steps:
            return _reply(_HELP)
        # One direction is one version: every edit of the message lands in one `apply_many`, so
        # one "undo" takes the whole direction back, and a refused edit applies nothing.
        edits = [edit for step in reader.steps for edit in step.edits]
        current = before
        if edits:
            try:
                current = await editor.apply_many(edits)
            except SlateError as error:  # the store refused (e.g. a limit)
                return _reply(f"{error} Nothing was changed.")
        lines: list[str] = []
        render: RenderAsk | None = None
        local = before  # the reader's own in-memory replay, step by step, for the reply lines
        for step in reader.steps:
            previous = local
            local = apply_edits(local, step.edits)
            if step.say is not None:
                lines.append(step.say(previous, local))
            if step.render is not None:
                render = RenderAsk(shots=tuple(s.number for s in current.shots if s.uid in step.render))
        notes = [n for n in grammar_notes(current) if n not in grammar_notes(before)] if edits else []
        return _reply("\n".join(lines), edits=len(edits), render=render, notes=notes)


async def _undo(editor: ProjectEditor, before: ShotList) -> DirectorReply:
    try:
        after = await editor.undo()
    except SlateError as error:
        return _reply(str(error))
    changes = diff(before, after)
    detail = ("\n" + "\n".join(changes[:8])) if changes else ""
    return _reply(f"Undone: back to the previous version.{detail}", edits=1)


def _reply(text: str, *, edits: int = 0, render: RenderAsk | None = None,
           notes: list[str] | None = None) -> DirectorReply:
    return DirectorReply(text=f"{text}\n{FOOTER}", edits=edits, render=render, notes=notes or [])
