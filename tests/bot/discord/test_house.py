"""Through SimCord: a size the camera can't render is explained by /render and /cut alike; /render
points at its progress without naming the thread it runs in; take files carry the numbers people
see; the pinned shot list is one message, edited in place and paged."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.discord._format import message_pages, shotlist_embeds
from bot.discord._replies import LATE_REFUSAL
from bot.errors import GENERIC_ERROR
from bot.settings import Settings
from studio.edits import ReplaceShots, ShotChanges
from studio.errors import InvalidValue
from tests.bot.discord.conftest import BRIEF, finish_renders, project_of, thread_of

SIZE_RULE = "Width and height must be even, got 65x67."


async def start(world: Any) -> Any:
    result = await world.alice.slash(world.channel, "direct", brief=BRIEF)
    assert result.acknowledged
    return thread_of(world.channel)


def clear(world: Any, kind: type[BaseException]) -> None:
    """Every error since the last check reached the tree's handler (and was answered) and is of
    `kind`; reading `env.errors` acknowledges them for SimCord."""
    errors = [getattr(error, "original", error) for error in world.env.errors]
    assert errors and all(isinstance(error, kind) for error in errors), errors


def custom_ids(message: discord.Message) -> list[str]:
    return [
        str(getattr(child, "custom_id", ""))
        for row in message.components
        for child in getattr(row, "children", ())
    ]


def is_shotlist(message: discord.Message) -> bool:
    return bool(message.embeds) and "project #" in (message.embeds[0].title or "")


# --- 1. an odd render size: /render and /cut both say the rule ----------------------------------


class TestOddRenderSize:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"render_width": 65, "render_height": 67})

    async def test_render_and_cut_explain_the_size_rule(self, world: Any) -> None:
        thread = await start(world)
        project = await project_of(world, thread)

        rendered = await world.alice.slash(thread, "render")
        assert rendered.response.content == LATE_REFUSAL
        [followup] = rendered.followups
        assert followup.ephemeral and followup.content == SIZE_RULE
        clear(world, InvalidValue)

        cut = await world.alice.slash(thread, "cut")
        assert cut.ephemeral and not cut.deferred  # refused before the public "thinking…"
        assert cut.response.content == SIZE_RULE != GENERIC_ERROR
        clear(world, InvalidValue)

        me = world.env.bot.user
        cursor = world.env.error_cursor
        await world.alice.send(thread, f"{me.mention} render it")
        assert thread.history()[-1].content == SIZE_RULE
        assert not world.env.errors_since(cursor)  # answered in words, nothing raised
        assert not await world.env.bot.production.store.open_jobs(project.id)


# --- 2. /render's progress: "below" in the thread, the thread's name from elsewhere -------------


async def test_render_names_the_thread_only_from_outside_it(world: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)

    inside = await world.alice.slash(thread, "render", shots="1")
    assert inside.response.content == "🎥 Rendering shot 1; progress below."
    assert thread.mention not in inside.response.content
    await finish_renders(world, project.id)

    outside = await world.alice.slash(world.channel, "render", shots="2", project=project.id)
    assert outside.response.content == f"🎥 Rendering shot 2; progress in {thread.mention}."
    await finish_renders(world, project.id)


# --- 3. take files are named as the crew sees them ----------------------------------------------


async def test_take_cards_and_files_carry_shot_and_take_numbers(world: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)
    await world.alice.slash(thread, "render", shots="1-2")
    await finish_renders(world, project.id)
    await world.alice.slash(thread, "reroll", number="2")
    await finish_renders(world, project.id)

    cards = [m for m in thread.history() if m.attachments and m.embeds]
    assert [m.embeds[0].title for m in cards] == [
        "Shot 1 · Take 1",
        "Shot 2 · Take 1",
        "Shot 2 · Take 2",
    ]
    assert [m.attachments[0].filename for m in cards] == [
        "shot-1-take-1.mp4",
        "shot-2-take-1.mp4",
        "shot-2-take-2.mp4",
    ]
    # The reroll is the project's third take: the file says take 2 of shot 2, not its id.
    takes = await world.env.bot.production.store.takes(project.id)
    assert takes[-1].id == 3 and cards[-1].embeds[0].footer.text == "take #3"


# --- 4. the pinned shot list --------------------------------------------------------------------


async def test_one_pinned_shot_list_edited_in_place(world: Any) -> None:
    thread = await start(world)
    pinned = [m for m in thread.history() if m.pinned]
    assert len(pinned) == 1 and is_shotlist(pinned[0])
    listing = pinned[0]

    me = world.env.bot.user
    await world.bob.send(thread, f"{me.mention} shot 2: extreme wide shot")
    await world.bob.send(thread, f"{me.mention} shot 1: extreme close-up")

    history = thread.history()
    lists = [m for m in history if is_shotlist(m)]
    assert [m.id for m in lists] == [listing.id]
    assert [m.id for m in history if m.pinned] == [listing.id]
    shown = "\n".join(field.value or "" for field in lists[0].embeds[0].fields)
    assert "**1** · ECU" in shown and "**2** · EWS" in shown, shown
    edits = [
        r
        for r in world.env.http_requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{listing.id}")
    ]
    assert len(edits) == 2


async def test_a_long_pinned_list_pages_with_arrows(world: Any) -> None:
    thread = await start(world)
    listing = next(m for m in thread.history() if m.pinned)
    assert not any(":page:" in cid for cid in custom_ids(listing))  # one page: no arrows

    prod = world.env.bot.production
    project = await project_of(world, thread)
    text = "The keeper climbs the spiral stair, lamp in hand, counting the steps aloud. " * 12
    shots = [ShotChanges(description=text[:900]) for _ in range(40)]
    await prod.edit(project.scope, project.id, "test", ReplaceShots(shots=shots))
    me = world.env.bot.user
    await world.bob.send(thread, f"{me.mention} shot 1: close-up")  # the list follows the change

    project = await project_of(world, thread)
    pages = message_pages(shotlist_embeds(project.shotlist, project.id))
    assert len(pages) >= 2
    listing = next(m for m in thread.history() if m.id == listing.id)
    assert [m.id for m in thread.history() if m.pinned] == [listing.id]
    arrows = [cid for cid in custom_ids(listing) if ":page:" in cid]
    assert arrows == [f"slate:page:{project.id}:0:prev", f"slate:page:{project.id}:1:next"]
    assert listing.embeds[0].footer.text == f"page 1/{sum(len(p) for p in pages)}"

    cursor = world.env.error_cursor
    clicked = await world.carol.click(listing, custom_id=f"slate:page:{project.id}:1:next")
    assert clicked.acknowledged and not world.env.errors_since(cursor)
    listing = next(m for m in thread.history() if m.id == listing.id)
    assert [e.footer.text for e in listing.embeds] == [e.footer.text for e in pages[1]]
    assert [f.value for e in listing.embeds for f in e.fields] == [
        f.value for e in pages[1] for f in e.fields
    ]
    arrows = [cid for cid in custom_ids(listing) if ":page:" in cid]
    assert arrows[0] == f"slate:page:{project.id}:0:prev"  # ◀ now leads back to page 1
    assert not [m for m in thread.history() if is_shotlist(m)]  # page 2 replaced page 1: no copy
