from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from studio.edits import (
    AddReference,
    AddShot,
    Edit,
    RemoveReference,
    RemoveShot,
    SetProjectInfo,
    ShotChanges,
    UpdateShot,
    apply_edit,
    apply_edits,
    parse_edit,
    parse_edits,
)
from studio.errors import (
    EditError,
    InvalidImage,
    InvalidValue,
    NotFound,
    ShotNotFound,
    StoreDamaged,
)
from studio.images import ImageStore
from studio.records import NewJob, NewTake, Project
from studio.store import MIGRATIONS_DIR, UNREADABLE_REQUEST, Store
from studio.vocab import ShotSize
from tests.studio.conftest import make_shotlist

REPO = Path(__file__).resolve().parents[2]
LATEST = max(int(path.name[:4]) for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


# --- schema --------------------------------------------------------------------------------------


async def test_migrates_an_empty_file_and_is_idempotent(db_path: Path) -> None:
    assert LATEST >= 2
    store = await Store.open(db_path)
    try:
        assert await store.schema_version() == LATEST
        project = await store.create_project("guild", "ana", make_shotlist(2))
    finally:
        await store.close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "projects",
        "versions",
        "turns",
        "render_batches",
        "render_jobs",
        "takes",
        "approvals",
        "images",
    } <= tables
    reopened = await Store.open(db_path)  # must not re-run CREATE TABLE
    try:
        assert await reopened.schema_version() == LATEST
        assert (await reopened.project("guild", project.id)).title == "Night Shift"
    finally:
        await reopened.close()


async def test_wal_and_foreign_keys(store: Store, db_path: Path) -> None:
    cursor = await store._db.execute("PRAGMA journal_mode")
    assert (await cursor.fetchone())[0] == "wal"  # type: ignore[index]
    cursor = await store._db.execute("PRAGMA foreign_keys")
    assert (await cursor.fetchone())[0] == 1  # type: ignore[index]
    with sqlite3.connect(db_path) as raw:  # WAL is persistent in the file
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(sqlite3.IntegrityError):
        await store.add_turn(999, "user", "ana", "orphan")


# --- projects and versions -----------------------------------------------------------------------


async def test_create_apply_and_history(store: Store) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(2))
    assert (project.head, project.owner, project.scope, project.room) == (1, "ana", "guild", None)
    edited = await store.apply(
        "guild", project.id, AddShot(shot=ShotChanges(description="exit")), "ben"
    )
    assert edited.head == 2
    assert [s.description for s in edited.shotlist.shots] == ["action 1", "action 2", "exit"]
    fresh = await store.project("guild", project.id)
    assert fresh.head == 2 and fresh.shotlist == edited.shotlist

    versions = await store.versions("guild", project.id)
    assert [(v.number, v.parent, v.author) for v in versions] == [(1, None, "ana"), (2, 1, "ben")]
    assert versions[0].summary == "plan"
    assert versions[1].summary == "add shot: exit"
    assert versions[1].created_at
    assert await store.version("guild", project.id, 1) == project.shotlist
    with pytest.raises(NotFound, match="no version 9"):
        await store.version("guild", project.id, 9)


async def test_stored_edit_parses_back(store: Store, db_path: Path) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(2))
    edit = UpdateShot(shot="2", changes=ShotChanges(size="CU", duration=5))
    await store.apply("guild", project.id, edit, "ana")
    with sqlite3.connect(db_path) as raw:
        plan, stored = [
            r[0]
            for r in raw.execute(
                "SELECT edit FROM versions WHERE project_id = ? ORDER BY number", (project.id,)
            )
        ]
    assert plan is None
    assert parse_edit(json.loads(stored)) == edit


async def test_apply_many_is_one_version(store: Store, db_path: Path) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(3))
    edits: list[Edit] = [
        RemoveShot(shot="1"),
        UpdateShot(shot="1", changes=ShotChanges(duration=5)),
        SetProjectInfo(title="Day Shift"),
    ]
    edited = await store.apply_many("guild", project.id, edits, "ben")
    assert edited.head == 2 and edited.shotlist == apply_edits(project.shotlist, edits)
    assert (await store.project("guild", project.id)).shotlist == edited.shotlist
    versions = await store.versions("guild", project.id)
    assert [(v.number, v.parent, v.author) for v in versions] == [(1, None, "ana"), (2, 1, "ben")]
    assert versions[1].summary == "remove shot 1; shot 1: duration=5.0; project: title"
    with sqlite3.connect(db_path) as raw:
        [stored] = [
            r[0]
            for r in raw.execute(
                "SELECT edit FROM versions WHERE project_id = ? AND number = 2", (project.id,)
            )
        ]
    assert isinstance(json.loads(stored), list) and parse_edits(json.loads(stored)) == edits
    undone = await store.undo("guild", project.id, "ben")  # one undo takes all three back
    assert undone.shotlist == project.shotlist


async def test_apply_many_writes_nothing_when_any_edit_fails(store: Store) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(2))
    with pytest.raises(ShotNotFound):
        await store.apply_many(
            "guild",
            project.id,
            [
                SetProjectInfo(title="Changed"),
                RemoveShot(shot="1"),
                RemoveShot(shot="2"),
            ],
            "ana",
        )
    with pytest.raises(EditError, match="no edits"):
        await store.apply_many("guild", project.id, [], "ana")
    fresh = await store.project("guild", project.id)
    assert fresh.head == 1 and fresh.shotlist == project.shotlist
    assert len(await store.versions("guild", project.id)) == 1


async def test_title_change_is_reflected(store: Store) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(1))
    await store.apply("guild", project.id, SetProjectInfo(title="Day Shift"), "ana")
    [listed] = await store.projects("guild")
    assert listed.title == "Day Shift"


async def test_revert_and_undo(store: Store) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(3))
    v1 = project.shotlist
    v2 = (await store.apply("guild", project.id, RemoveShot(shot="3"), "ana")).shotlist
    v3 = (await store.apply("guild", project.id, RemoveShot(shot="2"), "ana")).shotlist
    assert len(v3.shots) == 1

    undone = await store.undo("guild", project.id, "ana")
    assert undone.head == 4 and undone.shotlist == v2
    undone = await store.undo("guild", project.id, "ana")
    assert undone.head == 5 and undone.shotlist == v1
    with pytest.raises(EditError, match="Nothing to undo"):
        await store.undo("guild", project.id, "ana")
    assert (await store.project("guild", project.id)).head == 5

    reverted = await store.revert("guild", project.id, 3, "ana")
    assert reverted.head == 6 and reverted.shotlist == v3
    with pytest.raises(EditError, match="already the current version"):
        await store.revert("guild", project.id, 6, "ana")
    with pytest.raises(NotFound):
        await store.revert("guild", project.id, 42, "ana")
    versions = await store.versions("guild", project.id)
    assert [v.number for v in versions] == [1, 2, 3, 4, 5, 6]
    assert versions[3].summary == "undo (back to version 2)"
    assert versions[5].summary == "revert to version 3"
    # Undo after a revert goes back to what version 3 was made from.
    assert (await store.undo("guild", project.id, "ana")).shotlist == v2


async def test_undo_takes_back_only_the_callers_own_change(store: Store) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(3))
    await store.apply("guild", project.id, RemoveShot(shot="3"), "ana")
    theirs = await store.apply("guild", project.id, RemoveShot(shot="2"), "ben")
    with pytest.raises(EditError) as refused:
        await store.undo("guild", project.id, "ana")
    message = str(refused.value)
    assert "ben" in message and "remove shot 2" in message and "revert" in message
    after = await store.project("guild", project.id)
    assert after.head == theirs.head and after.shotlist == theirs.shotlist  # nothing written
    # Ben may take back his own change. His undo is now the last change: it is his, not Ana's.
    undone = await store.undo("guild", project.id, "ben")
    assert [s.number for s in undone.shotlist.shots] == ["1", "2"]
    with pytest.raises(EditError, match="made by ben"):
        await store.undo("guild", project.id, "ana")


async def test_undo_at_version_one(store: Store) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(1))
    with pytest.raises(EditError):
        await store.undo("guild", project.id, "ana")
    assert len(await store.versions("guild", project.id)) == 1


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (RemoveShot(shot="9"), ShotNotFound),
        (UpdateShot(shot="1", changes=ShotChanges(duration=99)), InvalidValue),
        (UpdateShot(shot="1", changes=ShotChanges()), EditError),
    ],
)
async def test_failing_edit_writes_nothing(store: Store, edit: object, error: type) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(2))
    await store.apply("guild", project.id, RemoveShot(shot="2"), "ana")
    with pytest.raises(error):
        await store.apply("guild", project.id, edit, "ana")  # type: ignore[arg-type]
    after = await store.project("guild", project.id)
    assert after.head == 2
    assert len(await store.versions("guild", project.id)) == 2
    # The connection is usable afterwards (the transaction was rolled back, not left open).
    assert (await store.apply("guild", project.id, SetProjectInfo(title="T"), "ana")).head == 3


# --- scopes and rooms ----------------------------------------------------------------------------


async def test_scope_isolation(store: Store) -> None:
    mine = await store.create_project("guild-a", "ana", make_shotlist(1))
    other = await store.create_project("guild-b", "ben", make_shotlist(1, title="Theirs"))
    for call in (
        store.project("guild-b", mine.id),
        store.versions("guild-b", mine.id),
        store.version("guild-b", mine.id, 1),
        store.apply("guild-b", mine.id, RemoveShot(shot="1"), "ben"),
        store.revert("guild-b", mine.id, 1, "ben"),
        store.undo("guild-b", mine.id, "ben"),
        store.delete_project("guild-b", mine.id),
    ):
        with pytest.raises(NotFound, match=f"no project #{mine.id}"):
            await call
    assert (await store.project("guild-a", mine.id)).head == 1
    assert [p.id for p in await store.projects("guild-a")] == [mine.id]
    assert [p.title for p in await store.projects("guild-b")] == ["Theirs"]
    assert await store.projects("guild-c") == []
    await store.delete_project("guild-b", other.id)
    assert await store.projects("guild-b") == []
    with pytest.raises(NotFound):
        await store.project("guild-b", other.id)


async def test_projects_newest_first_with_limit(store: Store) -> None:
    ids = [
        (await store.create_project("g", "ana", make_shotlist(1, title=f"P{i}"))).id
        for i in range(4)
    ]
    assert [p.id for p in await store.projects("g")] == ids[::-1]
    assert [p.id for p in await store.projects("g", limit=2)] == ids[:1:-1]


async def test_rooms(store: Store) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1), room="thread-1")
    found = await store.project_in_room("g", "thread-1")
    assert found is not None and found.id == project.id
    assert await store.project_in_room("other", "thread-1") is None
    assert await store.project_in_room("g", "thread-2") is None
    # The same room id in another scope is fine; twice in one scope is not.
    elsewhere = await store.create_project("other", "ben", make_shotlist(1), room="thread-1")
    assert elsewhere.room == "thread-1"
    with pytest.raises(sqlite3.IntegrityError):
        await store.create_project("g", "ben", make_shotlist(1), room="thread-1")
    assert len(await store.projects("g")) == 1
    second = await store.create_project("g", "ben", make_shotlist(1))
    with pytest.raises(sqlite3.IntegrityError):
        await store.set_room("g", second.id, "thread-1")
    await store.set_room("g", project.id, None)
    await store.set_room("g", second.id, "thread-1")
    assert (await store.project_in_room("g", "thread-1")).id == second.id  # type: ignore[union-attr]


# --- conversation --------------------------------------------------------------------------------


async def test_turns_in_order_with_limit(store: Store) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    other = await store.create_project("g", "ana", make_shotlist(1))
    for i in range(5):
        await store.add_turn(project.id, "user" if i % 2 == 0 else "director", "ana", f"turn {i}")
    await store.add_turn(other.id, "user", "ben", "elsewhere")
    turns = await store.turns(project.id)
    assert [t.content for t in turns] == [f"turn {i}" for i in range(5)]
    assert [t.role for t in turns][:2] == ["user", "director"]
    assert [t.content for t in await store.turns(project.id, limit=2)] == ["turn 3", "turn 4"]
    with pytest.raises(sqlite3.IntegrityError):
        await store.add_turn(project.id, "narrator", "ana", "bad role")


async def test_deleting_a_project_cascades(store: Store, db_path: Path) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    await store.apply("g", project.id, RemoveShot(shot="1"), "ana")
    await store.add_turn(project.id, "user", "ana", "hi")
    await store.delete_project("g", project.id)
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 0
        assert raw.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0


# --- processes and concurrency -------------------------------------------------------------------


async def test_a_second_process_sees_the_data(store: Store, db_path: Path) -> None:
    project = await store.create_project("g", "ana", make_shotlist(3, title="Shared Reel"))
    await store.apply("g", project.id, AddShot(shot=ShotChanges(description="tag")), "ana")
    script = textwrap.dedent(f"""
        import asyncio
        from studio.store import Store

        async def main():
            store = await Store.open({str(db_path)!r})
            try:
                project = await store.project("g", {project.id})
                print(project.title, len(project.shotlist.shots), project.head)
            finally:
                await store.close()

        asyncio.run(main())
    """)
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Shared Reel 4 2"


async def test_concurrent_applies_land_as_distinct_versions(store: Store) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    edits = [AddShot(shot=ShotChanges(description=f"shot {i}")) for i in range(20)]
    results = await asyncio.gather(
        *(store.apply("g", project.id, e, f"user{i}") for i, e in enumerate(edits))
    )
    assert sorted(r.head for r in results) == list(range(2, 22))
    final = await store.project("g", project.id)
    assert final.head == 21
    assert len(final.shotlist.shots) == 21
    assert {s.description for s in final.shotlist.shots[1:]} == {f"shot {i}" for i in range(20)}
    versions = await store.versions("g", project.id)
    assert [v.number for v in versions] == list(range(1, 22))
    assert all(v.parent == v.number - 1 for v in versions[1:])


# --- renders -------------------------------------------------------------------------------------


async def test_a_read_never_sees_another_tasks_uncommitted_write(store: Store) -> None:
    """One connection serves every task: a read queued between another task's UPDATE and its
    COMMIT waits for the transaction to end, so it never reports news that is rolled back."""
    project = await store.create_project("guild", "ana", make_shotlist(2))

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with store._transaction():
            await store._db.execute(
                "UPDATE projects SET room = 'phantom' WHERE id = ?", (project.id,)
            )
            reader = asyncio.create_task(store.project("guild", project.id))
            await asyncio.sleep(0.05)
            assert not reader.done()  # it waits for the write in progress
            # Inside its own transaction a task reads its own writes.
            assert (await store.project("guild", project.id)).room == "phantom"
            raise Abandoned
    assert (await reader).room is None


async def test_batches_jobs_takes_and_approvals(store: Store) -> None:
    project = await store.create_project("g", "ana", make_shotlist(2))
    other = await store.create_project("h", "ana", make_shotlist(1))
    uid1, uid2 = (s.uid for s in project.shotlist.shots)
    request = {"prompt": "a kettle", "steps": 4, "size": [832, 480]}
    await store.add_batch(
        "b1",
        project.id,
        "ana",
        [
            NewJob("j1", uid1, "1", "fp1", "ana", 0, request),
            NewJob("j2", uid2, "2", "fp2", "ana", 5, request),
        ],
    )
    await store.add_batch(
        "b2", other.id, "ana", [NewJob("j3", other.shotlist.shots[0].uid, "1", "fp3", "ana", 0, {})]
    )
    batch = await store.batch("b1")
    assert (batch.project_id, batch.requested_by, batch.status_message) == (project.id, "ana", None)
    await store.set_batch_message("b1", "msg-42")
    assert (await store.batch("b1")).status_message == "msg-42"
    with pytest.raises(NotFound):
        await store.batch("nope")

    job = await store.job("j2")
    assert (job.batch_id, job.shot_uid, job.shot_number, job.priority, job.state) == (
        "b1",
        uid2,
        "2",
        5,
        "queued",
    )
    assert job.request == request
    assert [j.id for j in await store.open_jobs()] == ["j1", "j2", "j3"]
    assert [j.id for j in await store.open_jobs(project.id)] == ["j1", "j2"]
    assert await store.count_open_jobs("g", "ana") == 2
    assert await store.count_open_jobs("h", "ana") == 1
    assert await store.count_open_jobs("g", "ben") == 0

    await store.set_job_state("j1", "running")
    assert (await store.job("j1")).state == "running"
    assert await store.count_open_jobs("g", "ana") == 2
    await store.set_job_state("j3", "failed", reason="out of memory")
    failed = await store.job("j3")
    assert (failed.state, failed.reason) == ("failed", "out of memory")
    assert await store.count_open_jobs("h", "ana") == 0
    with pytest.raises(ValueError):  # not a JobState
        await store.set_job_state("j1", "exploded")  # type: ignore[arg-type]

    take = await store.finish_job(
        "j1",
        NewTake(
            project.id, uid1, "fp1", 1234, "wan-1.3b", request, "clips/1.mp4", "clips/1.png", 12.5
        ),
    )
    assert (take.shot_uid, take.seed, take.model, take.clip, take.seconds) == (
        uid1,
        1234,
        "wan-1.3b",
        os.path.abspath("clips/1.mp4"),  # outside the data folder: from the working folder
        12.5,
    )
    assert take.request == request and take.message is None
    done = await store.job("j1")
    assert (done.state, done.take_id) == ("done", take.id)
    assert [j.id for j in await store.open_jobs()] == ["j2"]
    assert await store.count_open_jobs("g", "ana") == 1
    assert [j.state for j in await store.batch_jobs("b1")] == ["done", "queued"]

    await store.set_take_message(take.id, "m-1")
    assert (await store.take(project.id, take.id)).message == "m-1"
    with pytest.raises(NotFound):
        await store.take(other.id, take.id)
    second = await store.finish_job(
        "j2", NewTake(project.id, uid1, "fp1b", 99, "wan-1.3b", {}, "c2", "p2", 1)
    )
    assert [t.id for t in await store.takes(project.id)] == [take.id, second.id]
    assert [t.id for t in await store.takes(project.id, uid1)] == [take.id, second.id]
    assert await store.takes(project.id, uid2) == []

    approved = await store.approve("g", project.id, uid1, take.id, "ana")
    assert await store.approvals(project.id) == {uid1: take.id}
    assert approved.shotlist.shot("1").status.value == "approved"  # same transaction
    head = approved.head
    again = await store.approve("g", project.id, uid1, second.id, "ben")  # upsert: one per shot
    assert await store.approvals(project.id) == {uid1: second.id}
    assert again.head == head  # already approved: no new version
    assert await store.approvals(other.id) == {}
    with pytest.raises(NotFound):
        await store.approve("h", project.id, uid1, take.id, "eve")  # another scope
    with pytest.raises(ShotNotFound):
        await store.approve("g", project.id, "deadbeef", take.id, "ana")
    assert await store.approvals(project.id) == {uid1: second.id}


async def test_unreported_batches(store: Store, db_path: Path) -> None:
    """Open jobs, unposted takes or no status message: a chat front-end still owes a report."""
    project = await store.create_project("discord:1", "ana", make_shotlist(2))
    local = await store.create_project("local", "ana", make_shotlist(1))
    uid1, uid2 = (s.uid for s in project.shotlist.shots)
    for batch_id in ("open", "unposted", "silent", "reported", "stale", "old"):
        await store.add_batch(
            batch_id,
            project.id,
            "ana",
            [
                NewJob(f"{batch_id}-1", uid1, "1", "fp", "ana", 0, {}),
                NewJob(f"{batch_id}-2", uid2, "2", "fp", "ana", 0, {}),
            ],
        )
    await store.add_batch(
        "cli",
        local.id,
        "ana",
        [NewJob("cli-1", local.shotlist.shots[0].uid, "1", "fp", "ana", 0, {})],
    )

    async def finish(batch_id: str, *, posted: bool) -> None:
        await store.set_job_state(f"{batch_id}-1", "failed", reason="out of memory")
        take = await store.finish_job(
            f"{batch_id}-2", NewTake(project.id, uid2, "fp", 1, "m", {}, "c", "p", 1.0)
        )
        if posted:
            await store.set_take_message(take.id, f"take-of-{batch_id}")

    await store.set_batch_message("open", "s-open")  # jobs still queued
    await store.set_job_state("open-1", "running")
    await finish("unposted", posted=False)
    await store.set_batch_message("unposted", "s-unposted")
    await finish("silent", posted=True)  # every take posted, but no status message yet
    await finish("reported", posted=True)
    await store.set_batch_message("reported", "s-reported")
    await store.mark_batch_reported("reported")
    # Every job ended without a take while no front-end listened: the status message is stale.
    await store.set_batch_message("stale", "s-stale")
    await store.set_job_state("stale-1", "failed", reason="out of memory")
    await store.set_job_state("stale-2", "cancelled")
    await finish("old", posted=False)
    with sqlite3.connect(db_path) as db:
        db.execute(
            "UPDATE render_batches SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = 'old'"
        )

    found = await store.unreported_batches("discord:")
    assert [b.id for b in found] == ["stale", "silent", "unposted", "open", "old"]  # newest first
    assert found[3].status_message == "s-open" and found[3].project_id == project.id
    since = "2021-01-01T00:00:00.000Z"
    assert [b.id for b in await store.unreported_batches("discord:", since=since)] == [
        "stale",
        "silent",
        "unposted",
        "open",
    ]
    assert [b.id for b in await store.unreported_batches("discord:", since=since, limit=2)] == [
        "stale",
        "silent",
    ]
    assert [b.id for b in await store.unreported_batches("local")] == ["cli"]
    assert await store.unreported_batches("slack:") == []
    assert await store.unreported_batches("discord:2") == []  # a prefix, matched literally


async def test_finish_job_is_atomic(store: Store) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    uid = project.shotlist.shots[0].uid
    await store.add_batch("b", project.id, "ana", [NewJob("j", uid, "1", "fp", "ana", 0, {})])
    with pytest.raises(sqlite3.IntegrityError):  # no such project: the take insert fails
        await store.finish_job("j", NewTake(999, uid, "fp", 1, "m", {}, "c", "p", 1.0))
    assert (await store.job("j")).state == "queued"
    assert await store.takes(project.id) == []


async def test_add_batch_is_atomic(store: Store) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    uid = project.shotlist.shots[0].uid
    with pytest.raises(sqlite3.IntegrityError):  # duplicate job id inside one batch
        await store.add_batch(
            "b",
            project.id,
            "ana",
            [NewJob("j", uid, "1", "fp", "ana", 0, {}), NewJob("j", uid, "1", "fp", "ana", 0, {})],
        )
    with pytest.raises(NotFound):
        await store.batch("b")
    assert await store.open_jobs() == []


async def test_shotlist_round_trips_through_json(store: Store) -> None:
    shotlist = apply_edit(
        make_shotlist(2),
        UpdateShot(
            shot="1", changes=ShotChanges(size="OTS", movement="pan", direction="right", lens_mm=35)
        ),
    )
    project = await store.create_project("g", "ana", shotlist)
    loaded = (await store.project("g", project.id)).shotlist
    assert loaded == shotlist
    assert loaded.shots[0].size is ShotSize.OVER_THE_SHOULDER


async def test_a_write_cancelled_while_beginning_leaves_the_connection_usable(store: Store) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(2))
    task = asyncio.create_task(store.set_room("guild", project.id, "thread-1"))
    await asyncio.sleep(0)  # the task now waits on its queued BEGIN
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The BEGIN still ran on the connection's thread; it must have been rolled back.
    after = await store.apply("guild", project.id, RemoveShot(shot="1"), "ana")
    assert len(after.shotlist.shots) == 1
    assert (await store.project("guild", project.id)).room is None


async def test_a_failed_commit_rolls_back(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    project = await store.create_project("guild", "ana", make_shotlist(2))
    execute = store._db.execute
    failed = False

    async def flaky(sql: str, *args: object) -> object:
        nonlocal failed
        if sql == "COMMIT" and not failed:
            failed = True
            raise sqlite3.OperationalError("database is locked")
        return await execute(sql, *args)

    monkeypatch.setattr(store._db, "execute", flaky)
    with pytest.raises(sqlite3.OperationalError):
        await store.apply("guild", project.id, RemoveShot(shot="1"), "ana")
    assert (await store.project("guild", project.id)).head == 1  # nothing half-written
    after = await store.apply("guild", project.id, RemoveShot(shot="2"), "ana")
    assert after.head == 2 and [s.number for s in after.shotlist.shots] == ["1"]


# --- ids out of range ----------------------------------------------------------------------------

HUGE = 2**63  # one past SQLite's largest integer


@pytest.mark.parametrize("bad", [HUGE, 2**80, 0, -1, -(2**63) - 1])
async def test_ids_out_of_range_are_not_found(store: Store, bad: int) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    uid = project.shotlist.shots[0].uid
    take = NewTake(bad, uid, "fp", 1, "m", {}, "c", "p", 1.0)
    job = NewJob("j", uid, "1", "fp", "ana", 0, {})
    await store.add_batch("b", project.id, "ana", [job])
    no_project = f"no project #{bad}"
    no_version = f"Project #{project.id} has no version {bad}"
    no_take = f"no take {bad} in this project"
    cases: list[tuple[Callable[[], Awaitable[object]], str]] = [
        (lambda: store.project("g", bad), no_project),
        (lambda: store.project_by_id(bad), no_project),
        (lambda: store.versions("g", bad), no_project),
        (lambda: store.version("g", bad, 1), no_project),
        (lambda: store.version("g", project.id, bad), no_version),
        (lambda: store.apply("g", bad, RemoveShot(shot="1"), "ana"), no_project),
        (lambda: store.apply_many("g", bad, [RemoveShot(shot="1")], "ana"), no_project),
        (lambda: store.revert("g", bad, 1, "ana"), no_project),
        (lambda: store.revert("g", project.id, bad, "ana"), no_version),
        (lambda: store.undo("g", bad, "ana"), no_project),
        (lambda: store.delete_project("g", bad), no_project),
        (lambda: store.set_room("g", bad, "room"), no_project),
        (lambda: store.set_shotlist_message("g", bad, "m"), no_project),
        (lambda: store.add_turn(bad, "user", "ana", "hi"), no_project),
        (lambda: store.turns(bad), no_project),
        (lambda: store.add_batch("b2", bad, "ana", []), no_project),
        (lambda: store.open_jobs(bad), no_project),
        (lambda: store.finish_job("j", take), no_project),
        (lambda: store.take(bad, 1), no_project),
        (lambda: store.take(project.id, bad), no_take),
        (lambda: store.takes(bad), no_project),
        (lambda: store.set_take_message(bad, "m"), f"no take {bad}"),
        (lambda: store.approve("g", bad, uid, 1, "ana"), no_project),
        (lambda: store.approve("g", project.id, uid, bad, "ana"), no_take),
        (lambda: store.approvals(bad), no_project),
    ]
    for call, message in cases:
        with pytest.raises(NotFound, match=re.escape(message)):
            await call()
    # Nothing was written, and the connection is still usable.
    assert (await store.project("g", project.id)).head == 1
    assert [j.state for j in await store.open_jobs()] == ["queued"]
    assert len(await store.projects("g", limit=HUGE)) == 1


# --- job leases ----------------------------------------------------------------------------------


async def _batch_of(store: Store, batch_id: str, count: int, **lease: Any) -> list[str]:
    project = await store.create_project("g", "ana", make_shotlist(1))
    uid = project.shotlist.shots[0].uid
    ids = [f"{batch_id}-{i}" for i in range(count)]
    jobs = [NewJob(job_id, uid, "1", "fp", "ana", 0, {"n": i}) for i, job_id in enumerate(ids)]
    await store.add_batch(batch_id, project.id, "ana", jobs, **lease)
    return ids


async def test_a_second_process_takes_over_only_jobs_nobody_holds(
    store: Store, db_path: Path
) -> None:
    t = 1_000.0
    mine = await _batch_of(store, "a", 2, owner="proc-a", lease_s=60, now=t)
    second = await Store.open(db_path)  # another process on the same data folder
    try:
        assert await second.claim_orphaned_jobs("proc-b", 60, now=t + 10) == []  # A is alive
        assert await second.count_open_jobs("g", "ana", now=t + 10) == 2
        await store.renew_leases("proc-a", 60, now=t + 50)  # A keeps rendering
        assert await second.claim_orphaned_jobs("proc-b", 60, now=t + 100) == []
        # A stops renewing (it died): once its leases run out, B takes the jobs over, once.
        assert await second.count_open_jobs("g", "ana", now=t + 111) == 0
        assert [j.id for j in await second.live_jobs(now=t + 111)] == []
        assert [j.id for j in await second.open_jobs()] == mine  # still open, just not held
        taken = await second.claim_orphaned_jobs("proc-b", 60, now=t + 111)
        assert [(j.id, j.owner, j.lease_until) for j in taken] == [
            (mine[0], "proc-b", t + 171),
            (mine[1], "proc-b", t + 171),
        ]
        assert taken[1].request == {"n": 1}
        assert (await store.job(mine[0])).owner == "proc-b"  # A's connection sees it too
        assert await store.claim_orphaned_jobs("proc-c", 60, now=t + 112) == []
        assert await second.claim_orphaned_jobs("proc-b", 60, now=t + 112) == []
        assert await store.count_open_jobs("g", "ana", now=t + 112) == 2
        # A's renewals no longer touch jobs it lost.
        await store.renew_leases("proc-a", 600, now=t + 113)
        assert (await store.job(mine[0])).lease_until == t + 171
    finally:
        await second.close()


async def test_released_jobs_are_taken_over_at_once(store: Store, db_path: Path) -> None:
    t = 1_000.0
    ids = await _batch_of(store, "a", 1, owner="proc-a", lease_s=3600, now=t)
    done = await _batch_of(store, "d", 1, owner="proc-a", lease_s=3600, now=t)
    await store.set_job_state(done[0], "cancelled")
    await store.release_jobs("proc-a", now=t + 1)  # a clean close
    assert await store.count_open_jobs("g", "ana", now=t + 1) == 0
    second = await Store.open(db_path)
    try:
        taken = await second.claim_orphaned_jobs("proc-b", 60, now=t + 1)
        assert [j.id for j in taken] == ids  # closed jobs are never claimed
        assert [j.id for j in await second.live_jobs(now=t + 2)] == ids
    finally:
        await second.close()


async def test_jobs_without_an_owner_are_live_and_claimable(store: Store) -> None:
    """Jobs from before leases (or recorded with no owner) count, and the first claim takes them."""
    ids = await _batch_of(store, "legacy", 2)
    assert (await store.job(ids[0])).owner is None
    assert await store.count_open_jobs("g", "ana") == 2
    project_id = (await store.job(ids[0])).project_id
    assert [j.id for j in await store.live_jobs(project_id)] == ids
    assert [j.id for j in await store.claim_orphaned_jobs("proc-a", 60)] == ids
    assert await store.claim_orphaned_jobs("proc-b", 60) == []
    assert await store.count_open_jobs("g", "ana") == 2


async def test_two_processes_claiming_at_once_split_the_jobs(store: Store, db_path: Path) -> None:
    ids = await _batch_of(store, "a", 30)
    others = [await Store.open(db_path) for _ in range(3)]
    try:
        claims = await asyncio.gather(
            *(s.claim_orphaned_jobs(f"proc-{i}", 60) for i, s in enumerate([store, *others]))
        )
    finally:
        for other in others:
            await other.close()
    claimed = [job.id for claim in claims for job in claim]
    assert sorted(claimed) == sorted(ids)  # every job taken, none twice
    for i, claim in enumerate(claims):
        for job in claim:
            assert (await store.job(job.id)).owner == f"proc-{i}"


# --- backups -------------------------------------------------------------------------------------


def _backup_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _check_backup(path: Path) -> sqlite3.Connection:
    """Open a backup read-only and check it is whole: every project's head version exists."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    orphans = db.execute(
        "SELECT COUNT(*) FROM projects p LEFT JOIN versions v"
        " ON v.project_id = p.id AND v.number = p.head WHERE v.number IS NULL"
    ).fetchone()[0]
    assert orphans == 0
    return db


async def test_backup_is_a_consistent_openable_database(
    store: Store, db_path: Path, tmp_path: Path
) -> None:
    assert store.backups_dir == db_path.parent / "backups"
    assert _backup_names(store.backups_dir) == []  # a brand-new database needs no backup
    project = await store.create_project("g", "ana", make_shotlist(2, title="Backed Up"))
    edits = [AddShot(shot=ShotChanges(description=f"shot {i}")) for i in range(30)]
    # Writes keep landing while the backup is taken: it holds one state, whole.
    writes = asyncio.gather(*(store.apply("g", project.id, e, "ana") for e in edits))
    path = await store.backup()
    await writes
    assert path is not None and path.parent == store.backups_dir
    assert re.fullmatch(r"slate-\d{8}-\d{6}\.db", path.name)
    with closing(_check_backup(path)) as db:
        head = db.execute("SELECT head FROM projects WHERE id = ?", (project.id,)).fetchone()[0]
    assert 1 <= head <= 31
    # Restoring is copying it into place: it opens as a store, with the project in it.
    restored = tmp_path / "restored" / "slate.db"
    restored.parent.mkdir()
    shutil.copyfile(path, restored)
    reopened = await Store.open(restored)
    try:
        assert (await reopened.project("g", project.id)).title == "Backed Up"
        assert (await reopened.project("g", project.id)).head == head
    finally:
        await reopened.close()


async def test_only_the_newest_backups_are_kept(store: Store) -> None:
    folder = store.backups_dir
    assert folder is not None
    folder.mkdir()
    old = [f"slate-2020010{day}-120000.db" for day in range(1, 7)]
    for name in [*old, "notes.txt"]:
        (folder / name).write_text("old")
    path = await store.backup()
    assert path is not None
    assert _backup_names(folder) == ["notes.txt", *old[2:], path.name]  # the newest five
    with closing(_check_backup(path)):
        pass


async def test_a_backup_is_made_before_migrating_an_existing_database(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = tmp_path / "older-migrations"
    older.mkdir()
    for file in sorted(MIGRATIONS_DIR.glob("*.sql"))[: LATEST - 1]:
        shutil.copy(file, older / file.name)
    monkeypatch.setattr("studio.store.MIGRATIONS_DIR", older)
    store = await Store.open(db_path)  # the schema of the release before this one
    try:
        project = await store.create_project("g", "ana", make_shotlist(1, title="Before"))
        assert _backup_names(db_path.parent / "backups") == []  # it was brand new
    finally:
        await store.close()
    monkeypatch.undo()

    store = await Store.open(db_path)
    try:
        assert await store.schema_version() == LATEST
        assert store.backups_dir is not None
        [name] = _backup_names(store.backups_dir)
        with closing(_check_backup(store.backups_dir / name)) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST - 1
            assert db.execute("SELECT title FROM projects").fetchall() == [("Before",)]
        assert (await store.project("g", project.id)).title == "Before"
    finally:
        await store.close()
    reopened = await Store.open(db_path)  # nothing left to migrate: no new backup
    try:
        assert _backup_names(reopened.backups_dir) == [name]  # type: ignore[arg-type]
    finally:
        await reopened.close()


# --- damage --------------------------------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garble_header(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(b"\xde\xad\xbe\xef" * 25 + data[100:])


def _garble_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):  # every page but the first
        data[page * 4096 + 8 : page * 4096 + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))


def _make_folder(path: Path) -> None:
    path.unlink()
    (path / "inside").mkdir(parents=True)


@pytest.mark.parametrize("damage", [_truncate, _garble_header, _garble_pages, _make_folder])
@pytest.mark.parametrize("backed_up", [False, True])
async def test_a_damaged_database_file_is_named_with_its_backup(
    db_path: Path, damage: Callable[[Path], None], backed_up: bool
) -> None:
    store = await Store.open(db_path)
    try:
        project = await store.create_project("g", "ana", make_shotlist(3))
        for i in range(40):
            await store.apply("g", project.id, SetProjectInfo(title=f"Title {i} " * 8), "ana")
        backup = await store.backup() if backed_up else None
    finally:
        await store.close()
    assert not db_path.with_name("slate.db-wal").exists()  # all of it is in the file
    damage(db_path)
    with pytest.raises(StoreDamaged) as raised:
        await Store.open(db_path)
    message = str(raised.value)
    assert message.startswith(f"The project database at {db_path} is damaged: ")
    assert "\n" not in message
    if backup is not None:
        assert message.endswith(f"; a backup is at {backup}.")
    else:
        assert message.endswith("; there is no backup of it.")


async def test_a_damaged_project_does_not_hide_the_others(store: Store, db_path: Path) -> None:
    first = await store.create_project("g", "ana", make_shotlist(1, title="First"))
    damaged = await store.create_project("g", "ana", make_shotlist(1, title="Damaged"))
    await store.apply("g", damaged.id, SetProjectInfo(title="Damaged too"), "ana")
    last = await store.create_project("g", "ana", make_shotlist(1, title="Last"))
    with sqlite3.connect(db_path) as raw:
        raw.execute(
            'UPDATE versions SET snapshot = \'{"title": "Dam\' WHERE project_id = ? AND number = 2',
            (damaged.id,),
        )
    assert [p.title for p in await store.projects("g")] == ["Last", "First"]
    assert await store.damaged_projects("g") == [damaged.id]
    assert await store.damaged_projects("other") == []
    with pytest.raises(StoreDamaged, match=f"Project #{damaged.id}'s shot list .version 2."):
        await store.project("g", damaged.id)
    assert (await store.project("g", last.id)).title == "Last"
    # Its history and earlier versions still read, and reverting to one mends the project.
    assert [v.number for v in await store.versions("g", damaged.id)] == [1, 2]
    assert (await store.version("g", damaged.id, 1)).title == "Damaged"
    with pytest.raises(StoreDamaged):
        await store.version("g", damaged.id, 2)
    mended = await store.revert("g", damaged.id, 1, "ana")
    assert (mended.head, mended.title) == (3, "Damaged")
    assert await store.damaged_projects("g") == []
    assert [p.id for p in await store.projects("g")] == [last.id, damaged.id, first.id]


async def test_an_open_job_with_an_unreadable_request_is_failed(
    store: Store, db_path: Path
) -> None:
    ids = await _batch_of(store, "a", 4)
    with sqlite3.connect(db_path) as raw:
        for job_id, request in [(ids[1], "{oops"), (ids[2], '"not an object"')]:
            raw.execute("UPDATE render_jobs SET request = ? WHERE id = ?", (request, job_id))
    project_id = (await store.job(ids[0])).project_id
    assert [j.id for j in await store.open_jobs(project_id)] == [ids[0], ids[3]]
    for job_id in ids[1:3]:
        failed = await store.job(job_id)  # reading it does not raise either
        assert (failed.state, failed.reason, failed.request) == ("failed", UNREADABLE_REQUEST, {})
    assert [j.state for j in await store.batch_jobs("a")] == [
        "queued",
        "failed",
        "failed",
        "queued",
    ]

    more = await _batch_of(store, "b", 2)
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE render_jobs SET request = '' WHERE id = ?", (more[0],))
    claimed = await store.claim_orphaned_jobs("proc-a", 60)
    assert [j.id for j in claimed] == [ids[0], ids[3], more[1]]
    assert (await store.job(more[0])).reason == UNREADABLE_REQUEST
    assert [j.id for j in await store.open_jobs()] == [ids[0], ids[3], more[1]]


# --- take files ----------------------------------------------------------------------------------


def _stored_take_paths(db_path: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db_path)) as raw:
        return raw.execute("SELECT clip, poster FROM takes ORDER BY id").fetchall()


async def test_take_paths_follow_the_data_folder_when_it_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    store = await Store.open(data / "slate.db")
    try:
        project = await store.create_project("g", "ana", make_shotlist(1))
        uid = project.shotlist.shots[0].uid
        jobs = [NewJob(f"j{i}", uid, "1", "fp", "ana", 0, {}) for i in range(3)]
        await store.add_batch("b", project.id, "ana", jobs)
        files = [
            (str(data / "renders" / "a.mp4"), str(data / "renders" / "a.png")),  # absolute
            ("data/renders/b.mp4", "./data/renders/../renders/b.png"),  # from the working folder
            (str(tmp_path / "elsewhere" / "c.mp4"), "elsewhere/c.png"),  # outside the data folder
        ]
        for i, (clip, poster) in enumerate(files):
            take = NewTake(project.id, uid, "fp", 1, "m", {}, clip, poster, 1.0)
            written = await store.finish_job(f"j{i}", take)
            assert Path(written.clip).is_absolute() and Path(written.poster).is_absolute()
    finally:
        await store.close()
    assert _stored_take_paths(data / "slate.db") == [
        ("renders/a.mp4", "renders/a.png"),
        ("renders/b.mp4", "renders/b.png"),
        (str(tmp_path / "elsewhere" / "c.mp4"), str(tmp_path / "elsewhere" / "c.png")),
    ]

    moved = tmp_path / "archive" / "moved-data"
    moved.parent.mkdir()
    data.rename(moved)
    monkeypatch.chdir(moved.parent)  # and Slate starts from another working folder
    store = await Store.open(moved / "slate.db")
    try:
        takes = await store.takes(project.id)
        assert [(t.clip, t.poster) for t in takes] == [
            (str(moved / "renders" / "a.mp4"), str(moved / "renders" / "a.png")),
            (str(moved / "renders" / "b.mp4"), str(moved / "renders" / "b.png")),
            (str(tmp_path / "elsewhere" / "c.mp4"), str(tmp_path / "elsewhere" / "c.png")),
        ]
        assert (await store.take(project.id, takes[0].id)).clip == takes[0].clip
    finally:
        await store.close()


async def test_older_take_paths_are_rebased_onto_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, takes kept paths as given: relative ones from the working folder."""
    monkeypatch.chdir(tmp_path)
    db_path = tmp_path / "slate-data" / "slate.db"
    older = tmp_path / "older-migrations"
    older.mkdir()
    for file in sorted(MIGRATIONS_DIR.glob("*.sql"))[:5]:
        shutil.copy(file, older / file.name)
    with monkeypatch.context() as patch:
        patch.setattr("studio.store.MIGRATIONS_DIR", older)
        store = await Store.open(db_path)
        await store.close()
    outside = str(tmp_path / "other" / "x.mp4")
    with closing(sqlite3.connect(db_path)) as raw, raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 5
        raw.execute("INSERT INTO projects (scope, owner, title, head) VALUES ('g', 'a', 't', 1)")
        for clip, poster in [
            ("slate-data/renders/k.mp4", "slate-data/renders/k.png"),
            (str(db_path.parent / "renders" / "m.mp4"), outside),
        ]:
            raw.execute(
                "INSERT INTO takes (project_id, shot_uid, fingerprint, seed, model, request,"
                " clip, poster, seconds) VALUES (1, 'u', 'fp', 1, 'm', '{}', ?, ?, 1)",
                (clip, poster),
            )
    store = await Store.open(db_path)
    try:
        assert await store.schema_version() >= 6
    finally:
        await store.close()
    assert _stored_take_paths(db_path) == [
        ("renders/k.mp4", "renders/k.png"),
        ("renders/m.mp4", outside),
    ]


# --- reference images ----------------------------------------------------------------------------


def _photo(colour: str, size: tuple[int, int] = (320, 400), format: str = "PNG") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=format)
    return buffer.getvalue()


def _image_rows(db_path: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db_path)) as raw:
        return raw.execute(
            "SELECT project_id, sha256, suffix, width, height, source, added_by FROM images"
        ).fetchall()


@pytest.fixture
def images(store: Store) -> ImageStore:
    assert store.images_dir is not None
    return ImageStore(store.images_dir)


async def _referenced(
    store: Store, images: ImageStore, project_id: int, colour: str, **fields: Any
) -> Project:
    """Store a picture, record it for the project and give it to Mara."""
    info = await asyncio.to_thread(images.put, _photo(colour))
    values = {"element": "character", "name": "Mara", "added_by": "ana"} | fields
    return await store.add_reference("g", project_id, info=info, **values)


async def test_references_round_trip_and_survive_a_restart(
    store: Store, images: ImageStore, db_path: Path
) -> None:
    project = await store.create_project("g", "ana", make_shotlist(2))
    info = await asyncio.to_thread(images.put, _photo("teal"))
    await store.add_image("g", project.id, info, "upload", "ana")
    assert await store.has_image(project.id, info.sha256)
    edit = AddReference(
        element="character", name="mara", reference=info.reference("front", "upload", "ana")
    )
    after = await store.apply("g", project.id, edit, "ana")
    assert after.shotlist.characters[0].references == (info.reference("front", "upload", "ana"),)
    assert _image_rows(db_path) == [(project.id, info.sha256, ".png", 320, 400, "upload", "ana")]
    await store.close()

    reopened = await Store.open(db_path)
    try:
        again = await reopened.project("g", project.id)
        assert again.shotlist == after.shotlist
        assert await reopened.has_image(project.id, info.sha256)
        [latest] = [v for v in await reopened.versions("g", project.id) if v.number == again.head]
        assert (latest.summary, latest.author) == ("mara: front reference (upload)", "ana")
        assert reopened.images_dir is not None
        assert info.reference() in ImageStore(reopened.images_dir)
    finally:
        await reopened.close()


async def test_undo_and_revert_restore_the_previous_references(
    store: Store, images: ImageStore
) -> None:
    project = await store.create_project("g", "ana", make_shotlist(2))
    first = await _referenced(store, images, project.id, "teal")
    [face] = first.shotlist.characters[0].references
    second = await _referenced(store, images, project.id, "red", view="profile")
    assert len(second.shotlist.characters[0].references) == 2
    removed = await store.apply(
        "g",
        project.id,
        RemoveReference(element="character", name="Mara", sha256=face.sha256),
        "ana",
    )
    assert face not in removed.shotlist.characters[0].references

    undone = await store.undo("g", project.id, "ana")
    assert undone.shotlist.characters[0].references == second.shotlist.characters[0].references
    reverted = await store.revert("g", project.id, first.head, "bo")
    assert reverted.shotlist.characters[0].references == (face,)
    # The image stays the project's: the reference can be added again after any of this.
    assert await store.has_image(project.id, face.sha256)


async def test_two_projects_never_see_each_others_images(
    store: Store, images: ImageStore, db_path: Path
) -> None:
    mine = await store.create_project("g", "ana", make_shotlist(1))
    theirs = await store.create_project("g", "bo", make_shotlist(1))
    elsewhere = await store.create_project("other guild", "cy", make_shotlist(1))
    referenced = await _referenced(store, images, mine.id, "teal")
    [face] = referenced.shotlist.characters[0].references

    assert not await store.has_image(theirs.id, face.sha256)
    borrowed = AddReference(element="character", name="Mara", reference=face)
    for project in (theirs, elsewhere):
        with pytest.raises(EditError, match="never added to project"):
            await store.apply(project.scope, project.id, borrowed, "bo")
        with pytest.raises(EditError, match="never added"):  # inside a batch: none of it
            await store.apply_many(
                project.scope, project.id, [SetProjectInfo(title="Stolen"), borrowed], "bo"
            )
        unchanged = await store.project(project.scope, project.id)
        assert unchanged.head == 1 and unchanged.shotlist.characters[0].references == ()
    # A project is found only through its scope, for images too.
    info = await asyncio.to_thread(images.put, _photo("teal"))
    with pytest.raises(NotFound):
        await store.add_image("g", elsewhere.id, info, "upload", "bo")
    with pytest.raises(NotFound):
        await store.add_reference("g", elsewhere.id, "character", "Mara", info, added_by="bo")
    assert [row[0] for row in _image_rows(db_path)] == [mine.id]
    # Recorded for the other project too, the same file serves both; each keeps its own record.
    await store.add_image("g", theirs.id, info, "generated", "bo")
    shared = await store.apply("g", theirs.id, borrowed, "bo")
    assert shared.shotlist.characters[0].references == (face,)
    assert sorted(row[5] for row in _image_rows(db_path)) == ["generated", "upload"]


async def test_a_reference_whose_suffix_was_not_recorded_is_refused(
    store: Store, images: ImageStore
) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    info = await asyncio.to_thread(images.put, _photo("teal"))
    await store.add_image("g", project.id, info, "upload", "ana")
    wrong = info.reference().model_copy(update={"suffix": ".jpg"})
    with pytest.raises(EditError, match="never added"):
        await store.apply(
            "g", project.id, AddReference(element="character", name="Mara", reference=wrong), "ana"
        )


async def test_a_refused_reference_records_nothing(
    store: Store, images: ImageStore, db_path: Path
) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    for colour in ("red", "green", "blue", "white"):
        await _referenced(store, images, project.id, colour, view="detail")
    before = await store.project("g", project.id)
    rows = _image_rows(db_path)
    info = await asyncio.to_thread(images.put, _photo("black"))
    with pytest.raises(EditError, match="Mara already has 4 references; remove one first"):
        await store.add_reference("g", project.id, "character", "Mara", info, added_by="ana")
    with pytest.raises(EditError, match="There is no character called Theo"):
        await store.add_reference("g", project.id, "character", "Theo", info, added_by="ana")
    assert _image_rows(db_path) == rows
    assert not await store.has_image(project.id, info.sha256)
    assert (await store.project("g", project.id)).head == before.head


@pytest.mark.parametrize(
    "data",
    [b"not a picture", _photo("teal", (255, 900)), _photo("teal", (256, 256), "GIF")[:40]],
    ids=["not an image", "too small", "cut short"],
)
async def test_a_bad_image_is_refused_with_nothing_stored(
    store: Store, images: ImageStore, db_path: Path, data: bytes
) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))

    async def upload() -> Project:
        # What a front-end does: check and store the file, then record and use it.
        info = await asyncio.to_thread(images.put, data)
        return await store.add_reference("g", project.id, "character", "Mara", info, added_by="ana")

    with pytest.raises(InvalidImage):
        await upload()
    assert not images.root.exists() or not any(p.is_file() for p in images.root.rglob("*"))
    assert _image_rows(db_path) == []
    assert (await store.project("g", project.id)).head == 1


async def test_images_go_with_their_project(
    store: Store, images: ImageStore, db_path: Path
) -> None:
    project = await store.create_project("g", "ana", make_shotlist(1))
    await _referenced(store, images, project.id, "teal")
    await store.delete_project("g", project.id)
    assert _image_rows(db_path) == []
