"""Fixes from review: role mentions, refusals after a public defer, /direct's rate limit, cast
lengths, project lookup across many projects, and take uploads Discord refuses."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.discord._format import strip_mentions
from bot.discord._limits import SlidingWindow
from bot.discord._replies import LATE_REFUSAL
from bot.discord._uploads import REQUEST_LIMIT, upload_limit
from bot.settings import Settings
from render.pool import QueueEntry
from studio.errors import LimitReached, SlateError
from studio.models import ShotList
from tests.bot.discord.conftest import BRIEF, finish_renders, labels, project_of, thread_of


def clear(world: Any, kind: type[BaseException]) -> None:
    """The error reached the tree's handler (and was answered); acknowledge it for SimCord."""
    errors = [getattr(error, "original", error) for error in world.env.errors]
    assert any(isinstance(error, kind) for error in errors), errors
    world.env.errors.clear()


async def start(world: Any) -> Any:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    return thread_of(world.channel)


# --- 1. mentions of the bot's managed role ------------------------------------------------------


def test_strip_mentions_removes_user_nick_and_role_mentions() -> None:
    text = "<@7> shot 2: <@!7> wide, <@&9> please <@8> <@&10>"
    assert strip_mentions(text, 7, 9) == "shot 2:  wide,  please <@8> <@&10>"
    assert strip_mentions("<@&9>", None, 9) == ""
    assert strip_mentions("<@17> hi", 7) == "<@17> hi"  # another user whose id ends the same


class TestRoleMention:
    """Discord hides the content of a message that only mentions the bot's role unless the bot
    has the message-content intent (SimCord too), so this runs with the intent on."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"discord_message_content": True})

    async def test_a_mention_of_the_bots_role_is_stripped(
        self, world: Any, monkeypatch: Any
    ) -> None:
        # SimCord's managed bot role carries no tags, so Guild.self_role can't find it itself.
        me = world.env.bot.user
        monkeypatch.setattr(
            discord.Guild,
            "self_role",
            property(lambda guild: next(r for r in guild.roles if r.managed and r.name == me.name)),
        )
        thread = await start(world)
        role = world.env.bot.get_guild(world.guild.id).self_role
        await world.bob.send(thread, f"<@&{role.id}> shot 2: extreme wide shot")
        replies = [m for m in thread.history() if m.reference is not None]
        assert replies and "extreme wide" in replies[-1].content
        turns = await world.env.bot.production.store.turns((await project_of(world, thread)).id)
        assert [t.content for t in turns if t.role == "user"][-1] == "shot 2: extreme wide shot"


# --- 2. refusals after a public defer stay private ---------------------------------------------


async def test_render_over_the_open_limit_is_refused_before_deferring(world: Any) -> None:
    thread = await start(world)
    world.env.bot.production.renders.max_open_renders = 0
    result = await world.alice.slash(thread, "render", shots="1")
    assert result.ephemeral and not result.deferred and "limit is 0" in result.response.content
    clear(world, LimitReached)


async def test_render_without_a_pool_is_refused_before_deferring(
    world: Any, monkeypatch: Any
) -> None:
    thread = await start(world)
    monkeypatch.setattr(world.env.bot.production.renders, "pool", None)
    result = await world.alice.slash(thread, "render")
    assert result.ephemeral and not result.deferred and "not set up" in result.response.content
    clear(world, SlateError)


async def test_a_refusal_after_the_defer_goes_to_the_user_alone(world: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)
    world.env.bot.production.renders.max_open_renders = 1  # 0 open: passes the early check; 2 > 1
    result = await world.alice.slash(thread, "render", shots="1-2")
    assert result.response.content == LATE_REFUSAL and not result.ephemeral
    assert "limit" not in result.response.content
    [followup] = result.followups
    assert followup.ephemeral and "limit is 1" in followup.content
    clear(world, LimitReached)
    await finish_renders(world, project.id)


async def test_a_director_failure_in_direct_is_private(world: Any, monkeypatch: Any) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise SlateError("The director is out to lunch.")

    monkeypatch.setattr(world.env.bot.production.direction.director, "plan", broken)
    result = await world.alice.slash(world.channel, "direct", brief=BRIEF)
    assert "lunch" not in result.response.content
    assert [(f.ephemeral, f.content) for f in result.followups] == [
        (True, "The director is out to lunch.")
    ]
    clear(world, SlateError)


async def test_storyboard_of_an_empty_shot_list_is_refused_before_deferring(world: Any) -> None:
    store = world.env.bot.production.store
    empty = await store.create_project(f"discord:{world.guild.id}", str(world.alice.id), ShotList())
    result = await world.alice.slash(world.channel, "storyboard", project=empty.id)
    assert result.ephemeral and not result.deferred and "no shots" in result.response.content
    world.env.errors.clear()


# --- 3. /direct is rate limited; the window forgets idle keys and says its real length ----------


async def test_direct_counts_against_the_direction_limit(world: Any) -> None:
    world.env.bot.directions.limit = 1
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    again = await world.alice.slash(world.channel, "direct", brief=BRIEF)
    assert again.ephemeral and not again.deferred and "Try again" in again.response.content
    clear(world, LimitReached)


def test_sliding_window_drops_idle_keys_and_names_its_window() -> None:
    now = [0.0]
    window = SlidingWindow(1, window=10, clock=lambda: now[0])
    window.hit((1, 1))
    with pytest.raises(LimitReached, match="at most 1 directions every 10 s"):
        window.hit((1, 1))
    now[0] = 11
    window.hit((1, 2))
    assert list(window._events) == [(1, 2)]
    longer = SlidingWindow(1, window=300, clock=lambda: 0.0)
    longer.hit((1, 1))
    with pytest.raises(LimitReached, match="every 5 minutes"):
        longer.hit((1, 1))


# --- 4. /cast add refuses over-long input -------------------------------------------------------


async def test_cast_add_declares_its_length_limits(world: Any) -> None:
    thread = await start(world)
    add = world.env.bot.tree.get_command("cast").get_command("add")
    lengths = {p.name: (p.min_value, p.max_value) for p in add.parameters}
    assert lengths["name"] == (1, 80) and lengths["description"] == (1, 1000)
    with pytest.raises(Exception, match="at most 80"):  # Discord's client refuses to send it
        await world.carol.slash(thread, "cast add", name="M" * 81, description="the keeper")
    await world.carol.slash(thread, "cast add", name="M" * 80, description="d" * 1000)
    cast = (await project_of(world, thread)).shotlist.characters
    assert cast[-1].name == "M" * 80 and cast[-1].description == "d" * 1000


# --- 5. projects beyond the newest 25 (autocomplete) and 100 (/queue) ---------------------------


async def test_autocomplete_and_queue_reach_old_projects(world: Any, monkeypatch: Any) -> None:
    prod = world.env.bot.production
    scope = f"discord:{world.guild.id}"
    old = await prod.store.create_project(
        scope, str(world.alice.id), ShotList(title="Zebra crossing")
    )
    for number in range(110):
        await prod.store.create_project(
            scope, str(world.alice.id), ShotList(title=f"Film {number}")
        )
    other = world.env.create_guild(name="Studio B")
    foreign = await prod.store.create_project(f"discord:{other.id}", "1", ShotList(title="Zebra"))

    choices = await world.bob.autocomplete(world.channel, "shots", "project", "zebra")
    assert [c["value"] for c in choices] == [old.id]
    by_id = await world.bob.autocomplete(world.channel, "shots", "project", f"#{old.id}")
    assert by_id[0]["value"] == old.id and len(by_id) == 25

    entries = [
        QueueEntry("a", str(world.alice.id), f"#{old.id} shot 1", 0, 0, old.id),
        QueueEntry("b", "1", f"#{foreign.id} shot 1", 0, 1, foreign.id),
    ]
    monkeypatch.setattr(prod.renders.pool, "queue", lambda: entries)
    queue = await world.bob.slash(world.channel, "queue")
    assert f"#{old.id} shot 1" in queue.response.content
    assert f"#{foreign.id} shot" not in queue.response.content


# --- 6. a take upload Discord refuses still posts, and the batch keeps reporting ----------------


async def test_a_refused_take_upload_posts_a_text_fallback(world: Any, monkeypatch: Any) -> None:
    thread = await start(world)
    project = await project_of(world, thread)
    send = discord.abc.Messageable.send

    async def refusing(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("file") is not None and str(kwargs["file"].filename).endswith(".mp4"):
            response = SimpleNamespace(status=413, reason="Payload Too Large")
            raise discord.HTTPException(
                response,  # type: ignore[arg-type]
                {"code": 40005, "message": "Request entity too large"},
            )
        return await send(self, *args, **kwargs)

    monkeypatch.setattr(discord.abc.Messageable, "send", refusing)
    await world.alice.slash(thread, "render", shots="1-2")
    await finish_renders(world, project.id)
    history = thread.history()
    takes = [m for m in history if m.embeds and (m.embeds[0].title or "").startswith("Shot")]
    assert [m.embeds[0].title.split(" · ")[0] for m in takes] == ["Shot 1", "Shot 2"]
    assert all("couldn't be attached" in m.content and not m.attachments for m in takes)
    assert all(labels(m) == ["Approve", "Reroll", "Revise", "Use as reference"] for m in takes)
    assert "batch finished" in next(m for m in history if m.content.startswith("🎬")).content
    assert all(take.message for take in await world.env.bot.production.store.takes(project.id))


def test_upload_limit_is_capped_per_request() -> None:
    guild = SimpleNamespace(filesize_limit=100 * 1024 * 1024)
    assert upload_limit(None, guild) == REQUEST_LIMIT == 25 * 1024 * 1024  # type: ignore[arg-type]
    assert upload_limit(None, SimpleNamespace(filesize_limit=10)) == 10  # type: ignore[arg-type]
