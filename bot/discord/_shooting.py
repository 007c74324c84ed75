"""Shooting and delivering: renders, takes, the queue, the cut and exports — and the buttons
under shot lists, takes and status messages (see `_views.ClickHandler`)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import _actions
from bot.discord._actions import (
    author_of,
    checked_id,
    permit,
    project_for,
    project_option,
    scope_of,
)
from bot.discord._replies import reply
from bot.discord._views import CastFrameModal, ReviseModal
from bot.production.checks import clip
from render.diffusers import PRESETS
from studio.errors import InvalidValue

if TYPE_CHECKING:
    from bot.discord._bot import SlateBot

_MODELS = [
    app_commands.Choice(name="animatic (fast previz)", value="animatic"),
    *(app_commands.Choice(name=name, value=name) for name in list(PRESETS)[:20]),
]


class Shooting(commands.Cog):
    def __init__(self, bot: SlateBot) -> None:
        self.bot = bot
        self.production = bot.production

    @app_commands.command(name="render", description="Render shots (all by default)")
    @app_commands.describe(
        shots="e.g. 1,3-5 (default: every shot)",
        model="What renders it",
        camera="What drives the camera move: the prompt, or the previz as a control video",
        strength="How closely the previz is followed (0 to 2, default 1)",
        quality="draft: fast, for review; final: full quality (default: the session's)",
    )
    @app_commands.choices(model=_MODELS)
    @app_commands.guild_only()
    @project_option
    async def render(
        self,
        interaction: discord.Interaction,
        shots: str | None = None,
        model: app_commands.Choice[str] | None = None,
        camera: Literal["prompt", "previz"] | None = None,
        strength: app_commands.Range[float, 0.0, 2.0] | None = None,
        quality: Literal["draft", "final"] | None = None,
        project: int | None = None,
    ) -> None:
        found = await project_for(interaction, project)
        await _actions.render(
            interaction,
            found,
            shots,
            model=model.value if model else None,
            camera_control=camera,
            control_strength=strength,
            quality=quality,
        )

    @app_commands.command(name="reroll", description="Render a new take of a shot with a new seed")
    @app_commands.describe(number="A shot, or 'mismatched': every shot whose move check failed")
    @app_commands.guild_only()
    @project_option
    async def reroll(
        self, interaction: discord.Interaction, number: str, project: int | None = None
    ) -> None:
        found = await project_for(interaction, project)
        if number.strip().lower() == "mismatched":  # every shot whose move check failed
            shots = await self.production.mismatched_shots(found.scope, found.id)
            if not shots:
                raise InvalidValue("Every shot's newest take shows the move asked for.")
            await _actions.render(interaction, found, ",".join(shots), reroll=True)
            return
        found.shotlist.shot(number)
        await _actions.render(interaction, found, number, reroll=True)

    @app_commands.command(name="approve", description="Approve a take for the cut")
    @app_commands.describe(take="Take id (default: the newest take of the shot)")
    @app_commands.guild_only()
    @project_option
    async def approve(
        self,
        interaction: discord.Interaction,
        number: str,
        take: int | None = None,
        project: int | None = None,
    ) -> None:
        found = await project_for(interaction, project)
        take_id = checked_id(take, "take") if take is not None else None
        await _actions.approve(interaction, found, number, take_id)

    @app_commands.command(name="cancel", description="Cancel renders of one shot, or all")
    @app_commands.describe(shot="A shot number, or 'all' (default)")
    @app_commands.guild_only()
    @project_option
    async def cancel(
        self, interaction: discord.Interaction, shot: str = "all", project: int | None = None
    ) -> None:
        found = await project_for(interaction, project)
        permit(interaction, found, "cancel")
        number = None if shot.strip().lower() == "all" else found.shotlist.shot(shot).number
        count = await self.production.cancel(
            found.scope, found.id, author_of(interaction.user), number
        )
        await reply(
            interaction,
            f"⏹ Cancelled {count} render(s)." if count else "Nothing was rendering.",
            ephemeral=False,
        )

    @app_commands.command(name="queue", description="What is rendering and waiting")
    @app_commands.guild_only()
    async def queue(self, interaction: discord.Interaction) -> None:
        entries = await self.production.queue(scope_of(interaction))
        workers = await self.production.workers(scope_of(interaction))
        lines = [
            f"**{clip(entry.title, 80)}** · {entry.label} · "
            + ("▶ rendering" if entry.position == 0 else f"queued #{entry.position}")
            + f" · <@{entry.user}>"
            for entry in entries
        ]
        text = (
            "**Render queue**\n" + "\n".join(lines)
            if lines
            else "Nothing is rendering for this server. Start with `/render` in a film's thread."
        )
        if workers:  # which film each renders (the shots are in the queue above)
            text += "\n\n**Workers**\n" + "\n".join(
                f"`{worker.name}` · {worker.device} · {clip(worker.node, 40)} · "
                + (f"▶ {clip(worker.title, 80)}" if worker.title else "idle")
                + (f" · {clip(', '.join(worker.models), 80)}" if worker.models else "")
                for worker in workers
            )
        text = clip(text, 2000)
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(name="finish", description="Render the approved drafts at final quality")
    @app_commands.guild_only()
    @project_option
    async def finish(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        await _actions.finish(interaction, found)

    @app_commands.command(name="cut", description="Join the chosen takes into the final cut")
    @app_commands.guild_only()
    @project_option
    async def cut(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        await self.production.check_cut(found.scope, found.id)  # before deferring: ephemeral
        await interaction.response.defer(thinking=True)
        result = await self.production.cut(found.scope, found.id)
        timeline = discord.File(result.timeline, filename=f"cut-{found.id}.otio")
        await _actions.send_clip(
            interaction,
            f"🎞️ Final cut of **{clip(found.shotlist.title, 200)}**: {len(result.takes)} takes."
            + (
                f"\n-# Drafts in this cut: shot {', '.join(result.drafts)}. `/finish` renders them final."
                if result.drafts
                else ""
            ),
            result.film,
            result.contact_sheet,
            f"final-cut-{found.id}.mp4",
            extra=[timeline],
        )

    @app_commands.command(name="storyboard", description="A contact sheet of the shot list")
    @app_commands.guild_only()
    @project_option
    async def storyboard(
        self, interaction: discord.Interaction, project: int | None = None
    ) -> None:
        await _actions.storyboard(interaction, await project_for(interaction, project))

    @app_commands.command(name="export", description="Export the shot list as a file")
    @app_commands.guild_only()
    @project_option
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

    # --- buttons (see _views.ClickHandler) -------------------------------------------------------

    async def on_take_button(
        self, interaction: discord.Interaction, action: str, project_id: int, take_id: int
    ) -> None:
        project = await project_for(interaction, project_id)
        card = await self.production.take_card(
            project.scope, project.id, checked_id(take_id, "take")
        )
        if card.shot is None:
            raise InvalidValue("That take's shot has been removed from the shot list.")
        if action == "approve":
            await _actions.approve(interaction, project, card.shot.number, card.take.id)
        elif action == "reroll":
            await _actions.render(interaction, project, card.shot.number, reroll=True)
        elif action == "cast":
            permit(interaction, project, "edit cast")
            await interaction.response.send_modal(CastFrameModal(project.id, card.take.id))
        else:
            await interaction.response.send_modal(ReviseModal(project.id, card.shot.number))

    async def on_project_button(
        self, interaction: discord.Interaction, action: str, project_id: int
    ) -> None:
        project = await project_for(interaction, project_id)
        if action == "render":
            await _actions.render(interaction, project)
        elif action == "revise":
            await interaction.response.send_modal(ReviseModal(project.id, None))
        else:
            await _actions.storyboard(interaction, project)

    async def on_page_button(
        self, interaction: discord.Interaction, project_id: int, page: int
    ) -> None:
        embeds, view = _actions.shotlist_page(await project_for(interaction, project_id), page)
        await interaction.response.edit_message(embeds=embeds, view=view)

    async def on_cancel_button(
        self, interaction: discord.Interaction, project_id: int, batch_id: str
    ) -> None:
        project = await project_for(interaction, project_id)
        permit(interaction, project, "cancel")
        cancelled = await self.production.cancel_batch(project.scope, project.id, batch_id)
        await reply(
            interaction,
            f"⏹ Cancelling {cancelled} render(s)."
            if cancelled
            else "Nothing left to cancel in this batch.",
        )

    async def on_cast_frame(
        self, interaction: discord.Interaction, project_id: int, take_id: int, name: str
    ) -> None:
        project = await project_for(interaction, project_id)
        permit(interaction, project, "edit cast")
        if not name.strip():
            raise InvalidValue("Say who or what the frame shows.")
        await interaction.response.defer(thinking=True)
        change = await self.production.cast.reference_from_take(
            project.scope, project.id, author_of(interaction.user), take_id, name.strip()
        )
        await _actions.answer_direction(interaction, change.turn)

    async def on_revise(
        self, interaction: discord.Interaction, project_id: int, shot: str, instruction: str
    ) -> None:
        project = await project_for(interaction, project_id)
        await _actions.revise(interaction, project, shot, instruction)
