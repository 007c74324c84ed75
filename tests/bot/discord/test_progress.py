"""The status message while renders are held: its preview image, and a whole-process restart.

Renders here go through a held renderer: it shows a large preview frame at once, then waits on a
gate (honouring cancellation) before the real animatic render runs.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from PIL import Image

from bot.app import production, renderer_loader
from bot.discord import create_bot
from bot.production import Production, ProductionEvent
from bot.settings import Settings
from render.types import (
    Renderer,
)
from studio.records import JobState
from tests.bot.discord.conftest import BRIEF, finish_renders, labels, project_of, thread_of
from tests.fakes import gated_loader


def held_loader(settings: Settings, gate: threading.Event) -> Callable[[str, int], Renderer]:
    """Renderers that show a 640 px preview, then hold until the gate opens."""
    return gated_loader(settings, gate, preview=Image.new("RGB", (640, 360), "orange"))


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
async def stack(gate: threading.Event) -> AsyncIterator[AsyncExitStack]:
    """Holds the productions; a test may close it early (a process dying) and reuse it."""
    async with AsyncExitStack() as opened:
        yield opened
    gate.set()


@pytest.fixture
async def prod(
    settings: Settings,
    gate: threading.Event,
    stack: AsyncExitStack,
    monkeypatch: pytest.MonkeyPatch,
) -> Production:
    monkeypatch.setattr("bot.app.renderer_loader", lambda s: held_loader(s, gate))
    return await stack.enter_async_context(production(settings, render=True))


def status_of(thread: Any) -> Any:
    status = [m for m in thread.history() if m.content.startswith("🎬")]
    assert len(status) == 1, [m.content for m in thread.history()]
    return status[0]


def preview_seen(prod: Production) -> asyncio.Event:
    """Set once the production has passed a progress event with a preview to its listeners."""
    seen = asyncio.Event()

    def listen(event: ProductionEvent) -> None:
        if event.state is JobState.RUNNING and event.total > 0 and event.preview is not None:
            seen.set()

    prod.add_listener(listen)
    return seen


async def test_status_message_carries_a_preview_while_rendering(
    world: Any, prod: Production, gate: threading.Event
) -> None:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)
    ticks = iter(range(0, 10_000, 3))
    world.env.bot.reporter.clock = lambda: float(next(ticks))  # 3 s between events: all due
    seen = preview_seen(prod)
    await world.alice.slash(thread, "render", shots="1")
    await asyncio.wait_for(seen.wait(), 10)
    await world.env.settle()

    status = status_of(thread)
    assert [a.filename for a in status.attachments] == ["preview.png"]
    assert status.embeds[0].image.url == "attachment://preview.png"
    image = Image.open(io.BytesIO(await status.attachments[0].read()))
    assert image.format == "PNG" and image.width <= 320 and image.height == 180
    patches = [
        r.json or {}
        for r in world.env.http_requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{status.id}")
    ]
    assert any(p.get("attachments") for p in patches)

    gate.set()
    await finish_renders(world, project.id)
    status = status_of(thread)
    assert "batch finished" in status.content
    assert not status.attachments and not status.embeds  # the final state drops the preview


async def test_status_message_throttles_previews(
    world: Any, prod: Production, gate: threading.Event
) -> None:
    """Previews arriving faster than the 2 s cadence never cause edits of their own."""
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)
    world.env.bot.reporter.clock = lambda: 0.0  # time stands still: no edit is due while running
    seen = preview_seen(prod)
    await world.alice.slash(thread, "render", shots="1")
    await asyncio.wait_for(seen.wait(), 10)
    await world.env.settle()
    status = status_of(thread)
    assert not status.attachments and not status.embeds
    gate.set()
    await finish_renders(world, project.id)
    patches = [
        r
        for r in world.env.http_requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{status.id}")
    ]
    assert len(patches) == 1 and not (patches[0].json or {}).get("attachments")
    assert "batch finished" in status_of(thread).content


async def test_whole_process_restart_resumes_in_the_same_messages(
    world: Any,
    settings: Settings,
    stack: AsyncExitStack,
    gate: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)
    await world.alice.slash(thread, "render")
    await world.env.settle()
    status = status_of(thread)
    queue = await world.bob.slash(thread, "queue")
    assert queue.response.content.count(f"#{project.id} shot") == len(project.shotlist.shots)
    bot_a = world.env.bot
    store_a = bot_a.production.store
    batch_id = (await store_a.open_jobs(project.id))[0].batch_id
    assert (await store_a.batch(batch_id)).status_message == str(status.id)

    # The process dies: the production (pool, store) closes with its jobs still open.
    await stack.aclose()
    assert gate.is_set() is False

    # A new process: a new production (resuming the jobs) and a new bot over the same data.
    gate_b = threading.Event()
    monkeypatch.setattr("bot.app.renderer_loader", lambda s: held_loader(s, gate_b))
    stack.callback(gate_b.set)
    prod_b = await stack.enter_async_context(production(settings, render=True))
    states = {job.state for job in await prod_b.store.batch_jobs(batch_id)}
    assert states <= {"queued", "running"}
    bot_b = create_bot(settings, prod_b)
    await world.env.restart_bot(bot_b)  # SimCord keeps the guild, thread and messages
    await bot_a.close()
    assert world.env.bot is bot_b and bot_b is not bot_a

    gate_b.set()
    await finish_renders(world, project.id)
    jobs = await prod_b.store.batch_jobs(batch_id)
    assert [job.state for job in jobs] == ["done"] * len(project.shotlist.shots)
    assert (await prod_b.store.batch(batch_id)).status_message == str(status.id)
    final = status_of(thread)
    assert final.id == status.id and "batch finished" in final.content
    assert not final.attachments and not final.embeds
    takes = [m for m in thread.history() if m.attachments and m.embeds]
    assert len(takes) == len(project.shotlist.shots)
    stored = await prod_b.store.takes(project.id)
    assert sorted(int(t.message or 0) for t in stored) == sorted(m.id for m in takes)
    assert labels(takes[0]) == ["Approve", "Reroll", "Revise", "Use as reference"]
    approved = await world.alice.click(takes[0], label="Approve")
    assert "approved" in approved.response.content
    assert len(await prod_b.store.approvals(project.id)) == 1


async def test_batch_finished_before_the_new_bot_listened_is_reported_once(
    world: Any,
    settings: Settings,
    stack: AsyncExitStack,
    gate: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The new production resumes the jobs and finishes them all before the new bot logs in:
    the bot's catch-up still posts every take and finalises the status message, exactly once."""
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)
    await world.alice.slash(thread, "render")
    await world.env.settle()
    status = status_of(thread)
    bot_a = world.env.bot
    batch_id = (await bot_a.production.store.open_jobs(project.id))[0].batch_id
    await stack.aclose()  # the process dies with every job still open

    monkeypatch.setattr("bot.app.renderer_loader", renderer_loader)  # no gate: renders run
    prod_b = await stack.enter_async_context(production(settings, render=True))
    await prod_b.wait(batch_id)  # every job done while no bot listens
    jobs = await prod_b.store.batch_jobs(batch_id)
    assert [job.state for job in jobs] == ["done"] * len(project.shotlist.shots)
    assert all(t.message is None for t in await prod_b.store.takes(project.id))
    assert "batch finished" not in status_of(thread).content

    bot_b = create_bot(settings, prod_b)
    await world.env.restart_bot(bot_b)
    await bot_a.close()
    await world.env.settle()
    final = status_of(thread)
    assert final.id == status.id and "batch finished" in final.content
    takes = [m for m in thread.history() if m.attachments and m.embeds]
    assert len(takes) == len(project.shotlist.shots)
    stored = await prod_b.store.takes(project.id)
    assert sorted(int(t.message or 0) for t in stored) == sorted(m.id for m in takes)
    assert await prod_b.store.unreported_batches("discord:") == []

    # Another restart owes nothing: no message is posted or edited.
    seen, requests = len(thread.history()), len(world.env.http_requests)
    bot_c = create_bot(settings, prod_b)
    await world.env.restart_bot(bot_c)
    await bot_b.close()
    await world.env.settle()
    assert len(thread.history()) == seen
    assert not [
        r
        for r in world.env.http_requests[requests:]
        if r.method in ("POST", "PATCH") and "/messages" in r.path
    ]


async def test_batch_cancelled_while_no_bot_listened_gets_its_final_state(
    world: Any,
    settings: Settings,
    stack: AsyncExitStack,
    gate: threading.Event,
) -> None:
    """Every job of a batch ends without a take while the bot is down (cancelled from another
    front-end): the next bot still turns the stale "rendering" status into the final state."""
    await world.alice.slash(world.channel, "direct", brief=BRIEF)
    thread = thread_of(world.channel)
    project = await project_of(world, thread)
    await world.alice.slash(thread, "render")
    await world.env.settle()
    status = status_of(thread)
    bot_a = world.env.bot
    prod_a = bot_a.production
    batch_id = (await prod_a.store.open_jobs(project.id))[0].batch_id
    await bot_a.close()  # the bot goes away; the production keeps running

    await prod_a.cancel(project.scope, project.id, "alice")
    await prod_a.wait(batch_id)
    assert "batch finished" not in status_of(thread).content  # nobody told Discord

    bot_b = create_bot(settings, prod_a)
    await world.env.restart_bot(bot_b)
    await world.env.settle()
    final = status_of(thread)
    assert final.id == status.id and "batch finished" in final.content
    assert await prod_a.store.unreported_batches("discord:") == []
