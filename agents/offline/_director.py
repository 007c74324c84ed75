"""The `OfflineDirector`: plans from a brief, takes directions, undoes; offline and deterministic."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agents.address import unaddressed
from agents.base import DirectorReply, ProjectEditor, RenderAsk, project_id_of
from agents.offline._brief import read_brief
from agents.offline._coverage import plan_shots
from agents.offline._notes import grammar_notes
from agents.offline._revise import NotUnderstood, Reader, parse, tokens
from studio.edits import apply_edits
from studio.errors import SlateError
from studio.models import ShotList
from studio.records import Turn

FOOTER = "— offline director"
UNCHANGED = "Nothing was changed."
HELP = (
    "I'm the offline director (rule-based; no AI model is configured). I take directions like "
    "“shot 3: close-up”, “tighter on her”, “let it breathe”, “cut the last two”, “swap shots 1 and 2”, "
    "“open on the letter”, “more coverage on the argument”, “make it 45 seconds”, "
    "“make it film noir”, “add a shot after 2: Mia opens the door”, “render shot 3” or “undo”."
)
# A reply that changed a shot names it first ("Shot 3 is now…", "…is now shot 1").
_SUBJECT_RE = re.compile(
    r"^Shot (\d+)\b(?!.*\bis now shot\b)|\bis now shot (\d+)|opens on shot (\d+)", re.M
)


def _context_from(history: Sequence[Turn]) -> int | None:
    """The shot the conversation was last about: named by the director's last reply, if it
    changed something; a refusal, a cut or a film-wide change leaves no subject."""
    last = next((t for t in reversed(history) if t.role != "user"), None)
    if last is None or UNCHANGED in last.content or "didn't follow" in last.content:
        return None
    found = [next(g for g in m.groups() if g) for m in _SUBJECT_RE.finditer(last.content)]
    return int(found[-1]) if found else None


class OfflineDirector:
    """The rule-based director: deterministic, offline, and honest about being the fallback."""

    name = "offline director (rule-based)"

    async def plan(self, brief: str, *, style: str | None = None) -> ShotList:
        """A first shot list from a brief; `InvalidValue` when there is nothing to plan."""
        return plan_shots(read_brief(brief), style)

    async def direct(
        self, message: str, editor: ProjectEditor, history: Sequence[Turn] = ()
    ) -> DirectorReply:
        """Take one direction; never raises for any text (errors come back as the reply)."""
        before = await editor.shotlist()
        try:
            text = unaddressed((message or "").strip()[:5000], project_id_of(editor))
        except SlateError as error:  # "project 1: …" said in project 2's chat
            return _reply(f"{error} {UNCHANGED}")
        reader = Reader(before, _context_from(history))
        try:
            toks = tokens(text) if len(text) < 400 else []
            if [t.kind for t in toks] == ["UNDO"] and parse(toks) is not None:
                return await _undo(editor, before)
            reader.read(text)
        except NotUnderstood as unknown:
            reader.unread.append(str(unknown))
        except SlateError as error:
            return _reply(f"{error} {UNCHANGED}")
        unread = "; ".join(f"“{u[:80]}”" for u in reader.unread)
        if not reader.steps:
            if not unread:
                return _reply(HELP)
            return _reply(f"I didn't follow {unread}. {UNCHANGED}\n{HELP}")
        edits = [edit for step in reader.steps for edit in step.edits]
        current = before
        if edits:  # one direction is one version: one undo takes it all back
            try:
                current = await editor.apply_many(edits)
            except SlateError as error:
                return _reply(f"{error} {UNCHANGED}")
        lines, render, local = [], None, before
        for step in reader.steps:
            previous, local = local, apply_edits(local, step.edits)
            if step.say is not None:
                lines.append(step.say(previous, local))
            if step.render is not None:
                shots = tuple(s.number for s in current.shots if s.uid in step.render)
                render = RenderAsk(shots=shots)
        if unread:
            lines.append(f"I didn't follow {unread}, so I left that alone.")
        notes = (
            [n for n in grammar_notes(current) if n not in grammar_notes(before)] if edits else []
        )
        return _reply("\n".join(lines), edits=len(edits), render=render, notes=notes)


async def _undo(editor: ProjectEditor, before: ShotList) -> DirectorReply:
    try:
        after = await editor.undo()
    except SlateError as error:
        return _reply(str(error))
    what = "the last change is reverted" if after != before else "nothing had changed"
    return _reply(f"Undone: {what}.", edits=1)


def _reply(
    text: str, *, edits: int = 0, render: RenderAsk | None = None, notes: list[str] | None = None
) -> DirectorReply:
    return DirectorReply(text=f"{text}\n{FOOTER}", edits=edits, render=render, notes=notes or [])
