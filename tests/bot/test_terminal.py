"""The terminal front-end: hostile text prints as text, a failing command ends only itself, and
the user's lines are read safely."""

from __future__ import annotations

import errno
import io
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from bot.app import production
from bot.production import Production
from bot.settings import Settings
from bot.terminal import (
    MAX_RECORD_NUMBER,
    ChatSession,
    LineReader,
    record_number,
    show_direction,
)
from studio.errors import InvalidValue

HOSTILE = "Mia [bold]waits[/] in the alley [/] under a [red]lamp[/red] :smile: [link=x]."


@pytest.fixture
async def prod(tmp_path: Path) -> AsyncIterator[Production]:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    async with production(settings) as p:
        yield p


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, highlight=False, color_system=None), out


def session(prod: Production, tmp_path: Path) -> tuple[ChatSession, io.StringIO]:
    screen, out = console()
    return ChatSession(prod, screen, "you", database=tmp_path / "data" / "slate.db"), out


async def test_hostile_text_prints_as_text_and_the_project_reopens(
    prod: Production, tmp_path: Path
) -> None:
    chat, out = session(prod, tmp_path)
    await chat.start(HOSTILE + " Cole [/] arrives in a car.")
    assert "[/]" in out.getvalue()
    for line in ("shot 1: close-up", "[/]", "/approve [/]", "/revert [/]", "/history", "/show"):
        assert await chat.handle(line)
    # Stored, the text must not stop the project from opening again.
    again, out = session(prod, tmp_path)
    await again.resume(chat.project_id)
    assert "[bold]waits[/]" in out.getvalue() and ":smile:" in out.getvalue()


def test_a_model_reply_with_markup_prints_as_text() -> None:
    screen, out = console()
    turn: Any = SimpleNamespace(reply="Done [/] [bold]x", changes=["~ [/]shot 1"], notes=["[/]"])
    show_direction(screen, turn, "director ([/])")
    assert out.getvalue().splitlines() == [
        "Slate (director ([/])): Done [/] [bold]x",
        "~ [/]shot 1",
        "note: [/]",
    ]


@pytest.mark.parametrize(
    "failure",
    [
        FileNotFoundError(errno.ENOENT, "No such file or directory", "/renders/take-3.mp4"),
        IsADirectoryError(errno.EISDIR, "Is a directory", "/tmp/out"),
    ],
)
async def test_a_file_error_ends_only_that_command(
    prod: Production,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: OSError,
) -> None:
    chat, out = session(prod, tmp_path)
    await chat.start("Mia waits in the alley. Cole arrives.")

    async def cut(*args: object) -> None:  # as PyAV fails when a clip was deleted
        raise failure

    monkeypatch.setattr(prod, "cut", cut)
    assert await chat.handle("/cut")
    message = out.getvalue().splitlines()[-1]
    assert str(failure.filename) in message and str(failure.strerror) in message
    assert await chat.handle("shot 1: close-up")  # the chat goes on
    project = await prod.project("local", chat.project_id)
    assert project.shotlist.shots[0].size.value == "close-up"


async def test_numbers_beyond_sqlite_are_not_found(prod: Production, tmp_path: Path) -> None:
    chat, out = session(prod, tmp_path)
    await chat.start("Mia waits in the alley. Cole arrives.")
    huge = str(MAX_RECORD_NUMBER + 1)
    assert await chat.handle(f"/revert {huge}")
    assert out.getvalue().splitlines()[-1] == f"Project #{chat.project_id} has no version {huge}."
    assert await chat.handle(f"/approve 1 {'9' * 40}")
    assert out.getvalue().splitlines()[-1] == f"There is no take {'9' * 40} in this project."


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1),
        (" 42 ", 42),
        (str(MAX_RECORD_NUMBER), MAX_RECORD_NUMBER),
        (str(MAX_RECORD_NUMBER + 1), None),
        ("0", None),
        ("-3", None),
        ("³", None),
        ("1e3", None),
        ("", None),
    ],
)
def test_record_number(text: str, number: int | None) -> None:
    assert record_number(text) == number


async def test_a_line_that_is_not_utf8_is_named_and_skipped() -> None:
    stream = io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfMia waits.\nshot 1: \xff close-up\n/show\n"))
    reader = LineReader(stream)
    assert await reader.read("") == "Mia waits.\n"  # a leading BOM is not part of the brief
    with pytest.raises(InvalidValue, match="Line 2 is not valid UTF-8"):
        await reader.read("")
    assert await reader.read("") == "/show\n"
    assert await reader.read("") is None


async def test_piped_input_never_confirms() -> None:
    reader = LineReader(io.TextIOWrapper(io.BytesIO(b"y\n")))
    screen, _ = console()
    assert not await reader.confirm(screen, "Replace it?")


class Typed(io.StringIO):
    """A terminal: `isatty`, with what the user types fed through `input`."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "replaced"), [("y", True), ("yes", True), ("", False)])
async def test_at_a_terminal_an_existing_file_is_replaced_only_when_confirmed(
    prod: Production,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    replaced: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("builtins.input", lambda prompt="": answer)
    screen, out = console()
    chat = ChatSession(
        prod, screen, "you", database=tmp_path / "data" / "slate.db", reader=LineReader(Typed())
    )
    await chat.start("Mia waits in the alley. Cole arrives.")
    mine = tmp_path / "notes.md"
    mine.write_text("my notes")
    assert await chat.handle("/export md notes.md")
    assert "notes.md exists. Replace it? [y/N]" in out.getvalue()
    assert mine.read_text().startswith("# ") is replaced
    assert await chat.handle("/export md data/slate.db")  # never asked: refused outright
    assert "own project store" in out.getvalue().splitlines()[-1]
