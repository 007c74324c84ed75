"""Renders: shots turned into render jobs (only what changed), submitted to the pool, cancelled,
and resumed after a restart. Their news is recorded by `RenderReports`."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import replace

from bot.camera import ANIMATIC, RenderDefaults, request_for
from bot.production.checks import check_capacity, no_rendering
from bot.production.models import QueueEntry, RenderBatch
from bot.production.reports import JobRef, RenderReports
from render.pool import RenderJob, RenderPool
from render.types import RenderError, RenderRequest
from studio.errors import InvalidValue, NotFound
from studio.models import Shot, ShotList, new_seed
from studio.records import JobState, NewJob, Project
from studio.store import Store

log = logging.getLogger(__name__)


class Renders:
    def __init__(
        self,
        store: Store,
        reports: RenderReports,
        pool: RenderPool | None,
        defaults: RenderDefaults,
        max_open_renders: int,
    ) -> None:
        self.store = store
        self.reports = reports
        self.pool = pool
        self.defaults = defaults
        self.max_open_renders = max_open_renders

    def require_pool(self) -> RenderPool:
        if self.pool is None:
            raise no_rendering()
        return self.pool

    async def check_render(self, scope: str, user: str) -> None:
        """What can be refused before anything is planned: no render pool, or the user already
        at the open-render limit."""
        self.require_pool()
        open_now = await self.store.count_open_jobs(scope, user)
        check_capacity(open_now, 1, self.max_open_renders)

    def fingerprint(self, request: RenderRequest) -> str:
        """What a shot looks like to the camera, renderer configuration included: a take with the
        same fingerprint needs no new render."""
        return self.pool.cache_key(request) if self.pool is not None else request.cache_key()

    def request(self, shotlist: ShotList, shot: Shot, model: str | None = None) -> RenderRequest:
        """The shot's render request; a request the model can't render is the crew's to fix."""
        try:
            return request_for(shotlist, shot, self._defaults(model))
        except RenderError as error:
            raise InvalidValue(str(error)) from None

    def _defaults(self, model: str | None) -> RenderDefaults:
        if model is None:
            return self.defaults
        if model == ANIMATIC:
            return RenderDefaults(model=model)
        return replace(self.defaults, model=model)

    async def start(self) -> None:
        """Resubmit every job a previous run left open."""
        for record in await self.store.open_jobs():
            project = await self.store.project_by_id(record.project_id)
            ref = JobRef(
                record.batch_id,
                project.scope,
                record.project_id,
                record.shot_uid,
                record.shot_number,
                record.fingerprint,
                RenderRequest.from_data(record.request),
            )
            log.info("resuming render job %s (shot %s)", record.id, record.shot_number)
            await self.store.set_job_state(record.id, JobState.QUEUED)
            self._submit(record.id, record.user, record.priority, ref)

    def _submit(self, job_id: str, user: str, priority: int, ref: JobRef) -> None:
        self.reports.track(job_id, ref)
        label = f"#{ref.project_id} shot {ref.shot_number}"
        self.require_pool().submit(
            RenderJob(job_id, user, ref.request, priority, label, project_id=ref.project_id)
        )

    async def render(
        self,
        project: Project,
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
        self.require_pool()
        shotlist = project.shotlist
        if not shotlist.shots:
            raise InvalidValue("This shot list has no shots to render yet.")
        chosen = [shotlist.shot(number) for number in shots] if shots else list(shotlist.shots)
        planned = [(shot, self.request(shotlist, shot, model)) for shot in chosen]
        rendered = {take.fingerprint for take in await self.store.takes(project.id)}
        in_flight = {job.fingerprint for job in await self.store.open_jobs(project.id)}
        todo: list[tuple[Shot, NewJob, RenderRequest]] = []
        skipped: list[str] = []
        for shot, request in planned:
            key = self.fingerprint(request)
            if not (force or reroll) and (key in rendered or key in in_flight):
                skipped.append(shot.number)
                continue
            if reroll:
                request = replace(request, seed=new_seed())
            job = NewJob(
                secrets.token_hex(8), shot.uid, shot.number, key, user, priority, request.to_data()
            )
            todo.append((shot, job, request))
        batch_id = secrets.token_hex(6)
        if todo:
            open_now = await self.store.count_open_jobs(project.scope, user)
            check_capacity(open_now, len(todo), self.max_open_renders)
            await self.store.add_batch(batch_id, project.id, user, [job for _, job, _ in todo])
            for shot, job, request in todo:
                ref = JobRef(
                    batch_id,
                    project.scope,
                    project.id,
                    shot.uid,
                    shot.number,
                    job.fingerprint,
                    request,
                )
                self._submit(job.id, user, priority, ref)
        jobs = [(job.id, shot.number) for shot, job, _ in todo]
        return RenderBatch(batch_id, project.id, jobs, skipped, project.room)

    async def cancel(self, project: Project, shot_uid: str | None = None) -> int:
        """Cancel the project's queued and running renders (of one shot, or all); returns how many."""
        pool = self.require_pool()
        count = 0
        for job in await self.store.open_jobs(project.id):
            if shot_uid is None or job.shot_uid == shot_uid:
                if not pool.cancel(job.id):  # known to the store but not the pool: close it here
                    await self.store.set_job_state(job.id, JobState.CANCELLED, "cancelled")
                count += 1
        return count

    async def cancel_batch(self, project: Project, batch_id: str) -> int:
        """Cancel what is still open in one of the project's batches; returns how many."""
        pool = self.require_pool()
        jobs = await self.store.batch_jobs(batch_id)
        if not jobs or any(job.project_id != project.id for job in jobs):
            raise InvalidValue("That render batch is not part of this project.")
        return sum(
            1
            for job in jobs
            if job.state.open
            and (ref := self.reports.tracked(job.id)) is not None
            and ref.scope == project.scope
            and pool.cancel(job.id)
        )

    async def stop(self, project: Project) -> None:
        """Stop a project's jobs before it is deleted; their cancellations still reach listeners."""
        if self.pool is not None:
            for job in await self.store.open_jobs(project.id):
                self.pool.cancel(job.id)

    async def queue(self, scope: str) -> list[QueueEntry]:
        """What is rendering and waiting, of this scope's projects only."""
        pool = self.require_pool()
        titles: dict[int, str | None] = {}  # project id → title, None: another scope's
        entries = []
        for entry in pool.queue():
            if entry.project_id is None:
                continue
            if entry.project_id not in titles:
                try:
                    titles[entry.project_id] = (
                        await self.store.project(scope, entry.project_id)
                    ).title
                except NotFound:
                    titles[entry.project_id] = None
            title = titles[entry.project_id]
            if title is not None:
                entries.append(
                    QueueEntry(entry.project_id, title, entry.label, entry.position, entry.user)
                )
        return entries
