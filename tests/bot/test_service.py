"""The production service end to end: the offline director, the real store, the real render pool
with the animatic renderer (or a gated fake where a test must hold a render mid-flight)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import production
from bot.production import Production, ProductionEvent
from bot.production.direction import StoredEditor
from bot.settings import Settings
from render.encode import probe
from studio.edits import RemoveShot, SetProjectInfo
from studio.errors import InvalidValue, LimitReached, NotFound, ShotNotFound
from studio.records import JobState
from studio.store import Store
from tests.fakes import gated_loader

SCOPE = "local"
BRIEF = (
    "A 20-second teaser. Mia, a detective, waits in a rain-soaked alley at night. "
    "Cole steps out of a car holding a letter. Mia reads the letter in the diner."
)


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None, **overrides)  # type: ignore[call-arg]


@pytest.fixture
async def prod(tmp_path: Path) -> AsyncIterator[Production]:
    async with production(settings_for(tmp_path), render=True) as p:
        yield p


async def test_render_all_then_only_what_changed(prod: Production) -> None:
    project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
    n = len(project.shotlist.shots)
    batch = await prod.render(SCOPE, project.id, "ana")
    assert len(batch.jobs) == n and not batch.skipped
    jobs = await prod.wait(batch.id)
    assert [job.state for job in jobs] == ["done"] * n
    takes = await prod.store.takes(project.id)
    assert len(takes) == n
    for take in takes:
        info = probe(Path(take.clip))
        assert info.codec == "h264" and Path(take.poster).exists()

    again = await prod.render(SCOPE, project.id, "ana")
    assert again.jobs == [] and len(again.skipped) == n

    await prod.direct(SCOPE, project.id, "ana", "shot 2: close-up")
    await prod.direct(SCOPE, project.id, "ana", "make shot 1 last 6 seconds")
    changed = await prod.render(SCOPE, project.id, "ana")
    assert sorted(number for _, number in changed.jobs) == ["1", "2"]
    assert len(changed.skipped) == n - 2
    await prod.wait(changed.id)
    assert len(await prod.store.takes(project.id)) == n + 2


async def test_style_change_rerenders_every_shot(prod: Production) -> None:
    project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
    await prod.wait((await prod.render(SCOPE, project.id, "ana")).id)
    await prod.direct(SCOPE, project.id, "ana", "make it cyberpunk")
    batch = await prod.render(SCOPE, project.id, "ana")
    assert len(batch.jobs) == len(project.shotlist.shots)


async def test_reroll_approve_and_cut(prod: Production) -> None:
    project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
    await prod.wait((await prod.render(SCOPE, project.id, "ana")).id)
    first = (await prod.store.takes(project.id, project.shotlist.shots[0].uid))[0]

    reroll = await prod.reroll(SCOPE, project.id, "ana", "1")
    await prod.wait(reroll.id)
    takes = await prod.store.takes(project.id, project.shotlist.shots[0].uid)
    assert len(takes) == 2 and takes[1].seed != takes[0].seed
    # A reroll is not a change to the shot: render-all still has nothing to do.
    assert (await prod.render(SCOPE, project.id, "ana")).jobs == []

    approved = await prod.approve(SCOPE, project.id, "ana", "1", first.id)
    assert approved.card.take.id == first.id
    assert (await prod.project(SCOPE, project.id)).shotlist.shot("1").status.value == "approved"
    cut = await prod.cut(SCOPE, project.id)
    assert cut.takes[0].id == first.id  # the approved take, not the newer reroll
    expected = sum(t.request["frames"] / t.request["fps"] for t in cut.takes)
    assert probe(cut.film).duration == pytest.approx(expected, abs=0.15)
    assert cut.timeline.exists() and cut.contact_sheet.exists()


async def test_cut_names_unrendered_shots(prod: Production) -> None:
    project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
    with pytest.raises(InvalidValue, match="no take yet"):
        await prod.cut(SCOPE, project.id)


async def test_storyboard_before_rendering(prod: Production) -> None:
    project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
    sheet = await prod.storyboard(SCOPE, project.id)
    from PIL import Image

    with Image.open(sheet) as image:
        assert image.width > 400 and image.height > 200


async def test_per_user_limit_changes_nothing(tmp_path: Path) -> None:
    async with production(settings_for(tmp_path, max_open_renders_per_user=2), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        with pytest.raises(LimitReached, match="limit is 2"):
            await prod.render(SCOPE, project.id, "ana")
        assert await prod.store.open_jobs(project.id) == []


async def test_cancel_running_and_queued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path)
    gate = threading.Event()
    monkeypatch.setattr("bot.app.renderer_loader", lambda s: gated_loader(s, gate))
    async with production(settings, render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        events: list[ProductionEvent] = []
        prod.add_listener(events.append)
        batch = await prod.render(SCOPE, project.id, "ana")
        assert await prod.cancel(SCOPE, project.id, "ana") == len(batch.jobs)
        jobs = await prod.wait(batch.id)
        assert {job.state for job in jobs} == {"cancelled"}
        assert await prod.store.takes(project.id) == []
        assert sum(e.state is JobState.CANCELLED for e in events) == len(batch.jobs)


async def test_restart_resumes_interrupted_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    gate = threading.Event()
    with monkeypatch.context() as patch:
        patch.setattr("bot.app.renderer_loader", lambda s: gated_loader(s, gate))
        async with production(settings, render=True) as prod:
            project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
            batch = await prod.render(SCOPE, project.id, "ana")
        # The process "crashed" with one job running and the rest queued.
    store = await Store.open(settings.database)
    states = {job.state for job in await store.batch_jobs(batch.id)}
    await store.close()
    assert states <= {"queued", "running"}

    async with production(settings, render=True) as prod:
        jobs = await prod.wait(batch.id)
        assert [job.state for job in jobs] == ["done"] * len(batch.jobs)
        assert len(await prod.store.takes(project.id)) == len(batch.jobs)


async def test_bad_model_is_a_clear_error(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, renderer="diffusers", model=str(tmp_path / "no-such-model"))
    async with production(settings, render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        with pytest.raises(InvalidValue, match="no model folder"):
            await prod.render(SCOPE, project.id, "ana")
        assert await prod.store.open_jobs(project.id) == []


async def test_impossible_size_is_refused_before_queueing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, renderer="diffusers", model="wan2.1-1.3b", render_width=100)
    async with production(settings, render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        with pytest.raises(InvalidValue, match="multiples of 16"):
            await prod.render(SCOPE, project.id, "ana")
        assert await prod.store.open_jobs(project.id) == []


async def test_renders_through_a_real_diffusers_pipeline(
    tmp_path: Path, tiny_wan_path: Path
) -> None:
    """The tiny random Wan folder, loaded by the same preset/path code users run."""
    settings = settings_for(
        tmp_path,
        renderer="diffusers",
        model=str(tiny_wan_path),
        render_width=64,
        render_height=64,
        render_steps=2,
    )
    async with production(settings, render=True) as prod:
        project = (
            await prod.start_project(SCOPE, "ana", "Mia waits at the station. The train arrives.")
        ).project
        events: list[ProductionEvent] = []
        prod.add_listener(events.append)
        batch = await prod.render(SCOPE, project.id, "ana", ["1", "2"])
        jobs = await prod.wait(batch.id)
        assert [job.state for job in jobs] == ["done", "done"], [job.reason for job in jobs]
        take = (await prod.store.takes(project.id))[0]
        info = probe(Path(take.clip))
        assert (info.width, info.height) == (64, 64)
        assert (info.frames - 1) % 4 == 0  # Wan's 4k+1 rule, chosen from the shot's duration
        steps = [
            e
            for e in events
            if e.state is JobState.RUNNING and e.total > 0 and e.job_id == batch.jobs[0][0]
        ]
        assert [e.step for e in steps] == [1, 2]


async def test_one_direction_is_one_version_and_one_undo(tmp_path: Path) -> None:
    async with production(settings_for(tmp_path)) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        plan = project.shotlist
        direction = await prod.direct(SCOPE, project.id, "ana", "shot 1: close-up. Cut shot 2")
        assert direction.project.head == project.head + 1  # several edits, one version
        assert direction.project.shotlist != plan and direction.changes
        [*_, last] = await prod.history(SCOPE, project.id)
        assert last.author == "ana" and "; " in last.summary
        undone = await prod.direct(SCOPE, project.id, "ana", "undo")
        assert undone.project.shotlist == plan

        retimed = await prod.direct(SCOPE, project.id, "ana", "make it 45 seconds")
        assert retimed.project.head == undone.project.head + 1
        assert abs(retimed.project.shotlist.runtime - 45) <= 0.5
        undone = await prod.direct(SCOPE, project.id, "ana", "undo")
        assert [s.duration for s in undone.project.shotlist.shots] == [
            s.duration for s in plan.shots
        ]
        assert undone.project.shotlist == plan


async def test_stored_editor_apply_many_is_all_or_nothing(tmp_path: Path) -> None:
    async with production(settings_for(tmp_path)) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        editor = StoredEditor(prod.store, SCOPE, project.id, "ben")
        with pytest.raises(ShotNotFound):
            await editor.apply_many([SetProjectInfo(title="X"), RemoveShot(shot="99")])
        assert (await prod.store.project(SCOPE, project.id)).head == project.head
        after = await editor.apply_many([SetProjectInfo(title="X"), RemoveShot(shot="1")])
        assert after.title == "X" and len(after.shots) == len(project.shotlist.shots) - 1
        assert (await prod.store.project(SCOPE, project.id)).head == project.head + 1


async def until(prod: Production, condition: Callable[[], bool]) -> None:
    """Wait (10 s at most) until `condition()` holds after some production event."""
    reached = asyncio.Event()
    prod.add_listener(lambda _: reached.set() if condition() else None)
    async with asyncio.timeout(10):
        await reached.wait()


async def test_deleting_a_project_mid_render_still_ends_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleted straight through the store (as the Discord cog does): the finished render cannot
    be stored, yet listeners (progress messages) still hear that the job ended."""
    settings = settings_for(tmp_path)
    gate = threading.Event()
    monkeypatch.setattr("bot.app.renderer_loader", lambda s: gated_loader(s, gate))
    async with production(settings, render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        events: list[ProductionEvent] = []
        prod.add_listener(events.append)
        batch = await prod.render(SCOPE, project.id, "ana", ["1"])
        await until(prod, lambda: any(e.state is JobState.RUNNING and e.total == 0 for e in events))
        await prod.store.delete_project(SCOPE, project.id)
        gate.set()
        await until(prod, lambda: any(e.done for e in events))
        assert [e.state for e in events if e.done] == [JobState.FAILED]
        assert await prod.wait(batch.id) == []


async def test_delete_project_stops_its_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    gate = threading.Event()
    monkeypatch.setattr("bot.app.renderer_loader", lambda s: gated_loader(s, gate))
    async with production(settings, render=True) as prod:
        assert prod.renders.pool is not None
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        events: list[ProductionEvent] = []
        prod.add_listener(events.append)
        batch = await prod.render(SCOPE, project.id, "ana")
        await prod.delete_project(SCOPE, project.id)
        await until(
            prod, lambda: sum(e.done for e in events) == len(batch.jobs)
        )  # gate never opens
        assert {e.state for e in events if e.done} == {JobState.CANCELLED}
        assert prod.renders.pool.queue() == []
        with pytest.raises(NotFound):
            await prod.project(SCOPE, project.id)


async def test_a_pixel_changing_renderer_option_renders_again(
    tmp_path: Path, tiny_wan_path: Path
) -> None:
    common = dict(
        renderer="diffusers",
        model=str(tiny_wan_path),
        render_width=64,
        render_height=64,
        render_steps=1,
    )
    brief = "Mia waits at the station."
    async with production(settings_for(tmp_path, **common), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", brief)).project
        await prod.wait((await prod.render(SCOPE, project.id, "ana", ["1"])).id)
        assert (await prod.render(SCOPE, project.id, "ana", ["1"])).skipped == ["1"]
    async with production(settings_for(tmp_path, **common, vae_tiling=True), render=True) as prod:
        again = await prod.render(SCOPE, project.id, "ana", ["1"])
        assert [number for _, number in again.jobs] == ["1"]  # a new look: not skipped
        await prod.wait(again.id)
