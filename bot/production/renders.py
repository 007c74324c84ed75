"""Renders: shots turned into render jobs (only what changed), submitted to the pool, cancelled,
and resumed after a restart. Their news is recorded by `RenderReports`."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from bot.camera import ANIMATIC, RenderDefaults, request_for
from bot.production.checks import check_capacity, no_rendering
from bot.production.models import QueueEntry, RenderBatch
from bot.production.reports import JobRef, RenderReports
from render.pool import RenderJob, RenderPool
from render.types import (
    ElementKind,
    InvalidRenderRequest,
    ReferenceImage,
    RenderError,
    RenderRequest,
    Tier,
)
from studio.errors import InvalidValue, NotFound
from studio.images import ImageStore
from studio.models import Shot, ShotList, new_seed
from studio.records import JobState, NewJob, Project, Take
from studio.store import Store

log = logging.getLogger(__name__)

LEASE_S = 60.0  # a job's owner renews its lease well within this; a dead owner's runs out


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
        self.images = store.images_dir  # reference images, named in requests by path
        # This run's name on the jobs it holds: another process (or this one after a restart)
        # takes a job over only once its lease has run out.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease_s = LEASE_S

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

    def request(
        self,
        shotlist: ShotList,
        shot: Shot,
        model: str | None = None,
        *,
        first_frame: ReferenceImage | None = None,
        **choices: Any,
    ) -> RenderRequest:
        """The shot's render request; a request the model can't render is the crew's to fix.
        `choices` override the session's render defaults for this request (camera_control...)."""
        defaults = replace(
            self._defaults(model), **{k: v for k, v in choices.items() if v is not None}
        )
        try:
            return request_for(
                shotlist, shot, defaults, images=self.images, first_frame=first_frame
            )
        except RenderError as error:
            raise InvalidValue(str(error)) from None

    def _defaults(self, model: str | None) -> RenderDefaults:
        if model is None:
            return self.defaults
        if model == ANIMATIC:
            return RenderDefaults(model=model)
        return replace(self.defaults, model=model)

    async def take_over(self) -> list[str]:
        """Resubmit every job no live process holds (a previous run was killed, or another
        process died); returns their batch ids. A job whose request can't be read is failed."""
        await expire_dead_owners(self.store, self.owner)
        resumed: list[str] = []
        for record in await self.store.claim_orphaned_jobs(self.owner, self.lease_s):
            if self.reports.tracked(record.id) is not None:
                continue  # ours already (its lease lapsed while we held it): never twice
            try:
                request = RenderRequest.from_data(record.request)
                project = await self.store.project_by_id(record.project_id)
            except (InvalidRenderRequest, NotFound) as error:
                log.warning("render job %s can't be resumed: %s", record.id, error)
                reason = f"This render could not be resumed: {error}"
                await self.store.set_job_state(record.id, JobState.FAILED, reason)
                continue
            ref = JobRef(
                record.batch_id,
                project.scope,
                record.project_id,
                record.shot_uid,
                record.shot_number,
                record.fingerprint,
                request,
            )
            log.info("resuming render job %s (shot %s)", record.id, record.shot_number)
            await self.store.set_job_state(record.id, JobState.QUEUED)
            self._submit(record.id, record.user, record.priority, ref)
            if record.batch_id not in resumed:
                resumed.append(record.batch_id)
        return resumed

    async def keep_leases(self) -> list[str]:
        """Renew this run's leases and take over what dead processes left; the batches taken."""
        await self.store.renew_leases(self.owner, self.lease_s)
        return await self.take_over()

    async def release(self) -> None:
        """On a clean close: let another process take this run's unfinished jobs at once."""
        await self.store.release_jobs(self.owner)

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
        limit: int | None = None,
        camera_control: str | None = None,
        control_strength: float | None = None,
        quality: str | None = None,
    ) -> RenderBatch:
        """Queue renders of the named shots (all when none are named). Shots whose current look
        already has a take are skipped unless `force`; `reroll` renders with fresh seeds.
        `limit`: the user's open-render limit for this call, when not the interactive one;
        `quality`: "draft" or "final" instead of the session's tier."""
        self.require_pool()
        shotlist = project.shotlist
        if not shotlist.shots:
            raise InvalidValue("This shot list has no shots to render yet.")
        chosen = [shotlist.shot(number) for number in shots] if shots else list(shotlist.shots)
        choices = {
            "camera_control": camera_control,
            "control_strength": control_strength,
            "tier": quality,
        }
        usable = await usable_takes(self.store, project.id)
        firsts = await continuity(shotlist, chosen, usable, self.images)
        planned = [
            (shot, self.request(shotlist, shot, model, first_frame=firsts.get(shot.uid), **choices))
            for shot in chosen
        ]
        return await self.queue_requests(
            project,
            user,
            planned,
            usable,
            force=force,
            reroll=reroll,
            priority=priority,
            limit=limit,
        )

    async def queue_requests(
        self,
        project: Project,
        user: str,
        planned: Sequence[tuple[Shot, RenderRequest]],
        usable: Sequence[Take],
        *,
        force: bool = False,
        reroll: bool = False,
        priority: int = 0,
        limit: int | None = None,
    ) -> RenderBatch:
        """Queue these requests as one batch: those whose look already has a take (`usable`) or
        is rendering are skipped unless `force`; `reroll` gives each a fresh seed."""
        self.require_pool()
        rendered = {take.fingerprint for take in usable}
        in_flight = {job.fingerprint for job in await self.store.open_jobs(project.id)}
        todo: list[tuple[Shot, NewJob, RenderRequest]] = []
        skipped: list[str] = []
        rendering: list[str] = []
        for shot, request in planned:
            key = self.fingerprint(request)
            if not (force or reroll) and key in in_flight:
                rendering.append(shot.number)
                continue
            if not (force or reroll) and key in rendered:
                skipped.append(shot.number)
                continue
            if reroll:
                request = replace(request, seed=new_seed())
            # Drafts go first: a crew waiting to review should not queue behind finishing work
            # (benchmarks/farm_busy_day.py: draft wait p99 664 s → 59 s, finals' p99 +16%).
            rank = priority + (1 if request.tier is Tier.DRAFT else 0)
            job = NewJob(
                secrets.token_hex(8), shot.uid, shot.number, key, user, rank, request.to_data()
            )
            todo.append((shot, job, request))
        batch_id = secrets.token_hex(6)
        if todo:
            open_now = await self.store.count_open_jobs(project.scope, user)
            check_capacity(open_now, len(todo), limit or self.max_open_renders)
            await self.store.add_batch(
                batch_id,
                project.id,
                user,
                [job for _, job, _ in todo],
                owner=self.owner,
                lease_s=self.lease_s,
            )
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
                self._submit(job.id, user, job.priority, ref)
        jobs = [(job.id, shot.number) for shot, job, _ in todo]
        return RenderBatch(batch_id, project.id, jobs, skipped, project.room, rendering)

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


async def usable_takes(store: Store, project_id: int) -> list[Take]:
    """The project's takes whose clip is whole on disk: a shot whose clip was deleted or cut
    short needs a render again."""
    from render.encode import clip_problem  # PyAV: only when renders are asked for

    def whole(clip: Path) -> bool:
        problem = clip_problem(clip)
        if problem is not None and clip.exists():
            log.warning("clip %s %s; removing it so the shot renders again", clip, problem)
            clip.unlink(missing_ok=True)  # else the clip cache would serve it again
        return problem is None

    takes = await store.takes(project_id)
    present = await asyncio.to_thread(lambda: [whole(Path(t.clip)) for t in takes])
    return [take for take, here in zip(takes, present, strict=True) if here]


async def continuity(
    shotlist: ShotList, shots: list[Shot], takes: list[Take], images: Path | None
) -> dict[str, ReferenceImage]:
    """First frames for shots that continue the previous one: the last frame of that shot's
    newest take, kept in the image store (a shot whose previous shot has no take yet starts
    from its prompt, and follows once that take exists)."""
    if images is None:
        return {}
    wanted = {}
    for shot in shots:
        index = shotlist.index_of(shot.number)
        if shot.continues and index > 0:
            previous = shotlist.shots[index - 1]
            latest = [t for t in takes if t.shot_uid == previous.uid]
            if latest:
                wanted[shot.uid] = (previous.number, Path(latest[-1].clip))
    if not wanted:
        return {}
    return await asyncio.to_thread(last_frames, wanted, images)


def last_frames(wanted: dict[str, tuple[str, Path]], images: Path) -> dict[str, ReferenceImage]:
    """Each clip's last frame as a stored still, keyed like `wanted` (blocking)."""
    from render.encode import decode_frames

    stills = ImageStore(images)
    firsts = {}
    for uid, (number, clip) in wanted.items():
        tail = deque(decode_frames(clip), maxlen=1)
        if not tail:
            continue
        frame = tail[0]
        out = io.BytesIO()
        Image.fromarray(frame).save(out, format="PNG")
        info = stills.put(out.getvalue())
        firsts[uid] = ReferenceImage(
            path=str(stills.path(info.sha256, info.suffix)),
            sha256=info.sha256,
            kind=ElementKind.LOCATION,
            name=f"shot {number}",
            view="last frame",
        )
    return firsts


async def expire_dead_owners(store: Store, me: str) -> None:
    """A run on this machine that was killed can't release its jobs: end its leases now
    rather than when they would run out, so its jobs resume at once."""
    from render.encode import process_running

    if os.name != "posix":
        return  # no cheap way to ask whether a pid lives; leases run out instead
    host = socket.gethostname()
    for owner in {job.owner for job in await store.open_jobs() if job.owner}:
        name, _, rest = owner.partition(":")
        pid = rest.partition(":")[0]
        mine = name == host and pid.isdigit() and owner != me
        if mine and not process_running(int(pid)):
            log.info("render jobs of %s: its process is gone; taking them over", owner)
            await store.release_jobs(owner)


async def render_queue(pool: RenderPool, store: Store, scope: str) -> list[QueueEntry]:
    """What is rendering and waiting, of this scope's projects only."""
    titles: dict[int, str | None] = {}  # project id → title, None: another scope's
    entries = []
    for entry in pool.queue():
        if entry.project_id is None:
            continue
        if entry.project_id not in titles:
            try:
                titles[entry.project_id] = (await store.project(scope, entry.project_id)).title
            except NotFound:
                titles[entry.project_id] = None
        title = titles[entry.project_id]
        if title is not None:
            entries.append(
                QueueEntry(entry.project_id, title, entry.label, entry.position, entry.user)
            )
    return entries
