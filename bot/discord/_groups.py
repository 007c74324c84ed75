"""`/cast` and `/style`: the film's bible, edited through forms."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord._actions import (
    add_reference,
    apply_edit,
    bot_of,
    cast_gallery,
    permit,
    project_for,
    project_option,
)
from bot.discord._replies import reply
from bot.production.checks import MAX_CAST_DESCRIPTION, MAX_CAST_NAME, clip
from studio.edits import SetCharacter, SetStyle
from studio.styles import style_names
from studio.vocab import ElementKind, ReferenceView


async def style_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    current = current.lower()
    return [
        app_commands.Choice(name=name, value=name)
        for name in style_names()
        if current in name.lower()
    ][:25]


@app_commands.guild_only()
class Cast(app_commands.Group, name="cast", description="The characters of the film"):
    @app_commands.command(name="add", description="Add a character, or change one's description")
    @project_option
    async def add(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, MAX_CAST_NAME],
        description: app_commands.Range[str, 1, MAX_CAST_DESCRIPTION],
        project: int | None = None,
    ) -> None:
        # Discord enforces the lengths in the client; a crafted request still gets a clear no.
        name, description = bot_of(interaction).production.check_cast(name, description)
        found = await project_for(interaction, project)
        permit(interaction, found, "edit cast")
        await apply_edit(interaction, found.id, SetCharacter(name=name, description=description))

    @app_commands.command(name="image", description="Give a character, place or prop a reference")
    @app_commands.describe(
        name="Who or what it shows (as named in the bible)",
        image="A still: PNG, JPEG or WebP, at least 256 px, at most 20 MB",
        kind="What it is (default: found by name)",
        view="Which view (default: front)",
    )
    @project_option
    async def image(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, MAX_CAST_NAME],
        image: discord.Attachment,
        kind: ElementKind | None = None,
        view: ReferenceView = ReferenceView.FRONT,
        project: int | None = None,
    ) -> None:
        found = await project_for(interaction, project)
        await add_reference(interaction, found, name.strip(), image, kind=kind, view=view)

    @app_commands.command(
        name="generate", description="Portraits to cast from, drawn from the bible"
    )
    @app_commands.describe(
        name="Who or what (as named in the bible)",
        kind="What it is (default: found by name)",
        count="How many candidates (1 to 4)",
    )
    @project_option
    async def generate(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, MAX_CAST_NAME],
        kind: ElementKind | None = None,
        count: app_commands.Range[int, 1, 4] = 4,
        project: int | None = None,
    ) -> None:
        found = await project_for(interaction, project)
        await cast_gallery(interaction, found, name.strip(), kind=kind, count=count)

    @app_commands.command(name="list", description="List the characters")
    @project_option
    async def list(self, interaction: discord.Interaction, project: int | None = None) -> None:
        found = await project_for(interaction, project)
        bible = found.shotlist
        elements = [*bible.characters, *bible.locations, *bible.props]
        text = "\n".join(
            f"**{e.name}**: {e.description or '—'}"
            + (f" · 🖼️ {len(e.references)}" if e.references else "")
            for e in elements
        ) or ("No characters yet: `/cast add`.")
        await reply(interaction, clip(text, 2000))


@app_commands.guild_only()
class Style(app_commands.Group, name="style", description="The look of the film"):
    @app_commands.command(name="set", description="Apply a style preset")
    @app_commands.autocomplete(preset=style_choices)
    @project_option
    async def set(
        self, interaction: discord.Interaction, preset: str, project: int | None = None
    ) -> None:
        name = bot_of(interaction).production.check_style(preset)
        found = await project_for(interaction, project)
        permit(interaction, found, "set style")
        await apply_edit(interaction, found.id, SetStyle(preset=name))

    @app_commands.command(name="show", description="Show the style bible")
    @project_option
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
