"""Restarts, refusals from Discord and slow work lose nothing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from agents.base import Director
from tests.bot.discord.conftest import BRIEF, finish_renders, labels, project_of, thread_of


async def test_restart_mid_render_finishes_and_old_buttons_work(world: Any) -> None:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)
    listing = [m for m in thread.history() if m.components][-1]
    await world.alice.slash(thread, "render")
    await world.env.restart_bot()  # the production (and its render pool) keeps going

    await finish_renders(world, project.id)
    history = thread.history()
    status = [m for m in history if m.content.startswith("🎬")]
    assert len(status) == 1 and "batch finished" in status[0].content
    takes = [m for m in history if m.attachments and m.embeds]
    assert len(takes) == len(project.shotlist.shots)
    assert all(t.message for t in await world.env.bot.production.store.takes(project.id))

    board = await world.bob.click(listing, label="Storyboard")  # posted before the restart
    assert board.response.attachments
    approved = await world.alice.click(takes[0], label="Approve")
    assert "approved" in approved.response.content


async def test_rate_limited_post_is_retried(world: Any) -> None:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)
    world.env.inject_error(
        "POST",
        f"/channels/{thread.id}/messages",
        status=429,
        code=0,
        message="You are being rate limited.",
        times=2,
    )
    await world.alice.slash(thread, "render", shots="1")
    await finish_renders(world, project.id)
    await world.env.advance_time(10)  # the retry back-off runs on the virtual clock
    history = thread.history()
    assert [m for m in history if m.content.startswith("🎬")]
    takes = [m for m in history if m.attachments and m.embeds]
    assert len(takes) == 1 and labels(takes[0]) == [
        "Approve",
        "Reroll",
        "Revise",
        "Use as reference",
    ]
    attempts = [
        r
        for r in world.env.http_requests
        if r.method == "POST"
        and r.path == f"/channels/{thread.id}/messages"
        and ((r.json or {}).get("content") or "").startswith("🎬")
    ]
    assert len(attempts) == 3  # refused twice, delivered on the third try


class SlowDirector:
    """The offline director behind a 10 s think (virtual time): longer than Discord's 3 s."""

    def __init__(self, inner: Director) -> None:
        self.inner, self.name = inner, inner.name

    async def plan(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(10)
        return await self.inner.plan(*args, **kwargs)

    async def direct(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(10)
        return await self.inner.direct(*args, **kwargs)


async def test_commands_are_acknowledged_while_the_director_is_slow(world: Any) -> None:
    prod = world.env.bot.production
    prod.direction.director = SlowDirector(prod.direction.director)
    result = await world.alice.slash(world.channel, "direct", brief=BRIEF)
    assert result.acknowledged and result.deferred  # answered at once, still thinking
    await world.env.advance_time(11)
    thread = thread_of(world.channel)
    assert thread.mention in result.response.content

    revise = await world.alice.slash(thread, "revise", number="1", instruction="wide shot")
    assert revise.acknowledged and revise.deferred
    await world.env.advance_time(11)
    assert "```diff" in revise.response.content


class GlacialDirector(SlowDirector):
    """Plans for 16 minutes (virtual time): past the 15-minute life of an interaction token."""

    async def plan(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(16 * 60)
        return await self.inner.plan(*args, **kwargs)


async def test_direct_outlives_its_interaction_token(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The thread, intro and shot list are ordinary bot messages; only the final pointer needs
    the token, and its expiry is logged, not turned into an error."""
    prod = world.env.bot.production
    prod.direction.director = GlacialDirector(prod.direction.director)
    result = await world.alice.slash(world.channel, "direct", brief=BRIEF)
    assert result.acknowledged and result.deferred
    await world.env.advance_time(16 * 60 + 1)
    await world.env.settle()
    thread = thread_of(world.channel)
    history = thread.history()
    assert any("Mention me here" in m.content for m in history)
    assert [m for m in history if m.embeds and m.components]  # the shot list, with its buttons
    project = await project_of(world, thread)
    assert project is not None and project.room == str(thread.id)
    assert thread.mention not in (result.response.content or "")  # the token had expired
    assert "interaction token expired" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_direct_shrugs_off_an_invalid_webhook_token(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Real Discord may answer an expired token with 401 / 50027 instead of Unknown Webhook."""
    world.env.inject_error(
        "POST", "/webhooks/*", status=401, code=50027, message="Invalid Webhook Token"
    )
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    assert [m for m in thread.history() if m.embeds and m.components]
    assert "interaction token expired" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
