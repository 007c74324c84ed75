"""End to end through SimCord: direct, revise, render, review, cut."""

from __future__ import annotations

import json
from typing import Any

from tests.bot.discord.conftest import BRIEF, finish_renders, labels, project_of, thread_of


async def start(world: Any) -> Any:
    result = await world.alice.slash(world.channel, "direct", brief=BRIEF)
    assert result.acknowledged
    return thread_of(world.channel)


async def test_direct_opens_a_thread_with_the_shot_list(world: Any) -> None:
    result = await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    assert thread.mention in result.response.content
    history = thread.history()
    listing = [m for m in history if m.embeds]
    assert listing, [m.content for m in history]
    assert "project #" in (listing[0].embeds[0].title or "")
    assert labels(listing[-1]) == ["Render all", "Revise", "Storyboard"]
    prod = world.env.bot.production
    project = await prod.store.project_in_room(f"discord:{world.guild.id}", str(thread.id))
    assert project is not None and project.owner == str(world.alice.id)


async def test_mention_revises_and_replies_with_the_diff(world: Any) -> None:
    thread = await start(world)
    me = world.env.bot.user
    await world.bob.send(thread, f"{me.mention} shot 2: extreme wide shot")
    replies = [m for m in thread.history() if m.reference is not None]
    assert replies, [m.content for m in thread.history()]
    assert "```diff" in replies[-1].content and "extreme wide" in replies[-1].content
    # no second list: the pinned one is edited in place and shows the change
    lists = [m for m in thread.history() if m.embeds and "project #" in (m.embeds[0].title or "")]
    assert len(lists) == 1 and lists[0].pinned
    assert "EWS" in lists[0].embeds[0].fields[-1].value
    assert thread.history()[-1].reference is not None  # the reply is the last message


async def test_render_posts_progress_and_takes_with_buttons(world: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)
    result = await world.alice.slash(thread, "render", shots="1-2")
    assert "Rendering shots 1, 2" in result.response.content
    await finish_renders(world, project.id)
    history = thread.history()
    status = [m for m in history if m.content.startswith("🎬")]
    assert len(status) == 1 and "batch finished" in status[0].content
    assert not status[0].components  # Cancel is gone once the batch is done
    takes = [m for m in history if m.attachments and m.embeds]
    assert [m.embeds[0].title.split(" · ")[0] for m in takes] == ["Shot 1", "Shot 2"]
    assert takes[0].attachments[0].filename.endswith(".mp4")
    assert labels(takes[0]) == ["Approve", "Reroll", "Revise", "Use as reference"]
    fields = {f.name: f.value for f in takes[0].embeds[0].fields}
    assert {"Seed", "Model", "Size", "Move", "Render time"} <= set(fields)
    stored = await world.env.bot.production.store.takes(project.id)
    assert all(take.message for take in stored)
    edits = [
        r
        for r in world.env.http_requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{status[0].id}")
    ]
    assert edits, "the status message is edited in place"


async def test_approve_reroll_and_revise_buttons(world: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)
    await world.alice.slash(thread, "render", shots="1")
    await finish_renders(world, project.id)
    take_message = next(m for m in thread.history() if m.attachments and m.embeds)

    approved = await world.carol.click(take_message, label="Approve")
    assert "approved" in approved.response.content
    prod = world.env.bot.production
    assert await prod.store.approvals(project.id)

    rerolled = await world.carol.click(take_message, label="Reroll")
    assert "Rendering shot 1" in rerolled.response.content
    await finish_renders(world, project.id)
    assert len(await prod.store.takes(project.id)) == 2

    shown = await world.bob.click(take_message, label="Revise")
    assert shown.modal is not None
    submitted = await world.bob.submit_modal(shown, {"instruction": "extreme close-up"})
    assert "```diff" in submitted.response.content
    assert (await prod.project(project.scope, project.id)).shotlist.shot("1").size.value == (
        "extreme close-up"
    )


async def test_project_buttons_render_all_and_storyboard(world: Any) -> None:
    thread = await start(world)
    listing = [m for m in thread.history() if m.components][-1]
    board = await world.bob.click(listing, label="Storyboard")
    assert board.response.attachments[0].filename.endswith(".png")
    shown = await world.bob.click(listing, label="Revise")
    assert shown.modal is not None
    done = await world.bob.submit_modal(shown, {"number": "1", "instruction": "wide shot"})
    assert "```diff" in done.response.content


async def test_cut_storyboard_and_export(world: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)
    await world.alice.slash(thread, "render")
    await finish_renders(world, project.id)
    cut = await world.bob.slash(thread, "cut")
    names = [a.filename for a in cut.response.attachments]
    assert any(n.endswith(".mp4") for n in names) and any(n.endswith(".otio") for n in names)
    board = await world.bob.slash(thread, "storyboard")
    assert board.response.attachments[0].filename.endswith(".png")
    exported = await world.bob.slash(thread, "export", format="json")
    attachment = exported.response.attachments[0]
    assert attachment.filename == f"shotlist-{project.id}.json"
    data = json.loads(await attachment.read())
    assert len(data["shots"]) == len(project.shotlist.shots)


async def test_status_message_shows_progress_bars_when_time_allows(world: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)
    ticks = iter(range(0, 10_000, 3))
    world.env.bot.reporter.clock = lambda: float(next(ticks))  # 3 s between events: all shown
    await world.alice.slash(thread, "render", shots="1")
    await finish_renders(world, project.id)
    status = next(m for m in thread.history() if m.content.startswith("🎬"))
    edits = [
        r.json.get("content", "")
        for r in world.env.http_requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{status.id}")
    ]
    assert any("▰" in text and "/" in text for text in edits), edits
    assert "batch finished" in edits[-1]


async def test_a_take_over_the_upload_limit_still_posts(world: Any, monkeypatch: Any) -> None:
    import discord

    thread = await start(world)
    project = await project_of(world, thread)
    monkeypatch.setattr(discord.Guild, "filesize_limit", property(lambda self: 2_000))
    await world.alice.slash(thread, "render", shots="1")
    await finish_renders(world, project.id)
    take = next(m for m in thread.history() if m.embeds and m.embeds[0].title.startswith("Shot"))
    assert not take.attachments and "limit" in take.content
    assert labels(take) == ["Approve", "Reroll", "Revise", "Use as reference"]


async def test_the_smaller_commands(world: Any) -> None:
    thread = await start(world)
    styled = await world.carol.slash(thread, "style set", preset="film noir")
    assert "```diff" in styled.response.content
    assert "film noir" in (await world.bob.slash(thread, "style show")).response.content
    choices = await world.bob.autocomplete(thread, "style set", "preset", "no")
    assert [c["value"] for c in choices] == ["film noir"]
    await world.carol.slash(thread, "cast add", name="Mara", description="the keeper, 60, oilskin")
    assert "Mara" in (await world.bob.slash(thread, "cast list")).response.content
    shot = await world.bob.slash(thread, "shot", number="2")
    assert shot.response.embeds[0].title.startswith("Shot 2 · ")
    assert "/direct" in (await world.bob.slash(thread, "help")).response.content
    assert "Nothing" in (await world.bob.slash(thread, "queue")).response.content
    assert "Nothing" in (await world.alice.slash(thread, "cancel")).response.content
    # undo takes back the caller's own last change, and names who made someone else's
    refused = await world.alice.slash(thread, "undo")
    assert refused.ephemeral and not refused.deferred and "was made by" in refused.response.content
    world.env.errors.clear()
    undone = await world.carol.slash(thread, "undo")
    assert "Undone" in undone.response.content


async def test_cut_without_takes_is_refused_ephemerally(world: Any) -> None:
    """The refusal came after the public defer, so the whole channel saw it."""
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    result = await world.alice.slash(thread, "cut")
    assert result.ephemeral and not result.deferred and "render first" in result.response.content
    world.env.errors.clear()


async def test_help_names_every_command(world: Any) -> None:
    result = await world.bob.slash(world.channel, "help")
    tree = world.env.bot.tree
    names = [c.name for c in tree.get_commands()]
    assert set(names) >= {"direct", "delete", "cast", "style"}
    missing = [n for n in names if f"/{n}" not in result.response.content and n != "help"]
    assert not missing, missing


async def test_approve_marks_the_take_card_and_releases_the_one_it_replaces(world: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)
    await world.alice.slash(thread, "render", shots="1")
    await finish_renders(world, project.id)
    first = next(m for m in thread.history() if m.attachments and m.embeds)
    assert first.embeds[0].title == "Shot 1 · Take 1"

    approved = await world.alice.click(first, label="Approve")
    assert "Shot 1 · Take 1** approved" in approved.response.content
    assert "1/" in approved.response.content
    card = next(m for m in thread.history() if m.id == first.id)
    assert card.embeds[0].title == "Shot 1 · Take 1 · Approved ✓"
    [button] = [c for row in card.components for c in row.children if c.label == "Approved"]
    assert button.disabled  # type: ignore[union-attr]
    assert card.attachments, "the clip stays on the card"

    await world.alice.click(card, label="Reroll")
    await finish_renders(world, project.id)
    second = [m for m in thread.history() if m.attachments and m.embeds][-1]
    assert second.embeds[0].title == "Shot 1 · Take 2"
    await world.alice.click(second, label="Approve")
    history = {m.id: m for m in thread.history()}
    assert history[second.id].embeds[0].title.endswith("Approved ✓")
    assert history[first.id].embeds[0].title == "Shot 1 · Take 1"  # released
    assert "Approve" in labels(history[first.id])
