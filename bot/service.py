"""The production service: what a crew can do, independent of the chat it happens in.

The terminal chat and the Discord bot are thin front-ends over this class. It wires the store
(studio), the director (agents) and, for renders, the render pool (render).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image

from agents.base import Director, DirectorReply, RenderAsk
from agents.offline import grammar_notes
from bot.camera import ANIMATIC, RenderDefaults, request_for
from render.pool import (
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobQueued,
    JobStarted,
    PoolEvent,
    RenderJob,
    RenderPool,
)
from render.types import Previz, RenderError, RenderRequest
from studio.diff import diff
from studio.edits import Edit, describe_edit
from studio.errors import InvalidValue, LimitReached, NotFound, SlateError
from studio.export import export
from studio.models import Shot, ShotList, new_seed
from studio.store import Project, RenderJobRecord, Store, Take, Version

log = logging.getLogger(__name__)

MAX_BRIEF = 4000
MAX_DIRECTION = 2000
UNRECORDED = "The render ended but could not be recorded; it has been logged. Render it again."


@dataclass(frozen=True)
class DirectorTurn:
    """The outcome of one message to the director."""

    project: Project
    reply: str
    changes: list[str]  # the shot list diff, one line per change
    render: RenderAsk | None = None
    notes: list[str] = field(default_factory=list)


class StoredEditor:
    """The `ProjectEditor` the director gets: one project, one author, every `apply` or
    `apply_many` call a stored version."""

    def __init__(self, store: Store, scope: str, project_id: int, author: str) -> None:
        self._store, self._scope, self._id, self._author = store, scope, project_id, author

    async def shotlist(self) -> ShotList:
        return (await self._store.project(self._scope, self._id)).shotlist

    async def apply(self, edit: Edit) -> ShotList:
        return (await self._store.apply(self._scope, self._id, edit, self._author)).shotlist

    async def apply_many(self, edits: Sequence[Edit]) -> ShotList:
        """All of `edits` as one stored version: one direction is one undo step."""
        return (await self._store.apply_many(self._scope, self._id, edits, self._author)).shotlist

    async def undo(self) -> ShotList:
        return (await self._store.undo(self._scope, self._id, self._author)).shotlist


@dataclass(frozen=True)
class ProductionEvent:
    """A render job's news, with the project and shot it belongs to (for front-ends)."""

    kind: str  # queued | started | progress | finished | failed | cancelled
    job_id: str
    batch_id: str
    scope: str
    project_id: int
    shot_uid: str
    shot_number: str
    position: int = 0
    step: int = 0
    total: int = 0
    eta_s: float | None = None
    preview: Any = None  # a PIL image while rendering, now and then
    take: Take | None = None
    cache_hit: bool = False
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.kind in ("finished", "failed", "cancelled")


@dataclass(frozen=True)
class RenderBatch:
    id: str
    project_id: int
    jobs: list[tuple[str, str]]  # (job id, shot number) in shot order
    skipped: list[str]  # shot numbers already rendered as they are now


@dataclass(frozen=True)
class _JobRef:
    batch_id: str
    scope: str
    project_id: int
    shot_uid: str
    shot_number: str
    fingerprint: str
    request: RenderRequest


@dataclass(frozen=True)
class Cut:
    film: Path
    timeline: Path
    contact_sheet: Path
    takes: list[Take]


class Production:
    def __init__(
        self,
        store: Store,
        director: Director,
        *,
        pool: RenderPool | None = None,
        render_defaults: RenderDefaults | None = None,
        cuts_dir: Path | None = None,
        max_open_renders: int = 24,
    ) -> None:
        self.store = store
        self.director = director
        self.pool = pool
        self.render_defaults = render_defaults or RenderDefaults()
        self.cuts_dir = cuts_dir or Path("cuts")
        self.max_open_renders = max_open_renders
        self._jobs: dict[str, _JobRef] = {}
        self._listeners: list[Callable[[ProductionEvent], None]] = []
        self._inbox: asyncio.Queue[PoolEvent] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Event] = {}
        if pool is not None:
            pool.add_listener(self._inbox.put_nowait)

    async def start_project(
        self,
        scope: str,
        owner: str,
        brief: str,
        *,
        style: str | None = None,
        room: str | None = None,
    ) -> DirectorTurn:
        brief = brief.strip()
        if not brief:
            raise InvalidValue("Tell me about the film first: a sentence or two of brief.")
        if len(brief) > MAX_BRIEF:
            raise InvalidValue(f"That brief is {len(brief)} characters; keep it under {MAX_BRIEF}.")
        shotlist = await self.director.plan(brief, style=style)
        project = await self.store.create_project(scope, owner, shotlist, room=room)
        await self.store.add_turn(project.id, "user", owner, brief)
        reply = (
            f"Planned **{shotlist.title}**: {len(shotlist.shots)} shots, "
            f"{shotlist.runtime:g} s, {shotlist.style.name} style."
        )
        await self.store.add_turn(project.id, "director", self.director.name, reply)
        changes = diff(ShotList(), shotlist)
        return DirectorTurn(project, reply, changes, notes=grammar_notes(shotlist))

    async def direct(self, scope: str, project_id: int, author: str, message: str) -> DirectorTurn:
        message = message.strip()
        if not message:
            raise InvalidValue("Say what to change, e.g. “shot 3: slow dolly-in, close-up”.")
        if len(message) > MAX_DIRECTION:
            raise InvalidValue(
                f"That message is too long ({len(message)} characters); keep it under {MAX_DIRECTION}."
            )
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
        return DirectorTurn(
            after, reply.text, diff(before.shotlist, after.shotlist), reply.render, reply.notes
        )

    async def project(self, scope: str, project_id: int | None = None) -> Project:
        """A project by id, or the scope's most recent one."""
        if project_id is not None:
            return await self.store.project(scope, project_id)
        projects = await self.store.projects(scope, limit=1)
        if not projects:
            raise InvalidValue("There is no project yet: start one with a brief.")
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
        return DirectorTurn(
            after, f"Restored version {version}.", diff(before.shotlist, after.shotlist)
        )

    async def history(self, scope: str, project_id: int) -> list[Version]:
        return await self.store.versions(scope, project_id)

    async def export(self, scope: str, project_id: int, fmt: str) -> str:
        project = await self.store.project(scope, project_id)
        return export(project.shotlist, fmt)

    async def edit(self, scope: str, project_id: int, author: str, edit: Edit) -> DirectorTurn:
        """Apply one typed edit directly (a form or command, not a conversation)."""
        before = await self.store.project(scope, project_id)
        after = await self.store.apply(scope, project_id, edit, author)
        return DirectorTurn(
            after, f"Done: {describe_edit(edit)}.", diff(before.shotlist, after.shotlist)
        )

    # --- renders ---------------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[ProductionEvent], None]) -> None:
        """Call `listener(event)` on the event loop for every render event, after it is stored."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[ProductionEvent], None]) -> None:
        self._listeners.remove(listener)

    async def start(self) -> None:
        """Start handling render events and resubmit every job a previous run left open."""
        if self.pool is None or self._consumer is not None:
            return
        self._consumer = asyncio.create_task(self._consume(), name="production-events")
        for record in await self.store.open_jobs():
            project = await self.store.project_by_id(record.project_id)
            ref = _JobRef(
                record.batch_id,
                project.scope,
                record.project_id,
                record.shot_uid,
                record.shot_number,
                record.fingerprint,
                _request(record.request),
            )
            log.info("resuming render job %s (shot %s)", record.id, record.shot_number)
            await self.store.set_job_state(record.id, "queued")
            self._submit(record.id, record.user, record.priority, ref)

    async def close(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()
            await asyncio.gather(self._consumer, return_exceptions=True)
            self._consumer = None

    def _require_pool(self) -> RenderPool:
        if self.pool is None:
            raise SlateError("Rendering is not set up in this session.")
        return self.pool

    def _submit(self, job_id: str, user: str, priority: int, ref: _JobRef) -> None:
        self._jobs[job_id] = ref
        self._waiters.setdefault(ref.batch_id, asyncio.Event())
        label = f"#{ref.project_id} shot {ref.shot_number}"
        self._require_pool().submit(
            RenderJob(job_id, user, ref.request, priority, label, project_id=ref.project_id)
        )

    async def render(
        self,
        scope: str,
        project_id: int,
        user: str,
        shots: Sequence[str] = (),
        *,
        model: str | None = None,
        force: bool = False,
        reroll: bool = False,
        priority: int = 0,
    ) -> RenderBatch:
        """Queue renders of the named shots (all when none are named). Shots whose current look
        already has a take are skipped unless `force`; `reroll` renders with fresh seeds."""
        self._require_pool()
        project = await self.store.project(scope, project_id)
        shotlist = project.shotlist
        if not shotlist.shots:
            raise InvalidValue("This shot list has no shots to render yet.")
        chosen = [shotlist.shot(number) for number in shots] if shots else list(shotlist.shots)
        defaults = self._defaults(model)
        try:
            planned = [(shot, request_for(shotlist, shot, defaults)) for shot in chosen]
        except RenderError as error:
            raise InvalidValue(str(error)) from None
        rendered = {take.fingerprint for take in await self.store.takes(project_id)}
        in_flight = {job.fingerprint for job in await self.store.open_jobs(project_id)}
        todo: list[tuple[Shot, str, RenderRequest]] = []
        skipped: list[str] = []
        for shot, request in planned:
            key = self._fingerprint(request)
            if not (force or reroll) and (key in rendered or key in in_flight):
                skipped.append(shot.number)
                continue
            if reroll:
                request = _reseeded(request)
            todo.append((shot, key, request))
        batch_id = secrets.token_hex(6)
        if todo:
            open_now = await self.store.count_open_jobs(scope, user)
            if open_now + len(todo) > self.max_open_renders:
                raise LimitReached(
                    f"You have {open_now} renders queued or running; the limit is "
                    f"{self.max_open_renders}. Wait for some to finish or cancel a few."
                )
            rows = [
                (
                    secrets.token_hex(8),
                    shot.uid,
                    shot.number,
                    key,
                    user,
                    priority,
                    _request_data(request),
                )
                for shot, key, request in todo
            ]
            await self.store.add_batch(batch_id, project_id, user, rows)
            for (job_id, *_), (shot, key, request) in zip(rows, todo, strict=True):
                ref = _JobRef(batch_id, scope, project_id, shot.uid, shot.number, key, request)
                self._submit(job_id, user, priority, ref)
        return RenderBatch(
            batch_id, project_id, [(row[0], row[2]) for row in rows] if todo else [], skipped
        )

    async def reroll(self, scope: str, project_id: int, user: str, shot: str) -> RenderBatch:
        return await self.render(scope, project_id, user, [shot], reroll=True)

    def _fingerprint(self, request: RenderRequest) -> str:
        """What a shot looks like to the camera, renderer configuration included: a take with the
        same fingerprint needs no new render."""
        return self.pool.cache_key(request) if self.pool is not None else request.cache_key()

    def _defaults(self, model: str | None) -> RenderDefaults:
        if model is None:
            return self.render_defaults
        return (
            RenderDefaults(model=model)
            if model == ANIMATIC
            else RenderDefaults(
                model=model,
                width=self.render_defaults.width,
                height=self.render_defaults.height,
                steps=self.render_defaults.steps,
            )
        )

    async def wait(self, batch_id: str) -> list[RenderJobRecord]:
        """Wait until every job of a batch has finished, failed or been cancelled."""
        while True:
            jobs = await self.store.batch_jobs(batch_id)
            if all(job.state in ("done", "failed", "cancelled") for job in jobs):
                return jobs
            event = self._waiters.setdefault(batch_id, asyncio.Event())
            await event.wait()
            event.clear()

    async def cancel(self, scope: str, project_id: int, user: str, shot: str | None = None) -> int:
        """Cancel the project's queued and running renders (of one shot, or all); returns how many."""
        pool = self._require_pool()
        project = await self.store.project(scope, project_id)
        uid = project.shotlist.shot(shot).uid if shot else None
        count = 0
        for job in await self.store.open_jobs(project_id):
            if uid is None or job.shot_uid == uid:
                if pool.cancel(job.id):
                    count += 1
                else:  # known to the store but not the pool: close it here
                    await self.store.set_job_state(job.id, "cancelled", "cancelled")
                    count += 1
        return count

    async def delete_project(self, scope: str, project_id: int) -> None:
        """Delete a project, first stopping its queued and running renders (which would otherwise
        hold the GPU for a film nobody can see)."""
        await self.store.project(scope, project_id)  # NotFound before anything is cancelled
        if self.pool is not None:
            for job in await self.store.open_jobs(project_id):
                self.pool.cancel(job.id)  # its JobCancelled still reaches listeners and waiters
        await self.store.delete_project(scope, project_id)

    async def cancel_job(self, scope: str, job_id: str) -> bool:
        ref = self._jobs.get(job_id)
        if ref is None or ref.scope != scope:
            raise NotFound("That render is no longer running.")
        return self._require_pool().cancel(job_id)

    async def approve(
        self, scope: str, project_id: int, user: str, shot: str, take_id: int | None = None
    ) -> Take:
        project = await self.store.project(scope, project_id)
        target = project.shotlist.shot(shot)
        if take_id is None:
            takes = await self.store.takes(project_id, target.uid)
            if not takes:
                raise InvalidValue(f"Shot {target.number} has no take yet: render it first.")
            take = takes[-1]
        else:
            take = await self.store.take(project_id, take_id)
            if take.shot_uid != target.uid:
                raise InvalidValue(
                    f"Take {take_id} belongs to another shot, not shot {target.number}."
                )
        await self.store.approve(scope, project_id, target.uid, take.id, user)
        return take

    async def chosen_takes(self, scope: str, project_id: int) -> tuple[ShotList, list[Take | None]]:
        """Each shot's take for the cut: the approved one, else the newest of its current look."""
        project = await self.store.project(scope, project_id)
        approvals = await self.store.approvals(project_id)
        takes = await self.store.takes(project_id)
        by_id = {take.id: take for take in takes}
        chosen: list[Take | None] = []
        for shot in project.shotlist.shots:
            approved = by_id.get(approvals.get(shot.uid, -1))
            if approved is not None:
                chosen.append(approved)
                continue
            key = self._fingerprint(request_for(project.shotlist, shot, self.render_defaults))
            current = [t for t in takes if t.shot_uid == shot.uid and t.fingerprint == key]
            latest = [t for t in takes if t.shot_uid == shot.uid]
            pick = current or latest
            chosen.append(pick[-1] if pick else None)
        return project.shotlist, chosen

    async def cut(self, scope: str, project_id: int) -> Cut:
        """Join each shot's chosen take, in order, into the final cut with its timeline and sheet."""
        from render.cut import CutEntry, SheetEntry, contact_sheet, final_cut, write_timeline

        shotlist, takes = await self.chosen_takes(scope, project_id)
        missing = [
            shot.number for shot, take in zip(shotlist.shots, takes, strict=True) if take is None
        ]
        if not shotlist.shots:
            raise InvalidValue("There are no shots to cut.")
        if missing:
            raise InvalidValue(
                f"Shot{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                "ha{} no take yet: render first.".format("ve" if len(missing) > 1 else "s")
            )
        ready = [take for take in takes if take is not None]
        out = self.cuts_dir / f"project-{project_id}"
        entries = [
            CutEntry(
                Path(take.clip),
                _take_seconds(take),
                f"Shot {shot.number}",
                {
                    "shot": shot.number,
                    "uid": shot.uid,
                    "take": take.id,
                    "seed": take.seed,
                    "model": take.model,
                    "prompt": take.request.get("prompt", ""),
                    "size": shot.size.value,
                    "movement": shot.move_label,
                    "action": shot.description,
                },
            )
            for shot, take in zip(shotlist.shots, ready, strict=True)
        ]
        sheet = [
            SheetEntry(
                Path(take.poster),
                shot.number,
                shot.size.abbreviation,
                shot.move_label,
                shot.description,
            )
            for shot, take in zip(shotlist.shots, ready, strict=True)
        ]

        def build() -> Cut:
            out.mkdir(parents=True, exist_ok=True)
            film = final_cut([entry.clip for entry in entries], out / "final-cut.mp4")
            timeline = write_timeline(
                entries, out / "final-cut.otio", fps=ready[0].request.get("fps", 16)
            )
            board = contact_sheet(sheet, out / "contact-sheet.png")
            return Cut(film, timeline, board, ready)

        return await asyncio.to_thread(build)

    async def storyboard(self, scope: str, project_id: int) -> Path:
        """A contact sheet of the current shot list: rendered posters where there are takes,
        animatic key frames for the rest, so a board exists before anything is rendered."""
        from render.animatic import AnimaticRenderer
        from render.cut import SheetEntry, contact_sheet

        shotlist, takes = await self.chosen_takes(scope, project_id)
        if not shotlist.shots:
            raise InvalidValue("There are no shots to board.")
        defaults = RenderDefaults()
        out = self.cuts_dir / f"project-{project_id}" / "storyboard.png"

        def build() -> Path:
            entries = []
            animatic = AnimaticRenderer()
            for shot, take in zip(shotlist.shots, takes, strict=True):
                if take is not None:
                    image: Any = Path(take.poster)
                else:
                    request = request_for(shotlist, shot, defaults)
                    frames = animatic.render(replace(request, frames=1)).frames
                    image = Image.fromarray(frames[0])
                entries.append(
                    SheetEntry(
                        image,
                        shot.number,
                        shot.size.abbreviation,
                        shot.move_label,
                        shot.description,
                    )
                )
            out.parent.mkdir(parents=True, exist_ok=True)
            return contact_sheet(entries, out)

        return await asyncio.to_thread(build)

    async def _consume(self) -> None:
        while True:
            event = await self._inbox.get()
            try:
                await self._handle(event)
            except Exception:
                log.exception("could not record render event %s", event)
                if isinstance(event, JobFinished | JobFailed | JobCancelled):
                    await self._abandon(event.job_id)

    async def _abandon(self, job_id: str) -> None:
        """A job ended but its outcome could not be stored (its project was deleted, the database
        failed): close it as failed where possible and release its waiters, so nobody waits on a
        job that will never report again."""
        ref = self._jobs.pop(job_id, None)
        if ref is None:
            return
        try:
            await self.store.set_job_state(job_id, "failed", UNRECORDED)
        except Exception:
            log.exception("could not close render job %s", job_id)
        waiter = self._waiters.get(ref.batch_id)
        if waiter is not None:
            waiter.set()
        news = ProductionEvent(
            "failed",
            job_id,
            ref.batch_id,
            ref.scope,
            ref.project_id,
            ref.shot_uid,
            ref.shot_number,
            reason=UNRECORDED,
        )
        for listener in list(self._listeners):
            try:
                listener(news)
            except Exception:
                log.exception("render listener failed on %s", news.kind)

    async def _handle(self, event: PoolEvent) -> None:
        ref = self._jobs.get(event.job_id)
        if ref is None:
            return
        base = ProductionEvent(
            "queued",
            event.job_id,
            ref.batch_id,
            ref.scope,
            ref.project_id,
            ref.shot_uid,
            ref.shot_number,
        )
        news: ProductionEvent
        match event:
            case JobQueued(position=position):
                news = replace(base, position=position)
            case JobStarted():
                await self.store.set_job_state(event.job_id, "running")
                news = replace(base, kind="started")
            case JobProgress(step=step, total=total, eta_s=eta, preview=preview):
                news = replace(
                    base, kind="progress", step=step, total=total, eta_s=eta, preview=preview
                )
            case JobFinished(clip=clip, poster=poster, seconds=seconds, cache_hit=hit):
                request = ref.request
                take = await self.store.finish_job(
                    event.job_id,
                    ref.project_id,
                    ref.shot_uid,
                    ref.fingerprint,
                    request.seed,
                    request.model,
                    _request_data(request),
                    str(clip),
                    str(poster),
                    seconds,
                )
                news = replace(base, kind="finished", take=take, cache_hit=hit)
            case JobFailed(reason=reason):
                await self.store.set_job_state(event.job_id, "failed", reason)
                news = replace(base, kind="failed", reason=reason)
            case JobCancelled():
                await self.store.set_job_state(event.job_id, "cancelled", "cancelled")
                news = replace(base, kind="cancelled", reason="cancelled")
            case _:
                return
        if news.done:
            self._jobs.pop(event.job_id, None)
            waiter = self._waiters.get(ref.batch_id)
            if waiter is not None:
                waiter.set()
        for listener in list(self._listeners):
            try:
                listener(news)
            except Exception:
                log.exception("render listener failed on %s", news.kind)


def _request_data(request: RenderRequest) -> dict[str, Any]:
    return asdict(request)


def _request(data: dict[str, Any]) -> RenderRequest:
    previz = data.get("previz") or {}
    previz["characters"] = tuple(previz.get("characters", ()))
    return RenderRequest(**{**data, "previz": Previz(**previz)})


def _reseeded(request: RenderRequest) -> RenderRequest:
    return replace(request, seed=new_seed())


def _take_seconds(take: Take) -> float:
    return float(take.request.get("frames", 1)) / float(take.request.get("fps", 16))
