"""What changed between two versions of a shot list, in lines a crew reads at a glance."""

from __future__ import annotations

from studio.models import Element, Reference, Shot, ShotList
from studio.vocab import ElementKind

_FIELDS = (
    "size",
    "angle",
    "movement",
    "direction",
    "speed",
    "lens_mm",
    "duration",
    "description",
    "dialogue",
    "characters",
    "props",
    "continues",
    "transition",
    "sound",
    "notes",
    "scene",
)


def _show(shot: Shot, field: str) -> str:
    value = getattr(shot, field)
    if field == "scene":
        return str(value.slugline)
    if field == "duration":
        return f"{value:g}s"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(value) or "—"
    text = getattr(value, "value", value)
    return str(text) if text not in ("", None) else "—"


def shot_line(shot: Shot) -> str:
    return f"{shot.number}. {shot.size.abbreviation} · {shot.move_label} · {shot.duration:g}s — {shot.description}"


def diff(before: ShotList, after: ShotList) -> list[str]:
    """'+' added, '-' removed, '~' changed, '↕' moved, '*' project-level changes."""
    lines: list[str] = []
    old = {shot.uid: shot for shot in before.shots}
    new = {shot.uid: shot for shot in after.shots}
    for shot in before.shots:
        if shot.uid not in new:
            lines.append(f"- {shot_line(shot)}")
    for shot in after.shots:
        previous = old.get(shot.uid)
        if previous is None:
            lines.append(f"+ {shot_line(shot)}")
            continue
        changes = [
            f"{field} {_show(previous, field)} → {_show(shot, field)}"
            for field in _FIELDS
            if getattr(previous, field) != getattr(shot, field)
        ]
        if changes:
            lines.append(f"~ {shot.number}. " + "; ".join(changes))
        elif previous.number != shot.number:
            lines.append(f"↕ {previous.number} → {shot.number}. {shot.description}")
    if before.style != after.style:
        lines.append(f"* style: {before.style.name} → {after.style.name}")
    for character in after.characters:
        was = before.character(character.name)
        if was is None:
            lines.append(f"* cast: + {character.name}: {character.description}")
        elif was.description != character.description:
            lines.append(
                f"* cast: {character.name}: {was.description or '—'} → {character.description}"
            )
    for location in after.locations:
        was_loc = before.location(location.name)
        if was_loc is None or was_loc.description != location.description:
            lines.append(f"* location: {location.name}: {location.description}")
    for prop in after.props:
        was_prop = before.prop(prop.name)
        if was_prop is None:
            lines.append(f"* prop: + {prop.name}: {prop.description or '—'}")
        elif was_prop.description != prop.description:
            lines.append(
                f"* prop: {prop.name}: {was_prop.description or '—'} → {prop.description or '—'}"
            )
    lines += [f"* prop: - {prop.name}" for prop in before.props if after.prop(prop.name) is None]
    lines += reference_lines(before, after)
    for field in ("title", "logline", "target_length", "aspect_ratio"):
        if getattr(before, field) != getattr(after, field):
            lines.append(f"* {field}: {getattr(before, field)} → {getattr(after, field)}")
    return lines


def _reference(element: Element, reference: Reference) -> str:
    origin = reference.source.value
    if reference.added_by:
        origin += f" by {reference.added_by}"
    return f"{element.name}: {reference.view.value} reference ({origin})"


def reference_lines(before: ShotList, after: ShotList) -> list[str]:
    """'+ Mia: front reference (upload by ana)' for each reference image an element gained,
    '- …' for each it lost (an element that left the bible takes its references with it)."""
    lines: list[str] = []
    for kind, elements in (
        (ElementKind.CHARACTER, after.characters),
        (ElementKind.LOCATION, after.locations),
        (ElementKind.PROP, after.props),
    ):
        for element in elements:
            was = before.element(kind, element.name)
            old = {r.sha256: r for r in was.references} if was else {}
            new = {r.sha256: r for r in element.references}
            lines += [f"- {_reference(element, r)}" for d, r in old.items() if d not in new]
            lines += [f"+ {_reference(element, r)}" for d, r in new.items() if d not in old]
    return lines
