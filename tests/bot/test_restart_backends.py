"""Restart recovery on both render backends, `local` (worker threads) and `ray` (the farm's
actors): a run killed mid-batch leaves its jobs queued or running in the store, held under its
name; the next run on the same data folder takes them over at once, renders each exactly once,
and tells the crew what it resumes.

The killed run is this test's own production, named after a process that is gone (as a run
killed with -9 on this machine is) and unable to release its jobs; its "death" closes its render
pool after its news has stopped being recorded, so the store keeps exactly what the dead run last
wrote, and the farm's actors are killed with it. Renders are animatics behind a gate shared
through files (the farm's actors are other processes): the first two renders go through, the
later ones wait until the test opens the gate, so the death always finds two shots done, two
rendering and one queued. The session's one local Ray instance (`ray_instance`, 2 CPU slots) is
started only when a `ray` test runs; without ray those are skipped and the `local` ones still
run.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from render.animatic import AnimaticRenderer
from render.pool import JobFinished, PoolEvent
from render.types import (
    CancelToken,
    ProgressCallback,
    RenderCancelled,
    Renderer,
    RenderRequest,
    RenderResult,
)
from studio.records import JobState, RenderJobRecord, Take
from tests.render.farm_renderers import lines, log_line

if TYPE_CHECKING:
    from bot.production import Production, ProductionEvent
    from bot.settings import Settings

SCOPE = "local"
BRIEF = (  # five animatic shots
    "A 20-second teaser. Mia, a detective, waits in a rain-soaked alley at night. "
    "Cole steps out of a car holding a letter. Mia reads the letter in the diner."
)
WORKERS = 2
FREE = 2  # renders that go through before the gate: done when the run dies
# The killed run's name on its jobs: this machine, a pid that cannot exist (above Linux's
# largest pid_max), as a run killed with -9 leaves them.
KILLED_RUN = f"{socket.gethostname()}:{2**22 + 12345}:killed"


# --- renders behind a gate shared through files ----------------------------------------------


def _ticket(folder: Path) -> int:
    """The next number in `folder`, taken atomically across processes."""
    number = 0
    while True:
        try:
            os.close(os.open(folder / f"ticket-{number}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            number += 1
        else:
            return number


class HeldAnimatic:
    """The animatic, gated: the first `free` renders (in any process) go through at once, each
    later one waits until `folder/open` exists, and stops if cancelled meanwhile. Logs each start
    (cache key and pid) and each finished render (cache key)."""

    name = "animatic"

    def __init__(self, folder: Path, free: int) -> None:
        self.folder, self.free = folder, free
        self.inner = AnimaticRenderer()

    def render(
        self,
        request: RenderRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        key = request.cache_key()
        held = _ticket(self.folder) >= self.free
        log_line(self.folder, "started.log", f"{key} {os.getpid()}")
        while held and not (self.folder / "open").exists():
            if cancel is not None and cancel.cancelled:
                log_line(self.folder, "cancelled.log", key)
                raise RenderCancelled("cancelled")
            time.sleep(0.005)
        result = self.inner.render(request, progress, cancel)
        log_line(self.folder, "rendered.log", key)
        return result


@dataclass(frozen=True)
class HeldLoader:
    """A picklable renderer loader (the farm ships it to its actors)."""

    folder: str
    free: int = FREE

    def __call__(self, model: str, worker: int = 0) -> Renderer:
        return HeldAnimatic(Path(self.folder), self.free)


# --- the backends -----------------------------------------------------------------------------


@pytest.fixture(params=["local", "ray"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "ray":
        request.getfixturevalue("ray_instance")  # skips when ray is not installed
    return str(request.param)


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the renders share with the test; every production here renders through it."""
    folder = tmp_path / "gate"
    folder.mkdir()
    monkeypatch.setattr("bot.app.renderer_loader", lambda settings: HeldLoader(str(folder)))
    return folder


def settings_for(tmp_path: Path, backend: str) -> Settings:
    from bot.settings import Settings

    return Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        render_backend="ray" if backend == "ray" else "local",
        render_workers=WORKERS,
        render_width=96,
        render_height=64,
        _env_file=None,
    )


def rendered(gate: Path) -> list[str]:
    return lines(gate, "rendered.log")


def starts(gate: Path) -> list[tuple[str, int]]:
    return [(key, int(pid)) for key, pid in (line.split() for line in lines(gate, "started.log"))]


# --- the run that is killed -------------------------------------------------------------------


@dataclass(frozen=True)
class Death:
    """What the killed run left: its batch, the takes it recorded, the jobs still open."""

    project_id: int
    shots: dict[str, str]  # shot uid -> number
    batch_id: str
    takes: list[Take]
    open_jobs: list[RenderJobRecord]
    clips: dict[str, Path]  # job id -> clip the pool finished before the death
    starts: list[tuple[str, int]]  # the renders it started: cache key, pid

    @property
    def pids(self) -> set[int]:
        return {pid for _, pid in self.starts}

    def held_as_killed(self) -> None:
        """Its open jobs are still its own for most of a minute: only its pid being gone lets
        another run take them over now (nothing was released, nothing ended)."""
        assert {job.owner for job in self.open_jobs} == {KILLED_RUN}
        assert all(job.lease_until and job.lease_until > time.time() + 30 for job in self.open_jobs)
        assert {job.state for job in self.open_jobs} <= {JobState.QUEUED, JobState.RUNNING}


def run(settings: Settings) -> AbstractAsyncContextManager[Production]:
    """A run of the production with render workers, as `bot.app` wires it (imported here: the
    farm's actors import this module for its loader, and need none of the bot)."""
    from bot.app import production

    return production(settings, render=True)


async def _nothing() -> None:
    return None


@asynccontextmanager
async def killed_run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Production]:
    """A production that dies when the block ends: it holds its jobs under a dead process's name
    and releases nothing; its news stops being recorded before its pool stops (a pool's close
    gives interrupted and dropped jobs no terminal event), and the farm kills its actors."""
    with monkeypatch.context() as patch:
        async with run(settings) as prod:
            prod.renders.owner = KILLED_RUN
            patch.setattr(prod.renders, "release", _nothing)
            yield prod


async def die_mid_batch(
    settings: Settings, gate: Path, monkeypatch: pytest.MonkeyPatch, *, record: bool = True
) -> Death:
    """Render every shot in one batch on two workers; die once two are done and two rendering.
    Without `record`, the two finished clips reach the pool's cache but not the store (the run
    dies between the clip and its take)."""
    async with killed_run(settings, monkeypatch) as prod:
        pool = prod.renders.require_pool()
        heard: list[PoolEvent] = []  # the pool's events: a clip is on disk once finished
        pool.add_listener(heard.append)
        news: list[ProductionEvent] = []  # the production's, told once stored
        prod.add_listener(news.append)
        if not record:

            async def never(*args: object, **kwargs: object) -> None:
                await asyncio.Event().wait()

            monkeypatch.setattr(prod.store, "finish_job", never)
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        batch = await prod.render(SCOPE, project.id, "ana")
        assert len(batch.jobs) == len(project.shotlist.shots) == 5
        async with asyncio.timeout(60):
            while True:
                clips = {e.job_id: e.clip for e in heard if isinstance(e, JobFinished)}
                recorded = [e.job_id for e in news if e.state is JobState.DONE]
                if (
                    len(clips) == FREE
                    and len(starts(gate)) == FREE + WORKERS
                    and len(recorded) == (FREE if record else 0)
                ):
                    break
                await asyncio.sleep(0.02)
    from studio.store import Store

    store = await Store.open(settings.database)
    try:
        takes = await store.takes(project.id)
        left = await store.open_jobs(project.id)
    finally:
        await store.close()
    assert len(takes) == (FREE if record else 0) and len(left) == 5 - len(takes)
    return Death(
        project.id,
        {shot.uid: shot.number for shot in project.shotlist.shots},
        batch.id,
        takes,
        left,
        clips,
        starts(gate),
    )


def resumed_starts(gate: Path, death: Death) -> list[tuple[str, int]]:
    """The renders started since the death."""
    return starts(gate)[len(death.starts) :]


def ran_on(backend: str, pids: set[int], death: Death) -> None:
    """Each run rendered on its backend: here on threads; on the farm in actors, the new run's
    not the dead run's."""
    if backend == "ray":
        assert os.getpid() not in pids | death.pids
        assert pids and pids.isdisjoint(death.pids)
    else:
        assert pids == death.pids == {os.getpid()}


# --- the tests --------------------------------------------------------------------------------


async def test_a_killed_runs_renders_resume_and_each_shot_renders_once(
    backend: str, gate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, backend)
    death = await die_mid_batch(settings, gate, monkeypatch)
    death.held_as_killed()
    done_before = [take.fingerprint for take in death.takes]
    assert len(done_before) == FREE and sorted(rendered(gate)) == sorted(done_before)
    open_keys = [job.fingerprint for job in death.open_jobs]
    assert len(open_keys) == 5 - FREE and set(open_keys).isdisjoint(done_before)
    interrupted = {key for key, _ in death.starts} - set(done_before)
    assert len(interrupted) == WORKERS and interrupted < set(open_keys)  # one queued besides

    (gate / "open").touch()
    async with run(settings) as prod:
        assert prod.resumed == [death.batch_id]
        async with asyncio.timeout(60):
            jobs = await prod.wait(death.batch_id)
        takes = await prod.store.takes(death.project_id)
        assert await prod.store.open_jobs() == []

    assert [job.state for job in jobs] == [JobState.DONE] * 5
    assert len({job.take_id for job in jobs}) == 5
    # One take per shot; those the dead run recorded are kept, not made again.
    assert sorted(take.shot_uid for take in takes) == sorted(death.shots)
    assert [take.id for take in takes[:FREE]] == [take.id for take in death.takes]
    # Each shot rendered once: the resumed run rendered exactly the jobs left open, each once
    # (the two interrupted ones start over), and none the dead run had finished.
    assert sorted(rendered(gate)) == sorted(take.fingerprint for take in takes)
    assert len(set(rendered(gate))) == 5
    again = resumed_starts(gate, death)
    assert sorted(key for key, _ in again) == sorted(open_keys)
    assert sorted(rendered(gate)[FREE:]) == sorted(open_keys)
    ran_on(backend, {pid for _, pid in again}, death)


async def test_clips_a_killed_run_finished_but_never_recorded_are_not_rendered_again(
    backend: str, gate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between a clip reaching the pool's folder and its take reaching the store: the
    resumed job finds the clip in the cache and records it."""
    settings = settings_for(tmp_path, backend)
    death = await die_mid_batch(settings, gate, monkeypatch, record=False)
    death.held_as_killed()
    assert death.takes == [] and len(death.open_jobs) == 5
    assert len(death.clips) == FREE and all(clip.exists() for clip in death.clips.values())
    assert len(rendered(gate)) == FREE

    (gate / "open").touch()
    async with run(settings) as prod:
        assert prod.resumed == [death.batch_id]
        async with asyncio.timeout(60):
            jobs = await prod.wait(death.batch_id)
        takes = {take.id: take for take in await prod.store.takes(death.project_id)}

    assert [job.state for job in jobs] == [JobState.DONE] * 5
    assert sorted(take.shot_uid for take in takes.values()) == sorted(death.shots)
    clips = set(death.clips.values())
    for job in jobs:
        assert job.take_id is not None
        if job.id in death.clips:  # the dead run's clip became the take
            assert Path(takes[job.take_id].clip) == death.clips[job.id]
    assert sorted(rendered(gate)) == sorted(take.fingerprint for take in takes.values())
    assert len(set(rendered(gate))) == 5
    finished = {take.fingerprint for take in takes.values() if Path(take.clip) in clips}
    again = resumed_starts(gate, death)
    assert len(finished) == FREE and len(again) == 5 - FREE
    assert finished.isdisjoint(key for key, _ in again)
    ran_on(backend, {pid for _, pid in again}, death)


async def test_the_crew_hears_what_a_restart_resumes(
    backend: str, gate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The terminal's notice on start, then each resumed shot's progress to the end."""
    from rich.console import Console

    from bot.terminal import show_resumed

    settings = settings_for(tmp_path, backend)
    death = await die_mid_batch(settings, gate, monkeypatch)
    resumed_shots = sorted(job.shot_number for job in death.open_jobs)
    done_shots = sorted(death.shots[take.shot_uid] for take in death.takes)
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False, color_system=None)
    async with run(settings) as prod:
        # The gate is shut: nothing resumed can finish before the crew is told.
        (batch,) = await prod.resumed_renders()
        assert batch.id == death.batch_id and batch.project_id == death.project_id
        assert sorted(number for _, number in batch.jobs) == resumed_shots
        showing = asyncio.create_task(show_resumed(prod, console))
        async with asyncio.timeout(60):
            while True:  # the notice comes before any progress
                if "Resuming" in out.getvalue():
                    break
                await asyncio.sleep(0.02)
            (gate / "open").touch()
            await showing
        assert await prod.resumed_renders() == []  # nothing left to show once they are done
    text = out.getvalue()
    assert text.splitlines()[0] == f"Resuming {5 - FREE} interrupted renders."
    # One progress row per resumed shot, in its last state: `Production.wait` returns only once
    # the listeners have heard every ending.
    for number in resumed_shots:
        (row,) = [line for line in text.splitlines() if f"shot {number:>3}" in line]
        assert "done in" in row, text
    for number in done_shots:
        assert f"shot {number:>3}" not in text
    ran_on(backend, {pid for _, pid in resumed_starts(gate, death)}, death)
