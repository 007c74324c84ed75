"""The casting room: the portrait gallery's buttons (pick a look, try again, describe again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.discord._actions import (
    answer_direction,
    author_of,
    cast_gallery,
    gallery_element,
    permit,
    project_for,
)
from bot.discord._views import DescribeModal
from studio.edits import Edit, SetCharacter, SetLocation, SetProp
from studio.vocab import ElementKind

if TYPE_CHECKING:
    from bot.discord._bot import SlateBot


class CastingRoom(commands.Cog):
    def __init__(self, bot: SlateBot) -> None:
        self.bot = bot
        self.production = bot.production

    async def on_gallery_button(
        self, interaction: discord.Interaction, action: str, project_id: int, sha256: str | None
    ) -> None:
        project = await project_for(interaction, project_id)
        permit(interaction, project, "edit cast")
        kind, name = gallery_element(interaction.message)
        if action == "describe":
            await interaction.response.send_modal(DescribeModal(project.id, name))
            return
        if action == "again":
            await cast_gallery(interaction, project, name, kind=kind)
            return
        assert sha256 is not None
        await interaction.response.defer(thinking=True)
        change = await self.production.cast.pick(
            project.scope, project.id, author_of(interaction.user), name, sha256, kind=kind
        )
        await answer_direction(interaction, change.turn)

    async def on_describe(
        self, interaction: discord.Interaction, project_id: int, element: str, description: str
    ) -> None:
        """A new description in the bible (one version), then new candidates from it."""
        project = await project_for(interaction, project_id)
        permit(interaction, project, "edit cast")
        kind, name = gallery_element(interaction.message)
        _, description = self.production.check_cast(name, description)
        edit: Edit
        match kind:
            case ElementKind.CHARACTER:
                edit = SetCharacter(name=name, description=description)
            case ElementKind.LOCATION:
                edit = SetLocation(name=name, description=description)
            case ElementKind.PROP:
                edit = SetProp(name=name, description=description)
        await interaction.response.defer(thinking=True)
        await self.production.edit(project.scope, project.id, author_of(interaction.user), edit)
        fresh = await self.production.project(project.scope, project.id)
        await cast_gallery(interaction, fresh, name, kind=kind)
