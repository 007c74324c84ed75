"""The bible's reference images through the production service: the real store and image folder,
the real render pool with the animatic. A reference marks exactly the shots that show its element
as changed; undo brings the earlier references (and takes) back; bad images change nothing; one
project never reaches another's images. The shot list is built with typed edits, not a brief, so
these tests don't depend on how the director plans."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image, ImageDraw

from bot.app import production
from bot.production import Production
from bot.settings import Settings
from studio.edits import AddReference, ReplaceShots, SetCharacter, SetLocation, ShotChanges
from studio.errors import EditError, InvalidImage, InvalidValue, NotFound
from studio.images import MAX_BYTES, ImageStore
from studio.models import ShotList
from studio.records import Project
from studio.vocab import ElementKind, IntExt, ReferenceSource, ReferenceView, TimeOfDay

SCOPE = "local"
OTHER = "discord:2"


def settings_for(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def prod(tmp_path: Path) -> AsyncIterator[Production]:
    async with production(settings_for(tmp_path), render=True) as opened:
        yield opened


def png(colour: str, size: tuple[int, int] = (320, 288)) -> bytes:
    """A still PNG, different for each colour, over the 256 px minimum."""
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).ellipse((60, 40, 260, 250), fill="white", outline="black", width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (320, 320), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_files(prod: Production) -> list[Path]:
    folder = prod.store.images_dir
    assert folder is not None
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def film(prod: Production, scope: str = SCOPE, owner: str = "ana") -> Project:
    """Four shots: Cole alone (1), Mia and Cole (2), an insert of the letter (3), Mia alone (4)."""
    project = await prod.store.create_project(scope, owner, ShotList(title="The Letter"))
    shots = [
        ShotChanges(
            description="Cole steps out of a car in the rain",
            characters=["Cole"],
            int_ext=IntExt.EXT,
            location="ALLEY",
            time_of_day=TimeOfDay.NIGHT,
            duration=1,
        ),
        ShotChanges(
            description="Mia takes the letter from Cole", characters=["Mia", "Cole"], duration=1
        ),
        ShotChanges(description="Insert: rain beads on the letter", props=["letter"], duration=1),
        ShotChanges(
            description="Mia reads the letter in a booth",
            characters=["Mia"],
            int_ext=IntExt.INT,
            location="DINER",
            duration=1,
        ),
    ]
    return await prod.store.apply_many(
        scope,
        project.id,
        [
            SetCharacter(name="Mia", description="a detective, 30s, grey trench coat"),
            SetCharacter(name="Cole", description="a courier, 40s, wet leather jacket"),
            SetLocation(name="DINER", description="an all-night diner, red booths, neon"),
            ReplaceShots(shots=shots),
        ],
        owner,
    )


async def rendered(prod: Production, project: Project, user: str = "ana") -> list[str]:
    """Render what changed and wait; the numbers of the shots that were rendered."""
    batch = await prod.render(project.scope, project.id, user)
    if batch.jobs:
        jobs = await prod.wait(batch.id)
        assert [job.state for job in jobs] == ["done"] * len(jobs)
    return [number for _, number in batch.jobs]


async def latest_requests(prod: Production, project: Project) -> dict[str, dict[str, Any]]:
    """Each shot's newest take's render request, by shot number."""
    current = await prod.project(project.scope, project.id)
    requests: dict[str, dict[str, Any]] = {}
    for shot in current.shotlist.shots:
        takes = await prod.store.takes(project.id, shot.uid)
        if takes:
            requests[shot.number] = takes[-1].request
    return requests


def character_references(request: dict[str, Any], name: str) -> list[dict[str, str]]:
    references = request.get("references") or []
    assert isinstance(references, list)
    return [r for r in references if r["kind"] == "character" and r["name"] == name]


def numbers_in(reply: str) -> set[str]:
    return set(re.findall(r"\b\d+\b", reply))


# --- upload, render exactly what changed, change again, undo -------------------------------------


async def test_a_reference_rerenders_exactly_the_shots_that_show_the_character(
    prod: Production,
) -> None:
    project = await film(prod)
    assert await rendered(prod, project) == ["1", "2", "3", "4"]

    first = png("steelblue")
    change = await prod.cast.add_reference(SCOPE, project.id, "ana", "Mia", first)
    assert (change.kind, change.name, change.affected) == (ElementKind.CHARACTER, "Mia", ["2", "4"])
    assert numbers_in(change.turn.reply) == {"2", "4"}  # the reply names exactly her shots
    assert change.turn.changes  # the diff shows the new reference
    assert change.turn.project.head == project.head + 1  # one version

    assert await rendered(prod, project) == ["2", "4"]
    requests = await latest_requests(prod, project)
    for number in ("2", "4"):
        [reference] = character_references(requests[number], "Mia")
        assert reference["sha256"] == sha(first)
        path = Path(reference["path"])
        assert path.is_file() and sha(path.read_bytes()) == sha(first)
    for number in ("1", "3"):  # shots without Mia carry no reference of her
        assert character_references(requests[number], "Mia") == []

    second = png("darkorange")
    again = await prod.cast.add_reference(SCOPE, project.id, "ana", "mia", second)
    assert again.name == "Mia" and again.affected == ["2", "4"]
    assert await rendered(prod, project) == ["2", "4"]
    requests = await latest_requests(prod, project)
    for number in ("2", "4"):
        leading = character_references(requests[number], "Mia")[0]
        assert leading["sha256"] == sha(second)  # the newest front view leads

    undone = await prod.undo(SCOPE, project.id, "ana")
    mia = undone.project.shotlist.character("Mia")
    assert mia is not None and [r.sha256 for r in mia.references] == [sha(first)]
    after_undo = await prod.render(SCOPE, project.id, "ana")
    assert after_undo.jobs == [] and sorted(after_undo.skipped) == ["1", "2", "3", "4"]
    # Both images stay on disk, stored once each: undo only changes which ones the bible names.
    assert {p.name for p in stored_files(prod)} == {f"{sha(first)}.png", f"{sha(second)}.png"}


async def test_the_same_image_twice_is_refused_and_stored_once(prod: Production) -> None:
    project = await film(prod)
    image = png("seagreen")
    await prod.cast.add_reference(SCOPE, project.id, "ana", "Mia", image)
    head = (await prod.project(SCOPE, project.id)).head
    with pytest.raises(EditError, match="already"):
        await prod.cast.add_reference(SCOPE, project.id, "ana", "Mia", image)
    assert (await prod.project(SCOPE, project.id)).head == head
    assert len(stored_files(prod)) == 1


async def test_a_place_reference_rerenders_the_shots_set_there(prod: Production) -> None:
    project = await film(prod)
    assert await rendered(prod, project) == ["1", "2", "3", "4"]
    image = png("firebrick")
    change = await prod.cast.add_reference(SCOPE, project.id, "ana", "the diner", image)
    assert (change.kind, change.name, change.affected) == (ElementKind.LOCATION, "DINER", ["4"])
    assert await rendered(prod, project) == ["4"]
    request = (await latest_requests(prod, project))["4"]
    assert [(r["kind"], r["sha256"]) for r in request["references"]] == [("location", sha(image))]


async def test_a_new_description_rerenders_exactly_the_shots_that_show_the_character(
    prod: Production,
) -> None:
    project = await film(prod)
    assert await rendered(prod, project) == ["1", "2", "3", "4"]
    await prod.edit(SCOPE, project.id, "ana", SetCharacter(name="Mia", description="red hair"))
    assert await rendered(prod, project) == ["2", "4"]


# --- bad images: a clear refusal, nothing changed ------------------------------------------------


BAD_IMAGES = {
    "not an image": (b"Mia, 30s, grey trench coat: see attached", "not an image"),
    "too small": (png("red", (200, 120)), "256"),
    "over 20 MB": (png("red") + bytes(MAX_BYTES), "20 MB"),
    "animated": (animated_gif(), "animated"),
}


@pytest.mark.parametrize("case", list(BAD_IMAGES))
async def test_a_bad_image_is_refused_and_changes_nothing(prod: Production, case: str) -> None:
    data, says = BAD_IMAGES[case]
    project = await film(prod)
    with pytest.raises(InvalidImage, match=says):
        await prod.cast.check_image(data)  # the refusal the front-ends give before deferring
    with pytest.raises(InvalidImage, match=says):
        await prod.cast.add_reference(SCOPE, project.id, "ana", "Mia", data)
    after = await prod.project(SCOPE, project.id)
    assert after.head == project.head
    assert after.shotlist.character("Mia").references == ()  # type: ignore[union-attr]
    assert stored_files(prod) == []


async def test_an_unknown_name_is_refused_before_anything_is_stored(prod: Production) -> None:
    project = await film(prod)
    with pytest.raises(InvalidValue, match="no Rex"):
        await prod.cast.add_reference(SCOPE, project.id, "ana", "Rex", png("gold"))
    assert (await prod.project(SCOPE, project.id)).head == project.head
    assert stored_files(prod) == []


# --- one project never reaches another's images --------------------------------------------------


async def test_another_project_cannot_use_the_first_projects_image(prod: Production) -> None:
    ours = await film(prod)
    theirs = await film(prod, OTHER, "bo")
    image = png("steelblue")
    change = await prod.cast.add_reference(SCOPE, ours.id, "ana", "Mia", image)
    [reference] = change.turn.project.shotlist.character("Mia").references  # type: ignore[union-attr]

    # Naming our project from their scope finds nothing.
    with pytest.raises(NotFound):
        await prod.cast.add_reference(OTHER, ours.id, "bo", "Mia", png("black"))
    # Their shot list can't name our image: the store knows they never added it.
    with pytest.raises(EditError, match="never added"):
        await prod.store.apply(
            OTHER,
            theirs.id,
            AddReference(element=ElementKind.CHARACTER, name="Mia", reference=reference),
            "bo",
        )
    assert (await prod.project(OTHER, theirs.id)).head == theirs.head
    assert not await prod.store.has_image(theirs.id, reference.sha256)

    # Nor can they take a frame of our takes.
    assert await rendered(prod, ours) == ["1", "2", "3", "4"]
    our_take = (await prod.store.takes(ours.id))[0]
    with pytest.raises(NotFound):
        await prod.cast.reference_from_take(OTHER, theirs.id, "bo", our_take.id, "Mia")
    with pytest.raises(NotFound):
        await prod.cast.reference_from_take(OTHER, ours.id, "bo", our_take.id, "Mia")

    # Their renders carry none of our references.
    theirs_now = await prod.project(OTHER, theirs.id)
    for shot in theirs_now.shotlist.shots:
        assert prod.renders.request(theirs_now.shotlist, shot).references == ()


# --- a frame of a take as a reference ------------------------------------------------------------


async def test_reference_from_take_stores_a_frame_of_the_take(prod: Production) -> None:
    project = await film(prod)
    assert await rendered(prod, project) == ["1", "2", "3", "4"]
    shot = project.shotlist.shot("4")
    [take] = await prod.store.takes(project.id, shot.uid)

    change = await prod.cast.reference_from_take(SCOPE, project.id, "cy", take.id, "Mia")
    assert change.name == "Mia" and change.affected == ["2", "4"]
    mia = change.turn.project.shotlist.character("Mia")
    assert mia is not None
    [reference] = mia.references
    assert reference.source is ReferenceSource.TAKE and reference.added_by == "cy"
    assert reference.view is ReferenceView.FRONT
    assert (reference.width, reference.height) == (take.request["width"], take.request["height"])
    assert reference in ImageStore(prod.store.images_dir)  # type: ignore[arg-type]
    assert await prod.store.has_image(project.id, reference.sha256)
    # The frame is a picture of the take, not a blank.
    path = ImageStore(prod.store.images_dir).path(reference.sha256, reference.suffix)  # type: ignore[arg-type]
    with Image.open(path) as frame:
        low, high = cast(tuple[int, int], frame.convert("L").getextrema())
    assert high - low > 32

    assert await rendered(prod, project) == ["2", "4"]


# --- props ---------------------------------------------------------------------------------------


async def test_a_prop_named_for_the_first_time_joins_the_bible(prod: Production) -> None:
    project = await film(prod)
    assert project.shotlist.prop("bottle") is None
    change = await prod.cast.add_reference(
        SCOPE, project.id, "ana", "bottle", png("olive"), kind=ElementKind.PROP
    )
    assert (change.kind, change.name, change.affected) == (ElementKind.PROP, "bottle", [])
    bottle = change.turn.project.shotlist.prop("bottle")
    assert bottle is not None and [r.sha256 for r in bottle.references] == [sha(png("olive"))]
    assert numbers_in(change.turn.reply) == set()  # no shot shows it yet

    # A prop the bible already holds is found by name, "the" or not, and names its shots.
    letter = await prod.cast.add_reference(SCOPE, project.id, "ana", "the letter", png("wheat"))
    assert (letter.kind, letter.name, letter.affected) == (ElementKind.PROP, "letter", ["3"])


async def test_a_new_prop_with_its_reference_is_one_version(prod: Production) -> None:
    project = await film(prod)
    change = await prod.cast.add_reference(
        SCOPE, project.id, "ana", "bottle", png("olive"), kind=ElementKind.PROP
    )
    assert change.turn.project.head == project.head + 1
    undone = await prod.undo(SCOPE, project.id, "ana")
    assert undone.project.shotlist.prop("bottle") is None


async def four_references(prod: Production, project: Project) -> int:
    """Give Mia the most references an element holds; the version that leaves."""
    views = [ReferenceView.FRONT, *[ReferenceView.PROFILE] * 3]
    for colour, view in zip(("red", "green", "blue", "gray"), views, strict=True):
        await prod.cast.add_reference(SCOPE, project.id, "ana", "Mia", png(colour), view=view)
    return (await prod.project(SCOPE, project.id)).head


async def test_a_fifth_reference_is_refused_and_changes_nothing(prod: Production) -> None:
    project = await film(prod)
    head = await four_references(prod, project)
    with pytest.raises(EditError, match="4 references"):
        await prod.cast.add_reference(SCOPE, project.id, "ana", "Mia", png("purple"))
    after = await prod.project(SCOPE, project.id)
    assert after.head == head and len(after.shotlist.character("Mia").references) == 4  # type: ignore[union-attr]
    assert not await prod.store.has_image(project.id, sha(png("purple")))


async def test_a_refused_fifth_reference_leaves_no_file(prod: Production) -> None:
    project = await film(prod)
    await four_references(prod, project)
    with pytest.raises(EditError):
        await prod.cast.add_reference(SCOPE, project.id, "ana", "Mia", png("purple"))
    assert f"{sha(png('purple'))}.png" not in {p.name for p in stored_files(prod)}


async def test_a_generated_portrait_becomes_the_front_reference(prod: Production) -> None:
    project = await film(prod)
    gallery = await prod.cast.gallery(SCOPE, project.id, "mia", count=3)
    assert (gallery.kind, gallery.name, len(gallery.candidates)) == (
        ElementKind.CHARACTER,
        "Mia",
        3,
    )
    assert all(path.is_file() for path in gallery.candidates)
    assert len({path.read_bytes() for path in gallery.candidates}) == 3  # three different looks
    unchanged = await prod.project(SCOPE, project.id)
    assert unchanged.head == project.head  # nothing in the bible changes until a pick
    change = await prod.cast.pick(SCOPE, project.id, "ana", "Mia", gallery.candidates[1].stem[:10])
    assert change.affected == ["2", "4"]
    [reference] = change.turn.project.shotlist.character("Mia").references
    assert reference.sha256 == gallery.candidates[1].stem and reference.source.value == "generated"
    with pytest.raises(InvalidValue, match="does not name a portrait"):
        await prod.cast.pick(SCOPE, project.id, "ana", "Mia", "../etc")


async def test_a_continuing_shot_starts_from_the_previous_takes_last_frame(
    prod: Production,
) -> None:
    from studio.edits import ShotChanges, UpdateShot

    project = await film(prod)
    edit = UpdateShot(shot="2", changes=ShotChanges(continues=True))
    project = (await prod.edit(SCOPE, project.id, "ana", edit)).project
    await prod.wait((await prod.render(SCOPE, project.id, "ana", ["1"])).id)
    first = (await prod.store.takes(project.id, project.shotlist.shots[0].uid))[-1]
    batch = await prod.render(SCOPE, project.id, "ana", ["2", "3"])
    await prod.wait(batch.id)
    second = (await prod.store.takes(project.id, project.shotlist.shots[1].uid))[-1]
    still = second.request["first_frame"]
    assert still is not None and still["name"] == "shot 1" and still["view"] == "last frame"
    third = (await prod.store.takes(project.id, project.shotlist.shots[2].uid))[-1]
    assert third.request["first_frame"] is None  # shot 3 does not continue shot 2
    # The still is shot 1's last frame, and a new take of shot 1 gives shot 2 a new start.
    from render.encode import decode_frames

    last = list(decode_frames(Path(first.clip)))[-1]
    with Image.open(still["path"]) as image:
        assert image.size == (last.shape[1], last.shape[0])
    assert second.info.get("first_frame")  # the renderer says whether it could use it
    closer = UpdateShot(shot="1", changes=ShotChanges(size="close-up"))
    await prod.edit(SCOPE, project.id, "ana", closer)
    await prod.wait((await prod.render(SCOPE, project.id, "ana", ["1"])).id)
    again = await prod.render(SCOPE, project.id, "ana", ["2"])
    assert [number for _, number in again.jobs] == ["2"]


async def test_a_new_description_names_the_shots_to_render_again(prod: Production) -> None:
    from studio.edits import SetCharacter

    project = await film(prod)
    turn = await prod.edit(
        SCOPE, project.id, "ana", SetCharacter(name="Mia", description="silver hair, red coat")
    )
    assert turn.notes == ["Mia is in shots 2 and 4: render them again to follow."]
    untouched = await prod.edit(
        SCOPE, project.id, "ana", SetCharacter(name="Mia", description="silver hair, red coat")
    )
    assert untouched.notes == []
