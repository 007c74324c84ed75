"""The bot: a `commands.Bot` holding the production, with one place that turns errors into replies."""

from __future__ import annotations

import contextvars
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord._casting import CastingRoom
from bot.discord._limits import SlidingWindow
from bot.discord._planning import Planning
from bot.discord._progress import ProgressReporter
from bot.discord._replies import answer_error
from bot.discord._shooting import Shooting
from bot.discord._views import DYNAMIC_ITEMS
from bot.production import Production
from bot.settings import Settings

log = logging.getLogger(__name__)


class SlateTree(app_commands.CommandTree["SlateBot"]):
    async def on_error(
        self, interaction: discord.Interaction[SlateBot], error: app_commands.AppCommandError
    ) -> None:
        await answer_error(interaction, error)


class SlateBot(commands.Bot):
    def __init__(self, settings: Settings, production: Production) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.message_content = settings.discord_message_content
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=SlateTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False),
        )
        self.settings = settings
        self.production = production
        self.directions = SlidingWindow(settings.directions_per_minute)
        self.reporter = ProgressReporter(self)
        self.context: contextvars.Context = contextvars.copy_context()

    async def setup_hook(self) -> None:
        # Captured here so render-event work, which starts on the production's task, runs as
        # the bot's own work (see ProgressReporter.spawn).
        self.context = contextvars.copy_context()
        for cog in (Planning, Shooting, CastingRoom):  # a re-login of the same bot keeps its cogs
            if self.get_cog(cog.__name__) is None:
                await self.add_cog(cog(self))
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        # A restart forgets what it was showing; the reporter reloads batches from the store.
        if self.reporter.subscribed:
            self.production.remove_listener(self.reporter)
        self.reporter = ProgressReporter(self)
        self.production.add_listener(self.reporter)
        self.reporter.subscribed = True
        # Jobs the production resumed before this bot listened: report them from the store.
        self.reporter.spawn(self.reporter.catch_up())
        guild = self.settings.discord_dev_guild
        if guild is not None:
            target = discord.Object(guild)
            self.tree.copy_global_to(guild=target)
            synced = await self.tree.sync(guild=target)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands (%s)", len(synced), f"guild {guild}" if guild else "global")

    async def close(self) -> None:
        if self.reporter.subscribed:
            self.production.remove_listener(self.reporter)
            self.reporter.subscribed = False
        await super().close()

    def scope(self, guild_id: int) -> str:
        return f"discord:{guild_id}"
