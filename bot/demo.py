"""`slate demo`: brief → shot list → every shot rendered → final cut, storyboard and review page."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from bot.app import cuda_device_count, production
from bot.casting import read_image
from bot.production.models import take_notes
from bot.review import ShotCard, write_review_page
from bot.settings import Settings
from bot.terminal import LOCAL_SCOPE, cast_table, render_with_progress, shot_table, show_resumed
from studio.errors import SlateError
from studio.export import to_markdown
from studio.records import JobState


async def run_demo(
    settings: Settings,
    brief: str,
    out: Path,
    *,
    style: str | None = None,
    cast: Sequence[tuple[str, Path]] = (),
) -> int:
    console = Console(highlight=False)
    if settings.renderer == "diffusers" and cuda_device_count() == 0:
        console.print(
            "[yellow]No CUDA GPU found: the diffusion model will render on the CPU, "
            "which takes a long time per shot.[/]"
        )
    started = time.perf_counter()
    async with production(settings, render=True) as prod:
        await show_resumed(prod, console)
        brief = prod.check_brief(brief)  # refusals before anything is created
        await prod.check_render(LOCAL_SCOPE, "you")
        pictures = [(name, await read_image(str(path))) for name, path in cast]
        direction = await prod.start_project(LOCAL_SCOPE, "you", brief, style=style)
        project = direction.project
        for name, data in pictures:  # the references every shot of theirs follows
            change = await prod.cast.add_reference(LOCAL_SCOPE, project.id, "you", name, data)
            console.print(Text(change.turn.reply, style="dim"))
            project = change.turn.project
        console.print(shot_table(project.shotlist))
        bible = cast_table(project.shotlist)
        if bible is not None:
            console.print(bible)
        # The demo renders the whole film at once: its own batch may pass the interactive limit.
        whole_film = prod.max_open_renders + len(project.shotlist.shots)
        batch = await prod.render(LOCAL_SCOPE, project.id, "you", limit=whole_film)
        jobs = await render_with_progress(prod, batch, console)
        failed = [job for job in jobs if job.state is not JobState.DONE]
        if failed:
            for job in failed:
                console.print(f"[red]Shot {job.shot_number}: {job.reason or job.state}[/]")
            raise SlateError(f"{len(failed)} of {len(jobs)} shots did not render; no cut was made.")
        cut = await prod.cut(LOCAL_SCOPE, project.id)
        shotlist = project.shotlist

        def publish() -> Path:
            shots_dir = out / "shots"
            shots_dir.mkdir(parents=True, exist_ok=True)
            cards = []
            for shot, take in zip(shotlist.shots, cut.takes, strict=True):
                name = (
                    f"shot-{int(shot.number):02d}"
                    if shot.number.isdigit()
                    else f"shot-{shot.number}"
                )
                _place(Path(take.clip), shots_dir / f"{name}.mp4")
                _place(Path(take.poster), shots_dir / f"{name}.png")
                cards.append(
                    ShotCard(
                        shot.number,
                        f"shots/{name}.mp4",
                        f"shots/{name}.png",
                        take.seed,
                        take.model,
                        take.seconds,
                        str(take.request.get("prompt", "")),
                        take.id in cut.approved,
                        tuple(take_notes(take.info)),
                    )
                )
            for source in (cut.film, cut.timeline, cut.contact_sheet):
                _place(source, out / source.name)
            (out / "shotlist.md").write_text(to_markdown(shotlist), encoding="utf-8")
            return write_review_page(
                out / "index.html", shotlist, cards, cut.film.name, cut.contact_sheet.name
            )

        page = await asyncio.to_thread(publish)
    elapsed = time.perf_counter() - started
    console.print(
        f"\n[bold green]Done[/] in {elapsed:.1f}s · {len(shotlist.shots)} shots · "
        f"{shotlist.runtime:g}s of film · {prod.director_name}"
    )
    console.print(f"  review page   {page}")
    console.print(f"  final cut     {out / cut.film.name}")
    console.print(f"  timeline      {out / cut.timeline.name}")
    console.print(f"  storyboard    {out / cut.contact_sheet.name}")
    console.print(f"  clips         {out / 'shots'}/")
    return 0


def _place(source: Path, target: Path) -> None:
    """Hard-link when possible (clips can be large), else copy."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
