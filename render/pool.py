"""The render pool: a fair, cancellable queue in front of render slots.

The pool decides everything the crew sees, in one place on the event loop: which job goes next,
the clip cache, identical requests joined, cancellation and the order of events. Where a job
renders is an executor's business. The default `ThreadExecutor` gives one slot per worker thread
(one per GPU) and caches one renderer per model name, so a diffusers pipeline loads once per
worker; the loader is told which worker asks (`load_renderer(model, index)`) so that worker `index`
can put its pipeline on its own GPU. `render.farm.RayExecutor` gives one slot per Ray actor.
Executors may add slots at any time (`add_slot`) and retire them; a slot whose worker dies under
its job raises `WorkerLost`, and the job is retried once on another slot (`JobRetried`).

The GPU never waits for the CPU: a slot that `overlaps` says when its job has finished denoising
(`released`), and the pool hands it the next job while the first is still being developed
(poster, clip, the move measured). A `ThreadSlot` develops on a thread of its own, one take at a
time, and starts the next denoise only once the take before is developed, so at most two takes'
frames are in memory. Each job's events keep their order: its JobFinished still comes after its
clip is written.

Scheduling: higher priority first; within a priority the user served longest ago goes next (a new
user beats one who has just been served), then submission order. A job retried after a lost
worker goes before every waiting job.

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
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from render.develop import develop
from render.types import (
    CancelToken,
    ProgressCallback,
    RenderCancelled,
    Renderer,
    RenderError,
    RenderProgress,
    RenderRequest,
    RenderResult,
)

log = logging.getLogger(__name__)

DISK_FULL = "The disk is full: free some space (old renders live in the renders folder) and retry."
GENERIC_FAILURE = (
    "The render failed unexpectedly. It has been logged; try again or pick another model."
)
RETRYING = "The render machine was lost ({reason}); rendering again on another one."
LOST_TWICE = "The render machine was lost twice ({reason}); try again later."


class WorkerLost(Exception):
    """A slot's worker died under its job (a farm actor or its machine gone): the job itself may
    be fine, so the pool runs it again elsewhere, once. `str(error)` says what was lost."""


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
class JobRetried:
    """The worker rendering the job was lost; the job renders again (its progress starts over).
    Not an ending: JobFinished, JobFailed or JobCancelled still follows. `note` is for the crew."""

    job_id: str
    note: str


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


PoolEvent = (
    JobQueued | JobStarted | JobProgress | JobRetried | JobFinished | JobFailed | JobCancelled
)


@dataclass(frozen=True)
class QueueEntry:
    job_id: str
    user: str
    label: str
    priority: int
    position: int  # 0 = rendering, 1.. = waiting in that order
    project_id: int | None = None  # the job's RenderJob.project_id


@dataclass(frozen=True)
class WorkerInfo:
    """A render worker for people (`slate farm status`, `/queue`): where it runs, the models
    it has loaded and keeps, the job it renders now (its executor's `workers()` reports them)."""

    name: str
    node: str  # the machine
    device: str  # "GPU 0", "CPU", "thread"
    models: tuple[str, ...]
    job_id: str | None
    pid: int = 0


RendererLoader = Callable[[str, int], Renderer]
"""`load_renderer(model, worker_index)`: called where the worker renders, once per model. The Ray
executor ships it to its actors, so there it must pickle (a module-level function or an instance
of a module-level class, not a closure over the bot's state)."""


class RenderSlot(Protocol):
    """One place where one job renders at a time: a worker thread, a farm actor."""

    name: str
    retired: bool  # set when the slot leaves: it takes no further job

    async def render(
        self,
        job: RenderJob,
        clip: Path,
        poster: Path,
        token: CancelToken,
        progress: ProgressCallback,
    ) -> dict[str, Any]:
        """Render `job`, write `poster` then `clip` (the clip last: it marks the job done) and
        return the render's info. `progress` may be called from any thread. Raises
        RenderCancelled once `token` is cancelled, RenderError/OSError as the renderer does, and
        WorkerLost when the worker died under the job.

        A slot whose `overlaps` attribute is true is also passed `released=`, a function it
        calls on the event loop once the job no longer needs the accelerator (denoised, now
        developing): the pool then gives it its next job while this one finishes."""
        ...

    def interrupt(self) -> None:
        """The running job's token was cancelled: make the worker see it soon."""
        ...


class RenderExecutor(Protocol):
    """Where jobs render. `start` adds the first slots (`pool.add_slot`); it may add and retire
    slots later, as capacity comes and goes."""

    async def start(self, pool: RenderPool) -> None: ...

    async def close(self) -> None: ...


@dataclass
class _Running:
    job: RenderJob
    token: CancelToken
    started: float
    followers: list[RenderJob] = field(default_factory=list)  # identical requests riding along
    slot: RenderSlot | None = None  # None while waiting to be retried
    attempt_started: float = 0.0
    lost: int = 0  # how many workers died under it


class RenderPool:
    def __init__(
        self,
        load_renderer: RendererLoader,
        out_dir: Path,
        workers: int = 1,
        cache_salt: Callable[[str], str] | None = None,
        *,
        executor: RenderExecutor | None = None,
    ) -> None:
        """`workers` render slots on threads, or `executor`'s slots (which `workers` may size)."""
        if workers < 1:
            raise ValueError("a render pool needs at least one worker")
        self.load_renderer = load_renderer
        self._cache_salt = cache_salt
        self.out_dir = Path(out_dir)
        self.worker_count = workers
        self.executor: RenderExecutor = executor or ThreadExecutor()
        self._slots: dict[RenderSlot, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._wakeup: asyncio.Event | None = None  # set whenever the queue gains jobs
        self._closing = False
        self._seq = itertools.count()
        self._serve_clock = itertools.count()
        self._queued: dict[str, tuple[int, RenderJob]] = {}  # job_id -> (seq, job)
        self._retrying: deque[_Running] = deque()  # lost their worker; go before the queue
        self._last_served: dict[str, int] = {}
        self._running: dict[str, _Running] = {}  # leader job_id -> state
        self._by_key: dict[str, str] = {}  # cache_key -> leader job_id
        self._following: dict[str, str] = {}  # follower job_id -> leader job_id
        self._listeners: list[Callable[[PoolEvent], None]] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wakeup = asyncio.Event()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        await self.executor.start(self)

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
            if running.slot is not None:
                running.slot.interrupt()
        self._queued.clear()
        self._retrying.clear()
        if self._wakeup is not None:
            self._wakeup.set()
        await asyncio.gather(*self._slots.values(), return_exceptions=True)
        await self.executor.close()

    async def __aenter__(self) -> RenderPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- slots (for executors) -------------------------------------------------------------

    def add_slot(self, slot: RenderSlot) -> None:
        """Start taking jobs on `slot` (on the event loop thread)."""
        if self._closing:
            return
        self._slots[slot] = asyncio.create_task(self._work(slot), name=f"render-{slot.name}")

    def retire_slot(self, slot: RenderSlot) -> None:
        """`slot` takes no further job; one it is rendering finishes there."""
        slot.retired = True
        if self._wakeup is not None:
            self._wakeup.set()

    def slots(self) -> list[RenderSlot]:
        return list(self._slots)

    def busy(self, slot: RenderSlot) -> bool:
        return any(running.slot is slot for running in self._running.values())

    def job_on(self, slot: RenderSlot) -> str | None:
        """The job `slot` renders now (the newest it was given)."""
        jobs = [r.job.job_id for r in self._running.values() if r.slot is slot]
        return jobs[-1] if jobs else None

    def workers(self) -> list[WorkerInfo]:
        """The workers as the executor reports them (`executor.workers()`; [] if it can't)."""
        report: Callable[[], list[WorkerInfo]] | None = getattr(self.executor, "workers", None)
        return report() if report is not None else []

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
            shared = self._running[leader]
            shared.followers = [f for f in shared.followers if f.job_id != job_id]
            self._emit(JobCancelled(job_id))
            return True
        running = self._running.get(job_id)
        if running is None:
            return False
        running.token.cancel()
        if running.slot is not None:
            # The slot reports JobCancelled when the renderer stops at its next step.
            running.slot.interrupt()
        else:  # waiting to be retried: nothing renders it
            self._retrying.remove(running)
            self._end(running, JobCancelled(job_id))
        return True

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

    async def _next_job(self, slot: RenderSlot) -> RenderJob | _Running | None:
        # Picking never awaits, so two slots woken together cannot take the same job.
        assert self._wakeup is not None
        while True:
            while not (self._closing or slot.retired or self._queued or self._retrying):
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._closing or slot.retired:
                return None
            if self._retrying:
                return self._retrying.popleft()
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

    # -- running ---------------------------------------------------------------------------

    async def _work(self, slot: RenderSlot) -> None:
        developing: set[asyncio.Task[None]] = set()  # jobs released by the slot, still finishing
        try:
            while (picked := await self._next_job(slot)) is not None:
                running = picked if isinstance(picked, _Running) else self._begin(picked)
                free = asyncio.Event()
                task = asyncio.create_task(self._run(slot, running, free.set))
                developing.add(task)
                task.add_done_callback(developing.discard)
                await free.wait()  # the job ended, or the slot released it to develop
        finally:
            if developing:
                await asyncio.gather(*developing, return_exceptions=True)
            self._slots.pop(slot, None)

    def _begin(self, job: RenderJob) -> _Running:
        running = _Running(job, CancelToken(), time.perf_counter())
        key = self.cache_key(job.request)
        self._running[job.job_id] = running
        self._by_key[key] = job.job_id
        self._emit(JobStarted(job.job_id))
        for twin_id in [
            i for i, (_, q) in self._queued.items() if self.cache_key(q.request) == key
        ]:
            self._follow(job.job_id, self._queued.pop(twin_id)[1])
        return running

    async def _run(self, slot: RenderSlot, running: _Running, released: Callable[[], None]) -> None:
        try:
            await self._attempt(slot, running, released)
        finally:
            released()

    async def _attempt(
        self, slot: RenderSlot, running: _Running, released: Callable[[], None]
    ) -> None:
        job = running.job
        running.slot = slot
        running.attempt_started = time.perf_counter()

        def on_progress(update: RenderProgress) -> None:  # any thread
            elapsed = time.perf_counter() - running.attempt_started
            eta = elapsed / update.step * (update.total - update.step) if update.step else None
            if threading.get_ident() == self._loop_thread:
                self._progress(running, update, eta)
            else:
                assert self._loop is not None
                self._loop.call_soon_threadsafe(self._progress, running, update, eta)

        clip, poster = self.clip_paths(job.request)
        outcome: PoolEvent
        try:
            if getattr(slot, "overlaps", False):
                render: Any = slot.render
                info = await render(
                    job, clip, poster, running.token, on_progress, released=released
                )
            else:
                info = await slot.render(job, clip, poster, running.token, on_progress)
            if running.token.cancelled:
                outcome = JobCancelled(job.job_id)
            else:
                seconds = time.perf_counter() - running.started
                outcome = JobFinished(job.job_id, clip, poster, seconds, False, info)
        except RenderCancelled:
            outcome = JobCancelled(job.job_id)
        except RenderError as error:
            log.info("render %s failed: %s", job.job_id, error)
            outcome = JobFailed(job.job_id, str(error))
        except WorkerLost as lost:
            log.warning("render %s lost its worker %s: %s", job.job_id, slot.name, lost)
            running.lost += 1
            running.slot = None
            if self._closing:
                outcome = JobCancelled(job.job_id)  # not told: see close()
            elif running.token.cancelled:
                outcome = JobCancelled(job.job_id)
            elif running.lost == 1:
                self._retrying.append(running)
                note = RETRYING.format(reason=lost)
                for rider in (job, *running.followers):
                    self._emit(JobRetried(rider.job_id, note))
                self._notify()
                return
            else:
                outcome = JobFailed(job.job_id, LOST_TWICE.format(reason=lost))
        except OSError as error:
            full = error.errno in (errno.ENOSPC, errno.EDQUOT)
            if full:  # the crew is told in one line; a traceback would only bury it
                log.warning("render %s could not write its clip: the disk is full", job.job_id)
            else:
                log.exception("render %s could not write its clip", job.job_id)
            reason = (
                DISK_FULL if full else f"The clip could not be written: {error.strerror or error}."
            )
            outcome = JobFailed(job.job_id, reason)
        except Exception:
            log.exception("render %s (model %r) crashed", job.job_id, job.request.model)
            outcome = JobFailed(job.job_id, GENERIC_FAILURE)
        self._end(running, outcome)

    def _end(self, running: _Running, outcome: PoolEvent) -> None:
        """Forget a leader's render and tell its outcome (unless the pool is closing)."""
        del self._running[running.job.job_id]
        del self._by_key[self.cache_key(running.job.request)]
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
        if self._closing or self._running.get(running.job.job_id) is not running:
            return
        for job in (running.job, *running.followers):
            self._emit(JobProgress(job.job_id, update.step, update.total, eta, update.preview))


# -- the default executor: worker threads in this process ---------------------------------------


class ThreadExecutor:
    """`pool.worker_count` slots, each a thread of its own that keeps one renderer per model.

    `overlap` (on by default) develops each take on a second thread per slot while the next one
    denoises. `preload` names models every worker loads (and warms up, where the renderer does)
    as soon as the pool starts, before the first job asks for them."""

    def __init__(self, *, overlap: bool = True, preload: tuple[str, ...] = ()) -> None:
        self.overlap = overlap
        self.preload = preload
        self._slots: list[ThreadSlot] = []
        self._pool: RenderPool | None = None

    async def start(self, pool: RenderPool) -> None:
        self._pool = pool
        for index in range(pool.worker_count):
            slot = ThreadSlot(index, pool.load_renderer, overlap=self.overlap)
            for model in self.preload:
                slot.preload(model)
            self._slots.append(slot)
            pool.add_slot(slot)

    async def close(self) -> None:
        for slot in self._slots:
            slot.close()

    def workers(self) -> list[WorkerInfo]:
        pool = self._pool
        return [
            WorkerInfo(
                slot.name,
                "local",
                "thread",
                tuple(sorted(list(slot._renderers))),  # list(): one atomic copy
                pool.job_on(slot) if pool is not None else None,
            )
            for slot in self._slots
        ]


class ThreadSlot:
    def __init__(self, index: int, load_renderer: RendererLoader, *, overlap: bool = True) -> None:
        self.index = index
        self.name = f"thread-{index}"
        self.retired = False
        self.overlaps = overlap
        self._load_renderer = load_renderer
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"render-{index}")
        # Developing (poster, clip, move) runs here while the render thread denoises the next.
        self._developer = ThreadPoolExecutor(1, thread_name_prefix=f"develop-{index}")
        self._developing: asyncio.Future[dict[str, Any]] | None = None
        self._renderers: dict[str, Renderer] = {}  # touched only on the render thread

    def preload(self, model: str) -> None:
        """Load (and so warm up) `model`'s renderer on the render thread now; a job for it waits
        behind this. A failure is logged here and met again by the first job."""
        self._executor.submit(self._preload, model)

    def _preload(self, model: str) -> None:
        try:
            renderer = self._renderer(model)
            load: Callable[[], None] | None = getattr(renderer, "load", None)
            if load is not None:
                load()
        except Exception as error:  # the first render of it reports the reason to the crew
            log.warning("worker %s could not preload %s: %s", self.name, model, error)

    async def render(
        self,
        job: RenderJob,
        clip: Path,
        poster: Path,
        token: CancelToken,
        progress: ProgressCallback,
        released: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        request = job.request
        if released is None:  # no overlap: render and develop on the render thread
            return await loop.run_in_executor(
                self._executor, self._render_and_encode, request, clip, poster, token, progress
            )
        result = await loop.run_in_executor(self._executor, self._render, request, token, progress)
        # One take develops at a time: while the one before is still developing, this one
        # waits (and keeps the render thread from starting a third), so memory stays flat.
        previous = self._developing
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        if token.cancelled:
            raise RenderCancelled("The render was cancelled.")
        developing = loop.run_in_executor(self._developer, develop, request, result, clip, poster)
        self._developing = developing
        released()
        return await developing

    def interrupt(self) -> None:
        pass  # the renderer polls the token between steps

    def close(self) -> None:
        self._executor.shutdown(wait=False)
        self._developer.shutdown(wait=False)

    def _renderer(self, model: str) -> Renderer:
        renderer = self._renderers.get(model)
        if renderer is None:
            renderer = self._load_renderer(model, self.index)
            self._renderers[model] = renderer
        return renderer

    def _render(
        self, request: RenderRequest, token: CancelToken, progress: ProgressCallback
    ) -> RenderResult:
        """Render thread: load (once), then denoise and decode."""
        result = self._renderer(request.model).render(request, progress, token)
        if token.cancelled:
            raise RenderCancelled("The render was cancelled.")
        return result

    def _render_and_encode(
        self,
        request: RenderRequest,
        clip: Path,
        poster: Path,
        token: CancelToken,
        progress: ProgressCallback,
    ) -> dict[str, Any]:
        """Render thread: load (once), render, then write poster and clip (clip last: it marks done)."""
        return develop(request, self._render(request, token, progress), clip, poster)
