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


NOIR = (
    "A 30-second noir teaser. Night in a rain-soaked alley: Mia, a red-haired detective in a "
    "grey trench coat, waits under a flickering lamp. A car pulls up and Cole steps out holding "
    "a letter. Inside the diner, Mia reads the letter and realises she has been set up."
)


def _shown(renderable: Any, width: int) -> list[str]:
    screen = Console(width=width, record=True, color_system=None, file=io.StringIO())
    screen.print(renderable)
    return screen.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 100, 200])
async def test_the_shot_table_fits_the_terminal_and_keeps_words_whole(
    prod: Production, width: int
) -> None:
    from bot.terminal import shot_table

    shotlist = (await prod.start_project("local", "you", NOIR)).project.shotlist
    lines = _shown(shot_table(shotlist), width)
    assert all(len(line) <= width for line in lines)
    words = {word for line in lines for word in line.replace("│", " ").split()}
    for shot in shotlist.shots:  # no word cut or ellipsised: every column fits its longest word
        for word in (shot.description + " " + shot.move_label + " " + shot.scene.slugline).split():
            assert word in words or word.rstrip(".") in words, (word, "\n".join(lines))
    # The action gets room: no row holds a single word of it on a line of its own.
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) <= 3 * len(shotlist.shots)
    if width >= 200:
        assert "Scene" in lines[2] and "Cast" in lines[2]  # the full layout when there is room
    if width == 80:
        assert "Camera" in "".join(lines[:3])


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        ("**The Letter** is ready.", "The Letter is ready."),
        ("## Plan\nShot *two* is `/render 2`.", "Plan\nShot two is /render 2."),
        ("shot_2 and 2*3*4 stay; [/] stays", "shot_2 and 2*3*4 stay; [/] stays"),
    ],
)
def test_replies_show_no_raw_markdown(reply: str, shown: str) -> None:
    from bot.terminal import markdown_text, slate_says

    text = markdown_text(reply)
    assert text.plain == shown
    if "**" in reply:
        assert any("bold" in str(span.style) for span in text.spans)
    assert _shown(slate_says("d", reply), 200)[0].endswith(shown.splitlines()[0])


async def test_history_names_shots_by_number(prod: Production, tmp_path: Path) -> None:
    chat, out = session(prod, tmp_path)
    await chat.start("Mia waits in the alley. Cole arrives. Mia reads a letter.")
    for line in ("shot 2: close-up", "swap shots 1 and 2", "delete shot 3", "/history"):
        assert await chat.handle(line)
    history = out.getvalue()[out.getvalue().rindex("History") :]
    import re

    assert not re.search(r"\b[0-9a-f]{8}\b", history), history
    assert "shot 1: size=close-up" in history  # shot 2 then, shot 1 after the swap
    assert "swap shots 2 and 1" in history and "remove shot (deleted)" in history


def test_a_reason_every_shot_shares_is_said_once() -> None:
    from bot.terminal import failures

    reason = "The model is not in the local cache: slate models pull wan2.1-1.3b."
    jobs: Any = [
        SimpleNamespace(shot_number=str(n), state="failed", reason=reason) for n in (1, 2, 3)
    ] + [
        SimpleNamespace(shot_number="4", state="done", reason=None),
        SimpleNamespace(shot_number="5", state="cancelled", reason=None),
    ]
    assert failures(jobs) == [f"Shots 1, 2, 3: {reason}", "Shot 5: cancelled"]
