"""The terminal front-end: rich tables for the shot list, and the `slate chat` conversation."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.service import DirectorTurn, Production, ProductionEvent, RenderBatch
from studio.errors import SlateError
from studio.export import FORMATS, to_json
from studio.models import ShotList
from studio.store import RenderJobRecord

LOCAL_SCOPE = "local"

CHAT_HELP = """Talk to the director in plain words, e.g.
  shot 3: slow dolly-in, close-up · make shot 2 last 6 seconds · delete shot 5
  add a shot after 2: Mia opens the door · swap shots 1 and 2 · make it film noir
Commands: /show  /undo  /history  /revert N  /export md|csv|json|otio [FILE]
          /render [SHOTS]  /reroll N  /approve N [TAKE]  /cut  /storyboard  /help  /quit"""


def shot_table(shotlist: ShotList) -> Table:
    target = f" / target {shotlist.target_length:g}s" if shotlist.target_length else ""
    table = Table(
        title=f"{shotlist.title}",
        caption=f"{len(shotlist.shots)} shots · {shotlist.runtime:g}s{target} · style: {shotlist.style.name}",
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
            shot.number,
            slug,
            shot.size.abbreviation,
            shot.angle.value,
            shot.move_label,
            f"{shot.duration:g}s",
            action,
            ", ".join(shot.characters),
        )
    return table


def cast_table(shotlist: ShotList) -> Table | None:
    if not shotlist.characters:
        return None
    table = Table(title="Cast", show_header=False)
    table.add_column("Name", style="bold")
    table.add_column("Description")
    for character in shotlist.characters:
        table.add_row(character.name, character.description or "—")
    return table


def diff_text(lines: list[str]) -> Text:
    colours = {"+": "green", "-": "red", "~": "yellow", "↕": "cyan", "*": "magenta"}
    text = Text()
    for line in lines:
        text.append(line + "\n", style=colours.get(line[:1], ""))
    return text


def show_direction(console: Console, direction: DirectorTurn, label: str) -> None:
    console.print(f"[bold cyan]Slate[/] [dim]({label})[/]: {direction.reply}")
    if direction.changes:
        console.print(diff_text(direction.changes), end="")
    for note in direction.notes:
        console.print(f"[dim]note: {note}[/]")


class ChatSession:
    """One terminal conversation about one project."""

    def __init__(self, production: Production, console: Console, author: str) -> None:
        self.production = production
        self.console = console
        self.author = author
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
        return self.production.director.name

    async def start(self, brief: str, style: str | None = None) -> None:
        direction = await self.production.start_project(
            LOCAL_SCOPE, self.author, brief, style=style
        )
        self.project_id = direction.project.id
        self.console.print(f"[bold cyan]Slate[/] [dim]({self.label})[/]: {direction.reply}")
        self._print_list(direction.project.shotlist)
        for note in direction.notes:
            self.console.print(f"[dim]note: {note}[/]")

    async def resume(self, project_id: int | None) -> None:
        project = await self.production.project(LOCAL_SCOPE, project_id)
        self.project_id = project.id
        self.console.print(f"Continuing project #{project.id}: [bold]{project.title}[/]")
        self._print_list(project.shotlist)

    async def handle(self, line: str) -> bool:
        """Handle one line; False when the user wants to leave."""
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
                    self.console.print(f"[red]Unknown command /{name}.[/] {CHAT_HELP}")
                else:
                    await command(argument.strip())
                return True
            assert self.project_id is not None
            direction = await self.production.direct(
                LOCAL_SCOPE, self.project_id, self.author, line
            )
            show_direction(self.console, direction, self.label)
            if direction.render is not None and self.production.pool is not None:
                await self._render(" ".join(direction.render.shots))
        except SlateError as error:
            self.console.print(f"[red]{error}[/]")
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
                version.summary,
                version.author,
                version.created_at[:19].replace("T", " "),
            )
        self.console.print(table)

    async def _revert(self, argument: str) -> None:
        assert self.project_id is not None
        if not argument.isdigit():
            self.console.print("[red]Usage: /revert VERSION (see /history).[/]")
            return
        direction = await self.production.revert(
            LOCAL_SCOPE, self.project_id, int(argument), self.author
        )
        show_direction(self.console, direction, self.label)

    async def _export(self, argument: str) -> None:
        assert self.project_id is not None
        fmt, _, target = argument.partition(" ")
        fmt = fmt or "md"
        if fmt not in FORMATS:
            self.console.print(f"[red]Export formats: {', '.join(FORMATS)}.[/]")
            return
        text = await self.production.export(LOCAL_SCOPE, self.project_id, fmt)
        if target.strip():
            path = Path(target.strip())
            await asyncio.to_thread(path.write_text, text, encoding="utf-8")
            self.console.print(f"Wrote {path}")
        else:
            self.console.print(text, markup=False, highlight=False)

    async def _render(self, argument: str) -> None:
        assert self.project_id is not None
        shots = [part for part in argument.replace(",", " ").split() if part]
        batch = await self.production.render(LOCAL_SCOPE, self.project_id, self.author, shots)
        jobs = await render_with_progress(self.production, batch, self.console)
        for job in jobs:
            if job.state != "done":
                self.console.print(f"[red]Shot {job.shot_number}: {job.reason or job.state}[/]")

    async def _reroll(self, argument: str) -> None:
        assert self.project_id is not None
        batch = await self.production.reroll(LOCAL_SCOPE, self.project_id, self.author, argument)
        await render_with_progress(self.production, batch, self.console)

    async def _approve(self, argument: str) -> None:
        assert self.project_id is not None
        shot, _, take = argument.partition(" ")
        if not shot:
            self.console.print("[red]Usage: /approve SHOT [TAKE][/]")
            return
        chosen = await self.production.approve(
            LOCAL_SCOPE,
            self.project_id,
            self.author,
            shot,
            int(take) if take.strip().isdigit() else None,
        )
        self.console.print(f"Approved take {chosen.id} of shot {shot} (seed {chosen.seed}).")

    async def _cut(self, _: str) -> None:
        assert self.project_id is not None
        cut = await self.production.cut(LOCAL_SCOPE, self.project_id)
        self.console.print(
            f"Final cut: {cut.film}\nTimeline:  {cut.timeline}\nStoryboard: {cut.contact_sheet}"
        )

    async def _storyboard(self, _: str) -> None:
        assert self.project_id is not None
        self.console.print(
            f"Storyboard: {await self.production.storyboard(LOCAL_SCOPE, self.project_id)}"
        )

    async def _help(self, _: str) -> None:
        self.console.print(CHAT_HELP)

    async def final_json(self) -> str:
        assert self.project_id is not None
        return to_json((await self.production.project(LOCAL_SCOPE, self.project_id)).shotlist)


async def read_line(prompt: str, stream: TextIO) -> str | None:
    """Read one line without blocking the event loop; None at end of input."""

    def _read() -> str | None:
        if stream.isatty():
            try:
                return input(prompt)
            except EOFError:
                return None
        line = stream.readline()
        return line if line else None

    return await asyncio.to_thread(_read)


async def run_chat(
    production: Production,
    *,
    project_id: int | None,
    as_json: bool,
    style: str | None,
    author: str = "you",
) -> int:
    interactive = sys.stdin.isatty()
    # With --json, stdout carries only the final JSON; the conversation goes to stderr.
    console = Console(stderr=as_json, highlight=False)
    session = ChatSession(production, console, author)
    if project_id is not None:
        await session.resume(project_id)
    else:
        if interactive:
            console.print(
                f"[bold]Slate[/] — {session.label}. Describe your film (one or two sentences)."
            )
        while session.project_id is None:
            brief = await read_line("brief> ", sys.stdin)
            if brief is None:
                console.print("[red]No brief given.[/]")
                return 2
            if not brief.strip():
                continue
            if not interactive:
                console.print(f"[bold]brief>[/] {brief.strip()}")
            try:
                await session.start(brief, style)
            except SlateError as error:
                console.print(f"[red]{error}[/]")
                if not interactive:
                    return 2
        if interactive:
            console.print(CHAT_HELP, style="dim")
    while True:
        line = await read_line("you> ", sys.stdin)
        if line is None:
            break
        if not interactive and line.strip():
            console.print(f"[bold]you>[/] {line.strip()}", markup=True)
        if not await session.handle(line):
            break
    if as_json:
        print(await session.final_json())
    return 0


async def render_with_progress(
    production: Production, batch: RenderBatch, console: Console
) -> list[RenderJobRecord]:
    """Show a progress bar per shot until the batch is done; returns its jobs' final records."""
    if batch.skipped:
        console.print(f"[dim]Unchanged since their last take: shot {', '.join(batch.skipped)}[/]")
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
            job_id: progress.add_task(f"shot {number:>3}", total=1, state="queued")
            for job_id, number in batch.jobs
        }

        def on_event(event: ProductionEvent) -> None:
            task = tasks.get(event.job_id)
            if task is None:
                return
            if event.kind == "queued":
                progress.update(task, state=f"queued #{event.position}")
            elif event.kind == "started":
                progress.update(task, state="rendering")
            elif event.kind == "progress":
                progress.update(
                    task,
                    total=event.total,
                    completed=event.step,
                    state=f"step {event.step}/{event.total}",
                )
            elif event.kind == "finished":
                seconds = event.take.seconds if event.take else 0.0
                state = "cached" if event.cache_hit else f"done in {seconds:.1f}s"
                progress.update(task, completed=progress.tasks[task].total, state=state)
            else:
                progress.update(task, state=f"[red]{event.kind}[/]")

        production.add_listener(on_event)
        try:
            return await production.wait(batch.id)
        finally:
            production.remove_listener(on_event)
