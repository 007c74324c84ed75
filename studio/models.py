"""The film: a project's shot list with its style, cast and locations.

A `ShotList` is one immutable version of everything the director edits. Edits (studio.edits)
produce new versions; the store keeps them all.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from studio import vocab
from studio.errors import InvalidValue
from studio.vocab import (
    Angle,
    CameraMove,
    ElementKind,
    IntExt,
    MoveDirection,
    MoveSpeed,
    ReferenceSource,
    ReferenceView,
    ShotSize,
    ShotStatus,
    TimeOfDay,
    Transition,
)

MIN_DURATION = 0.5
MAX_DURATION = 30.0
MAX_SHOTS = 200
MAX_TEXT = 1000
MAX_NAME = 80
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "2.39:1", "1.85:1")
MAX_REFERENCES = 4  # reference images per character, location or prop
IMAGE_SUFFIXES = (".png", ".jpg", ".webp")  # how reference images are stored


def _vocab(enum: type[vocab.E]) -> BeforeValidator:
    return BeforeValidator(lambda value: vocab.parse(enum, value))


SizeField = Annotated[ShotSize, _vocab(ShotSize)]
AngleField = Annotated[Angle, _vocab(Angle)]
MoveField = Annotated[CameraMove, _vocab(CameraMove)]
DirectionField = Annotated[MoveDirection, _vocab(MoveDirection)]
SpeedField = Annotated[MoveSpeed, _vocab(MoveSpeed)]
TransitionField = Annotated[Transition, _vocab(Transition)]
StatusField = Annotated[ShotStatus, _vocab(ShotStatus)]
IntExtField = Annotated[IntExt, _vocab(IntExt)]
TimeField = Annotated[TimeOfDay, _vocab(TimeOfDay)]
ViewField = Annotated[ReferenceView, _vocab(ReferenceView)]
SourceField = Annotated[ReferenceSource, _vocab(ReferenceSource)]
ElementKindField = Annotated[ElementKind, _vocab(ElementKind)]


def new_uid() -> str:
    return secrets.token_hex(4)


def new_seed() -> int:
    return secrets.randbelow(2**31)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class StyleBible(_Model):
    """The look every shot shares; compiled into every render prompt."""

    name: str = Field(default="naturalistic", max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_TEXT)
    palette: str = Field(default="", max_length=300)
    lighting: str = Field(default="", max_length=300)
    camera: str = Field(default="", max_length=300)  # film stock, lens character, grain
    negative: str = Field(default="", max_length=MAX_TEXT)


class Reference(_Model):
    """One reference image of an element. The image itself lies in the image store
    (studio.images), content-addressed: `<sha256[:2]>/<sha256><suffix>`; the store records which
    project owns it."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    view: ViewField = ReferenceView.FRONT
    suffix: Literal[".png", ".jpg", ".webp"]
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    source: SourceField = ReferenceSource.UPLOAD
    added_by: str = Field(default="", max_length=200)

    @property
    def file_name(self) -> str:
        return f"{self.sha256}{self.suffix}"


def _check_references(references: tuple[Reference, ...]) -> tuple[Reference, ...]:
    if len(references) > MAX_REFERENCES:
        raise ValueError(f"an element holds at most {MAX_REFERENCES} reference images")
    digests = [reference.sha256 for reference in references]
    if len(set(digests)) != len(digests):
        raise ValueError("one image is a reference twice")
    views = [reference.view for reference in references]
    if ReferenceView.FRONT in views and views[0] is not ReferenceView.FRONT:
        raise ValueError("the front view must come first among the references")
    return references


References = Annotated[tuple[Reference, ...], AfterValidator(_check_references)]


class _Element(_Model):
    """A character, location or prop of the bible: a name, the words every prompt uses for it,
    and up to `MAX_REFERENCES` reference images (the front view first when there is one)."""

    kind: ClassVar[ElementKind]

    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_TEXT)
    references: References = ()

    @property
    def lead_reference(self) -> Reference | None:
        """The reference a render leads with: the front view when there is one, else the first."""
        return self.references[0] if self.references else None


class Character(_Element):
    kind: ClassVar[ElementKind] = ElementKind.CHARACTER


class Location(_Element):
    kind: ClassVar[ElementKind] = ElementKind.LOCATION


class Prop(_Element):
    """An object the story leans on ("the letter", "the red car"), kept the same in every shot."""

    kind: ClassVar[ElementKind] = ElementKind.PROP


Element = Character | Location | Prop


class Scene(_Model):
    """A slugline: INT. KITCHEN - NIGHT."""

    int_ext: IntExtField = IntExt.INT
    location: str = Field(default="UNSPECIFIED", min_length=1, max_length=MAX_NAME)
    time_of_day: TimeField = TimeOfDay.DAY

    @field_validator("location")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def slugline(self) -> str:
        return f"{self.int_ext.value}. {self.location} - {self.time_of_day.value}"


class Shot(_Model):
    uid: str = Field(default_factory=new_uid, pattern=r"^[0-9a-f]{8}$")
    number: str = "1"  # display number, kept in order by the shot list
    scene: Scene = Field(default_factory=Scene)
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    dialogue: str = Field(default="", max_length=MAX_TEXT)
    characters: tuple[str, ...] = ()
    props: tuple[str, ...] = ()  # names of the props the shot shows
    continues: bool = False  # starts from the previous shot's last frame (ignored on the first)
    size: SizeField = ShotSize.MEDIUM
    angle: AngleField = Angle.EYE_LEVEL
    movement: MoveField = CameraMove.STATIC
    direction: DirectionField = MoveDirection.NONE
    speed: SpeedField = MoveSpeed.MEDIUM
    lens_mm: int | None = Field(default=None, ge=8, le=600)
    duration: float = 3.0
    transition: TransitionField = Transition.CUT
    sound: str = Field(default="", max_length=300)
    notes: str = Field(default="", max_length=MAX_TEXT)
    status: StatusField = ShotStatus.PLANNED
    seed: int = Field(default_factory=new_seed, ge=0, lt=2**32)

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a shot needs a description of the action")
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: float) -> float:
        if not MIN_DURATION <= value <= MAX_DURATION:
            raise ValueError(
                f"a shot lasts between {MIN_DURATION:g} and {MAX_DURATION:g} seconds; got {value:g}"
            )
        return round(value, 2)

    @field_validator("characters", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [name for name in re.split(r",|\band\b", value) if name.strip()]
        names = (str(name).strip() for name in value)
        return tuple(dict.fromkeys(name for name in names if name))  # no blank names from lists

    @field_validator("props", mode="before")
    @classmethod
    def _prop_names(cls, value: Any) -> Any:
        if isinstance(value, str):  # "the salt and pepper" is one prop: split on commas only
            value = value.split(",")
        names: dict[str, str] = {}  # one prop once, whatever its case; first spelling kept
        for item in value:
            name = str(item).strip()
            if name:
                names.setdefault(name.lower(), name)
        return tuple(names.values())

    @property
    def move_label(self) -> str:
        """'slow dolly in', 'pan left', 'static'."""
        if self.movement is CameraMove.STATIC:
            return "static"
        parts = [
            self.speed.value if self.speed is not MoveSpeed.MEDIUM else "",
            self.movement.value,
        ]
        if self.direction is not MoveDirection.NONE:
            parts.append(self.direction.value)
        return " ".join(p for p in parts if p)


class ShotList(_Model):
    """One version of a project: its metadata, bibles and ordered shots."""

    title: str = Field(default="Untitled", min_length=1, max_length=MAX_NAME * 2)
    logline: str = Field(default="", max_length=MAX_TEXT)
    target_length: float | None = Field(default=None, gt=0, le=MAX_SHOTS * MAX_DURATION)
    aspect_ratio: str = "16:9"
    fps: int = Field(default=16, ge=1, le=60)
    style: StyleBible = Field(default_factory=StyleBible)
    characters: tuple[Character, ...] = ()
    locations: tuple[Location, ...] = ()
    props: tuple[Prop, ...] = ()
    shots: tuple[Shot, ...] = Field(default=(), max_length=MAX_SHOTS)

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, value: str) -> str:
        if value not in ASPECT_RATIOS:
            raise ValueError(f"aspect ratio must be one of {', '.join(ASPECT_RATIOS)}")
        return value

    @model_validator(mode="after")
    def _numbered(self) -> ShotList:
        uids = [shot.uid for shot in self.shots]
        if len(set(uids)) != len(uids):
            raise ValueError("two shots share one uid")
        names = [c.name.lower() for c in self.characters]
        if len(set(names)) != len(names):
            raise ValueError("two characters share one name")
        props = [p.name.lower() for p in self.props]
        if len(set(props)) != len(props):
            raise ValueError("two props share one name")
        return self

    @property
    def runtime(self) -> float:
        return round(sum(shot.duration for shot in self.shots), 2)

    def character(self, name: str) -> Character | None:
        key = name.strip().lower()
        return next((c for c in self.characters if c.name.lower() == key), None)

    def location(self, name: str) -> Location | None:
        key = name.strip().upper()
        return next((loc for loc in self.locations if loc.name.upper() == key), None)

    def prop(self, name: str) -> Prop | None:
        key = name.strip().lower()
        return next((p for p in self.props if p.name.lower() == key), None)

    def element(self, kind: ElementKind, name: str) -> Element | None:
        """The bible's character, location or prop called `name` (any case), if there is one."""
        match ElementKind(kind):
            case ElementKind.CHARACTER:
                return self.character(name)
            case ElementKind.LOCATION:
                return self.location(name)
            case ElementKind.PROP:
                return self.prop(name)

    def elements_in(self, shot: Shot) -> list[tuple[ElementKind, Element]]:
        """The bible's elements a shot shows, in order: its characters, its location (the scene's
        location by name), its props. Names the bible does not hold are left out: they have no
        description or references to follow."""
        found: list[tuple[ElementKind, Element]] = []
        for name in shot.characters:
            if (character := self.character(name)) is not None:
                found.append((ElementKind.CHARACTER, character))
        if (location := self.location(shot.scene.location)) is not None:
            found.append((ElementKind.LOCATION, location))
        for name in shot.props:
            if (prop := self.prop(name)) is not None:
                found.append((ElementKind.PROP, prop))
        return found

    def shots_with(self, kind: ElementKind, name: str) -> list[Shot]:
        """The shots that show the element called `name` (any case), in order: the shots to
        render again when its description or references change."""
        key = name.strip().lower()
        match ElementKind(kind):
            case ElementKind.CHARACTER:
                return [s for s in self.shots if key in (c.lower() for c in s.characters)]
            case ElementKind.LOCATION:
                return [s for s in self.shots if s.scene.location.lower() == key]
            case ElementKind.PROP:
                return [s for s in self.shots if key in (p.lower() for p in s.props)]

    def shot(self, number: str | int) -> Shot:
        """Find a shot by its display number ("3", 3) or uid."""
        from studio.errors import ShotNotFound

        key = str(number).strip().lstrip("#").upper()
        for shot in self.shots:
            if shot.number.upper() == key or shot.uid == key.lower():
                return shot
        if re.fullmatch(r"[0-9a-f]{8}", key.lower()):
            # A uid held from an earlier version (e.g. the shot was cut meanwhile): never show it.
            raise ShotNotFound("That shot is no longer in the list.")
        count = len(self.shots)
        span = f"shots 1–{count}" if count else "no shots yet"
        raise ShotNotFound(f"There is no shot {number}; this list has {span}.")

    def index_of(self, number: str | int) -> int:
        uid = self.shot(number).uid
        return next(i for i, shot in enumerate(self.shots) if shot.uid == uid)


def validated(model: type[_Model], **fields: Any) -> Any:
    """Build a model, turning pydantic's error into one readable `InvalidValue`."""
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as error:
        raise InvalidValue(describe_validation(error)) from None


# pydantic's wording for the common cases, said for a crew ("String should have at most...").
_PLAIN_MESSAGES = {
    "string_too_long": "is too long (at most {max_length} characters)",
    "string_too_short": "can't be empty",
    "too_long": "has too many entries (at most {max_length})",
    "missing": "is required",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}


def describe_validation(error: Any) -> str:
    messages = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"] if not isinstance(part, int))
        message = str(item["msg"]).removeprefix("Value error, ")
        ctx = item.get("ctx", {})
        if item["type"] == "extra_forbidden":
            message = "is not a field I know"
        elif item["type"] in _PLAIN_MESSAGES:
            message = _PLAIN_MESSAGES[item["type"]].format(**ctx)
        elif isinstance(ctx.get("error"), InvalidValue):
            message = str(ctx["error"])
        messages.append(f"{field}: {message}" if field else message)
    text = "; ".join(dict.fromkeys(messages))
    return text if text.endswith((".", "!", "?")) else text + "."
