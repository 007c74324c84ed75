"""The store: every SQL statement Slate runs lives in this module.

One long-lived aiosqlite connection in WAL mode with foreign keys on; numbered migrations in
studio/migrations tracked by `PRAGMA user_version`; every write is one transaction.

Backups: `<data folder>/backups/slate-YYYYmmdd-HHMMSS.db` (UTC), copies made with SQLite's online
backup API, so each is a consistent, self-contained database even while Slate writes. One is made
before migrations change an existing database, and on `Store.backup()`; the newest
`BACKUPS_KEPT` are kept.

Take files: a take's clip and poster are stored relative to the data folder (the database's folder)
when they lie inside it, so the whole folder can move; `Take.clip` and `Take.poster` are always
absolute paths.

Damage: a database file SQLite cannot read makes `Store.open` raise `StoreDamaged` naming the
newest backup. A part that cannot be read does not take the rest down with it: a project whose
saved shot list is unreadable is left out of `projects` (and named by `damaged_projects`), and an
open job whose render request is unreadable is failed when the store reads it.

Render jobs have owners: each open job is held by one process (`owner`) until its lease runs out
(`lease_until`, Unix time). The holder renews its leases while it runs and releases them on a
clean close; a process that starts takes over every open job nobody holds
(`claim_orphaned_jobs`), so two processes on one data folder never render the same job twice, and
the jobs of one that died are not lost.

Reference images: the files lie content-addressed in `images/` beside the database
(studio.images); the `images` table records which project owns which image, and an edit that adds
a reference is refused unless its image is recorded for that project.

Scoping: a project is only ever found through the scope that owns it (`project`, `apply`,
`undo`, `approve`...). Methods that take a bare project id or job id (turns, takes, jobs,
batches) are for callers that have already found the project in its scope; `project_by_id` is
for the service's own restart bookkeeping and never answers a user.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiosqlite

from studio.edits import (
    AddReference,
    Edit,
    SetProp,
    ShotChanges,
    UpdateShot,
    apply_edit,
    apply_edits,
    describe_edit,
    describe_edits,
    dump_edits,
)
from studio.errors import EditError, NotFound, ShotNotFound, StoreDamaged
from studio.images import ImageInfo
from studio.models import ShotList
from studio.records import (
    Batch,
    JobState,
    NewJob,
    NewTake,
    Project,
    RenderJobRecord,
    Take,
    Turn,
    Version,
)
from studio.vocab import ElementKind, ReferenceSource, ReferenceView, ShotStatus, parse

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BACKUPS_KEPT = 5
UNREADABLE_REQUEST = "its render request could not be read"
# After this migration, takes' paths are rewritten relative to the data folder (see its file).
_REBASE_TAKE_PATHS = 6
# SQLite's primary result codes for a file that is not (or no longer) a whole database.
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_BACKUP_NAME = re.compile(r"slate-\d{8}-\d{6}\.db")

# SQLite integers are signed 64-bit; every id and version number the store hands out is positive.
_MAX_ID = 2**63 - 1


# --- SQL -----------------------------------------------------------------------------------------

_PROJECT_COLUMNS = "p.id, p.scope, p.owner, p.head, p.room, p.shotlist_message, v.snapshot"
_SELECT_PROJECT = f"""
    SELECT {_PROJECT_COLUMNS} FROM projects p
    JOIN versions v ON v.project_id = p.id AND v.number = p.head
    WHERE p.scope = ? AND p.id = ?"""
_SELECT_PROJECT_BY_ID = f"""
    SELECT {_PROJECT_COLUMNS} FROM projects p
    JOIN versions v ON v.project_id = p.id AND v.number = p.head
    WHERE p.id = ?"""
_SELECT_PROJECT_BY_ROOM = f"""
    SELECT {_PROJECT_COLUMNS} FROM projects p
    JOIN versions v ON v.project_id = p.id AND v.number = p.head
    WHERE p.scope = ? AND p.room = ?"""
_LIST_PROJECTS = f"""
    SELECT {_PROJECT_COLUMNS} FROM projects p
    JOIN versions v ON v.project_id = p.id AND v.number = p.head
    WHERE p.scope = ? ORDER BY p.id DESC LIMIT ?"""
_INSERT_PROJECT = "INSERT INTO projects (scope, owner, title, head, room) VALUES (?, ?, ?, 1, ?)"
_INSERT_VERSION = """
    INSERT INTO versions (project_id, number, parent, summary, author, edit, snapshot)
    VALUES (?, ?, ?, ?, ?, ?, ?)"""
_SET_HEAD = "UPDATE projects SET head = ?, title = ? WHERE id = ?"
_SET_ROOM = "UPDATE projects SET room = ?, shotlist_message = NULL WHERE scope = ? AND id = ?"
_SET_SHOTLIST_MESSAGE = "UPDATE projects SET shotlist_message = ? WHERE scope = ? AND id = ?"
_SELECT_VERSION = """
    SELECT snapshot, parent, summary, author FROM versions WHERE project_id = ? AND number = ?"""
_LIST_VERSIONS = """
    SELECT number, parent, summary, author, created_at FROM versions
    WHERE project_id = ? ORDER BY number"""
_DELETE_PROJECT = "DELETE FROM projects WHERE scope = ? AND id = ?"
_INSERT_TURN = "INSERT INTO turns (project_id, role, author, content) VALUES (?, ?, ?, ?)"
_RECENT_TURNS = """
    SELECT role, author, content FROM (
        SELECT id, role, author, content FROM turns WHERE project_id = ? ORDER BY id DESC LIMIT ?
    ) ORDER BY id"""

_INSERT_BATCH = "INSERT INTO render_batches (id, project_id, requested_by) VALUES (?, ?, ?)"
_SELECT_BATCH = (
    "SELECT id, project_id, requested_by, status_message FROM render_batches WHERE id = ?"
)
_MARK_BATCH_REPORTED = "UPDATE render_batches SET reported = 1 WHERE id = ?"
_SET_BATCH_MESSAGE = "UPDATE render_batches SET status_message = ? WHERE id = ?"
_JOB_COLUMNS = """id, batch_id, project_id, shot_uid, shot_number, fingerprint, user, priority,
    request, state, reason, take_id, owner, lease_until"""
_INSERT_JOB = """
    INSERT INTO render_jobs (id, batch_id, project_id, shot_uid, shot_number, fingerprint, user,
                             priority, request, owner, lease_until)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_SET_JOB_STATE = """
    UPDATE render_jobs SET state = ?, reason = ?, take_id = COALESCE(?, take_id),
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = ?"""
_SELECT_JOB = f"SELECT {_JOB_COLUMNS} FROM render_jobs WHERE id = ?"
_OPEN_JOBS = f"""
    SELECT {_JOB_COLUMNS} FROM render_jobs WHERE state IN ('queued', 'running')
    ORDER BY created_at, rowid"""
# Batches a chat front-end (projects whose scope starts with the given prefix) still owes a report:
# jobs still open, a finished take not yet posted, or no status message yet. Newest first and
# only those created since the given time, so an old backlog is not replayed on every restart.
_UNREPORTED_BATCHES = """
    SELECT b.id, b.project_id, b.requested_by, b.status_message FROM render_batches b
    JOIN projects p ON p.id = b.project_id
    WHERE substr(p.scope, 1, length(?1)) = ?1 AND b.created_at >= ?2 AND b.reported = 0
    ORDER BY b.created_at DESC, b.rowid DESC LIMIT ?3"""
_BATCH_JOBS = f"SELECT {_JOB_COLUMNS} FROM render_jobs WHERE batch_id = ? ORDER BY rowid"
_PROJECT_OPEN_JOBS = f"""
    SELECT {_JOB_COLUMNS} FROM render_jobs
    WHERE project_id = ? AND state IN ('queued', 'running') ORDER BY rowid"""
# A live job is open and held (its lease has not run out) or was never leased (no owner: a job from
# before leases, or recorded without one). A job whose lease ran out is waiting to be taken over.
_LIVE = "(lease_until IS NULL OR lease_until > :now)"
_LIVE_JOBS = f"""
    SELECT {_JOB_COLUMNS} FROM render_jobs
    WHERE state IN ('queued', 'running') AND {_LIVE} ORDER BY created_at, rowid"""
_PROJECT_LIVE_JOBS = f"""
    SELECT {_JOB_COLUMNS} FROM render_jobs
    WHERE project_id = :project AND state IN ('queued', 'running') AND {_LIVE} ORDER BY rowid"""
_COUNT_USER_LIVE_JOBS = f"""
    SELECT COUNT(*) FROM render_jobs JOIN projects p ON p.id = render_jobs.project_id
    WHERE p.scope = :scope AND render_jobs.user = :user
      AND render_jobs.state IN ('queued', 'running') AND {_LIVE}"""
_ORPHANED_JOBS = f"""
    SELECT {_JOB_COLUMNS} FROM render_jobs
    WHERE state IN ('queued', 'running')
      AND (owner IS NULL OR lease_until IS NULL OR lease_until <= ?)
    ORDER BY created_at, rowid"""
_LIST_SNAPSHOTS = """
    SELECT p.id, v.snapshot FROM projects p
    JOIN versions v ON v.project_id = p.id AND v.number = p.head
    WHERE p.scope = ? ORDER BY p.id"""
_HOLD_JOB = "UPDATE render_jobs SET owner = ?, lease_until = ? WHERE id = ?"
_SET_LEASES = """
    UPDATE render_jobs SET lease_until = ? WHERE owner = ? AND state IN ('queued', 'running')"""

_TAKE_COLUMNS = """id, project_id, shot_uid, fingerprint, seed, model, request, clip, poster, seconds,
    message, created_at, info"""
_INSERT_TAKE = """
    INSERT INTO takes (project_id, shot_uid, fingerprint, seed, model, request, clip, poster, seconds,
                       info)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_SELECT_TAKE = f"SELECT {_TAKE_COLUMNS} FROM takes WHERE project_id = ? AND id = ?"
_SHOT_TAKES = f"SELECT {_TAKE_COLUMNS} FROM takes WHERE project_id = ? AND shot_uid = ? ORDER BY id"
_PROJECT_TAKES = f"SELECT {_TAKE_COLUMNS} FROM takes WHERE project_id = ? ORDER BY id"
_SET_TAKE_MESSAGE = "UPDATE takes SET message = ? WHERE id = ?"
_TAKE_PATHS = "SELECT id, clip, poster FROM takes"
_SET_TAKE_PATHS = "UPDATE takes SET clip = ?, poster = ? WHERE id = ?"
_APPROVE = """
    INSERT INTO approvals (project_id, shot_uid, take_id, approved_by) VALUES (?, ?, ?, ?)
    ON CONFLICT (project_id, shot_uid) DO UPDATE SET take_id = excluded.take_id,
        approved_by = excluded.approved_by"""
_APPROVALS = "SELECT shot_uid, take_id FROM approvals WHERE project_id = ?"
_INSERT_IMAGE = """
    INSERT INTO images (project_id, sha256, suffix, width, height, source, added_by)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, sha256) DO NOTHING"""
_SELECT_IMAGE = "SELECT suffix FROM images WHERE project_id = ? AND sha256 = ?"


def _in_range(number: int) -> bool:
    """Whether `number` could be an id or version number (one beyond SQLite's 64-bit integers
    would raise OverflowError inside sqlite3 rather than simply not be found)."""
    return 1 <= number <= _MAX_ID


def _no_project(project_id: int, scoped: bool = True) -> NotFound:
    return NotFound(f"There is no project #{project_id}{' here' if scoped else ''}.")


def _no_version(project_id: int, number: int) -> NotFound:
    return NotFound(f"Project #{project_id} has no version {number}.")


def _no_take(take_id: int) -> NotFound:
    return NotFound(f"There is no take {take_id} in this project.")


def _parameters(args: tuple[Any, ...]) -> tuple[Any, ...] | dict[str, Any]:
    if len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    return args


def _clock(now: float | None) -> float:
    """Unix time for leases: `now` when a test gives one."""
    return time.time() if now is None else now


def _shotlist(project_id: int, number: int, snapshot: str) -> ShotList:
    try:
        return ShotList.model_validate_json(snapshot)
    except ValueError as error:  # pydantic's ValidationError, for bad JSON or a bad shot list
        log.warning("project #%d version %d cannot be read: %s", project_id, number, error)
        raise StoreDamaged(
            f"Project #{project_id}'s shot list (version {number}) is damaged and cannot be "
            "read; an earlier version or a backup of the database still has it."
        ) from error


def _project(row: sqlite3.Row, shotlist: ShotList | None = None) -> Project:
    """The project of `row`, with its current shot list (read from the row unless given)."""
    if shotlist is None:
        shotlist = _shotlist(row["id"], row["head"], row["snapshot"])
    return Project(
        id=row["id"],
        scope=row["scope"],
        owner=row["owner"],
        head=row["head"],
        room=row["room"],
        shotlist=shotlist,
        shotlist_message=row["shotlist_message"],
    )


def _request(text: str) -> dict[str, Any] | None:
    """A stored render request, or None when it is not a JSON object."""
    try:
        request = json.loads(text)
    except ValueError:
        return None
    return request if isinstance(request, dict) else None


def _job(row: sqlite3.Row) -> RenderJobRecord:
    """The job; an unreadable request reads as {} (open ones are failed: `Store._readable`)."""
    data = dict(row)
    request = _request(data["request"]) or {}
    return RenderJobRecord(**data | {"request": request, "state": JobState(data["state"])})


def _batch(row: sqlite3.Row) -> Batch:
    return Batch(**dict(row))


def _database_file(path: str | Path) -> Path:
    """The database file's absolute path, its folder made if need be. Blocking."""
    file = Path(os.path.abspath(path))
    if file.is_dir():
        raise _damaged(file, "it is a folder, not a database file")
    file.parent.mkdir(parents=True, exist_ok=True)
    return file


def _backups(folder: Path) -> list[Path]:
    """The backups in `folder`, oldest first (their names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if _BACKUP_NAME.fullmatch(path.name))


def _is_damage(error: sqlite3.DatabaseError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _damaged(file: Path, problem: str) -> StoreDamaged:
    """The error for a database file that cannot be used, naming the newest backup. Blocking."""
    backups = _backups(file.parent / "backups")
    backup = f"a backup is at {backups[-1]}" if backups else "there is no backup of it"
    return StoreDamaged(f"The project database at {file} is damaged: {problem}; {backup}.")


def _backup_database(source: Path, folder: Path, keep: int) -> Path:
    """Copy the database at `source` into `folder` with SQLite's online backup API, on a
    connection of its own, then keep only the newest `keep` backups. Blocking.

    The copy is one consistent state of the database (a read transaction over all pages) in
    rollback-journal mode: one self-contained file. It appears under its final name only once
    complete."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"slate-{datetime.now(UTC):%Y%m%d-%H%M%S}.db"
    partial = folder / f".{target.name}.partial"
    partial.unlink(missing_ok=True)
    with (
        closing(sqlite3.connect(source, timeout=30)) as db,
        closing(sqlite3.connect(partial)) as copy,
    ):
        db.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
    os.replace(partial, target)
    for old in _backups(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return target


class Store:
    """Async access to Slate's SQLite database. Build with `await Store.open(path)`."""

    def __init__(self, db: aiosqlite.Connection, path: Path | None = None) -> None:
        self._db = db
        self._path = path  # the database file (absolute); None for an in-memory database
        self._folder = path.parent if path is not None else None  # the data folder
        # One connection serves every coroutine; the lock keeps their transactions apart.
        self._write = asyncio.Lock()
        self._writer: asyncio.Task[Any] | None = None  # the task inside a transaction now

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        file = None if str(path) == ":memory:" else await asyncio.to_thread(_database_file, path)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            await db.execute("PRAGMA busy_timeout = 5000")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA foreign_keys = ON")
            if file is not None:
                # Reads every page once: a truncated or garbled file is found here, not in the
                # middle of some later request.
                cursor = await db.execute("PRAGMA quick_check(1)")
                [problem] = await cursor.fetchone() or ["no answer from SQLite's check"]
                if problem != "ok":
                    raise await asyncio.to_thread(_damaged, file, str(problem).splitlines()[0])
            store = cls(db, file)
            await store._migrate()
        except sqlite3.DatabaseError as error:
            await db.close()
            if file is None or not _is_damage(error):
                raise
            raise await asyncio.to_thread(_damaged, file, str(error)) from error
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self._db.close()

    @property
    def backups_dir(self) -> Path | None:
        """Where backups go: `backups/` beside the database; None for an in-memory database."""
        return None if self._path is None else self._path.parent / "backups"

    @property
    def images_dir(self) -> Path | None:
        """Where reference images go (an `ImageStore`'s root): `images/` beside the database;
        None for an in-memory database."""
        return None if self._path is None else self._path.parent / "images"

    async def backup(self) -> Path | None:
        """Copy the database to a new backup (see the module notes) and return its path; keeps
        the newest `BACKUPS_KEPT`. Safe while the store is in use: the copy is made in a worker
        thread on a separate connection. None for an in-memory database."""
        if self._path is None or self.backups_dir is None:
            return None
        path = await asyncio.to_thread(_backup_database, self._path, self.backups_dir, BACKUPS_KEPT)
        log.info("backed up the database to %s", path)
        return path

    async def _migrate(self) -> None:
        files = sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))
        current = await self.schema_version()
        if current > 0 and any(int(file.name[:4]) > current for file in files):
            await self.backup()  # an existing database is about to change shape
        async with self._transaction():
            # Again inside the write lock: another process may have migrated in between.
            row = await self._one("PRAGMA user_version")
            current = int(row[0]) if row else 0
            for file in files:
                number = int(file.name[:4])
                if number <= current:
                    continue
                log.info("applying migration %s", file.name)
                sql = await asyncio.to_thread(file.read_text, encoding="utf-8")
                # Comments may hold ';' — drop them before splitting into statements.
                sql = re.sub(r"--[^\n]*", "", sql)
                for statement in sql.split(";"):
                    if statement.strip():
                        await self._db.execute(statement)
                if number == _REBASE_TAKE_PATHS:
                    await self._rebase_take_paths()
                await self._db.execute(f"PRAGMA user_version = {number}")

    async def _rebase_take_paths(self) -> None:
        """Store takes' paths as `finish_job` now does: relative to the data folder when inside
        it. Relative paths from before were relative to the working folder that wrote them;
        this one is the best guess there is."""
        for row in await self._all(_TAKE_PATHS):
            paths = (self._stored_path(row["clip"]), self._stored_path(row["poster"]))
            if paths != (row["clip"], row["poster"]):
                await self._db.execute(_SET_TAKE_PATHS, (*paths, row["id"]))

    def _stored_path(self, path: str) -> str:
        """How a take's file is stored: relative to the data folder (POSIX separators) when it
        lies inside it, else absolute. A relative `path` is taken from the working folder."""
        full = Path(os.path.abspath(path))
        if self._folder is None:
            return str(full)
        if full.is_relative_to(self._folder):
            return full.relative_to(self._folder).as_posix()
        # The same folder reached through a symbolic link, on one side or the other.
        real, folder = full.resolve(), self._folder.resolve()
        return real.relative_to(folder).as_posix() if real.is_relative_to(folder) else str(full)

    def _read_path(self, stored: str) -> str:
        """The absolute path of a take's file as stored by `_stored_path`."""
        if os.path.isabs(stored) or self._folder is None:
            return os.path.abspath(stored)
        return str(self._folder / stored)

    def _take(self, row: sqlite3.Row) -> Take:
        data = dict(row)
        return Take(
            **data
            | {
                "request": _request(data["request"]) or {},
                "info": _request(data["info"]) or {},
                "clip": self._read_path(data["clip"]),
                "poster": self._read_path(data["poster"]),
            }
        )

    async def schema_version(self) -> int:
        row = await self._one("PRAGMA user_version")
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        async with self._write:
            self._writer = asyncio.current_task()
            # BEGIN and COMMIT sit inside the try: a coroutine cancelled while either is queued,
            # or a COMMIT that fails, must not leave the shared connection inside a transaction
            # (every later write would fail with "cannot start a transaction within a transaction").
            try:
                await self._begin()
                yield
                await self._db.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
            finally:
                self._writer = None

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting while another process writes: SQLite's busy timeout covers
        most waits; a busy answer it does not retry (another connection's snapshot) is retried
        here with a growing pause, for about as long."""
        delay = 0.05
        for _ in range(12):
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                log.debug("database busy; retrying in %.2f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        await self._db.execute("BEGIN IMMEDIATE")

    async def _rollback(self) -> None:
        # The connection runs statements in the order they were queued, so this ROLLBACK follows
        # a BEGIN or COMMIT still in flight; it finds no transaction if that COMMIT went through.
        try:
            await self._db.execute("ROLLBACK")
        except sqlite3.OperationalError:
            if self._db.in_transaction:
                raise

    @staticmethod
    def _check_project_id(project_id: int) -> None:
        if not _in_range(project_id):
            raise _no_project(project_id)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[None]:
        """Reads share the connection with writes, so one between another task's UPDATE and its
        COMMIT would see news that may yet be rolled back: it waits for that transaction to end.
        A read inside the task's own transaction goes straight through."""
        if self._writer is not None and self._writer is asyncio.current_task():
            yield
            return
        async with self._write:
            yield

    async def _one(self, sql: str, *args: Any) -> Any:
        """The first row of `sql` with positional `args`, or one dict of named parameters."""
        # Closed at once: a cursor left open keeps a read snapshot, and a later BEGIN IMMEDIATE on
        # this connection would then fail with "database is locked" instead of waiting its turn.
        async with self._reading():
            cursor = await self._db.execute(sql, _parameters(args))
            try:
                return await cursor.fetchone()
            finally:
                await cursor.close()

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        async with self._reading():
            cursor = await self._db.execute(sql, _parameters(args))
            return list(await cursor.fetchall())

    # --- projects and versions -------------------------------------------------------------------

    async def create_project(
        self,
        scope: str,
        owner: str,
        shotlist: ShotList,
        *,
        room: str | None = None,
        summary: str = "plan",
    ) -> Project:
        async with self._transaction():
            cursor = await self._db.execute(_INSERT_PROJECT, (scope, owner, shotlist.title, room))
            project_id = cursor.lastrowid
            await self._db.execute(
                _INSERT_VERSION,
                (project_id, 1, None, summary, owner, None, shotlist.model_dump_json()),
            )
        return await self.project(scope, int(project_id or 0))

    async def project(self, scope: str, project_id: int) -> Project:
        return _project(await self._project_row(scope, project_id))

    async def _project_row(self, scope: str, project_id: int) -> sqlite3.Row:
        """The project's row, its shot list not yet read (it may be damaged)."""
        row = await self._one(_SELECT_PROJECT, scope, project_id) if _in_range(project_id) else None
        if row is None:
            raise _no_project(project_id)
        return cast(sqlite3.Row, row)

    async def project_by_id(self, project_id: int) -> Project:
        """Unscoped: only for the service's own bookkeeping (resuming jobs), never for users."""
        row = await self._one(_SELECT_PROJECT_BY_ID, project_id) if _in_range(project_id) else None
        if row is None:
            raise _no_project(project_id, scoped=False)
        return _project(row)

    async def project_in_room(self, scope: str, room: str) -> Project | None:
        row = await self._one(_SELECT_PROJECT_BY_ROOM, scope, room)
        return _project(row) if row else None

    async def projects(self, scope: str, limit: int = 25) -> list[Project]:
        """The scope's projects, newest first; one whose shot list cannot be read is left out
        (see `damaged_projects`) rather than hiding the rest."""
        projects = []
        for row in await self._all(_LIST_PROJECTS, scope, min(limit, _MAX_ID)):
            try:
                projects.append(_project(row))
            except StoreDamaged:
                continue  # logged by _shotlist
        return projects

    async def damaged_projects(self, scope: str) -> list[int]:
        """Ids of the scope's projects whose current shot list cannot be read, oldest first."""
        damaged = []
        for row in await self._all(_LIST_SNAPSHOTS, scope):
            try:
                ShotList.model_validate_json(row["snapshot"])
            except ValueError:
                damaged.append(int(row["id"]))
        return damaged

    async def set_room(self, scope: str, project_id: int, room: str | None) -> None:
        self._check_project_id(project_id)
        async with self._transaction():
            await self._db.execute(_SET_ROOM, (room, scope, project_id))

    async def set_shotlist_message(self, scope: str, project_id: int, message: str | None) -> None:
        self._check_project_id(project_id)
        async with self._transaction():
            await self._db.execute(_SET_SHOTLIST_MESSAGE, (message, scope, project_id))

    async def delete_project(self, scope: str, project_id: int) -> None:
        self._check_project_id(project_id)
        async with self._transaction():
            cursor = await self._db.execute(_DELETE_PROJECT, (scope, project_id))
            if cursor.rowcount == 0:
                raise _no_project(project_id)

    async def _commit_version(
        self,
        project: Project,
        shotlist: ShotList,
        parent: int | None,
        summary: str,
        author: str,
        edit: str | None,
    ) -> Project:
        number = project.head + 1
        await self._db.execute(
            _INSERT_VERSION,
            (project.id, number, parent, summary, author, edit, shotlist.model_dump_json()),
        )
        await self._db.execute(_SET_HEAD, (number, shotlist.title, project.id))
        return replace(project, head=number, shotlist=shotlist)

    async def apply(self, scope: str, project_id: int, edit: Edit, author: str) -> Project:
        """Apply one edit as one new version, atomically; on any error nothing is written."""
        return await self.apply_many(scope, project_id, [edit], author)

    async def apply_many(
        self, scope: str, project_id: int, edits: Sequence[Edit], author: str
    ) -> Project:
        """Apply `edits` in order as ONE new version (one undo step), atomically: if any edit
        fails, nothing is written. The version's summary joins the edits' descriptions with
        "; "; its `edit` column holds one edit as a JSON object, several as a JSON list."""
        edits = list(edits)
        if not edits:
            raise EditError("That changes nothing: there are no edits to apply.")
        async with self._transaction():
            return await self._apply_edits(scope, project_id, edits, author)

    async def _apply_edits(
        self, scope: str, project_id: int, edits: list[Edit], author: str
    ) -> Project:
        """`apply_many`'s work, inside a transaction."""
        project = await self.project(scope, project_id)
        for edit in edits:
            if isinstance(edit, AddReference):
                row = await self._one(_SELECT_IMAGE, project_id, edit.reference.sha256)
                if row is None or row["suffix"] != edit.reference.suffix:
                    raise EditError(
                        f"That image was never added to project #{project_id}; send it again."
                    )
        shotlist = apply_edits(project.shotlist, edits)
        return await self._commit_version(
            project, shotlist, project.head, describe_edits(edits), author, dump_edits(edits)
        )

    # --- reference images ------------------------------------------------------------------------

    async def add_image(
        self,
        scope: str,
        project_id: int,
        info: ImageInfo,
        source: ReferenceSource | str,
        added_by: str,
    ) -> None:
        """Record that the project owns a stored image (see studio.images), so its references
        may name it. Recording an image twice keeps the first record."""
        source = parse(ReferenceSource, source)
        async with self._transaction():
            await self._record_image(scope, project_id, info, source, added_by)

    async def _record_image(
        self,
        scope: str,
        project_id: int,
        info: ImageInfo,
        source: ReferenceSource,
        added_by: str,
    ) -> None:
        await self._project_row(scope, project_id)
        await self._db.execute(
            _INSERT_IMAGE,
            (project_id, info.sha256, info.suffix, info.width, info.height, source, added_by),
        )

    async def has_image(self, project_id: int, sha256: str) -> bool:
        """Whether the project owns the image (for callers that found the project in its scope)."""
        self._check_project_id(project_id)
        return await self._one(_SELECT_IMAGE, project_id, sha256) is not None

    async def add_reference(
        self,
        scope: str,
        project_id: int,
        element: ElementKind | str,
        name: str,
        info: ImageInfo,
        *,
        view: ReferenceView | str = ReferenceView.FRONT,
        source: ReferenceSource | str = ReferenceSource.UPLOAD,
        added_by: str,
    ) -> Project:
        """Record a stored image as the project's and make it one of an element's references:
        one transaction, one version (one undo). When the edit is refused (an unknown element,
        a fifth reference...) nothing is recorded."""
        source = parse(ReferenceSource, source)
        kind = parse(ElementKind, element)
        edit = AddReference(
            element=kind, name=name, reference=info.reference(view, source, added_by)
        )
        async with self._transaction():
            await self._record_image(scope, project_id, info, source, added_by)
            shotlist = (await self.project(scope, project_id)).shotlist
            # A prop named for the first time joins the bible in the same version: one undo.
            edits: list[Edit] = [edit]
            if kind is ElementKind.PROP and shotlist.prop(name) is None:
                edits.insert(0, SetProp(name=name))
            return await self._apply_edits(scope, project_id, edits, added_by)

    async def versions(self, scope: str, project_id: int) -> list[Version]:
        await self._project_row(scope, project_id)
        return [Version(**dict(row)) for row in await self._all(_LIST_VERSIONS, project_id)]

    async def version(self, scope: str, project_id: int, number: int) -> ShotList:
        await self._project_row(scope, project_id)
        row = await self._one(_SELECT_VERSION, project_id, number) if _in_range(number) else None
        if row is None:
            raise _no_version(project_id, number)
        return _shotlist(project_id, number, row["snapshot"])

    async def revert(self, scope: str, project_id: int, number: int, author: str) -> Project:
        """Restore version `number` as a new version (history is never rewritten). Works even
        when the current version cannot be read: that is how a damaged project is mended."""
        async with self._transaction():
            current = await self._project_row(scope, project_id)
            row = (
                await self._one(_SELECT_VERSION, project_id, number) if _in_range(number) else None
            )
            if row is None:
                raise _no_version(project_id, number)
            if number == current["head"]:
                raise EditError(f"Version {number} is already the current version.")
            shotlist = _shotlist(project_id, number, row["snapshot"])
            project = _project(current, shotlist)
            return await self._commit_version(
                project, shotlist, row["parent"], f"revert to version {number}", author, None
            )

    async def check_undo(self, scope: str, project_id: int, author: str) -> None:
        """Raise the refusal `undo` would give, changing nothing."""
        await self._undo_target(await self.project(scope, project_id), author)

    async def _undo_target(self, project: Project, author: str) -> int:
        """The version `author`'s undo goes back to, or the reason there is none."""
        row = await self._one(_SELECT_VERSION, project.id, project.head)
        parent: int | None = row["parent"] if row else None
        if parent is None:
            raise EditError("Nothing to undo: this is the first version of the shot list.")
        if row["author"] != author:
            raise EditError(
                f"The last change ({row['summary']}) was made by {row['author']}; "
                "ask them, or use revert."
            )
        return parent

    async def undo(self, scope: str, project_id: int, author: str) -> Project:
        """Take back `author`'s own last change: go back to the version the current one was
        made from. Refused when someone else made the current version (undo never silently
        reverts another person's work; `revert` to a chosen version does that openly)."""
        async with self._transaction():
            project = await self.project(scope, project_id)
            parent = await self._undo_target(project, author)
            previous = await self._one(_SELECT_VERSION, project_id, parent)
            shotlist = _shotlist(project_id, parent, previous["snapshot"])
            return await self._commit_version(
                project,
                shotlist,
                previous["parent"],
                f"undo (back to version {parent})",
                author,
                None,
            )

    # --- conversation ----------------------------------------------------------------------------

    async def add_turn(self, project_id: int, role: str, author: str, content: str) -> None:
        self._check_project_id(project_id)
        async with self._transaction():
            await self._db.execute(_INSERT_TURN, (project_id, role, author, content))

    async def turns(self, project_id: int, limit: int = 20) -> list[Turn]:
        self._check_project_id(project_id)
        rows = await self._all(_RECENT_TURNS, project_id, min(limit, _MAX_ID))
        return [Turn(**dict(row)) for row in rows]

    # --- renders ---------------------------------------------------------------------------------

    async def add_batch(
        self,
        batch_id: str,
        project_id: int,
        requested_by: str,
        jobs: Sequence[NewJob],
        *,
        owner: str | None = None,
        lease_s: float = 60.0,
        now: float | None = None,
    ) -> None:
        """Record a render batch and its jobs, in one transaction. With an `owner`, the jobs are
        held by it for `lease_s` seconds (see `renew_leases`); without one, any process may
        take them over (`claim_orphaned_jobs`)."""
        self._check_project_id(project_id)
        lease_until = _clock(now) + lease_s if owner is not None else None
        async with self._transaction():
            await self._db.execute(_INSERT_BATCH, (batch_id, project_id, requested_by))
            for job in jobs:
                await self._db.execute(
                    _INSERT_JOB,
                    (
                        job.id,
                        batch_id,
                        project_id,
                        job.shot_uid,
                        job.shot_number,
                        job.fingerprint,
                        job.user,
                        job.priority,
                        json.dumps(job.request),
                        owner,
                        lease_until,
                    ),
                )

    async def batch(self, batch_id: str) -> Batch:
        row = await self._one(_SELECT_BATCH, batch_id)
        if row is None:
            raise NotFound(f"There is no render batch {batch_id}.")
        return _batch(row)

    async def set_batch_message(self, batch_id: str, message: str | None) -> None:
        async with self._transaction():
            await self._db.execute(_SET_BATCH_MESSAGE, (message, batch_id))

    async def set_job_state(
        self, job_id: str, state: JobState, reason: str | None = None, take_id: int | None = None
    ) -> None:
        async with self._transaction():
            await self._db.execute(_SET_JOB_STATE, (JobState(state), reason, take_id, job_id))

    async def job(self, job_id: str) -> RenderJobRecord:
        row = await self._one(_SELECT_JOB, job_id)
        if row is None:
            raise NotFound(f"There is no render job {job_id}.")
        return _job(row)

    async def open_jobs(self, project_id: int | None = None) -> list[RenderJobRecord]:
        if project_id is None:
            return await self._readable(await self._all(_OPEN_JOBS))
        self._check_project_id(project_id)
        return await self._readable(await self._all(_PROJECT_OPEN_JOBS, project_id))

    async def live_jobs(
        self, project_id: int | None = None, *, now: float | None = None
    ) -> list[RenderJobRecord]:
        """Open jobs that some process holds (or that were never leased): those being rendered.
        `open_jobs` also returns the ones whose lease ran out, waiting to be taken over."""
        args = {"now": _clock(now), "project": project_id}
        if project_id is None:
            return await self._readable(await self._all(_LIVE_JOBS, args))
        self._check_project_id(project_id)
        return await self._readable(await self._all(_PROJECT_LIVE_JOBS, args))

    async def claim_orphaned_jobs(
        self, owner: str, lease_s: float, *, now: float | None = None
    ) -> list[RenderJobRecord]:
        """Take over every open job nobody holds: no owner, or a lease that has run out (its
        process died or released it). They become `owner`'s for `lease_s` seconds; returned
        oldest first, as held. One write transaction (BEGIN IMMEDIATE), so when two processes
        claim at once each job goes to exactly one of them.

        `owner` must name this process's run (e.g. host, pid and a random part): its own jobs
        whose lease ran out are taken again too, and a restarted process must not find its
        predecessor's jobs still held under its name."""
        now = _clock(now)
        async with self._transaction():
            rows = await self._all(_ORPHANED_JOBS, now)
            await self._fail_unreadable(rows)
            jobs = [_job(row) for row in rows if _request(row["request"]) is not None]
            for job in jobs:
                await self._db.execute(_HOLD_JOB, (owner, now + lease_s, job.id))
        claimed = [replace(job, owner=owner, lease_until=now + lease_s) for job in jobs]
        if claimed:
            log.info("%s took over %d orphaned render job(s)", owner, len(claimed))
        return claimed

    async def renew_leases(self, owner: str, lease_s: float, *, now: float | None = None) -> None:
        """Hold every open job of `owner` for another `lease_s` seconds from now."""
        async with self._transaction():
            await self._db.execute(_SET_LEASES, (_clock(now) + lease_s, owner))

    async def release_jobs(self, owner: str, *, now: float | None = None) -> None:
        """On a clean close: end the leases of `owner`'s open jobs, so another process may take
        them over at once rather than when the leases would have run out."""
        async with self._transaction():
            await self._db.execute(_SET_LEASES, (_clock(now), owner))

    async def _readable(self, rows: Sequence[sqlite3.Row]) -> list[RenderJobRecord]:
        """The open jobs of `rows` whose render request can be read; the others are failed."""
        if any(_request(row["request"]) is None for row in rows):
            async with self._transaction():
                await self._fail_unreadable(rows)
        return [_job(row) for row in rows if _request(row["request"]) is not None]

    async def _fail_unreadable(self, rows: Sequence[sqlite3.Row]) -> None:
        """Fail the open jobs of `rows` whose render request cannot be read: they can never be
        rendered, and the reason shows in their batch's report. Inside a transaction."""
        for row in rows:
            if _request(row["request"]) is None:
                log.warning("render job %s: its request cannot be read; failing it", row["id"])
                await self._db.execute(
                    _SET_JOB_STATE, (JobState.FAILED, UNREADABLE_REQUEST, None, row["id"])
                )

    async def mark_batch_reported(self, batch_id: str) -> None:
        """A front-end has shown the batch's final state and posted every take."""
        async with self._transaction():
            await self._db.execute(_MARK_BATCH_REPORTED, (batch_id,))

    async def unreported_batches(
        self, scope_prefix: str, *, since: str = "", limit: int = 50
    ) -> list[Batch]:
        """Batches of projects whose scope starts with `scope_prefix` whose final state no
        front-end has shown yet (see `mark_batch_reported`).
        Only those created at or after `since` (an ISO-8601 UTC time, as the store writes them),
        newest first, at most `limit`."""
        rows = await self._all(_UNREPORTED_BATCHES, scope_prefix, since, limit)
        return [_batch(row) for row in rows]

    async def batch_jobs(self, batch_id: str) -> list[RenderJobRecord]:
        return [_job(row) for row in await self._all(_BATCH_JOBS, batch_id)]

    async def count_open_jobs(self, scope: str, user: str, *, now: float | None = None) -> int:
        """How many of `user`'s jobs in `scope` are live (see `live_jobs`): a job whose lease ran
        out is not counted until a process takes it over."""
        args = {"scope": scope, "user": user, "now": _clock(now)}
        row = await self._one(_COUNT_USER_LIVE_JOBS, args)
        return int(row[0])

    async def finish_job(self, job_id: str, take: NewTake) -> Take:
        """Record the take and mark its job done, together."""
        self._check_project_id(take.project_id)
        async with self._transaction():
            cursor = await self._db.execute(
                _INSERT_TAKE,
                (
                    take.project_id,
                    take.shot_uid,
                    take.fingerprint,
                    take.seed,
                    take.model,
                    json.dumps(take.request),
                    self._stored_path(take.clip),
                    self._stored_path(take.poster),
                    take.seconds,
                    json.dumps(take.info, default=str),
                ),
            )
            take_id = int(cursor.lastrowid or 0)
            await self._db.execute(_SET_JOB_STATE, (JobState.DONE, None, take_id, job_id))
            row = await self._one(_SELECT_TAKE, take.project_id, take_id)
        return self._take(row)

    async def take(self, project_id: int, take_id: int) -> Take:
        self._check_project_id(project_id)
        row = await self._one(_SELECT_TAKE, project_id, take_id) if _in_range(take_id) else None
        if row is None:
            raise _no_take(take_id)
        return self._take(row)

    async def takes(self, project_id: int, shot_uid: str | None = None) -> list[Take]:
        self._check_project_id(project_id)
        if shot_uid is None:
            return [self._take(row) for row in await self._all(_PROJECT_TAKES, project_id)]
        return [self._take(row) for row in await self._all(_SHOT_TAKES, project_id, shot_uid)]

    async def set_take_message(self, take_id: int, message: str) -> None:
        if not _in_range(take_id):
            raise _no_take(take_id)
        async with self._transaction():
            await self._db.execute(_SET_TAKE_MESSAGE, (message, take_id))

    async def approve(
        self, scope: str, project_id: int, shot_uid: str, take_id: int, by: str
    ) -> Project:
        """Record the shot's approved take and mark the shot approved, in one transaction."""
        self._check_project_id(project_id)
        if not _in_range(take_id):
            raise _no_take(take_id)
        async with self._transaction():
            project = await self.project(scope, project_id)
            shot = next((s for s in project.shotlist.shots if s.uid == shot_uid), None)
            if shot is None:
                raise ShotNotFound("That shot is no longer in the list.")
            await self._db.execute(_APPROVE, (project_id, shot_uid, take_id, by))
            if shot.status is ShotStatus.APPROVED:
                return project
            edit = UpdateShot(shot=shot.number, changes=ShotChanges(status=ShotStatus.APPROVED))
            return await self._commit_version(
                project,
                apply_edit(project.shotlist, edit),
                project.head,
                describe_edit(edit),
                by,
                dump_edits([edit]),
            )

    async def approvals(self, project_id: int) -> dict[str, int]:
        self._check_project_id(project_id)
        rows = await self._all(_APPROVALS, project_id)
        return {row["shot_uid"]: row["take_id"] for row in rows}
