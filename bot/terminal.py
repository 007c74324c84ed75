"""The terminal front-end: rich tables for the shot list, and the `slate chat` conversation.

Text that a user or a model wrote (briefs, directions, shot descriptions, replies, file names,
error messages) reaches rich only as `Text`, never as markup: a `[/]` in a brief is a bracket,
not a tag. Markup is kept for Slate's own fixed strings.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.files import check_output_file, file_error, write_atomically
from bot.production import DirectorTurn, JobSnapshot, Production, ProductionEvent, RenderBatch
from studio.errors import InvalidValue, NotFound, SlateError
from studio.export import FORMATS, to_json
from studio.models import ShotList
from studio.records import JobState

log = logging.getLogger(__name__)

LOCAL_SCOPE = "local"

# SQLite stores 64-bit signed integers: a project, version or take number above this is not one.
MAX_RECORD_NUMBER = 2**63 - 1

CHAT_HELP = """Talk to the director in plain words, e.g.
  shot 3: slow dolly-in, close-up · make shot 2 last 6 seconds · delete shot 5
  add a shot after 2: Mia opens the door · swap shots 1 and 2 · make it film noir
Commands: /show  /undo  /history  /revert N  /export md|csv|json|otio [FILE]
          /render [SHOTS]  /reroll N  /approve N [TAKE]  /cut  /storyboard  /help  /quit"""


def record_number(text: str) -> int | None:
    """A project, version or take number as typed: ASCII digits within SQLite's range, else None."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_RECORD_NUMBER else None


def slate_says(label: str, reply: str) -> Text:
    return Text.assemble(("Slate", "bold cyan"), " ", (f"({label})", "dim"), ": ", reply)


def note(text: str) -> Text:
    return Text(f"note: {text}", style="dim")


def problem(text: object) -> Text:
    return Text(str(text), style="red")


def shot_table(shotlist: ShotList) -> Table:
    target = f" / target {shotlist.target_length:g}s" if shotlist.target_length else ""
    table = Table(
        title=Text(shotlist.title),
        caption=Text(
            f"{len(shotlist.shots)} shots · {shotlist.runtime:g}s{target} · "
            f"style: {shotlist.style.name}"
        ),
        show_lines=False,
        expand=False,
    )
    for name, justify in (
        ("#", "right"),
        ("Scene", "left"),
        ("Size", "left"),
        ("Angle", "left"),
        ("Move", "left"),
        ("Dur", "right"),
        ("Action", "left"),
        ("Cast", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    scene = None
    for shot in shotlist.shots:
        slug = shot.scene.slugline if shot.scene != scene else ""
        scene = shot.scene
        action = shot.description + (f' "{shot.dialogue}"' if shot.dialogue else "")
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    shot.number,
                    slug,
                    shot.size.abbreviation,
                    shot.angle.value,
                    shot.move_label,
                    f"{shot.duration:g}s",
                    action,
                    ", ".join(shot.characters),
                )
            )
        )
    return table


def cast_table(shotlist: ShotList) -> Table | None:
    if not shotlist.characters:
        return None
    table = Table(title="Cast", show_header=False)
    table.add_column("Name", style="bold")
    table.add_column("Description")
    for character in shotlist.characters:
        table.add_row(Text(character.name), Text(character.description or "—"))
    return table


def diff_text(lines: list[str]) -> Text:
    colours = {"+": "green", "-": "red", "~": "yellow", "↕": "cyan", "*": "magenta"}
    text = Text()
    for line in lines:
        text.append(line + "\n", style=colours.get(line[:1], ""))
    return text


def show_direction(console: Console, direction: DirectorTurn, label: str) -> None:
    console.print(slate_says(label, direction.reply))
    if direction.changes:
        console.print(diff_text(direction.changes), end="")
    for text in direction.notes:
        console.print(note(text))


class LineReader:
    """The user's lines: typed at a terminal (after a prompt) or piped in.

    A line that is not valid UTF-8 raises `InvalidValue` naming it; the next read goes on with
    the following line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self.number = 0  # lines read so far

    async def read(self, prompt: str) -> str | None:
        """One line without blocking the event loop; None at end of input."""
        return await asyncio.to_thread(self._read, prompt)

    def _read(self, prompt: str) -> str | None:
        self.number += 1
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
            except UnicodeDecodeError:
                raise InvalidValue("That line is not valid UTF-8: type it again.") from None
        raw = getattr(self.stream, "buffer", None)
        if raw is None:  # a text stream with no bytes underneath (tests)
            return self.stream.readline() or None
        data: bytes = raw.readline()
        if not data:
            return None
        try:
            return data.decode("utf-8-sig" if self.number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise InvalidValue(
                f"Line {self.number} is not valid UTF-8 (byte {error.start + 1}): I skipped it."
            ) from None

    async def confirm(self, console: Console, question: str) -> bool:
        """Ask a yes/no question at the terminal; no means no, and so does piped input."""
        if not self.interactive:
            return False
        console.print(Text(f"{question} [y/N] "), end="")
        try:
            answer = await self.read("")
        except InvalidValue:
            return False
        return (answer or "").strip().lower() in ("y", "yes")


class ChatSession:
    """One terminal conversation about one project."""

    def __init__(
        self,
        production: Production,
        console: Console,
        author: str,
        *,
        database: Path,
        reader: LineReader | None = None,
    ) -> None:
        self.production = production
        self.console = console
        self.author = author
        self.database = database  # the store's file: never an export's target
        self.reader = reader  # asks before a file is replaced; None: never replace
        self.project_id: int | None = None
        self._commands: dict[str, Callable[[str], Awaitable[None]]] = {
            "show": self._show,
            "undo": self._undo,
            "history": self._history,
            "revert": self._revert,
            "export": self._export,
            "help": self._help,
            "render": self._render,
            "reroll": self._reroll,
            "approve": self._approve,
            "cut": self._cut,
            "storyboard": self._storyboard,
        }

    @property
    def label(self) -> str:
        return self.production.director_name

    async def start(self, brief: str, style: str | None = None) -> None:
        direction = await self.production.start_project(
            LOCAL_SCOPE, self.author, brief, style=style
        )
        self.project_id = direction.project.id
        self.console.print(slate_says(self.label, direction.reply))
        self._print_list(direction.project.shotlist)
        for text in direction.notes:
            self.console.print(note(text))

    async def resume(self, project_id: int | None) -> None:
        project = await self.production.project(LOCAL_SCOPE, project_id)
        self.project_id = project.id
        self.console.print(
            Text.assemble(f"Continuing project #{project.id}: ", (project.title, "bold"))
        )
        self._print_list(project.shotlist)

    async def handle(self, line: str) -> bool:
        """Handle one line; False when the user wants to leave. A failure ends only this line's
        command, with one line saying why; the conversation goes on."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit", "/q"):
            return False
        try:
            if line.startswith("/"):
                name, _, argument = line[1:].partition(" ")
                command = self._commands.get(name.lower())
                if command is None:
                    self.console.print(
                        Text.assemble(problem(f"Unknown command /{name}."), " ", CHAT_HELP)
                    )
                else:
                    await command(argument.strip())
                return True
            assert self.project_id is not None
            direction = await self.production.direct(
                LOCAL_SCOPE, self.project_id, self.author, line
            )
            show_direction(self.console, direction, self.label)
            ask = direction.render
            if ask is not None and ask.needs_confirmation:
                shots = " ".join(ask.shots)
                self.console.print(Text(f"{ask.reason} Type /render {shots} to start.".rstrip()))
            elif ask is not None and self.production.can_render:
                await self._render(" ".join(ask.shots))
        except SlateError as error:
            self.console.print(problem(error))
        except OSError as error:
            log.debug("file error in %r", line, exc_info=True)
            self.console.print(problem(file_error(error)))
        except Exception:
            log.exception("chat command %r failed", line)
            self.console.print(problem("Something went wrong with that; nothing else is lost."))
        return True

    def _print_list(self, shotlist: ShotList) -> None:
        self.console.print(shot_table(shotlist))
        cast = cast_table(shotlist)
        if cast is not None:
            self.console.print(cast)

    async def _show(self, _: str) -> None:
        assert self.project_id is not None
        self._print_list((await self.production.project(LOCAL_SCOPE, self.project_id)).shotlist)

    async def _undo(self, _: str) -> None:
        assert self.project_id is not None
        direction = await self.production.undo(LOCAL_SCOPE, self.project_id, self.author)
        show_direction(self.console, direction, self.label)

    async def _history(self, _: str) -> None:
        assert self.project_id is not None
        table = Table(title="History")
        for column in ("Version", "From", "Change", "By", "When"):
            table.add_column(column)
        project = await self.production.project(LOCAL_SCOPE, self.project_id)
        for version in await self.production.history(LOCAL_SCOPE, self.project_id):
            marker = " ◀" if version.number == project.head else ""
            table.add_row(
                f"{version.number}{marker}",
                str(version.parent or ""),
                Text(version.summary),
                Text(version.author),
                version.created_at[:19].replace("T", " "),
            )
        self.console.print(table)

    async def _revert(self, argument: str) -> None:
        assert self.project_id is not None
        if not argument:
            self.console.print(problem("Usage: /revert VERSION (see /history)."))
            return
        version = record_number(argument)
        if version is None:
            raise NotFound(f"Project #{self.project_id} has no version {argument}.")
        direction = await self.production.revert(LOCAL_SCOPE, self.project_id, version, self.author)
        show_direction(self.console, direction, self.label)

    async def _export(self, argument: str) -> None:
        assert self.project_id is not None
        fmt, _, target = argument.partition(" ")
        fmt, target = fmt or "md", target.strip()
        if fmt not in FORMATS:
            self.console.print(problem(f"Export formats: {', '.join(FORMATS)}."))
            return
        if not target:
            text = await self.production.export(LOCAL_SCOPE, self.project_id, fmt)
            self.console.print(text, markup=False, highlight=False, emoji=False)
            return
        out = await asyncio.to_thread(check_output_file, target, database=self.database)
        if out.exists:
            if self.reader is None or not self.reader.interactive:
                raise InvalidValue(
                    f"{out.shown} already exists: I won't replace it without asking. "
                    "Choose another name, or run slate chat at a terminal to confirm."
                )
            if not await self.reader.confirm(self.console, f"{out.shown} exists. Replace it?"):
                self.console.print(Text(f"Kept {out.shown} as it was."))
                return
        text = await self.production.export(LOCAL_SCOPE, self.project_id, fmt)
        await asyncio.to_thread(write_atomically, out.path, text)
        self.console.print(Text(f"Wrote {out.shown}"))

    async def _render(self, argument: str) -> None:
        assert self.project_id is not None
        shots = [part for part in argument.replace(",", " ").split() if part]
        batch = await self.production.render(LOCAL_SCOPE, self.project_id, self.author, shots)
        jobs = await render_with_progress(self.production, batch, self.console)
        for job in jobs:
            if job.state != "done":
                self.console.print(problem(f"Shot {job.shot_number}: {job.reason or job.state}"))

    async def _reroll(self, argument: str) -> None:
        assert self.project_id is not None
        batch = await self.production.reroll(LOCAL_SCOPE, self.project_id, self.author, argument)
        await render_with_progress(self.production, batch, self.console)

    async def _approve(self, argument: str) -> None:
        assert self.project_id is not None
        shot, _, take_text = argument.partition(" ")
        take_text = take_text.strip()
        if not shot:
            self.console.print(problem("Usage: /approve SHOT [TAKE]"))
            return
        take = None
        if take_text:
            take = record_number(take_text)
            if take is None:
                raise NotFound(f"There is no take {take_text} in this project.")
        approval = await self.production.approve(
            LOCAL_SCOPE, self.project_id, self.author, shot, take
        )
        card = approval.card
        self.console.print(
            Text(
                f"Approved take {card.number} of shot {card.shot_number} "
                f"(take #{card.take.id}, seed {card.take.seed})."
            )
        )

    async def _cut(self, _: str) -> None:
        assert self.project_id is not None
        cut = await self.production.cut(LOCAL_SCOPE, self.project_id)
        self.console.print(
            Text(
                f"Final cut: {cut.film}\nTimeline:  {cut.timeline}\nStoryboard: {cut.contact_sheet}"
            )
        )

    async def _storyboard(self, _: str) -> None:
        assert self.project_id is not None
        board = await self.production.storyboard(LOCAL_SCOPE, self.project_id)
        self.console.print(Text(f"Storyboard: {board}"))

    async def _help(self, _: str) -> None:
        self.console.print(Text(CHAT_HELP))

    async def final_json(self) -> str:
        assert self.project_id is not None
        return to_json((await self.production.project(LOCAL_SCOPE, self.project_id)).shotlist)


async def run_chat(
    production: Production,
    *,
    project_id: int | None,
    as_json: bool,
    style: str | None,
    database: Path,
    author: str = "you",
    stdin: TextIO | None = None,
) -> int:
    reader = LineReader(stdin or sys.stdin)
    interactive = reader.interactive
    # With --json, stdout carries only the final JSON; the conversation goes to stderr.
    console = Console(stderr=as_json, highlight=False)
    session = ChatSession(production, console, author, database=database, reader=reader)
    await show_resumed(production, console)
    if project_id is not None:
        await session.resume(project_id)
    else:
        if interactive:
            console.print(
                Text.assemble(
                    ("Slate", "bold"),
                    f" — {session.label}. Describe your film (one or two sentences).",
                )
            )
        while session.project_id is None:
            try:
                brief = await reader.read("brief> ")
            except SlateError as error:
                console.print(problem(error))
                if not interactive:
                    return 2
                continue
            if brief is None:
                console.print(problem("No brief given."))
                return 2
            if not brief.strip():
                continue
            if not interactive:
                console.print(Text.assemble(("brief>", "bold"), " ", brief.strip()))
            try:
                await session.start(brief, style)
            except SlateError as error:
                console.print(problem(error))
                if not interactive:
                    return 2
        if interactive:
            console.print(Text(CHAT_HELP, style="dim"))
    while True:
        try:
            line = await reader.read("you> ")
        except SlateError as error:
            console.print(problem(error))
            continue
        if line is None:
            break
        if not interactive and line.strip():
            console.print(Text.assemble(("you>", "bold"), " ", line.strip()))
        if not await session.handle(line):
            break
    if as_json:
        print(await session.final_json())
    return 0


async def show_resumed(production: Production, console: Console) -> None:
    """Say what this run took over from one that was killed, and show it to the end."""
    batches = await production.resumed_renders()
    count = sum(len(batch.jobs) for batch in batches)
    if count:
        plural = "s" if count > 1 else ""
        console.print(Text(f"Resuming {count} interrupted render{plural}.", style="bold"))
    for batch in batches:
        await render_with_progress(production, batch, console)


async def render_with_progress(
    production: Production, batch: RenderBatch, console: Console
) -> list[JobSnapshot]:
    """Show a progress bar per shot until the batch is done; returns its jobs' final state."""
    if batch.skipped:
        console.print(
            Text(f"Unchanged since their last take: shot {', '.join(batch.skipped)}", style="dim")
        )
    if batch.rendering:
        console.print(Text(f"Already rendering: shot {', '.join(batch.rendering)}", style="dim"))
    if not batch.jobs:
        return []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[state]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        tasks = {
            job_id: progress.add_task(escape(f"shot {number:>3}"), total=1, state="queued")
            for job_id, number in batch.jobs
        }

        def on_event(event: ProductionEvent) -> None:
            task = tasks.get(event.job_id)
            if task is None:
                return
            match event.state:
                case JobState.QUEUED:
                    progress.update(task, state=f"queued #{event.position}")
                case JobState.RUNNING if not event.total:
                    progress.update(task, state="rendering")
                case JobState.RUNNING:
                    progress.update(
                        task,
                        total=event.total,
                        completed=event.step,
                        state=f"step {event.step}/{event.total}",
                    )
                case JobState.DONE:
                    seconds = event.take.seconds if event.take else 0.0
                    state = "cached" if event.cache_hit else f"done in {seconds:.1f}s"
                    progress.update(task, completed=progress.tasks[task].total, state=state)
                case _:
                    progress.update(task, state=f"[red]{event.state}[/]")

        production.add_listener(on_event)
        try:
            return await production.wait(batch.id)
        finally:
            production.remove_listener(on_event)
