"""What every director (the LLM agent or the offline rule-based one) is given and returns.

A director never sees the store: it edits one project through a `ProjectEditor` bound to that
project, so nothing said in the chat can reach another project.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from studio.edits import Edit, apply_edit, apply_edits
from studio.errors import EditError
from studio.models import ShotList
from studio.records import Turn


@dataclass(frozen=True)
class RenderAsk:
    """The director heard "render it" / "render shot 3": which shots (empty = every shot).

    With `needs_confirmation` the front-end must not start the render on its own: it shows
    `reason` (written for the crew) and starts only when someone confirms.
    """

    shots: tuple[str, ...] = ()
    needs_confirmation: bool = False
    reason: str = ""


@dataclass
class DirectorReply:
    text: str
    edits: int = 0  # how many edits were applied this turn
    render: RenderAsk | None = None
    notes: list[str] = field(default_factory=list)  # warnings (e.g. film-grammar checks)


class ProjectEditor(Protocol):
    """One project's shot list, as the director may touch it."""

    async def shotlist(self) -> ShotList: ...

    async def apply(self, edit: Edit) -> ShotList: ...

    async def apply_many(self, edits: Sequence[Edit]) -> ShotList:
        """Apply `edits` in order as one version (one undo step); all or nothing."""
        ...

    async def undo(self) -> ShotList: ...


@runtime_checkable
class KnowsProject(Protocol):
    """A `ProjectEditor` that can say which project it edits, so a direction addressed to another
    project ("project 1: delete shot 1" in project 2's chat) is refused. Optional: an editor
    without it (a planning draft) refuses every direction that names a project."""

    @property
    def project_id(self) -> int | None: ...


def project_id_of(editor: ProjectEditor) -> int | None:
    """The id of the project `editor` edits, or None when it can't say."""
    return editor.project_id if isinstance(editor, KnowsProject) else None


class Director(Protocol):
    name: str  # shown to users, e.g. "offline director (rule-based)"

    async def plan(self, brief: str, *, style: str | None = None) -> ShotList:
        """Turn a written brief into a first shot list."""
        ...

    async def direct(
        self, message: str, editor: ProjectEditor, history: Sequence[Turn] = ()
    ) -> DirectorReply:
        """Take one direction from the crew, editing through `editor`."""
        ...


@dataclass(frozen=True)
class Plan:
    """A planned shot list and what the director said about it ("" when it said nothing)."""

    shotlist: ShotList
    summary: str = ""


@runtime_checkable
class SummarizesPlans(Protocol):
    """A `Director` whose plan comes with its closing words for the crew (the LLM director's
    summary after its tool calls). Optional: `summarized_plan` falls back to a bare `plan`."""

    async def plan_with_summary(self, brief: str, *, style: str | None = None) -> Plan: ...


async def summarized_plan(director: Director, brief: str, *, style: str | None = None) -> Plan:
    """`director`'s plan for `brief`, with its summary when it gives one.

    The summary travels with the shot list rather than on the director, so two projects planned
    at once by one director can't swap summaries.
    """
    if isinstance(director, SummarizesPlans):
        return await director.plan_with_summary(brief, style=style)
    return Plan(await director.plan(brief, style=style))


class MemoryEditor:
    """A `ProjectEditor` over an in-memory shot list: used while planning, before a project is stored."""

    def __init__(self, shotlist: ShotList | None = None, *, project_id: int | None = None) -> None:
        self._versions = [shotlist or ShotList()]
        self._project_id = project_id

    @property
    def project_id(self) -> int | None:
        """The stored project this draft stands for, if any (tests stand one in for the store)."""
        return self._project_id

    async def shotlist(self) -> ShotList:
        return self._versions[-1]

    async def apply(self, edit: Edit) -> ShotList:
        self._versions.append(apply_edit(self._versions[-1], edit))
        return self._versions[-1]

    async def apply_many(self, edits: Sequence[Edit]) -> ShotList:
        if not edits:
            raise EditError("That changes nothing: there are no edits to apply.")
        self._versions.append(apply_edits(self._versions[-1], edits))
        return self._versions[-1]

    async def undo(self) -> ShotList:
        if len(self._versions) == 1:
            raise EditError("Nothing to undo: this is the first version of the shot list.")
        self._versions.pop()
        return self._versions[-1]
