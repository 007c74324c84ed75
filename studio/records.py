"""Records: what the store keeps of projects, their versions and conversation, and of render
jobs, batches and takes.

The request a job renders is the camera's business: the store keeps it as the JSON object the
camera gave (`request`), and only the production service reads its fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from studio.models import ShotList


@dataclass(frozen=True)
class Project:
    id: int
    scope: str
    owner: str
    head: int
    room: str | None
    shotlist: ShotList
    shotlist_message: str | None = None  # the room's pinned shot-list message

    @property
    def title(self) -> str:
        return self.shotlist.title


@dataclass(frozen=True)
class Version:
    number: int
    parent: int | None
    summary: str
    author: str
    created_at: str


@dataclass(frozen=True)
class Turn:
    role: str
    author: str
    content: str


class JobState(StrEnum):
    """A render job's state: one spelling for the store, the service's events and front-ends."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class NewJob:
    """A job to record with its batch."""

    id: str
    shot_uid: str
    shot_number: str
    fingerprint: str  # what the shot looks like to the camera; a take with it needs no render
    user: str
    priority: int
    request: dict[str, Any]


@dataclass(frozen=True)
class NewTake:
    """A finished render to record as a take of its job's shot."""

    project_id: int
    shot_uid: str
    fingerprint: str
    seed: int
    model: str
    request: dict[str, Any]
    clip: str
    poster: str
    seconds: float  # render time
    info: dict[str, Any] = field(default_factory=dict)  # the renderer's notes (see Take.info)


@dataclass(frozen=True)
class RenderJobRecord:
    id: str
    batch_id: str
    project_id: int
    shot_uid: str
    shot_number: str
    fingerprint: str
    user: str
    priority: int
    request: dict[str, Any]
    state: JobState
    reason: str | None
    take_id: int | None
    owner: str | None = None  # the process that holds the job (see `Store.claim_orphaned_jobs`)
    lease_until: float | None = None  # Unix time its hold runs out; None: nobody holds it


@dataclass(frozen=True)
class Take:
    id: int
    project_id: int
    shot_uid: str
    fingerprint: str
    seed: int
    model: str
    request: dict[str, Any]
    clip: str
    poster: str
    seconds: float
    message: str | None
    created_at: str
    # What the renderer said: the references it used (or that the model could not take them),
    # the camera move measured in the take against the one asked for, its speed-ups...
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    id: str
    project_id: int
    requested_by: str
    status_message: str | None
