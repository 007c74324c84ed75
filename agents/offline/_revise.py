"""Revisions: reading plain directions ("shot 3: close-up", "swap 1 and 2") into edits."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.offline._grammar import _LADDER, _size_name, fit_durations
from agents.offline._plan import _COMMON, _LOCATION_KIND, _default_duration, _design, _detect_style
from agents.offline._text import (
    _BARE_NUMBER_RE,
    _DURATION_RE,
    _LENS_RE,
    _NUM,
    _ORD,
    _UNIT_AHEAD,
    _and,
    _article,
    _blank,
    _describe_text,
    _duration_value,
    _lens_value,
    _number,
    _refs,
    _scan,
    _seconds,
    _sentence,
    _tidy,
)
from studio.edits import (
    AddShot,
    Edit,
    MoveShot,
    RemoveShot,
    SetCharacter,
    SetLocation,
    SetProjectInfo,
    SetStyle,
    ShotChanges,
    SplitShot,
    SwapShots,
    UpdateShot,
    apply_edit,
)
from studio.errors import EditError, InvalidValue
from studio.models import (
    MAX_DURATION,
    MAX_NAME,
    MIN_DURATION,
    Shot,
    ShotList,
    validated,
)
from studio.styles import find_style
from studio.vocab import (
    Angle,
    CameraMove,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ShotSize,
    TimeOfDay,
    Transition,
)

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
    re.IGNORECASE,
)
_FILLER_END = re.compile(
    r"(?:[\s,]*\b(?:please|pls|thanks|thank you|thx|for me)\b)+[\s.!?]*$|[\s.!?]+$", re.IGNORECASE
)
_BOUNDARY_RE = re.compile(
    r"\s*(?:;|\n|(?<=[.!?])\s+|,?\s+and then\s+|,?\s+then\s+|,?\s+also\s+|"
    r"(?:,\s*|,?\s+and\s+)(?=(?:make|set|change|give|add|insert|delete|remove|cut|lose|drop|swap|switch|"
    r"move|split|render|title|call|style|lengthen|shorten|have|use|put|it\b|its\b|it['’]s\b)))",
    re.IGNORECASE,
)
_SEGMENT_RE = re.compile(
    r"\n+|(?<=[.!?])\s+(?=(?:shot|make|set|change|swap|switch|move|delete|remove|cut|add|insert|split|"
    r"render|title|style|give|put|lose|drop|call)\b)",
    re.IGNORECASE,
)
_UNDO_RE = re.compile(
    r"^(?:undo|go back|revert|roll ?back|take (?:that|it) back|scratch that|back up)"
    r"(?:\s+(?:that|it|this|the last (?:change|edit|one|thing)|last (?:change|edit)|one step|a step|please))*$",
    re.IGNORECASE,
)
_RENDER_RE = re.compile(r"\b(?:re-?render|render|generate)\b", re.IGNORECASE)
_REMOVE_RE = re.compile(
    r"\b(?:delete|remove|cut|lose|drop|kill|scrap|ditch|bin|axe|get rid of|take out|strike)\b",
    re.IGNORECASE,
)
_BARE_REMOVE_RE = re.compile(
    rf"^(?:delete|remove|cut|lose|drop|kill|scrap|ditch|axe|strike)\s+#?(?P<n>{_ORD}|{_NUM})\s*$",
    re.IGNORECASE,
)
_TRANSITION_CUT_RE = re.compile(
    r"\b(?:cut to|smash cut|match cut|hard cut|jump cut|straight cut|cut on)\b", re.IGNORECASE
)
_SWAP_RE = re.compile(r"\b(?:swap|switch|exchange|flip|trade|interchange)\b", re.IGNORECASE)
_MOVE_RE = re.compile(r"\b(?:move|put|bring|place|shift|push)\b", re.IGNORECASE)
_SPLIT_RE = re.compile(r"\b(?:split|break up|divide)\b", re.IGNORECASE)
_TITLE_RE = re.compile(
    r"^(?:(?:set|change|make)\s+the\s+title\s+(?:to\s+)?|(?:the\s+)?(?:film\s+|project\s+)?title\s*(?:is|:|=|to)?\s*|"
    r"(?:call|name|rename|retitle)\s+(?:it|the film|the project|this)\s+(?:to\s+)?)(?P<t>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_ADD_RE = re.compile(
    r"^(?:add|insert|append|include|put in|we need|give me)\s+(?P<what>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_ADD_AFTER_RE = re.compile(
    rf"^(?P<pos>(?:right\s+|just\s+)?(?:after|before)\s+(?:shot\s*|the\s+)?#?(?:{_NUM}|{_ORD})(?:\s+shot)?|"
    r"at the (?:start|beginning|end|top|front|opening))\s*,?\s*(?:add|insert|put|include)\s+(?P<what>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_POSITION_RE = re.compile(
    rf"\b(?:(?:right|just)\s+)?(?P<rel>after|before)\s+(?:shot\s*|the\s+)?#?(?P<n>{_NUM}|{_ORD})(?:\s+shot)?\b"
    r"|\b(?P<start>(?:at|to)\s+the\s+(?:start|beginning|top|front|opening)|first)\b"
    r"|\b(?P<end>(?:at|to)\s+the\s+(?:end|bottom|close)|last)\b"
    rf"|\b(?:as|at|to|in)\s+(?:position|slot|spot|shot)?\s*#?(?P<at>{_NUM})\b{_UNIT_AHEAD}",
    re.IGNORECASE,
)
_FIELD_TEXT_RE = re.compile(
    r"^(?P<ref>.{1,40}?)\s*[,:-]?\s*\b(?P<field>description|action|dialogue|line|sound|notes?|characters|cast)"
    r"\s*(?::|=|\bto\b|\bis\b)\s*(?P<text>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_CHARACTER_RE = re.compile(
    r"^(?:the\s+)?(?:character\s+)?(?P<name>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2})\s*"
    r"(?::|=|\bis\b|\bshould be\b|\blooks like\b)\s+(?P<desc>.+)$",
    re.DOTALL,
)
_NAMED_CHARACTER_RE = re.compile(
    r"^(?:the\s+)?character\s+(?P<name>[\w'’.-]+(?:\s+[\w'’.-]+)?)\s*(?::|=|\bis\b|\bshould be\b)\s+(?P<desc>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_LOCATION_DESC_RE = re.compile(
    r"^(?:the\s+)?(?:location|set|place)\s+(?:called\s+|named\s+)?(?P<name>.{1,80}?)\s*"
    r"(?::|=|\bis\b|\bshould be\b|\blooks like\b)\s+(?P<desc>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_STYLE_RE = re.compile(
    r"^(?:(?:the\s+)?(?:style|look)\s*(?::|=|\bis\b|\bto\b)?\s*(?P<a>.+)|"
    r"(?:make|have)\s+(?:it|this|the film|everything|the whole thing)\s+(?:look\s+|feel\s+)?(?:more\s+)?"
    r"(?:like\s+)?(?:a\s+|an\s+|more\s+)?(?P<b>.+?)(?:\s+(?:style|look|movie|film))?|"
    r"(?:go|switch|change it|change)\s+(?:to\s+|for\s+)?(?:a\s+)?(?P<c>.+?)(?:\s+(?:style|look))?|"
    r"(?:in\s+)?the\s+style\s+of\s+(?P<d>.+)|(?P<e>.+?)\s+(?:style|look)|(?P<f>.+))$",
    re.IGNORECASE | re.DOTALL,
)
_RELATIVE_RE = re.compile(
    r"\b(?P<much>a bit |a little |slightly |a touch |much |a lot |way )?"
    r"(?P<word>longer|shorter|tighter|closer|wider|looser|slower|faster|quicker)\b",
    re.IGNORECASE,
)
_FILM_LENGTH_RE = re.compile(
    r"\b(?:make\s+(?:it|the\s+(?:film|video|cut|whole thing|piece|edit|project))|target|runtime|"
    r"running time|total|overall|whole thing|the film|the video|the cut)\b",
    re.IGNORECASE,
)


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
    move_changed = (before.movement, before.direction, before.speed) != (
        after.movement,
        after.direction,
        after.speed,
    )
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
        parts.append(
            {
                Angle.DUTCH: "has a dutch angle",
                Angle.OVERHEAD: "is shot overhead",
                Angle.EYE_LEVEL: "is back at eye level",
            }.get(after.angle, f"is shot from {_article(after.angle.value)}")
        )
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
    factor = {
        "": 1.5,
        "a bit": 1.25,
        "a little": 1.25,
        "slightly": 1.25,
        "a touch": 1.25,
        "much": 2.0,
        "a lot": 2.0,
        "way": 2.0,
    }[much.strip().lower()]
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
        changes.setdefault("lens_mm", _lens_value(match))
        spans.append(match.span())
    relative = _RELATIVE_RE.search(text)
    for match in _DURATION_RE.finditer(text):
        value = _duration_value(match)
        after = text[match.end() : match.end() + 12].lower()
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
                raise EditError(
                    f"Shot {shot.number} is already {_seconds(shot.duration)}, as "
                    f"{'long' if word == 'longer' else 'short'} as a shot can be."
                )
        elif word in ("tighter", "closer", "wider", "looser"):
            step = (2 if much.strip().lower() in ("much", "a lot", "way") else 1) * (
                1 if word in ("tighter", "closer") else -1
            )
            index = _ladder_index(shot.size) + step
            if not 0 <= index < len(_LADDER):
                raise EditError(
                    f"Shot {shot.number} is already {_article(_size_name(shot.size))}; it can't go "
                    f"{word}."
                )
            changes["size"] = _LADDER[index]
        else:
            speeds = list(MoveSpeed)
            if shot.movement is CameraMove.STATIC and "movement" not in changes:
                raise EditError(
                    f"Shot {shot.number} is static; give it a move first, e.g. "
                    f"'slow dolly in on shot {shot.number}'."
                )
            index = speeds.index(shot.speed) + (-1 if word == "slower" else 1)
            changes["speed"] = speeds[max(0, min(len(speeds) - 1, index))]
        spans.append(relative.span())
    rest = _blank(text, spans)
    terms = _scan(rest)
    fields = {
        ShotSize: "size",
        Angle: "angle",
        CameraMove: "movement",
        MoveSpeed: "speed",
        TimeOfDay: "time_of_day",
        IntExt: "int_ext",
        Transition: "transition",
    }
    for enum, name in fields.items():
        term = terms.get(enum)
        if term is not None:
            changes[name] = term
    if "movement" in changes:
        direction = terms.get(MoveDirection) or terms.hinted_direction
        if direction is not None:
            changes["direction"] = direction
    elif (
        direction := terms.get(MoveDirection)
    ) is not None and shot.movement is not CameraMove.STATIC:
        changes["direction"] = direction
    if re.search(r"\b(?:from below)\b", rest, re.IGNORECASE):
        changes.setdefault("angle", Angle.LOW)
    elif re.search(r"\b(?:from above)\b", rest, re.IGNORECASE):
        changes.setdefault("angle", Angle.HIGH)
    if "speed" in changes and "movement" not in changes and shot.movement is CameraMove.STATIC:
        raise EditError(
            f"Shot {shot.number} is static, so it has no speed; name a move, e.g. "
            f"'slow push in on shot {shot.number}'."
        )
    return changes


class _Reader:
    """Reads one message against the shot list it was written for, clause by clause."""

    def __init__(self, original: ShotList, context: int | None) -> None:
        self.original = original
        self.current = original
        self.recent = context  # the shot the conversation was last about
        self.context: int | None = None  # the shot an earlier clause of this message named
        self.steps: list[_Step] = []
        self.cut = False  # a shot was cut earlier in this message: "it" now means the film

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
        if title and not _refs(text[: title.start("t")], 99):
            name = _tidy(title.group("t"))[: MAX_NAME * 2]
            if name:
                self.add(
                    _Step(
                        [SetProjectInfo(title=name)],
                        lambda _b, a: f"The film is now titled “{a.title}”.",
                    )
                )
                return True
        if (match := _FIELD_TEXT_RE.match(text)) and (numbers := self.refs(match.group("ref"))):
            self.set_text_field(numbers, match.group("field").lower(), _tidy(match.group("text")))
            return True
        if (match := _LOCATION_DESC_RE.match(text)) or (match := self.known_location(text)):
            name, desc = _tidy(match.group("name")), _describe_text(match.group("desc"))
            if name and desc:
                self.add(
                    _Step(
                        [SetLocation(name=name[:MAX_NAME], description=desc)],
                        lambda _b, a: f"Location {name.upper()}: {_location_desc(a, name)}.",
                    )
                )
                return True
        if (match := _NAMED_CHARACTER_RE.match(text)) or (match := self.character_match(text)):
            name, desc = _tidy(match.group("name")), _describe_text(match.group("desc"))
            if name and desc:
                self.add(
                    _Step(
                        [SetCharacter(name=name[:MAX_NAME], description=desc)],
                        lambda _b, a: f"{name} is now {_character_desc(a, name)}.",
                    )
                )
                return True
        add = _ADD_AFTER_RE.match(text)
        if add:
            self.add_shot(f"{add.group('pos')} {add.group('what')}")
            return True
        add = _ADD_RE.match(text)
        if (
            add
            and re.search(
                r"\bshot\b|:|\binsert\b|\bcutaway\b|\bof\b|\bafter\b|\bbefore\b|\bat the\b",
                add.group("what"),
                re.IGNORECASE,
            )
            and find_style(_tidy(add.group("what"))) is None
        ):
            self.add_shot(add.group("what"))
            return True
        return False

    def known_location(self, text: str) -> re.Match[str] | None:
        for location in self.current.locations:
            match = re.match(
                rf"^(?:the\s+)?(?P<name>{re.escape(location.name)})\s*(?::|=|\bis\b|\blooks like\b)\s+"
                r"(?P<desc>.+)$",
                text,
                re.IGNORECASE | re.DOTALL,
            )
            if match:
                return match
        return None

    def character_match(self, text: str) -> re.Match[str] | None:
        for character in self.current.characters:
            match = re.match(
                rf"^(?P<name>{re.escape(character.name)})\s*(?::|=|\bis\b|\bshould be\b|\blooks like\b)\s+"
                r"(?P<desc>.+)$",
                text,
                re.IGNORECASE | re.DOTALL,
            )
            if match:
                return match
        match = _CHARACTER_RE.match(text)
        if match is None:
            return None
        words = match.group("name").split()
        lowered = [w.lower().rstrip(".") for w in words]
        if (
            any(w in _COMMON or w in _LOCATION_KIND for w in lowered)
            or any(
                w in ("shot", "style", "title", "location", "film", "it", "render", "scene")
                for w in lowered
            )
            or find_style(match.group("name"))
            or _scan(match.group("name")).values
        ):
            return None
        return match

    def set_text_field(self, numbers: list[int], name: str, value: str) -> None:
        key = {
            "action": "description",
            "line": "dialogue",
            "note": "notes",
            "cast": "characters",
        }.get(name, name)
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
                position = _number(place.group("at"), count, kind="position")
            what = _blank(what, [place.span()])
        kind, _, description = what.partition(":")
        if not description.strip():
            kind, description = _split_kind(what)
        description = _tidy(description)
        if not description:
            raise InvalidValue(
                "Tell me what happens in the new shot, e.g. "
                "'add a shot after 2: Mia opens the door'."
            )
        cast = [
            c.name
            for c in self.current.characters
            if re.search(rf"\b{re.escape(c.name.split()[-1])}\b", description, re.IGNORECASE)
        ]
        index = count if position is None else position - 1
        neighbour = self.current.shots[index - 1] if 0 < index <= count else None
        terms = _scan(kind)
        planned = _design(
            description,
            cast,
            None,
            TimeOfDay.DAY,
            neighbour.size if neighbour else None,
            opens_scene=False,
        )
        size = terms.get(ShotSize)
        if isinstance(size, ShotSize):
            planned.size = size
            if re.search(
                r"\bof\b", kind, re.IGNORECASE
            ):  # "a close-up of Mia" → "Close-up of Mia."
                planned.description = _sentence(f"{size.value} of {description}")
        move = terms.get(CameraMove)
        if isinstance(move, CameraMove):
            planned.movement = move
            planned.direction = terms.hinted_direction or MoveDirection.NONE
        changes = ShotChanges(
            description=planned.description,
            dialogue=planned.dialogue or None,
            characters=cast,
            size=planned.size,
            angle=planned.angle,
            movement=planned.movement,
            direction=planned.direction,
            speed=planned.speed,
            duration=_default_duration(planned.size, planned.movement, planned.speed),
        )

        def say(_before: ShotList, after: ShotList) -> str:
            shot = after.shots[index] if position is not None else after.shots[-1]
            return (
                f"Added shot {shot.number}: {_article(_move_phrase(shot) + ' ' + _size_name(shot.size))}, "
                f"{_seconds(shot.duration)} — {shot.description}"
            )

        self.add(_Step([AddShot(shot=changes, position=position)], say))

    def update(self, uid: str, changes: ShotChanges) -> None:
        before = self.current.shot(uid)
        edit = UpdateShot(shot=uid, changes=changes)
        if apply_edit(self.current, edit).shot(uid) == before:
            # Nothing would change: say so rather than record an empty version.
            self.add(
                _Step(
                    say=lambda _b, _a: (
                        f"Shot {before.number} already looks like that; nothing changed."
                    )
                )
            )
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
            self.add(
                _Step(
                    [SetStyle(preset=style)],
                    lambda _b, a: f"The look is now {a.style.name}: {a.style.description}.",
                )
            )
            return
        if _REMOVE_RE.search(clause) and not _TRANSITION_CUT_RE.search(clause):
            if not numbers and (bare := _BARE_REMOVE_RE.match(clause)):  # "cut 2"
                numbers = [_number(bare.group("n"), count)]
            if not numbers:
                raise _NotUnderstood(clause)
            uids = [_uid(self.original, n) for n in numbers]
            for uid in uids:
                gone = self.original.shot(uid)  # name it by the number the crew used
                self.add(_Step([RemoveShot(shot=uid)], _cut_reply(gone)))
            self.cut = True
            self.context = None
            return
        if _SWAP_RE.search(clause):
            if len(numbers) < 2:
                rest = _blank(clause, [(r.start, r.end) for r in refs])
                numbers += [_number(m.group("n"), count) for m in _BARE_NUMBER_RE.finditer(rest)]
            if len(numbers) != 2:
                raise InvalidValue("Name the two shots to swap, e.g. 'swap shots 1 and 2'.")
            first, second = (_uid(self.original, n) for n in numbers)
            self.add(
                _Step(
                    [SwapShots(first=first, second=second)],
                    lambda _b, _a: f"Swapped shots {min(numbers)} and {max(numbers)}.",
                )
            )
            return
        if _SPLIT_RE.search(clause):
            numbers = numbers or self.context_numbers(clause)
            for number in numbers:
                uid = _uid(self.original, number)
                index = self.current.index_of(uid)
                self.add(_Step([SplitShot(shot=uid)], _split_reply(index)))
            return
        if (
            _MOVE_RE.search(clause)
            and numbers
            and (place := _POSITION_RE.search(_blank(clause, [(refs[0].start, refs[0].end)])))
        ):
            self.move(numbers[0], place)
            return
        duration = _DURATION_RE.search(clause)
        if not numbers and duration and (film := _FILM_LENGTH_RE.search(clause)):
            seconds = _duration_value(duration)
            # "make it 5 seconds" while talking about shot 3 means shot 3; the film when nothing is
            # under discussion, after a cut ("cut shot 2. make it 45 seconds"), or when no shot can
            # run that long.
            subject = self.context if self.context is not None else self.recent
            if (
                film.group().lower() != "make it"
                or subject is None
                or self.cut
                or seconds > MAX_DURATION
            ):
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
                raise InvalidValue(
                    "Which shot? Say e.g. 'shot 3: close-up' or 'make the second shot longer'."
                )
            return []
        return [shot]

    def render(self, clause: str, numbers: list[int]) -> None:
        count = len(self.original.shots)
        if not count:
            raise EditError("There are no shots to render yet: plan the film first.")
        if not numbers and re.search(r"\bshots?\b", clause, re.IGNORECASE):
            numbers = [_number(m.group("n"), count) for m in _BARE_NUMBER_RE.finditer(clause)]
        if (
            not numbers
            and self.context is not None
            and re.search(r"\b(?:it|that|this)\b", clause, re.IGNORECASE)
        ):
            numbers = [self.context]  # "make shot 3 a close-up and render it"
        # Held as uids: an edit earlier in the message may renumber the shots.
        uids = tuple(_uid(self.original, n) for n in dict.fromkeys(numbers))
        live = {shot.uid for shot in self.current.shots}
        if gone := [
            n for n, uid in zip(dict.fromkeys(numbers), uids, strict=True) if uid not in live
        ]:
            raise EditError(f"Shot {gone[0]} is cut in this same message, so I can't render it.")
        self.steps.append(_Step(render=uids, say=lambda _b, a: _render_reply(a, uids)))

    def move(self, number: int, place: re.Match[str]) -> None:
        uid = _uid(self.original, number)
        index = self.current.index_of(uid)
        count = len(self.current.shots)
        if place.group("rel"):
            anchor = self.current.index_of(
                _uid(self.original, _number(place.group("n"), len(self.original.shots)))
            )
            if anchor == index:
                raise EditError(f"Shot {number} can't move relative to itself.")
            anchor -= (
                1 if anchor > index else 0
            )  # where the anchor sits once the shot is lifted out
            position = anchor + (2 if place.group("rel").lower() == "after" else 1)
        elif place.group("start"):
            position = 1
        elif place.group("end"):
            position = count
        else:
            position = _number(place.group("at"), count, kind="position")
        if position == index + 1:
            raise EditError(f"Shot {number} is already at position {position}.")
        self.add(
            _Step(
                [MoveShot(shot=uid, position=position)],
                lambda _b, a: (
                    f"Moved shot {number} to position {_number_of(a, uid)}; the list is renumbered."
                ),
            )
        )

    def retime(self, target: float) -> None:
        shots = self.current.shots
        durations = fit_durations([s.duration for s in shots], target)
        edits: list[Edit] = [SetProjectInfo(target_length=target)]
        edits += [
            UpdateShot(shot=s.uid, changes=ShotChanges(duration=d))
            for s, d in zip(shots, durations, strict=True)
            if d != s.duration
        ]
        self.add(
            _Step(
                edits,
                lambda _b, a: (
                    f"The film now runs {_seconds(a.runtime)} (target {_seconds(target)}): "
                    f"retimed {len(edits) - 1} shot{'s' if len(edits) != 2 else ''} in proportion."
                ),
            )
        )


def _shot_words(clause: str) -> bool:
    return bool(
        _scan(clause).values
        or _RELATIVE_RE.search(clause)
        or _DURATION_RE.search(clause)
        or _LENS_RE.search(clause)
    )


def _split_kind(what: str) -> tuple[str, str]:
    """'an insert of the letter' → ('an insert of', 'the letter'); 'Mia opening the door' → ('', …)."""
    match = re.match(
        r"^(?P<kind>(?:(?:a|an|one|another|new|extra)\s+)*(?:[\w'’-]+\s+){0,3}?(?:shot|insert|cutaway|close-?up|"
        r"close up|wide|pov|two-shot|reaction|establishing)s?(?:\s+shots?)?\b(?:\s+(?:of|where|showing|"
        r"with|in which|on|that shows))?)\s*(?P<rest>.*)$",
        what.strip(),
        re.IGNORECASE | re.DOTALL,
    )
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
        return (
            f"Split shot {first.number} into shots {first.number} and {second.number} "
            f"({_seconds(first.duration)} and {_seconds(second.duration)})."
        )

    return say


def _render_reply(shotlist: ShotList, uids: tuple[str, ...]) -> str:
    if not uids:
        return f"Rendering all {len(shotlist.shots)} shots."
    numbers = [s.number for s in shotlist.shots if s.uid in uids]
    return f"Rendering shot{'s' if len(numbers) > 1 else ''} {_and(numbers)}."


def _cut_reply(gone: Shot) -> _Say:
    return lambda _before, _after: (
        f"Cut shot {gone.number} ({gone.description.rstrip('.')}); the shots after it move up."
    )
