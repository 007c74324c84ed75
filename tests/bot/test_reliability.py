"""Nothing twice, never stuck: job owners and leases across processes, what a restart resumes and
says, a full disk, deleted clips, and the demo's own batch size."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.app import production
from bot.errors import DISK_FULL
from bot.settings import Settings
from studio.errors import InvalidValue
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


async def test_a_second_process_never_takes_a_live_processs_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    gate = threading.Event()
    monkeypatch.setattr("bot.app.renderer_loader", lambda s: gated_loader(s, gate))
    async with production(settings, render=True) as first:
        project = (await first.start_project(SCOPE, "ana", BRIEF)).project
        batch = await first.render(SCOPE, project.id, "ana")
        async with production(settings, render=True) as second:
            assert second.resumed == []  # the first is alive: its jobs are its own
            assert await second.resumed_renders() == []
            # The second sees them rendering, not as shots with takes.
            again = await second.render(SCOPE, project.id, "ben")
            assert again.jobs == [] and again.skipped == []
            assert again.rendering == [number for _, number in batch.jobs]
        gate.set()
        jobs = await first.wait(batch.id)
        assert {job.state for job in jobs} == {JobState.DONE}
        takes = await first.store.takes(project.id)
        assert len(takes) == len(batch.jobs)  # every shot rendered once


async def test_a_restart_says_what_it_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    gate = threading.Event()
    with monkeypatch.context() as patch:
        patch.setattr("bot.app.renderer_loader", lambda s: gated_loader(s, gate))
        async with production(settings, render=True) as prod:
            project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
            batch = await prod.render(SCOPE, project.id, "ana")
    async with production(settings, render=True) as prod:
        assert prod.resumed == [batch.id]
        resumed = await prod.resumed_renders()
        assert [b.id for b in resumed] == [batch.id]
        assert {job for job, _ in resumed[0].jobs} <= {job for job, _ in batch.jobs}
        jobs = await prod.wait(batch.id)
        assert {job.state for job in jobs} == {JobState.DONE}
        assert await prod.resumed_renders() == []  # nothing left to show once they are done


async def test_a_full_disk_fails_the_job_and_nothing_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with production(settings_for(tmp_path), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project

        async def full(*args: object, **kwargs: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        with monkeypatch.context() as patch:
            patch.setattr(prod.store, "finish_job", full)
            patch.setattr(prod.store, "set_job_state", full)
            batch = await prod.render(SCOPE, project.id, "ana", ["1"])
            jobs = await prod.wait(batch.id)  # returns: the store still calls the job open
        assert [job.state for job in jobs] == [JobState.FAILED]
        assert jobs[0].reason.startswith(DISK_FULL)
        # The process stays usable once there is room again.
        again = await prod.render(SCOPE, project.id, "ana", ["2"])
        assert {job.state for job in await prod.wait(again.id)} == {JobState.DONE}


async def test_a_deleted_clip_needs_a_render_and_the_cut_names_it(tmp_path: Path) -> None:
    async with production(settings_for(tmp_path), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        await prod.wait((await prod.render(SCOPE, project.id, "ana")).id)
        take = (await prod.store.takes(project.id, project.shotlist.shots[1].uid))[-1]
        Path(take.clip).unlink()
        with pytest.raises(InvalidValue, match=r"shot 2's clip is missing"):
            await prod.check_cut(SCOPE, project.id)
        batch = await prod.render(SCOPE, project.id, "ana")
        assert [number for _, number in batch.jobs] == ["2"]  # only the shot that lost its clip
        await prod.wait(batch.id)
        cut = await prod.cut(SCOPE, project.id)
        assert cut.film.exists()


async def test_take_paths_survive_moving_the_data_folder(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with production(settings, render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        await prod.wait((await prod.render(SCOPE, project.id, "ana")).id)
    moved = tmp_path / "moved"
    (tmp_path / "data").rename(moved)
    async with production(
        Settings(data_dir=moved, _env_file=None),
        render=True,  # type: ignore[call-arg]
    ) as prod:
        cut = await prod.cut(SCOPE, project.id)
        assert all(str(take.clip).startswith(str(moved)) for take in cut.takes)


async def test_unreadable_resumed_request_fails_with_a_note(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with production(settings, render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
    store = await Store.open(settings.database)
    from studio.records import NewJob

    uid = project.shotlist.shots[0].uid
    old_shape = {"prompt": "x", "previz": {"size": "close-up", "movement": "dolly in"}}
    await store.add_batch(
        "b0", project.id, "ana", [NewJob("j0", uid, "1", "fp", "ana", 0, old_shape)]
    )
    await store.close()
    async with production(settings, render=True) as prod:
        jobs = await prod.wait("b0")
        assert [job.state for job in jobs] == [JobState.FAILED]
        assert "could not be resumed" in jobs[0].reason


async def test_a_clip_cut_short_is_found_and_rendered_again(tmp_path: Path) -> None:
    async with production(settings_for(tmp_path), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        await prod.wait((await prod.render(SCOPE, project.id, "ana")).id)
        take = (await prod.store.takes(project.id, project.shotlist.shots[0].uid))[-1]
        data = Path(take.clip).read_bytes()
        Path(take.clip).write_bytes(data[: len(data) // 3])
        with pytest.raises(InvalidValue, match=r"shot 1's clip is cut short"):
            await prod.check_cut(SCOPE, project.id)
        batch = await prod.render(SCOPE, project.id, "ana")
        assert [number for _, number in batch.jobs] == ["1"]
        await prod.wait(batch.id)
        await prod.check_cut(SCOPE, project.id)  # the new take is whole


async def test_jobs_of_a_killed_run_on_this_machine_resume_at_once(tmp_path: Path) -> None:
    """A run killed with -9 holds its leases for up to a minute; its pid being gone is enough."""
    import socket

    from studio.records import NewJob

    settings = settings_for(tmp_path)
    async with production(settings, render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        shot = project.shotlist.shots[0]
        data = prod.renders.request(project.shotlist, shot).to_data()
        key = prod.renders.fingerprint(prod.renders.request(project.shotlist, shot))
    dead = f"{socket.gethostname()}:{2**22 + 12345}:dead"  # no such pid
    store = await Store.open(settings.database)
    job = NewJob("j-dead", shot.uid, shot.number, key, "ana", 0, data)
    await store.add_batch("bdead", project.id, "ana", [job], owner=dead, lease_s=3600)
    await store.close()
    async with production(settings, render=True) as prod:
        assert prod.resumed == ["bdead"]
        assert [job.state for job in await prod.wait("bdead")] == [JobState.DONE]


async def test_terminal_escapes_never_reach_the_store(tmp_path: Path) -> None:
    async with production(settings_for(tmp_path)) as prod:
        turn = await prod.start_project(
            SCOPE, "ana", "\x1b]0;owned\x07A chef cooks at dawn.\x1b[2J"
        )
        text = turn.project.shotlist.model_dump_json()
        assert "\x1b" not in text and "\x07" not in text
        turn = await prod.direct(SCOPE, turn.project.id, "ana", "shot 1: close-up\x00\x1b[31m")
        assert "\x1b" not in turn.project.shotlist.model_dump_json()


async def test_a_lost_worker_reaches_the_crew_as_a_note(tmp_path: Path) -> None:
    from bot.production.reports import JobRef
    from render.pool import JobRetried
    from render.types import RenderRequest

    async with production(settings_for(tmp_path), render=True) as prod:
        heard = []
        prod.add_listener(heard.append)
        ref = JobRef("b", SCOPE, 1, "u", "3", "fp", RenderRequest(prompt="x"))
        prod.reports.track("j", ref)
        prod.reports.hear(JobRetried("j", "The render worker was lost; rendering it again."))
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.01)
        assert heard[0].note.startswith("The render worker was lost")
        assert heard[0].state is JobState.QUEUED and not heard[0].done


async def test_every_take_carries_its_measured_move(tmp_path: Path) -> None:
    """The move asked for, the move measured in the frames and whether they agree, kept with
    the take (also for a cached clip) and shown to the crew."""
    from bot.production.models import take_notes
    from studio.edits import ShotChanges, UpdateShot

    async with production(settings_for(tmp_path), render=True) as prod:
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        edit = UpdateShot(shot="1", changes=ShotChanges(movement="dolly in", speed="fast"))
        project = (await prod.edit(SCOPE, project.id, "ana", edit)).project
        await prod.wait((await prod.render(SCOPE, project.id, "ana", ["1"])).id)
        take = (await prod.store.takes(project.id))[-1]
        motion = take.info["motion"]
        assert motion["asked"] == "dolly in" and motion["matches"] is True
        assert take_notes(take.info)[0].endswith("measured: dolly in ✓")
        card = await prod.take_card(SCOPE, project.id, take.id)
        assert card.take.info == take.info
        # A reroll with the same seed is a cache hit: its take keeps the earlier notes.
        again = await prod.render(SCOPE, project.id, "ana", ["1"], force=True)
        await prod.wait(again.id)
        assert (await prod.store.takes(project.id))[-1].info["motion"] == motion


async def test_wait_returns_once_the_listeners_have_heard_every_ending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A take is committed a moment before its news is told: `wait` (what the terminal's
    progress table and `slate demo` stop on) still returns only after every ending was heard."""
    async with production(settings_for(tmp_path), render=True) as prod:
        finish_job = prod.store.finish_job

        async def slow_news(*args: object, **kwargs: object) -> object:
            take = await finish_job(*args, **kwargs)  # type: ignore[arg-type]
            await asyncio.sleep(0.2)  # recorded; the news is still on its way
            return take

        monkeypatch.setattr(prod.store, "finish_job", slow_news)
        heard: list[str] = []
        prod.add_listener(lambda news: heard.append(news.job_id) if news.done else None)
        project = (await prod.start_project(SCOPE, "ana", BRIEF)).project
        batch = await prod.render(SCOPE, project.id, "ana")
        jobs = await prod.wait(batch.id)
        assert jobs and all(job.state is JobState.DONE for job in jobs)
        assert sorted(heard) == sorted(job.id for job in jobs)
