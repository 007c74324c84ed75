"""What commands and buttons share: find the project, check who asks, call the production, answer.

Inputs are checked before the interaction is deferred, so a refusal can still be ephemeral.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.discord._format import (
    clip,
    direction_reply,
    message_pages,
    parse_shots,
    shotlist_embeds,
)
from bot.discord._limits import denial, may, require
from bot.discord._replies import reply
from bot.discord._uploads import clip_upload, upload_limit
from bot.service import DirectorTurn
from studio.errors import InvalidValue, LimitReached, NotFound, SlateError
from studio.store import Project

if TYPE_CHECKING:
    from bot.discord._bot import SlateBot

log = logging.getLogger(__name__)

MAX_ID = 2**63 - 1  # SQLite's largest INTEGER: ids from custom_ids are checked against it


def scope_of(interaction: discord.Interaction) -> str:
    if interaction.guild_id is None:
        raise InvalidValue("Slate works inside a server, not in direct messages.")
    return f"discord:{interaction.guild_id}"


def author_of(user: discord.abc.User) -> str:
    return str(user.id)


def bot_of(interaction: discord.Interaction) -> SlateBot:
    return interaction.client  # type: ignore[return-value]


async def project_for(interaction: discord.Interaction, project_id: int | None) -> Project:
    """The project named by id (in this guild only), else the one whose thread this is."""
    bot, scope = bot_of(interaction), scope_of(interaction)
    if project_id is not None:
        if not 0 < project_id <= MAX_ID:  # a crafted custom_id; SQLite would overflow
            raise NotFound(f"There is no project #{clip(str(project_id), 20)} here.")
        return await bot.production.project(scope, project_id)
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        project = await bot.production.store.project_in_room(scope, str(channel.id))
        if project is not None:
            return project
    raise InvalidValue("Use this in a project's thread, or pick the `project`.")


def permit(interaction: discord.Interaction, project: Project, action: str) -> None:
    """Refuse, saying why, unless the user may do `action` (see _limits.PERMISSIONS)."""
    require(interaction.user, project, bot_of(interaction).settings.discord_crew_role, action)


async def project_channel(bot: SlateBot, project: Project) -> discord.abc.Messageable | None:
    if project.room is None:
        return None
    channel = bot.get_channel(int(project.room))
    if channel is None:
        try:
            channel = await bot.fetch_channel(int(project.room))
        except discord.NotFound:
            return None
    return channel if isinstance(channel, discord.abc.Messageable) else None


async def post_shotlist(
    channel: discord.abc.Messageable, project: Project, *, buttons: bool = True
) -> None:
    """The shot list as one or more messages; the project buttons go under the last one."""
    from bot.discord._views import project_view

    pages = message_pages(shotlist_embeds(project.shotlist, project.id))
    for index, embeds in enumerate(pages):
        last = index == len(pages) - 1
        if buttons and last:
            await channel.send(embeds=embeds, view=project_view(project.id))
        else:
            await channel.send(embeds=embeds)


async def render(
    interaction: discord.Interaction,
    project: Project,
    shots: str | None = None,
    *,
    model: str | None = None,
    reroll: bool = False,
) -> None:
    bot = bot_of(interaction)
    permit(interaction, project, "render")
    numbers = [shot.number for shot in project.shotlist.shots]
    chosen = parse_shots(shots, numbers)
    await check_render_capacity(bot, scope_of(interaction), author_of(interaction.user))
    await interaction.response.defer(thinking=True)
    batch = await bot.production.render(
        scope_of(interaction),
        project.id,
        author_of(interaction.user),
        chosen,
        model=model,
        reroll=reroll,
    )
    where = f" in <#{project.room}>" if project.room else ""
    if not batch.jobs:
        text = "Nothing to render: every shot already has a take of its current look."
        if batch.skipped:
            text += " Use `/reroll` for a new take."
    else:
        queued = ", ".join(number for _, number in batch.jobs)
        text = f"🎥 Rendering shot{'s' if len(batch.jobs) > 1 else ''} {queued}; progress{where}."
        if batch.skipped:
            text += f"\n-# Already rendered as they are: {', '.join(batch.skipped)}."
    await reply(interaction, text, ephemeral=False)


async def check_render_capacity(bot: SlateBot, scope: str, user: str) -> None:
    """The production's refusals that can be told before deferring (so they stay ephemeral): no
    render pool, or the user already at the open-render limit. Going over it with this very
    batch is only known once skipped shots are counted, after the defer."""
    production = bot.production
    if production.pool is None:
        raise SlateError("Rendering is not set up in this session.")
    open_now = await production.store.count_open_jobs(scope, user)
    if open_now >= production.max_open_renders:
        raise LimitReached(
            f"You have {open_now} renders queued or running; the limit is "
            f"{production.max_open_renders}. Wait for some to finish or cancel a "
            "few."
        )


async def approve(
    interaction: discord.Interaction, project: Project, shot: str, take_id: int | None
) -> None:
    permit(interaction, project, "approve")
    project.shotlist.shot(shot)  # an unknown shot is refused before deferring
    await interaction.response.defer(thinking=True)
    production = bot_of(interaction).production
    uid = project.shotlist.shot(shot).uid
    before = (await production.store.approvals(project.id)).get(uid)
    take = await production.approve(
        scope_of(interaction), project.id, author_of(interaction.user), shot, take_id
    )
    number = project.shotlist.shot(shot).number
    siblings = [t.id for t in await production.store.takes(project.id, uid)]
    which = f"Take {siblings.index(take.id) + 1}" if take.id in siblings else f"take #{take.id}"
    # The take cards follow: this one turns green with Approve disabled, the one it replaces
    # goes back to waiting for review.
    if before is not None and before != take.id:
        await show_approval(bot_of(interaction), project, before, approved=False)
    await show_approval(bot_of(interaction), project, take.id, approved=True)
    approvals = await production.store.approvals(project.id)
    chosen = sum(1 for s in project.shotlist.shots if s.uid in approvals)
    total = len(project.shotlist.shots)
    progress = (
        f"all {total} shots approved: `/cut` when you're ready."
        if chosen >= total
        else f"{chosen}/{total} shots approved."
    )
    await reply(
        interaction,
        f"✅ **Shot {number} · {which}** approved for the cut.\n-# take #{take.id} · {progress}",
        ephemeral=False,
    )


async def show_approval(bot: SlateBot, project: Project, take_id: int, *, approved: bool) -> None:
    """Edit a posted take card to show whether it is the approved take (best effort: a card
    deleted or unreachable is left as it is)."""
    from bot.discord._format import mark_approved
    from bot.discord._views import take_view

    try:
        take = await bot.production.store.take(project.id, take_id)
        channel = await project_channel(bot, project)
        if take.message is None or channel is None or not hasattr(channel, "fetch_message"):
            return
        message = await channel.fetch_message(int(take.message))
        view = take_view(project.id, take.id, approved=approved)
        if message.embeds:
            embeds = [mark_approved(message.embeds[0], approved), *message.embeds[1:]]
            await message.edit(embeds=embeds, view=view)
        else:
            await message.edit(view=view)
    except (discord.HTTPException, SlateError):
        log.warning("could not update the card of take #%d", take_id, exc_info=True)


async def revise(
    interaction: discord.Interaction, project: Project, shot: str, instruction: str
) -> None:
    bot = bot_of(interaction)
    instruction = instruction.strip()
    if not instruction:
        raise InvalidValue("Say what to change in the shot.")
    permit(interaction, project, "direct")
    project.shotlist.shot(shot)
    bot.directions.hit((interaction.guild_id or 0, interaction.user.id))
    await interaction.response.defer(thinking=True)
    direction = await bot.production.direct(
        scope_of(interaction),
        project.id,
        author_of(interaction.user),
        f"shot {shot}: {instruction}",
    )
    await answer_direction(interaction, direction)


async def answer_direction(interaction: discord.Interaction, direction: DirectorTurn) -> None:
    await reply(
        interaction,
        direction_reply(direction.reply, direction.changes, direction.notes),
        ephemeral=False,
    )
    if direction.changes and isinstance(interaction.channel, discord.Thread):
        await post_shotlist(interaction.channel, direction.project)
    if direction.render is not None:
        await reply(
            interaction,
            await render_ask(bot_of(interaction), interaction.user, direction),
            ephemeral=False,
        )


async def render_ask(bot: SlateBot, member: discord.abc.User, direction: DirectorTurn) -> str:
    """The director heard "render it": start the render if the author may, and say what happened."""
    assert direction.render is not None
    project = direction.project
    if not may(member, project, bot.settings.discord_crew_role, "render"):
        return f"{denial('render', bot.settings.discord_crew_role)} Ask one of them to `/render`."
    try:
        batch = await bot.production.render(
            project.scope, project.id, author_of(member), list(direction.render.shots)
        )
    except SlateError as error:
        return str(error)
    if not batch.jobs:
        return "Nothing new to render: those shots already have takes of their current look."
    return f"🎥 Rendering shot{'s' if len(batch.jobs) > 1 else ''} {', '.join(n for _, n in batch.jobs)}."


async def storyboard(interaction: discord.Interaction, project: Project) -> None:
    if not project.shotlist.shots:
        raise InvalidValue("There are no shots to board.")
    await interaction.response.defer(thinking=True)
    path = await bot_of(interaction).production.storyboard(scope_of(interaction), project.id)
    await reply(
        interaction,
        f"🗂️ Storyboard of **{project.shotlist.title}**.",
        ephemeral=False,
        file=discord.File(path, filename=f"storyboard-{project.id}.png"),
    )


async def send_clip(
    interaction: discord.Interaction,
    text: str,
    clip: str,
    poster: str | None,
    filename: str,
    extra: Sequence[discord.File] = (),
) -> None:
    """Send a video through the interaction, fitted to this server's upload limit."""
    from pathlib import Path

    limit = upload_limit(interaction, interaction.guild)
    async with clip_upload(
        Path(clip), Path(poster) if poster else None, limit, name=filename
    ) as upload:
        note = f"\n-# {upload.note}" if upload.note else ""
        await reply(interaction, text + note, ephemeral=False, files=[upload.file, *extra])
