"""`slate`: the command line. Each command builds what it needs from settings and nothing more."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bot.errors import user_message
from bot.files import file_error
from render.types import RenderError
from studio.errors import InvalidValue, SlateError

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slate", description="Slate, the director's assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True)

    plan = commands.add_parser("plan", help="plan a shot list from a brief and print it")
    plan.add_argument("brief")
    plan.add_argument("--style", help="a style preset, e.g. 'film noir'")
    plan.add_argument("--json", action="store_true", help="print the shot list as JSON")

    chat = commands.add_parser("chat", help="plan and revise a shot list in conversation")
    chat.add_argument("--project", type=int, help="continue this project instead of starting one")
    chat.add_argument("--style", help="a style preset for a new project")
    chat.add_argument("--json", action="store_true", help="print the final shot list as JSON")

    exporter = commands.add_parser("export", help="export a project's shot list")
    exporter.add_argument("--project", type=int, help="project id (default: the latest)")
    exporter.add_argument("--format", default="md", choices=("md", "csv", "json", "otio"))
    exporter.add_argument("--out", type=Path, help="file to write (default: standard output)")
    exporter.add_argument(
        "--force", action="store_true", help="replace the --out file if it exists, without asking"
    )

    commands.add_parser("projects", help="list the local projects")

    demo = commands.add_parser("demo", help="plan, render every shot and cut the film")
    demo.add_argument("brief")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="where to write it all")
    demo.add_argument("--renderer", choices=("animatic", "diffusers"), help="default: settings")
    demo.add_argument("--model", help="diffusers preset, hub id or local folder")
    demo.add_argument("--style", help="a style preset, e.g. 'film noir'")
    demo.add_argument(
        "--cast",
        action="append",
        default=[],
        metavar="NAME=IMAGE",
        help="a reference image for someone or something in the brief (repeatable)",
    )

    bot = commands.add_parser("bot", help="run the Discord bot (needs SLATE_DISCORD_TOKEN)")
    bot.add_argument(
        "--invite-url",
        action="store_true",
        help="print the link that adds the bot to a server with the permissions Slate uses",
    )

    commands.add_parser("doctor", help="check the set-up, one line each, with the fix")

    models = commands.add_parser("models", help="the video models: list or download them")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    model_commands.add_parser("list", help="the presets and whether each is downloaded")
    pull = model_commands.add_parser("pull", help="download a model ahead of time")
    pull.add_argument("model", help="a preset (e.g. wan2.1-1.3b) or a hub id")

    commands.add_parser("styles", help="the style presets, and where the phrasebook is")

    cast = commands.add_parser(
        "cast",
        help="the bible's reference images: list, image NAME FILE, from-take TAKE NAME",
        description="slate cast (list) · slate cast image NAME FILE [kind] [view] · "
        "slate cast from-take TAKE NAME [first|middle|last]",
    )
    cast.add_argument("--project", type=int, help="project id (default: the latest)")
    cast.add_argument("words", nargs=argparse.REMAINDER, help="what to do")

    farm = commands.add_parser("farm", help="the render farm (SLATE_RENDER_BACKEND=ray)")
    farm_commands = farm.add_subparsers(dest="farm_command", required=True)
    farm_status = farm_commands.add_parser(
        "status",
        help="the running bot's render workers and what each renders (none running: the "
        "workers a bot would start)",
    )
    farm_status.add_argument(
        "--wait", type=float, default=30.0, help="seconds to wait for workers to start (30)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.verbose:
        # diffusers and transformers print their own warnings (a hub they can't reach, once per
        # shot); Slate says what matters in one line. -v shows them again.
        os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    problem = argument_problem(args)
    if problem is not None:
        print(f"slate: {problem}", file=sys.stderr)
        return 2
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        settings = Settings()
    except ValidationError as error:
        for line in settings_errors(error):
            print(f"slate: {line}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"slate: the .env file is not valid UTF-8: {error}.", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"slate: cannot read the .env file: {file_error(error)}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args, settings))
    except SlateError as error:
        print(f"slate: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        log.debug("file system error", exc_info=True)
        print(f"slate: {file_error(error)}", file=sys.stderr)
        return 1
    except (RenderError, sqlite3.Error) as error:
        log.debug("render or database error", exc_info=True)
        print(
            f"slate: {user_message(error) or f'the project database failed: {error}'}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


def argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the command line, in one sentence, before anything is opened."""
    for name, value in vars(args).items():
        if isinstance(value, str) and not _encodable(value):
            return f"the {name} argument is not valid UTF-8: check the terminal's encoding."
    project = getattr(args, "project", None)
    if project is not None:
        from bot.terminal import record_number

        if record_number(str(project)) is None:
            return f"There is no project #{project}."
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 arrive as lone surrogates
        return False
    return True


def settings_errors(error: Any) -> list[str]:
    """One line per bad setting, named as the environment variable the user set."""
    lines = []
    for problem in error.errors():
        field = "_".join(str(part) for part in problem["loc"]) or "settings"
        shown = (
            ""
            if any(word in field for word in ("token", "key", "secret"))
            else f" (got {problem.get('input')!r})"
        )
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"SLATE_{field.upper()}: {message}{shown}")
    return lines


def _run(args: argparse.Namespace, settings: Any) -> Coroutine[Any, Any, int]:
    handlers = {
        "plan": _plan,
        "chat": _chat,
        "export": _export,
        "projects": _projects,
        "demo": _demo,
        "bot": _bot,
        "doctor": _doctor,
        "models": _models,
        "styles": _styles,
        "cast": _cast,
        "farm": _farm,
    }
    return handlers[args.command](args, settings)


async def _plan(args: argparse.Namespace, settings: Any) -> int:
    from bot.app import production
    from bot.terminal import LOCAL_SCOPE, cast_table, note, shot_table
    from studio.export import to_json

    async with production(settings) as prod:
        direction = await prod.start_project(LOCAL_SCOPE, "you", args.brief, style=args.style)
    shotlist = direction.project.shotlist
    if args.json:
        print(to_json(shotlist))
        return 0
    from rich.console import Console
    from rich.text import Text

    console = Console()
    console.print(shot_table(shotlist))
    cast = cast_table(shotlist)
    if cast is not None:
        console.print(cast)
    for text in direction.notes:
        console.print(note(text))
    console.print(
        Text(
            f"Saved as project #{direction.project.id} · {prod.director_name} · "
            f"revise it with: slate chat --project {direction.project.id}",
            style="dim",
        )
    )
    return 0


async def _chat(args: argparse.Namespace, settings: Any) -> int:
    from bot.app import production
    from bot.terminal import run_chat

    async with production(settings, render=True) as prod:
        return await run_chat(
            prod,
            project_id=args.project,
            as_json=args.json,
            style=args.style,
            database=settings.database,
        )


async def _cast(args: argparse.Namespace, settings: Any) -> int:
    import shlex

    from rich.console import Console
    from rich.table import Table

    from bot.app import production
    from bot.casting import cast_command
    from bot.terminal import LOCAL_SCOPE, show_direction

    console = Console(highlight=False)
    async with production(settings) as prod:
        project = await prod.project(LOCAL_SCOPE, args.project)
        result = await cast_command(prod, LOCAL_SCOPE, project.id, "you", shlex.join(args.words))
        if isinstance(result, Table):
            console.print(result)
        else:
            show_direction(console, result, prod.director_name)
    return 0


async def _farm(args: argparse.Namespace, settings: Any) -> int:
    """`slate farm status`: the running bot's farm workers and what each renders, one line each;
    with no bot rendering on the cluster, the workers a bot would start there."""
    if settings.render_backend != "ray":
        print(
            f"No render farm: renders run on {settings.render_workers} worker thread(s) in the "
            "bot's process (SLATE_RENDER_BACKEND=local). Set SLATE_RENDER_BACKEND=ray to "
            "render on a Ray cluster."
        )
        return 0
    from agents.offline import OfflineDirector
    from bot.app import render_cache_salt, render_executor, renderer_loader
    from bot.production import Production
    from bot.terminal import LOCAL_SCOPE
    from render.farm import join, running_workers
    from render.pool import RenderPool
    from studio.store import Store

    where = settings.ray_address or "this machine's Ray instance"
    store = await Store.open(settings.database)
    try:
        prod = Production(store, OfflineDirector())
        running = await asyncio.to_thread(join, settings.ray_address)
        found = await running_workers() if running else []
        if found:
            rows = await prod.workers(LOCAL_SCOPE, found)
            print(f"Render farm on {where}: {len(rows)} worker(s) rendering for Slate.")
            _print_workers(rows)
            return 0
        # No bot renders there now: start the workers a bot would, to show what it would get.
        executor: Any = render_executor(settings)
        pool = RenderPool(
            renderer_loader(settings),
            settings.render_shared_dir or settings.renders_dir,
            workers=settings.render_workers,
            cache_salt=render_cache_salt(settings),
            executor=executor,
        )
        async with pool:  # no production runs it: a status check takes over no open job
            want = executor.target()
            for _ in range(int(max(args.wait, 0.0) * 10)):  # actors start in a few seconds
                if len(pool.workers()) >= want:
                    break
                await asyncio.sleep(0.1)
            rows = await prod.workers(LOCAL_SCOPE, pool.workers())
    finally:
        await store.close()
    kind = "GPU" if executor.gpus_per_worker else "CPU"
    where = (
        settings.ray_address
        if settings.ray_address not in ("", "local")
        else "a local Ray instance"
    )
    if not rows:
        print(
            f"The render farm on {where} has no worker: the cluster has no {kind} free for "
            f"one (it has room for {want}). Add a machine with `ray start --address=HEAD:6379`."
        )
        return 1
    print(
        f"No bot renders on {where} now. A bot would get {len(rows)} worker(s), one per "
        f"{kind} slot:"
    )
    _print_workers(rows)
    if len(rows) < want:
        print(f"{want - len(rows)} more worker(s) still starting after {args.wait:g} s.")
    return 0


def _print_workers(rows: list[Any]) -> None:
    table = [("worker", "machine", "slot", "models", "rendering")]
    table += [
        (row.name, row.node, row.device, ", ".join(row.models) or "-", row.rendering or "idle")
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line[:4], widths, strict=True)]
        print("  ".join([*cells, line[4]]))


async def _export(args: argparse.Namespace, settings: Any) -> int:
    from bot.app import production
    from bot.files import check_output_file, write_atomically
    from bot.terminal import LOCAL_SCOPE, LineReader

    out = None
    if args.out:
        out = await asyncio.to_thread(check_output_file, args.out, database=settings.database)
    async with production(settings) as prod:
        project = await prod.project(LOCAL_SCOPE, args.project)
        text = await prod.export(LOCAL_SCOPE, project.id, args.format)
    if out is not None:
        if out.exists and not args.force:
            from rich.console import Console

            reader = LineReader(sys.stdin)
            if not reader.interactive:
                raise InvalidValue(
                    f"{out.shown} already exists: add --force to replace it, or choose another name."
                )
            if not await reader.confirm(Console(stderr=True), f"{out.shown} exists. Replace it?"):
                print(f"Kept {out.shown} as it was.", file=sys.stderr)
                return 1
        await asyncio.to_thread(write_atomically, out.path, text)
        print(f"Wrote {out.shown}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


async def _projects(args: argparse.Namespace, settings: Any) -> int:
    from bot.app import production
    from bot.terminal import LOCAL_SCOPE

    async with production(settings) as prod:
        for project in await prod.projects(LOCAL_SCOPE, limit=100):
            shotlist = project.shotlist
            print(
                f"#{project.id}\t{shotlist.title}\t{len(shotlist.shots)} shots\t{shotlist.runtime:g}s\tv{project.head}"
            )
        for project_id in await prod.damaged_projects(LOCAL_SCOPE):
            print(f"#{project_id}\t(damaged: its current shot list can't be read)")
    return 0


async def _demo(args: argparse.Namespace, settings: Any) -> int:
    from bot.demo import run_demo

    overrides: dict[str, Any] = {"data_dir": args.out / ".slate"}
    if args.model:
        overrides.update(renderer="diffusers", model=args.model)
    if args.renderer:
        overrides["renderer"] = args.renderer
    cast = []
    for entry in args.cast:
        name, sep, image = entry.partition("=")
        if not sep or not name.strip() or not image.strip():
            raise InvalidValue(f"--cast takes NAME=IMAGE, e.g. --cast Mia=mia.png; got {entry!r}.")
        cast.append((name.strip(), Path(image.strip())))
    return await run_demo(
        settings.model_copy(update=overrides), args.brief, args.out, style=args.style, cast=cast
    )


async def _bot(args: argparse.Namespace, settings: Any) -> int:
    if args.invite_url:
        return _invite_url(settings)
    from bot.discord import run_bot

    await run_bot(settings)
    return 0


def _invite_url(settings: Any) -> int:
    from bot.discord import invite_url

    if settings.discord_token is None:
        raise SlateError(
            "Set SLATE_DISCORD_TOKEN first: the invite link is made from the bot's token."
        )
    url = invite_url(settings.discord_token.get_secret_value())
    if url is None:
        raise SlateError(
            "SLATE_DISCORD_TOKEN does not look like a bot token: copy it again from the "
            "Developer Portal (your application → Bot → Reset Token)."
        )
    print(url)
    return 0


async def _doctor(args: argparse.Namespace, settings: Any) -> int:
    from bot.doctor import run_doctor

    return await run_doctor(settings)


async def _models(args: argparse.Namespace, settings: Any) -> int:
    from bot.doctor import PullError, model_rows, pull_model

    if args.models_command == "list":
        rows = await asyncio.to_thread(model_rows)
        width = max(len(name) for name, _, _ in rows)
        for name, hub_id, cached in rows:
            print(f"{'✓' if cached else ' '} {name:<{width}}  {hub_id}")
        print("✓ = downloaded. Download one with: slate models pull PRESET")
        return 0
    try:
        folder = await asyncio.to_thread(pull_model, args.model)
    except PullError as error:
        raise SlateError(str(error)) from None
    print(f"{args.model} is ready: {folder}")
    return 0


async def _styles(args: argparse.Namespace, settings: Any) -> int:
    from studio.styles import PROMPTS_DIR, style_names, style_preset

    for name in style_names():
        preset = style_preset(name)
        print(f"{name:<16} {preset.description}")
    print(
        "\nUse one with: slate plan BRIEF --style NAME, or say 'make it NAME' to the director."
        f"\nPresets live in {PROMPTS_DIR / 'styles.toml'}; the phrases the offline director "
        f"understands in {PROMPTS_DIR.parent / 'agents' / 'offline' / 'data' / 'lexicon.toml'}"
        " (in chat: /help)."
    )
    return 0
