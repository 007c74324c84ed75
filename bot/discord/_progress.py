"""Render progress in the project thread: one status message per batch, one message per take.

Everything is posted as ordinary bot messages, never through an interaction token, so a render
that takes longer than the token's 15 minutes still reports. Batches are rebuilt from the store
on the first event the reporter hasn't seen, which is how a restarted bot picks up where the last
one stopped.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.discord._format import JobLine, shot_by_uid, status_text, take_embed
from bot.discord._uploads import clip_upload
from bot.discord._views import status_view, take_view
from bot.service import ProductionEvent
from studio.errors import SlateError
from studio.store import Take

if TYPE_CHECKING:
    from bot.discord._bot import SlateBot

log = logging.getLogger(__name__)

EDIT_INTERVAL_S = 2.0  # Discord allows ~5 edits per 5 s per channel; stay well under
_RETRIES = 4
_T = TypeVar("_T")
_STALE_MESSAGE = 30046  # "can't edit a message older than 1 hour"
_STATES = {"queued": "queued", "running": "running", "done": "done", "finished": "done",
           "failed": "failed", "cancelled": "cancelled", "started": "running",
           "progress": "running"}


@dataclass
class _Batch:
    id: str
    scope: str
    project_id: int
    title: str
    channel_id: int
    message_id: int | None
    jobs: dict[str, JobLine]
    unposted: dict[int, tuple[str, str]] = field(default_factory=dict)  # take id → shot uid, number
    shown: str = ""
    shown_at: float = -math.inf
    view_open: bool = False

    @property
    def done(self) -> bool:
        return all(not job.open for job in self.jobs.values())


@dataclass(eq=False)  # compared by identity: Production.remove_listener finds this very one
class ProgressReporter:
    """A production listener; the Discord work it causes runs in per-batch drain tasks."""

    bot: SlateBot
    subscribed: bool = False
    clock: Callable[[], float] = time.monotonic  # injectable: tests make every event due
    _batches: dict[str, _Batch] = field(default_factory=dict)
    _pending: dict[str, list[ProductionEvent]] = field(default_factory=dict)
    _draining: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __call__(self, event: ProductionEvent) -> None:
        if not event.scope.startswith("discord:"):
            return
        self._pending.setdefault(event.batch_id, []).append(event)
        if event.batch_id not in self._draining:
            self._draining.add(event.batch_id)
            self.spawn(self._drain(event.batch_id))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        # Listeners are called on the production's task; start the work from the context captured
        # in setup_hook so it is the bot's own work (cancelled with it, tracked by test harnesses).
        loop = asyncio.get_running_loop()
        task = self.bot.context.run(loop.create_task, coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, batch_id: str) -> None:
        try:
            while events := self._pending.pop(batch_id, []):
                batch = self._batches.get(batch_id) or await self._load(batch_id)
                if batch is None:
                    continue
                for event in events:
                    _apply(batch, event)
                while batch.unposted:
                    take_id, (shot_uid, number) = next(iter(batch.unposted.items()))
                    take = await self.bot.production.store.take(batch.project_id, take_id)
                    await self._post_take(batch, shot_uid, number, take)
                    del batch.unposted[take_id]
                await self._show(batch)
                if batch.done:
                    self._batches.pop(batch_id, None)
        except Exception:
            log.exception("could not report progress of render batch %s", batch_id)
        finally:
            self._draining.discard(batch_id)

    async def _load(self, batch_id: str) -> _Batch | None:
        store = self.bot.production.store
        record = await store.batch(batch_id)
        project = await store.project_by_id(record.project_id)
        if project.room is None:
            log.info("batch %s: project #%d has no thread to report in", batch_id, project.id)
            return None
        records = await store.batch_jobs(batch_id)
        jobs = {job.id: JobLine(job.shot_number, _STATES.get(job.state, job.state),
                                take_id=job.take_id, reason=job.reason or "") for job in records}
        batch = _Batch(batch_id, project.scope, project.id, project.shotlist.title,
                       int(project.room), int(record.status_message) if record.status_message else None,
                       jobs)
        # Takes that finished while no bot was listening (or mid-post when it stopped).
        for job in records:
            if job.take_id is not None and (await store.take(project.id, job.take_id)).message is None:
                batch.unposted[job.take_id] = (job.shot_uid, job.shot_number)
        self._batches[batch_id] = batch
        return batch

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            channel = await self.bot.fetch_channel(channel_id)
        assert isinstance(channel, discord.abc.Messageable)
        return channel

    async def _show(self, batch: _Batch) -> None:
        """Post or edit the status message: only when its text changed, at most every 2 s
        while running, and always for the final state."""
        text = status_text(batch.title, list(batch.jobs.values()))
        now = self.clock()
        if batch.message_id is not None and (
            text == batch.shown or (not batch.done and now - batch.shown_at < EDIT_INTERVAL_S)):
            return
        view = None if batch.done else status_view(batch.project_id, batch.id)
        channel = await self._channel(batch.channel_id)
        if batch.message_id is not None:
            partial = channel.get_partial_message(batch.message_id)  # type: ignore[attr-defined]
            try:
                await _retrying(lambda: partial.edit(content=text, view=view))
                batch.shown, batch.shown_at = text, now
                return
            except discord.NotFound:
                log.info("status message of batch %s is gone; posting a new one", batch.id)
            except discord.HTTPException as error:
                if error.code != _STALE_MESSAGE:
                    raise
        message = await _retrying(
            lambda: channel.send(text, view=view) if view else channel.send(text))
        batch.message_id, batch.shown, batch.shown_at = message.id, text, now
        await self.bot.production.store.set_batch_message(batch.id, str(message.id))

    async def _post_take(self, batch: _Batch, shot_uid: str, shot_number: str, take: Take) -> None:
        channel = await self._channel(batch.channel_id)
        project = await self.bot.production.store.project_by_id(batch.project_id)
        shot = shot_by_uid(project.shotlist, shot_uid)
        guild = getattr(channel, "guild", None)
        limit = guild.filesize_limit if guild is not None else 10 * 1024 * 1024
        view = take_view(batch.project_id, take.id)

        async def send() -> discord.Message:
            # A fresh upload per attempt: discord.py closes the file after each send.
            try:
                async with clip_upload(Path(take.clip), Path(take.poster), limit,
                                       name=f"shot-{shot_number}-take-{take.id}.mp4") as upload:
                    return await channel.send(
                        embed=take_embed(take, shot, shot_number, note=upload.note),
                        file=upload.file, view=view)
            except SlateError as error:  # neither the clip nor its poster can be uploaded
                return await channel.send(f"Shot {shot_number}, take #{take.id}: {error}",
                                          embed=take_embed(take, shot, shot_number), view=view)

        message = await _retrying(send)
        await self.bot.production.store.set_take_message(take.id, str(message.id))


async def _retrying(send: Callable[[], Awaitable[_T]]) -> _T:
    """Run `send`, retrying when Discord answers 429 or 5xx: a progress post is never dropped
    because of a transient refusal (discord.py retries most 429s itself; this covers the rest)."""
    for attempt in range(_RETRIES):
        try:
            return await send()
        except discord.HTTPException as error:
            if attempt == _RETRIES - 1 or not (error.status == 429 or error.status >= 500):
                raise
            delay = float(getattr(error, "retry_after", 0) or 2**attempt)
            log.info("Discord answered %d; retrying in %.1f s", error.status, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _apply(batch: _Batch, event: ProductionEvent) -> None:
    job = batch.jobs.setdefault(event.job_id, JobLine(event.shot_number))
    job.state = _STATES.get(event.kind, job.state)
    match event.kind:
        case "queued":
            job.position = event.position
        case "progress":
            job.step, job.total, job.eta_s = event.step, event.total, event.eta_s
        case "finished":
            if event.take is not None:
                job.take_id = event.take.id
                batch.unposted[event.take.id] = (event.shot_uid, event.shot_number)
        case "failed" | "cancelled":
            job.reason = event.reason
