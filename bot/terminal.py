"""The terminal front-end: rich tables for the shot list, and the `slate chat` conversation.

Text that a user or a model wrote (briefs, directions, shot descriptions, replies, file names,
error messages) reaches rich only as `Text`, never as markup: a `[/]` in a brief is a bracket,
not a tag. Markup is kept for Slate's own fixed strings.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.casting import cast_command
from bot.files import check_output_file, file_error, write_atomically
from bot.production import DirectorTurn, JobSnapshot, Production, ProductionEvent, RenderBatch
from bot.production.checks import visible
from bot.production.models import take_notes
from studio.errors import InvalidValue, NotFound, SlateError
from studio.export import FORMATS, to_json
from studio.models import Shot, ShotList
from studio.records import JobState

log = logging.getLogger(__name__)

LOCAL_SCOPE = "local"

# SQLite stores 64-bit signed integers: a project, version or take number above this is not one.
MAX_RECORD_NUMBER = 2**63 - 1

CHAT_HELP = """Talk to the director in plain words, e.g.
  shot 3: slow dolly-in, close-up · make shot 2 last 6 seconds · delete shot 5
  add a shot after 2: Mia opens the door · swap shots 1 and 2 · make it film noir
Commands: /show  /undo  /history  /revert N  /export md|csv|json|otio [FILE]
          /render [SHOTS] [draft|final] [previz [STRENGTH]]  /finish  /reroll N  /approve N [TAKE]  /cut  /storyboard  /help  /quit
          /cast  /cast image NAME FILE  /cast from-take TAKE NAME   (reference images)"""


_STRENGTH = re.compile(r"\d?\.\d+")  # "0.8": a control strength, never a shot number


def record_number(text: str) -> int | None:
    """A project, version or take number as typed: ASCII digits within SQLite's range, else None."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_RECORD_NUMBER else None


def slate_says(label: str, reply: str) -> Text:
    return Text.assemble(
        ("Slate", "bold cyan"), " ", (f"({label})", "dim"), ": ", markdown_text(reply)
    )


# The inline markdown a chat model writes: **bold** / __bold__, *italic* / _italic_, `code`.
_INLINE_MARKDOWN = re.compile(
    r"\*\*(?P<b1>\S(?:.*?\S)?)\*\*|__(?P<b2>\S(?:.*?\S)?)__"
    r"|(?<![\w*])\*(?P<i1>[^*\s](?:[^*]*?[^*\s])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<i2>[^_\s](?:[^_]*?[^_\s])?)_(?![\w_])"
    r"|`(?P<code>[^`]+)`"
)
_MARKDOWN_STYLES = {"b1": "bold", "b2": "bold", "i1": "italic", "i2": "italic", "code": "cyan"}


def markdown_text(text: str) -> Text:
    """A reply as the terminal shows it: inline markdown becomes styles, a heading's #s go, and
    everything stays text (a `[/]` in it is a bracket, never markup)."""
    out = Text()
    for number, line in enumerate(text.split("\n")):
        if number:
            out.append("\n")
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*)$", line)
        base = "bold" if heading else ""
        line = heading.group(1) if heading else line
        position = 0
        for match in _INLINE_MARKDOWN.finditer(line):
            out.append(line[position : match.start()], style=base)
            kind = next(name for name, value in match.groupdict().items() if value is not None)
            out.append(match.group(kind), style=f"{base} {_MARKDOWN_STYLES[kind]}".strip())
            position = match.end()
        out.append(line[position:], style=base)
    return out


def note(text: str) -> Text:
    return Text(f"note: {text}", style="dim")


def problem(text: object) -> Text:
    return Text(str(text), style="red")


# Below this many columns a wide table would squeeze the action to a word per line, so the shot
# list folds to the compact layout: camera details stacked in one column, the scene above its
# first shot's action.
_WIDE_ACTION = 36


class ShotTable:
    """The shot list as a table that fits the terminal it is printed on."""

    def __init__(self, shotlist: ShotList) -> None:
        self.shotlist = shotlist

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = self.wide()
        needed = Measurement.get(console, options, wide).minimum + _WIDE_ACTION
        yield wide if options.max_width >= needed else self.compact()

    def _caption(self) -> Text:
        shotlist = self.shotlist
        target = f" / target {shotlist.target_length:g}s" if shotlist.target_length else ""
        return Text(
            f"{len(shotlist.shots)} shots · {shotlist.runtime:g}s{target} · "
            f"style: {shotlist.style.name}"
        )

    def wide(self) -> Table:
        shotlist = self.shotlist
        table = Table(title=Text(shotlist.title), caption=self._caption(), expand=False)
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
                        _action(shot),
                        ", ".join(shot.characters),
                    )
                )
            )
        return table

    def compact(self) -> Table:
        shotlist = self.shotlist
        table = Table(title=Text(shotlist.title), caption=self._caption(), expand=False)
        cameras = [
            f"{shot.size.abbreviation} · {shot.angle.value}\n{shot.move_label}"
            for shot in shotlist.shots
        ]
        longest = max((len(line) for c in cameras for line in c.split("\n")), default=6)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("Camera", min_width=min(longest, 22))
        table.add_column("Dur", justify="right", no_wrap=True)
        table.add_column("Action", ratio=1, min_width=20)
        scene = None
        for shot, camera in zip(shotlist.shots, cameras, strict=True):
            action = Text()
            if shot.scene != scene:
                action.append(shot.scene.slugline + "\n", style="bold")
            scene = shot.scene
            action.append(_action(shot))
            if shot.characters:
                action.append(f" ({', '.join(shot.characters)})", style="dim")
            table.add_row(Text(shot.number), Text(camera), Text(f"{shot.duration:g}s"), action)
        return table


def _action(shot: Shot) -> str:
    return shot.description + (f' "{shot.dialogue}"' if shot.dialogue else "")


def shot_table(shotlist: ShotList) -> ShotTable:
    """The shot list: the full table on a wide terminal, the compact one on a narrow one."""
    return ShotTable(shotlist)


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


# A version's summary names shots by their internal uid ("shot 70a50708: size=close-up",
# "swap shots e863416e and 70a50708"): always before the first colon of each edit's part.
_SUMMARY_UID = re.compile(r"\b(shots?|and) ([0-9a-f]{8})\b")


def change_summary(summary: str, numbers: dict[str, str]) -> str:
    """A history line as the crew reads it: shot numbers, never internal ids; a shot that has
    since been deleted is "(deleted)"."""

    def named(match: re.Match[str]) -> str:
        word, uid = match.groups()
        return f"{word} {numbers.get(uid, '(deleted)')}"

    parts = []
    for part in summary.split("; "):
        head, colon, tail = part.partition(":")
        parts.append(_SUMMARY_UID.sub(named, head) + colon + tail)
    return "; ".join(parts)


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
        line = await asyncio.to_thread(self._read, prompt)
        return None if line is None else visible(line)  # escapes never reach the screen

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
            "cast": self._cast,
            "finish": self._finish,
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
        project = await self.production.project(LOCAL_SCOPE, self.project_id)
        table = Table(
            title="History",
            caption=Text("shot numbers as the list stands now", style="dim"),
        )
        for column in ("Version", "From", "Change", "By", "When"):
            table.add_column(column)
        numbers = {shot.uid: shot.number for shot in project.shotlist.shots}
        for version in await self.production.history(LOCAL_SCOPE, self.project_id):
            marker = " ◀" if version.number == project.head else ""
            table.add_row(
                f"{version.number}{marker}",
                str(version.parent or ""),
                Text(change_summary(version.summary, numbers)),
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
        words = [part for part in argument.replace(",", " ").split() if part]
        options = ("previz", "prompt", "draft", "final")
        camera = next((w.lower() for w in words if w.lower() in ("previz", "prompt")), None)
        quality = next((w.lower() for w in words if w.lower() in ("draft", "final")), None)
        strength = next((float(w) for w in words if _STRENGTH.fullmatch(w)), None)
        shots = [w for w in words if w.lower() not in options and not _STRENGTH.fullmatch(w)]
        # One person at their own terminal: a whole film may be in flight at once, as in the
        # demo (the per-user limit keeps a shared bot fair; here there is no one to be fair to).
        project = await self.production.project(LOCAL_SCOPE, self.project_id)
        whole_film = self.production.max_open_renders + len(project.shotlist.shots)
        batch = await self.production.render(
            LOCAL_SCOPE,
            self.project_id,
            self.author,
            shots,
            limit=whole_film,
            camera_control=camera,
            control_strength=strength,
            quality=quality,
        )
        jobs = await render_with_progress(self.production, batch, self.console)
        for line in failures(jobs):
            self.console.print(problem(line))

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
        if cut.drafts:
            shots = ", ".join(cut.drafts)
            self.console.print(
                note(f"Drafts in this cut: shot {shots}. /finish renders them final.")
            )

    async def _finish(self, _: str) -> None:
        assert self.project_id is not None
        batch = await self.production.finish(LOCAL_SCOPE, self.project_id, self.author)
        if not batch.jobs:
            self.console.print(Text("Every approved draft already has its final."))
        await render_with_progress(self.production, batch, self.console)

    async def _storyboard(self, _: str) -> None:
        assert self.project_id is not None
        board = await self.production.storyboard(LOCAL_SCOPE, self.project_id)
        self.console.print(Text(f"Storyboard: {board}"))

    async def _cast(self, argument: str) -> None:
        assert self.project_id is not None
        result = await cast_command(
            self.production, LOCAL_SCOPE, self.project_id, self.author, argument
        )
        if isinstance(result, Table):
            self.console.print(result)
        else:
            show_direction(self.console, result, self.label)

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


def failures(jobs: list[JobSnapshot]) -> list[str]:
    """Why shots did not render, each reason once: a model that can't load fails every shot
    with the same sentence, and the crew needs to read it once, whole."""
    reasons: dict[str, list[str]] = {}
    for job in jobs:
        if job.state != JobState.DONE:
            reasons.setdefault(job.reason or str(job.state), []).append(job.shot_number)
    return [
        f"{'Shots' if len(numbers) > 1 else 'Shot'} {', '.join(numbers)}: {reason}"
        for reason, numbers in reasons.items()
    ]


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
                case JobState.QUEUED if event.note:
                    progress.update(task, state=Text(event.note, style="yellow"))
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
                    checks = take_notes(event.take.info) if event.take else []
                    if checks:
                        state += " · " + checks[0].split(" · ")[-1]  # "measured: dolly in ✓"
                    progress.update(task, completed=progress.tasks[task].total, state=state)
                case _:
                    progress.update(task, state=f"[red]{event.state}[/]")

        production.add_listener(on_event)
        try:
            return await production.wait(batch.id)
        finally:
            production.remove_listener(on_event)
