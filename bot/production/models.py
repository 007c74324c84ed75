"""What the production hands its front-ends: the outcome of a direction, render news, and read
models (a take card, a batch snapshot, the queue) so no front-end needs the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.base import RenderAsk
from studio.models import Shot
from studio.records import JobState, Project, Take


@dataclass(frozen=True)
class DirectorTurn:
    """The outcome of one message to the director (or of a direct edit, undo or revert)."""

    project: Project
    reply: str
    changes: list[str]  # the shot list diff, one line per change
    render: RenderAsk | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProductionEvent:
    """A render job's news, with the project and shot it belongs to. RUNNING with `total` 0 is
    the start; later RUNNING events carry progress (`step` of `total`, now and then a preview)."""

    state: JobState
    job_id: str
    batch_id: str
    scope: str
    project_id: int
    shot_uid: str
    shot_number: str
    position: int = 0  # while queued: how many jobs are ahead
    step: int = 0
    total: int = 0
    eta_s: float | None = None
    preview: Any = None  # a PIL image while rendering, now and then
    take: Take | None = None  # when DONE
    cache_hit: bool = False
    reason: str = ""  # when FAILED or CANCELLED
    note: str = ""  # news for the crew that is not an ending (a lost worker: rendering again)

    @property
    def done(self) -> bool:
        return not self.state.open


@dataclass(frozen=True)
class RenderBatch:
    id: str
    project_id: int
    jobs: list[tuple[str, str]]  # (job id, shot number) in shot order
    skipped: list[str]  # shot numbers already rendered as they are now
    room: str | None = None  # where its progress is shown, when the project has a room
    rendering: list[str] = field(default_factory=list)  # shot numbers already being rendered


@dataclass(frozen=True)
class TakeCard:
    """A take as the crew sees it: "Shot 4 · Take 2"."""

    take: Take
    shot: Shot | None  # None: the shot has since been removed from the list
    shot_number: str
    number: int  # the take's number among its shot's takes, from 1
    approved: bool

    @property
    def clip_name(self) -> str:
        """The file name people get: the numbers they see."""
        return f"shot-{self.shot_number}-take-{self.number}.mp4"


def take_notes(info: dict[str, Any]) -> list[str]:
    """What a take's info says for the crew: the move check and the references used."""
    notes = []
    motion = info.get("motion")
    if isinstance(motion, dict) and motion.get("measured"):
        mark = "✓" if motion.get("matches") else "✗"
        notes.append(f"asked: {motion.get('asked', '?')} · measured: {motion['measured']} {mark}")
    for key in ("references", "first_frame"):
        value = info.get(key)
        if isinstance(value, str) and value and value != "none":
            notes.append(f"{key.replace('_', ' ')}: {value}")
    return notes


@dataclass(frozen=True)
class Approval:
    card: TakeCard
    replaced: int | None  # the take id approved before, if another
    approved_shots: int
    total_shots: int


@dataclass(frozen=True)
class JobSnapshot:
    id: str
    shot_uid: str
    shot_number: str
    state: JobState
    reason: str
    take_id: int | None
    seconds: float | None  # render time of its take
    posted: bool  # its take has been posted


@dataclass(frozen=True)
class BatchSnapshot:
    id: str
    scope: str
    project_id: int
    title: str
    room: str | None
    status_message: str | None
    jobs: list[JobSnapshot]


@dataclass(frozen=True)
class QueueEntry:
    project_id: int
    title: str
    label: str
    position: int  # 0: rendering
    user: str


@dataclass(frozen=True)
class WorkerRow:
    """A render worker as the crew sees it: where it runs, what it has loaded, what it renders."""

    name: str  # "ray-0", "thread-0"
    node: str  # the machine
    device: str  # "GPU 0", "CPU", "thread"
    models: tuple[str, ...]  # loaded and kept
    title: str = ""  # the film it renders now ("another crew's film"); "" when idle
    label: str = ""  # the job's queue label ("#3 shot 2"), when the film is this crew's

    @property
    def rendering(self) -> str:
        """What it renders, in one phrase: "The Letter · #3 shot 2"; "" when idle."""
        return " · ".join(part for part in (self.title, self.label) if part)


@dataclass(frozen=True)
class Cut:
    film: Path
    timeline: Path
    contact_sheet: Path
    takes: list[Take]  # in shot order
    approved: frozenset[int] = frozenset()  # ids of the takes the crew approved
    drafts: tuple[str, ...] = ()  # shots cut from their draft (no final rendered yet)
