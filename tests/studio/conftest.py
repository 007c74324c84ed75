"""Shared builders for the studio tests: small shot lists and a store on a temporary file."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from studio.models import Character, Location, Reference, Scene, Shot, ShotList, StyleBible
from studio.store import Store


def make_shotlist(count: int = 3, **fields: object) -> ShotList:
    """A numbered shot list of `count` shots in INT. KITCHEN - NIGHT, Mara in every shot."""
    scene = Scene(int_ext="INT", location="kitchen", time_of_day="NIGHT")
    shots = tuple(
        Shot(
            number=str(i),
            scene=scene,
            description=f"action {i}",
            characters=("Mara",),
            duration=2.0 + i,
        )
        for i in range(1, count + 1)
    )
    values: dict[str, object] = {
        "title": "Night Shift",
        "style": StyleBible(
            name="test look", description="grainy 16mm realism", negative="cartoon"
        ),
        "characters": (Character(name="Mara", description="a tired nurse in teal scrubs"),),
        "locations": (Location(name="KITCHEN", description="a cramped hospital break room"),),
        "shots": shots,
    }
    values.update(fields)
    return ShotList(**values)  # type: ignore[arg-type]


def make_reference(label: str = "mara", view: str = "front", **fields: object) -> Reference:
    """A reference whose sha256 is derived from `label` (distinct labels, distinct images)."""
    values: dict[str, object] = {
        "sha256": hashlib.sha256(label.encode()).hexdigest(),
        "view": view,
        "suffix": ".png",
        "width": 512,
        "height": 768,
        "source": "upload",
        "added_by": "ana",
    }
    values.update(fields)
    return Reference(**values)  # type: ignore[arg-type]


@pytest.fixture
def shotlist() -> ShotList:
    return make_shotlist()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "slate.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(db_path)
    try:
        yield store
    finally:
        await store.close()
