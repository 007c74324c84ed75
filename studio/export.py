"""Shot list exports: the JSON the CLI prints, Markdown, CSV and an OpenTimelineIO timeline."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from studio.models import Shot, ShotList

FORMATS = ("md", "csv", "json", "otio")


def shot_row(shot: Shot) -> dict[str, Any]:
    return {
        "number": shot.number,
        "scene": shot.scene.slugline,
        "size": shot.size.value,
        "angle": shot.angle.value,
        "movement": shot.move_label,
        "lens_mm": shot.lens_mm,
        "duration": shot.duration,
        "description": shot.description,
        "dialogue": shot.dialogue,
        "characters": list(shot.characters),
        "transition": shot.transition.value,
        "sound": shot.sound,
        "notes": shot.notes,
        "status": shot.status.value,
        "seed": shot.seed,
        "uid": shot.uid,
    }


def to_data(shotlist: ShotList) -> dict[str, Any]:
    style = shotlist.style
    return {
        "title": shotlist.title,
        "logline": shotlist.logline,
        "target_length": shotlist.target_length,
        "runtime": shotlist.runtime,
        "aspect_ratio": shotlist.aspect_ratio,
        "fps": shotlist.fps,
        "style": {
            "name": style.name,
            "description": style.description,
            "palette": style.palette,
            "lighting": style.lighting,
            "camera": style.camera,
        },
        "cast": [{"name": c.name, "description": c.description} for c in shotlist.characters],
        "locations": [
            {"name": loc.name, "description": loc.description} for loc in shotlist.locations
        ],
        "shots": [shot_row(shot) for shot in shotlist.shots],
    }


def to_json(shotlist: ShotList) -> str:
    return json.dumps(to_data(shotlist), indent=2, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(shotlist: ShotList) -> str:
    lines = [f"# {shotlist.title}", ""]
    if shotlist.logline:
        lines += [f"_{shotlist.logline}_", ""]
    target = f" (target {shotlist.target_length:g} s)" if shotlist.target_length else ""
    lines += [
        f"**Style:** {shotlist.style.name} — {shotlist.style.description}  ",
        f"**Runtime:** {shotlist.runtime:g} s{target} · {len(shotlist.shots)} shots · "
        f"{shotlist.aspect_ratio}",
        "",
    ]
    if shotlist.characters:
        lines += ["## Cast", ""]
        lines += [f"- **{c.name}**: {c.description or '—'}" for c in shotlist.characters]
        lines.append("")
    lines += [
        "## Shots",
        "",
        "| # | Scene | Size | Angle | Move | Dur | Action | Characters |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for shot in shotlist.shots:
        action = shot.description + (f' — "{shot.dialogue}"' if shot.dialogue else "")
        lines.append(
            f"| {shot.number} | {_cell(shot.scene.slugline)} | {shot.size.abbreviation} | "
            f"{shot.angle.value} | {shot.move_label} | {shot.duration:g}s | {_cell(action)} | "
            f"{_cell(', '.join(shot.characters))} |"
        )
    return "\n".join(lines) + "\n"


def to_csv(shotlist: ShotList) -> str:
    buffer = io.StringIO()
    rows = [shot_row(shot) for shot in shotlist.shots]
    fields = list(
        shot_row(shotlist.shots[0]) if shotlist.shots else shot_row(Shot(description="-"))
    )
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        row = {**row, "characters": "; ".join(row["characters"])}
        writer.writerow({key: _inert(value) for key, value in row.items()})
    return buffer.getvalue()


def _inert(value: Any) -> Any:
    """Crew text that starts like a formula must not run as one in a spreadsheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_otio(shotlist: ShotList) -> str:
    """An editorial timeline of the planned shots (no media yet), each clip carrying its shot."""
    import opentimelineio as otio

    fps = float(shotlist.fps)
    timeline = otio.schema.Timeline(name=shotlist.title)
    timeline.metadata["slate"] = {"title": shotlist.title, "style": shotlist.style.name}
    track = otio.schema.Track(name="Shots", kind=otio.schema.TrackKind.Video)
    for shot in shotlist.shots:
        duration = otio.opentime.RationalTime(round(shot.duration * fps), fps)
        clip = otio.schema.Clip(
            name=f"Shot {shot.number}",
            media_reference=otio.schema.MissingReference(),
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps), duration),
        )
        clip.metadata["slate"] = shot_row(shot)
        track.append(clip)
    timeline.tracks.append(track)
    return str(otio.adapters.write_to_string(timeline, "otio_json"))


def export(shotlist: ShotList, fmt: str) -> str:
    writers = {"md": to_markdown, "csv": to_csv, "json": to_json, "otio": to_otio}
    if fmt not in writers:
        from studio.errors import InvalidValue

        raise InvalidValue(f"I can export {', '.join(FORMATS)}; not '{fmt}'.")
    return writers[fmt](shotlist)
