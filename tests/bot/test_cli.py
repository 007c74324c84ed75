"""The `slate` console script end to end, as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SLATE = shutil.which("slate", path=str(Path(sys.executable).parent)) or "slate"
BRIEF = (
    "A 30-second noir teaser. Night in a rain-soaked alley: Mia, a red-haired detective, "
    "waits under a flickering lamp. Cole steps out of a car holding a letter. "
    "Inside the diner, Mia reads the letter and realises she has been set up."
)


def slate(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLATE_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    env.pop("SLATE_LLM_MODEL", None)
    return subprocess.run(
        [SLATE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_plan_json(tmp_path: Path) -> None:
    result = slate(tmp_path, "plan", BRIEF, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"title", "style", "cast", "shots"} <= data.keys()
    assert {c["name"] for c in data["cast"]} >= {"Mia", "Cole"}
    for shot in data["shots"]:
        assert {
            "number",
            "size",
            "angle",
            "movement",
            "duration",
            "description",
            "characters",
        } <= shot.keys()
    assert sum(s["duration"] for s in data["shots"]) == pytest.approx(30, abs=0.5)
    assert data["style"]["name"] == "film noir"


def test_plan_prints_a_table(tmp_path: Path) -> None:
    result = slate(tmp_path, "plan", BRIEF)
    assert result.returncode == 0, result.stderr
    assert "Saved as project #1" in result.stdout and "offline director" in result.stdout
    assert "WS" in result.stdout or "EWS" in result.stdout


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (["plan", "Mia waits in the alley.", "--json"], ""),
        (["chat", "--json"], "Mia waits in the alley.\nshot 1: close-up\n/render\n"),
    ],
)
def test_plan_and_chat_do_not_import_the_gpu_stack(
    tmp_path: Path, argv: list[str], stdin: str
) -> None:
    code = (
        f"import sys; from bot.cli import main; code = main({argv!r});"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules];"
        "print('EXIT', code, 'HEAVY', heavy, file=sys.stderr)"
    )
    env = {**os.environ, "SLATE_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, env=env
    )
    assert "EXIT 0 HEAVY []" in result.stderr, result.stderr


def test_chat_from_a_pipe(tmp_path: Path) -> None:
    script = (
        "\n".join(
            [
                BRIEF,
                "shot 3: close-up",
                "make shot 2 a slow dolly in",
                "delete shot 1",
                "undo",
                "/history",
                "flibbertigibbet",
            ]
        )
        + "\n"
    )
    result = slate(tmp_path, "chat", "--json", stdin=script)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    shots = {s["number"]: s for s in data["shots"]}
    assert shots["3"]["size"] == "close-up"
    assert shots["2"]["movement"] == "slow dolly in"
    assert "History" in result.stderr and "undo" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_formats(tmp_path: Path) -> None:
    assert slate(tmp_path, "plan", BRIEF).returncode == 0
    md = slate(tmp_path, "export", "--format", "md").stdout
    assert md.startswith("# ") and "| # |" in md
    rows = list(csv.DictReader(io.StringIO(slate(tmp_path, "export", "--format", "csv").stdout)))
    assert rows and rows[0]["number"] == "1"
    out = tmp_path / "cut.otio"
    assert slate(tmp_path, "export", "--format", "otio", "--out", str(out)).returncode == 0
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(out))
    assert len(list(timeline.find_clips())) == len(rows)


def test_export_without_a_project_is_a_clear_error(tmp_path: Path) -> None:
    result = slate(tmp_path, "export", "--format", "md")
    assert result.returncode == 2
    assert "no project yet" in result.stderr and "Traceback" not in result.stderr


def test_demo_writes_the_film(tmp_path: Path) -> None:
    out = tmp_path / "film"
    result = slate(tmp_path, "demo", BRIEF, "--out", str(out))
    assert result.returncode == 0, result.stderr + result.stdout
    for name in (
        "index.html",
        "final-cut.mp4",
        "final-cut.otio",
        "contact-sheet.png",
        "shotlist.md",
    ):
        assert (out / name).exists(), name
    clips = sorted((out / "shots").glob("*.mp4"))
    assert clips and len(clips) == len(sorted((out / "shots").glob("*.png")))
    assert "review page" in result.stdout


def test_demo_with_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    result = slate(tmp_path, "demo", BRIEF, "--model", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "no model folder" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_setting_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "SLATE_DATA_DIR": str(tmp_path / "data"), "SLATE_RENDER_WORKERS": "abc"}
    result = subprocess.run(
        [SLATE, "projects"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith("slate: SLATE_RENDER_WORKERS: ") and "'abc'" in result.stderr
    assert "Traceback" not in result.stderr and "pydantic" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_secret_is_not_echoed() -> None:
    from pydantic import SecretStr, ValidationError
    from pydantic_settings import BaseSettings

    from bot.cli import settings_errors

    class Secretive(BaseSettings):
        discord_token: SecretStr
        render_workers: int

    with pytest.raises(ValidationError) as caught:
        Secretive(discord_token=["not", "a", "string"], render_workers="x")  # type: ignore[arg-type]
    lines = settings_errors(caught.value)
    assert lines[0].startswith("SLATE_DISCORD_TOKEN:") and "not" not in lines[0].split(":", 1)[1]
    assert lines[1].startswith("SLATE_RENDER_WORKERS:") and "'x'" in lines[1]


def test_demo_on_a_full_disk_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    from bot.cli import main

    def full(*args: object, **kwargs: object) -> Path:
        raise OSError(
            errno.ENOSPC, "No space left on device", str(tmp_path / "film" / "index.html")
        )

    monkeypatch.setenv("SLATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SLATE_LLM_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.demo.write_review_page", full)
    assert (
        main(["demo", "Mia waits in the alley. Cole arrives.", "--out", str(tmp_path / "film")])
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("slate: the disk is full") and "index.html" in err
    assert "Traceback" not in err
