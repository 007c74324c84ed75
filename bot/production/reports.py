"""Render news: the pool's events recorded in the store, then told to listeners, in order; and
what front-ends need to report a batch (snapshots, which batches still owe a report)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.errors import user_message
from bot.production.models import BatchSnapshot, JobSnapshot, ProductionEvent
from render.pool import (
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobQueued,
    JobRetried,
    JobStarted,
    PoolEvent,
)
from render.types import RenderRequest
from studio.errors import NotFound
from studio.records import JobState, NewTake
from studio.store import Store

log = logging.getLogger(__name__)

NEWS_GRACE_S = 5.0  # how long `wait` lets a recorded ending's news reach the listeners
UNRECORDED = "The render ended but could not be recorded; it has been logged. Render it again."

Listener = Callable[[ProductionEvent], None]


@dataclass(frozen=True)
class JobRef:
    """What the production remembers of a job it submitted."""

    batch_id: str
    scope: str
    project_id: int
    shot_uid: str
    shot_number: str
    fingerprint: str
    request: RenderRequest


class RenderReports:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._jobs: dict[str, JobRef] = {}
        self._listeners: list[Listener] = []
        self._inbox: asyncio.Queue[PoolEvent] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Event] = {}
        # Jobs that ended but could not be recorded (a full disk): their end, so no waiter
        # waits on a job the store still calls open.
        self._unrecorded: dict[str, str] = {}

    # --- listening -------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(event)` on the event loop for every render event, after it is stored."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def hear(self, event: PoolEvent) -> None:
        """The pool's listener (called on the event loop)."""
        self._inbox.put_nowait(event)

    def track(self, job_id: str, ref: JobRef) -> None:
        self._jobs[job_id] = ref
        self._waiters.setdefault(ref.batch_id, asyncio.Event())

    def tracked(self, job_id: str) -> JobRef | None:
        return self._jobs.get(job_id)

    def start(self) -> None:
        if self._consumer is None:
            self._consumer = asyncio.create_task(self._consume(), name="production-events")

    async def close(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()
            await asyncio.gather(self._consumer, return_exceptions=True)
            self._consumer = None

    async def wait(self, batch_id: str) -> list[JobSnapshot]:
        """Wait until every job of a batch has finished, failed or been cancelled, and this
        process's listeners have heard how each ended."""
        deadline: float | None = None
        while True:
            try:
                jobs = (await self.snapshot(batch_id)).jobs
            except NotFound:  # its project was deleted, and the batch with it
                return []
            jobs = [
                replace(job, state=JobState.FAILED, reason=self._unrecorded[job.id])
                if job.state.open and job.id in self._unrecorded
                else job
                for job in jobs
            ]
            event = self._waiters.setdefault(batch_id, asyncio.Event())
            if all(not job.state.open for job in jobs):
                if not any(job.id in self._jobs for job in jobs):
                    return jobs
                # Recorded, but the news not yet told: listeners hear every ending before this
                # returns (bounded, so news that never comes keeps nobody waiting).
                now = asyncio.get_running_loop().time()
                deadline = now + NEWS_GRACE_S if deadline is None else deadline
                if now >= deadline:
                    return jobs
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), deadline - now)
            else:
                await event.wait()
            event.clear()

    # --- reading ---------------------------------------------------------------------------------

    async def snapshot(self, batch_id: str) -> BatchSnapshot:
        record = await self.store.batch(batch_id)
        project = await self.store.project_by_id(record.project_id)
        takes = {take.id: take for take in await self.store.takes(project.id)}
        jobs = []
        for job in await self.store.batch_jobs(batch_id):
            take = takes.get(job.take_id) if job.take_id is not None else None
            jobs.append(
                JobSnapshot(
                    job.id,
                    job.shot_uid,
                    job.shot_number,
                    job.state,
                    job.reason or "",
                    job.take_id,
                    take.seconds if take else None,
                    take is not None and take.message is not None,
                )
            )
        return BatchSnapshot(
            batch_id,
            project.scope,
            project.id,
            project.shotlist.title,
            project.room,
            record.status_message,
            jobs,
        )

    async def batches_to_report(self, scope_prefix: str, since: str, limit: int) -> set[str]:
        """Batches with open jobs, and those of `scope_prefix` whose final state no front-end has
        shown yet (created since `since`, at most `limit` of them)."""
        open_batches = {job.batch_id for job in await self.store.open_jobs()}
        unreported = await self.store.unreported_batches(scope_prefix, since=since, limit=limit)
        return open_batches | {batch.id for batch in unreported}

    async def set_batch_message(self, batch_id: str, message: str | None) -> None:
        await self.store.set_batch_message(batch_id, message)

    async def mark_batch_reported(self, batch_id: str) -> None:
        """A front-end has shown the batch's final state and posted every take."""
        await self.store.mark_batch_reported(batch_id)

    async def set_take_message(self, take_id: int, message: str) -> None:
        await self.store.set_take_message(take_id, message)

    # --- recording -------------------------------------------------------------------------------

    async def _consume(self) -> None:
        while True:
            event = await self._inbox.get()
            try:
                await self._record(event)
            except Exception as error:
                known = user_message(error)  # a full disk: say so in one line, not a traceback
                if known is None:
                    log.exception("could not record render event %s", event)
                else:
                    log.warning("could not record render event of job %s: %s", event.job_id, known)
                if isinstance(event, JobFinished | JobFailed | JobCancelled):
                    await self._abandon(event.job_id, known or UNRECORDED)

    async def _abandon(self, job_id: str, reason: str) -> None:
        """A job ended but its outcome could not be stored (its project was deleted, the database
        failed): close it as failed where possible and release its waiters, so nobody waits on a
        job that will never report again."""
        ref = self._jobs.pop(job_id, None)
        if ref is None:
            return
        self._unrecorded[job_id] = reason
        try:
            await self.store.set_job_state(job_id, JobState.FAILED, reason)
        except Exception as error:  # the next run takes the job over when its lease runs out
            log.warning("could not close render job %s: %s", job_id, user_message(error) or error)
        self._tell(ref, _event(ref, job_id, JobState.FAILED, reason=reason))

    async def _record(self, event: PoolEvent) -> None:
        ref = self._jobs.get(event.job_id)
        if ref is None:
            return
        base = _event(ref, event.job_id, JobState.QUEUED)
        news: ProductionEvent
        match event:
            case JobQueued(position=position):
                news = replace(base, position=position)
            case JobStarted():
                await self.store.set_job_state(event.job_id, JobState.RUNNING)
                news = replace(base, state=JobState.RUNNING)
            case JobProgress(step=step, total=total, eta_s=eta, preview=preview):
                news = replace(
                    base, state=JobState.RUNNING, step=step, total=total, eta_s=eta, preview=preview
                )
            case JobFinished(clip=clip, poster=poster, seconds=seconds, cache_hit=hit, info=info):
                request = ref.request
                if hit and not info:  # the same clip as an earlier take: the same notes
                    info = await self._earlier_info(ref)
                take = await self.store.finish_job(
                    event.job_id,
                    NewTake(
                        ref.project_id,
                        ref.shot_uid,
                        ref.fingerprint,
                        request.seed,
                        request.model,
                        request.to_data(),
                        str(clip),
                        str(poster),
                        seconds,
                        info,
                    ),
                )
                news = replace(base, state=JobState.DONE, take=take, cache_hit=hit)
            case JobRetried(note=note):
                news = replace(base, note=note)  # queued again, ahead of the others
            case JobFailed(reason=reason):
                await self.store.set_job_state(event.job_id, JobState.FAILED, reason)
                news = replace(base, state=JobState.FAILED, reason=reason)
            case JobCancelled():
                await self.store.set_job_state(event.job_id, JobState.CANCELLED, "cancelled")
                news = replace(base, state=JobState.CANCELLED, reason="cancelled")
            case _:
                return
        if news.done:
            self._jobs.pop(event.job_id, None)
        self._tell(ref, news)

    async def _earlier_info(self, ref: JobRef) -> dict[str, Any]:
        earlier = [
            t for t in await self.store.takes(ref.project_id) if t.fingerprint == ref.fingerprint
        ]
        return earlier[-1].info if earlier else {}

    def _tell(self, ref: JobRef, news: ProductionEvent) -> None:
        if news.done:
            waiter = self._waiters.get(ref.batch_id)
            if waiter is not None:
                waiter.set()
        for listener in list(self._listeners):
            try:
                listener(news)
            except Exception:
                log.exception("render listener failed on %s", news.state)


def _event(ref: JobRef, job_id: str, state: JobState, *, reason: str = "") -> ProductionEvent:
    return ProductionEvent(
        state,
        job_id,
        ref.batch_id,
        ref.scope,
        ref.project_id,
        ref.shot_uid,
        ref.shot_number,
        reason=reason,
    )
