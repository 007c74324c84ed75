"""Who may do what, and nothing crosses from one guild to another."""

from __future__ import annotations

from typing import Any

from studio.errors import LimitReached, NotFound, PermissionDenied
from tests.bot.discord.conftest import BRIEF, finish_renders, project_of, thread_of


def swallowed(world: Any, kind: type[BaseException]) -> None:
    """The error reached the tree's handler (and was answered); acknowledge it for SimCord."""
    errors = [getattr(error, "original", error) for error in world.env.errors]
    assert any(isinstance(error, kind) for error in errors), errors


async def test_viewer_cannot_render_but_crew_and_owner_can(world: Any) -> None:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)

    denied = await world.bob.slash(thread, "render")
    assert denied.ephemeral and "Crew" in denied.response.content
    assert "comment" in denied.response.content
    swallowed(world, PermissionDenied)
    assert not await world.env.bot.production.store.open_jobs(project.id)

    allowed = await world.carol.slash(thread, "render", shots="1")
    assert not allowed.ephemeral and "Rendering shot 1" in allowed.response.content
    await finish_renders(world, project.id)

    undo = await world.bob.slash(thread, "undo")
    assert undo.ephemeral and "undo" in undo.response.content
    swallowed(world, PermissionDenied)


async def test_viewer_may_direct_but_not_edit_style_or_cast(world: Any) -> None:
    """Directing is open to everyone; /style set and /cast add are the crew's, like /undo."""
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    store = world.env.bot.production.store
    head = (await project_of(world, thread)).head

    revised = await world.bob.slash(thread, "revise", number="1", instruction="wide shot")
    assert not revised.ephemeral and "```diff" in revised.response.content
    head += 1
    assert (await project_of(world, thread)).head == head

    for command, options, why in (
        ("style set", {"preset": "noir"}, "style preset"),
        ("cast add", {"name": "Mara", "description": "the keeper"}, "cast"),
    ):
        denied = await world.bob.slash(thread, command, **options)
        assert denied.ephemeral and "**Crew**" in denied.response.content
        assert why in denied.response.content and "comment" in denied.response.content
        swallowed(world, PermissionDenied)
        assert (await project_of(world, thread)).head == head  # nothing was written

        allowed = await world.carol.slash(thread, command, **options)
        assert not allowed.ephemeral
        head += 1
        assert (await project_of(world, thread)).head == head
    assert [
        c.name
        for c in (
            await store.project_in_room(f"discord:{world.guild.id}", str(thread.id))
        ).shotlist.characters
    ][-1] == "Mara"


async def test_bad_input_is_refused_before_deferring(world: Any) -> None:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    result = await world.alice.slash(thread, "render", shots="1,99")
    assert result.ephemeral and not result.deferred and "no shot 99" in result.response.content
    swallowed(world, Exception)
    outside = await world.alice.slash(world.channel, "shots")
    assert outside.ephemeral and "project" in outside.response.content
    swallowed(world, Exception)


async def test_projects_do_not_cross_guilds(world: Any) -> None:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    project = await project_of(world, thread_of(world.channel))

    other = world.env.create_guild(name="Studio B")
    lobby = other.create_text_channel("lobby")
    dave = other.add_member(world.env.create_user("dave"))
    await dave.slash(lobby, "direct", brief="Two kids race paper boats down a flooded street.")
    result = await dave.slash(lobby, "shots", project=project.id)
    assert result.ephemeral and "project" in result.response.content.lower()
    swallowed(world, NotFound)

    choices = await dave.autocomplete(lobby, "shots", "project", "")
    names = [choice["name"] for choice in choices]
    assert names and all(f"#{project.id} " not in name for name in names)
    mine = await world.alice.autocomplete(world.channel, "shots", "project", "")
    assert [choice["value"] for choice in mine] == [project.id]


async def test_direction_rate_limit(world: Any, settings: Any) -> None:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    world.env.bot.directions.limit = 1
    me = world.env.bot.user
    await world.bob.send(thread, f"{me.mention} shot 1: wide shot")
    await world.bob.send(thread, f"{me.mention} shot 1: close-up")
    assert "at most 1 directions a minute" in thread.history()[-1].content
    revise = await world.bob.slash(thread, "revise", number="2", instruction="low angle")
    assert revise.ephemeral and "Try again" in revise.response.content
    swallowed(world, LimitReached)


async def test_crafted_buttons_fail_cleanly(world: Any) -> None:
    """A custom_id naming another guild's project, or an id past SQLite's integers, is refused
    with an ephemeral answer, never an unanswered click or a traceback."""
    import discord

    from bot.discord._views import CancelButton, ProjectButton, TakeButton

    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    project = await project_of(world, thread_of(world.channel))
    other = world.env.create_guild(name="Studio B")
    lobby = other.create_text_channel("lobby")
    dave = other.add_member(world.env.create_user("dave"))
    view = discord.ui.View(timeout=None)
    for item in (
        ProjectButton("board", project.id),
        TakeButton("approve", project.id, 1),
        ProjectButton("render", 10**40),
        TakeButton("reroll", 1, 10**40),
        CancelButton(10**30, "ab"),
    ):
        view.add_item(item)
    message = await world.env.bot.get_channel(lobby.id).send("crafted", view=view)
    for custom_id in (
        f"slate:p:board:{project.id}",
        f"slate:approve:{project.id}:1",
        f"slate:p:render:{10**40}",
        f"slate:reroll:1:{10**40}",
        f"slate:cancel:{10**30}:ab",
    ):
        result = await dave.click(message, custom_id=custom_id)
        assert result.ephemeral and "no project" in result.response.content.lower(), custom_id
    assert all(isinstance(getattr(e, "original", e), NotFound) for e in world.env.errors)
    world.env.errors.clear()
