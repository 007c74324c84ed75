"""The Ray render farm behind the pool's contract: the session's one local Ray instance
(`ray_instance`, 2 CPU slots); each test gets its own pool and actors. Skipped only when ray is not installed.

The pool's behaviours the crew sees (event order with progress and previews, fairness and
priority, cancelling queued and running jobs, cache hits and joined renders, failures and their
reasons, the workers' report) run against both backends, `local` (worker threads) and `ray`,
with the same file-gated renderers (`farm_renderers`: actors are other processes, so a
threading.Event can't hold them). Ray only: a killed actor (threads have no process to kill; the
local pool's lost-worker path is test_pool's `LosingExecutor`), and the one-batch comparison of
the two backends' event streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

ray = pytest.importorskip("ray")

from render.encode import probe  # noqa: E402
from render.farm import ACTOR_PREFIX, RayExecutor, running_workers  # noqa: E402
from render.pool import (  # noqa: E402
    GENERIC_FAILURE,
    LOST_TWICE,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobQueued,
    JobRetried,
    JobStarted,
    RenderJob,
    RenderPool,
    ThreadExecutor,
)
from render.types import PREVIEW_WIDTH, RenderRequest  # noqa: E402
from tests.render.farm_renderers import FarmTestLoader, lines  # noqa: E402
from tests.render.test_pool import Recorder, _job, _request  # noqa: E402

if TYPE_CHECKING:
    from bot.production import Production
    from bot.production.models import RenderBatch
    from studio.records import Project

ROOT = Path(__file__).resolve().parents[2]


class Farm:
    def __init__(self, pool: RenderPool, executor: Any, folder: Path) -> None:
        self.pool, self.executor, self.folder = pool, executor, folder
        self.events = Recorder()
        pool.add_listener(self.events)

    def open_gate(self) -> None:
        (self.folder / "open").touch()

    def rendered(self) -> list[str]:
        return lines(self.folder, "rendered.log")

    async def workers(self, count: int) -> None:
        """Wait until `count` workers have joined (and no more)."""
        for _ in range(600):
            if len(self.pool.workers()) == count and len(self.pool.slots()) == count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.pool.workers())} render workers, not {count}")


async def _farm(tmp_path: Path, workers: int, backend: str = "ray") -> Farm:
    folder = tmp_path / "farm"
    folder.mkdir()
    executor: Any = ThreadExecutor()
    if backend.startswith("ray"):
        executor = RayExecutor(rescale_s=0.5, overlap=backend == "ray-overlap")
    pool = RenderPool(
        FarmTestLoader(str(folder)), tmp_path / "clips", workers=workers, executor=executor
    )
    await pool.start()
    farm = Farm(pool, executor, folder)
    await farm.workers(workers)
    return farm


@pytest.fixture(params=["local", "ray", "ray-overlap"])
async def farm(
    ray_instance: None, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Farm]:
    """One worker: a thread (`local`) or a Ray actor (`ray`; `ray-overlap` develops each take
    while the next denoises, as a GPU actor does)."""
    farm = await _farm(tmp_path, 1, request.param)
    yield farm
    farm.open_gate()
    await farm.pool.close()


@pytest.fixture
async def ray_farm(ray_instance: None, tmp_path: Path) -> AsyncIterator[Farm]:
    farm = await _farm(tmp_path, 1)
    yield farm
    farm.open_gate()
    await farm.pool.close()


@pytest.fixture(params=["ray", "ray-overlap"])
async def farm2(
    ray_instance: None, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Farm]:
    """Two actors (killing one leaves the other), inline or overlapping as GPU actors do."""
    farm = await _farm(tmp_path, 2, request.param)
    yield farm
    farm.open_gate()
    await farm.pool.close()


def _animatic(prompt: str) -> RenderRequest:
    return RenderRequest(prompt=prompt, width=96, height=64, frames=12, fps=12, model="animatic")


async def test_events_order_outputs_and_previews(farm: Farm) -> None:
    request = RenderRequest(prompt="p", width=128, height=96, frames=20, fps=16)
    assert farm.pool.submit(RenderJob("j1", "ana", request)) == JobQueued("j1", 1)
    finished = await farm.events.wait(JobFinished, "j1")
    kinds = farm.events.of("j1")
    assert kinds[:2] == ["JobQueued", "JobStarted"] and kinds[-1] == "JobFinished"
    assert set(kinds[2:-1]) == {"JobProgress"}
    progress = [e for e in farm.events.events if isinstance(e, JobProgress)]
    assert [e.step for e in progress] == [1, 2, 3]
    assert progress[0].preview is not None and progress[0].preview.size == (128, 96)
    assert all(e.eta_s is not None and e.eta_s >= 0 for e in progress)
    assert isinstance(finished, JobFinished) and not finished.cache_hit
    assert finished.clip.name == f"{request.cache_key()}.mp4" and finished.poster.exists()
    assert probe(finished.clip).frames == 20
    assert finished.info["model"] == "animatic"
    # Written by the bot's side through temporary siblings: only the clip and its poster remain.
    assert sorted(p.name for p in finished.clip.parent.iterdir()) == sorted(
        [finished.clip.name, finished.poster.name]
    )
    assert farm.events.threads == {threading.get_ident()}  # delivered on the loop thread


async def test_same_events_as_the_local_pool(ray_farm: Farm, tmp_path: Path) -> None:
    """One batch through both backends: the same events in the same order (progress aside)."""
    farm = ray_farm

    def batch(pool: RenderPool) -> None:
        for job_id, user, prompt in [("a1", "ana", "x"), ("a2", "ana", "y"), ("b1", "ben", "y")]:
            pool.submit(RenderJob(job_id, user, _animatic(prompt)))
        pool.submit(RenderJob("b2", "ben", _animatic("z")))

    async def run(pool: RenderPool, events: Recorder) -> list[tuple[str, str]]:
        batch(pool)
        for job_id in ("a1", "a2", "b1", "b2"):
            await events.wait(JobFinished, job_id)
        pool.submit(RenderJob("c1", "cy", _animatic("x")))  # a cache hit
        return [
            (type(e).__name__, e.job_id) for e in events.events if not isinstance(e, JobProgress)
        ]

    local_events = Recorder()
    # Both hand a worker its next job when denoising ends, before the last take is developed.
    executor = ThreadExecutor()
    async with RenderPool(
        FarmTestLoader(str(farm.folder)), tmp_path / "local", executor=executor
    ) as local:
        local.add_listener(local_events)
        local_order = await run(local, local_events)
    assert await run(farm.pool, farm.events) == local_order
    assert ("JobStarted", "b1") in local_order  # b1 joined a2's identical render


async def test_fair_between_users_and_priority_first(farm: Farm) -> None:
    for i in range(3):
        farm.pool.submit(_job(f"a{i}", "ana"))
    await farm.events.wait(JobStarted, "a0")
    assert farm.pool.submit(_job("b0", "ben")) == JobQueued("b0", 1)
    assert farm.pool.submit(_job("hi", "ana", priority=5)) == JobQueued("hi", 1)
    farm.open_gate()
    await farm.events.wait(JobFinished, "a2")
    assert farm.events.started() == ["a0", "hi", "b0", "a1", "a2"]
    assert farm.rendered() == ["a0", "hi", "b0", "a1", "a2"]


async def test_cancel_queued_and_running(farm: Farm) -> None:
    farm.pool.submit(_job("j1"))
    await farm.events.wait(JobProgress, "j1")  # rendering, held at its second step
    farm.pool.submit(_job("j2"))
    assert farm.pool.cancel("j2")
    assert farm.events.of("j2") == ["JobQueued", "JobCancelled"]
    assert farm.pool.cancel("j1")
    await farm.events.wait(JobCancelled, "j1")  # the gate is still shut: it stopped at a step
    assert lines(farm.folder, "cancelled.log") == ["j1"]
    assert not list(farm.pool.out_dir.glob("*.mp4")) and farm.pool.queue() == []
    farm.open_gate()
    farm.pool.submit(_job("j3"))
    await farm.events.wait(JobFinished, "j3")  # the actor renders on after a cancel
    assert farm.rendered() == ["j3"]


async def test_cache_hit_and_in_flight_join(farm: Farm) -> None:
    farm.pool.submit(_job("x1", "ana", prompt="same"))
    farm.pool.submit(_job("x2", "ben", prompt="same"))
    await farm.events.wait(JobStarted, "x2")
    farm.open_gate()
    first, second = (
        await farm.events.wait(JobFinished, "x1"),
        await farm.events.wait(JobFinished, "x2"),
    )
    assert isinstance(first, JobFinished) and isinstance(second, JobFinished)
    assert not first.cache_hit and second.cache_hit and first.clip == second.clip
    assert "JobProgress" in farm.events.of("x2")
    again = farm.pool.submit(_job("x3", "cy", prompt="same"))
    assert isinstance(again, JobFinished) and again.cache_hit
    assert farm.rendered() == ["same"]


async def test_failures_carry_their_reasons(farm: Farm) -> None:
    farm.open_gate()
    cases = {"oom": "Out of GPU memory: try a smaller size.", "boom": GENERIC_FAILURE}
    cases["broken"] = "The model 'broken' could not be loaded."
    for model, reason in cases.items():
        farm.pool.submit(RenderJob(model, "ana", _request(model, model=model)))
        assert await farm.events.wait(JobFailed, model) == JobFailed(model, reason)
    farm.pool.submit(_job("fine"))
    await farm.events.wait(JobFinished, "fine")  # the actor survives failures
    loads = [line.split()[0] for line in lines(farm.folder, "loads.log")]
    assert loads == ["oom", "boom", "broken", "gated"]  # each model loaded once by the actor


def _kill(farm: Farm, job_id: str, how: str) -> int:
    (worker,) = [w for w in farm.pool.workers() if w.job_id == job_id]
    if how == "ray.kill":
        (slot,) = [s for s in farm.pool.slots() if s.name == worker.name]
        ray.kill(slot.actor)  # type: ignore[attr-defined]
    else:
        os.kill(worker.pid, signal.SIGKILL)
    return worker.pid


async def test_a_killed_actor_resubmits_the_job_once(farm2: Farm) -> None:
    """Its process killed by pid mid-render: the job finishes on the other actor."""
    farm2.pool.submit(_job("j1", prompt="shot"))
    farm2.pool.submit(_job("twin", "ben", prompt="shot"))
    await farm2.events.wait(JobProgress, "j1")
    dead = _kill(farm2, "j1", "SIGKILL")
    retried = await farm2.events.wait(JobRetried, "j1")
    assert isinstance(retried, JobRetried) and "again" in retried.note
    assert "JobRetried" in farm2.events.of("twin")  # the joined job hears it too
    farm2.open_gate()
    finished = await farm2.events.wait(JobFinished, "j1")
    assert isinstance(finished, JobFinished) and finished.clip.exists()
    assert farm2.events.of("twin")[-1] == "JobFinished"
    assert "JobFailed" not in farm2.events.of("j1")
    pids = [int(line.split()[1]) for line in lines(farm2.folder, "started.log")]
    assert pids[0] == dead and pids[1] != dead and len(pids) == 2  # another actor, once
    await farm2.workers(2)  # the farm replaced the dead actor


async def test_a_job_that_loses_two_actors_fails_with_the_reason(farm2: Farm) -> None:
    farm2.pool.submit(_job("j1"))
    await farm2.events.wait(JobProgress, "j1")
    _kill(farm2, "j1", "ray.kill")
    await farm2.events.wait(JobRetried, "j1")
    for _ in range(500):  # until the second actor has it
        if len(lines(farm2.folder, "started.log")) == 2:
            break
        await asyncio.sleep(0.01)
    _kill(farm2, "j1", "SIGKILL")
    failed = await farm2.events.wait(JobFailed, "j1")
    assert isinstance(failed, JobFailed) and failed.reason.startswith(LOST_TWICE.split("(")[0])
    assert "died" in failed.reason


def test_machines_joining_and_leaving_add_and_remove_workers() -> None:
    """A cluster of separate nodes: no CPU, no worker; each machine that joins adds one; one
    that leaves mid-render takes its worker, and its job is queued again and finishes on the
    machine left. The pool and its farm are never restarted."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "render" / "farm_cluster.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    said = done.stdout.splitlines()
    assert said[:2] == [
        "no CPU in the cluster: no worker",
        "two machines joined: two workers on two nodes",
    ], done.stdout
    assert re.fullmatch(r"a machine left: its job [ab] queued again, one worker left", said[2])
    assert said[3:] == ["both jobs finished on the remaining machine", "OK"], done.stdout


async def test_the_farm_shrinks_by_idle_workers_and_only_on_a_second_look(
    farm2: Farm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cluster looks smaller (its resource view dips while a machine leaves): one low
    reading changes nothing; on the second an idle worker leaves, never a busy one."""
    executor: RayExecutor = farm2.executor
    farm2.pool.submit(_job("busy"))
    await farm2.events.wait(JobProgress, "busy")
    monkeypatch.setattr(executor, "target", lambda: 0)
    executor._rescale()
    assert len(farm2.pool.workers()) == 2  # one low reading: nobody leaves
    executor._rescale()
    (left,) = farm2.pool.workers()  # the idle one left; the busy one renders on
    assert left.job_id == "busy"
    executor._rescale()
    assert len(farm2.pool.workers()) == 1
    farm2.open_gate()
    await farm2.events.wait(JobFinished, "busy")


async def test_two_actors_render_at_once(farm2: Farm) -> None:
    farm2.pool.submit(_job("a", "ana"))
    farm2.pool.submit(_job("b", "ben"))
    await farm2.events.wait(JobProgress, "a")
    await farm2.events.wait(JobProgress, "b")
    assert {w.job_id for w in farm2.executor.workers()} == {"a", "b"}
    assert len({w.pid for w in farm2.executor.workers()}) == 2
    farm2.open_gate()
    await farm2.events.wait(JobFinished, "a")
    await farm2.events.wait(JobFinished, "b")


@pytest.mark.parametrize("shared", [False, True], ids=["object-store", "shared-folder"])
async def test_the_production_renders_a_film_on_the_farm(
    ray_instance: None, tmp_path: Path, shared: bool
) -> None:
    from bot.app import production
    from bot.settings import Settings
    from render.farm import RayExecutor as Farm_

    brief = (
        "A 10-second teaser. Mia waits in a rain-soaked alley at night. Cole hands her a letter."
    )
    settings = Settings(
        data_dir=tmp_path / "data",
        render_backend="ray",
        render_workers=2,
        render_shared_dir=tmp_path / "shared" if shared else None,
        _env_file=None,  # type: ignore[call-arg]
    )
    async with production(settings, render=True) as prod:
        assert prod.renders.pool is not None
        assert isinstance(prod.renders.pool.executor, Farm_)
        project = (await prod.start_project("local", "ana", brief)).project
        batch = await prod.render("local", project.id, "ana")
        jobs = await prod.wait(batch.id)
        assert [job.state for job in jobs] == ["done"] * len(project.shotlist.shots)
        takes = await prod.store.takes(project.id)
        farm_pids = {w.pid for w in prod.renders.pool.executor.workers()}
    assert len(takes) == len(jobs) and len(farm_pids) == 2
    for take in takes:
        assert probe(Path(take.clip)).codec == "h264" and Path(take.poster).exists()
        if shared:
            assert Path(take.clip).parent == tmp_path / "shared"


def test_the_local_backend_never_imports_ray(tmp_path: Path) -> None:
    import subprocess

    script = (
        "import asyncio, sys\n"
        "from bot.app import production\n"
        "from bot.settings import Settings\n"
        "async def main():\n"
        f"    settings = Settings(data_dir={str(tmp_path)!r}, _env_file=None)\n"
        "    async with production(settings, render=True):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
    )
    env = {**os.environ, "SLATE_RENDER_BACKEND": "local"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


async def test_workers_report_their_models_and_jobs(farm: Farm) -> None:
    (idle,) = farm.pool.workers()
    assert idle.job_id is None and idle.models == ()
    assert idle.device == ("CPU" if isinstance(farm.executor, RayExecutor) else "thread")
    farm.pool.submit(_job("j1"))
    await farm.events.wait(JobProgress, "j1")
    (busy,) = farm.pool.workers()
    assert busy.job_id == "j1" and busy.models == ("gated",) and busy.name == idle.name
    farm.open_gate()
    await farm.events.wait(JobFinished, "j1")
    (done,) = farm.pool.workers()
    assert done.job_id is None and done.models == ("gated",)  # loaded once, kept


@contextlib.asynccontextmanager
async def _both_workers_busy(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Production, Project, RenderBatch]]:
    """A production on `backend` with two workers, each holding a shot of a film it renders
    behind the gate (`tmp_path/farm/open`), opened on the way out."""
    from bot.app import production
    from bot.settings import Settings

    folder = tmp_path / "farm"
    folder.mkdir()
    monkeypatch.setattr("bot.app.renderer_loader", lambda s: FarmTestLoader(str(folder), True))
    settings = Settings(
        data_dir=tmp_path / "data",
        render_backend=backend,  # type: ignore[arg-type]
        render_workers=2,
        _env_file=None,  # type: ignore[call-arg]
    )
    brief = (
        "A 10-second teaser. Mia waits in a rain-soaked alley at night. Cole hands her a letter."
    )
    try:
        async with production(settings, render=True) as prod:
            project = (await prod.start_project("local", "ana", brief)).project
            batch = await prod.render("local", project.id, "ana")
            for _ in range(500):  # until both workers have a shot
                rows = await prod.workers("local")
                if len(rows) == 2 and all(row.label for row in rows):
                    break
                await asyncio.sleep(0.02)
            yield prod, project, batch
    finally:
        (folder / "open").touch()


@pytest.mark.parametrize("backend", ["local", "ray"])
async def test_the_production_says_what_each_worker_renders(
    ray_instance: None, tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Production.workers`, what `slate farm status` and `/queue` show: the film and shot a
    worker renders for this crew; another crew's film unnamed."""
    async with _both_workers_busy(tmp_path, backend, monkeypatch) as (prod, project, batch):
        rows = await prod.workers("local")
        assert {row.title for row in rows} == {project.title}
        assert all(row.label.startswith(f"#{project.id} shot ") for row in rows)
        assert {row.device for row in rows} == {"CPU" if backend == "ray" else "thread"}
        other = await prod.workers("discord:1")
        assert {(row.title, row.label) for row in other} == {("another crew's film", "")}
        (tmp_path / "farm" / "open").touch()
        await prod.wait(batch.id)
        rows = await prod.workers("local")
        assert [row.rendering for row in rows] == ["", ""]
        assert {row.models for row in rows} == {("animatic",)}


async def test_a_tiny_diffusers_pipeline_renders_on_the_farm(
    ray_instance: None, tiny_wan_path: Path, tmp_path: Path
) -> None:
    """A random-weight Wan pipeline saved to disk, loaded in the actor through the bot's own
    RendererFactory (as SLATE_RENDERER=diffusers does), rendered with progress and previews."""
    from bot.app import RendererFactory
    from render.diffusers import DiffusersOptions

    executor = RayExecutor(rescale_s=0.5)
    loader = RendererFactory(DiffusersOptions(preview_every=2), device_count=lambda: 0)
    events = Recorder()
    request = RenderRequest(
        prompt="a man walks down a dark street at night",
        width=64,
        height=64,
        frames=9,
        fps=16,
        steps=3,
        guidance=5.0,
        seed=7,
        model=str(tiny_wan_path),
    )
    async with RenderPool(loader, tmp_path / "clips", executor=executor) as pool:
        pool.add_listener(events)
        pool.submit(RenderJob("wan", "ana", request))
        for _ in range(1200):  # the actor imports torch and loads the pipeline first
            if any(isinstance(e, JobFinished | JobFailed) for e in events.events):
                break
            await asyncio.sleep(0.05)
        finished = events.events[-1]
        assert isinstance(finished, JobFinished), finished
        progress = [e for e in events.events if isinstance(e, JobProgress)]
        assert [e.step for e in progress] == [1, 2, 3] and progress[-1].total == 3
        assert any(e.preview is not None for e in progress)
        assert probe(finished.clip).frames == 9 and finished.poster.exists()
        assert finished.info["model"] and not finished.cache_hit
        (worker,) = pool.workers()
        assert worker.models == (str(tiny_wan_path),) and worker.job_id is None


# -- overlap, previews, threads ------------------------------------------------------------------


@pytest.mark.parametrize("overlap", [True, False], ids=["overlap", "inline"])
async def test_an_actor_gets_its_next_job_while_a_take_develops(
    ray_instance: None, tmp_path: Path, overlap: bool
) -> None:
    """Noise is slow to encode. Either way the actor is handed b while a's take develops (b
    starts before a is announced: no round trip between jobs); an overlapping actor (a GPU's)
    renders b at once, an inline one (a CPU's) once a's take is developed. Each take's events
    keep their order, and its clip exists when it is announced."""
    folder = tmp_path / "farm"
    folder.mkdir()
    executor = RayExecutor(rescale_s=0.5, overlap=overlap)
    events = Recorder()
    developed: dict[str, float] = {}

    def listen(event: Any) -> None:
        if isinstance(event, JobFinished):
            info = event.info
            developed[event.job_id] = info["render_seconds"] + info["develop_seconds"]
            assert event.clip.exists() and event.poster.exists()

    async with RenderPool(
        FarmTestLoader(str(folder)), tmp_path / "clips", executor=executor
    ) as pool:
        pool.add_listener(events)
        pool.add_listener(listen)
        for name in ("a", "b", "c"):
            request = RenderRequest(prompt=name, width=320, height=240, frames=48, model="noisy")
            pool.submit(RenderJob(name, "ana", request))
        for name in ("a", "b", "c"):
            await events.wait(JobFinished, name)
    started = {line.split()[0]: float(line.split()[1]) for line in lines(folder, "renders.log")}
    order = [(type(e).__name__, e.job_id) for e in events.events if not isinstance(e, JobProgress)]
    for name in ("a", "b", "c"):
        assert events.of(name)[:2] == ["JobQueued", "JobStarted"]
        assert events.of(name)[-1] == "JobFinished"
    for first, then in (("a", "b"), ("b", "c")):
        assert order.index(("JobStarted", then)) < order.index(("JobFinished", first))
        developing_ends = started[first] + developed[first]  # rendered, then developed
        if not overlap:
            assert started[then] >= developing_ends
    if overlap:  # (b's take waits for a's to be developed, so c's timing says less)
        assert started["b"] < started["a"] + developed["a"]


async def test_previews_cross_the_network_as_glances(ray_farm: Farm) -> None:
    """A renderer's full-frame preview reaches the bot PREVIEW_WIDTH wide, same aspect."""
    request = RenderRequest(prompt="p", width=320, height=240, frames=48, model="noisy")
    ray_farm.pool.submit(RenderJob("j", "ana", request))
    await ray_farm.events.wait(JobFinished, "j")
    (progress,) = [e for e in ray_farm.events.events if isinstance(e, JobProgress)]
    assert progress.preview is not None and progress.preview.size == (PREVIEW_WIDTH, 180)


def test_a_farm_actor_keeps_its_encoder_to_its_cpu_share(tmp_path: Path) -> None:
    """An actor given one CPU encodes on one thread (and OpenCV too), not on every core."""
    code = (
        "import cv2\n"
        "from render import encode\n"
        "from render.farm import FarmWorker\n"
        "FarmWorker(lambda model, index: None, 0, threads=1)\n"
        "assert encode._threads == 1 and cv2.getNumThreads() == 1, (encode._threads, cv2.getNumThreads())\n"
        "FarmWorker(lambda model, index: None, 1, threads=3)\n"
        "assert encode._threads == 3 and cv2.getNumThreads() == 3\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr


# -- another process sees the farm: `slate farm status` -------------------------------------------


async def test_running_workers_are_found_by_name(farm2: Farm) -> None:
    """Any process joined to the cluster lists a bot's actors (named in the `slate` namespace)
    with the job each renders."""
    farm2.pool.submit(_job("j1"))
    farm2.pool.submit(_job("j2"))
    await farm2.events.wait(JobProgress, "j1")
    await farm2.events.wait(JobProgress, "j2")
    found = await running_workers()
    ours = [row for row in found if row.pid in {w.pid for w in farm2.pool.workers()}]
    assert len(ours) == 2 and all(row.name.startswith(ACTOR_PREFIX) for row in ours)
    assert sorted(row.job_id or "" for row in ours) == ["j1", "j2"]
    assert all(row.device == "CPU" and row.models == ("gated",) for row in ours)


async def test_farm_status_shows_what_the_running_bot_renders(
    ray_instance: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`slate farm status` in another process joins the running bot's Ray instance and lists its
    workers, each with the film and shot it renders (from the shared store)."""
    async with _both_workers_busy(tmp_path, "ray", monkeypatch) as (prod, project, _):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLATE_", "RAY_ADDRESS"))}
        code = "import sys; from bot.cli import main; sys.exit(main(['farm', 'status']))"
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            env={
                **env,
                "SLATE_DATA_DIR": str(tmp_path / "data"),
                "SLATE_RENDER_BACKEND": "ray",
            },
        )
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0].endswith("2 worker(s) rendering for Slate."), out
    listed = [line for line in out[2:] if line.startswith(ACTOR_PREFIX)]
    assert len(listed) == 2, out
    assert all(f"{project.title} · #{project.id} shot " in line for line in listed), out
    assert done.stderr.strip() == ""  # Ray's own chatter stays out of the way
