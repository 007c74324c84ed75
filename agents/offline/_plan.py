"""Planning: reading a written brief into a first shot list."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from agents.offline._grammar import _LADDER, fit_durations
from agents.offline._text import (
    _AMOUNT,
    _NUMBER_WORDS,
    _alternation,
    _and,
    _article,
    _blank,
    _describe_text,
    _duration_value,
    _scan,
    _sentence,
    _tidy,
)
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
from studio.models import (
    MAX_DURATION,
    MAX_NAME,
    MAX_SHOTS,
    MAX_TEXT,
    ShotList,
)
from studio.styles import find_style, style_names
from studio.vocab import (
    Angle,
    CameraMove,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ShotSize,
    TimeOfDay,
    aliases,
    fold,
)

# ---------------------------------------------------------------------------------------------
# Reading a brief
# ---------------------------------------------------------------------------------------------

# fmt: off
_EXTERIORS = (
    "street", "streets", "alley", "alleyway", "rooftop", "roof", "beach", "forest", "woods", "park",
    "field", "fields", "desert", "mountain", "mountains", "road", "highway", "bridge", "harbor",
    "harbour", "dock", "docks", "pier", "river", "lake", "sea", "ocean", "shore", "garden", "yard",
    "backyard", "courtyard", "parking lot", "car park", "square", "plaza", "city", "town", "village",
    "cemetery", "graveyard", "platform", "market", "jungle", "meadow", "cliff", "cliffs", "canyon",
    "valley", "farm", "porch", "playground", "tracks", "crossroads", "sidewalk", "hill", "hills",
    "island", "campsite", "stadium", "port", "coast", "waterfront", "boardwalk", "skyline", "ruins",
    "swamp", "glacier", "wasteland", "battlefield", "runway", "train tracks", "suburb", "suburbs",
    "neighborhood", "neighbourhood", "countryside", "trail", "lane", "cul-de-sac", "vineyard",
)
# fmt: on
# fmt: off
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
    "concert hall", "backstage", "airlock", "control room", "coffee shop", "bank", "vault",
)
# fmt: on
# Buildings whose rooms are the real sets: "at home, … in the kitchen" plays in the kitchen.
_BUILDINGS = {
    "HOME",
    "HOUSE",
    "APARTMENT",
    "FLAT",
    "HOTEL",
    "SCHOOL",
    "HOSPITAL",
    "CABIN",
    "CASTLE",
    "PALACE",
}
_LOCATION_KIND = {**{w: IntExt.EXT for w in _EXTERIORS}, **{w: IntExt.INT for w in _INTERIORS}}
_LOC_WORDS = _alternation([re.escape(w) for w in _LOCATION_KIND])
_LOC_PREP = (
    r"back at|back in|back to|in|at|inside|outside|into|onto|on|through|across|to|toward|down|past|"
    r"towards|near|from|under|along|over|around|enters|leaves|exits|reaches|crosses|fills|opens"
)
_ADJ = r"(?:(?!(?:the|a|an|of|and|with|in|at|on|to|from|her|his|their|its|as|then|while)\b)[\w'’-]+\s+)"
_LOCATION_RE = re.compile(
    rf"\b(?P<prep>{_LOC_PREP})\s+(?:the\s+|a\s+|an\s+|his\s+|her\s+|their\s+|its\s+|my\s+|"
    rf"[A-Z][\w]*['’]s\s+)?(?P<adj>{_ADJ}{{0,3}}?)(?P<loc>{_LOC_WORDS})\b",
    re.IGNORECASE,
)
_LOOK_RE = re.compile(
    r"\b(?:looks?|gazes?|stares?|glances?|peers?|points?|watch(?:es)?)(?:\s+(?:up|down|out|back))?\s*$",
    re.IGNORECASE,
)
_SLUGLINE_RE = re.compile(
    r"\b(?P<ie>INT\.?/EXT|INT|EXT)\.?\s+(?P<loc>[A-Z0-9'’ ]+?)\s*(?:[-–—]\s*(?P<tod>[A-Z]+))?(?=[.\n]|$|\s{2})"
)
# fmt: off
_TIME_WORDS = {
    "night": TimeOfDay.NIGHT, "nighttime": TimeOfDay.NIGHT, "midnight": TimeOfDay.NIGHT,
    "dawn": TimeOfDay.DAWN, "sunrise": TimeOfDay.DAWN, "daybreak": TimeOfDay.DAWN,
    "dusk": TimeOfDay.DUSK, "sunset": TimeOfDay.DUSK, "twilight": TimeOfDay.DUSK,
    "morning": TimeOfDay.MORNING, "evening": TimeOfDay.EVENING, "afternoon": TimeOfDay.DAY,
    "noon": TimeOfDay.DAY, "daytime": TimeOfDay.DAY, "daylight": TimeOfDay.DAY,
    "next day": TimeOfDay.DAY, "that day": TimeOfDay.DAY,
}
# fmt: on
_TIME_RE = re.compile(rf"\b({_alternation(list(_TIME_WORDS))})\b", re.IGNORECASE)
_BARE_LOCATION_RE = re.compile(
    rf"^\s*(?:the\s+|a\s+|an\s+)?(?P<adj>{_ADJ}{{0,3}}?)(?P<loc>{_LOC_WORDS})"
    rf"(?:\s*,?\s*(?:at\s+|by\s+)?(?:{_alternation(list(_TIME_WORDS))}|day))?\s*$",
    re.IGNORECASE,
)

# fmt: off
_FORMATS = ("teaser", "trailer", "spot", "short", "film", "ad", "advert", "commercial", "promo",
            "clip", "video", "piece", "sequence", "reel", "montage", "story", "movie", "sizzle",
            "intro", "opener", "animatic", "scene", "sting", "bumper", "thriller", "drama", "comedy",
            "documentary", "doc", "mystery", "romance")
# fmt: on
_TARGET_RE = re.compile(
    rf"{_AMOUNT}(?=(?:\s+long\b|\s+in length\b|(?:\s+[\w-]+){{0,2}}\s+(?:{'|'.join(_FORMATS)})s?\b))"
    rf"|\b(?:runtime|running time|length|duration)\s*(?:of|:|is|=)?\s*{_AMOUNT.replace('?P<', '?P<t_')}",
    re.IGNORECASE,
)
# Hours only name the film's length right before the format: "a 2-hour film", not "a 24-hour diner".
_HOURS_FRAME_RE = re.compile(
    rf"\s+(?:long\b|in length\b|(?:{'|'.join(_FORMATS)})s?\b)", re.IGNORECASE
)

# Presets named outright; the rest of the style aliases ("dark", "warm", "desert") are everyday
# words in a brief, so they only count with a cue ("horror teaser", "western style").
# fmt: off
_CLEAR_STYLES = ("film noir", "neo-noir", "neo noir", "noir", "cyberpunk", "blade runner",
                 "wes anderson", "ghibli", "storybook", "anime", "70s film", "1970s", "seventies",
                 "16mm", "golden hour", "sci-fi", "scifi", "vérité", "verite", "spaghetti western",
                 "black and white", "documentary")
# fmt: on
# Stock characters so strongly noir that they set the look when no style is named.
_NOIR_CUES_RE = re.compile(
    r"\b(?:femme[s]? fatale[s]?|private eyes?|private detectives?|private investigators?|gumshoes?|"
    r"hard-?boiled)\b",
    re.IGNORECASE,
)
_STYLE_CUE = rf"(?:style|styled|look|feel|vibe|aesthetic|{'|'.join(_FORMATS)})"

# fmt: off
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
# fmt: on
# fmt: off
_HONORIFICS = {"detective", "officer", "captain", "doctor", "dr", "professor", "agent", "sergeant",
               "mr", "mrs", "ms", "miss", "lady", "lord", "sir", "king", "queen", "prince",
               "princess", "uncle", "aunt", "grandma", "grandpa", "father", "mother", "sister",
               "brother", "coach", "judge", "inspector", "general", "chief", "old", "little", "young"}
# fmt: on
# A full stop only joins a title to a name ("Dr. Cole"), never two sentences ("Paris. Claire").
_NAME_RE = re.compile(
    r"\b[A-Z][a-z'’]+(?:(?:(?:(?<=Mr|Ms|Dr|St|Jr)|(?<=Mrs))\.\s+|\s+)[A-Z][a-z'’]+){0,2}\b"
)
_DESCRIBES_RE = re.compile(
    r"^(?P<name>[A-Z][\w'’.]*(?:\s+[A-Z][\w'’.]*){0,2})\s*(?:,\s*)?(?:is|was|:)\s+"
    r"(?P<desc>(?:a|an|the|her|his|their)\s+.+)$"
)
_SENTENCES_RE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”])\s+|\n+")
_APPOSITIVE_RE = re.compile(
    r"\b(?P<name>[A-Z][a-z'’]+(?:\s+[A-Z][a-z'’]+)?),\s+(?:a|an)\s+(?P<desc>[^,]{3,80}),"
)
# "a tired private eye, Mack Doyle, meets…": the description comes before the name.
_PRE_APPOSITIVE_RE = re.compile(
    r"\b(?:a|an)\s+(?P<desc>[a-z][a-z'’-]*(?:\s+[a-z][a-z'’-]*){0,4}),\s+"
    r"(?P<name>[A-Z][a-z'’]+(?:\s+[A-Z][a-z'’]+)?)(?P<close>,\s*|(?=[.;:!?]|$))"
)
# Years and decades place a story in time: "1947", "the 1920s", "'80s".
_YEAR_RE = re.compile(r"(?<![\w.-])(?:1[0-9]{3}|20[0-9]{2})s?(?![\w-])|['’][0-9]0s\b")
# First words of multi-word place names: "Los Angeles", "New York", "Hong Kong".
# fmt: off
_PLACE_NAME_HEADS = {"new", "los", "las", "san", "santa", "hong", "fort", "port", "mount", "buenos",
                     "rio", "tel", "abu", "kuala", "são", "sao", "cape", "salt", "baton", "sri",
                     "north", "south", "east", "west"}
# fmt: on
_PRONOUNS_SHE = re.compile(r"\b(she|her|hers|herself)\b", re.IGNORECASE)
_PRONOUNS_HE = re.compile(r"\b(he|him|his|himself)\b", re.IGNORECASE)
# A sudden sound plays on whoever hears it: a reaction, or a whip pan to the source.
_SUDDEN_RE = re.compile(
    r"\b(?:(?:gun)?shots?|gunfire|scream|explosion|bang|crash|siren|alarm|thunder)\s+"
    r"(?:rings?|rang|echo(?:es)?|cracks?|goes off|went off|erupts?|rips?|tears?|sounds?|blares?)\b"
    r"|\brings? out\b",
    re.IGNORECASE,
)
_PRONOUNS_ONE = re.compile(r"\b(she|her|hers|herself|he|him|his|himself)\b", re.IGNORECASE)
_PRONOUNS_MANY = re.compile(r"\b(they|them|their|both|together|each other)\b", re.IGNORECASE)

# fmt: off
_OBJECTS = (
    "letter", "key", "keys", "photo", "photograph", "picture", "phone", "note", "gun", "pistol",
    "ring", "map", "watch", "box", "envelope", "knife", "badge", "ticket", "clock", "book",
    "bottle", "glass", "cup", "coin", "card", "file", "folder", "bag", "wallet", "necklace",
    "locket", "diary", "journal", "cigarette", "lighter", "handle", "button", "screen", "message",
    "briefcase", "suitcase", "camera", "tape", "cassette", "flower", "rose", "candle", "mirror",
    "drawer", "receipt", "newspaper", "poster", "sign", "coffee", "chip", "drive", "syringe",
    "bullet", "ledger", "postcard", "umbrella", "hat", "shoe", "glove", "compass", "pendant",
)
# fmt: on
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
    r"racing|crash(?:es)?|cycles?|skates?|stalks|prowls?|"
    r"rushes|storms?|steps?|approaches|follows?|crawls?|swims?|flies|marches|stumbles?|dashes)\b",
    re.IGNORECASE,
)
_TALK_RE = re.compile(
    r"\b(?:says?|asks?|tells?|talks?|argues?|argue|confronts?|replies|shouts?|yells?|speaks?|"
    r"explains?|interrogates?|questions?|begs?|pleads?|warns?|negotiates?)\b",
    re.IGNORECASE,
)
# Ad language: "…, logo on the cup" is its own beat (and an insert).
_PRODUCT_RE = re.compile(
    r"^(?:and\s+)?(?:the\s+|a\s+)?(?:logo|tagline|title card|end card|packshot|pack shot|"
    r"product shot|product|brand name|slogan)\b",
    re.IGNORECASE,
)
# Hands at work read best as an insert: "a barista pours latte art".
_DETAIL_RE = re.compile(
    r"\b(?:pours?|stirs?|types?|writes?|signs?|sews?|chops?|slices?|kneads?|sketches|paints?|bandages?|"
    r"stitches|ties|unlocks?|dials?|sprinkles?|frosts?|brews?)\b",
    re.IGNORECASE,
)
_QUOTE_RE = re.compile(r"[\"“](?P<q>[^\"”]{1,300})[\"”]")

# The camera move a beat's language suggests, in priority order: (pattern, move, direction, speed).
_MOVE_RULES: tuple[tuple[re.Pattern[str], CameraMove, MoveDirection, MoveSpeed], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), move, direction, speed)
    for pattern, move, direction, speed in (
        (
            r"\b(?:fights?|struggles?|scuffles?|brawls?|panics?|chaos|stumbles?|explodes?|explosion|"
            r"attacks?|grapples?|crash(?:es)?|crashing|collides?|tumbles?|wipes? out)\b",
            CameraMove.HANDHELD,
            MoveDirection.NONE,
            MoveSpeed.FAST,
        ),
        (
            r"\b(?:runs?|running|chases?|chasing|flees|fleeing|races|racing|(?<!\ba )(?<!\bthe )race|sprints?|"
            r"pursues?|escapes?|rushes|dashes|speeds|(?:rides?|riding|cycles?|cycling|pedals?|skates?|skating|"
            r"gallops?)(?!\s+(?:in|on)\s+(?:a|an|the)\s+(?:car|train|bus|taxi|cab|elevator|lift)))\b",
            CameraMove.FOLLOW,
            MoveDirection.NONE,
            MoveSpeed.FAST,
        ),
        (
            r"\b(?:looks?|gazes?|stares?|glances?|peers?|cranes?)\s+up\b|\bup at\b",
            CameraMove.TILT,
            MoveDirection.UP,
            MoveSpeed.SLOW,
        ),
        (
            r"\b(?:looks?|gazes?|stares?|glances?|peers?)\s+down\b|\bdown at\b",
            CameraMove.TILT,
            MoveDirection.DOWN,
            MoveSpeed.SLOW,
        ),
        (
            r"\b(?:reveals?|revealing|revealed|discovers?|discovery|uncovers?|unveils?)\b",
            CameraMove.DOLLY_IN,
            MoveDirection.NONE,
            MoveSpeed.SLOW,
        ),
        (
            r"\b(?:walks?|strolls?|moves?|drifts?|wanders?|crosses)\s+(?:across|along|past)\b",
            CameraMove.TRUCK,
            MoveDirection.RIGHT,
            MoveSpeed.MEDIUM,
        ),
        (
            r"\b(?:tension|tense|realis\w*|realiz\w*|dread|suspense|slowly|uneasy|suspects?|remembers?|"
            r"understands?|stares?|creeps?)\b",
            CameraMove.DOLLY_IN,
            MoveDirection.NONE,
            MoveSpeed.SLOW,
        ),
        (
            r"\b(?:walks?|wanders?|follows?|strolls?|paces|approaches|stalks|prowls?|"
            r"makes (?:her|his|their) way)\b",
            CameraMove.STEADICAM,
            MoveDirection.NONE,
            MoveSpeed.MEDIUM,
        ),
        (
            r"\b(?:circles?|circling|spins?|turns around|surrounded|embrace\w*)\b",
            CameraMove.ARC,
            MoveDirection.NONE,
            MoveSpeed.SLOW,
        ),
        (
            r"\b(?:dizzy|vertigo|reels|disoriented)\b",
            CameraMove.DOLLY_ZOOM,
            MoveDirection.NONE,
            MoveSpeed.MEDIUM,
        ),
        (
            r"\b(?:walks away|drives away|drives off|disappears|vanishes|alone|goodbye|fades away)\b",
            CameraMove.DOLLY_OUT,
            MoveDirection.NONE,
            MoveSpeed.SLOW,
        ),
    )
)
_ANGLE_RULES: tuple[tuple[re.Pattern[str], Angle], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), angle)
    for pattern, angle in (
        (
            r"\b(?:towering|looms?|looming|from below|menacing|towers over|giant|mighty)\b",
            Angle.LOW,
        ),
        (
            r"\b(?:from above|small|vulnerable|trapped|helpless|cowers?|cowering|lost|tiny)\b",
            Angle.HIGH,
        ),
        (r"\b(?:dizzy|disoriented|drunk|unhinged|off-kilter|delirious)\b", Angle.DUTCH),
        (r"\b(?:bird['’]?s[- ]eye|top-down|aerial|overhead)\b", Angle.OVERHEAD),
    )
)


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
            description=self.description[:MAX_TEXT],
            dialogue=self.dialogue[:MAX_TEXT] or None,
            characters=self.characters,
            size=self.size,
            angle=self.angle,
            movement=self.movement,
            direction=self.direction,
            speed=self.speed,
            duration=duration,
            int_ext=place.int_ext if place else IntExt.INT,
            location=place.name if place else "UNSPECIFIED",
            time_of_day=self.time,
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


def _design(
    text: str,
    characters: list[str],
    place: _Place | None,
    time: TimeOfDay,
    previous: ShotSize | None,
    opens_scene: bool,
) -> _Planned:
    """Frame one beat the way its language asks for."""
    shot = _Planned(description=_sentence(text), place=place, time=time, characters=characters)
    terms = _scan(text, story=True)
    talk = bool(_TALK_RE.search(text))
    if isinstance(size := terms.get(ShotSize), ShotSize):
        shot.size = size
    elif _OBJECT_RE.search(text) or _DETAIL_RE.search(text) or _PRODUCT_RE.match(text):
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
        shot.angle = next(
            (a for pattern, a in _ANGLE_RULES if pattern.search(text)), Angle.EYE_LEVEL
        )
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
            phrase = " ".join(tokens[i : i + n])
            cue = tokens[i + n] if i + n < len(tokens) else ""
            before = " ".join(tokens[max(0, i - 3) : i])
            if find_style(phrase) and (
                re.fullmatch(_STYLE_CUE + "s?", cue) or before.endswith("in the style of")
            ):
                return find_style(phrase)
    if _NOIR_CUES_RE.search(text):  # a femme fatale and a private eye are noir, unless told
        return find_style("film noir")
    return None


_LONGEST_FILM = MAX_SHOTS * MAX_DURATION


def _target_length(text: str) -> tuple[float | None, tuple[int, int] | None]:
    """The runtime a brief asks for; `InvalidValue` for one no shot list can run (a 10-hour film, a
    -5 second teaser), so a brief's length is never silently dropped or turned round."""
    for match in _TARGET_RE.finditer(text):
        # Read the amount inside the match, whichever of the two forms matched.
        amount = re.search(_AMOUNT, match.group(0), re.IGNORECASE)
        if amount is None:
            continue
        unit = (amount.group("u") or amount.group("au") or "").lower()
        if unit.startswith("h") and not _HOURS_FRAME_RE.match(text, match.end()):
            continue  # "a 24-hour diner scene" is the story's clock, not the film's length
        value = _duration_value(amount)
        said = re.sub(r"\s+", " ", amount.group().strip())
        if value <= 0:
            raise InvalidValue(
                f"A film can't run {said}: say how long it should be, e.g. 'a 30-second teaser'."
            )
        if value > _LONGEST_FILM:
            raise InvalidValue(
                f"A {said} film is longer than I can plan: a shot list runs at most "
                f"{_LONGEST_FILM / 60:g} minutes ({MAX_SHOTS} shots of up to {MAX_DURATION:g} s). "
                "Ask for something shorter, e.g. 'a 3-minute short'."
            )
        return value, match.span()
    return None, None


def _find_characters(text: str, places: set[str]) -> dict[str, str]:
    """Capitalised names that act in the brief → description ('' when none is given)."""
    lowered_words = set(re.findall(r"\b[a-z][a-z'’]+\b", text))
    styles = {w for name in style_names() for w in name.split()}
    cast: dict[str, str] = {}
    for match in _NAME_RE.finditer(text):
        words = match.group().replace(".", "").split()
        # Drop leading common words ("The", "Then") but keep honorifics ("Detective Cole").
        while (
            words
            and (words[0].lower() in _COMMON or words[0].lower() in lowered_words)
            and words[0].lower() not in _HONORIFICS
        ):
            words = words[1:]
        words = [w.removesuffix("'s").removesuffix("’s") for w in words]
        if not words or all(w.lower() in _HONORIFICS for w in words):
            continue
        name = " ".join(words)
        last = words[-1].lower()
        opens_sentence = re.search(r"(?:^|[.!?][\"”]?\s+|\n)$", text[: match.start()]) is not None
        acts = re.match(
            r"\s*(?:,|and\b|is\b|was\b|has\b|['’]s\b|[a-z]+(?:s|ed)\b)", text[match.end() :]
        )
        named_again = re.search(rf"[a-z,;:]\s+{re.escape(words[-1])}\b", text)
        if opens_sentence and len(words) == 1 and not acts and not named_again:
            continue  # "Kids run." / "Umbrellas open.": a plural noun, not a name
        preceding = text[max(0, match.start() - 12) : match.start()].lower()
        if (
            last in _COMMON
            or last in lowered_words
            or last in styles
            or (last in _LOCATION_KIND and not (len(words) > 1 and acts))  # "Vera Lane," acts
            or name.upper() in places
            or re.search(r"\b(?:in|at|to|from|into|near|across|a|an)\s+$", preceding)
            or _YEAR_RE.search(preceding[-7:])  # "1947 Los Angeles" is a place and a time
            or (len(words) > 1 and words[0].lower() in _PLACE_NAME_HEADS)
            or _YEAR_RE.match(text[match.end() :].lstrip(" ,"))  # "Paris, 1920"
        ):
            continue
        # "Cole" after "Detective Cole" is the same person.
        known = next((c for c in cast if words[-1] in _called(c) or name in _called(c)), None)
        if known is None:
            cast[name] = ""
    for match in (
        list(_PRE_APPOSITIVE_RE.finditer(text))
        + list(_APPOSITIVE_RE.finditer(text))
        + [m for s in _SENTENCES_RE.split(text) if (m := _DESCRIBES_RE.match(s.strip()))]
    ):
        described = next((c for c in cast if match.group("name") in _called(c)), None)
        if described and not cast[described]:
            cast[described] = _describe_text(match.group("desc"))
    return cast


def _called(name: str) -> set[str]:
    """What the brief calls a character: 'Nina Cole', 'Cole', 'Nina'; 'Detective Cole', 'Cole'."""
    words = name.split()
    called = {name, words[-1]}
    if len(words) > 1 and words[0].lower() not in _HONORIFICS:
        called.add(words[0])
    return called


def _find_places(text: str, *, sluglines_only: bool = False) -> Iterator[tuple[int, _Place]]:
    """Locations in order of mention: sluglines, 'in a rain-soaked alley', bare 'Kitchen.'"""
    for match in _SLUGLINE_RE.finditer(text):
        name = _tidy(match.group("loc")).upper()[:MAX_NAME]
        if name:
            kind = (
                IntExt.EXT
                if match.group("ie").upper().startswith("EXT")
                else (IntExt.INT_EXT if "/" in match.group("ie") else IntExt.INT)
            )
            yield match.start(), _Place(name, name.lower(), kind)
    if sluglines_only:  # a brief written in sluglines names its own sets
        return
    for match in _LOCATION_RE.finditer(text):
        if not _LOOK_RE.search(text[: match.start()]):  # "looks down at the city" is not a new set
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
    quoted = re.search(
        r"(?:titled|called|named|title)\s*:?\s*[\"“‘'](?P<t>[^\"”’']{1,150})[\"”’']",
        text,
        re.IGNORECASE,
    ) or re.match(r"\s*[\"“](?P<t>[^\"”]{1,150})[\"”]", text)
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
    return (
        " ".join(
            w if i and w.lower() in small else w[:1].upper() + w[1:] for i, w in enumerate(words)
        )
        or "Untitled"
    )


def _is_brief(text: str) -> bool:
    """Enough real words to plan from (rejects blanks, keyboard mash and lone symbols)."""
    words = re.findall(r"[A-Za-z][a-z'’-]*", text)
    if not words:
        return False
    known = sum(
        1
        for w in words
        if w.lower() in _COMMON
        or w.lower() in _LOCATION_KIND
        or _ACTION_RE.fullmatch(w)
        or _EMOTION_RE.fullmatch(w)
        or _TALK_RE.fullmatch(w)
        or w.lower() in _OBJECTS
        or w.lower() in _TIME_WORDS
    )
    return known >= 1 and len(words) >= 2


_BRIEF_HELP = (
    'Tell me the story in a sentence or two, e.g. "A 30-second noir teaser: Mia, a '
    'detective, walks through a rain-soaked alley at night, then finds a letter."'
)


# "A short documentary about a fisherman…" frames the film; nothing happens in it yet.
_FRAMING_RE = re.compile(
    rf"^(?:(?:a|an|the|this|our)\s+)?(?:[\w'’-]+\s+){{0,4}}?(?:{'|'.join(_FORMATS)}|documentary|doc)s?\s+"
    r"(?:about|of|following|on|profiling|portraying|celebrating|set in|where|(?-i:in\s+(?=[A-Z\d])))\b",
    re.IGNORECASE,
)
# A clause that already has its own subject does not borrow one ("Alarms flash; she seals the door").
_OWN_SUBJECT_RE = re.compile(
    r"^(?:she|he|they|it|we|i|you|a|an|the|his|her|their|its|this|that|these|those|someone|everyone|"
    r"nobody|no one|there|both|all|each|one|two|three|four|five)\b",
    re.IGNORECASE,
)
_PLURAL_DETS = {"two", "three", "four", "five", "six", "some", "several", "many", "both", "all"}
_NOUN_PHRASE_RE = re.compile(
    r"^(?P<det>the|a|an|two|three|four|five|six|some|several|many|both|all|his|her|their|its|our|my)\s+"
    r"(?P<words>(?:[a-z][\w'’-]*(?:\s+|[.!?]*$)){1,4})",
    re.IGNORECASE,
)
_IRREGULAR_PLURALS = {
    "children",
    "people",
    "men",
    "women",
    "kids",
    "police",
    "crowd",
    "family",
    "couple",
}


def _verb_like(word: str) -> bool:
    return bool(
        _ACTION_RE.fullmatch(word)
        or _EMOTION_RE.fullmatch(word)
        or _TALK_RE.fullmatch(word)
        or re.fullmatch(r"[a-z]+(?<!s)s|[a-z]+(?:ches|shes|sses)", word)
    )


def _subject(clause: str) -> str | None:
    """Who acts in a clause, as a following clause can say it: 'Mia', 'She', 'The kids'."""
    if pronoun := re.match(r"(she|he|they)\s+", clause, re.IGNORECASE):
        return pronoun.group(1).capitalize()
    if phrase := _NOUN_PHRASE_RE.match(clause):
        det = phrase.group("det").lower()
        words = [w.strip(".,!?") for w in phrase.group("words").split()]
        plural = det in _PLURAL_DETS
        for k in range(min(3, len(words) - 1)):
            noun, verb = words[k].lower(), words[k + 1].lower()
            if (
                plural
                and (noun.endswith("s") or noun in _IRREGULAR_PLURALS)
                and (
                    _ACTION_RE.fullmatch(verb)
                    or _EMOTION_RE.fullmatch(verb)
                    or _TALK_RE.fullmatch(verb)
                    or not verb.endswith("s")
                )
            ):
                return "The " + " ".join(words[: k + 1])
            if not plural and _verb_like(verb):
                return "The " + " ".join(words[: k + 1])
        return None
    names = re.match(r"(?:[A-Z][\w'’]*\s+){1,2}", clause)
    if (
        names
        and not _ACTION_RE.fullmatch(names.group().split()[0])
        and names.group().split()[0].lower() not in _COMMON
    ):
        return names.group().strip()
    return None


# "…, and he follows her into the alley" / "… while Jules waits in the van": a second subject.
_AND_PRONOUN_RE = re.compile(
    r"(?:,\s+and|,?\s+while|,\s+as)\s+(?=(?:[Hh]e|[Ss]he|[Tt]hey|[Ww]e|I|[A-Z][a-z'’]+)\s+[a-z])"
)
_WHERE_RE = re.compile(rf"\b(?:{_LOC_WORDS})\b(?P<where>,?\s+where\s+)", re.IGNORECASE)


def _split_moves(clause: str) -> list[str]:
    """'…, and he follows her into the alley where a shot rings out': the move to a new set is its
    own beat, and what happens once there is another."""
    # "Nina meets her crew in a warehouse: Rex and Jules study the blueprints" is two beats.
    colon = re.search(r":\s+(?=[A-Z])", clause)
    if (
        colon
        and _setting_lead(clause) is None
        and _has_action(clause[: colon.start()])
        and _has_action(clause[colon.end() :])
    ):
        return _split_moves(clause[: colon.start()]) + _split_moves(clause[colon.end() :])
    parts = [clause]
    for joint in reversed(list(_AND_PRONOUN_RE.finditer(clause))):
        before, after = clause[: joint.start()], clause[joint.end() :]
        known = {p.name for _, p in _find_places(before)}
        if any(p.name not in known for _, p in _find_places(after)):
            parts[0:1] = [before, after]
            clause = before
    split: list[str] = []
    for part in parts:
        where = _WHERE_RE.search(part)
        rest = part[where.end() :] if where else ""
        if where and _has_action(rest):
            split += [part[: where.start("where")], rest]
        else:
            split.append(part)
    return split


def _strip_appositives(text: str) -> str:
    """'a tired private eye, Mack Doyle, meets Mia, a detective, …' → 'Mack Doyle meets Mia …'."""
    text = _PRE_APPOSITIVE_RE.sub(
        lambda m: m.group("name") + (" " if m.group("close") else ""), text
    )
    return _APPOSITIVE_RE.sub(lambda m: m.group("name"), text)


def _has_action(clause: str) -> bool:
    """A clause with a subject and a verb of its own ('a customer smiles'), not a list item ('a gun')."""
    return _subject(clause) is not None


def _split_beats(body: str) -> list[str]:
    beats: list[str] = []
    for sentence in _SENTENCES_RE.split(body):
        sentence = _strip_appositives(sentence)
        if _FRAMING_RE.match(sentence.strip()) and not _ACTION_RE.search(sentence):
            continue
        words = re.findall(r"[\w'’-]+", sentence.lower())
        if 0 < len(words) <= 6 and words[-1] in _FORMATS and not _ACTION_RE.search(sentence):
            continue  # "A heist thriller." names the genre; nothing happens in it
        clauses: list[str] = []
        for clause in re.split(r"\s*;\s*|,?\s+and then\s+|,?\s+then\s+|\s+[—–]\s+", sentence):
            # "a barista pours latte art, a customer smiles, logo on the cup": three beats.
            parts = re.split(
                r",\s+(?=(?:and\s+)?(?:a|an|the|his|her|their)\s+|(?:and\s+)?logo\b|tagline\b)",
                clause,
            )
            merged = [parts[0]]
            for part in parts[1:]:
                if (
                    (_has_action(re.sub(r"^and\s+", "", part)) or _PRODUCT_RE.match(part))
                    and _has_action(merged[-1])
                    or _PRODUCT_RE.match(part)
                ):
                    merged.append(re.sub(r"^and\s+", "", part))
                else:
                    merged[-1] += ", " + part
            clauses += [c for part in merged for c in _split_moves(part)]
        for clause in clauses:
            clause = _tidy(re.sub(r"^(?:and\s+)?then,?\s+", "", _tidy(clause), flags=re.IGNORECASE))
            if not re.search(r"[A-Za-z]{2}", clause):
                continue
            words = [w.strip(",.!?").lower() for w in clause.split()]
            if all(
                w in _COMMON
                or w in _FORMATS
                or w in _NUMBER_WORDS
                or find_style(w)
                or not w.isalpha()
                for w in words
            ):
                continue  # "Short, cyberpunk." frames the brief; nothing happens in it
            # "…, then crash into a hedge" borrows the subject of the clause before it.
            if (
                beats
                and clause[0].islower()
                and not _OWN_SUBJECT_RE.match(clause)
                and not _PRODUCT_RE.match(clause)
                and (subject := _subject(beats[-1]))
            ):
                clause = f"{subject} {clause}"
            beats.append(clause)
    return beats


# fmt: off
_PLURAL_SETS = {"woods", "streets", "docks", "fields", "mountains", "cliffs", "hills", "tracks",
                "ruins", "suburbs", "shallows", "wetlands", "dunes", "rapids", "falls"}
# fmt: on


def _the_set(description: str) -> str:
    """'a smoky jazz bar', but 'the woods': a plural set takes the article a crew would say."""
    words = description.split()
    return f"the {description}" if words and words[-1] in _PLURAL_SETS else _article(description)


_SIDE_RE = re.compile(r"^(outside|outdoors|inside|indoors)\b", re.IGNORECASE)
_WHEN = {TimeOfDay.MORNING: " in the morning", TimeOfDay.EVENING: " in the evening"}
_ARRIVAL_RE = re.compile(
    r"\b(?:arrives?|steps? (?:out|in|up)|enters?|walks? (?:in|up)|approaches|joins?|comes? (?:in|over|up)|"
    r"appears?|turns? up|shows? up|meets?)\b",
    re.IGNORECASE,
)
_LOC_WORD_RE = re.compile(rf"\b(?:{_LOC_WORDS})\b", re.IGNORECASE)
_LEAD_RE = re.compile(
    rf"^(?P<lead>(?:(?:back|out|later|then|and)\s+)?(?:{_LOC_PREP}|{_alternation(list(_TIME_WORDS))}|during|after|"
    r"before|by|the next|next|that|one|later|meanwhile|outside|inside|outdoors|indoors|suddenly|finally|soon|"
    r"moments)\b[^,:;]{0,60}?)\s*[,:]\s+(?=\S)",
    re.IGNORECASE,
)
_LEAD_WORDS_RE = re.compile(
    r"^(?:later|meanwhile|outside|outdoors|inside|indoors|suddenly|finally|soon|moments later|"
    r"that (?:night|morning|evening)|the next (?:day|morning|night|evening)|next (?:day|morning))$",
    re.IGNORECASE,
)


# "Rain-soaked 1947 Los Angeles:" / "Tokyo, 2049:" opens a brief on its world, not on a beat.
_SETTING_LEAD_RE = re.compile(r"^(?P<lead>[^.:;,\n]{1,80}?(?:,\s*[^.:;,\n]{1,30})?):\s+(?=\S)")


def _proper_place(words: str) -> bool:
    """'1947 Los Angeles', 'New York', 'Paris' after 'In': a named place or period, never a person."""
    names = re.findall(r"(?<![\w'’])[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*(?!['’]s)", words)
    return bool(
        _YEAR_RE.search(words)
        or any(n.split()[0].lower() in _PLACE_NAME_HEADS and " " in n for n in names)
    )


def _setting_lead(text: str) -> re.Match[str] | None:
    """A leading 'PLACE:' that sets the world: no one acts in it, and it names a place or time."""
    lead = _SETTING_LEAD_RE.match(text)
    if lead is None:
        return None
    words = lead.group("lead").strip()
    lowered = [w for w in re.findall(r"[\w'’-]+", words) if w[:1].islower()]
    if (
        len(words.split()) > 8
        or _ACTION_RE.search(words)
        or _EMOTION_RE.search(words)
        or _TALK_RE.search(words)
        or any(_verb_like(w) and w not in _LOCATION_KIND for w in lowered)
        or re.match(r"(?:a|an|the)\s", text[lead.end() :])
        and not _proper_place(words)
    ):
        return None
    if _proper_place(words) or _TIME_RE.search(words) or _LOC_WORD_RE.search(words):
        return lead
    return None


def _story_text(beat: str) -> str:
    """The beat as a shot description: the slugline already says 'At home,' / 'Night in an alley:'."""
    text = beat
    if (world := _setting_lead(text)) is not None:
        text = text[world.end() :]
    while (lead := _LEAD_RE.match(text)) is not None:
        words = lead.group("lead").strip()
        setting = (
            _TIME_RE.search(words)
            or _LOC_WORD_RE.search(words)
            or _LEAD_WORDS_RE.match(words)
            or _proper_place(words)
        )
        if (
            len(words.split()) > 7
            or not setting
            or _ACTION_RE.search(words)
            or _EMOTION_RE.search(words)
        ):
            break
        text = text[lead.end() :]
    return text if len(text.split()) >= 2 else beat


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
    framing = header and re.search(
        rf"\b(?:{'|'.join(_FORMATS)}|title|titled|called)s?\b", header.group("h"), re.IGNORECASE
    )
    if (
        header
        and framing
        and len(header.group("h").split()) <= 12
        and not _ACTION_RE.search(header.group("h"))
    ):
        body = text[header.end() :]
    elif target_span:
        body = _blank(text, [target_span])
    body = re.sub(
        r"(?:titled|called|named)\s*:?\s*[\"“‘'][^\"”’']{1,150}[\"”’']|\btitle\s*:[^.\n]*\.?",
        " ",
        body,
        flags=re.IGNORECASE,
    )

    body = re.sub(r"\b(INT|EXT)\.(?=\s+[A-Z])", r"\1", body)  # keep "INT. KITCHEN" in one sentence
    written = bool(_SLUGLINE_RE.search(body))
    mentions = sorted(_find_places(body, sluglines_only=written), key=lambda item: item[0])
    places: dict[str, _Place] = {}
    for _, found in mentions:
        places.setdefault(found.name, found)
    # "Rain-soaked 1947 Los Angeles:" is the world the film plays in: its establishing shot says
    # so, and nothing in it is cast.
    world_text = ""
    lead_spans = []
    for sentence in re.finditer(r"[^.!?\n]+", body):
        start = sentence.start() + len(sentence.group()) - len(sentence.group().lstrip())
        said = body[start : sentence.end()]
        lead = _setting_lead(said)
        if lead is None and (lead := _LEAD_RE.match(said)) and not _proper_place(lead["lead"]):
            lead = None  # "In 1920s Paris, …" is the same world, said as a lead-in
        if lead is not None:
            lead_spans.append((start, start + lead.end("lead")))
            if not world_text and not _LOC_WORD_RE.search(lead["lead"]):
                world_text = _tidy(re.sub(r"^(?:in|at)\s+", "", lead["lead"], flags=re.I))
    cast = _find_characters(_blank(body, lead_spans), set(places))
    time = TimeOfDay.DAY  # until the brief says otherwise; beats carry it forward

    planned: list[_Planned] = []
    current: _Place | None = places[mentions[0][1].name] if mentions else None
    setting_text: dict[str, str] = {}
    seen: set[str] = set()
    last_people: list[str] = []
    scene_people: list[str] = []  # who is already on screen in the current scene
    for beat in _split_beats(body):
        described = _DESCRIBES_RE.match(beat)
        if described and any(described.group("name") in _called(c) for c in cast):
            continue  # "Mia is a red-haired detective." describes, it does not happen
        beat = _strip_appositives(beat)
        beat_places = [
            places.setdefault(p.name, p)
            for _, p in sorted(_find_places(beat, sluglines_only=written), key=lambda item: item[0])
        ]
        if beat_places:
            rooms = [p for p in beat_places if p.name not in _BUILDINGS and p.int_ext is IntExt.INT]
            current = rooms[0] if beat_places[0].name in _BUILDINGS and rooms else beat_places[0]
        elif current is not None and (side := _SIDE_RE.match(beat)) is not None:
            kind = IntExt.EXT if side.group(1).lower() in ("outside", "outdoors") else IntExt.INT
            if (
                current.int_ext is not kind
            ):  # "Outside, her father hugs her": the same place, outdoors
                current = _Place(current.name, current.description, kind)
        if (beat_time := _TIME_RE.search(beat)) is not None:
            time = _TIME_WORDS[beat_time.group(1).lower()]
        if (slugline := _SLUGLINE_RE.search(beat)) is not None:
            time = aliases(TimeOfDay).get(fold(slugline.group("tod") or ""), time)
            continue  # the slugline sets the scene; its establishing shot comes with the next beat
        names = [
            c
            for c in cast
            if any(re.search(rf"\b{re.escape(word)}\b", beat) for word in _called(c))
        ]
        if not names and (
            _PRONOUNS_MANY.search(beat)
            or (_PRONOUNS_SHE.search(beat) and _PRONOUNS_HE.search(beat))
        ):
            names = last_people[-2:]  # "they", or "she hands him": both of them
        elif not names and _PRONOUNS_ONE.search(beat):
            names = last_people[-1:]
        sudden = not names and _SUDDEN_RE.search(beat) and last_people
        if names:
            last_people = [p for p in last_people if p not in names] + names
        setting_only = (
            not names
            and len(beat.split()) <= 8
            and (beat_places or _TIME_RE.search(beat))
            and not _ACTION_RE.search(beat)
            and not _OBJECT_RE.search(beat)
        )
        key = current.name if current else ""
        if setting_only:
            setting_text.setdefault(key, beat)
            continue
        scene_changed = not planned or (planned[-1].place is not current)
        if scene_changed:
            scene_people = []
        if current is not None and f"{current.int_ext}. {current.name}" not in seen:
            seen.add(f"{current.int_ext}. {current.name}")
            wide = ShotSize.EXTREME_WIDE if current.int_ext is IntExt.EXT else ShotSize.WIDE
            when = "" if time is TimeOfDay.DAY else _WHEN.get(time, f" at {time.value.lower()}")
            what = f"Establishing: {_the_set(current.description)}{when}"
            if (shown := setting_text.get(key)) and not _BARE_LOCATION_RE.match(shown):
                first = shown.split()[0].strip(",.:;")
                proper = first[1:2].isupper() or any(first in c.split() for c in cast)
                what = f"Establishing: {shown if proper else shown[:1].lower() + shown[1:]}"
            if world_text:
                what = f"{_sentence(what)} {_sentence(world_text)}"  # the world, said once
                world_text = ""
            planned.append(
                _Planned(
                    description=_sentence(what),
                    place=current,
                    time=time,
                    size=wide,
                    movement=CameraMove.PAN if current.int_ext is IntExt.EXT else CameraMove.STATIC,
                    direction=MoveDirection.RIGHT
                    if current.int_ext is IntExt.EXT
                    else MoveDirection.NONE,
                    speed=MoveSpeed.SLOW,
                    establishing=True,
                )
            )
            scene_changed = False
        previous = planned[-1].size if planned else None
        shot = _design(
            _story_text(beat),
            names,
            current,
            time,
            previous,
            opens_scene=scene_changed and bool(planned),
        )
        if sudden and _scan(beat, story=True).get(CameraMove) is None:
            # "A shot rings out": whip round to whoever hears it, close on the reaction.
            shot.characters = last_people[-2:]
            shot.size = _vary(
                ShotSize.CLOSE_UP if len(shot.characters) == 1 else ShotSize.MEDIUM, previous
            )
            shot.movement, shot.direction, shot.speed = (
                CameraMove.WHIP_PAN,
                MoveDirection.RIGHT,
                MoveSpeed.FAST,
            )
        planned.append(shot)
        # Someone arrives where another is waiting: cover the meeting over the waiting one's shoulder.
        waiting = [p for p in scene_people if p not in names]
        arriving = [n for n in names if n not in scene_people]
        if waiting and arriving and _ARRIVAL_RE.search(beat):
            planned.append(
                _Planned(
                    description=_sentence(
                        f"Over {waiting[-1]}'s shoulder: {arriving[0]} faces {waiting[-1]}"
                    ),
                    place=current,
                    time=time,
                    characters=[waiting[-1], arriving[0]],
                    size=ShotSize.OVER_THE_SHOULDER,
                    coverage=True,
                )
            )
        scene_people += [n for n in names if n not in scene_people]
    if not planned and setting_text:
        for key, what in setting_text.items():
            place = places.get(key)
            planned.append(
                _Planned(
                    description=_sentence(what),
                    place=place,
                    time=time,
                    size=ShotSize.EXTREME_WIDE,
                    establishing=True,
                )
            )
    if not planned:
        raise InvalidValue(f"I couldn't find any action in that brief. {_BRIEF_HELP}")

    planned = _fit_count(planned, target)
    for earlier, later in zip(planned, planned[1:], strict=False):  # merging may have paired sizes
        if earlier.place is later.place and not later.establishing:
            later.size = _vary(later.size, earlier.size)
    durations = [_default_duration(s.size, s.movement, s.speed) for s in planned]
    if target:
        if target > len(planned) * MAX_DURATION:
            raise InvalidValue(
                f"A {target:g}-second film needs more story than this brief has: it plans as "
                f"{len(planned)} shots, which run at most {len(planned) * MAX_DURATION:g} s. Add "
                "more action to the brief or ask for a shorter film."
            )
        durations = fit_durations(durations, target)

    title = _title_from(text, list(cast), list(places.values()))[: MAX_NAME * 2]
    logline = _tidy(body)
    if len(logline) > 240:
        logline = logline[:240].rsplit(" ", 1)[0] + "…"
    edits: list[Edit] = [
        SetProjectInfo(title=title or "Untitled", logline=logline, target_length=target)
    ]
    edits += [SetCharacter(name=name[:MAX_NAME], description=desc) for name, desc in cast.items()]
    used = dict.fromkeys(
        s.place.name for s in planned if s.place
    )  # "at home" that never plays is no set
    edits += [
        SetLocation(name=p.name, description=p.description[:MAX_TEXT])
        for p in places.values()
        if p.name in used
    ]
    if style_name:
        edits.append(SetStyle(preset=style_name))
    edits.append(
        ReplaceShots(shots=[s.changes(d) for s, d in zip(planned, durations, strict=True)])
    )
    shotlist = ShotList()
    for edit in edits:
        shotlist = apply_edit(shotlist, edit)
    return shotlist


def _fit_count(planned: list[_Planned], target: float | None) -> list[_Planned]:
    """Merge beats when there are too many for the runtime; add coverage when too few."""
    scenes = sum(1 for s in planned if s.establishing)
    most = (
        max(12, scenes + 8)
        if target is None
        else max(1, min(max(12, math.ceil(target / 6)), math.floor(target / 1.5)))
    )
    while len(planned) > most and (extra := next((s for s in planned if s.coverage), None)):
        planned.remove(extra)  # an extra angle goes before any beat is merged
    while len(planned) > most:
        # Merge the adjacent pair in one scene whose merged shot stays shortest; a scene keeps its
        # establishing shot.
        beats = [
            i
            for i in range(len(planned) - 1)
            if not planned[i].establishing and not planned[i + 1].establishing
        ]
        pairs = (
            [i for i in beats if planned[i].place is planned[i + 1].place]
            or beats
            or list(range(len(planned) - 1))
        )
        i = min(pairs, key=lambda k: len(planned[k].description) + len(planned[k + 1].description))
        first, second = planned[i], planned[i + 1]
        keep = second if first.establishing else first
        keep.description = _sentence(f"{first.description} {second.description}")
        keep.characters = list(dict.fromkeys(first.characters + second.characters))
        keep.establishing = False
        planned[i : i + 2] = [keep]
    # A long film wants more set-ups, not 15-second shots: about one every 10 s.
    least = 4 if target is None else max(4, math.ceil(target / 10))
    least = min(least, MAX_SHOTS, len(planned) * (2 if target is None else 8))
    index = 0
    while len(planned) < least:
        source = [s for s in planned if not (s.establishing or s.coverage)] or planned
        beat = source[index % len(source)]
        spot = planned.index(beat) + 1
        previous = beat.size
        neighbour = planned[spot].size if spot < len(planned) else None
        options = (
            ShotSize.CLOSE_UP,
            ShotSize.MEDIUM_WIDE,
            ShotSize.MEDIUM,
            ShotSize.MEDIUM_CLOSE_UP,
        )
        size = next(s for s in options if s not in (previous, neighbour))
        who = (
            _and(beat.characters)
            if beat.characters
            else (
                (_subject(beat.description) or "The scene").lower()
                if not beat.description.startswith(("They ", "She ", "He "))
                else "the scene"
            )
        )
        angle = {
            ShotSize.CLOSE_UP: "Close on",
            ShotSize.MEDIUM_WIDE: "Wider on",
            ShotSize.MEDIUM: "Reverse angle on",
            ShotSize.MEDIUM_CLOSE_UP: "Closer on",
        }[size]
        planned.insert(
            spot,
            _Planned(
                description=_sentence(f"{angle} {who}: {beat.description}"),
                place=beat.place,
                time=beat.time,
                characters=list(beat.characters),
                size=size,
                movement=CameraMove.DOLLY_IN if size is ShotSize.CLOSE_UP else CameraMove.STATIC,
                speed=MoveSpeed.SLOW,
                coverage=True,
            ),
        )
        index += 1
    return planned
