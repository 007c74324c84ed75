"""The `OfflineDirector` itself: plans, takes directions, undoes."""

from __future__ import annotations

from collections.abc import Sequence

from agents.address import unaddressed
from agents.base import DirectorReply, ProjectEditor, RenderAsk, project_id_of
from agents.offline._grammar import grammar_notes
from agents.offline._plan import _plan
from agents.offline._revise import _HELP, _REMOVE_RE, _UNDO_RE, _clean, _NotUnderstood, _Reader
from agents.offline._text import _refs, _tidy
from studio.edits import (
    apply_edits,
)
from studio.errors import SlateError
from studio.models import (
    MAX_SHOTS,
    ShotList,
)
from studio.records import Turn

FOOTER = "— offline director"
_UNCHANGED = "Nothing was changed."
# How this director's replies that changed nothing begin or end (see `direct`).
_CHANGED_NOTHING = (_UNCHANGED, "I didn't catch “", _HELP.splitlines()[0])


def _context_from(history: Sequence[Turn]) -> int | None:
    """The shot the conversation was last about, so 'make it longer' has a subject."""
    for turn in reversed(history):
        if any(mark in turn.content for mark in _CHANGED_NOTHING):
            continue  # a refusal or the help text names shots no one is talking about
        try:
            refs = _refs(turn.content, MAX_SHOTS)
        except SlateError:
            return None  # "shot 3.5": the conversation is about no shot there is
        if refs:
            last = refs[-1]
            if _REMOVE_RE.search(turn.content[max(0, last.start - 30) : last.end]):
                return None  # that shot was cut: "make it 20 seconds" now means the film
            return last.numbers[0]
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
        try:
            text = unaddressed((message or "").strip()[:5000], project_id_of(editor))
        except SlateError as error:  # "project 1: …" said in project 2's chat
            return _reply(f"{error} {_UNCHANGED}")
        if _UNDO_RE.match(_clean(text)):
            return await _undo(editor, before)
        reader = _Reader(before, _context_from(history))
        try:
            reader.read(text)
        except _NotUnderstood as unknown:
            return _reply(f"I didn't catch “{(_tidy(str(unknown)) or str(unknown))[:80]}”. {_HELP}")
        except SlateError as error:
            return _reply(f"{error} {_UNCHANGED}")
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
                return _reply(f"{error} {_UNCHANGED}")
        lines: list[str] = []
        render: RenderAsk | None = None
        local = before  # the reader's own in-memory replay, step by step, for the reply lines
        for step in reader.steps:
            previous = local
            local = apply_edits(local, step.edits)
            if step.say is not None:
                lines.append(step.say(previous, local))
            if step.render is not None:
                render = RenderAsk(
                    shots=tuple(s.number for s in current.shots if s.uid in step.render)
                )
        notes = (
            [n for n in grammar_notes(current) if n not in grammar_notes(before)] if edits else []
        )
        return _reply("\n".join(lines), edits=len(edits), render=render, notes=notes)


async def _undo(editor: ProjectEditor, before: ShotList) -> DirectorReply:
    try:
        after = await editor.undo()
    except SlateError as error:
        return _reply(str(error))
    # The front-ends show the diff; the reply only says what happened.
    what = "the last change is reverted" if after != before else "nothing had changed"
    return _reply(f"Undone: {what}.", edits=1)


def _reply(
    text: str, *, edits: int = 0, render: RenderAsk | None = None, notes: list[str] | None = None
) -> DirectorReply:
    return DirectorReply(text=f"{text}\n{FOOTER}", edits=edits, render=render, notes=notes or [])
