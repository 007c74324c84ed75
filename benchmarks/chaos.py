"""Chaos: does Slate keep every project, take and edit when things go wrong around it?

    .venv/bin/python benchmarks/chaos.py [--seed 1] [--quick] [--only kill,concurrent,disk,fuzz]
                                         [--kills 10] [--rounds 2] [--fuzz 40] [--keep]

Run by hand (not a test, not in CI). Everything happens through `slate` subprocesses (the
offline director, `SLATE_RENDERER=animatic`, `HF_HUB_OFFLINE=1`, one render worker, each in a
fresh temporary data folder and working folder, so no `.env` is read); the SQLite store is only
ever opened read-only, to check what it holds. The probes:

  kill -9      `slate demo` killed (SIGKILL, whole process group) after a random delay: start-up,
               planning, rendering or cutting. Then a recovery in the same data folder: `slate demo`
               again, or `printf '/render\\n/cut\\n' | slate chat --project N`. Nothing lost: the
               store passes `PRAGMA integrity_check`, no shot has two takes of one fingerprint, no
               take lacks its clip, no job is left open, the recovery exits 0 (chat: makes the cut),
               and says so ("resum...") when it had jobs to take over.
  concurrent   2 and 3 sessions at once on one data folder: `slate chat` (plan, two edits,
               /render, /cut) with one SLATE_DATA_DIR, and `slate demo` into one --out (demo keeps
               its store in OUT/.slate, so sharing the data folder means sharing --out). Each exits 0
               or fails with one clear line (no traceback); no take is shared by two jobs, no shot
               rendered twice, no job taken over while its owner lived (from `-v` logs), no job left
               open, and each session's project holds every edit (its version count, as a solo run
               of the same script makes) and a take of every shot.
  disk full    `slate demo --out` on a small tmpfs filled to leave 0 B ... 8 MiB (needs root and
               `mount -t tmpfs`; otherwise skipped with tried = 0). It must end (no hang) without a
               traceback; with the space freed the store passes integrity_check, `slate projects`
               works and (full mode) `slate demo` into the same folder succeeds.
  hostile text seeded strings of rich markup, Discord markdown, ANSI escapes, very long lines,
               invalid UTF-8, NUL, bidi marks and huge numbers through `slate plan ARG`, piped
               `slate chat` (brief, directions, /export) and `slate export --format md|csv|json`.
               Every exit code is 0, 1 or 2 with no traceback, and the store stays whole
               (integrity_check ok, `slate projects` exits 0).

Prints progress to stderr, then a markdown table (probe | tried | survived with nothing lost |
failed | note) and the failures one by one to stdout; exits 1 if any probe failed. The same
--seed gives the same kill delays, fill levels and strings (timing still varies). On 2 idle cores
the defaults take about 3-4 minutes and --quick about 1-2 (twice that on a busy machine);
--max-minutes (default 9, quick 4) stops starting new tries. Every subprocess has a timeout.
--wait-leases makes each kill's recovery wait until the killed run's job leases have run out
(up to a minute per kill), to test take-over by lease expiry rather than at once.

`slate` is .venv/bin/slate (else `python -m bot`); the environment passes through, so to measure
the committed product while others edit the tree:
    git archive HEAD | tar -x -C /tmp/snap && PYTHONPATH=/tmp/snap .venv/bin/python benchmarks/chaos.py
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent

KILL_BRIEF = (
    "A 60-second noir short in three scenes. Night in a rain-soaked alley: Mia, a red-haired "
    "detective in a grey trench coat, waits under a flickering lamp. A car pulls up and Cole steps "
    "out holding a letter. He hands it over and walks away. Inside the diner, Mia reads the letter, "
    "looks up at the waitress, and realises she has been set up. At dawn on the rooftop, Mia burns "
    "the letter and watches the city wake."
)  # 10 shots with the offline director

SESSION_BRIEFS = (
    "A 40-second thriller: Mia waits in the alley at night. Cole arrives with a letter. "
    "In the diner, Mia reads it and runs.",
    "A 30-second comedy: Sam bakes a cake in a tiny kitchen. The cat jumps on the table. "
    "Flour everywhere; Sam laughs and takes a photo.",
    "A 45-second drama at a train station at dawn: Ana waits on the platform with a suitcase. "
    "The train arrives. Her brother steps off and they hug. They walk out into the rain.",
    "A 35-second western: a rider crosses the desert at noon. He stops at a saloon and orders "
    "water. The sheriff watches from the porch. The rider leaves at sunset.",
    "A 40-second sci-fi teaser: Kai wakes on a silent spaceship. Red lights blink in the corridor. "
    "Kai opens the airlock and looks at a blue planet.",
)
SESSION_DIRECTIONS = ("shot 2: close-up", "make shot 3 last 6 seconds")

RESUME_WORD = re.compile(r"resum", re.IGNORECASE)
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ [\w.]+: ")
TAKEOVER = re.compile(r"resuming render job (\S+)")
ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*)$", re.MULTILINE)

TIMEOUT_QUICK_CMD = 60  # plan, export, projects
TIMEOUT_CHAT = 120
TIMEOUT_DEMO = 180
TIMEOUT_SESSIONS = 300
TIMEOUT_DISK = 120


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- subprocesses --------------------------------------------------------------------------------


def slate_command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "slate"
    if script.exists():
        return [str(script)]
    found = shutil.which("slate", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "bot"]


SLATE = slate_command()


XDG_DATA_HOME = Path(tempfile.gettempdir()) / "slate-chaos-xdg"  # main() puts it in the work folder


def slate_env(data_dir: Path) -> dict[str, str]:
    """The environment of every `slate` run: offline, the animatic, one worker, and `data_dir`
    as the data folder. `slate demo` keeps its store in OUT/.slate whatever SLATE_DATA_DIR says;
    its runs get that folder here too, so nothing can reach the per-user data folder."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLATE_")}
    env.update(
        HF_HUB_OFFLINE="1",
        SLATE_RENDERER="animatic",
        SLATE_RENDER_WORKERS="1",
        SLATE_LLM_MODEL="",
        SLATE_DATA_DIR=str(data_dir),
        XDG_DATA_HOME=str(XDG_DATA_HOME),
        PYTHONUNBUFFERED="1",
    )
    return env


_LIVE: set[Proc] = set()


@dataclass
class Result:
    name: str
    rc: int | None  # None: killed by us (timeout or kill -9)
    out: str
    err: str
    timed_out: bool
    seconds: float
    ended_at: float  # wall clock (time.time()) when we saw it end

    @property
    def text(self) -> str:
        return self.out + "\n" + self.err

    def traceback(self) -> str | None:
        """'Traceback' in the output: the exception line it ended with, else a marker."""
        if "Traceback" not in self.text:
            return None
        errors = ERROR_LINE.findall(self.err) or ERROR_LINE.findall(self.out)
        return short(errors[-1], 70) if errors else "Traceback"

    def message_lines(self) -> list[str]:
        """stderr without `-v` log records: what a user reads."""
        return [line for line in self.err.splitlines() if line.strip() and not LOG_LINE.match(line)]

    def verdict(self, ok_codes: tuple[int, ...] = (0,)) -> str | None:
        """None when it ended with an accepted code and no traceback; else why not, briefly."""
        if self.timed_out:
            return f"{self.name} hung (killed after {self.seconds:.0f}s)"
        tb = self.traceback()
        if tb:
            return f"{self.name}: traceback ({tb})"
        if self.rc not in ok_codes:
            said = self.message_lines()
            return f"{self.name} rc={self.rc}" + (f": {short(said[-1], 70)}" if said else "")
        return None


class Proc:
    """A `slate` subprocess in its own process group, output to files (no pipe can fill up)."""

    def __init__(
        self,
        name: str,
        args: list[str | bytes],
        *,
        env: dict[str, str],
        cwd: Path,
        logs: Path,
        stdin: bytes = b"",
    ) -> None:
        self.name = name
        logs.mkdir(parents=True, exist_ok=True)
        stem = f"{name}-{time.monotonic_ns()}"
        self.out_path = logs / f"{stem}.out"
        self.err_path = logs / f"{stem}.err"
        in_path = logs / f"{stem}.in"
        in_path.write_bytes(stdin)
        with (
            open(in_path, "rb") as fin,
            open(self.out_path, "wb") as fout,
            open(self.err_path, "wb") as ferr,
        ):
            self.popen = subprocess.Popen(
                [*SLATE, *args],
                stdin=fin,
                stdout=fout,
                stderr=ferr,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        self.started = time.monotonic()
        self.ended_at: float | None = None
        self.killed = False
        _LIVE.add(self)

    def poll(self) -> int | None:
        rc = self.popen.poll()
        if rc is not None and self.ended_at is None:
            self.ended_at = time.time()
            _LIVE.discard(self)
        return rc

    def kill(self) -> None:
        """SIGKILL the whole process group (the process and anything it started)."""
        self.killed = self.poll() is None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self.poll()

    def wait(self, timeout: float) -> Result:
        deadline = self.started + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        timed_out = self.poll() is None
        if timed_out:
            self.kill()
        else:  # leave nothing of its group behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        return self.result(timed_out)

    def result(self, timed_out: bool = False) -> Result:
        self.poll()
        return Result(
            self.name,
            None if (timed_out or self.killed) else self.popen.returncode,
            self.out_path.read_bytes().decode("utf-8", "replace"),
            self.err_path.read_bytes().decode("utf-8", "replace"),
            timed_out,
            time.monotonic() - self.started,
            self.ended_at or time.time(),
        )


def run(
    name: str,
    args: list[str | bytes],
    *,
    env: dict[str, str],
    cwd: Path,
    logs: Path,
    timeout: float,
    stdin: bytes = b"",
) -> Result:
    return Proc(name, args, env=env, cwd=cwd, logs=logs, stdin=stdin).wait(timeout)


def kill_all_live() -> None:
    for proc in list(_LIVE):
        proc.kill()


# --- the store, read-only ------------------------------------------------------------------------


@dataclass
class ProjectState:
    id: int
    brief: str
    versions: int
    shots: list[str]  # shot uids at the head version
    taken: set[str]  # shot uids with at least one take


@dataclass
class StoreState:
    exists: bool
    integrity: str  # "ok", "missing", or what is wrong
    projects: dict[int, ProjectState] = field(default_factory=dict)
    open_jobs: list[tuple[str, int, str, str | None, float | None]] = field(default_factory=list)
    job_project: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # rendered twice, files missing...

    @property
    def intact(self) -> bool:
        return self.integrity in ("ok", "missing")

    def open_jobs_note(self) -> str:
        now = time.time()
        held = [job for job in self.open_jobs if job[4] is not None and job[4] > now]
        note = f"{len(self.open_jobs)} open job(s) left"
        if held:
            note += f", {len(held)} under a live lease ({max(j[4] for j in held) - now:.0f}s to go)"
        return note


def _rows(db: sqlite3.Connection, query: str) -> list[tuple]:
    try:
        return db.execute(query).fetchall()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error) or "no such column" in str(error):
            return []  # killed before the migrations ran: nothing to check there
        raise


def read_store(database: Path) -> StoreState:
    if not database.exists():
        return StoreState(False, "missing")
    uri = f"file:{quote(str(database))}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=15)) as db:
            checked = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
            integrity = "ok" if checked == ["ok"] else short("; ".join(map(str, checked)), 80)
            state = StoreState(True, integrity)
            briefs: dict[int, str] = {}
            for project_id, content in _rows(
                db, "SELECT project_id, content FROM turns WHERE role = 'user' ORDER BY id"
            ):
                briefs.setdefault(project_id, content)
            versions = dict(
                _rows(db, "SELECT project_id, count(*) FROM versions GROUP BY project_id")
            )
            taken: dict[int, set[str]] = {}
            for project_id, uid in _rows(db, "SELECT DISTINCT project_id, shot_uid FROM takes"):
                taken.setdefault(project_id, set()).add(uid)
            for project_id, snapshot in _rows(
                db,
                "SELECT p.id, v.snapshot FROM projects p "
                "JOIN versions v ON v.project_id = p.id AND v.number = p.head",
            ):
                try:
                    uids = [shot["uid"] for shot in json.loads(snapshot)["shots"]]
                except (ValueError, KeyError, TypeError):
                    uids = []
                    state.problems.append(f"project #{project_id}: head snapshot unreadable")
                state.projects[project_id] = ProjectState(
                    project_id,
                    briefs.get(project_id, ""),
                    versions.get(project_id, 0),
                    uids,
                    taken.get(project_id, set()),
                )
            state.open_jobs = _rows(
                db,
                "SELECT id, project_id, state, owner, lease_until FROM render_jobs "
                "WHERE state IN ('queued', 'running')",
            )
            state.job_project = dict(_rows(db, "SELECT id, project_id FROM render_jobs"))
            twice = _rows(
                db,
                "SELECT project_id, shot_uid, count(*) FROM takes "
                "GROUP BY project_id, shot_uid, fingerprint HAVING count(*) > 1",
            )
            if twice:
                state.problems.append(
                    f"rendered twice: {len(twice)} shot look(s) with 2+ takes "
                    f"(project #{twice[0][0]} shot {twice[0][1]} ×{twice[0][2]})"
                )
            shared = _rows(
                db,
                "SELECT take_id, count(*) FROM render_jobs WHERE take_id IS NOT NULL "
                "GROUP BY take_id HAVING count(*) > 1",
            )
            if shared:
                state.problems.append(f"{len(shared)} take(s) shared by two jobs")
            loose = _rows(
                db,
                "SELECT count(*) FROM takes WHERE id NOT IN "
                "(SELECT take_id FROM render_jobs WHERE take_id IS NOT NULL)",
            )
            if loose and loose[0][0]:
                state.problems.append(f"{loose[0][0]} take(s) no job produced")
            missing = 0
            for clip, poster in _rows(db, "SELECT clip, poster FROM takes"):
                for path in (clip, poster):
                    if not (database.parent / path).exists():  # relative, or absolute as stored
                        missing += 1
            if missing:
                state.problems.append(f"{missing} take file(s) missing")
            return state
    except sqlite3.DatabaseError as error:
        return StoreState(True, f"cannot read: {short(str(error), 60)}")


# --- bookkeeping ---------------------------------------------------------------------------------


@dataclass
class Probe:
    name: str
    tried: int = 0
    survived: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)  # for the table
    failures: list[str] = field(default_factory=list)  # one line per failed try
    reasons: Counter[str] = field(default_factory=Counter)

    def record(self, label: str, problems: list[str]) -> None:
        self.tried += 1
        if problems:
            self.failed += 1
            self.failures.append(f"{label}: " + "; ".join(problems))
            for problem in problems:
                self.reasons[_reason_key(problem)] += 1
            log(f"  FAILED {label}: " + "; ".join(problems))
        else:
            self.survived += 1
            log(f"  ok {label}")

    def note(self) -> str:
        parts = [f"{key} ×{count}" for key, count in self.reasons.most_common(4)]
        if len(self.reasons) > 4:
            parts.append("…")
        return "; ".join(self.notes + parts) or "—"


def _reason_key(problem: str) -> str:
    """A failure's kind, without the numbers that vary from try to try."""
    key = re.sub(r"\b(chat|demo)\d\b", r"\1", problem)
    key = re.sub(r"(?<![A-Za-z])\d+(\.\d+)?", "N", key)
    return short(key.split(": ", 1)[0] if "traceback" not in key else key, 72)


class Clock:
    def __init__(self, minutes: float) -> None:
        self.deadline = time.monotonic() + minutes * 60

    def left(self) -> float:
        return self.deadline - time.monotonic()


# --- probe 1: kill -9 ----------------------------------------------------------------------------


def probe_kill(
    args: argparse.Namespace, work: Path, clock: Clock, rng: random.Random, rows: list[Probe]
) -> None:
    probe = Probe("kill -9 + recovery")
    rows.append(probe)
    base = work / "kill-baseline"
    base.mkdir()
    log("kill -9: timing one undisturbed `slate demo`")
    baseline = run(
        "demo",
        ["demo", KILL_BRIEF, "--out", str(base / "out")],
        env=slate_env(base / "out" / ".slate"),
        cwd=base,
        logs=base / "logs",
        timeout=TIMEOUT_DEMO,
    )
    if baseline.verdict():
        probe.record("baseline demo", [baseline.verdict() or ""])
        probe.notes.append("undisturbed demo failed")
        return
    length = baseline.seconds
    log(f"kill -9: an undisturbed demo takes {length:.1f}s")
    for attempt in range(1, args.kills + 1):
        if clock.left() < 30:
            probe.notes.append(f"time limit: {attempt - 1} of {args.kills} tried")
            break
        folder = work / f"kill-{attempt}"
        folder.mkdir()
        out = folder / "out"
        data = out / ".slate"
        delay = rng.uniform(0.03, 0.97) * length
        recovery_kind = rng.choice(("chat", "demo"))
        proc = Proc(
            "demo",
            ["demo", KILL_BRIEF, "--out", str(out)],
            env=slate_env(out / ".slate"),
            cwd=folder,
            logs=folder / "logs",
        )
        while proc.poll() is None and time.monotonic() - proc.started < delay:
            time.sleep(0.01)
        finished_first = proc.poll() is not None
        proc.kill()
        before = read_store(data / "slate.db")
        phase = (
            "after it ended"
            if finished_first
            else "start-up"
            if not before.exists or not before.projects
            else "rendering"
            if before.open_jobs
            else "planning"
            if not any(p.taken for p in before.projects.values())
            else "cutting"
        )
        problems: list[str] = []
        if not before.intact:
            problems.append(f"store damaged by the kill: {before.integrity}")
        label = f"kill {attempt} at {delay:.2f}s ({phase}, {len(before.open_jobs)} open jobs)"
        if args.wait_leases and before.open_jobs:
            until = max((job[4] or 0.0) for job in before.open_jobs)
            pause = min(max(0.0, until - time.time() + 1.0), 120.0)
            log(f"  waiting {pause:.0f}s for the killed run's leases to run out")
            time.sleep(pause)
        project_id = max(before.projects) if before.projects else None
        if recovery_kind == "chat" and project_id is not None:
            label += f", recovered by chat --project {project_id}"
            recovery = run(
                "chat",
                ["chat", "--project", str(project_id)],
                env=slate_env(data),
                cwd=folder,
                logs=folder / "logs",
                timeout=TIMEOUT_DEMO,
                stdin=b"/render\n/cut\n",
            )
            if recovery.verdict() is None and "Final cut" not in recovery.out:
                problems.append("no cut made by /cut")
        else:
            label += ", recovered by demo"
            recovery = run(
                "demo",
                ["demo", KILL_BRIEF, "--out", str(out)],
                env=slate_env(out / ".slate"),
                cwd=folder,
                logs=folder / "logs",
                timeout=TIMEOUT_DEMO,
            )
        verdict = recovery.verdict()
        if verdict:
            problems.append(f"recovery {verdict}")
        after = read_store(data / "slate.db")
        if not after.intact:
            problems.append(f"integrity: {after.integrity}")
        problems += after.problems
        if after.open_jobs:
            problems.append(after.open_jobs_note())
        if before.open_jobs and not RESUME_WORD.search(recovery.text):
            problems.append("resume not reported")
        probe.record(label, problems)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


# --- probe 2: concurrent sessions ----------------------------------------------------------------


def session_script(brief: str) -> bytes:
    return "\n".join([brief, *SESSION_DIRECTIONS, "/render", "/cut", ""]).encode()


def solo_versions(brief: str, work: Path, cache: dict[str, int | None]) -> int | None:
    """How many versions the session script's plan and edits make when run alone."""
    if brief not in cache:
        folder = Path(tempfile.mkdtemp(prefix="solo-", dir=work))
        plain = "\n".join([brief, *SESSION_DIRECTIONS, ""]).encode()
        result = run(
            "solo-chat",
            ["chat"],
            env=slate_env(folder / "data"),
            cwd=folder,
            logs=folder / "logs",
            timeout=TIMEOUT_CHAT,
            stdin=plain,
        )
        state = read_store(folder / "data" / "slate.db")
        cache[brief] = (
            next(iter(state.projects.values())).versions
            if result.verdict() is None and len(state.projects) == 1
            else None
        )
        log(f"  a solo run of that session's script makes {cache[brief]} version(s)")
        shutil.rmtree(folder, ignore_errors=True)
    return cache[brief]


def _log_time(line: str) -> float | None:
    match = LOG_LINE.match(line)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def probe_concurrent(
    args: argparse.Namespace, work: Path, clock: Clock, rng: random.Random, rows: list[Probe]
) -> None:
    probes = {n: Probe(f"{n} concurrent sessions") for n in (2, 3)}
    rows += probes.values()
    expected: dict[str, int | None] = {}
    plan = [(n, mode) for _ in range(args.rounds) for n in (2, 3) for mode in ("chat", "demo")]
    for index, (n, mode) in enumerate(plan, 1):
        probe = probes[n]
        if clock.left() < 45:
            probe.notes.append("time limit: stopped early")
            break
        folder = work / f"sessions-{index}"
        folder.mkdir()
        briefs = rng.sample(SESSION_BRIEFS, n)
        shared_out = folder / "out"
        data = shared_out / ".slate" if mode == "demo" else folder / "data"
        procs = []
        for i, brief in enumerate(briefs):
            if mode == "chat":
                args_i: list[str | bytes] = ["-v", "chat"]
                stdin = session_script(brief)
                env = slate_env(data)
            else:
                args_i = ["-v", "demo", brief, "--out", str(shared_out)]
                stdin = b""
                env = slate_env(data)
            procs.append(
                Proc(f"{mode}{i}", args_i, env=env, cwd=folder, logs=folder / "logs", stdin=stdin)
            )
        results = [proc.wait(TIMEOUT_SESSIONS) for proc in procs]
        label = f"round {index}: {n}× slate {mode} on one data folder"
        problems: list[str] = []
        state = read_store(data / "slate.db")
        if not state.intact:
            problems.append(f"integrity: {state.integrity}")
        problems += state.problems
        if state.open_jobs:
            problems.append(state.open_jobs_note())
        by_brief = {p.brief.strip(): p for p in state.projects.values()}
        owner_of: dict[int, int] = {}  # project id -> session index
        for i, (brief, result) in enumerate(zip(briefs, results, strict=True)):
            verdict = result.verdict()
            if verdict is not None:
                said = result.message_lines()
                clean = (
                    not result.timed_out
                    and result.rc in (1, 2)
                    and not result.traceback()
                    and len(said) == 1
                )
                if clean:
                    probe.notes.append(f"clean refusal: {short(said[0], 50)}")
                else:
                    problems.append(verdict)
                continue
            project = by_brief.get(brief)
            if project is None:
                problems.append(f"{result.name}: its project is missing")
                continue
            owner_of[project.id] = i
            want = 1 if mode == "demo" else solo_versions(brief, work, expected)
            if want is not None and project.versions != want:
                problems.append(
                    f"{result.name}: lost edits ({project.versions} versions, solo run: {want})"
                )
            unrendered = [uid for uid in project.shots if uid not in project.taken]
            if unrendered:
                problems.append(f"{result.name}: {len(unrendered)} shot(s) without a take")
            if mode == "chat" and "Final cut" not in result.out:
                problems.append(f"{result.name}: no cut made by /cut")
        for i, result in enumerate(results):
            for line in result.err.splitlines():
                match = TAKEOVER.search(line)
                when = _log_time(line)
                if not match or when is None:
                    continue
                owner = owner_of.get(state.job_project.get(match.group(1), -1))
                if owner is not None and owner != i and when < results[owner].ended_at - 0.2:
                    problems.append(
                        f"{result.name} took over a job of {results[owner].name} while it ran"
                    )
        probe.record(label, list(dict.fromkeys(problems)))
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    for probe in probes.values():
        probe.notes = list(dict.fromkeys(probe.notes))


# --- probe 3: disk full --------------------------------------------------------------------------


def _free_bytes(path: Path) -> int:
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


def _fill(mount: Path, leave: int) -> Path:
    filler = mount / "filler"
    size = max(0, _free_bytes(mount) - leave)
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        try:
            if size:
                os.posix_fallocate(fd, 0, size)
        except OSError:
            chunk = b"\0" * (1 << 20)
            while size > 0:
                written = os.write(fd, chunk[: min(size, len(chunk))])
                size -= written
    finally:
        os.close(fd)
    return filler


def _unmount(mount: Path) -> None:
    if subprocess.run(["umount", str(mount)], capture_output=True, timeout=30).returncode:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)


def probe_disk(
    args: argparse.Namespace, work: Path, clock: Clock, rng: random.Random, rows: list[Probe]
) -> None:
    probe = Probe("disk full")
    rows.append(probe)
    kib = 1 << 10
    levels = [0, 192 * kib, 1024 * kib]  # bytes left free (±20%); a demo needs about 1.1 MiB
    if not args.quick:
        levels = [0, 48 * kib, 192 * kib, 512 * kib, 1024 * kib, 8192 * kib]
    mount = work / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        probe.notes.append("skipped: needs root for a tmpfs; ENOSPC is not simulated otherwise")
        return
    tried = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True,
        timeout=30,
    )
    if tried.returncode:
        probe.notes.append(f"skipped: mount -t tmpfs failed ({short(tried.stderr.decode(), 40)})")
        return
    try:
        for level in levels:
            if clock.left() < 30:
                probe.notes.append("time limit: stopped early")
                break
            for leftover in mount.iterdir():
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
            leave = int(level * rng.uniform(0.8, 1.2))
            filler = _fill(mount, leave)
            free = _free_bytes(mount)
            folder = work / f"disk-{level}"
            folder.mkdir()
            out = mount / "out"
            result = run(
                "demo",
                ["demo", KILL_BRIEF, "--out", str(out)],
                env=slate_env(out / ".slate"),
                cwd=folder,
                logs=folder / "logs",
                timeout=TIMEOUT_DISK,
            )
            problems: list[str] = []
            if result.timed_out:
                problems.append(f"demo hung (killed after {TIMEOUT_DISK}s)")
            elif result.traceback():
                problems.append(f"demo: traceback ({result.traceback()})")
            elif result.rc != 0 and not result.message_lines():
                problems.append(f"demo rc={result.rc} with nothing said")
            said = result.message_lines()
            how = (
                "ok"
                if result.rc == 0
                else f"rc={result.rc}" + (f" «{short(said[-1], 50)}»" if said else "")
            )
            filler.unlink()
            state = read_store(out / ".slate" / "slate.db")
            if not state.intact:
                problems.append(f"integrity after freeing space: {state.integrity}")
            listed = run(
                "projects",
                ["projects"],
                env=slate_env(out / ".slate"),
                cwd=folder,
                logs=folder / "logs",
                timeout=TIMEOUT_QUICK_CMD,
            )
            if listed.verdict():
                problems.append(f"after freeing space: {listed.verdict()}")
            if not args.quick and not problems:
                again = run(
                    "demo-again",
                    ["demo", KILL_BRIEF, "--out", str(out)],
                    env=slate_env(out / ".slate"),
                    cwd=folder,
                    logs=folder / "logs",
                    timeout=TIMEOUT_DISK,
                )
                if again.verdict():
                    problems.append(f"after freeing space: {again.verdict()}")
                else:
                    problems += read_store(out / ".slate" / "slate.db").problems
            probe.record(f"{free >> 10} KiB free: demo {how}", problems)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        kill_all_live()
        _unmount(mount)


# --- probe 4: hostile text -----------------------------------------------------------------------

MARKUP = [
    "[bold]",
    "[/]",
    "[/bold]",
    "[link=x]",
    "[link=https://evil.example]click[/link]",
    "[red on black]",
    "[",
    "]",
    "\\[",
    ":smile:",
    "[bold",
    "[[/]]",
    "[/link]",
]
DISCORD = [
    "**bold**",
    "__under__",
    "~~gone~~",
    "||spoiler||",
    "```py\nprint(1)\n```",
    "> quote",
    "<@123456789012345678>",
    "@everyone",
    "<#1>",
    "# Heading",
    "`code`",
]
ANSI = [
    "\x1b[31m",
    "\x1b[2J\x1b[H",
    "\x1b]8;;http://x\x07link\x1b]8;;\x07",
    "\x1b[0m",
    "\r",
    "\x08\x08",
    "\x07",
    "\x1b]0;title\x07",
    "\x9b31m",
    "\x1b[6n",
]
UNICODE = [
    "\u202e",
    "\u200f",
    "\u2066",
    "\u200b",
    "e" + "\u0301" * 40,
    "👩\u200d👩\u200d👧",
    "\ufeff",
    "\U0010ffff",
    "ﷺ" * 20,
    "\u2028",
]
INJECT = [
    "%s%s%n",
    "{0}",
    "{brief}",
    "$(touch pwned)",
    "'; DROP TABLE projects; --",
    "../../etc/passwd",
    "\\N{BULLET}",
    "None",
    "null",
    "-1",
]
WORDS = [
    "Mia waits in the alley.",
    "Cole arrives with a letter.",
    "INT. DINER - NIGHT",
    "shot 2: close-up",
    "night",
    "a 30-second teaser",
]
BAD_BYTES = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82"]
HUGE = "99999999999999999999"
HUGE_DIRECTIONS = [
    f"shot {HUGE}999: close-up",
    f"/revert {HUGE}99",
    f"/approve 1 {HUGE}",
    f"/approve {HUGE}",
    f"/reroll {HUGE}",
    f"/render {HUGE}",
    f"make shot 1 last {HUGE} seconds",
    "make shot 1 last 1e309 seconds",
    "make shot 1 last -0 seconds",
    f"delete shot {HUGE}",
    f"swap shots 1 and {HUGE}",
    f"add a shot after {HUGE}: Mia sighs",
    "/revert -1",
    "/revert 0",
    "/revert ٣",  # an Arabic-Indic digit
    "/export md /dev/full",
    "/export xml",
    "/undo",
    "/undo",
    "/history",
    "/show",
    "/approve",
    "/reroll",
    "/frobnicate [bold]x[/]",
]


def hostile(rng: random.Random, *, one_line: bool, nul: bool = True, invalid: bool = True) -> bytes:
    """A seeded hostile string, as bytes (not UTF-8 when `invalid`)."""
    parts: list[bytes] = []
    for _ in range(rng.randint(2, 6)):
        kind = rng.random()
        if kind < 0.12 and invalid:
            parts.append(rng.choice(BAD_BYTES))
        elif kind < 0.17 and nul:
            parts.append(b"\x00")
        elif kind < 0.24:
            piece = rng.choice(WORDS + MARKUP + ["x", "word "])
            parts.append((piece * rng.choice((500, 5000, 30000)))[:120_000].encode())
        else:
            pool = rng.choice((MARKUP, DISCORD, ANSI, UNICODE, INJECT, WORDS))
            parts.append(rng.choice(pool).encode("utf-8", "surrogatepass"))
    data = b" ".join(parts)
    if one_line:
        data = data.replace(b"\n", b" ").replace(b"\r", b" ")
    return data


def probe_fuzz(
    args: argparse.Namespace, work: Path, clock: Clock, rng: random.Random, rows: list[Probe]
) -> None:
    probe = Probe("hostile text")
    rows.append(probe)
    folder = work / "fuzz"
    folder.mkdir()
    data = folder / "data"
    env = slate_env(data)
    logs = folder / "logs"
    database = data / "slate.db"
    escapes: Counter[str] = Counter()
    for attempt in range(1, args.fuzz + 1):
        if clock.left() < 20:
            probe.notes.append(f"time limit: {attempt - 1} of {args.fuzz} tried")
            break
        results: list[Result] = []
        # slate plan ARG: argv can't hold NUL bytes; invalid UTF-8 can.
        argument = hostile(rng, one_line=False, nul=False)[:100_000]  # MAX_ARG_STRLEN: 128 KiB
        plan_args: list[str | bytes] = ["plan", argument]
        if rng.random() < 0.3:
            plan_args.append("--json")
        results.append(
            run("plan", plan_args, env=env, cwd=folder, logs=logs, timeout=TIMEOUT_QUICK_CMD)
        )
        # piped chat: a brief line, directions, exports.
        # A third of the briefs are all hostile (most are refused, and the chat ends there);
        # the rest are a story with (valid UTF-8, short enough) hostile text inside, so that the
        # directions get their turn.
        brief = (
            hostile(rng, one_line=True)
            if rng.random() < 0.35
            else rng.choice(SESSION_BRIEFS).encode()
            + b" "
            + hostile(rng, one_line=True, invalid=False).decode()[:1500].encode()
        )
        lines = [brief]
        for _ in range(rng.randint(2, 5)):
            lines.append(
                rng.choice(HUGE_DIRECTIONS).encode()
                if rng.random() < 0.5
                else (
                    rng.choice((b"shot 1: ", b"", b"make shot 2 ", b"/export md "))
                    + hostile(rng, one_line=True)
                )
            )
        if rng.random() < 0.25:
            lines.append(f"/export md {database}".encode())  # the store itself: must be refused
        if rng.random() < 0.3:
            lines.append(b"/export json " + hostile(rng, one_line=True, nul=False)[:200])
        lines += [b"/export md", rng.choice((b"/export csv", b"/export json"))]
        results.append(
            run(
                "chat",
                ["chat"],
                env=env,
                cwd=folder,
                logs=logs,
                timeout=TIMEOUT_CHAT,
                stdin=b"\n".join(lines) + b"\n",
            )
        )
        # exports of the latest project (whatever the chat made of it), and huge project numbers.
        export_args: list[str | bytes] = ["export", "--format", rng.choice(("md", "csv", "json"))]
        results.append(
            run("export", export_args, env=env, cwd=folder, logs=logs, timeout=TIMEOUT_QUICK_CMD)
        )
        odd = rng.choice(
            (
                ["export", "--project", HUGE, "--format", "md"],
                ["chat", "--project", HUGE],
                ["export", "--project", "0"],
                ["export", "--project", "-1", "--format", "csv"],
                ["export", "--format", "json", "--out", "slate-data/../x.json", "--force"],
            )
        )
        results.append(
            run("odd", list(odd), env=env, cwd=folder, logs=logs, timeout=TIMEOUT_QUICK_CMD)
        )
        problems = [
            verdict for result in results if (verdict := result.verdict((0, 1, 2))) is not None
        ]
        stdin = b"\n".join(lines)
        for result, given in ((results[0], argument), (results[1], stdin)):
            if "\x1b" in result.out and (b"\x1b" in given or b"\xc2\x9b" in given):
                escapes[result.name] += 1
        state = read_store(database)
        if not state.intact:
            problems.append(f"integrity: {state.integrity}")
        listed = run(
            "projects", ["projects"], env=env, cwd=folder, logs=logs, timeout=TIMEOUT_QUICK_CMD
        )
        if listed.verdict():
            problems.append(f"store no longer lists: {listed.verdict()}")
        codes = " ".join(f"{result.name}={result.rc}" for result in results)
        probe.record(
            f"string {attempt} ({len(argument)} B arg, {len(lines)} lines; {codes})", problems
        )
    if escapes:
        which = ", ".join(f"{name} ×{count}" for name, count in sorted(escapes.items()))
        probe.notes.append(f"input's ESC sequences printed raw by {which} (not counted)")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


# --- main ----------------------------------------------------------------------------------------

PROBES = {
    "kill": probe_kill,
    "concurrent": probe_concurrent,
    "disk": probe_disk,
    "fuzz": probe_fuzz,
}


def table(probes: list[Probe]) -> str:
    lines = [
        "| probe | tried | survived with nothing lost | failed | note |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for probe in probes:
        note = probe.note().replace("|", "\\|")
        lines.append(
            f"| {probe.name} | {probe.tried} | {probe.survived} | {probe.failed} | {note} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="fewer tries: about 2-3 minutes")
    parser.add_argument(
        "--only", default=",".join(PROBES), help="comma-separated: " + ",".join(PROBES)
    )
    parser.add_argument("--kills", type=int, help="kill -9 tries (default 10, quick 5)")
    parser.add_argument(
        "--rounds", type=int, help="rounds of each session mix (default 2, quick 1)"
    )
    parser.add_argument("--fuzz", type=int, help="hostile strings (default 40, quick 15)")
    parser.add_argument(
        "--wait-leases",
        action="store_true",
        help="before a recovery, wait for the killed run's job leases to run out",
    )
    parser.add_argument(
        "--max-minutes", type=float, help="start no try after this (default 9, quick 4)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args()
    args.kills = args.kills if args.kills is not None else (5 if args.quick else 10)
    args.rounds = args.rounds if args.rounds is not None else 1 if args.quick else 2
    args.fuzz = args.fuzz if args.fuzz is not None else (15 if args.quick else 40)
    minutes = args.max_minutes if args.max_minutes is not None else (4 if args.quick else 9)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PROBES]
    if unknown:
        parser.error(f"unknown probe(s): {', '.join(unknown)}")
    clock = Clock(minutes)
    work = Path(tempfile.mkdtemp(prefix="slate-chaos-"))
    global XDG_DATA_HOME
    XDG_DATA_HOME = work / "xdg-data"
    source = f" (PYTHONPATH={os.environ['PYTHONPATH']})" if os.environ.get("PYTHONPATH") else ""
    log(f"seed {args.seed}, slate = {' '.join(SLATE)}{source}, work in {work}")
    started = time.monotonic()
    results: list[Probe] = []
    broken: list[str] = []  # probes the benchmark itself failed to finish
    try:
        for name in chosen:
            log(f"probe: {name}")
            rng = random.Random(f"{args.seed}:{name}")
            done = len(results)
            try:
                PROBES[name](args, work, clock, rng, results)
            except Exception as error:  # the benchmark's own fault: say so, go on with the rest
                log(f"probe {name} stopped: {error!r}")
                traceback.print_exc()
                if len(results) == done:
                    results.append(Probe(name))
                results[-1].notes.append(f"benchmark error: {short(repr(error), 60)}")
                broken.append(name)
            finally:
                kill_all_live()
    except KeyboardInterrupt:
        log("interrupted: the table shows what ran")
    finally:
        kill_all_live()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(table(results))
    failures = [line for probe in results for line in probe.failures]
    if failures:
        print("\nFailures:")
        for probe in results:
            for line in probe.failures:
                print(f"- {probe.name} · {line}")
    print(f"\nseed {args.seed} · {time.monotonic() - started:.0f}s")
    return 1 if broken or any(probe.failed for probe in results) else 0


if __name__ == "__main__":
    sys.exit(main())
