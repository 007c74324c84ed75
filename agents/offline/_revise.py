"""Revisions: a direction read clause by clause with the revision grammar, turned into edits.

Words become token kinds through the lexicon's [revisions] table and studio's vocabularies; the
grammar (data/revisions.lark) reads each clause. A clause it can't read is named back to the
crew, the rest is applied; a shot is only changed when the clause points at it (by number, by
"it" for the shot under discussion, or by a description that fits one shot).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from agents.offline._lexicon import _toml, coverage, revision_grammar
from agents.offline._notes import LADDER, fit_durations
from agents.offline._words import (
    AMOUNT_RE,
    LENS_RE,
    NUMBER_WORDS,
    ORDINAL_WORDS,
    article,
    lens_in,
    seconds_in,
    sentence,
    shown,
    tidy,
    whole_number,
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
from studio.models import MAX_DURATION, MIN_DURATION, Shot, ShotList, validated
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


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    value: Any = None
    start: int = 0


# Vocabulary spellings that are everyday words: crews say "low angle", not "low".
_RISKY = {"long", "full", "mid", "ins", "ls", "high", "low", "eye", "neutral", "worm", "still",
          "fixed", "none", "circle", "slide", "push", "following", "ped", "cut", "fade", "close",
          "l", "r", "u", "d", "cont", "continuous", "tight", "medium", "normal", "dolly", "zoom",
          "follow", "tracking", "ms", "fs", "eye level"}  # fmt: skip
_VOCAB = {
    "SIZE": ShotSize, "ANGLE": Angle, "MOVE_TERM": CameraMove, "SPEED": MoveSpeed,
    "DIR": MoveDirection, "TIME": TimeOfDay, "INTEXT": IntExt, "TRANS": Transition,
}  # fmt: skip
_EXTRA = {
    "lock off": ("MOVE_TERM", CameraMove.STATIC), "lock it off": ("MOVE_TERM", CameraMove.STATIC),
    "from below": ("ANGLE", Angle.LOW), "from above": ("ANGLE", Angle.HIGH),
    "dolly in": ("MOVE_TERM", CameraMove.DOLLY_IN), "zoom in": ("MOVE_TERM", CameraMove.ZOOM_IN),
    "close-up": ("SIZE", ShotSize.CLOSE_UP), "close up": ("SIZE", ShotSize.CLOSE_UP),
    "medium shot": ("SIZE", ShotSize.MEDIUM), "follow shot": ("MOVE_TERM", CameraMove.FOLLOW),
    "a wide": ("SIZE", ShotSize.WIDE), "wide": ("SIZE", ShotSize.WIDE),
}  # fmt: skip


@cache
def _phrases() -> tuple[dict[str, tuple[str, Any]], frozenset[str], int]:
    """Folded phrase → (kind, value); the fillers; the longest phrase in words."""
    table: dict[str, tuple[str, Any]] = {}
    for kind, enum in _VOCAB.items():
        for key, member in aliases(enum).items():
            if key and key not in {fold(w) for w in _RISKY}:
                table.setdefault(key, (kind, member))
    for name in style_names():
        table[fold(name)] = ("PRESET", name)
    lexicon = _toml("lexicon.toml")
    for key in lexicon["styles"]["cues"]:  # the phrases that name a preset, one list for all
        if found := find_style(key):
            table[fold(key)] = ("PRESET", found)
    data = lexicon["revisions"]
    fillers = frozenset(fold(w) for w in data.pop("fillers"))
    for kind, words in data.items():
        for word in words:
            table[fold(word)] = (kind, word)
    for word, (kind, value) in _EXTRA.items():
        table[fold(word)] = (kind, value)
    longest = max(len(p.split()) for k in data.values() for p in k)
    return table, fillers, max(longest, 4)


_WORD_RE = re.compile(r"[\w'’#°.-]+|[:,&–]")
_NUM_RE = re.compile(r"#?[-−]?\d+(?:\.\d+)?(?:st|nd|rd|th)?$|#$", re.IGNORECASE)


def tokens(clause: str) -> list[Tok]:
    """The clause as token kinds: amounts and lenses whole, then the longest phrase known."""
    table, fillers, longest = _phrases()
    clause = re.sub(r"(?<=\d)(?:[-–]|\s+[-–]\s+)(?=\d)", " through ", clause)  # "shots 2-4"
    found: list[Tok] = []
    spans: list[tuple[int, int]] = []
    for pattern, kind, read in ((LENS_RE, "LENS", lens_in), (AMOUNT_RE, "DURATION", seconds_in)):
        for m in pattern.finditer(clause):
            if not any(s <= m.start() < e for s, e in spans):
                found.append(Tok(kind, m.group(), read(m), m.start()))
                spans.append(m.span())
    words = [m for m in _WORD_RE.finditer(clause) if not any(s <= m.start() < e for s, e in spans)]
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            run = words[i : i + n]
            if any(a.end() + 3 < b.start() for a, b in zip(run, run[1:], strict=False)):
                continue
            text = clause[run[0].start() : run[-1].end()].rstrip(".")
            key = fold(text)
            hit = table.get(key) or (table.get(key.removesuffix("s")) if n == 1 else None)
            if n == 1 and hit is None:
                hit = _single(text, fillers)
            if hit is not None:
                if hit[0] != "":
                    found.append(Tok(hit[0], text, hit[1], run[0].start()))
                i += n
                break
        else:
            i += 1
    found.sort(key=lambda t: t.start)
    while found and found[0].kind == "AND":  # "and low angle": the rest of a direction
        found.pop(0)
    while found and found[-1].kind == "AND":
        found.pop()
    # "should last 6 seconds": "last" before an amount is the verb, not the last shot.
    return [t for k, t in enumerate(found) if not (t.kind in ("LAST", "END") and
            k + 1 < len(found) and found[k + 1].kind == "DURATION")]  # fmt: skip


def _single(text: str, fillers: frozenset[str]) -> tuple[str, Any] | None:
    low = text.lower()
    if low in (":",):
        return ("COLON", ":")
    if low in (",", "and", "&", "or", "then", "with"):
        return ("AND", low)
    if low in ("-", "–", "through", "thru"):
        return ("THRU", low)
    if low == "#":
        return ("HASH", low)
    if _NUM_RE.match(low) or low in NUMBER_WORDS:
        ordinal = bool(re.search(r"\d(?:st|nd|rd|th)$", low))
        return ("ORD" if ordinal else "NUM", text.lstrip("#"))
    if low in ORDINAL_WORDS:
        return ("ORD", low)
    if fold(text) in fillers or low in ("?", "!", "."):
        return ("", None)
    return ("W", text)


@cache
def _parser() -> Lark:
    return Lark(revision_grammar(), parser="earley", lexer="basic", ambiguity="resolve")


def at(node: Token, toks: list[Tok]) -> Tok:
    """The token a parse leaf stands for (leaves are kinds; positions map back)."""
    position = 0
    for tok in toks:
        if position == node.start_pos:
            return tok
        position += len(tok.kind) + 1
    raise LookupError(node)


def parse(toks: list[Tok]) -> Tree[Token] | None:
    """The clause's parse, or None when the grammar can't read it."""
    if not toks:
        return None
    try:
        return _parser().parse(" ".join(t.kind for t in toks))
    except LarkError:
        return None


# --- from a parse to edits ---------------------------------------------------------------------

Say = Callable[[ShotList, ShotList], str]


@dataclass
class Step:
    edits: list[Edit] = field(default_factory=list)
    say: Say | None = None
    render: tuple[str, ...] | None = None
    subject: str | None = None  # the uid the step was about, for "it" in later clauses


class NotUnderstood(Exception):
    """A clause the grammar can't read; carries the clause."""


class Reader:
    """Reads one message against the list it was written for, clause by clause."""

    def __init__(self, original: ShotList, context: int | None) -> None:
        self.original = original
        self.current = original
        self.context: str | None = None  # uid of the shot this message last named
        self.recent = context  # the shot the conversation was about
        self.cut = False
        self.steps: list[Step] = []
        self.unread: list[str] = []

    def add(self, step: Step) -> None:
        for edit in step.edits:
            self.current = apply_edit(self.current, edit)
        if step.subject:
            self.context = step.subject
        self.steps.append(step)

    def read(self, message: str) -> None:
        segments: list[str] = []
        for segment in re.split(r"\s*(?:[;\n]|(?<=[.!?])\s+)\s*", message):
            if not segment.strip():
                continue
            kinds = {t.kind for t in tokens(segments[-1])} if segments else set()
            prose = all(t.kind in ("W", "IT", "AND") for t in tokens(segment))
            if {"COLON"} < kinds and kinds & {"ADD", "FIELD"} and prose:
                segments[-1] += f" {segment.strip()}"  # free text runs on until a direction
            else:
                segments.append(segment.strip())
        for segment in segments:
            self._segment(segment)

    def _segment(self, segment: str) -> None:
        toks = tokens(segment)
        _check_numbers(toks)
        tree = parse(toks)
        if tree is not None:
            self.clause(tree, toks, segment)
            return
        pieces = [p for p in re.split(r"\s*,\s*|\s+(?:and then|then|and)\s+", segment) if p]
        if len(pieces) == 1:
            self.unread.append(segment)
            return
        for piece in pieces:
            piece_toks = tokens(piece)
            tree = parse(piece_toks)
            if tree is None:
                self.unread.append(piece)
            else:
                self.clause(tree, piece_toks, piece)

    # --- references -----------------------------------------------------------------------
    def uid(self, number: int) -> str:
        return self.original.shot(str(number)).uid

    def refs(self, tree: Tree[Token] | None, toks: list[Tok]) -> list[str]:
        """The uids a clause points at; [] when it points at none."""
        if tree is None:
            return []
        uids: list[str] = []
        count = len(self.original.shots)
        kinds = ("numbers", "ordinal", "last", "last_n")
        for ref in (t for t in tree.iter_subtrees_topdown() if t.data in kinds):  # type: ignore[no-untyped-call]
            said = [str(at(c, toks).value).split()[-1] for c in ref.children if _kind(c) in ("NUM", "ORD", "FIRST")]  # fmt: skip
            if ref.data == "numbers":
                nums = [whole_number(v) for v in said]
                uids += [
                    self.uid(n) for n in (range(nums[0], nums[-1] + 1) if len(nums) == 2 else nums)
                ]
            elif ref.data == "ordinal":
                uids.append(
                    self.uid(count if said[0] in ("last", "final") else whole_number(said[0]))
                )
            else:
                n = whole_number(said[0]) if ref.data == "last_n" else 1
                uids += [s.uid for s in self.original.shots[-n:]] if n else []
        if any(True for _ in tree.find_data("it")):
            uids.append(self.it())
        return list(dict.fromkeys(uids))

    def it(self) -> str:
        if self.context is not None:
            return self.context
        if self.recent is not None and not self.cut:
            return self.uid(self.recent)
        raise InvalidValue("Which shot? Say e.g. 'shot 3: close-up' or 'make shot 2 longer'.")

    # --- one clause -----------------------------------------------------------------------
    def clause(self, tree: Tree[Token], toks: list[Tok], text: str) -> None:
        node = tree.children[0]
        assert isinstance(node, Tree)
        action = getattr(self, f"_{node.data}")
        action(node, toks, text)

    def _undo(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        raise EditError("Say 'undo' on its own to take back the last change.")

    def _render(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        if not self.original.shots:
            raise EditError("There are no shots to render yet: plan the film first.")
        refs = _child(node, "refs")
        has_it = any(t.kind == "IT" for t in toks)
        uids = self.refs(refs, toks) if refs is not None and (self.context or self.recent or
                                                              not has_it) else []  # fmt: skip
        live = {s.uid for s in self.current.shots}
        if any(u not in live for u in uids):
            raise EditError("That shot is cut in this same message, so I can't render it.")
        render = tuple(uids)
        self.add(Step(render=render, say=lambda _b, a: _rendering(a, render)))

    def _remove(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        size = next((t.value for t in toks if t.kind == "SIZE"), None)
        if size is not None and not any(t.kind in ("NUM", "ORD", "LAST") for t in toks):
            found = [s for s in self.current.shots if s.size is size]
            if len(found) != 1:
                which = ", ".join(s.number for s in found) or "none"
                raise InvalidValue(f"Which {size.value}? Shots with one: {which}.")
            uids = [found[0].uid]
        else:
            uids = self.refs(_child(node, "refs"), toks)
        for uid in uids:
            gone = self.original.shot(uid)
            self.add(Step([RemoveShot(shot=uid)], _cut_line(gone)))
        self.cut, self.context = True, None

    def _swap(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        uids = self.refs(_child(node, "refs"), toks)
        if len(uids) != 2:
            raise InvalidValue("Name the two shots to swap, e.g. 'swap shots 1 and 2'.")
        first, second = uids
        self.add(Step([SwapShots(first=first, second=second)],
                      lambda b, a: f"Swapped shots {b.shot(first).number} and {b.shot(second).number}."))  # fmt: skip

    def _reorder(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        uids = self.refs(_child(node, "refs"), toks)
        place = _child(node, "place")
        if not uids or place is None:
            raise NotUnderstood(text)
        self.move_to(uids[0], place, toks)

    def move_to(self, uid: str, place: Tree[Token], toks: list[Tok]) -> None:
        index = self.current.index_of(uid)
        kinds = [_kind(c) for c in place.children]
        count = len(self.current.shots)
        if "START" in kinds or "FIRST" in kinds:
            position = 1
        elif "END" in kinds:
            position = count
        elif "POSITION" in kinds:
            said = [t for t in toks if t.kind == "NUM"][-1].value
            position = whole_number(said, kind="position")
        else:
            anchor = self.current.index_of(self.refs(place, toks)[0])
            if anchor == index:
                raise EditError("A shot can't move relative to itself.")
            anchor -= 1 if anchor > index else 0
            position = anchor + (2 if "AFTER" in kinds else 1)
        if position == index + 1:
            raise EditError(f"Shot {index + 1} is already at position {position}.")
        was = index + 1
        self.add(Step([MoveShot(shot=uid, position=position)],
                      lambda _b, a: f"Shot {was} is now shot {a.shot(uid).number}; the list is renumbered.",
                      subject=uid))  # fmt: skip

    def _open_on(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        uid = self.described(toks)
        if self.current.index_of(uid) == 0:
            raise EditError("The film already opens on that shot.")
        self.add(Step([MoveShot(shot=uid, position=1)],
                      lambda b, a: f"The film now opens on shot 1 (was shot {b.shot(uid).number}).",
                      subject=uid))  # fmt: skip

    def described(self, toks: list[Tok]) -> str:
        """The one shot whose description the clause's words fit ("open on the letter")."""
        words = [_stem(t.text) for t in toks if t.kind == "W" and len(t.text) > 2]
        return self.fitting(words, toks)[0].uid

    def fitting(self, words: list[str], toks: list[Tok], *, one: bool = True) -> list[Shot]:
        found = [s for s in self.current.shots if words and all(
            any(_stem(w).startswith(x) or x.startswith(_stem(w)) for w in
                re.findall(r"[\w'’]{3,}", s.description)) for x in words)]  # fmt: skip
        if len(found) != 1 and not (found and not one and len({s.scene for s in found}) == 1):
            which = ", ".join(s.number for s in found)
            raise InvalidValue(
                f"Which shot? {'Shots ' + which + ' all fit' if found else 'No shot fits'} "
                f"“{' '.join(t.text for t in toks if t.kind == 'W')}”; name it by number."
            )
        return found

    def _split(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        uids = self.refs(_child(node, "refs"), toks) or [self.it()]
        for uid in uids:
            index = self.current.index_of(uid)
            self.add(Step([SplitShot(shot=uid)], _split_line(index), subject=uid))

    def _add(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        head, colon, tail = text.partition(":")
        head_toks = tokens(head)
        verb = next((k for k, t in enumerate(head_toks) if t.kind == "ADD"), 0)
        position, said_at = self.added_at(head_toks, verb)
        description = tail
        if not colon:  # "add an insert of the letter at the end": the words between
            begin = head_toks[verb].start + len(head_toks[verb].text) if head_toks else 0
            finish = said_at if said_at is not None and said_at > begin else len(head)
            description = re.sub(r"^(?:(?:an?|the|new|another|shot|of)\s+)+", "", head[begin:finish].strip(), flags=re.I)  # fmt: skip
        description = tidy(description)
        if not description:
            raise InvalidValue("Tell me what happens in the new shot, e.g. 'add a shot after 2: Mia opens the door'.")  # fmt: skip
        count = len(self.current.shots)
        at = count if position is None else position - 1
        neighbour = self.current.shots[at - 1] if 0 < at <= count else None
        cast = [c.name for c in self.current.characters if c.name.split()[-1] in description]
        cast += [n for s in self.current.shots for n in s.characters if n in description]
        size = next((t.value for t in head_toks if t.kind == "SIZE"), None)
        if size is None:
            same = neighbour is not None and neighbour.size is ShotSize.MEDIUM
            size = ShotSize.MEDIUM_CLOSE_UP if same else ShotSize.MEDIUM
        scene = neighbour.scene if neighbour else None
        changes = ShotChanges(
            description=sentence(description), characters=list(dict.fromkeys(cast)), size=size,
            duration=3.0, int_ext=scene.int_ext if scene else None,
            location=scene.location if scene else None, time_of_day=scene.time_of_day if scene else None,
        )  # fmt: skip
        self.add(Step([AddShot(shot=changes, position=position)], lambda _b, a: (
            f"Added shot {a.shots[at].number}: {a.shots[at].size.value}, 3 s — {a.shots[at].description}")))  # fmt: skip

    def added_at(self, toks: list[Tok], verb: int) -> tuple[int | None, int | None]:
        """Where 'add' puts its shot (None: at the end) and where that was said: a place said
        before the verb or closing the clause; "walks to the end of the alley" is the action."""
        count = len(self.current.shots)
        for k, tok in enumerate(toks):
            if tok.kind in ("START", "FIRST", "END"):
                ref, after = None, k + 1
            elif tok.kind in ("AFTER", "BEFORE"):
                ref = next((j for j in range(k + 1, len(toks)) if toks[j].kind not in ("SHOT", "HASH")), None)  # fmt: skip
                if ref is None or toks[ref].kind not in ("NUM", "ORD", "FIRST", "LAST"):
                    continue
                after = ref + 1
            else:
                continue
            if k > verb and any(t.kind not in ("SHOT",) for t in toks[after:]):
                continue
            if ref is None:
                return (None if tok.kind == "END" else 1), tok.start
            said = toks[ref]
            number = count if said.kind == "LAST" else whole_number(str(said.value).split()[-1])
            index = self.current.index_of(self.uid(number))
            return index + (2 if tok.kind == "AFTER" else 1), tok.start
        return None, None

    def _title(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        title_tok = next(t for t in toks if t.kind == "TITLE")
        title = tidy(
            text[title_tok.start + len(title_tok.text) :].lstrip(" :=").removeprefix("to ")
        )
        if not title:
            raise NotUnderstood(text)
        self.add(Step([SetProjectInfo(title=title[:160])], lambda _b, a: f"The film is now called “{a.title}”."))  # fmt: skip

    def _style(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        preset = max((t for t in toks if t.kind == "PRESET"), key=lambda t: len(t.text)).value
        self.add(Step([SetStyle(preset=preset)], lambda _b, a: f"The look is now {a.style.name}: {a.style.description}."))  # fmt: skip

    def _retime(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        self.retime(next(t.value for t in toks if t.kind == "DURATION"))

    def _text_field(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        word = next(t for t in toks if t.kind == "FIELD")
        name = {"action": "description", "line": "dialogue", "note": "notes"}.get(
            str(word.value).lower(), str(word.value).lower()
        )
        value = tidy(text[word.start + len(word.text) :].lstrip(" :=").removeprefix("is "))
        for uid in self.refs(_child(node, "refs"), toks):
            self.update(uid, {name: sentence(value) if name == "description" else value})

    def _bible(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        """'Mia is a tired detective', 'Detective Cole: a man in a fedora', 'the location diner
        is a chrome 50s diner': the cast and the sets, in the bible."""
        match = re.match(r"^(?:the\s+(?P<what>character|location|set)\s+)?(?P<name>(?(what)[\w'’-]+|[A-Z][\w'’-]*)(?:\s+(?(what)[\w'’-]+|[A-Z][\w'’-]*))?)\s*(?::|\s+(?:is|should be|looks like))\s+(?:a\s+|an\s+)?(?P<d>.+)$", text)  # fmt: skip
        if match is None:
            raise NotUnderstood(text)
        name, description = match.group("name"), tidy(match.group("d")).rstrip(".")
        if match.group("what") in ("location", "set"):
            name = name.upper()
            edit: Edit = SetLocation(name=name, description=description)
        else:
            edit = SetCharacter(name=name, description=description)
        self.add(Step([edit], lambda _b, _a: f"{name} is now {article(description)}."))

    def _fade_end(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        if not self.current.shots:
            raise EditError("There are no shots yet.")
        self.update(self.current.shots[-1].uid, {"transition": Transition.FADE_OUT})

    def _favour(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        name = " ".join(t.text for t in toks if t.kind == "W")
        uid = (self.refs(_child(node, "refs"), toks) or [self.it()])[0]
        shot = self.current.shot(uid)
        known = {c.name for c in self.current.characters} | {n for s in self.current.shots for n in s.characters}  # fmt: skip
        if name not in known:
            raise InvalidValue(f"I don't know anyone called {name} in this film.")
        self.update(uid, {"characters": [name, *[c for c in shot.characters if c != name]]})

    def _cover(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        words = [_stem(t.text) for t in toks if t.kind == "W" and len(t.text) > 2]
        uid = self.fitting(words, toks, one=False)[-1].uid if words else self.it()
        scene = self.current.shot(uid).scene
        in_scene = [s for s in self.current.shots if s.scene == scene]
        people = list(dict.fromkeys(n for s in in_scene for n in s.characters))
        rotation = coverage()["kind"]["talk" if len(people) > 1 else "plain"]["rotation"]
        a, b = (people + ["them", "them"])[:2]

        def key(size: ShotSize, who: Sequence[str]) -> tuple[ShotSize, tuple[str, ...]]:
            # a two-shot of Ben and Mia is the two-shot of Mia and Ben; an OTS has a side
            return size, tuple(sorted(who) if size is ShotSize.TWO_SHOT else who)

        have = {key(s.size, s.characters) for s in in_scene}
        anchor = self.current.shot(uid)  # coverage goes right after the moment it covers
        last = self.current.index_of(uid)
        edits: list[Edit] = []
        for entry in rotation:
            who = {"pair": [a, b], "reverse": [b, a], "first": [a], "second": [b], "all": people}.get(entry["who"], [])  # fmt: skip
            size = ShotSize(entry["size"])
            if key(size, who) in have:
                continue
            text_ = sentence(entry["cover"].format(a=a, b=b, beat=anchor.description.rstrip(".")))
            last += 1
            edits.append(AddShot(position=last + 1, shot=ShotChanges(
                description=text_, characters=who, size=size, duration=2.5, int_ext=scene.int_ext,
                location=scene.location, time_of_day=scene.time_of_day)))  # fmt: skip
        if not edits:
            raise EditError(f"{scene.slugline} already has every set-up I'd add.")
        self.add(Step(edits, lambda _b, _a: f"Added {len(edits)} set-ups of coverage in {scene.slugline}."))  # fmt: skip

    def _change(self, node: Tree[Token], toks: list[Tok], text: str) -> None:
        named = [t for t in toks if t.kind in ("NUM", "ORD", "LAST", "HASH")]
        uids = self.refs(node, toks) if named else []
        duration = next((t for t in toks if t.kind == "DURATION"), None)
        pointed = bool(named)
        if not pointed and duration is not None and len([t for t in toks if t.kind not in ("IT", "DURATION", "FILM")]) == 0:  # fmt: skip
            subject = self.context or (
                self.uid(self.recent) if self.recent and not self.cut else None
            )
            if subject is None or duration.value > MAX_DURATION:
                self.retime(duration.value)
                return
        uids = uids or [self.it()]
        for uid in uids:
            self.update(uid, _changes(toks, self.current.shot(uid)))

    def update(self, uid: str, fields: dict[str, Any]) -> None:
        before = self.current.shot(uid)
        edit = UpdateShot(shot=uid, changes=validated(ShotChanges, **fields))
        after = apply_edit(self.current, edit).shot(uid)
        if after == before:
            if any(step.subject == uid and step.edits for step in self.steps):
                return  # "go handheld on 7, it should feel nervous": said once already
            self.add(Step(say=lambda _b, _a: f"Shot {before.number} already looks like that; nothing changed.", subject=uid))  # fmt: skip
            return
        self.add(Step([edit], lambda _b, a: describe(before, a.shot(uid)), subject=uid))

    def retime(self, target: float) -> None:
        shots = self.current.shots
        durations = fit_durations([s.duration for s in shots], target)
        edits: list[Edit] = [SetProjectInfo(target_length=target)]
        edits += [UpdateShot(shot=s.uid, changes=ShotChanges(duration=d))
                  for s, d in zip(shots, durations, strict=True) if d != s.duration]  # fmt: skip
        self.add(Step(edits, lambda _b, a: f"The film now runs {a.runtime:g} s (target {target:g} s): every shot retimed in proportion."))  # fmt: skip


def _check_numbers(toks: list[Tok]) -> None:
    """Refuse a number that can name no shot or position before anything is read."""
    for k, tok in enumerate(toks):
        if tok.kind == "COLON":
            return
        if tok.kind in ("NUM", "ORD") and re.search(r"\d", str(tok.value)):
            kind = "position" if k and toks[k - 1].kind == "POSITION" else "shot"
            whole_number(str(tok.value), kind=kind)


def _changes(toks: list[Tok], shot: Shot) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    names = {"SIZE": "size", "ANGLE": "angle", "MOVE_TERM": "movement", "SPEED": "speed",
             "DIR": "direction", "TIME": "time_of_day", "INTEXT": "int_ext", "TRANS": "transition",
             "LENS": "lens_mm"}  # fmt: skip
    for k, tok in enumerate(toks):
        following = toks[k + 1].kind if k + 1 < len(toks) else ""
        if tok.kind in names:
            fields.setdefault(names[tok.kind], tok.value)
            hint = DIRECTION_HINTS.get(tok.text.lower().replace("-", " "))
            if tok.kind == "MOVE_TERM" and hint:
                fields["direction"] = hint
        elif tok.kind == "HANDHELD":
            fields["movement"] = CameraMove.HANDHELD
        elif tok.kind == "DURATION":
            step = {"LONGER": 1, "SHORTER": -1}.get(following, 0)
            fields["duration"] = shot.duration + step * tok.value if step else tok.value
        elif tok.kind in ("LONGER", "SHORTER") and "duration" not in fields:
            factor = 1.5 if tok.kind == "LONGER" else 1 / 1.5
            fields["duration"] = min(MAX_DURATION, max(MIN_DURATION, round(shot.duration * factor * 2) / 2))  # fmt: skip
        elif tok.kind in ("TIGHTER", "WIDER"):
            rung = next(i for i, s in enumerate(LADDER) if s.tightness >= shot.size.tightness)
            rung += 1 if tok.kind == "TIGHTER" else -1
            if not 0 <= rung < len(LADDER):
                raise EditError(f"Shot {shot.number} can't go {tok.text.split()[0].lower()}: it is already {shot.size.value}.")  # fmt: skip
            fields["size"] = LADDER[rung]
        elif tok.kind in ("SLOWER", "FASTER"):
            if shot.movement is CameraMove.STATIC and "movement" not in fields:
                raise EditError(f"Shot {shot.number} is static; give it a move first, e.g. 'slow push in on shot {shot.number}'.")  # fmt: skip
            speeds = list(MoveSpeed)
            at = speeds.index(shot.speed) + (-1 if tok.kind == "SLOWER" else 1)
            fields["speed"] = speeds[max(0, min(2, at))]
    if "speed" in fields and "movement" not in fields and shot.movement is CameraMove.STATIC:
        raise EditError(f"Shot {shot.number} is static, so it has no speed; name a move, e.g. 'slow push in on shot {shot.number}'.")  # fmt: skip
    if "direction" in fields and "movement" not in fields and shot.movement is CameraMove.STATIC:
        del fields["direction"]
    if "time_of_day" in fields or "int_ext" in fields:
        pass
    return fields


def describe(before: Shot, after: Shot) -> str:
    """'Shot 3 is now a slow dolly in close-up and lasts 6 s (was 3 s).'"""
    parts = []
    if (before.size, before.movement, before.speed, before.direction) != (after.size, after.movement, after.speed, after.direction):  # fmt: skip
        move = "" if after.movement is CameraMove.STATIC else f" {after.move_label}"
        parts.append(f"is now {'a' if (move or after.size.value)[:1].lower() not in 'aeiou' else 'an'}{move} {after.size.value}")  # fmt: skip
    if before.angle is not after.angle:
        parts.append(f"is shot at {after.angle.value}")
    if before.lens_mm != after.lens_mm:
        parts.append(f"is on a {after.lens_mm}mm lens")
    if before.duration != after.duration:
        parts.append(f"lasts {after.duration:g} s (was {before.duration:g} s)")
    if before.scene != after.scene:
        parts.append(f"moves to {after.scene.slugline}")
    if before.transition is not after.transition:
        parts.append(f"ends on a {after.transition.value}")
    for name in ("description", "dialogue", "sound", "notes"):
        if getattr(before, name) != getattr(after, name):
            parts.append(f"has the {name} “{shown(getattr(after, name).rstrip('.'))}”")
    if before.characters != after.characters:
        parts.append(f"favours {after.characters[0]}" if after.characters else "has no one in it")
    return f"Shot {after.number} {' and '.join(parts) or 'is updated'}."


def _rendering(shotlist: ShotList, uids: tuple[str, ...]) -> str:
    if not uids:
        return f"Rendering all {len(shotlist.shots)} shots."
    numbers = [s.number for s in shotlist.shots if s.uid in uids]
    return f"Rendering shot{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}."


def _split_line(i: int) -> Say:
    def say(_before: ShotList, a: ShotList) -> str:
        first, second = a.shots[i], a.shots[i + 1]
        return (
            f"Split shot {first.number} into shots {first.number} and {second.number} "
            f"({first.duration:g} s and {second.duration:g} s)."
        )

    return say


def _cut_line(gone: Shot) -> Say:
    return lambda _b, _a: f"Cut shot {gone.number} ({gone.description.rstrip('.')}); the shots after it move up."  # fmt: skip


def _kind(node: Any) -> str:
    return node.type if isinstance(node, Token) else str(node.data)


def _child(node: Tree[Token], name: str) -> Tree[Token] | None:
    return next((c for c in node.children if isinstance(c, Tree) and c.data == name), None)


def _stem(word: str) -> str:
    word = word.lower().strip("'’")
    for suffix in ("ment", "ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word
