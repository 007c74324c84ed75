"""Direction: the conversation that writes the shot list (plan, revise, undo, revert, edit)."""

from __future__ import annotations

from collections.abc import Sequence

from agents.base import Director, DirectorReply, summarized_plan
from agents.offline import grammar_notes
from bot.production.cast import bible_notes
from bot.production.checks import NO_PROJECT, check_brief, check_direction
from bot.production.models import DirectorTurn
from studio.diff import diff
from studio.edits import Edit, describe_edit
from studio.errors import InvalidValue, SlateError
from studio.export import export
from studio.models import ShotList
from studio.records import Project, Version
from studio.store import Store


class StoredEditor:
    """The `ProjectEditor` the director gets: one project, one author, every `apply` or
    `apply_many` call a stored version."""

    def __init__(self, store: Store, scope: str, project_id: int, author: str) -> None:
        self._store, self._scope, self.project_id, self._author = (
            store,
            scope,
            project_id,
            author,
        )

    async def shotlist(self) -> ShotList:
        return (await self._store.project(self._scope, self.project_id)).shotlist

    async def apply(self, edit: Edit) -> ShotList:
        return (await self._store.apply(self._scope, self.project_id, edit, self._author)).shotlist

    async def apply_many(self, edits: Sequence[Edit]) -> ShotList:
        """All of `edits` as one stored version: one direction is one undo step."""
        project = await self._store.apply_many(self._scope, self.project_id, edits, self._author)
        return project.shotlist

    async def undo(self) -> ShotList:
        return (await self._store.undo(self._scope, self.project_id, self._author)).shotlist


class Direction:
    """Projects and their conversation with the director."""

    def __init__(self, store: Store, director: Director) -> None:
        self.store = store
        self.director = director

    async def start_project(
        self, scope: str, owner: str, brief: str, *, style: str | None = None
    ) -> DirectorTurn:
        brief = check_brief(brief)
        planned = await summarized_plan(self.director, brief, style=style)
        shotlist = planned.shotlist
        project = await self.store.create_project(scope, owner, shotlist)
        await self.store.add_turn(project.id, "user", owner, brief)
        reply = (
            f"Planned **{shotlist.title}**: {len(shotlist.shots)} shots, "
            f"{shotlist.runtime:g} s, {shotlist.style.name} style."
        )
        if planned.summary:  # the director's own closing words about its plan
            reply += f"\n\n{planned.summary}"
        await self.store.add_turn(project.id, "director", self.director.name, reply)
        return DirectorTurn(
            project, reply, diff(ShotList(), shotlist), notes=grammar_notes(shotlist)
        )

    async def direct(self, scope: str, project_id: int, author: str, message: str) -> DirectorTurn:
        message = check_direction(message)
        before = await self.store.project(scope, project_id)
        history = await self.store.turns(project_id)
        await self.store.add_turn(project_id, "user", author, message)
        editor = StoredEditor(self.store, scope, project_id, author)
        try:
            reply: DirectorReply = await self.director.direct(message, editor, history)
        except SlateError as error:
            reply = DirectorReply(text=str(error))
        after = await self.store.project(scope, project_id)
        await self.store.add_turn(project_id, "director", self.director.name, reply.text)
        changes = diff(before.shotlist, after.shotlist)
        notes = [*reply.notes, *bible_notes(before.shotlist, after.shotlist)]
        return DirectorTurn(after, reply.text, changes, reply.render, notes)

    async def project(self, scope: str, project_id: int | None = None) -> Project:
        """A project by id, or the scope's most recent one."""
        if project_id is not None:
            return await self.store.project(scope, project_id)
        projects = await self.store.projects(scope, limit=1)
        if not projects:
            raise InvalidValue(NO_PROJECT)
        return projects[0]

    async def undo(self, scope: str, project_id: int, author: str) -> DirectorTurn:
        before = await self.store.project(scope, project_id)
        after = await self.store.undo(scope, project_id, author)
        return DirectorTurn(
            after,
            f"Undone: the shot list is as it was before the last change "
            f"(now version {after.head}).",
            diff(before.shotlist, after.shotlist),
        )

    async def revert(self, scope: str, project_id: int, version: int, author: str) -> DirectorTurn:
        before = await self.store.project(scope, project_id)
        after = await self.store.revert(scope, project_id, version, author)
        changes = diff(before.shotlist, after.shotlist)
        return DirectorTurn(after, f"Restored version {version}.", changes)

    async def history(self, scope: str, project_id: int) -> list[Version]:
        return await self.store.versions(scope, project_id)

    async def export(self, scope: str, project_id: int, fmt: str) -> str:
        project = await self.store.project(scope, project_id)
        return export(project.shotlist, fmt)

    async def edit(self, scope: str, project_id: int, author: str, edit: Edit) -> DirectorTurn:
        """Apply one typed edit directly (a form or command, not a conversation)."""
        before = await self.store.project(scope, project_id)
        after = await self.store.apply(scope, project_id, edit, author)
        changes = diff(before.shotlist, after.shotlist)
        notes = bible_notes(before.shotlist, after.shotlist)
        return DirectorTurn(after, f"Done: {describe_edit(edit)}.", changes, notes=notes)
