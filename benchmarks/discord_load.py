"""Load on the Discord front-end: 20 members in 5 project threads direct and render at once.

Runs the real bot over the real production (offline director, animatic renders, one render worker)
inside SimCord. Reports, in real wall-clock time (SimCord's virtual clock does not move here), how
long each interaction took to be acknowledged, checks that every interaction was acknowledged,
that every direction got a reply and every take was posted, and how fair the render queue was.

    .venv/bin/python benchmarks/discord_load.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import discord
import simcord

from bot.app import production
from bot.discord import create_bot
from bot.production import ProductionEvent
from bot.settings import Settings
from studio.records import JobState

THREADS = 5
MEMBERS_PER_THREAD = 4
BRIEFS = [
    "A lighthouse keeper finds a message in a bottle and rows to the reef at dawn.",
    "Two kids race paper boats down a flooded street after a summer storm.",
    "A night-shift baker in Lisbon leaves bread for a stray dog that follows her home.",
    "An astronaut tends a greenhouse on the moon and finds a weed growing.",
    "A violinist busks in the subway while a crowd slowly gathers around her.",
]
DIRECTIONS = [
    "shot 1: wide shot",
    "shot 2: close-up, slow push-in",
    "shot 3: low angle",
    "make it film noir",
]


def _ack_clock() -> dict[int, float]:
    """Record the real time each interaction is first acknowledged (defer, message or modal)."""
    acked: dict[int, float] = {}
    for name in ("defer", "send_message", "send_modal"):
        original = getattr(discord.InteractionResponse, name)

        async def timed(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            acked.setdefault(self._parent.id, time.perf_counter())
            return await _original(self, *args, **kwargs)

        setattr(discord.InteractionResponse, name, timed)
    return acked


async def main() -> None:
    acked = _ack_clock()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,
            data_dir=Path(folder),  # type: ignore[call-arg]
            directions_per_minute=100,
        )
        async with production(settings, render=True) as prod:
            events: list[tuple[str, str]] = []  # (queued|started, job id) in order

            def note(event: ProductionEvent) -> None:
                if event.state is JobState.QUEUED or (
                    event.state is JobState.RUNNING and not event.step
                ):
                    events.append(
                        ("queued" if event.state is JobState.QUEUED else "started", event.job_id)
                    )

            prod.add_listener(note)
            bot = create_bot(settings, prod)
            async with simcord.run(bot, settle_timeout=30) as env:
                await run(env, prod, acked, events)


async def run(env: Any, prod: Any, acked: dict[int, float], events: list[tuple[str, str]]) -> None:
    guild = env.create_guild(name="Load")
    crew = guild.create_role("Crew")
    channel = guild.create_text_channel("films")
    members = [
        guild.add_member(env.create_user(f"m{i}"), roles=[crew])
        for i in range(THREADS * MEMBERS_PER_THREAD)
    ]
    latencies: list[float] = []
    results: list[Any] = []

    async def act(call: Any) -> Any:
        started = time.perf_counter()
        result = await call
        results.append(result)
        interaction_id = result._interaction.id
        latencies.append(acked.get(interaction_id, float("inf")) - started)
        return result

    threads = []
    for index, brief in enumerate(BRIEFS):
        await act(members[index * MEMBERS_PER_THREAD].slash(channel, "direct", brief=brief))
        threads.append(next(t for t in channel.threads if t.id not in {x.id for x in threads}))
    me = env.bot.user
    # Everyone directs, then everyone renders one shot and rerolls it: 40 render jobs.
    for round_ in range(MEMBERS_PER_THREAD):
        for t, thread in enumerate(threads):
            member = members[t * MEMBERS_PER_THREAD + round_]
            await member.send(thread, f"{me.mention} {DIRECTIONS[round_]}")
    numbers = []
    for thread in threads:
        project = await prod.store.project_in_room(f"discord:{guild.id}", str(thread.id))
        numbers.append([shot.number for shot in project.shotlist.shots])
    for round_ in range(MEMBERS_PER_THREAD):
        for t, thread in enumerate(threads):
            member = members[t * MEMBERS_PER_THREAD + round_]
            shot = numbers[t][round_ % len(numbers[t])]  # short lists: members share a shot
            await act(member.slash(thread, "render", shots=shot))
            await act(member.slash(thread, "reroll", number=shot))
    projects = await prod.store.projects(f"discord:{guild.id}", limit=100)
    for project in projects:
        for batch_id in {job.batch_id for job in await prod.store.open_jobs(project.id)}:
            await prod.wait(batch_id)
    await env.settle(timeout=30)
    report(env, threads, latencies, results)
    await check_posts(prod, projects)
    await check_fairness(prod, events)


def report(env: Any, threads: list[Any], latencies: list[float], results: list[Any]) -> None:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(f"interactions: {len(results)}, acknowledged: {sum(r.acknowledged for r in results)}")
    print(
        f"time to acknowledge (real wall clock): p50 {statistics.median(ms):.1f} ms, "
        f"p99 {p99:.1f} ms, max {ms[-1]:.1f} ms"
    )
    replies = sum(
        1
        for t in threads
        for m in t.history()
        if m.reference is not None and m.author.id == env.bot.user.id
    )
    print(f"direction replies: {replies}/{THREADS * MEMBERS_PER_THREAD}")


async def check_posts(prod: Any, projects: list[Any]) -> None:
    takes = [take for project in projects for take in await prod.store.takes(project.id)]
    posted = sum(1 for take in takes if take.message)
    print(f"takes: {len(takes)}, posted to Discord: {posted}")


async def check_fairness(prod: Any, events: list[tuple[str, str]]) -> None:
    """Count starts of a user's later job while another user's first job was waiting."""
    users = {job_id: (await prod.store.job(job_id)).user for _, job_id in events}
    waiting: set[str] = set()
    served: dict[str, int] = {}
    unfair = 0
    started = 0
    for kind, job_id in events:
        if kind == "queued":
            waiting.add(job_id)
            continue
        waiting.discard(job_id)
        started += 1
        user = users[job_id]
        if served.get(user, 0) and any(not served.get(users[w], 0) for w in waiting):
            unfair += 1
        served[user] = served.get(user, 0) + 1
    print(f"render jobs started: {started}; started ahead of a waiting first-timer: {unfair}")


if __name__ == "__main__":
    asyncio.run(main())
