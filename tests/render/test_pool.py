from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from render.animatic import AnimaticRenderer
from render.encode import probe
from render.pool import (
    GENERIC_FAILURE,
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
from render.types import (
    CameraMotion,
    CancelToken,
    Framing,
    ModelLoadError,
    MotionDirection,
    MotionKind,
    Previz,
    ProgressCallback,
    RenderCancelled,
    RenderError,
    RenderProgress,
    RenderRequest,
    RenderResult,
)


class GatedRenderer:
    """Renders tiny frames once `gate` is open; records which prompts it rendered."""

    name = "gated"

    def __init__(self, gate: threading.Event, fail: Exception | None = None) -> None:
        self.gate = gate
        self.fail = fail
        self.rendered: list[str] = []
        self.saw_cancel = threading.Event()

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        if progress is not None:
            progress(RenderProgress(1, 2))
        # Poll the cancel token while the test holds the gate closed.
        while not self.gate.wait(0.005):
            if cancel is not None and cancel.cancelled:
                self.saw_cancel.set()
                raise RenderCancelled("cancelled")
        if self.fail is not None:
            raise self.fail
        self.rendered.append(request.prompt)
        if progress is not None:
            progress(RenderProgress(2, 2))
        frames = np.full((3, 64, 64, 3), len(self.rendered) * 20 % 256, np.uint8)
        return RenderResult(frames=frames, fps=8, seconds=0.0, model=self.name, info={"fake": True})


class Recorder:
    """Pool listener that lets a test await an event instead of sleeping."""

    def __init__(self) -> None:
        self.events: list[PoolEvent] = []
        self.threads: set[int] = set()
        self._waiters: list[tuple[Callable[[PoolEvent], bool], asyncio.Future[PoolEvent]]] = []

    def __call__(self, event: PoolEvent) -> None:
        self.events.append(event)
        self.threads.add(threading.get_ident())
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(event):
                future.set_result(event)

    async def wait(self, kind: type, job_id: str) -> PoolEvent:
        def match(event: PoolEvent) -> bool:
            return isinstance(event, kind) and event.job_id == job_id

        for event in self.events:
            if match(event):
                return event
        future: asyncio.Future[PoolEvent] = asyncio.get_running_loop().create_future()
        self._waiters.append((match, future))
        return await asyncio.wait_for(future, 10)

    def started(self) -> list[str]:
        return [e.job_id for e in self.events if isinstance(e, JobStarted)]

    def of(self, job_id: str) -> list[str]:
        return [type(e).__name__ for e in self.events if e.job_id == job_id]


def _request(prompt: str, model: str = "gated") -> RenderRequest:
    return RenderRequest(prompt=prompt, width=64, height=64, frames=3, fps=8, model=model)


def _job(job_id: str, user: str = "ana", priority: int = 0, prompt: str | None = None) -> RenderJob:
    return RenderJob(job_id, user, _request(prompt or job_id), priority=priority)


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
def renderer(gate: threading.Event) -> GatedRenderer:
    return GatedRenderer(gate)


@pytest.fixture
async def pool(
    tmp_path: Path, renderer: GatedRenderer, gate: threading.Event
) -> AsyncIterator[RenderPool]:
    loads: list[str] = []

    def load(model: str, worker: int) -> GatedRenderer | AnimaticRenderer:
        loads.append(model)
        if model == "broken":
            raise ModelLoadError("The model 'broken' could not be loaded.")
        return AnimaticRenderer() if model == "animatic" else renderer

    render_pool = RenderPool(load, tmp_path / "clips")
    render_pool.loads = loads  # type: ignore[attr-defined]
    await render_pool.start()
    yield render_pool
    gate.set()
    await render_pool.close()


@pytest.fixture
def events(pool: RenderPool) -> Recorder:
    recorder = Recorder()
    pool.add_listener(recorder)
    return recorder


async def test_events_order_and_outputs(pool: RenderPool, events: Recorder) -> None:
    dolly = CameraMotion(MotionKind.DOLLY, MotionDirection.IN)
    previz = Previz(number="3", framing=Framing.CLOSE_UP, motion=dolly, characters=("Mara",))
    request = RenderRequest(prompt="p", width=128, height=96, frames=20, fps=16, previz=previz)
    queued = pool.submit(RenderJob("j1", "ana", request))
    assert queued == JobQueued("j1", 1)
    finished = await events.wait(JobFinished, "j1")
    kinds = events.of("j1")
    assert kinds[:2] == ["JobQueued", "JobStarted"] and kinds[-1] == "JobFinished"
    assert set(kinds[2:-1]) == {"JobProgress"}
    steps = [e.step for e in events.events if isinstance(e, JobProgress)]
    assert steps == [1, 2, 3]
    assert isinstance(finished, JobFinished) and not finished.cache_hit
    assert finished.clip.name == f"{request.cache_key()}.mp4" and finished.poster.exists()
    assert probe(finished.clip).frames == 20
    assert finished.info["move"] == "dolly in"
    assert events.threads == {threading.get_ident()}  # delivered on the loop thread


async def test_fair_between_users(
    pool: RenderPool, events: Recorder, gate: threading.Event
) -> None:
    for i in range(10):
        pool.submit(_job(f"a{i}", "ana"))
    await events.wait(JobStarted, "a0")
    assert pool.submit(_job("b0", "ben")) == JobQueued("b0", 1)
    assert [(e.job_id, e.position) for e in pool.queue()][:3] == [("a0", 0), ("b0", 1), ("a1", 2)]
    gate.set()
    await events.wait(JobFinished, "a9")
    assert events.started()[:3] == ["a0", "b0", "a1"]


async def test_fair_when_submitted_together(
    pool: RenderPool, events: Recorder, gate: threading.Event
) -> None:
    for i in range(3):
        pool.submit(_job(f"a{i}", "ana"))
    pool.submit(_job("b0", "ben"))
    gate.set()
    await events.wait(JobFinished, "a2")
    assert events.started() == ["a0", "b0", "a1", "a2"]


async def test_priority_first(pool: RenderPool, events: Recorder, gate: threading.Event) -> None:
    pool.submit(_job("low0"))
    await events.wait(JobStarted, "low0")
    pool.submit(_job("low1"))
    assert pool.submit(_job("high", priority=5)) == JobQueued("high", 1)
    gate.set()
    await events.wait(JobFinished, "low1")
    assert events.started() == ["low0", "high", "low1"]


async def test_queue_entries_carry_the_jobs_project(
    pool: RenderPool, events: Recorder, gate: threading.Event
) -> None:
    pool.submit(RenderJob("r", "ana", _request("r"), label="whatever", project_id=7))
    await events.wait(JobStarted, "r")
    pool.submit(RenderJob("w", "ben", _request("w"), label="#8 shot 1", project_id=8))
    pool.submit(_job("anon"))
    assert [(e.job_id, e.position, e.label, e.project_id) for e in pool.queue()] == [
        ("r", 0, "whatever", 7),
        ("w", 1, "#8 shot 1", 8),
        ("anon", 2, "", None),
    ]
    gate.set()
    await events.wait(JobFinished, "anon")


async def test_cancel_queued(
    pool: RenderPool, events: Recorder, gate: threading.Event, renderer: GatedRenderer
) -> None:
    pool.submit(_job("j1"))
    await events.wait(JobStarted, "j1")
    pool.submit(_job("j2"))
    assert pool.cancel("j2")
    assert events.of("j2") == ["JobQueued", "JobCancelled"]
    assert [e.job_id for e in pool.queue()] == ["j1"]
    assert not pool.cancel("nobody")
    gate.set()
    await events.wait(JobFinished, "j1")
    assert renderer.rendered == ["j1"]


async def test_cancel_running(
    pool: RenderPool, events: Recorder, renderer: GatedRenderer, tmp_path: Path
) -> None:
    pool.submit(_job("j1"))
    await events.wait(JobStarted, "j1")
    assert pool.cancel("j1")
    await events.wait(JobCancelled, "j1")
    assert renderer.saw_cancel.is_set()
    assert not list((tmp_path / "clips").glob("*.mp4"))
    assert pool.queue() == []


async def test_cache_hit_for_identical_request(
    pool: RenderPool, events: Recorder, gate: threading.Event, renderer: GatedRenderer
) -> None:
    gate.set()
    pool.submit(_job("first", prompt="same"))
    first = await events.wait(JobFinished, "first")
    again = pool.submit(_job("again", user="ben", prompt="same"))
    assert isinstance(again, JobFinished) and again.cache_hit
    assert isinstance(first, JobFinished) and again.clip == first.clip
    assert renderer.rendered == ["same"]


async def test_identical_requests_in_flight_render_once(
    pool: RenderPool, events: Recorder, gate: threading.Event, renderer: GatedRenderer
) -> None:
    pool.submit(_job("x1", "ana", prompt="same"))
    pool.submit(_job("x2", "ben", prompt="same"))
    await events.wait(JobStarted, "x2")  # joined x1 rather than waiting for the worker
    gate.set()
    first, second = await events.wait(JobFinished, "x1"), await events.wait(JobFinished, "x2")
    assert isinstance(first, JobFinished) and isinstance(second, JobFinished)
    assert not first.cache_hit and second.cache_hit and first.clip == second.clip
    assert "JobProgress" in events.of("x2")
    assert renderer.rendered == ["same"]


async def test_cancelling_shared_render_requeues_the_other(
    pool: RenderPool, events: Recorder, gate: threading.Event, renderer: GatedRenderer
) -> None:
    pool.submit(_job("x1", "ana", prompt="same"))
    pool.submit(_job("x2", "ben", prompt="same"))
    await events.wait(JobStarted, "x2")
    pool.cancel("x1")
    await events.wait(JobCancelled, "x1")
    gate.set()
    await events.wait(JobFinished, "x2")
    assert events.of("x2")[-1] == "JobFinished" and "JobCancelled" not in events.of("x2")
    assert renderer.rendered == ["same"]


async def test_failures_become_job_failed(
    pool: RenderPool,
    events: Recorder,
    gate: threading.Event,
    renderer: GatedRenderer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate.set()
    renderer.fail = RuntimeError("CUDA kernel exploded")
    with caplog.at_level(logging.ERROR, logger="render.pool"):
        pool.submit(_job("crash"))
        crashed = await events.wait(JobFailed, "crash")
    assert crashed == JobFailed("crash", GENERIC_FAILURE)
    assert any(r.exc_info and "CUDA kernel exploded" in str(r.exc_info[1]) for r in caplog.records)

    renderer.fail = RenderError("Out of GPU memory: try a smaller size.")
    pool.submit(_job("oom"))
    assert await events.wait(JobFailed, "oom") == JobFailed(
        "oom", "Out of GPU memory: try a smaller size."
    )

    pool.submit(RenderJob("load", "ana", _request("x", model="broken")))
    assert await events.wait(JobFailed, "load") == JobFailed(
        "load", "The model 'broken' could not be loaded."
    )

    renderer.fail = None
    pool.submit(_job("fine"))
    await events.wait(JobFinished, "fine")  # the worker survives failures


async def test_resubmission_is_idempotent(
    pool: RenderPool, events: Recorder, gate: threading.Event, renderer: GatedRenderer
) -> None:
    pool.submit(_job("j1"))
    await events.wait(JobStarted, "j1")
    pool.submit(_job("j2"))
    assert pool.submit(_job("j1")) == JobStarted("j1")
    assert pool.submit(_job("j2")) == JobQueued("j2", 1)
    assert len(pool.queue()) == 2
    gate.set()
    await events.wait(JobFinished, "j2")
    assert events.of("j2").count("JobQueued") == 1
    assert renderer.rendered == ["j1", "j2"]
    # After a restart the caller resubmits a job whose clip already exists: it finishes at once.
    assert isinstance(pool.submit(_job("j2")), JobFinished)


async def test_renderer_loaded_once_per_worker(
    pool: RenderPool, events: Recorder, gate: threading.Event
) -> None:
    gate.set()
    for i in range(3):
        pool.submit(_job(f"j{i}"))
    await events.wait(JobFinished, "j2")
    assert pool.loads == ["gated"]  # type: ignore[attr-defined]


async def test_close_interrupts_running_render(
    tmp_path: Path, gate: threading.Event, renderer: GatedRenderer
) -> None:
    render_pool = RenderPool(lambda model, worker: renderer, tmp_path)
    recorder = Recorder()
    render_pool.add_listener(recorder)
    await render_pool.start()
    render_pool.submit(_job("j1"))
    render_pool.submit(_job("j2"))
    await recorder.wait(JobProgress, "j1")  # rendering (the first step reported)
    await render_pool.close()
    assert renderer.saw_cancel.is_set()
    # No terminal events: the caller's store still says queued/running and it resubmits.
    assert recorder.of("j1") == ["JobQueued", "JobStarted", "JobProgress"]
    assert recorder.of("j2") == ["JobQueued"]
    with pytest.raises(RuntimeError):
        render_pool.submit(_job("j3"))


async def test_full_disk_is_a_clear_failure(tmp_path: Path) -> None:
    import errno as _errno

    from render.pool import DISK_FULL, JobFailed, RenderJob, RenderPool
    from render.types import RenderRequest

    class FullDisk:
        name = "full"

        def render(self, request, progress=None, cancel=None):  # type: ignore[no-untyped-def]
            raise OSError(_errno.ENOSPC, "No space left on device")

    events = []
    async with RenderPool(lambda model, worker: FullDisk(), tmp_path) as pool:
        done = asyncio.Event()

        def listen(event):  # type: ignore[no-untyped-def]
            events.append(event)
            if isinstance(event, JobFailed):
                done.set()

        pool.add_listener(listen)
        pool.submit(
            RenderJob("j1", "ana", RenderRequest(prompt="x", width=64, height=64, frames=2))
        )
        await done.wait()
    assert events[-1] == JobFailed("j1", DISK_FULL)


async def test_each_worker_loads_its_own_renderer_with_its_index(tmp_path: Path) -> None:
    """Two workers render at once, each with a renderer its loader built for that worker index
    (so an app can put worker 1's pipeline on cuda:1)."""
    both_started = threading.Barrier(2, timeout=10)
    loads: list[tuple[str, int]] = []

    class MeetingRenderer(AnimaticRenderer):
        def render(self, request, progress=None, cancel=None):  # type: ignore[no-untyped-def]
            both_started.wait()  # passes only when the two workers render concurrently
            return super().render(request, progress, cancel)

    def load(model: str, worker: int) -> AnimaticRenderer:
        loads.append((model, worker))
        return MeetingRenderer()

    recorder = Recorder()
    async with RenderPool(load, tmp_path, workers=2) as render_pool:
        render_pool.add_listener(recorder)
        for name in ("a", "b"):
            render_pool.submit(RenderJob(name, name, _request(name, model="animatic")))
        await recorder.wait(JobFinished, "a")
        await recorder.wait(JobFinished, "b")
    assert sorted(loads) == [("animatic", 0), ("animatic", 1)]


async def test_cache_salt_separates_clips_of_differently_configured_renderers(
    tmp_path: Path,
) -> None:
    request = _request("salted")
    plain = RenderPool(lambda model, worker: AnimaticRenderer(), tmp_path)
    salted = RenderPool(
        lambda model, worker: AnimaticRenderer(), tmp_path, cache_salt=lambda model: "dtype=float16"
    )
    assert plain.clip_paths(request) != salted.clip_paths(request)
    assert plain.cache_key(request) == request.cache_key()  # no salt: the request's own key
    unsalted = RenderPool(
        lambda model, worker: AnimaticRenderer(), tmp_path, cache_salt=lambda model: ""
    )
    assert unsalted.clip_paths(request) == plain.clip_paths(request)


class LosingExecutor:
    """Thread slots whose worker "dies" under the first `losses` jobs it is given (WorkerLost)."""

    def __init__(self, losses: int) -> None:
        self.losses = losses
        self.slots: list[str] = []

    async def start(self, pool: RenderPool) -> None:
        from render.pool import ThreadSlot, WorkerLost

        executor = self

        class LosingSlot(ThreadSlot):
            async def render(self, job, clip, poster, token, progress, released=None):  # type: ignore[no-untyped-def]
                executor.slots.append(self.name)
                progress(RenderProgress(1, 2))
                if executor.losses:
                    executor.losses -= 1
                    raise WorkerLost(f"{self.name} died")
                return await super().render(job, clip, poster, token, progress, released)

        for index in range(pool.worker_count):
            pool.add_slot(LosingSlot(index, pool.load_renderer))

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("losses", [1, 2])
async def test_a_lost_worker_retries_the_job_once(tmp_path: Path, losses: int) -> None:
    from render.pool import LOST_TWICE, JobRetried

    executor = LosingExecutor(losses)
    recorder = Recorder()
    async with RenderPool(
        lambda model, worker: AnimaticRenderer(), tmp_path, workers=2, executor=executor
    ) as render_pool:
        render_pool.add_listener(recorder)
        render_pool.submit(RenderJob("j", "ana", _request("j", model="animatic")))
        render_pool.submit(RenderJob("twin", "ben", _request("j", model="animatic")))
        end = await recorder.wait(JobFinished if losses == 1 else JobFailed, "j")
    retried = [e for e in recorder.events if isinstance(e, JobRetried)]
    assert [e.job_id for e in retried] == ["j", "twin"]  # the joined job hears it too
    assert "thread-" in retried[0].note and "again" in retried[0].note
    kinds = recorder.of("j")
    assert kinds[:4] == ["JobQueued", "JobStarted", "JobProgress", "JobRetried"]
    assert kinds.count("JobStarted") == 1  # one start; the retry is a note, not a new job
    if losses == 1:
        assert isinstance(end, JobFinished) and end.clip.exists()
        assert recorder.of("twin")[-1] == "JobFinished"
    else:
        assert end == JobFailed("j", LOST_TWICE.format(reason=f"{executor.slots[-1]} died"))
        assert recorder.of("twin")[-1] == "JobFailed"
    assert len(executor.slots) == 2


async def test_slots_come_and_go(tmp_path: Path, gate: threading.Event) -> None:
    """An executor may add slots while the pool runs and retire idle ones."""
    from render.pool import ThreadSlot

    renderer = GatedRenderer(gate)
    recorder = Recorder()
    async with RenderPool(lambda model, worker: renderer, tmp_path) as render_pool:
        render_pool.add_listener(recorder)
        render_pool.submit(_job("a"))
        render_pool.submit(_job("b", user="ben"))
        await recorder.wait(JobStarted, "a")
        assert recorder.started() == ["a"]
        extra = ThreadSlot(1, render_pool.load_renderer)
        render_pool.add_slot(extra)
        await recorder.wait(JobStarted, "b")  # the new slot took the waiting job
        assert render_pool.busy(extra)
        gate.set()
        await recorder.wait(JobFinished, "b")
        render_pool.retire_slot(extra)
        await asyncio.sleep(0.05)
        assert extra not in render_pool.slots() and len(render_pool.slots()) == 1
        extra.close()


# -- overlap: a take develops while the next one denoises ---------------------------------------


class TimedRenderer:
    """Renders for `seconds` and notes when each render started and ended."""

    name = "timed"

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.log: list[tuple[str, str, float]] = []  # (what, prompt, when)
        self.loads = 0

    def load(self) -> None:
        self.loads += 1

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        import time

        self.log.append(("render", request.prompt, time.perf_counter()))
        for step in (1, 2):
            time.sleep(self.seconds / 2)
            if progress is not None:
                progress(RenderProgress(step, 2))
        if cancel is not None and cancel.cancelled:
            raise RenderCancelled("cancelled")
        self.log.append(("rendered", request.prompt, time.perf_counter()))
        frames = np.full((3, 64, 64, 3), 40, np.uint8)
        return RenderResult(frames=frames, fps=8, seconds=self.seconds, model=self.name)


@pytest.fixture
def slow_develop(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, float]]:
    """Developing takes 0.15 s (as encoding a long take does) and is noted in the returned log."""
    import time

    import render.pool
    from render.develop import develop

    log: list[tuple[str, str, float]] = []

    def slow(request: RenderRequest, result: RenderResult, clip: Path, poster: Path) -> dict:  # type: ignore[type-arg]
        log.append(("develop", request.prompt, time.perf_counter()))
        time.sleep(0.15)
        info = develop(request, result, clip, poster)
        log.append(("developed", request.prompt, time.perf_counter()))
        return info

    monkeypatch.setattr(render.pool, "develop", slow)
    return log


def _when(log: list[tuple[str, str, float]], what: str, prompt: str) -> float:
    return next(when for kind, name, when in log if (kind, name) == (what, prompt))


@pytest.mark.parametrize("overlap", [True, False])
async def test_takes_develop_while_the_next_denoises(
    tmp_path: Path, slow_develop: list[tuple[str, str, float]], overlap: bool
) -> None:
    from render.pool import ThreadExecutor

    renderer = TimedRenderer()
    recorder = Recorder()
    finished_with_clip: dict[str, bool] = {}

    def listener(event: PoolEvent) -> None:
        if isinstance(event, JobFinished):
            finished_with_clip[event.job_id] = event.clip.exists() and event.poster.exists()

    executor = ThreadExecutor(overlap=overlap)
    async with RenderPool(
        lambda model, worker: renderer, tmp_path, executor=executor
    ) as render_pool:
        render_pool.add_listener(recorder)
        render_pool.add_listener(listener)
        for name in ("a", "b", "c"):
            render_pool.submit(_job(name, prompt=name))
        for name in ("a", "b", "c"):
            await recorder.wait(JobFinished, name)
    log = sorted(renderer.log + slow_develop, key=lambda entry: entry[2])
    for name in ("a", "b", "c"):
        kinds = recorder.of(name)
        assert kinds[:2] == ["JobQueued", "JobStarted"] and kinds[-1] == "JobFinished"
        assert set(kinds[2:-1]) == {"JobProgress"}  # every step before the take is done
    assert finished_with_clip == {"a": True, "b": True, "c": True}  # the clip came first
    b_starts, a_developed = _when(log, "render", "b"), _when(log, "developed", "a")
    if overlap:
        assert b_starts < a_developed  # b denoised while a was being developed
        # Bounded: c starts only once a is developed (at most two takes in memory).
        assert _when(log, "render", "c") >= a_developed
    else:
        assert b_starts >= a_developed


async def test_cancel_while_developing_and_next_job_unaffected(
    tmp_path: Path, slow_develop: list[tuple[str, str, float]]
) -> None:
    renderer = TimedRenderer()
    recorder = Recorder()
    async with RenderPool(lambda model, worker: renderer, tmp_path) as render_pool:
        render_pool.add_listener(recorder)
        render_pool.submit(_job("a", prompt="a"))
        render_pool.submit(_job("b", prompt="b"))
        await recorder.wait(JobStarted, "b")  # a is developing, b denoising
        assert render_pool.cancel("a")
        await recorder.wait(JobCancelled, "a")
        end = await recorder.wait(JobFinished, "b")
        assert isinstance(end, JobFinished) and end.clip.exists()
        assert [e.job_id for e in render_pool.queue()] == []
        # The cache still serves b; a will render again when asked.
        again = render_pool.submit(_job("b2", prompt="b"))
        assert isinstance(again, JobFinished) and again.cache_hit
    assert recorder.of("a")[-1] == "JobCancelled" and "JobFinished" not in recorder.of("a")


async def test_a_failed_develop_fails_only_its_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import render.pool
    from render.develop import develop

    def flaky(request: RenderRequest, result: RenderResult, clip: Path, poster: Path) -> dict:  # type: ignore[type-arg]
        if request.prompt == "a":
            raise OSError(28, "No space left on device")
        return develop(request, result, clip, poster)

    monkeypatch.setattr(render.pool, "develop", flaky)
    recorder = Recorder()
    async with RenderPool(lambda model, worker: TimedRenderer(), tmp_path) as render_pool:
        render_pool.add_listener(recorder)
        render_pool.submit(_job("a", prompt="a"))
        render_pool.submit(_job("b", prompt="b"))
        failed = await recorder.wait(JobFailed, "a")
        assert isinstance(await recorder.wait(JobFinished, "b"), JobFinished)
    from render.pool import DISK_FULL

    assert isinstance(failed, JobFailed) and failed.reason == DISK_FULL


async def test_preload_loads_each_workers_renderer_once_at_start(tmp_path: Path) -> None:
    from render.pool import ThreadExecutor

    renderers: dict[int, TimedRenderer] = {}

    def load(model: str, worker: int) -> TimedRenderer:
        return renderers.setdefault(worker, TimedRenderer(0.01))

    recorder = Recorder()
    executor = ThreadExecutor(preload=("gated",))
    async with RenderPool(load, tmp_path, workers=2, executor=executor) as render_pool:
        render_pool.add_listener(recorder)
        for name in ("a", "b", "c", "d"):
            render_pool.submit(_job(name, user=name, prompt=name))
        for name in ("a", "b", "c", "d"):
            await recorder.wait(JobFinished, name)
    assert sorted(renderers) == [0, 1]
    assert [renderer.loads for renderer in renderers.values()] == [1, 1]
