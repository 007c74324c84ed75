"""Typed edits to a shot list. `apply_edit` is pure: it returns a new `ShotList` or raises a
`SlateError` and changes nothing. `apply_edits` applies several edits as one all-or-nothing step;
the store records each applied edit (or batch of edits) as one new version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from studio.errors import EditError, InvalidValue
from studio.models import (
    MAX_NAME,
    MAX_REFERENCES,
    MAX_SHOTS,
    MAX_TEXT,
    AngleField,
    Character,
    DirectionField,
    Element,
    ElementKindField,
    IntExtField,
    Location,
    MoveField,
    Prop,
    Reference,
    Shot,
    ShotList,
    SizeField,
    SpeedField,
    StatusField,
    StyleBible,
    TimeField,
    TransitionField,
    _Model,
    new_seed,
    new_uid,
    validated,
)
from studio.styles import style_preset
from studio.vocab import ElementKind, MoveSpeed, ReferenceView, ShotStatus


class ShotChanges(_Model):
    """The fields of a shot an edit may set; unset fields keep their value."""

    description: str | None = Field(default=None, max_length=MAX_TEXT)
    dialogue: str | None = Field(default=None, max_length=MAX_TEXT)
    characters: list[str] | None = None
    props: list[str] | None = Field(default=None, description="names of the props in the shot")
    continues: bool | None = Field(
        default=None, description="the shot continues the previous one from its last frame"
    )
    size: SizeField | None = None
    angle: AngleField | None = None
    movement: MoveField | None = None
    direction: DirectionField | None = None
    speed: SpeedField | None = None
    lens_mm: int | None = None
    duration: float | None = None
    transition: TransitionField | None = None
    sound: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=MAX_TEXT)
    int_ext: IntExtField | None = None
    location: str | None = Field(default=None, max_length=MAX_NAME)
    time_of_day: TimeField | None = None
    status: StatusField | None = None

    def set_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=True)


_SCENE_FIELDS = {"int_ext", "location", "time_of_day"}


def _with_changes(shot: Shot, changes: ShotChanges) -> Shot:
    values = changes.set_fields()
    scene_fields = {k: values.pop(k) for k in _SCENE_FIELDS if k in values}
    data = shot.model_dump()
    data.update(values)
    if scene_fields:
        data["scene"] = {**shot.scene.model_dump(), **scene_fields}
    if "movement" in values:
        # A new move inherits neither the old move's direction nor its speed.
        if "direction" not in values:
            data["direction"] = ""
        if "speed" not in values:
            data["speed"] = MoveSpeed.MEDIUM
    return validated(Shot, **data)  # type: ignore[no-any-return]


class AddShot(_Model):
    kind: Literal["add_shot"] = "add_shot"
    shot: ShotChanges
    position: int | None = Field(default=None, description="1-based position; omitted = at the end")


class UpdateShot(_Model):
    kind: Literal["update_shot"] = "update_shot"
    shot: str = Field(description="the shot's number, e.g. '3'")
    changes: ShotChanges


class RemoveShot(_Model):
    kind: Literal["remove_shot"] = "remove_shot"
    shot: str


class MoveShot(_Model):
    kind: Literal["move_shot"] = "move_shot"
    shot: str
    position: int = Field(description="the 1-based position the shot ends up at")


class SwapShots(_Model):
    kind: Literal["swap_shots"] = "swap_shots"
    first: str
    second: str


class SplitShot(_Model):
    kind: Literal["split_shot"] = "split_shot"
    shot: str
    second: ShotChanges = Field(
        default_factory=ShotChanges, description="changes for the new second half"
    )


class SetStyle(_Model):
    kind: Literal["set_style"] = "set_style"
    preset: str | None = Field(default=None, description="a style preset name, e.g. 'film noir'")
    name: str | None = Field(default=None, max_length=MAX_NAME)
    description: str | None = Field(default=None, max_length=MAX_TEXT)
    palette: str | None = None
    lighting: str | None = None
    camera: str | None = None
    negative: str | None = None


class SetCharacter(_Model):
    """Add a character to the bible, or change one's description."""

    kind: Literal["set_character"] = "set_character"
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_TEXT)


class SetLocation(_Model):
    kind: Literal["set_location"] = "set_location"
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_TEXT)


class SetProp(_Model):
    """Add a prop to the bible, or change its description (its references stay)."""

    kind: Literal["set_prop"] = "set_prop"
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_TEXT)


class RemoveProp(_Model):
    """Take a prop out of the bible and out of every shot that shows it."""

    kind: Literal["remove_prop"] = "remove_prop"
    name: str = Field(min_length=1, max_length=MAX_NAME)


class AddReference(_Model):
    """Give a character, location or prop one more reference image (at most `MAX_REFERENCES`).
    A front view goes first; other views after the ones already there. The store refuses an
    image it has not recorded for the project (`Store.add_image`)."""

    kind: Literal["add_reference"] = "add_reference"
    element: ElementKindField
    name: str = Field(min_length=1, max_length=MAX_NAME)
    reference: Reference


class RemoveReference(_Model):
    """Take one reference image from an element, named by its sha256 (or a unique prefix of at
    least 6 hex digits)."""

    kind: Literal["remove_reference"] = "remove_reference"
    element: ElementKindField
    name: str = Field(min_length=1, max_length=MAX_NAME)
    sha256: str = Field(pattern=r"^[0-9a-f]{6,64}$")


class SetProjectInfo(_Model):
    kind: Literal["set_project_info"] = "set_project_info"
    title: str | None = Field(default=None, max_length=MAX_NAME * 2)
    logline: str | None = Field(default=None, max_length=MAX_TEXT)
    target_length: float | None = Field(default=None, gt=0)
    aspect_ratio: str | None = None


class ReplaceShots(_Model):
    """Plan (or re-plan) the whole list in one version."""

    kind: Literal["replace_shots"] = "replace_shots"
    shots: list[ShotChanges] = Field(max_length=MAX_SHOTS)


Edit = Annotated[
    AddShot
    | UpdateShot
    | RemoveShot
    | MoveShot
    | SwapShots
    | SplitShot
    | SetStyle
    | SetCharacter
    | SetLocation
    | SetProp
    | RemoveProp
    | AddReference
    | RemoveReference
    | SetProjectInfo
    | ReplaceShots,
    Field(discriminator="kind"),
]
EDIT_ADAPTER: TypeAdapter[Edit] = TypeAdapter(Edit)


def _renumbered(shotlist: ShotList, shots: list[Shot]) -> ShotList:
    if len(shots) > MAX_SHOTS:
        raise EditError(f"A shot list holds at most {MAX_SHOTS} shots.")
    numbered = [
        s if s.number == str(i) else s.model_copy(update={"number": str(i)})
        for i, s in enumerate(shots, start=1)
    ]
    return shotlist.model_copy(update={"shots": tuple(numbered)})


def _position(position: int, count: int) -> int:
    if not 1 <= position <= count:
        raise EditError(f"Position {position} is outside the list (1–{count}).")
    return position - 1


def _fresh_uid(shots: Sequence[Shot]) -> str:
    # 32 random bits collide rarely, but a collision would store a shot list that no longer
    # loads (ShotList rejects shared uids, and model_copy does not re-validate).
    taken = {shot.uid for shot in shots}
    uid = new_uid()
    while uid in taken:
        uid = new_uid()
    return uid


def _new_shot(changes: ShotChanges, shots: Sequence[Shot], template: Shot | None = None) -> Shot:
    """A new shot (fresh uid, seed and status) whose uid differs from every one in `shots`."""
    if template is None and not (changes.description or "").strip():  # str.strip: e.g. "\x1f" too
        raise InvalidValue("A new shot needs a description of the action.")
    base = template or Shot(description=changes.description or "-")
    fresh = base.model_copy(
        update={"uid": _fresh_uid(shots), "seed": new_seed(), "status": ShotStatus.PLANNED}
    )
    return _with_changes(fresh, changes)


def apply_edit(shotlist: ShotList, edit: Edit) -> ShotList:
    """Apply one edit; raise a `SlateError` (and change nothing) when it cannot be applied.
    A prop a shot names that the bible lacks joins the bible (with no description yet)."""
    return _props_named(_apply(shotlist, edit))


def _apply(shotlist: ShotList, edit: Edit) -> ShotList:
    shots = list(shotlist.shots)
    match edit:
        case AddShot(shot=changes, position=position):
            if position is not None and not 1 <= position <= len(shots) + 1:
                raise EditError(f"Position {position} is outside the list (1–{len(shots) + 1}).")
            # A new shot inherits the scene of its neighbour unless told otherwise.
            index = len(shots) if position is None else position - 1
            neighbour = shots[index - 1] if index > 0 else (shots[0] if shots else None)
            shot = _new_shot(changes, shots)
            if neighbour is not None and not _SCENE_FIELDS & changes.set_fields().keys():
                shot = shot.model_copy(update={"scene": neighbour.scene})
            _check_continues(shot, index)
            shots.insert(index, shot)
            return _renumbered(shotlist, shots)
        case UpdateShot(shot=number, changes=changes):
            if not changes.set_fields():
                raise EditError("That edit changes nothing: name a field to change.")
            index = shotlist.index_of(number)
            shots[index] = _with_changes(shots[index], changes)
            if changes.continues:
                _check_continues(shots[index], index)
            return _renumbered(shotlist, shots)
        case RemoveShot(shot=number):
            del shots[shotlist.index_of(number)]
            return _renumbered(shotlist, shots)
        case MoveShot(shot=number, position=position):
            index = shotlist.index_of(number)
            target = _position(position, len(shots))
            shots.insert(target, shots.pop(index))
            return _renumbered(shotlist, shots)
        case SwapShots(first=first, second=second):
            i, j = shotlist.index_of(first), shotlist.index_of(second)
            if i == j:
                raise EditError("Swapping a shot with itself changes nothing.")
            shots[i], shots[j] = shots[j], shots[i]
            return _renumbered(shotlist, shots)
        case SplitShot(shot=number, second=changes):
            index = shotlist.index_of(number)
            original = shots[index]
            half = round(original.duration / 2, 2)
            if half < 0.5:
                raise EditError(f"Shot {number} is too short to split ({original.duration:g} s).")
            # The first half keeps the original's uid and seed, so its takes stay linked to it.
            head = original.model_copy(update={"duration": half})
            tail = _new_shot(
                changes, shots, template=original.model_copy(update={"duration": half})
            )
            shots[index : index + 1] = [head, tail]
            return _renumbered(shotlist, shots)
        case SetStyle():
            return shotlist.model_copy(update={"style": _styled(shotlist.style, edit)})
        case SetCharacter(name=name, description=description):
            existing = shotlist.character(name)
            character = validated(
                Character,
                name=name,
                description=description,
                references=existing.references if existing else (),
            )
            cast = [c for c in shotlist.characters if c.name.lower() != name.lower()]
            if existing is not None:
                cast.insert(shotlist.characters.index(existing), character)
            else:
                cast.append(character)
            return shotlist.model_copy(update={"characters": tuple(cast)})
        case SetLocation(name=name, description=description):
            was = shotlist.location(name)
            location = validated(
                Location,
                name=name.upper(),
                description=description,
                references=was.references if was else (),
            )
            places = [loc for loc in shotlist.locations if loc.name != location.name]
            places.append(location)
            return shotlist.model_copy(update={"locations": tuple(places)})
        case SetProp(name=name, description=description):
            old = shotlist.prop(name)
            prop = validated(
                Prop, name=name, description=description, references=old.references if old else ()
            )
            return _with_element(shotlist, ElementKind.PROP, old, prop)
        case RemoveProp(name=name):
            gone = _element(shotlist, ElementKind.PROP, name)
            key = gone.name.lower()
            kept = tuple(p for p in shotlist.props if p is not gone)
            shots = [
                shot.model_copy(update={"props": tuple(p for p in shot.props if p.lower() != key)})
                for shot in shots
            ]
            return shotlist.model_copy(update={"props": kept, "shots": tuple(shots)})
        case AddReference(element=kind, name=name, reference=reference):
            holder = _element(shotlist, kind, name)
            if any(r.sha256 == reference.sha256 for r in holder.references):
                raise EditError(f"That image is already one of {holder.name}'s references.")
            if len(holder.references) >= MAX_REFERENCES:
                raise EditError(
                    f"{holder.name} already has {len(holder.references)} references; "
                    "remove one first."
                )
            if reference.view is ReferenceView.FRONT:
                references = (reference, *holder.references)
            else:
                references = (*holder.references, reference)
            return _with_element(shotlist, kind, holder, _referenced(holder, references))
        case RemoveReference(element=kind, name=name, sha256=digest):
            holder = _element(shotlist, kind, name)
            matches = [r for r in holder.references if r.sha256.startswith(digest)]
            if not matches:
                raise EditError(f"{holder.name} has no reference image {digest[:12]}.")
            if len(matches) > 1:
                raise EditError(
                    f"{digest} starts more than one of {holder.name}'s reference images; "
                    "give more of it."
                )
            rest = [r for r in holder.references if r is not matches[0]]
            rest.sort(key=lambda r: r.view is not ReferenceView.FRONT)  # stable: fronts lead
            return _with_element(shotlist, kind, holder, _referenced(holder, tuple(rest)))
        case SetProjectInfo():
            values = edit.model_dump(exclude={"kind"}, exclude_none=True)
            if not values:
                raise EditError("That edit changes nothing.")
            return validated(ShotList, **{**shotlist.model_dump(), **values})  # type: ignore[no-any-return]
        case ReplaceShots(shots=planned):
            new: list[Shot] = []
            for changes in planned:
                shot = _new_shot(changes, new)
                if new and not _SCENE_FIELDS & changes.set_fields().keys():
                    shot = shot.model_copy(update={"scene": new[-1].scene})
                _check_continues(shot, len(new))
                new.append(shot)
            return _renumbered(shotlist, new)
    raise EditError(f"Unknown edit {edit!r}.")  # pragma: no cover - the union is exhaustive


def _check_continues(shot: Shot, index: int) -> None:
    if shot.continues and index == 0:
        raise EditError("The first shot has no shot before it to continue.")


_BIBLE = {
    ElementKind.CHARACTER: "characters",
    ElementKind.LOCATION: "locations",
    ElementKind.PROP: "props",
}


def _element(shotlist: ShotList, kind: ElementKind, name: str) -> Element:
    """The bible's element, or a refusal naming what is missing."""
    element = shotlist.element(kind, name)
    if element is None:
        known = ", ".join(e.name for e in getattr(shotlist, _BIBLE[kind])) or "none yet"
        raise EditError(f"There is no {kind.value} called {name} in the bible ({known}).")
    return element


def _referenced(element: Element, references: tuple[Reference, ...]) -> Element:
    return validated(type(element), **{**element.model_dump(), "references": references})  # type: ignore[no-any-return]


def _with_element(
    shotlist: ShotList, kind: ElementKind, old: Element | None, new: Element
) -> ShotList:
    """The shot list with `old` replaced by `new` in its place (or `new` added at the end)."""
    field = _BIBLE[kind]
    elements = list(getattr(shotlist, field))
    if old is None:
        elements.append(new)
    else:
        elements[elements.index(old)] = new
    return shotlist.model_copy(update={field: tuple(elements)})


def _props_named(shotlist: ShotList) -> ShotList:
    """Every prop a shot names is in the bible: an unknown one joins it, undescribed."""
    missing: dict[str, Prop] = {}
    for shot in shotlist.shots:
        for name in shot.props:
            if shotlist.prop(name) is None:
                missing.setdefault(name.lower(), validated(Prop, name=name))
    if not missing:
        return shotlist
    return shotlist.model_copy(update={"props": (*shotlist.props, *missing.values())})


def apply_edits(shotlist: ShotList, edits: Sequence[Edit]) -> ShotList:
    """Apply edits in order; raise at the first that fails (the caller keeps `shotlist`)."""
    for edit in edits:
        shotlist = apply_edit(shotlist, edit)
    return shotlist


def _styled(style: StyleBible, edit: SetStyle) -> StyleBible:
    base = style_preset(edit.preset) if edit.preset else style
    values = edit.model_dump(exclude={"kind", "preset"}, exclude_none=True)
    return validated(StyleBible, **{**base.model_dump(), **values})  # type: ignore[no-any-return]


def describe_edit(edit: Edit) -> str:
    """One line for the version history."""
    match edit:
        case AddShot(shot=changes, position=position):
            where = f" at {position}" if position else ""
            return f"add shot{where}: {changes.description}"
        case UpdateShot(shot=number, changes=changes):
            fields = ", ".join(f"{k}={v}" for k, v in changes.set_fields().items())
            return f"shot {number}: {fields}"
        case RemoveShot(shot=number):
            return f"remove shot {number}"
        case MoveShot(shot=number, position=position):
            return f"move shot {number} to {position}"
        case SwapShots(first=first, second=second):
            return f"swap shots {first} and {second}"
        case SplitShot(shot=number):
            return f"split shot {number}"
        case SetStyle(preset=preset, name=name):
            return f"style: {preset or name or 'updated'}"
        case SetCharacter(name=name):
            return f"character {name}"
        case SetLocation(name=name):
            return f"location {name.upper()}"
        case SetProp(name=name):
            return f"prop {name}"
        case RemoveProp(name=name):
            return f"remove prop {name}"
        case AddReference(name=name, reference=reference):
            return f"{name}: {reference.view.value} reference ({reference.source.value})"
        case RemoveReference(name=name, sha256=digest):
            return f"{name}: remove reference {digest[:8]}"
        case SetProjectInfo():
            return "project: " + ", ".join(edit.model_dump(exclude={"kind"}, exclude_none=True))
        case ReplaceShots(shots=planned):
            return f"plan {len(planned)} shots"
    return edit.kind  # pragma: no cover


def describe_edits(edits: Sequence[Edit]) -> str:
    """One line for a version made of several edits."""
    return "; ".join(describe_edit(edit) for edit in edits)


def parse_edit(data: dict[str, Any]) -> Edit:
    """Read an edit from JSON-like data (stored history, tool calls)."""
    from pydantic import ValidationError

    from studio.models import describe_validation

    try:
        return EDIT_ADAPTER.validate_python(data)
    except ValidationError as error:
        raise InvalidValue(describe_validation(error)) from None


def parse_edits(data: Any) -> list[Edit]:
    """Read the `edit` column of a stored version: one edit (an object) or several (a list)."""
    if isinstance(data, list):
        return [parse_edit(item) for item in data]
    return [parse_edit(data)]


def dump_edits(edits: Sequence[Edit]) -> str:
    """The JSON the store keeps for a version: one edit as an object, several as a list."""
    # exclude_none (not exclude_defaults) keeps "kind", so parse_edit can read it back.
    if len(edits) == 1:
        return edits[0].model_dump_json(exclude_none=True)
    return "[" + ", ".join(edit.model_dump_json(exclude_none=True) for edit in edits) + "]"


# fmt: off
__all__ = [
    "AddShot", "UpdateShot", "RemoveShot", "MoveShot", "SwapShots", "SplitShot", "SetStyle",
    "SetCharacter", "SetLocation", "SetProp", "RemoveProp", "AddReference", "RemoveReference",
    "SetProjectInfo", "ReplaceShots", "ShotChanges", "Edit",
    "apply_edit", "apply_edits", "describe_edit", "describe_edits", "parse_edit", "parse_edits",
    "dump_edits",
]
# fmt: on
