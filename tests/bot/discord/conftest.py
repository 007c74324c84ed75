"""A wired bot over a real production (offline director, animatic renders) in a tmp data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import production
from bot.discord import SlateBot, create_bot
from bot.production import Production
from bot.settings import Settings

BRIEF = (
    "A lighthouse keeper finds a message in a bottle on a stormy night and rows out "
    "to the reef at dawn."
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",  # type: ignore[call-arg]
        discord_crew_role="Crew",
        directions_per_minute=50,
    )


@pytest.fixture
async def prod(settings: Settings) -> AsyncIterator[Production]:
    async with production(settings, render=True) as opened:
        yield opened


@pytest.fixture
def simcord_bot(settings: Settings, prod: Production) -> SlateBot:
    return create_bot(settings, prod)


@pytest.fixture
def world(simcord_env: Any) -> Any:
    """A guild with a channel, a crew role, the owner (alice), crew (carol) and a viewer (bob)."""
    guild = simcord_env.create_guild(name="Studio A")
    channel = guild.create_text_channel("films")
    crew = guild.create_role("Crew")
    alice = guild.add_member(simcord_env.create_user("alice"))
    carol = guild.add_member(simcord_env.create_user("carol"), roles=[crew])
    bob = guild.add_member(simcord_env.create_user("bob"))
    return type(
        "World",
        (),
        dict(env=simcord_env, guild=guild, channel=channel, alice=alice, bob=bob, carol=carol),
    )


def thread_of(channel: Any) -> Any:
    """The (single) project thread opened under a channel."""
    threads = channel.threads
    assert len(threads) == 1, threads
    return threads[0]


def with_buttons(messages: list[discord.Message]) -> list[discord.Message]:
    return [m for m in messages if m.components]


def labels(message: discord.Message) -> list[str]:
    return [child.label for row in message.components for child in row.children]  # type: ignore[union-attr]


async def project_of(world: Any, thread: Any) -> Any:
    return await world.env.bot.production.store.project_in_room(
        f"discord:{world.guild.id}", str(thread.id)
    )


async def finish_renders(world: Any, project_id: int) -> None:
    """Wait for the project's renders (real worker threads), then for the bot's reporting."""
    prod = world.env.bot.production
    for batch_id in {job.batch_id for job in await prod.store.open_jobs(project_id)}:
        await prod.wait(batch_id)
    await world.env.settle()
