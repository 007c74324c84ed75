"""Casting: the bible's reference images — uploaded, picked from generated portraits, or taken
from a frame of a take — and what changes when they do (exactly the shots that show them)."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.production.models import DirectorTurn
from render.portrait import PortraitRenderer
from studio.diff import diff
from studio.edits import AddReference, Edit, SetProp, apply_edits
from studio.errors import InvalidValue
from studio.images import ImageInfo, ImageStore
from studio.models import Element, ShotList, new_seed
from studio.records import Project
from studio.store import Store
from studio.vocab import ElementKind, ReferenceSource, ReferenceView


@dataclass(frozen=True)
class Gallery:
    """Candidate portraits of an element, stored (content-addressed) but not yet references."""

    kind: ElementKind
    name: str
    candidates: list[Path]  # PNG files in the image store
    seed: int  # candidate i was rendered with seed + i


@dataclass(frozen=True)
class CastChange:
    """A change to the bible: the turn (reply and diff) and the shots it affects."""

    turn: DirectorTurn
    kind: ElementKind
    name: str
    affected: list[str]  # numbers of the shots that show the element, to render again


def find_element(
    shotlist: ShotList, name: str, kind: ElementKind | None
) -> tuple[ElementKind, str]:
    """Which element `name` is, and its name in the bible: as asked, else the cast first, then
    places, then props ("the letter" finds the prop "letter" and the other way round)."""
    kinds = [kind] if kind is not None else list(ElementKind)
    bare = name[4:] if name.lower().startswith("the ") else name
    for spelling in (name, bare, f"the {bare}"):
        for candidate in kinds:
            element = shotlist.element(candidate, spelling)
            if element is not None:
                return candidate, element.name
    if kind is ElementKind.PROP:
        return kind, name  # a prop named for the first time joins the bible
    cast = ", ".join(c.name for c in shotlist.characters) or "nobody yet"
    raise InvalidValue(
        f"There is no {name} in the bible (cast: {cast}). Add them first (`/cast add`), or say "
        "it is a prop."
    )


def affected_note(kind: ElementKind, name: str, shots: list[str]) -> str:
    if not shots:
        return f"No shot shows {name} yet."
    listed = shots[0] if len(shots) == 1 else f"{', '.join(shots[:-1])} and {shots[-1]}"
    plural = "s" if len(shots) > 1 else ""
    return (
        f"{name} is in shot{plural} {listed}: render {'them' if plural else 'it'} again to follow."
    )


PORTRAIT_PROMPTS = {
    ElementKind.CHARACTER: "portrait of {name}, {description}, head and shoulders, front view, "
    "plain studio background, {look}",
    ElementKind.LOCATION: "establishing view of {name}, {description}, no people, {look}",
    ElementKind.PROP: "{name}, {description}, a product shot on a plain background, {look}",
}


def bible_notes(before: ShotList, after: ShotList) -> list[str]:
    """For each element whose description or references changed: the shots to render again."""
    notes = []
    for kind in ElementKind:
        for element in _elements(after, kind):
            old = before.element(kind, element.name)
            if old is None or (old.description, old.references) == (
                element.description,
                element.references,
            ):
                continue
            shots = [shot.number for shot in after.shots_with(kind, element.name)]
            if shots:
                notes.append(affected_note(kind, element.name, shots))
    return notes


def _elements(shotlist: ShotList, kind: ElementKind) -> tuple[Element, ...]:
    match kind:
        case ElementKind.CHARACTER:
            return shotlist.characters
        case ElementKind.LOCATION:
            return shotlist.locations
        case ElementKind.PROP:
            return shotlist.props


class Casting:
    def __init__(
        self,
        store: Store,
        images: ImageStore | None,
        portraits: PortraitRenderer | None = None,
    ) -> None:
        self.store = store
        self.images = images
        self.portraits = portraits  # None: the drawn cards of the animatic
        self._portrait_lock = asyncio.Lock()  # one gallery at a time: they share the GPU

    def _require_images(self) -> ImageStore:
        if self.images is None:
            raise InvalidValue("Reference images need a data folder (this store is in memory).")
        return self.images

    async def add_reference(
        self,
        scope: str,
        project_id: int,
        author: str,
        name: str,
        data: bytes,
        *,
        kind: ElementKind | None = None,
        view: ReferenceView = ReferenceView.FRONT,
        source: ReferenceSource = ReferenceSource.UPLOAD,
    ) -> CastChange:
        project = await self.store.project(scope, project_id)
        return await self.add_image(
            project, author, name, data, kind=kind, view=view, source=source
        )

    async def reference_from_take(
        self,
        scope: str,
        project_id: int,
        author: str,
        take_id: int,
        name: str,
        *,
        kind: ElementKind | None = None,
        frame: str = "middle",
    ) -> CastChange:
        """A frame of a take (its first, middle or last) as one of an element's references."""
        project = await self.store.project(scope, project_id)
        take = await self.store.take(project.id, take_id)
        data = await self.frame_of(Path(take.clip), frame)
        return await self.add_image(
            project, author, name, data, kind=kind, source=ReferenceSource.TAKE
        )

    async def check_image(self, data: bytes) -> ImageInfo:
        """The refusal an upload would get (not an image, too big, too small...), before work."""
        return await asyncio.to_thread(self._require_images().check, data)

    async def add_image(
        self,
        project: Project,
        author: str,
        name: str,
        data: bytes,
        *,
        kind: ElementKind | None = None,
        view: ReferenceView = ReferenceView.FRONT,
        source: ReferenceSource = ReferenceSource.UPLOAD,
    ) -> CastChange:
        """Store an image and make it one of the element's references: one version, one undo."""
        images = self._require_images()
        kind, name = find_element(project.shotlist, name, kind)
        # Every refusal before a byte is stored: the image, then the edit on the current list.
        info = await asyncio.to_thread(images.check, data)
        trial: list[Edit] = [AddReference(element=kind, name=name, reference=info.reference(view))]
        if kind is ElementKind.PROP and project.shotlist.prop(name) is None:
            trial.insert(0, SetProp(name=name))
        apply_edits(project.shotlist, trial)
        await asyncio.to_thread(images.put, data)
        after = await self.store.add_reference(
            project.scope,
            project.id,
            kind,
            name,
            info,
            view=view,
            source=source,
            added_by=author,
        )
        element = after.shotlist.element(kind, name)
        shown = element.name if element is not None else name
        shots = [shot.number for shot in after.shotlist.shots_with(kind, shown)]
        reply = f"{shown} has a new {view.value} reference. {affected_note(kind, shown, shots)}"
        turn = DirectorTurn(after, reply, diff(project.shotlist, after.shotlist))
        return CastChange(turn, kind, shown, shots)

    async def gallery(
        self,
        scope: str,
        project_id: int,
        name: str,
        *,
        kind: ElementKind | None = None,
        count: int = 4,
        seed: int | None = None,
    ) -> Gallery:
        """Candidate portraits of an element rendered from its bible description (and the
        film's look), stored in the image store for a pick; nothing in the bible changes."""
        from render.portrait import AnimaticPortraits, PortraitRequest

        project = await self.store.project(scope, project_id)
        images = self._require_images()
        kind, name = find_element(project.shotlist, name, kind)
        if not 1 <= count <= 8:
            raise InvalidValue("Ask for 1 to 8 portraits.")
        element = project.shotlist.element(kind, name)
        description = element.description if element is not None else ""
        prompt = PORTRAIT_PROMPTS[kind].format(
            name=name, description=description or name, look=project.shotlist.style.palette
        )
        seed = new_seed() if seed is None else seed
        renderer = self.portraits or AnimaticPortraits()
        request = PortraitRequest(
            prompt=prompt.strip(" ,"), count=count, seed=seed, name=name, model=renderer.name
        )

        def render_and_store() -> list[Path]:
            paths = []
            for image in renderer.render(request):
                out = io.BytesIO()
                image.convert("RGB").save(out, format="PNG")
                info = images.put(out.getvalue())
                paths.append(images.path(info.sha256, info.suffix))
            return paths

        async with self._portrait_lock:
            candidates = await asyncio.to_thread(render_and_store)
        return Gallery(kind, name, candidates, seed)

    async def pick(
        self,
        scope: str,
        project_id: int,
        author: str,
        name: str,
        sha256: str,
        *,
        kind: ElementKind | None = None,
    ) -> CastChange:
        """A candidate portrait (named by its digest) becomes the element's front reference."""
        project = await self.store.project(scope, project_id)
        path = await asyncio.to_thread(self._candidate, sha256)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise InvalidValue("That portrait is gone; generate new ones.") from None
        return await self.add_image(
            project, author, name, data, kind=kind, source=ReferenceSource.GENERATED
        )

    def _candidate(self, digest: str) -> Path:
        """A candidate portrait by its digest or a unique prefix of at least 6 hex digits."""
        images = self._require_images()
        if not re.fullmatch(r"[0-9a-f]{6,64}", digest):
            raise InvalidValue(f"“{digest[:20]}” does not name a portrait.")
        found = sorted((images.root / digest[:2]).glob(f"{digest}*.png"))
        if len(found) != 1:
            raise InvalidValue("That portrait is gone, or the digest names more than one.")
        return found[0]

    async def frame_of(self, clip: Path, which: str = "middle") -> bytes:
        """A frame of a clip as PNG bytes: its first, middle or last."""
        from render.encode import decode_frames  # PyAV: only when a frame is asked for

        def grab() -> bytes:
            frames = list(decode_frames(clip))
            if not frames:
                raise InvalidValue("That take's clip has no frames to take.")
            index = {"first": 0, "last": len(frames) - 1}.get(which, len(frames) // 2)
            out = io.BytesIO()
            Image.fromarray(frames[index]).save(out, format="PNG")
            return out.getvalue()

        return await asyncio.to_thread(grab)
