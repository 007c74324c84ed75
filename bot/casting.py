"""The cast in the terminal: `slate cast …` and `/cast …` in `slate chat` share these steps."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

from rich.table import Table
from rich.text import Text

from bot.production import DirectorTurn, Production
from studio.errors import InvalidValue
from studio.images import MAX_BYTES
from studio.models import ShotList
from studio.vocab import ElementKind, ReferenceView, parse

CAST_USAGE = (
    "/cast                                 the bible: cast, places, props and their references\n"
    "/cast image NAME FILE [kind] [view]   a reference image (kind: character, location, prop;\n"
    "                                      view: front, three-quarter, profile, detail)\n"
    "/cast from-take TAKE NAME [first|middle|last]   a frame of a take as a reference\n"
    "/cast generate NAME [COUNT]           candidate portraits from the bible's description\n"
    "/cast pick NAME DIGEST                a candidate becomes the front reference"
)


def bible_table(shotlist: ShotList) -> Table:
    """Every element of the bible with its description and reference images."""
    table = Table(title="Bible", show_header=True)
    for column in ("", "Name", "Description", "References"):
        table.add_column(column)
    groups = (
        ("cast", shotlist.characters),
        ("place", shotlist.locations),
        ("prop", shotlist.props),
    )
    for label, elements in groups:
        for element in elements:
            refs = ", ".join(f"{r.view.value} {r.sha256[:8]}" for r in element.references)
            table.add_row(
                label, Text(element.name), Text(element.description or "—"), Text(refs or "—")
            )
    return table


async def read_image(name: str) -> bytes:
    """A reference image file's bytes (its size checked before it is read, off the loop)."""

    def read() -> bytes:
        path = Path(name).expanduser()
        if path.stat().st_size > MAX_BYTES:
            raise InvalidValue(f"{path} is over 20 MB; a reference image takes at most 20 MB.")
        return path.read_bytes()

    return await asyncio.to_thread(read)


def options(words: list[str]) -> tuple[ElementKind | None, ReferenceView]:
    """Optional kind and view words, in any order."""
    kind: ElementKind | None = None
    view = ReferenceView.FRONT
    for word in words:
        try:
            kind = parse(ElementKind, word)
            continue
        except (InvalidValue, ValueError):
            pass
        try:
            view = parse(ReferenceView, word)
        except (InvalidValue, ValueError):
            raise InvalidValue(
                f"I don't know “{word[:40]}”: a kind is character, location or prop; a view is "
                "front, three-quarter, profile or detail."
            ) from None
    return kind, view


async def cast_command(
    production: Production, scope: str, project_id: int, author: str, argument: str
) -> DirectorTurn | Table:
    """One `/cast …` line: the bible, or a change to its references."""
    try:
        words = shlex.split(argument)
    except ValueError as error:
        raise InvalidValue(f"I can't read that: {error}. {CAST_USAGE}") from None
    if not words:
        return bible_table((await production.project(scope, project_id)).shotlist)
    action, rest = words[0].lower(), words[1:]
    if action == "image" and len(rest) >= 2:
        name, file, extra = rest[0], rest[1], rest[2:]
        kind, view = options(extra)
        data = await read_image(file)
        change = await production.cast.add_reference(
            scope, project_id, author, name, data, kind=kind, view=view
        )
        return change.turn
    if action == "from-take" and len(rest) >= 2 and rest[0].isdigit():
        frame = rest[2].lower() if len(rest) > 2 else "middle"
        if frame not in ("first", "middle", "last"):
            raise InvalidValue("Which frame: first, middle or last?")
        change = await production.cast.reference_from_take(
            scope, project_id, author, int(rest[0]), rest[1], frame=frame
        )
        return change.turn
    if action == "generate" and rest:
        count = int(rest[1]) if len(rest) > 1 and rest[1].isdigit() else 4
        gallery = await production.cast.gallery(scope, project_id, rest[0], count=count)
        table = Table(title=f"Portraits for {gallery.name}: /cast pick {gallery.name} DIGEST")
        for column in ("#", "Digest", "File"):
            table.add_column(column)
        for index, path in enumerate(gallery.candidates, 1):
            table.add_row(str(index), path.stem[:10], Text(str(path)))
        return table
    if action == "pick" and len(rest) == 2:
        change = await production.cast.pick(scope, project_id, author, rest[0], rest[1].lower())
        return change.turn
    raise InvalidValue(f"Usage:\n{CAST_USAGE}")
