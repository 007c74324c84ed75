from __future__ import annotations

import csv
import io
import json

import opentimelineio as otio
import pytest

from studio.errors import InvalidValue
from studio.export import FORMATS, export
from studio.models import Shot, ShotList
from tests.studio.conftest import make_shotlist


@pytest.fixture
def film() -> ShotList:
    shotlist = make_shotlist(3, logline="A long night.", target_length=15)
    shots = list(shotlist.shots)
    shots[1] = Shot(
        **{
            **shots[1].model_dump(),
            "size": "close-up",
            "movement": "dolly in",
            "speed": "slow",
            "lens_mm": 85,
            "characters": ("Mara", "Theo"),
            "dialogue": "Pipe | broken",
            "duration": 2.5,
        }
    )
    return shotlist.model_copy(update={"shots": tuple(shots)})


def test_json(film: ShotList) -> None:
    data = json.loads(export(film, "json"))
    assert data["title"] == "Night Shift"
    assert data["style"]["name"] == "test look"
    assert data["style"]["description"] == "grainy 16mm realism"
    assert data["cast"] == [{"name": "Mara", "description": "a tired nurse in teal scrubs"}]
    assert data["runtime"] == 3.0 + 2.5 + 5.0
    assert [s["number"] for s in data["shots"]] == ["1", "2", "3"]
    second = data["shots"][1]
    assert second["size"] == "close-up"
    assert second["angle"] == "eye level"
    assert second["movement"] == "slow dolly in"
    assert second["duration"] == 2.5
    assert second["description"] == "action 2"
    assert second["characters"] == ["Mara", "Theo"]
    assert second["uid"] == film.shots[1].uid
    assert second["scene"] == "INT. KITCHEN - NIGHT"


def test_markdown_table(film: ShotList) -> None:
    text = export(film, "md")
    assert text.startswith("# Night Shift\n")
    assert "_A long night._" in text
    assert "(target 15 s)" in text
    assert "- **Mara**: a tired nurse in teal scrubs" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 3
    assert rows[0] == (
        "| 1 | INT. KITCHEN - NIGHT | MS | eye level | static | 3s | action 1 | Mara |"
    )
    # A pipe in the dialogue is escaped so the table keeps its columns.
    assert rows[1] == (
        "| 2 | INT. KITCHEN - NIGHT | CU | eye level | slow dolly in | 2.5s | "
        'action 2 — "Pipe \\| broken" | Mara, Theo |'
    )


def test_csv_parses_back(film: ShotList) -> None:
    rows = list(csv.DictReader(io.StringIO(export(film, "csv"))))
    assert len(rows) == 3
    assert [r["number"] for r in rows] == ["1", "2", "3"]
    assert rows[1]["characters"] == "Mara; Theo"
    assert rows[1]["size"] == "close-up"
    assert float(rows[1]["duration"]) == 2.5
    assert rows[1]["lens_mm"] == "85"
    assert rows[1]["dialogue"] == "Pipe | broken"
    assert rows[2]["uid"] == film.shots[2].uid


def test_csv_of_an_empty_list_has_a_header() -> None:
    rows = list(csv.reader(io.StringIO(export(ShotList(), "csv"))))
    assert len(rows) == 1
    assert rows[0][:3] == ["number", "scene", "size"]


def test_otio_parses_back(film: ShotList) -> None:
    timeline = otio.adapters.read_from_string(export(film, "otio"), "otio_json")
    assert timeline.name == "Night Shift"
    assert timeline.metadata["slate"]["style"] == "test look"
    [track] = timeline.tracks
    clips = list(track)
    assert [c.name for c in clips] == ["Shot 1", "Shot 2", "Shot 3"]
    for clip, shot in zip(clips, film.shots, strict=True):
        assert clip.duration().to_seconds() == pytest.approx(shot.duration)
        assert clip.duration().rate == film.fps
        meta = clip.metadata["slate"]
        assert meta["uid"] == shot.uid
        assert meta["description"] == shot.description
        assert meta["size"] == shot.size.value
        assert list(meta["characters"]) == list(shot.characters)
        assert meta["duration"] == shot.duration
    assert track.duration().to_seconds() == pytest.approx(film.runtime)


@pytest.mark.parametrize("fmt", ["pdf", "", "JSON"])
def test_unknown_format(film: ShotList, fmt: str) -> None:
    with pytest.raises(InvalidValue, match="I can export md, csv, json, otio"):
        export(film, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_handles_an_empty_list(fmt: str) -> None:
    assert export(ShotList(), fmt)


def test_csv_cells_never_run_as_spreadsheet_formulas() -> None:
    import csv as _csv
    import io as _io

    from studio.edits import ShotChanges, UpdateShot, apply_edit
    from studio.export import to_csv
    from studio.models import Shot, ShotList

    shotlist = ShotList(shots=(Shot(description="placeholder"),))
    shotlist = apply_edit(
        shotlist,
        UpdateShot(
            shot="1",
            changes=ShotChanges(
                description='=HYPERLINK("http://example.invalid","x")', notes="@SUM(A1)"
            ),
        ),
    )
    row = next(_csv.DictReader(_io.StringIO(to_csv(shotlist))))
    assert row["description"].startswith("'=") and row["notes"].startswith("'@")
