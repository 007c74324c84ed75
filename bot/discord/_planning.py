"""Planning a film: `/direct`, the conversation in its thread, and looking at or changing the list."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord._actions import (
    answer_direction,
    author_of,
    permit,
    project_for,
    project_option,
    read_image,
    render_ask,
    revise,
    scope_of,
    shotlist_page,
    show_shotlist,
)
from bot.discord._format import HELP, SLATE_COLOUR, direction_reply, shot_field, strip_mentions
from bot.discord._groups import Cast, Style, style_choices
from bot.discord._limits import denial, may
from bot.discord._replies import late_reply, reply
from bot.production.checks import clip
from studio.errors import InvalidValue, PermissionDenied, SlateError
from studio.records import Project

if TYPE_CHECKING:
    from bot.discord._bot import SlateBot

log = logging.getLogger(__name__)

THREADS_EXHAUSTED = 160006  # "maximum number of active threads reached"
_CAST_NAME = re.compile(
    r"^(?:(?:this|that|here)(?:'s| is)|it's|meet)\s+(?P<name>.+?)[.!]*$", re.IGNORECASE
)


def cast_name(text: str) -> str:
    """Who an image shows, from “this is Mia”, “meet Cole”, “here's the letter” or just “Mia”."""
    text = " ".join(text.split())
    match = _CAST_NAME.match(text)
    return (match["name"] if match else text).strip()[:80]


class Planning(commands.Cog):
    def __init__(self, bot: SlateBot) -> None:
        self.bot = bot
        self.production = bot.production
        bot.tree.add_command(Cast())
        bot.tree.add_command(Style())

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command("cast")
        self.bot.tree.remove_command("style")

    @app_commands.command(name="direct", description="Start a film from a brief")
    @app_commands.describe(
        brief="What the film is about, in a sentence or two", style="A style preset"
    )
    @app_commands.autocomplete(style=style_choices)
    @app_commands.guild_only()
    async def direct(
        self, interaction: discord.Interaction, brief: str, style: str | None = None
    ) -> None:
        brief = self.production.check_brief(brief)
        if style is not None:
            style = self.production.check_style(style)
        channel = interaction.channel
        if isinstance(channel, discord.Thread):
            channel = channel.parent
        if not isinstance(channel, discord.TextChannel):
            raise InvalidValue(
                "Use `/direct` in a text channel: I open a thread there for the film."
            )
        self.bot.directions.hit((interaction.guild_id or 0, interaction.user.id))
        await interaction.response.defer(thinking=True)
        turn = await self.production.start_project(
            scope_of(interaction), author_of(interaction.user), brief, style=style
        )
        project = turn.project
        try:
            thread = await channel.create_thread(
                name=clip(f"🎬 {project.shotlist.title}", 100),
                type=discord.ChannelType.public_thread,
                auto_archive_duration=10080,
            )
        except discord.HTTPException as error:
            if error.code != THREADS_EXHAUSTED and error.status != 403:
                raise
            why = (
                "this server has too many active threads. Archive a few and run `/shots project:"
                if error.code == THREADS_EXHAUSTED
                else "I'm not allowed to create threads here. Run `/shots project:"
            )
            await late_reply(
                interaction,
                f"Planned **{project.shotlist.title}** (project #{project.id}), but I couldn't "
                f"open a thread: {why}{project.id}` to see it.",
            )
            return
        project = await self.production.open_room(project.scope, project.id, str(thread.id))
        await thread.add_user(interaction.user)
        await thread.send(
            direction_reply(
                turn.reply,
                [],
                turn.notes,
                footer="-# Mention me here with notes to revise (“shot 2: close-up”); "
                "`/help` lists the commands.",
            )
        )
        await show_shotlist(self.bot, project)
        # The thread and shot list above are ordinary bot messages; only this pointer rides on
        # the interaction token, which a slow director may have outlived.
        await late_reply(
            interaction,
            f"🎬 **{clip(project.shotlist.title, 200)}** is planned: "
            f"{len(project.shotlist.shots)} shots. Continue in {thread.mention}.",
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Direction in a project's thread: a mention (or any message, with the content intent)."""
        if (
            message.author.bot
            or message.guild is None
            or not isinstance(message.channel, discord.Thread)
        ):
            return
        me, role = self.bot.user, message.guild.self_role
        mentioned = (me is not None and me in message.mentions) or (
            role is not None and role in message.role_mentions
        )  # the bot's managed role
        if not (mentioned or self.bot.settings.discord_message_content):
            return
        scope = self.bot.scope(message.guild.id)
        project = await self.production.project_in_room(scope, str(message.channel.id))
        if project is None:
            return
        text = strip_mentions(message.content, me.id if me else None, role.id if role else None)
        if message.attachments and mentioned:  # "@Slate this is Mia" with a picture
            await self._cast_from_message(message, project, text, message.attachments[0])
            return
        if not text:
            return
        try:
            self.bot.directions.hit((message.guild.id, message.author.id))
            turn = await self.production.direct(scope, project.id, author_of(message.author), text)
        except SlateError as error:
            await message.reply(str(error), mention_author=False)
            return
        await message.reply(
            direction_reply(turn.reply, turn.changes, turn.notes), mention_author=False
        )
        if turn.changes:
            await show_shotlist(self.bot, turn.project)
        if turn.render is not None:
            await message.channel.send(await render_ask(self.bot, message.author, turn))

    async def _cast_from_message(
        self, message: discord.Message, project: Project, text: str, image: discord.Attachment
    ) -> None:
        """ "@Slate this is Mia" with an image: a reference for Mia."""
        name = cast_name(text)
        crew_role = self.bot.settings.discord_crew_role
        try:
            self.bot.directions.hit((message.guild.id if message.guild else 0, message.author.id))
            if not name:
                raise InvalidValue("Say who or what the image shows: “@Slate this is Mia”.")
            if not may(message.author, project, crew_role, "edit cast"):
                raise PermissionDenied(denial("edit cast", crew_role))
            data = await read_image(image)
            change = await self.production.cast.add_reference(
                project.scope, project.id, author_of(message.author), name, data
            )
        except SlateError as error:
            await message.reply(str(error), mention_author=False)
            return
        await message.reply(
            direction_reply(change.turn.reply, change.turn.changes), mention_author=False
        )
        await show_shotlist(self.bot, change.turn.project)

    @app_commands.command(name="shots", description="Show the shot list")
    @app_commands.guild_only()
    @project_option
    async def shots(self, interaction: discord.Interaction, project: int | None = None) -> None:
        embeds, view = shotlist_page(await project_for(interaction, project))
        await interaction.response.send_message(embeds=embeds, view=view)

    @app_commands.command(name="shot", description="Show one shot")
    @app_commands.guild_only()
    @project_option
    async def shot(
        self, interaction: discord.Interaction, number: str, project: int | None = None
    ) -> None:
        found = await project_for(interaction, project)
        name, value = shot_field(found.shotlist.shot(number))
        embed = discord.Embed(title=name, description=value, colour=SLATE_COLOUR)
        await interaction.response.send_message(embed=embed)

    @app_commands.command(name="help", description="What Slate can do")
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(HELP, ephemeral=True)

    @app_commands.command(name="revise", description="Change one shot")
    @app_commands.guild_only()
    @project_option
    async def revise(
        self,
        interaction: discord.Interaction,
        number: str,
        instruction: str,
        project: int | None = None,
    ) -> None:
        await revise(interaction, await project_for(interaction, project), number, instruction)

    @app_commands.command(name="undo", description="Undo your last change to the shot list")
    @app_commands.guild_only()
    @project_option
    async def undo(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        permit(interaction, found, "undo")
        await self.production.check_undo(found.scope, found.id, author_of(interaction.user))
        await interaction.response.defer(thinking=True)
        turn = await self.production.undo(found.scope, found.id, author_of(interaction.user))
        await answer_direction(interaction, turn)

    @app_commands.command(name="delete", description="Delete a project for good")
    @app_commands.guild_only()
    @project_option
    async def delete(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        permit(interaction, found, "delete")
        await self.production.delete_project(found.scope, found.id)  # stops its renders too
        await reply(
            interaction,
            f"🗑️ Deleted project #{found.id} **{clip(found.shotlist.title, 200)}**.",
            ephemeral=False,
        )
