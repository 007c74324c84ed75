"""Render progress in the project thread: one status message per batch, one message per take.

While a batch renders its status message also carries the newest preview frame (a small PNG,
attached on an edit that is due anyway); the final state drops it.

Everything is posted as ordinary bot messages, never through an interaction token, so a render
that takes longer than the token's 15 minutes still reports. Batches are rebuilt from the store
on the first event the reporter hasn't seen, which is how a restarted bot picks up where the last
one stopped; `catch_up` does the same at start for every batch still open or not yet fully
reported, so news that came before the bot listened (a production resumes its jobs, and may even
finish them, before the bot logs in) is not lost.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from PIL import Image

from bot.discord._format import STATUS_COLOUR, JobLine, status_text, take_embed
from bot.discord._uploads import clip_upload, upload_limit
from bot.discord._views import status_view, take_view
from bot.production import ProductionEvent, TakeCard
from render.types import glance
from studio.errors import SlateError
from studio.records import JobState

if TYPE_CHECKING:
    from bot.discord._bot import SlateBot

log = logging.getLogger(__name__)

EDIT_INTERVAL_S = 2.0  # Discord allows ~5 edits per 5 s per channel; stay well under
_RETRIES = 4
_T = TypeVar("_T")
CATCH_UP_DAYS = 7  # a restart reports unfinished batches this recent...
CATCH_UP_LIMIT = 50  # ...and at most this many of them, the newest
_STALE_MESSAGE = 30046  # "can't edit a message older than 1 hour"
PREVIEW_NAME = "preview.png"


@dataclass
class _Batch:
    id: str
    scope: str
    project_id: int
    title: str
    channel_id: int
    message_id: int | None
    jobs: dict[str, JobLine]
    unposted: dict[int, str] = field(default_factory=dict)  # take id → its shot's number
    shown: str = ""
    shown_at: float = -math.inf
    view_open: bool = False
    preview: Image.Image | None = None  # the newest preview frame of any of its renders
    preview_shot: str = ""
    preview_seq: int = 0  # bumped per new preview frame
    preview_shown: int = 0  # the preview_seq on the status message (0: none shown)

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

    async def catch_up(self) -> None:
        """Report, from the store, every batch the last bot left unfinished (this one just
        started): jobs still open, and batches whose jobs all ended while no bot listened (their
        takes unposted, or no status message yet). Only batches of the last CATCH_UP_DAYS days,
        at most CATCH_UP_LIMIT of them (the newest), so an old backlog never floods a channel;
        batches with open jobs are always taken (their renders are live)."""
        production = self.bot.production
        since = (datetime.now(UTC) - timedelta(days=CATCH_UP_DAYS)).strftime(
            "%Y-%m-%dT%H:%M:%S.%f"
        )[:-3] + "Z"  # the store's own timestamp format
        try:
            batch_ids = await production.reports.batches_to_report(
                "discord:", since, CATCH_UP_LIMIT
            )
        except Exception:
            log.exception("could not list the render batches to report")
            return
        for batch_id in sorted(batch_ids):
            if batch_id not in self._draining and batch_id not in self._batches:
                self._draining.add(batch_id)
                self.spawn(self._drain(batch_id, catch_up=True))

    async def _drain(self, batch_id: str, *, catch_up: bool = False) -> None:
        try:
            while (events := self._pending.pop(batch_id, [])) or catch_up:
                catch_up = False
                batch = self._batches.get(batch_id) or await self._load(batch_id)
                if batch is None:
                    continue
                for event in events:
                    _apply(batch, event)
                while batch.unposted:
                    take_id, number = next(iter(batch.unposted.items()))
                    card = await self.bot.production.take_card(
                        batch.scope, batch.project_id, take_id, number
                    )
                    if card.take.message is None:  # a finished event can follow a catch-up's post
                        await self._post_take(batch, card)
                    del batch.unposted[take_id]
                await self._show(batch)
                if batch.done:
                    self._batches.pop(batch_id, None)
                    await self.bot.production.reports.mark_batch_reported(batch_id)
        except Exception:
            log.exception("could not report progress of render batch %s", batch_id)
        finally:
            self._draining.discard(batch_id)

    async def _load(self, batch_id: str) -> _Batch | None:
        snapshot = await self.bot.production.reports.snapshot(batch_id)
        if not snapshot.scope.startswith("discord:"):
            return None  # another front-end's render
        if snapshot.room is None:
            log.info(
                "batch %s: project #%d has no thread to report in", batch_id, snapshot.project_id
            )
            return None
        jobs = {
            job.id: JobLine(
                job.shot_number,
                job.state,
                take_id=job.take_id,
                reason=job.reason,
                seconds=job.seconds,
            )
            for job in snapshot.jobs
        }
        batch = _Batch(
            batch_id,
            snapshot.scope,
            snapshot.project_id,
            snapshot.title,
            int(snapshot.room),
            int(snapshot.status_message) if snapshot.status_message else None,
            jobs,
        )
        # Takes that finished while no bot was listening (or mid-post when it stopped).
        for job in snapshot.jobs:
            if job.take_id is not None and not job.posted:
                batch.unposted[job.take_id] = job.shot_number
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
            text == batch.shown or (not batch.done and now - batch.shown_at < EDIT_INTERVAL_S)
        ):
            return
        view = None if batch.done else status_view(batch.project_id, batch.id)
        channel = await self._channel(batch.channel_id)
        # A newer preview rides along on an edit that is due anyway; the final state drops it.
        preview = batch.preview
        seq = batch.preview_seq
        png = None
        if not batch.done and preview is not None and seq != batch.preview_shown:
            png = await asyncio.to_thread(_preview_png, preview)
        media: dict[str, Any] = {}
        if png is not None:
            media = {"embed": _preview_embed(batch.preview_shot)}
        elif batch.done and batch.preview_shown:
            media = {"embed": None, "attachments": []}
        if batch.done:
            batch.preview = None  # nothing more to show; free the frame now
        if batch.message_id is not None:
            partial = channel.get_partial_message(batch.message_id)  # type: ignore[attr-defined]

            async def edit() -> None:
                files = {"attachments": [_preview_file(png)]} if png is not None else {}
                await partial.edit(content=text, view=view, **media, **files)

            try:
                await _retrying(edit)
                batch.shown, batch.shown_at = text, now
                batch.preview_shown = (
                    seq if png is not None else (0 if batch.done else batch.preview_shown)
                )
                return
            except discord.NotFound:
                log.info("status message of batch %s is gone; posting a new one", batch.id)
            except discord.HTTPException as error:
                if error.code != _STALE_MESSAGE:
                    raise

        async def send() -> discord.Message:
            extra: dict[str, Any] = {"view": view} if view else {}
            if png is not None:
                extra |= {"embed": _preview_embed(batch.preview_shot), "file": _preview_file(png)}
            return await channel.send(text, **extra)

        message = await _retrying(send)
        batch.message_id, batch.shown, batch.shown_at = message.id, text, now
        batch.preview_shown = seq if png is not None else 0
        await self.bot.production.reports.set_batch_message(batch.id, str(message.id))

    async def _post_take(self, batch: _Batch, card: TakeCard) -> None:
        channel = await self._channel(batch.channel_id)
        limit = upload_limit(None, getattr(channel, "guild", None))
        take, shot_number = card.take, card.shot_number
        view = take_view(batch.project_id, take.id, approved=card.approved)

        async def send() -> discord.Message:
            # A fresh upload per attempt: discord.py closes the file after each send.
            try:
                async with clip_upload(
                    Path(take.clip), Path(take.poster), limit, name=card.clip_name
                ) as upload:
                    return await channel.send(
                        embed=take_embed(card, note=upload.note), file=upload.file, view=view
                    )
            except SlateError as error:  # neither the clip nor its poster can be uploaded
                return await text_only(f"Shot {shot_number}, take {card.number}: {error}")

        async def text_only(content: str) -> discord.Message:
            return await channel.send(content, embed=take_embed(card), view=view)

        try:
            message = await _retrying(send)
        except discord.HTTPException as error:
            if error.status == 429 or error.status >= 500:
                raise  # retried and still failing: Discord is in trouble, not this upload
            # A refusal of this upload (413 / 40005 too large, a bad file...): post the take
            # without its clip so the batch keeps reporting and the take gets its buttons.
            log.warning(
                "take #%d upload refused (%d %s); posting it without the clip",
                take.id,
                error.status,
                error.code,
            )
            note = (
                f"Shot {shot_number}, take {card.number}: the clip couldn't be attached "
                f"(Discord refused the upload: {error.status})."
            )
            message = await _retrying(lambda: text_only(note))
        await self.bot.production.reports.set_take_message(take.id, str(message.id))


def _preview_png(image: Image.Image) -> bytes:
    """A small PNG of a preview frame (runs in a worker thread: encoding is CPU work)."""
    small = glance(image.convert("RGB"))
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _preview_file(png: bytes) -> discord.File:
    # A fresh File per attempt: discord.py closes it after each request.
    return discord.File(io.BytesIO(png), filename=PREVIEW_NAME)


def _preview_embed(shot_number: str) -> discord.Embed:
    embed = discord.Embed(
        description=f"Preview · shot {shot_number}" if shot_number else None, colour=STATUS_COLOUR
    )
    return embed.set_image(url=f"attachment://{PREVIEW_NAME}")


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
    job.state = event.state
    if event.note:
        job.note = event.note
    match event.state:
        case JobState.QUEUED:
            job.position = event.position
        case JobState.RUNNING:
            job.note = ""
            job.step, job.total, job.eta_s = event.step, event.total, event.eta_s
            if isinstance(event.preview, Image.Image):
                batch.preview, batch.preview_shot = event.preview, event.shot_number
                batch.preview_seq += 1
        case JobState.DONE:
            if event.take is not None:
                job.take_id, job.seconds = event.take.id, event.take.seconds
                batch.unposted[event.take.id] = event.shot_number
        case JobState.FAILED | JobState.CANCELLED:
            job.reason = event.reason
