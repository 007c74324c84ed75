"""The render pool: a fair, cancellable queue in front of worker threads.

Each worker owns one thread (one per GPU) and caches one renderer per model name, so a diffusers
pipeline loads once per worker. The loader is told which worker asks (`load_renderer(model, index)`)
so that worker `index` can put its pipeline on its own GPU. All pool state lives on the event loop thread; worker threads only
render and encode, and hand progress back with `loop.call_soon_threadsafe`.

Scheduling: higher priority first; within a priority the user served longest ago goes next (a new
user beats one who has just been served), then submission order.

Clips are content-addressed: `out_dir/<cache_key>.mp4` plus a `.png` poster. The key covers the
request and `cache_salt(model)`: how the renderer for that model is configured (dtype, caching...),
for what changes pixels without being part of the request. An existing clip
finishes a job at once; an identical request already rendering is joined, not rendered twice.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from render.encode import encode_clip, write_poster
from render.types import (
    CancelToken,
    RenderCancelled,
    Renderer,
    RenderError,
    RenderProgress,
    RenderRequest,
)

log = logging.getLogger(__name__)

DISK_FULL = "The disk is full: free some space (old renders live in the renders folder) and retry."
GENERIC_FAILURE = (
    "The render failed unexpectedly. It has been logged; try again or pick another model."
)


@dataclass(frozen=True)
class RenderJob:
    job_id: str
    user: str
    request: RenderRequest
    priority: int = 0
    label: str = ""  # for people: what the queue shows
    project_id: int | None = None  # for programs: whose job it is (the pool never reads it)


@dataclass(frozen=True)
class JobQueued:
    job_id: str
    position: int  # 1 = next to start


@dataclass(frozen=True)
class JobStarted:
    job_id: str


@dataclass(frozen=True)
class JobProgress:
    job_id: str
    step: int
    total: int
    eta_s: float | None
    preview: Image.Image | None = None


@dataclass(frozen=True)
class JobFinished:
    job_id: str
    clip: Path
    poster: Path
    seconds: float  # wall time from start to clip (0 for a cached clip)
    cache_hit: bool
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobFailed:
    job_id: str
    reason: str  # written for the user


@dataclass(frozen=True)
class JobCancelled:
    job_id: str


PoolEvent = JobQueued | JobStarted | JobProgress | JobFinished | JobFailed | JobCancelled


@dataclass(frozen=True)
class QueueEntry:
    job_id: str
    user: str
    label: str
    priority: int
    position: int  # 0 = rendering, 1.. = waiting in that order
    project_id: int | None = None  # the job's RenderJob.project_id


RendererLoader = Callable[[str, int], Renderer]
"""`load_renderer(model, worker_index)`: called on that worker's thread, once per model."""


@dataclass
class _Running:
    job: RenderJob
    token: CancelToken
    started: float
    followers: list[RenderJob] = field(default_factory=list)  # identical requests riding along


@dataclass
class _Worker:
    index: int
    executor: ThreadPoolExecutor
    renderers: dict[str, Renderer] = field(default_factory=dict)  # touched only on its thread


class RenderPool:
    def __init__(
        self,
        load_renderer: RendererLoader,
        out_dir: Path,
        workers: int = 1,
        cache_salt: Callable[[str], str] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("a render pool needs at least one worker")
        self._load_renderer = load_renderer
        self._cache_salt = cache_salt
        self.out_dir = Path(out_dir)
        self._worker_count = workers
        self._workers: list[_Worker] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None  # set whenever the queue gains jobs
        self._closing = False
        self._seq = itertools.count()
        self._serve_clock = itertools.count()
        self._queued: dict[str, tuple[int, RenderJob]] = {}  # job_id -> (seq, job)
        self._last_served: dict[str, int] = {}
        self._running: dict[str, _Running] = {}  # leader job_id -> state
        self._by_key: dict[str, str] = {}  # cache_key -> leader job_id
        self._following: dict[str, str] = {}  # follower job_id -> leader job_id
        self._listeners: list[Callable[[PoolEvent], None]] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for index in range(self._worker_count):
            worker = _Worker(index, ThreadPoolExecutor(1, thread_name_prefix=f"render-{index}"))
            self._workers.append(worker)
            self._tasks.append(
                asyncio.create_task(self._work(worker), name=f"render-worker-{index}")
            )

    async def close(self) -> None:
        """Stop: interrupt running renders, drop the queue.

        Interrupted and dropped jobs get no terminal event, so a caller's stored state still says
        queued/running and its restart recovery resubmits them.
        """
        if self._closing:
            return
        self._closing = True
        for running in self._running.values():
            running.token.cancel()
        self._queued.clear()
        if self._wakeup is not None:
            self._wakeup.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in self._workers:
            worker.executor.shutdown(wait=False)

    async def __aenter__(self) -> RenderPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- events ----------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[PoolEvent], None]) -> None:
        """Call `listener(event)` on the event loop thread for every event."""
        self._listeners.append(listener)

    def _emit(self, event: PoolEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("render pool listener failed on %s", type(event).__name__)

    # -- public API ------------------------------------------------------------------------

    def cache_key(self, request: RenderRequest) -> str:
        """The clip's content address: the request plus its renderer's configuration."""
        return request.cache_key(self._cache_salt(request.model) if self._cache_salt else "")

    def clip_paths(self, request: RenderRequest) -> tuple[Path, Path]:
        key = self.cache_key(request)
        return self.out_dir / f"{key}.mp4", self.out_dir / f"{key}.png"

    def submit(self, job: RenderJob) -> PoolEvent:
        """Queue a job; returns the event describing its state (also emitted to listeners).

        A clip already on disk finishes the job at once (JobFinished, cache_hit, no JobQueued); a
        request identical to one rendering joins that render (JobStarted). Resubmitting a job id
        that is queued or running changes nothing and reports its state without emitting.
        """
        if self._loop is None or self._closing:
            raise RuntimeError("the render pool is not running")
        if job.job_id in self._queued:
            return JobQueued(job.job_id, self._positions()[job.job_id])
        if job.job_id in self._running or job.job_id in self._following:
            return JobStarted(job.job_id)
        clip, poster = self.clip_paths(job.request)
        leader = self._by_key.get(self.cache_key(job.request))
        if clip.exists() and poster.exists():
            event: PoolEvent = JobFinished(job.job_id, clip, poster, 0.0, cache_hit=True)
        elif leader is not None:
            self._follow(leader, job)
            return JobStarted(job.job_id)
        else:
            self._queued[job.job_id] = (next(self._seq), job)
            event = JobQueued(job.job_id, self._positions()[job.job_id])
            self._notify()
        self._emit(event)
        return event

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued, joined or running job; False if the pool does not know it."""
        if self._queued.pop(job_id, None) is not None:
            self._emit(JobCancelled(job_id))
            return True
        leader = self._following.pop(job_id, None)
        if leader is not None:
            running = self._running[leader]
            running.followers = [f for f in running.followers if f.job_id != job_id]
            self._emit(JobCancelled(job_id))
            return True
        if job_id in self._running:
            # The worker reports JobCancelled when the renderer stops at its next step.
            self._running[job_id].token.cancel()
            return True
        return False

    def queue(self) -> list[QueueEntry]:
        """Rendering jobs (position 0) then waiting jobs in the order they will start."""
        entries = [
            QueueEntry(job.job_id, job.user, job.label, job.priority, 0, job.project_id)
            for running in self._running.values()
            for job in (running.job, *running.followers)
        ]
        positions = self._positions()
        for job_id, position in sorted(positions.items(), key=lambda item: item[1]):
            job = self._queued[job_id][1]
            entries.append(
                QueueEntry(job_id, job.user, job.label, job.priority, position, job.project_id)
            )
        return entries

    # -- scheduling ------------------------------------------------------------------------

    def _pick(self, last_served: dict[str, int], queued: dict[str, tuple[int, RenderJob]]) -> str:
        def rank(item: tuple[str, tuple[int, RenderJob]]) -> tuple[int, int, int]:
            seq, job = item[1]
            return (-job.priority, last_served.get(job.user, -1), seq)

        return min(queued.items(), key=rank)[0]

    def _positions(self) -> dict[str, int]:
        # Simulate the scheduler on copies: positions follow fairness, not submission order.
        queued = dict(self._queued)
        served = dict(self._last_served)
        positions: dict[str, int] = {}
        clock = itertools.count(10**12)
        while queued:
            job_id = self._pick(served, queued)
            served[queued.pop(job_id)[1].user] = next(clock)
            positions[job_id] = len(positions) + 1
        return positions

    def _notify(self) -> None:
        assert self._wakeup is not None
        self._wakeup.set()

    async def _next_job(self) -> RenderJob | None:
        # Picking never awaits, so two workers woken together cannot take the same job.
        assert self._wakeup is not None
        while True:
            while not (self._closing or self._queued):
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._closing:
                return None
            _, job = self._queued.pop(self._pick(self._last_served, self._queued))
            self._last_served[job.user] = next(self._serve_clock)
            clip, poster = self.clip_paths(job.request)
            if clip.exists() and poster.exists():
                self._emit(JobStarted(job.job_id))
                self._emit(JobFinished(job.job_id, clip, poster, 0.0, cache_hit=True))
                continue
            return job

    def _follow(self, leader: str, job: RenderJob) -> None:
        """Let `job` ride along with the identical render `leader`, taking no worker."""
        self._running[leader].followers.append(job)
        self._following[job.job_id] = leader
        self._emit(JobStarted(job.job_id))

    # -- workers ---------------------------------------------------------------------------

    async def _work(self, worker: _Worker) -> None:
        while (job := await self._next_job()) is not None:
            await self._run(worker, job)

    async def _run(self, worker: _Worker, job: RenderJob) -> None:
        assert self._loop is not None
        loop = self._loop
        key = self.cache_key(job.request)
        running = _Running(job, CancelToken(), time.perf_counter())
        self._running[job.job_id] = running
        self._by_key[key] = job.job_id
        self._emit(JobStarted(job.job_id))
        for twin_id in [
            i for i, (_, q) in self._queued.items() if self.cache_key(q.request) == key
        ]:
            self._follow(job.job_id, self._queued.pop(twin_id)[1])

        def on_progress(update: RenderProgress) -> None:  # worker thread
            elapsed = time.perf_counter() - running.started
            eta = elapsed / update.step * (update.total - update.step) if update.step else None
            loop.call_soon_threadsafe(self._progress, running, update, eta)

        outcome: PoolEvent
        try:
            clip, poster, info = await loop.run_in_executor(
                worker.executor, self._render_and_encode, worker, job, running.token, on_progress
            )
            if running.token.cancelled:
                outcome = JobCancelled(job.job_id)
            else:
                outcome = JobFinished(
                    job.job_id, clip, poster, time.perf_counter() - running.started, False, info
                )
        except RenderCancelled:
            outcome = JobCancelled(job.job_id)
        except RenderError as error:
            log.info("render %s failed: %s", job.job_id, error)
            outcome = JobFailed(job.job_id, str(error))
        except OSError as error:
            log.exception("render %s could not write its clip", job.job_id)
            reason = (
                DISK_FULL
                if error.errno in (errno.ENOSPC, errno.EDQUOT)
                else f"The clip could not be written: {error.strerror or error}."
            )
            outcome = JobFailed(job.job_id, reason)
        except Exception:
            log.exception("render %s (model %r) crashed", job.job_id, job.request.model)
            outcome = JobFailed(job.job_id, GENERIC_FAILURE)
        finally:
            del self._running[job.job_id]
            del self._by_key[key]
            for follower in running.followers:
                self._following.pop(follower.job_id, None)
        if self._closing:
            return  # no terminal events: the caller resubmits after a restart
        self._emit(outcome)
        self._settle_followers(running, outcome)

    def _settle_followers(self, running: _Running, outcome: PoolEvent) -> None:
        for follower in running.followers:
            if isinstance(outcome, JobFinished):
                seconds = time.perf_counter() - running.started
                self._emit(
                    JobFinished(
                        follower.job_id, outcome.clip, outcome.poster, seconds, True, outcome.info
                    )
                )
            elif isinstance(outcome, JobFailed):
                self._emit(JobFailed(follower.job_id, outcome.reason))
            else:
                # Someone else cancelled the shared render; this job still wants its clip.
                self._queued[follower.job_id] = (next(self._seq), follower)
                self._emit(JobQueued(follower.job_id, self._positions()[follower.job_id]))
                self._notify()

    def _progress(self, running: _Running, update: RenderProgress, eta: float | None) -> None:
        if self._closing:
            return
        for job in (running.job, *running.followers):
            self._emit(JobProgress(job.job_id, update.step, update.total, eta, update.preview))

    def _render_and_encode(
        self,
        worker: _Worker,
        job: RenderJob,
        token: CancelToken,
        on_progress: Callable[[RenderProgress], None],
    ) -> tuple[Path, Path, dict[str, Any]]:
        """Worker thread: load (once), render, then write poster and clip (clip last: it marks done)."""
        request = job.request
        renderer = worker.renderers.get(request.model)
        if renderer is None:
            renderer = self._load_renderer(request.model, worker.index)
            worker.renderers[request.model] = renderer
        result = renderer.render(request, on_progress, token)
        if token.cancelled:
            raise RenderCancelled("The render was cancelled.")
        clip, poster = self.clip_paths(request)
        write_poster(result.frames, poster)
        encode_clip(result.frames, result.fps, clip)
        info = {"model": result.model, "render_seconds": result.seconds, **result.info}
        return clip, poster, info
