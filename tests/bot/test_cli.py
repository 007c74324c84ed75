"""The `slate` console script end to end, as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
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
    assert err.startswith("slate: The disk is full") and "index.html" in err
    assert "Traceback" not in err


def slate_raw(
    tmp_path: Path, *args: str | bytes, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`slate` with bytes in and out: for input that is not valid UTF-8."""
    environ = {
        **os.environ,
        "SLATE_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
        **(env or {}),
    }
    environ.pop("SLATE_LLM_MODEL", None)
    return subprocess.run(
        [SLATE, *args], input=stdin, capture_output=True, env=environ, cwd=tmp_path, timeout=120
    )


def store_is_whole(tmp_path: Path) -> None:
    db = tmp_path / "data" / "slate.db"
    assert db.read_bytes().startswith(b"SQLite format 3\x00")
    listed = slate(tmp_path, "projects")
    assert listed.returncode == 0 and listed.stdout.startswith("#1\t"), listed.stderr


def test_chat_never_exports_over_the_store(tmp_path: Path) -> None:
    (tmp_path / "link.db").symlink_to(tmp_path / "data" / "slate.db")
    script = "\n".join(
        [
            BRIEF,
            "/export md data/slate.db",
            "/export md data/slate.db-wal",
            f"/export md {tmp_path}/data/../data/slate.db-shm",
            "/export md link.db",
            "shot 1: close-up",
        ]
    )
    result = slate(tmp_path, "chat", "--json", stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("own project store") == 4
    assert json.loads(result.stdout)["shots"][0]["size"] == "close-up"
    store_is_whole(tmp_path)


def test_export_never_writes_over_a_file_unasked(tmp_path: Path) -> None:
    assert slate(tmp_path, "plan", BRIEF).returncode == 0
    mine = tmp_path / "notes.md"
    mine.write_text("my notes")
    refused = slate(tmp_path, "export", "--out", "notes.md", stdin="y\n")
    assert refused.returncode == 2 and mine.read_text() == "my notes"
    assert (
        refused.stderr.startswith("slate: notes.md already exists") and "--force" in refused.stderr
    )
    forced = slate(tmp_path, "export", "--out", "notes.md", "--force")
    assert forced.returncode == 0 and mine.read_text().startswith("# ")
    for store in ("data/slate.db", "data/slate.db-wal"):
        result = slate(tmp_path, "export", "--out", store, "--force")
        assert result.returncode == 2 and "own project store" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    store_is_whole(tmp_path)
    chat = slate(tmp_path, "chat", "--project", "1", stdin="/export md notes.md\n")
    assert "notes.md already exists" in chat.stderr + chat.stdout and chat.returncode == 0


def test_a_file_error_in_chat_ends_only_that_command(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    script = "\n".join(
        [BRIEF, "/export md folder", "/export md nowhere/shots.md", "shot 1: close-up", "/show"]
    )
    result = slate(tmp_path, "chat", "--json", stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    assert "folder is a folder" in result.stderr and "no folder nowhere" in result.stderr
    assert json.loads(result.stdout)["shots"][0]["size"] == "close-up"
    assert "Traceback" not in result.stderr


def test_markup_in_a_brief_is_only_text(tmp_path: Path) -> None:
    hostile = "Mia [bold]waits[/] in the alley [/]. Cole [red]steps out of a car."
    planned = slate(tmp_path, "plan", hostile)
    assert planned.returncode == 0, planned.stderr
    assert "[/]" in planned.stdout
    chat = slate(tmp_path, "chat", "--project", "1", stdin="shot 1: [/] close-up\n/history\n")
    assert chat.returncode == 0 and "Traceback" not in chat.stderr, chat.stderr
    assert "Continuing project #1" in chat.stdout and "[/]" in chat.stdout


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (["export", "--project", str(10**30)], ""),
        (["chat", "--project", str(2**63)], ""),
        (["export", "--project", "0"], ""),
    ],
)
def test_a_project_number_beyond_sqlite_is_one_clear_line(
    tmp_path: Path, argv: list[str], stdin: str
) -> None:
    result = slate(tmp_path, *argv, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.startswith(f"slate: There is no project #{argv[-1]}")
    assert len(result.stderr.splitlines()) == 1


def test_huge_numbers_in_chat_are_not_found(tmp_path: Path) -> None:
    huge = "9" * 30
    script = "\n".join(
        [BRIEF, f"/revert {huge}", "/revert ³", f"/approve 1 {huge}", "shot 1: close-up"]
    )
    result = slate(tmp_path, "chat", "--json", stdin=script + "\n")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert f"has no version {huge}" in result.stderr and "has no version ³" in result.stderr
    assert f"no take {huge}" in result.stderr
    assert json.loads(result.stdout)["shots"][0]["size"] == "close-up"


def test_text_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    brief = BRIEF.encode()
    argument = slate_raw(tmp_path, "plan", b"Mia \xff waits in the alley.")
    assert argument.returncode == 2
    assert (
        argument.stderr
        == b"slate: the brief argument is not valid UTF-8: check the terminal's encoding.\n"
    )

    piped = slate_raw(
        tmp_path, "chat", "--json", stdin=brief + b"\nshot 1: \xff\nshot 1: close-up\n"
    )
    assert piped.returncode == 0, piped.stderr
    assert b"Line 2 is not valid UTF-8" in piped.stderr and b"Traceback" not in piped.stderr
    assert json.loads(piped.stdout)["shots"][0]["size"] == "close-up"

    bad_brief = slate_raw(tmp_path, "chat", stdin=b"Mia \xff waits.\n")
    assert bad_brief.returncode == 2 and b"Line 1 is not valid UTF-8" in bad_brief.stdout

    (tmp_path / ".env").write_bytes(b"SLATE_RENDERER=animatic\nSLATE_MODEL=\xff\n")
    dotenv = slate_raw(tmp_path, "projects")
    assert dotenv.returncode == 2
    assert dotenv.stderr.startswith(b"slate: the .env file is not valid UTF-8: ")
    assert len(dotenv.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SLATE_LLM_TIMEOUT_S", "nan"), ("SLATE_LLM_TIMEOUT_S", "-1"), ("SLATE_MODEL", "")],
)
def test_a_bad_number_or_empty_model_setting_is_one_clear_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = slate_raw(tmp_path, "projects", env={variable: value})
    assert result.returncode == 2
    assert result.stderr.startswith(f"slate: {variable}: ".encode())
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "slate.db").exists()


def test_projects_lists_the_rest_and_names_a_damaged_one(tmp_path: Path) -> None:
    for brief in (BRIEF, "A 20-second teaser. At dawn a chef cooks breakfast in a small kitchen."):
        assert slate(tmp_path, "plan", brief).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "slate.db") as db:
        db.execute('UPDATE versions SET snapshot = \'{"title": "Da\' WHERE project_id = 1')
    result = slate(tmp_path, "projects")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("#2\t") and "damaged" in lines[-1] and lines[-1].startswith("#1\t")


def test_a_model_not_in_the_cache_is_said_once_whole_with_the_fix(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SLATE_DATA_DIR": str(tmp_path / "data"),
        "SLATE_RENDERER": "diffusers",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),  # an empty cache
    }
    env.pop("SLATE_LLM_MODEL", None)
    result = subprocess.run(
        [SLATE, "chat"],
        input="Mia waits in the alley. Cole arrives. Mia reads the letter.\n/render\n",
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "400"},
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if "local Hugging Face cache" in line]
    assert len(said) == 1, result.stdout
    assert said[0].startswith("Shots 1, 2, 3")  # every shot failed alike: one line names them all
    assert said[0].endswith("or render the animatic (SLATE_RENDERER=animatic).")
    assert "slate models pull wan2.1-1.3b" in said[0]
    assert "Couldn't connect to the Hub" not in result.stdout + result.stderr


def test_cast_image_in_the_terminal(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (320, 400), "#c04030").save(tmp_path / "mia.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    assert slate(tmp_path, "plan", BRIEF).returncode == 0
    added = slate(tmp_path, "cast", "image", "Mia", "mia.png")
    assert added.returncode == 0, added.stderr
    assert "Mia has a new front reference" in added.stdout and "render" in added.stdout
    listed = slate(tmp_path, "cast")
    assert "Mia" in listed.stdout and "front" in listed.stdout
    refused = slate(tmp_path, "cast", "image", "Mia", "notes.txt")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "image" in refused.stderr.lower()
    nobody = slate(tmp_path, "cast", "image", "Zed", "mia.png")
    assert nobody.returncode == 2 and "There is no Zed" in nobody.stderr


def test_demo_with_a_cast_of_references(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (320, 400), "#c04030").save(tmp_path / "mia.png")
    result = slate(tmp_path, "demo", BRIEF, "--out", "film", "--cast", "Mia=mia.png")
    assert result.returncode == 0, result.stderr
    assert "Mia has a new front reference" in result.stdout
    page = (tmp_path / "film" / "index.html").read_text(encoding="utf-8")
    assert "references: used: Mia (front)" in page
    bad = slate(tmp_path, "demo", BRIEF, "--out", "film2", "--cast", "Mia")
    assert bad.returncode == 2 and "NAME=IMAGE" in bad.stderr and not (tmp_path / "film2").exists()


def _farm_status(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from bot.cli import main; sys.exit(main(['farm', 'status']))"
    if env.pop("NO_RAY", None):
        code = "import sys; sys.modules['ray'] = None; " + code
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "SLATE_DATA_DIR": str(tmp_path / "data"), **env},
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )


def test_farm_status_lists_the_ray_workers(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    # "local": an instance of its own, whatever else runs Ray on this machine.
    result = _farm_status(
        tmp_path, SLATE_RENDER_BACKEND="ray", SLATE_RENDER_WORKERS="2", SLATE_RAY_ADDRESS="local"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "No bot renders on a local Ray instance now. A bot would get 2 worker(s), one per CPU slot:"
    )
    assert lines[1].split() == ["worker", "machine", "slot", "models", "rendering"]
    workers = sorted(line.split()[0] for line in lines[2:])
    assert workers == ["ray-0", "ray-1"] and all(line.endswith("idle") for line in lines[2:])
    assert result.stderr.strip() == ""  # Ray's own chatter stays out of the way


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"SLATE_RENDER_BACKEND": "local"}, "No render farm: renders run on 1 worker thread(s)"),
        ({"SLATE_RENDER_BACKEND": "ray", "NO_RAY": "1"}, "slate: The Ray render farm needs Ray"),
        (  # nothing listens there, whatever else runs Ray on this machine; one try of 1 s
            {
                "SLATE_RENDER_BACKEND": "ray",
                "SLATE_RAY_ADDRESS": "ray://127.0.0.1:1",
                "RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S": "1",
                "RAY_CLIENT_MAX_CONNECTION_TIMEOUT_S": "1",
            },
            "cannot be reached",
        ),
    ],
    ids=["local", "no-ray", "no-cluster"],
)
def test_farm_status_without_a_farm_is_one_clear_line(
    tmp_path: Path, env: dict[str, str], said: str
) -> None:
    if "NO_RAY" not in env and env["SLATE_RENDER_BACKEND"] == "ray":
        pytest.importorskip("ray")
    result = _farm_status(tmp_path, **env, RAY_ADDRESS="")
    out = (result.stdout + result.stderr).strip()
    assert said in out and len(out.splitlines()) == 1, out
    assert result.returncode == (0 if env["SLATE_RENDER_BACKEND"] == "local" else 1)
