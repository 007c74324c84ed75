"""Reference images through SimCord: `/cast image`, "@Slate this is Mia" with a picture, and "Use
as reference" under a take. Only the owner and the crew change the cast; a viewer is refused
before anything is stored; a file that can't be a reference gets a clear refusal and changes
nothing. The shot list is set with typed edits after /direct, so who is in which shot doesn't
depend on how the director plans."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from studio.edits import ReplaceShots, SetCharacter, ShotChanges
from studio.errors import InvalidImage, PermissionDenied
from studio.images import MAX_BYTES
from studio.records import Project
from studio.vocab import ReferenceSource
from tests.bot.discord.conftest import BRIEF, finish_renders, labels, project_of, thread_of


def png(colour: str, size: tuple[int, int] = (320, 288)) -> bytes:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).ellipse((60, 40, 260, 250), fill="white", outline="black", width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def swallowed(world: Any, kind: type[BaseException]) -> None:
    """The error reached the tree's handler (and was answered); acknowledge it for SimCord."""
    errors = [getattr(error, "original", error) for error in world.env.errors]
    assert any(isinstance(error, kind) for error in errors), errors


def stored_files(world: Any) -> list[Path]:
    folder = world.env.bot.production.store.images_dir
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def pinned_list(thread: Any) -> Any:
    [listing] = [
        m for m in thread.history() if m.embeds and "project #" in (m.embeds[0].title or "")
    ]
    assert listing.pinned
    return listing


def edits_of(world: Any, message: Any) -> int:
    return sum(
        1
        for r in world.env.http_requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{message.id}")
    )


async def start(world: Any) -> tuple[Any, Project]:
    """A project thread whose film has Mia in shots 2 and 3 and Cole in 1 and 2."""
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)
    shots = [
        ShotChanges(description="Cole hauls the boat up the shingle", characters=["Cole"]),
        ShotChanges(description="Mia hands Cole the bottle", characters=["Mia", "Cole"]),
        ShotChanges(description="Mia reads the message by lamplight", characters=["Mia"]),
        ShotChanges(description="The reef at dawn, waves breaking"),
    ]
    shots = [changes.model_copy(update={"duration": 1.0}) for changes in shots]
    store = world.env.bot.production.store
    project = await store.apply_many(
        project.scope,
        project.id,
        [
            SetCharacter(name="Mia", description="the keeper, 60, oilskin coat"),
            SetCharacter(name="Cole", description="a fisherman, 30s, wool cap"),
            ReplaceShots(shots=shots),
        ],
        str(world.alice.id),
    )
    return thread, project


async def current(world: Any, project: Project) -> Project:
    found: Project = await world.env.bot.production.project(project.scope, project.id)
    return found


def mia_digests(project: Project) -> list[str]:
    mia = project.shotlist.character("Mia")
    assert mia is not None
    return [reference.sha256 for reference in mia.references]


def answer(result: Any) -> str:
    """The public answer of a deferred command: its followup, else its edited response."""
    messages = [*result.followups] or [result.response]
    return "\n".join(m.content for m in messages)


# --- /cast image ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "carol"])  # the owner, and the crew
async def test_cast_image_by_the_crew_adds_a_reference(world: Any, who: str) -> None:
    thread, project = await start(world)
    listing = pinned_list(thread)
    edits_before = edits_of(world, listing)
    image = png("steelblue")

    result = await getattr(world, who).slash(
        thread, "cast image", name="Mia", image=("mia.png", image)
    )
    assert result.acknowledged and not result.ephemeral
    text = answer(result)
    assert "```diff" in text and "Mia" in text and "reference" in text
    assert "2 and 3" in text  # which shots to render again

    after = await current(world, project)
    assert mia_digests(after) == [sha(image)] and after.head == project.head + 1
    mia = after.shotlist.character("Mia")
    assert mia is not None and mia.references[0].added_by == str(getattr(world, who).id)
    assert edits_of(world, listing) > edits_before  # the pinned list follows the change
    assert pinned_list(thread).id == listing.id  # edited in place, not posted again


async def test_cast_image_by_a_viewer_is_refused_before_anything_is_stored(world: Any) -> None:
    thread, project = await start(world)
    result = await world.bob.slash(thread, "cast image", name="Mia", image=("mia.png", png("red")))
    assert result.ephemeral and not result.deferred
    assert "Crew" in result.response.content
    swallowed(world, PermissionDenied)
    assert (await current(world, project)).head == project.head
    assert stored_files(world) == []


SLASH_REFUSALS = {
    "tiny image": (("mia.png", png("red", (120, 90))), "256"),
    "text file": (("mia.txt", b"Mia: the keeper, 60, oilskin coat"), "not an image"),
    "over 20 MB": (("mia.png", png("red") + bytes(MAX_BYTES)), "20 MB"),
}


@pytest.mark.parametrize("case", list(SLASH_REFUSALS))
async def test_cast_image_refuses_a_bad_file_ephemerally(world: Any, case: str) -> None:
    upload, says = SLASH_REFUSALS[case]
    thread, project = await start(world)
    result = await world.alice.slash(thread, "cast image", name="Mia", image=upload)
    assert result.ephemeral and not result.deferred and says in result.response.content
    swallowed(world, InvalidImage)
    assert (await current(world, project)).head == project.head
    assert stored_files(world) == []


# --- "@Slate this is Mia" with an image ---------------------------------------------------------


async def test_a_mention_with_an_image_adds_a_reference(world: Any) -> None:
    thread, project = await start(world)
    listing = pinned_list(thread)
    edits_before = edits_of(world, listing)
    me = world.env.bot.user
    image = png("darkorange")
    await world.carol.send(thread, f"{me.mention} this is Mia", attachments=[("mia.png", image)])
    reply = next(m for m in reversed(thread.history()) if m.reference is not None)
    assert reply.reference is not None
    assert "```diff" in reply.content and "2 and 3" in reply.content
    after = await current(world, project)
    assert mia_digests(after) == [sha(image)] and after.head == project.head + 1
    assert edits_of(world, listing) > edits_before


async def test_a_mention_by_a_viewer_with_an_image_is_refused(world: Any) -> None:
    thread, project = await start(world)
    me = world.env.bot.user
    await world.bob.send(thread, f"{me.mention} this is Mia", attachments=[("mia.png", png("red"))])
    assert "Crew" in thread.history()[-1].content
    assert (await current(world, project)).head == project.head
    assert stored_files(world) == []


BAD_UPLOADS = {
    "tiny image": (("mia.png", png("red", (64, 64))), "256"),
    "not an image, named as one": (("mia.png", b"just some words, not a picture"), "not an image"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
async def test_a_mention_with_a_bad_image_gets_a_clear_refusal(world: Any, case: str) -> None:
    upload, says = BAD_UPLOADS[case]
    thread, project = await start(world)
    me = world.env.bot.user
    cursor = world.env.error_cursor
    await world.alice.send(thread, f"{me.mention} this is Mia", attachments=[upload])
    reply = thread.history()[-1]
    assert reply.reference is not None and says in reply.content
    assert not world.env.errors_since(cursor)  # answered in words, nothing raised
    assert (await current(world, project)).head == project.head
    assert stored_files(world) == []


async def test_a_mention_with_a_file_that_is_not_an_image_gets_a_clear_refusal(
    world: Any,
) -> None:
    thread, project = await start(world)
    me = world.env.bot.user
    notes = ("mia.txt", b"Mia: the keeper, 60, oilskin coat")
    await world.alice.send(thread, f"{me.mention} this is Mia", attachments=[notes])
    reply = thread.history()[-1]
    assert reply.reference is not None and "not an image" in reply.content
    assert (await current(world, project)).head == project.head


# --- "Use as reference" under a take -------------------------------------------------------------


async def test_use_as_reference_on_a_take_card_adds_its_frame(world: Any) -> None:
    thread, project = await start(world)
    await world.alice.slash(thread, "render", shots="3")
    await finish_renders(world, project.id)
    card = next(m for m in thread.history() if m.attachments and m.embeds)
    assert "Use as reference" in labels(card)
    [take] = await world.env.bot.production.store.takes(project.id)

    denied = await world.bob.click(card, label="Use as reference")
    assert denied.modal is None and denied.ephemeral and "Crew" in denied.response.content

    shown = await world.carol.click(card, label="Use as reference")
    assert shown.modal is not None
    submitted = await world.carol.submit_modal(shown, {"name": "Mia"})
    text = answer(submitted)
    assert "```diff" in text and "2 and 3" in text

    after = await current(world, project)
    mia = after.shotlist.character("Mia")
    assert mia is not None and len(mia.references) == 1
    reference = mia.references[0]
    assert reference.source is ReferenceSource.TAKE and reference.added_by == str(world.carol.id)
    assert (reference.width, reference.height) == (take.request["width"], take.request["height"])
    assert [p.name for p in stored_files(world)] == [reference.file_name]


async def test_generate_pick_again_and_describe_a_portrait(world: Any) -> None:
    """/cast generate posts candidates with buttons; Pick makes one the front reference, Again
    draws new ones, Describe again rewrites the bible and draws from it."""
    thread, project = await start(world)
    await world.alice.slash(thread, "cast generate", name="Mia", count=3)
    gallery = next(
        m for m in thread.history() if m.embeds and "Portraits for Mia" in (m.embeds[0].title or "")
    )
    assert len(gallery.attachments) == 3 and gallery.embeds[0].footer.text == "character · Mia"
    assert labels(gallery)[:3] == ["Pick 1", "Pick 2", "Pick 3"]
    viewer = await world.bob.click(gallery, label="Pick 1")  # a viewer may not cast
    assert viewer.ephemeral and "Crew" in viewer.response.content
    picked = await world.alice.click(gallery, label="Pick 2")
    assert "Mia has a new front reference" in answer(picked) and "2 and 3" in answer(picked)
    current = await world.env.bot.production.project(project.scope, project.id)
    [reference] = current.shotlist.character("Mia").references
    assert reference.source is ReferenceSource.GENERATED
    before = len(
        [m for m in thread.history() if m.embeds and "Portraits" in (m.embeds[0].title or "")]
    )
    await world.alice.click(gallery, label="Again")
    after = [m for m in thread.history() if m.embeds and "Portraits" in (m.embeds[0].title or "")]
    assert len(after) == before + 1
    modal = await world.alice.click(after[-1], label="Describe again")
    assert modal.modal is not None
    await world.alice.submit_modal(modal, {"description": "silver-haired, in a red raincoat"})
    current = await world.env.bot.production.project(project.scope, project.id)
    assert current.shotlist.character("Mia").description == "silver-haired, in a red raincoat"
    galleries = [
        m for m in thread.history() if m.embeds and "Portraits" in (m.embeds[0].title or "")
    ]
    assert len(galleries) == before + 2
