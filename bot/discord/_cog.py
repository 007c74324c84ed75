"""Slash commands and thread conversation. Each command parses, checks, defers, calls the
production and formats; the work itself lives in bot.service."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import _actions
from bot.discord._actions import author_of, permit, project_for, scope_of
from bot.discord._format import (
    HELP,
    SLATE_COLOUR,
    clip,
    direction_reply,
    message_pages,
    shot_field,
    shotlist_embeds,
    strip_mentions,
)
from bot.discord._replies import late_reply, reply
from bot.service import MAX_BRIEF
from render.diffusers import PRESETS
from studio.edits import SetCharacter, SetStyle
from studio.errors import InvalidValue, NotFound, SlateError
from studio.styles import find_style, style_names

if TYPE_CHECKING:
    from bot.discord._bot import SlateBot

log = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Any)
PROJECT_SEARCH = 1000  # autocomplete searches this many of the guild's newest projects
MAX_CAST_NAME, MAX_CAST_DESCRIPTION = 80, 1000  # studio.edits.SetCharacter's limits
THREADS_EXHAUSTED = 160006  # "maximum number of active threads reached"
_MODELS = [
    app_commands.Choice(name="animatic (fast previz)", value="animatic"),
    *(app_commands.Choice(name=name, value=name) for name in list(PRESETS)[:20]),
]


async def _style_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    current = current.lower()
    return [
        app_commands.Choice(name=name, value=name)
        for name in style_names()
        if current in name.lower()
    ][:25]


async def _project_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """This guild's projects only: the scope comes from the interaction, never from input."""
    if interaction.guild_id is None:
        return []
    bot: SlateBot = interaction.client  # type: ignore[assignment]
    projects = await bot.production.store.projects(scope_of(interaction), limit=PROJECT_SEARCH)
    typed = current.strip().lower().lstrip("#")
    found = [p for p in projects if typed in str(p.id) or typed in p.shotlist.title.lower()]
    found.sort(key=lambda p: str(p.id) != typed)  # the project with exactly that id first
    return [
        app_commands.Choice(name=clip(f"#{p.id} {p.shotlist.title}", 100), value=p.id)
        for p in found[:25]
    ]


def _project(func: _F) -> _F:
    # A fresh describe() each time: discord.py keeps the description dict it is given.
    return app_commands.describe(project="Which project (not needed inside its thread)")(func)


@app_commands.guild_only()
class Cast(app_commands.Group, name="cast", description="The characters of the film"):
    def __init__(self, cog: Studio) -> None:
        super().__init__()
        self.cog = cog

    @app_commands.command(name="add", description="Add a character, or change one's description")
    @app_commands.autocomplete(project=_project_choices)
    @_project
    async def add(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, MAX_CAST_NAME],
        description: app_commands.Range[str, 1, MAX_CAST_DESCRIPTION],
        project: int | None = None,
    ) -> None:
        # Discord enforces the lengths in the client; a crafted request still gets a clear no.
        name, description = name.strip(), description.strip()
        if not name or len(name) > MAX_CAST_NAME:
            raise InvalidValue(f"A character's name takes 1 to {MAX_CAST_NAME} characters.")
        if len(description) > MAX_CAST_DESCRIPTION:
            raise InvalidValue(
                f"That description is {len(description)} characters; keep it "
                f"under {MAX_CAST_DESCRIPTION}."
            )
        found = await project_for(interaction, project)
        permit(interaction, found, "edit cast")
        edit = SetCharacter(name=name, description=description)
        await self.cog.apply(interaction, found.id, edit)

    @app_commands.command(name="list", description="List the characters")
    @app_commands.autocomplete(project=_project_choices)
    @_project
    async def list(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        cast = found.shotlist.characters
        text = "\n".join(f"**{c.name}**: {c.description or '—'}" for c in cast) or (
            "No characters yet: `/cast add`."
        )
        await reply(interaction, clip(text, 2000))


@app_commands.guild_only()
class Style(app_commands.Group, name="style", description="The look of the film"):
    def __init__(self, cog: Studio) -> None:
        super().__init__()
        self.cog = cog

    @app_commands.command(name="set", description="Apply a style preset")
    @app_commands.autocomplete(preset=_style_choices)
    @app_commands.autocomplete(project=_project_choices)
    @_project
    async def set(
        self, interaction: discord.Interaction, preset: str, project: int | None = None
    ) -> None:
        name = find_style(preset)
        if name is None:
            raise InvalidValue(
                f"I don't know the style '{clip(preset, 40)}'. Presets: {', '.join(style_names())}."
            )
        found = await project_for(interaction, project)
        permit(interaction, found, "set style")
        await self.cog.apply(interaction, found.id, SetStyle(preset=name))

    @app_commands.command(name="show", description="Show the style bible")
    @app_commands.autocomplete(project=_project_choices)
    @_project
    async def show(self, interaction: discord.Interaction, project: int | None = None) -> None:
        style = (await project_for(interaction, project)).shotlist.style
        lines = [
            f"**{style.name}**",
            style.description,
            f"Palette: {style.palette or '—'}",
            f"Lighting: {style.lighting or '—'}",
            f"Camera: {style.camera or '—'}",
        ]
        await reply(interaction, clip("\n".join(line for line in lines if line), 2000))


class Studio(commands.Cog):
    def __init__(self, bot: SlateBot) -> None:
        self.bot = bot
        self.production = bot.production
        bot.tree.add_command(Cast(self))
        bot.tree.add_command(Style(self))

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command("cast")
        self.bot.tree.remove_command("style")

    async def apply(
        self, interaction: discord.Interaction, project_id: int, edit: SetCharacter | SetStyle
    ) -> None:
        await interaction.response.defer(thinking=True)
        direction = await self.production.edit(
            scope_of(interaction), project_id, author_of(interaction.user), edit
        )
        await reply(
            interaction, direction_reply(direction.reply, direction.changes), ephemeral=False
        )

    # --- starting a film ---------------------------------------------------------------------

    @app_commands.command(name="direct", description="Start a film from a brief")
    @app_commands.describe(
        brief="What the film is about, in a sentence or two", style="A style preset"
    )
    @app_commands.autocomplete(style=_style_choices)
    @app_commands.guild_only()
    async def direct(
        self, interaction: discord.Interaction, brief: str, style: str | None = None
    ) -> None:
        brief = brief.strip()
        if not brief:
            raise InvalidValue("Tell me about the film first: a sentence or two of brief.")
        if len(brief) > MAX_BRIEF:
            raise InvalidValue(f"That brief is {len(brief)} characters; keep it under {MAX_BRIEF}.")
        if style is not None and find_style(style) is None:
            raise InvalidValue(
                f"I don't know the style '{clip(style, 40)}'. Presets: {', '.join(style_names())}."
            )
        channel = interaction.channel
        if isinstance(channel, discord.Thread):
            channel = channel.parent
        if not isinstance(channel, discord.TextChannel):
            raise InvalidValue(
                "Use `/direct` in a text channel: I open a thread there for the film."
            )
        self.bot.directions.hit((interaction.guild_id or 0, interaction.user.id))
        await interaction.response.defer(thinking=True)
        direction = await self.production.start_project(
            scope_of(interaction), author_of(interaction.user), brief, style=style
        )
        project = direction.project
        try:
            thread = await channel.create_thread(
                name=clip(f"🎬 {project.shotlist.title}", 100),
                type=discord.ChannelType.public_thread,
                auto_archive_duration=10080,
            )
        except discord.HTTPException as error:
            if error.code != THREADS_EXHAUSTED and error.status != 403:
                raise
            await late_reply(
                interaction,
                (
                    f"Planned **{project.shotlist.title}** (project #{project.id}), but I couldn't open "
                    "a thread: "
                    + (
                        "this server has too many active threads. Archive a few and "
                        "run `/shots project:"
                        if error.code == THREADS_EXHAUSTED
                        else "I'm not allowed to create threads here. Run `/shots project:"
                    )
                    + f"{project.id}` to see it."
                ),
            )
            return
        await self.production.store.set_room(project.scope, project.id, str(thread.id))
        project = await self.production.project(project.scope, project.id)
        await thread.add_user(interaction.user)
        await thread.send(
            direction_reply(
                direction.reply,
                [],
                direction.notes,
                footer="-# Mention me here with notes to revise (“shot 2: close-up”); "
                "`/help` lists the commands.",
            )
        )
        await _actions.post_shotlist(thread, project)
        # The thread and shot list above are ordinary bot messages; only this pointer rides on
        # the interaction token, which a slow director may have outlived.
        await late_reply(
            interaction,
            f"🎬 **{clip(project.shotlist.title, 200)}** is planned: "
            f"{len(project.shotlist.shots)} shots. Continue in {thread.mention}.",
        )

    # --- the conversation in a project thread ------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
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
        project = await self.production.store.project_in_room(scope, str(message.channel.id))
        if project is None:
            return
        text = strip_mentions(message.content, me.id if me else None, role.id if role else None)
        if not text:
            return
        try:
            self.bot.directions.hit((message.guild.id, message.author.id))
            direction = await self.production.direct(
                scope, project.id, author_of(message.author), text
            )
        except SlateError as error:
            await message.reply(str(error), mention_author=False)
            return
        await message.reply(
            direction_reply(direction.reply, direction.changes, direction.notes),
            mention_author=False,
        )
        if direction.changes:
            await _actions.post_shotlist(message.channel, direction.project)
        if direction.render is not None:
            await message.channel.send(
                await _actions.render_ask(self.bot, message.author, direction)
            )

    # --- looking -----------------------------------------------------------------------------

    @app_commands.command(name="shots", description="Show the shot list")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def shots(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        pages = message_pages(shotlist_embeds(found.shotlist, found.id))
        await interaction.response.send_message(embeds=pages[0])
        for embeds in pages[1:]:
            await interaction.followup.send(embeds=embeds)

    @app_commands.command(name="shot", description="Show one shot")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def shot(
        self, interaction: discord.Interaction, number: str, project: int | None = None
    ) -> None:
        found = await project_for(interaction, project)
        name, value = shot_field(found.shotlist.shot(number))
        embed = discord.Embed(title=name, description=value, colour=SLATE_COLOUR)
        await interaction.response.send_message(embed=embed)

    @app_commands.command(name="queue", description="What is rendering and waiting")
    @app_commands.guild_only()
    async def queue(self, interaction: discord.Interaction) -> None:
        scope = scope_of(interaction)
        pool = self.production.pool
        if pool is None:
            raise InvalidValue("Rendering is not set up in this session.")
        ours: dict[int, str | None] = {}  # project id → its title, None: another guild's
        lines = []
        for entry in pool.queue():
            if entry.project_id is None:
                continue
            if entry.project_id not in ours:
                try:  # found within this guild's scope, or it is another guild's
                    found = await self.production.store.project(scope, entry.project_id)
                    ours[entry.project_id] = found.shotlist.title
                except NotFound:
                    ours[entry.project_id] = None
            title = ours[entry.project_id]
            if title is None:
                continue  # other guilds' renders are not ours to see
            where = "▶ rendering" if entry.position == 0 else f"queued #{entry.position}"
            lines.append(f"**{clip(title, 80)}** · {entry.label} · {where} · <@{entry.user}>")
        text = (
            clip("**Render queue**\n" + "\n".join(lines), 2000)
            if lines
            else "Nothing is rendering for this server. Start with `/render` in a film's thread."
        )
        await interaction.response.send_message(
            text,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="help", description="What Slate can do")
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(HELP, ephemeral=True)

    # --- changing ----------------------------------------------------------------------------

    @app_commands.command(name="revise", description="Change one shot")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def revise(
        self,
        interaction: discord.Interaction,
        number: str,
        instruction: str,
        project: int | None = None,
    ) -> None:
        await _actions.revise(
            interaction, await project_for(interaction, project), number, instruction
        )

    @app_commands.command(name="undo", description="Undo the last change to the shot list")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def undo(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        permit(interaction, found, "undo")
        await interaction.response.defer(thinking=True)
        direction = await self.production.undo(found.scope, found.id, author_of(interaction.user))
        await reply(
            interaction, direction_reply(direction.reply, direction.changes), ephemeral=False
        )

    @app_commands.command(name="delete", description="Delete a project for good")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def delete(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        permit(interaction, found, "delete")
        await self.production.cancel(found.scope, found.id, author_of(interaction.user))
        await self.production.delete_project(found.scope, found.id)  # stops its renders too
        await interaction.response.send_message(
            f"🗑️ Deleted project #{found.id} **{clip(found.shotlist.title, 200)}**."
        )

    # --- rendering ---------------------------------------------------------------------------

    @app_commands.command(name="render", description="Render shots (all by default)")
    @app_commands.describe(shots="e.g. 1,3-5 (default: every shot)", model="What renders it")
    @app_commands.choices(model=_MODELS)
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def render(
        self,
        interaction: discord.Interaction,
        shots: str | None = None,
        model: app_commands.Choice[str] | None = None,
        project: int | None = None,
    ) -> None:
        found = await project_for(interaction, project)
        await _actions.render(interaction, found, shots, model=model.value if model else None)

    @app_commands.command(name="reroll", description="Render a new take of a shot with a new seed")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def reroll(
        self, interaction: discord.Interaction, number: str, project: int | None = None
    ) -> None:
        found = await project_for(interaction, project)
        found.shotlist.shot(number)
        await _actions.render(interaction, found, number, reroll=True)

    @app_commands.command(name="approve", description="Approve a take for the cut")
    @app_commands.describe(take="Take id (default: the newest take of the shot)")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def approve(
        self,
        interaction: discord.Interaction,
        number: str,
        take: int | None = None,
        project: int | None = None,
    ) -> None:
        found = await project_for(interaction, project)
        await _actions.approve(interaction, found, number, take)

    @app_commands.command(name="cancel", description="Cancel renders of one shot, or all")
    @app_commands.describe(shot="A shot number, or 'all' (default)")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def cancel(
        self, interaction: discord.Interaction, shot: str = "all", project: int | None = None
    ) -> None:
        found = await project_for(interaction, project)
        permit(interaction, found, "cancel")
        number = None if shot.strip().lower() == "all" else found.shotlist.shot(shot).number
        count = await self.production.cancel(
            found.scope, found.id, author_of(interaction.user), number
        )
        await interaction.response.send_message(
            f"⏹ Cancelled {count} render(s)." if count else "Nothing was rendering."
        )

    # --- results -----------------------------------------------------------------------------

    @app_commands.command(name="cut", description="Join the chosen takes into the final cut")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def cut(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        # The cut's own refusals (no shots, shots without a take), before deferring: ephemeral.
        shotlist, takes = await self.production.chosen_takes(found.scope, found.id)
        missing = [
            shot.number for shot, take in zip(shotlist.shots, takes, strict=True) if take is None
        ]
        if not shotlist.shots or missing:
            raise InvalidValue(
                "There are no shots to cut."
                if not shotlist.shots
                else clip(f"No take yet for shot(s) {', '.join(missing)}: render first.", 1000)
            )
        await interaction.response.defer(thinking=True)
        result = await self.production.cut(found.scope, found.id)
        timeline = discord.File(result.timeline, filename=f"cut-{found.id}.otio")
        await _actions.send_clip(
            interaction,
            f"🎞️ Final cut of **{clip(found.shotlist.title, 200)}**: {len(result.takes)} takes.",
            str(result.film),
            str(result.contact_sheet),
            f"final-cut-{found.id}.mp4",
            extra=[timeline],
        )

    @app_commands.command(name="storyboard", description="A contact sheet of the shot list")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def storyboard(
        self, interaction: discord.Interaction, project: int | None = None
    ) -> None:
        await _actions.storyboard(interaction, await project_for(interaction, project))

    @app_commands.command(name="export", description="Export the shot list as a file")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.guild_only()
    @_project
    async def export(
        self,
        interaction: discord.Interaction,
        format: Literal["md", "csv", "json", "otio"] = "md",
        project: int | None = None,
    ) -> None:
        found = await project_for(interaction, project)
        text = await self.production.export(found.scope, found.id, format)
        file = discord.File(
            io.BytesIO(text.encode("utf-8")), filename=f"shotlist-{found.id}.{format}"
        )
        await interaction.response.send_message(
            f"📄 **{clip(found.shotlist.title, 200)}** as {format}.", file=file
        )
