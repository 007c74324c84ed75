"""The film vocabulary: shot sizes, angles, camera moves and the rest, with the spellings crews use.

Every enum value is the canonical long name a shot list prints; `parse` accepts abbreviations
("CU", "MCU"), spacing and hyphen variants ("close up", "close-up", "closeup") and synonyms
("push in" for a dolly in).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

from studio.errors import InvalidValue


def fold(text: str) -> str:
    """Fold case, punctuation and spacing so "Close-Up", "close up" and "closeup" compare equal
    (a typographic apostrophe folds like a plain one). The keys of `aliases()` are folded."""
    return re.sub(r"[^a-z0-9'°]+", "", text.lower().replace("’", "'"))


class ShotSize(StrEnum):
    EXTREME_WIDE = "extreme wide shot"
    WIDE = "wide shot"
    FULL = "full shot"
    MEDIUM_WIDE = "medium wide shot"
    MEDIUM = "medium shot"
    MEDIUM_CLOSE_UP = "medium close-up"
    CLOSE_UP = "close-up"
    EXTREME_CLOSE_UP = "extreme close-up"
    INSERT = "insert"
    TWO_SHOT = "two-shot"
    OVER_THE_SHOULDER = "over-the-shoulder"
    POV = "point of view"

    @property
    def abbreviation(self) -> str:
        return _SIZE_ABBREVIATIONS[self]

    @property
    def tightness(self) -> int:
        """0 = widest; used to vary sizes and to check 'establish before going tight'."""
        return _SIZE_TIGHTNESS[self]


_SIZE_ABBREVIATIONS = {
    ShotSize.EXTREME_WIDE: "EWS",
    ShotSize.WIDE: "WS",
    ShotSize.FULL: "FS",
    ShotSize.MEDIUM_WIDE: "MWS",
    ShotSize.MEDIUM: "MS",
    ShotSize.MEDIUM_CLOSE_UP: "MCU",
    ShotSize.CLOSE_UP: "CU",
    ShotSize.EXTREME_CLOSE_UP: "ECU",
    ShotSize.INSERT: "INS",
    ShotSize.TWO_SHOT: "2S",
    ShotSize.OVER_THE_SHOULDER: "OTS",
    ShotSize.POV: "POV",
}

_SIZE_TIGHTNESS = {
    ShotSize.EXTREME_WIDE: 0,
    ShotSize.WIDE: 1,
    ShotSize.FULL: 2,
    ShotSize.MEDIUM_WIDE: 3,
    ShotSize.TWO_SHOT: 3,
    ShotSize.MEDIUM: 4,
    ShotSize.OVER_THE_SHOULDER: 4,
    ShotSize.POV: 4,
    ShotSize.MEDIUM_CLOSE_UP: 5,
    ShotSize.CLOSE_UP: 6,
    ShotSize.EXTREME_CLOSE_UP: 7,
    ShotSize.INSERT: 7,
}


class Angle(StrEnum):
    EYE_LEVEL = "eye level"
    HIGH = "high angle"
    LOW = "low angle"
    OVERHEAD = "overhead"
    WORMS_EYE = "worm's-eye"
    DUTCH = "dutch angle"


class CameraMove(StrEnum):
    STATIC = "static"
    PAN = "pan"
    TILT = "tilt"
    DOLLY_IN = "dolly in"
    DOLLY_OUT = "dolly out"
    TRUCK = "truck"
    PEDESTAL = "pedestal"
    CRANE = "crane"
    ARC = "arc"
    ZOOM_IN = "zoom in"
    ZOOM_OUT = "zoom out"
    DOLLY_ZOOM = "dolly zoom"
    HANDHELD = "handheld"
    STEADICAM = "steadicam"
    FOLLOW = "follow"
    WHIP_PAN = "whip pan"


class MoveDirection(StrEnum):
    NONE = ""
    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"


class MoveSpeed(StrEnum):
    SLOW = "slow"
    MEDIUM = "medium"
    FAST = "fast"


class Transition(StrEnum):
    CUT = "cut"
    DISSOLVE = "dissolve"
    FADE_IN = "fade in"
    FADE_OUT = "fade out"
    MATCH_CUT = "match cut"
    SMASH_CUT = "smash cut"
    WIPE = "wipe"


class ShotStatus(StrEnum):
    PLANNED = "planned"
    RENDERING = "rendering"
    RENDERED = "rendered"
    APPROVED = "approved"


class IntExt(StrEnum):
    INT = "INT"
    EXT = "EXT"
    INT_EXT = "INT/EXT"


class TimeOfDay(StrEnum):
    DAY = "DAY"
    NIGHT = "NIGHT"
    DAWN = "DAWN"
    DUSK = "DUSK"
    MORNING = "MORNING"
    EVENING = "EVENING"
    CONTINUOUS = "CONTINUOUS"


class ReferenceView(StrEnum):
    """What a reference image shows of its element; the front view leads an element's references."""

    FRONT = "front"
    THREE_QUARTER = "three-quarter"
    PROFILE = "profile"
    DETAIL = "detail"


class ReferenceSource(StrEnum):
    """Where a reference image came from."""

    UPLOAD = "upload"  # a crew member's file
    GENERATED = "generated"  # a portrait rendered from the bible description
    TAKE = "take"  # a frame of a take


class ElementKind(StrEnum):
    """What the bible holds and shots show: the cast, the places and the props."""

    CHARACTER = "character"
    LOCATION = "location"
    PROP = "prop"


# Synonyms and abbreviations beyond each value's own spelling and its member name.
# fmt: off
_ALIASES: dict[type[StrEnum], dict[str, str]] = {
    ShotSize: {
        "ews": "extreme wide shot", "els": "extreme wide shot", "extreme long shot": "extreme wide shot",
        "extreme wide": "extreme wide shot", "establishing": "extreme wide shot",
        "establishing shot": "extreme wide shot", "very wide": "extreme wide shot",
        "ws": "wide shot", "ls": "wide shot", "wide": "wide shot", "long shot": "wide shot",
        "long": "wide shot",
        "fs": "full shot", "full": "full shot", "full body": "full shot",
        "mws": "medium wide shot", "mls": "medium wide shot", "cowboy": "medium wide shot",
        "cowboy shot": "medium wide shot", "medium wide": "medium wide shot",
        "medium long shot": "medium wide shot", "american shot": "medium wide shot",
        "ms": "medium shot", "medium": "medium shot", "mid shot": "medium shot", "mid": "medium shot",
        "waist shot": "medium shot",
        "mcu": "medium close-up", "medium closeup": "medium close-up", "medium close": "medium close-up",
        "cu": "close-up", "close": "close-up", "closeup": "close-up", "close shot": "close-up",
        "tight": "close-up", "tight shot": "close-up",
        "ecu": "extreme close-up", "xcu": "extreme close-up", "extreme closeup": "extreme close-up",
        "extreme close": "extreme close-up", "macro": "extreme close-up",
        "ins": "insert", "insert shot": "insert", "cutaway": "insert",
        "2s": "two-shot", "two shot": "two-shot", "2 shot": "two-shot",
        "ots": "over-the-shoulder", "over the shoulder": "over-the-shoulder",
        "over shoulder": "over-the-shoulder",
        "pov": "point of view", "point of view shot": "point of view", "pov shot": "point of view",
    },
    Angle: {
        "eye": "eye level", "eye-level": "eye level", "neutral": "eye level",
        "high": "high angle", "low": "low angle",
        "birds eye": "overhead", "bird's eye": "overhead", "bird's-eye": "overhead",
        "birds-eye": "overhead", "top down": "overhead", "top-down": "overhead", "aerial": "overhead",
        "worms eye": "worm's-eye", "worm's eye": "worm's-eye", "worms-eye": "worm's-eye",
        "worm": "worm's-eye",
        "dutch": "dutch angle", "dutch tilt": "dutch angle", "canted": "dutch angle",
        "tilted": "dutch angle", "oblique": "dutch angle",
    },
    CameraMove: {
        "locked off": "static", "locked-off": "static", "still": "static", "fixed": "static",
        "none": "static", "no move": "static", "tripod": "static",
        "pan left": "pan", "pan right": "pan", "panning": "pan",
        "tilt up": "tilt", "tilt down": "tilt",
        "dolly": "dolly in", "push in": "dolly in", "push-in": "dolly in", "dolly-in": "dolly in",
        "push": "dolly in", "track in": "dolly in",
        "pull out": "dolly out", "pull-out": "dolly out", "dolly-out": "dolly out",
        "pull back": "dolly out", "track out": "dolly out",
        "truck left": "truck", "truck right": "truck", "tracking": "truck", "tracking shot": "truck",
        "crab": "truck", "slide": "truck",
        "ped": "pedestal", "boom": "crane", "jib": "crane", "crane up": "crane",
        "crane down": "crane", "crane shot": "crane",
        "orbit": "arc", "arc shot": "arc", "circle": "arc",
        "zoom": "zoom in", "zoom-in": "zoom in", "zoom-out": "zoom out",
        "dolly-zoom": "dolly zoom", "vertigo": "dolly zoom", "zolly": "dolly zoom",
        "hand held": "handheld", "hand-held": "handheld", "shaky": "handheld",
        "gimbal": "steadicam", "stabilized": "steadicam",
        "following": "follow", "follow shot": "follow",
        "whip": "whip pan", "swish pan": "whip pan", "whip-pan": "whip pan",
    },
    MoveDirection: {
        "l": "left", "r": "right", "u": "up", "d": "down", "none": "",
    },
    MoveSpeed: {
        "slowly": "slow", "gentle": "slow", "gently": "slow", "subtle": "slow",
        "normal": "medium", "moderate": "medium",
        "quick": "fast", "quickly": "fast", "rapid": "fast", "snappy": "fast",
    },
    Transition: {
        "straight cut": "cut", "hard cut": "cut", "cross dissolve": "dissolve",
        "crossfade": "dissolve", "fade": "fade out", "fade to black": "fade out",
        "fade from black": "fade in",
    },
    IntExt: {
        "interior": "INT", "exterior": "EXT", "int.": "INT", "ext.": "EXT", "i/e": "INT/EXT",
        "int./ext.": "INT/EXT",
    },
    TimeOfDay: {
        "daytime": "DAY", "sunset": "DUSK", "twilight": "DUSK", "sunrise": "DAWN",
        "midnight": "NIGHT", "nighttime": "NIGHT", "cont": "CONTINUOUS", "cont.": "CONTINUOUS",
        "afternoon": "DAY", "noon": "DAY",
    },
    ReferenceView: {
        "3/4": "three-quarter", "three-quarter view": "three-quarter", "front view": "front",
        "face": "front", "frontal": "front", "portrait": "front", "headshot": "front",
        "side": "profile", "side view": "profile", "close-up": "detail", "insert": "detail",
    },
    ReferenceSource: {
        "uploaded": "upload", "attachment": "upload", "generate": "generated", "frame": "take",
    },
    ElementKind: {
        "cast": "character", "actor": "character", "person": "character", "place": "location",
        "set": "location", "object": "prop", "item": "prop",
    },
}
# fmt: on

E = TypeVar("E", bound=StrEnum)

_LOOKUP_CACHE: dict[type[StrEnum], dict[str, StrEnum]] = {}


def _lookup(enum: type[E]) -> dict[str, E]:
    table = _LOOKUP_CACHE.get(enum)
    if table is None:
        table = {}
        for member in enum:
            table[fold(member.value)] = member
            table[fold(member.name)] = member
        for alias, value in _ALIASES.get(enum, {}).items():
            table[fold(alias)] = enum(value)
        _LOOKUP_CACHE[enum] = table
    return table  # type: ignore[return-value]


def parse(enum: type[E], text: str | E) -> E:
    """Read a vocabulary term the way a crew writes it; raise `InvalidValue` listing the options."""
    if isinstance(text, enum):
        return text
    member = _lookup(enum).get(fold(str(text)))
    if member is None:
        options = ", ".join(m.value for m in enum if m.value)
        raise InvalidValue(
            f"'{text}' is not a {_LABELS.get(enum, enum.__name__)} I know. Try one of: {options}."
        )
    return member


def aliases(enum: type[E]) -> dict[str, E]:
    """Every accepted spelling (folded) → member; the offline director scans text with it."""
    return dict(_lookup(enum))


_LABELS: dict[type[StrEnum], str] = {
    ShotSize: "shot size",
    Angle: "camera angle",
    CameraMove: "camera move",
    MoveDirection: "move direction",
    MoveSpeed: "move speed",
    Transition: "transition",
    ShotStatus: "shot status",
    IntExt: "INT/EXT",
    TimeOfDay: "time of day",
    ReferenceView: "reference view",
    ReferenceSource: "reference source",
    ElementKind: "kind of element",
}

# Moves whose direction words are folded into the move name on input ("pan left").
# fmt: off
DIRECTION_HINTS: dict[str, MoveDirection] = {
    "pan left": MoveDirection.LEFT, "pan right": MoveDirection.RIGHT,
    "tilt up": MoveDirection.UP, "tilt down": MoveDirection.DOWN,
    "truck left": MoveDirection.LEFT, "truck right": MoveDirection.RIGHT,
    "crane up": MoveDirection.UP, "crane down": MoveDirection.DOWN,
}
# fmt: on
