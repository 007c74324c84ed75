"""Where an export may land: never on the store, never silently over a file; written atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.files import UnsafeOutput, check_output_file, write_atomically


@pytest.fixture
def database(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    db = data / "slate.db"
    db.write_bytes(b"SQLite format 3\x00")
    (data / "slate.db-wal").write_bytes(b"wal")
    return db


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_the_store_and_its_side_files_are_refused(database: Path, suffix: str) -> None:
    with pytest.raises(UnsafeOutput, match="own project store"):
        check_output_file(f"{database}{suffix}", database=database)


def test_the_store_is_refused_by_any_name(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = Path("data/slate.db")  # the configured path as the settings hold it
    (tmp_path / "link.db").symlink_to(database)
    os.link(database, tmp_path / "hard.db")
    for name in ("data/slate.db", "./data/../data/slate.db-wal", "link.db", "hard.db"):
        with pytest.raises(UnsafeOutput):
            check_output_file(name, database=relative)
    with pytest.raises(UnsafeOutput):  # and when the configured path is itself a link
        check_output_file(database, database=tmp_path / "link.db")


def test_folders_and_missing_folders_are_refused(database: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsafeOutput, match="is a folder"):
        check_output_file(tmp_path, database=database)
    with pytest.raises(UnsafeOutput, match="no folder"):
        check_output_file(tmp_path / "nowhere" / "x.md", database=database)
    with pytest.raises(UnsafeOutput, match="not a plain file"):
        check_output_file("/dev/null", database=database)


def test_an_existing_file_is_reported(database: Path, tmp_path: Path) -> None:
    existing = tmp_path / "shots.md"
    existing.write_text("mine")
    assert check_output_file(existing, database=database).exists
    fresh = check_output_file(tmp_path / "new.md", database=database)
    assert not fresh.exists and fresh.path == (tmp_path / "new.md").resolve()


def test_write_atomically_replaces_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "shots.md"
    target.write_text("old")
    target.chmod(0o640)
    write_atomically(target, "new — ü\n")
    assert target.read_text(encoding="utf-8") == "new — ü\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shots.md"]


def test_a_failed_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "shots.md"
    target.write_text("old")

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shots.md"]


def test_a_write_error_names_the_users_file(tmp_path: Path) -> None:
    target = tmp_path / "gone" / "shots.md"
    with pytest.raises(FileNotFoundError) as caught:
        write_atomically(target, "x")
    assert caught.value.filename == str(target)


@pytest.mark.parametrize("name", ["out\x00.md", "out\x1b[2J.md", "a\nb.md"])
def test_control_characters_in_a_file_name_are_refused(database: Path, name: str) -> None:
    with pytest.raises(UnsafeOutput, match="control characters"):
        check_output_file(name, database=database)
