"""Casting: the bible's reference images — uploaded, picked from generated portraits, or taken
from a frame of a take — and what changes when they do (exactly the shots that show them)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.production.models import DirectorTurn
from studio.diff import diff
from studio.edits import AddReference, Edit, SetProp, apply_edits
from studio.errors import InvalidValue
from studio.images import ImageInfo, ImageStore
from studio.models import ShotList
from studio.records import Project
from studio.store import Store
from studio.vocab import ElementKind, ReferenceSource, ReferenceView


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


class Casting:
    def __init__(self, store: Store, images: ImageStore | None) -> None:
        self.store = store
        self.images = images

    def _require_images(self) -> ImageStore:
        if self.images is None:
            raise InvalidValue("Reference images need a data folder (this store is in memory).")
        return self.images

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
