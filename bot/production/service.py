"""The production: what a crew can do, independent of the chat it happens in.

The terminal chat and the Discord bot talk to this façade only; it delegates to four parts —
direction (the shot list's conversation), renders, render reports and post — and hands back read
models, so no front-end needs the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from agents.base import Director
from bot.camera import RenderDefaults
from bot.errors import user_message
from bot.production import checks
from bot.production.cast import Casting
from bot.production.direction import Direction
from bot.production.models import (
    Approval,
    Cut,
    DirectorTurn,
    JobSnapshot,
    QueueEntry,
    RenderBatch,
    TakeCard,
    WorkerRow,
)
from bot.production.post import Post
from bot.production.renders import Renders, render_queue, usable_takes
from bot.production.reports import Listener, RenderReports
from render.pool import RenderPool, WorkerInfo
from render.portrait import PortraitRenderer
from studio.edits import Edit
from studio.errors import InvalidValue, NotFound
from studio.images import ImageStore
from studio.records import Project, Version
from studio.store import Store

log = logging.getLogger(__name__)

BACKUP_EVERY_S = 24 * 3600.0


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
        portraits: PortraitRenderer | None = None,
    ) -> None:
        self.store = store  # for the composition root and tests; front-ends use the methods
        self.direction = Direction(store, director)
        self.reports = RenderReports(store)
        self.renders = Renders(
            store, self.reports, pool, render_defaults or RenderDefaults(), max_open_renders
        )
        self.post = Post(store, self.renders, cuts_dir or Path("cuts"))
        images = store.images_dir
        self.cast = Casting(store, ImageStore(images) if images is not None else None, portraits)
        self._started = False
        self._upkeep: asyncio.Task[None] | None = None
        self.resumed: list[str] = []  # batches this run took over from one that died
        if pool is not None:
            pool.add_listener(self.reports.hear)

    # --- the session -----------------------------------------------------------------------------

    @property
    def director_name(self) -> str:
        return self.direction.director.name

    @property
    def can_render(self) -> bool:
        return self.renders.pool is not None

    @property
    def max_open_renders(self) -> int:
        return self.renders.max_open_renders

    async def start(self) -> None:
        """Start recording render news and take over every job a run that died left open (see
        `resumed`); then keep this run's leases, take over what other dead runs leave, and back
        the store up daily."""
        if self.renders.pool is None or self._started:
            return
        self._started = True
        self.reports.start()
        self.resumed = await self.renders.take_over()
        self._upkeep = asyncio.create_task(self._keep(), name="production-upkeep")

    async def close(self) -> None:
        if self._upkeep is not None:
            self._upkeep.cancel()
            await asyncio.gather(self._upkeep, return_exceptions=True)
            self._upkeep = None
            try:
                await self.renders.release()
            except Exception as error:  # the next run takes the jobs over when leases run out
                reason = user_message(error) or repr(error)
                log.warning("could not release this run's render jobs: %s", reason)
        await self.reports.close()

    async def _keep(self) -> None:
        backed_up = time.monotonic()
        while True:
            await asyncio.sleep(self.renders.lease_s / 3)
            try:
                await self.renders.keep_leases()
                if time.monotonic() - backed_up >= BACKUP_EVERY_S:
                    backed_up = time.monotonic()
                    await self.store.backup()
            except Exception:
                log.exception("render upkeep failed; retrying")

    async def resumed_renders(self) -> list[RenderBatch]:
        """What this run took over at start and is still rendering, batch by batch."""
        batches = []
        for batch_id in self.resumed:
            snapshot = await self.reports.snapshot(batch_id)
            jobs = [(job.id, job.shot_number) for job in snapshot.jobs if job.state.open]
            if jobs:
                batches.append(RenderBatch(batch_id, snapshot.project_id, jobs, [], snapshot.room))
        return batches

    # --- checks before work (no side effects) ----------------------------------------------------

    check_brief = staticmethod(checks.check_brief)
    check_direction = staticmethod(checks.check_direction)
    check_style = staticmethod(checks.check_style)
    check_cast = staticmethod(checks.check_cast)

    async def check_render(self, scope: str, user: str) -> None:
        await self.renders.check_render(scope, user)

    async def check_undo(self, scope: str, project_id: int, author: str) -> None:
        await self.store.check_undo(scope, project_id, author)

    async def check_cut(self, scope: str, project_id: int) -> None:
        await self.post.check_cut(await self.project(scope, project_id))

    # --- projects and direction ------------------------------------------------------------------

    async def start_project(
        self, scope: str, owner: str, brief: str, *, style: str | None = None
    ) -> DirectorTurn:
        return await self.direction.start_project(scope, owner, brief, style=style)

    async def direct(self, scope: str, project_id: int, author: str, message: str) -> DirectorTurn:
        return await self.direction.direct(scope, project_id, author, message)

    async def project(self, scope: str, project_id: int | None = None) -> Project:
        """A project by id, or the scope's most recent one."""
        return await self.direction.project(scope, project_id)

    async def projects(self, scope: str, limit: int = 25) -> list[Project]:
        return await self.store.projects(scope, limit=limit)

    async def damaged_projects(self, scope: str) -> list[int]:
        """Projects whose current shot list can't be read (they are left out of `projects`)."""
        return await self.store.damaged_projects(scope)

    async def project_in_room(self, scope: str, room: str) -> Project | None:
        return await self.store.project_in_room(scope, room)

    async def open_room(self, scope: str, project_id: int, room: str) -> Project:
        """Give a project its room (a thread): where its list, progress and takes are posted."""
        await self.store.set_room(scope, project_id, room)
        return await self.project(scope, project_id)

    async def set_shotlist_message(self, scope: str, project_id: int, message: str | None) -> None:
        await self.store.set_shotlist_message(scope, project_id, message)

    async def undo(self, scope: str, project_id: int, author: str) -> DirectorTurn:
        return await self.direction.undo(scope, project_id, author)

    async def revert(self, scope: str, project_id: int, version: int, author: str) -> DirectorTurn:
        return await self.direction.revert(scope, project_id, version, author)

    async def history(self, scope: str, project_id: int) -> list[Version]:
        return await self.direction.history(scope, project_id)

    async def export(self, scope: str, project_id: int, fmt: str) -> str:
        return await self.direction.export(scope, project_id, fmt)

    async def edit(self, scope: str, project_id: int, author: str, edit: Edit) -> DirectorTurn:
        return await self.direction.edit(scope, project_id, author, edit)

    async def delete_project(self, scope: str, project_id: int) -> None:
        """Delete a project, first stopping its queued and running renders (which would otherwise
        hold the GPU for a film nobody can see)."""
        project = await self.project(scope, project_id)  # NotFound before anything is cancelled
        await self.renders.stop(project)
        await self.store.delete_project(scope, project_id)

    # --- renders ---------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(event)` on the event loop for every render event, after it is stored."""
        self.reports.add_listener(listener)

    def remove_listener(self, listener: Listener) -> None:
        self.reports.remove_listener(listener)

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
        limit: int | None = None,
        camera_control: str | None = None,
        control_strength: float | None = None,
        quality: str | None = None,
    ) -> RenderBatch:
        """Queue renders of the named shots (all when none are named). Shots whose current look
        already has a take are skipped unless `force`; `reroll` renders with fresh seeds.
        `limit` replaces the per-user open-render limit for this call (a whole-film demo)."""
        project = await self.project(scope, project_id)
        return await self.renders.render(
            project,
            user,
            shots,
            model=model,
            force=force,
            reroll=reroll,
            priority=priority,
            limit=limit,
            camera_control=camera_control,
            control_strength=control_strength,
            quality=quality,
        )

    async def finish(self, scope: str, project_id: int, user: str) -> RenderBatch:
        """The approved drafts at final quality (same seeds, references, camera control)."""
        project = await self.project(scope, project_id)
        planned, _ = await self.post.finish_plan(project)
        usable = await usable_takes(self.store, project.id)
        return await self.renders.queue_requests(project, user, planned, usable)

    async def reroll(self, scope: str, project_id: int, user: str, shot: str) -> RenderBatch:
        """A new take with a new seed; "mismatched": every shot whose move check failed."""
        if shot.strip().lower() == "mismatched":
            shots = await self.mismatched_shots(scope, project_id)
            if not shots:
                raise InvalidValue("Every shot's newest take shows the move asked for.")
            return await self.render(scope, project_id, user, shots, reroll=True)
        return await self.render(scope, project_id, user, [shot], reroll=True)

    async def mismatched_shots(self, scope: str, project_id: int) -> list[str]:
        """Shots whose newest take's measured move is not the move asked for."""
        return await self.post.mismatched(await self.project(scope, project_id))

    async def wait(self, batch_id: str) -> list[JobSnapshot]:
        """Wait until every job of a batch has finished, failed or been cancelled."""
        return await self.reports.wait(batch_id)

    async def cancel(self, scope: str, project_id: int, user: str, shot: str | None = None) -> int:
        """Cancel the project's queued and running renders (of one shot, or all); returns how many."""
        project = await self.project(scope, project_id)
        uid = project.shotlist.shot(shot).uid if shot else None
        return await self.renders.cancel(project, uid)

    async def cancel_batch(self, scope: str, project_id: int, batch_id: str) -> int:
        return await self.renders.cancel_batch(await self.project(scope, project_id), batch_id)

    async def queue(self, scope: str) -> list[QueueEntry]:
        return await render_queue(self.renders.require_pool(), self.store, scope)

    async def workers(self, scope: str, report: list[WorkerInfo] | None = None) -> list[WorkerRow]:
        """The render workers (farm actors or local threads) and what each renders now; a job
        of another scope's project shows as "another crew's film". `report`: workers another
        process runs (a bot's farm, seen by `slate farm status`), else this one's pool's
        ([] without renders); their jobs are named from the store."""
        pool = self.renders.pool
        if report is None:
            if pool is None:
                return []
            report = pool.workers()
        queue = pool.queue() if pool is not None else []
        rendering = {e.job_id: (e.project_id, e.label) for e in queue if e.position == 0}
        rows = []
        for worker in report:
            title, label = ("another crew's film", "") if worker.job_id else ("", "")
            if worker.job_id:
                project_id, job_label = rendering.get(worker.job_id) or await self._job_label(
                    worker.job_id
                )
                if project_id is not None:
                    with contextlib.suppress(NotFound):  # another scope's project: not named
                        project = await self.store.project(scope, project_id)
                        title, label = project.title, job_label
            rows.append(
                WorkerRow(worker.name, worker.node, worker.device, worker.models, title, label)
            )
        return rows

    async def _job_label(self, job_id: str) -> tuple[int | None, str]:
        try:
            record = await self.store.job(job_id)
        except NotFound:
            return None, ""
        return record.project_id, f"#{record.project_id} shot {record.shot_number}"

    # --- post ------------------------------------------------------------------------------------

    async def take_card(
        self, scope: str, project_id: int, take_id: int, shot_number: str = "?"
    ) -> TakeCard:
        return await self.post.take_card(
            await self.project(scope, project_id), take_id, shot_number
        )

    async def approve(
        self, scope: str, project_id: int, user: str, shot: str, take_id: int | None = None
    ) -> Approval:
        return await self.post.approve(await self.project(scope, project_id), user, shot, take_id)

    async def cut(self, scope: str, project_id: int) -> Cut:
        return await self.post.cut(await self.project(scope, project_id))

    async def storyboard(self, scope: str, project_id: int) -> Path:
        return await self.post.storyboard(await self.project(scope, project_id))
