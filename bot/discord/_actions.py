"""What commands and buttons share: find the project, check who asks, call the production, answer.

Inputs are checked (through the production's `check_…` methods) before the interaction is
deferred, so a refusal can still be ephemeral.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.discord._format import (
    SLATE_COLOUR,
    direction_reply,
    mark_approved,
    message_pages,
    parse_shots,
    shotlist_embeds,
)
from bot.discord._limits import denial, may, require
from bot.discord._replies import reply
from bot.discord._uploads import clip_upload, upload_limit
from bot.discord._views import gallery_view, project_view, take_view
from bot.production import DirectorTurn
from bot.production.checks import clip
from studio.edits import Edit
from studio.errors import InvalidValue, NotFound, SlateError
from studio.images import MAX_BYTES, InvalidImage
from studio.records import Project
from studio.vocab import ElementKind, ReferenceView

if TYPE_CHECKING:
    from bot.discord._bot import SlateBot

log = logging.getLogger(__name__)

MAX_ID = 2**63 - 1  # SQLite's largest INTEGER: ids from custom_ids are checked against it
PROJECT_SEARCH = 1000  # autocomplete searches this many of the guild's newest projects
_F = TypeVar("_F", bound=Callable[..., Any])


def scope_of(interaction: discord.Interaction) -> str:
    if interaction.guild_id is None:
        raise InvalidValue("Slate works inside a server, not in direct messages.")
    return f"discord:{interaction.guild_id}"


def author_of(user: discord.abc.User) -> str:
    return str(user.id)


def bot_of(interaction: discord.Interaction) -> SlateBot:
    return interaction.client  # type: ignore[return-value]


def checked_id(value: int, what: str = "project") -> int:
    """An id from a custom_id or an option: beyond SQLite's integers it names nothing."""
    if not 0 < value <= MAX_ID:
        raise NotFound(f"There is no {what} #{clip(str(value), 20)} here.")
    return value


async def project_for(interaction: discord.Interaction, project_id: int | None) -> Project:
    """The project named by id (in this guild only), else the one whose thread this is."""
    production, scope = bot_of(interaction).production, scope_of(interaction)
    if project_id is not None:
        return await production.project(scope, checked_id(project_id))
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        project = await production.project_in_room(scope, str(channel.id))
        if project is not None:
            return project
    raise InvalidValue("Use this in a project's thread, or pick the `project`.")


async def project_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """This guild's projects only: the scope comes from the interaction, never from input."""
    if interaction.guild_id is None:
        return []
    projects = await bot_of(interaction).production.projects(
        scope_of(interaction), limit=PROJECT_SEARCH
    )
    typed = current.strip().lower().lstrip("#")
    found = [p for p in projects if typed in str(p.id) or typed in p.shotlist.title.lower()]
    found.sort(key=lambda p: str(p.id) != typed)  # the project with exactly that id first
    return [
        app_commands.Choice(name=clip(f"#{p.id} {p.shotlist.title}", 100), value=p.id)
        for p in found[:25]
    ]


def project_option(func: _F) -> _F:
    """The optional `project` option, autocompleted from this guild's projects."""
    # A fresh describe() each time: discord.py keeps the description dict it is given.
    described = app_commands.describe(project="Which project (not needed inside its thread)")(func)
    return app_commands.autocomplete(project=project_choices)(described)


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


def shotlist_page(project: Project, page: int = 0) -> tuple[list[discord.Embed], discord.ui.View]:
    """One page of the shot list (as many embeds as one message holds) with its buttons."""
    pages = message_pages(shotlist_embeds(project.shotlist, project.id))
    page = max(0, min(page, len(pages) - 1))
    return pages[page], project_view(project.id, page, len(pages))


async def show_shotlist(bot: SlateBot, project: Project) -> None:
    """The room's pinned shot list: edited in place after a change, posted (and pinned) once."""
    channel = await project_channel(bot, project)
    if channel is None:
        return
    embeds, view = shotlist_page(project)
    if project.shotlist_message is not None and hasattr(channel, "get_partial_message"):
        try:
            message = channel.get_partial_message(int(project.shotlist_message))
            await message.edit(embeds=embeds, view=view)
            return
        except discord.NotFound:
            log.info("the pinned list of project #%d is gone; posting a new one", project.id)
    posted = await channel.send(embeds=embeds, view=view)
    await bot.production.set_shotlist_message(project.scope, project.id, str(posted.id))
    try:
        await posted.pin(reason="Slate: the film's shot list")
    except discord.HTTPException:
        log.info("could not pin the shot list of project #%d", project.id)


async def apply_edit(interaction: discord.Interaction, project_id: int, edit: Edit) -> None:
    """A form's edit (cast, style): one version, answered with its diff."""
    await interaction.response.defer(thinking=True)
    turn = await bot_of(interaction).production.edit(
        scope_of(interaction), project_id, author_of(interaction.user), edit
    )
    await answer_direction(interaction, turn)


async def read_image(attachment: discord.Attachment) -> bytes:
    """An attachment's bytes, refused before download when it is plainly not a usable image."""
    if attachment.size > MAX_BYTES:
        raise InvalidImage(
            f"{clip(attachment.filename, 60)} is {attachment.size / 1e6:.0f} MB; "
            "a reference image takes at most 20 MB."
        )
    return await attachment.read()


async def add_reference(
    interaction: discord.Interaction,
    project: Project,
    name: str,
    attachment: discord.Attachment,
    *,
    kind: ElementKind | None = None,
    view: ReferenceView = ReferenceView.FRONT,
) -> None:
    """An uploaded reference: checked before the defer, stored, and answered with what changed
    and which shots to render again."""
    permit(interaction, project, "edit cast")
    production = bot_of(interaction).production
    data = await read_image(attachment)
    await production.cast.check_image(data)
    await interaction.response.defer(thinking=True)
    change = await production.cast.add_reference(
        project.scope, project.id, author_of(interaction.user), name, data, kind=kind, view=view
    )
    await answer_direction(interaction, change.turn)


GALLERY_SEPARATOR = " · "


def gallery_element(message: discord.Message | None) -> tuple[ElementKind, str]:
    """Which element a gallery message is for: its footer reads "character · Mia"."""
    footer = message.embeds[0].footer.text if message and message.embeds else None
    kind, _, name = (footer or "").partition(GALLERY_SEPARATOR)
    try:
        return ElementKind(kind), name
    except ValueError:
        raise InvalidValue("That gallery can't be read any more; generate new portraits.") from None


async def cast_gallery(
    interaction: discord.Interaction,
    project: Project,
    name: str,
    *,
    kind: ElementKind | None = None,
    count: int = 4,
) -> None:
    """Candidate portraits of an element, posted as a gallery with Pick / Again / Describe."""
    permit(interaction, project, "edit cast")
    production = bot_of(interaction).production
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)
    gallery = await production.cast.gallery(project.scope, project.id, name, kind=kind, count=count)
    files, embeds = [], []
    for index, path in enumerate(gallery.candidates, 1):
        filename = f"portrait-{index}.png"
        files.append(discord.File(path, filename=filename))
        embed = discord.Embed(title=f"{index}", colour=SLATE_COLOUR)
        embeds.append(embed.set_image(url=f"attachment://{filename}"))
    embeds[0].title = clip(f"Portraits for {gallery.name} · 1", 256)
    embeds[0].set_footer(text=f"{gallery.kind.value}{GALLERY_SEPARATOR}{gallery.name}")
    view = gallery_view(project.id, [path.stem for path in gallery.candidates])
    await reply(
        interaction,
        f"🎭 Pick the look of **{clip(gallery.name, 80)}**: it becomes the front reference.",
        ephemeral=False,
        files=files,
        embeds=embeds,
        view=view,
    )


async def render(
    interaction: discord.Interaction,
    project: Project,
    shots: str | None = None,
    *,
    model: str | None = None,
    reroll: bool = False,
    camera_control: str | None = None,
    control_strength: float | None = None,
    quality: str | None = None,
) -> None:
    bot = bot_of(interaction)
    permit(interaction, project, "render")
    numbers = [shot.number for shot in project.shotlist.shots]
    chosen = parse_shots(shots, numbers)
    user = author_of(interaction.user)
    await bot.production.check_render(scope_of(interaction), user)
    await interaction.response.defer(thinking=True)
    batch = await bot.production.render(
        scope_of(interaction),
        project.id,
        user,
        chosen,
        model=model,
        reroll=reroll,
        camera_control=camera_control,
        control_strength=control_strength,
        quality=quality,
    )
    here = batch.room is not None and str(interaction.channel_id) == batch.room
    where = f" in <#{batch.room}>" if batch.room and not here else " below" if here else ""
    if not batch.jobs and not batch.skipped:
        text = "Nothing new to render: those shots are rendering now."
    elif not batch.jobs:
        text = "Nothing to render: every shot already has a take of its current look."
        if batch.skipped:
            text += " Use `/reroll` for a new take."
    else:
        queued = ", ".join(number for _, number in batch.jobs)
        text = f"🎥 Rendering shot{'s' if len(batch.jobs) > 1 else ''} {queued}; progress{where}."
        if batch.skipped:
            text += f"\n-# Already rendered as they are: {', '.join(batch.skipped)}."
    if batch.rendering:
        text += f"\n-# Already rendering: {', '.join(batch.rendering)}."
    await reply(interaction, text, ephemeral=False)


async def finish(interaction: discord.Interaction, project: Project) -> None:
    """The approved drafts at final quality, with their seeds, references and camera control."""
    bot = bot_of(interaction)
    permit(interaction, project, "render")
    await bot.production.check_render(project.scope, author_of(interaction.user))
    await interaction.response.defer(thinking=True)
    batch = await bot.production.finish(project.scope, project.id, author_of(interaction.user))
    if not batch.jobs:
        text = "Every approved draft already has its final: `/cut` takes them."
    else:
        shots = ", ".join(number for _, number in batch.jobs)
        text = f"🎬 Finishing shot{'s' if len(batch.jobs) > 1 else ''} {shots} at final quality."
    await reply(interaction, text, ephemeral=False)


async def approve(
    interaction: discord.Interaction, project: Project, shot: str, take_id: int | None
) -> None:
    permit(interaction, project, "approve")
    project.shotlist.shot(shot)  # an unknown shot is refused before deferring
    await interaction.response.defer(thinking=True)
    bot = bot_of(interaction)
    approval = await bot.production.approve(
        scope_of(interaction), project.id, author_of(interaction.user), shot, take_id
    )
    card = approval.card
    # The take cards follow: this one turns green with Approve disabled, the one it replaces
    # goes back to waiting for review.
    if approval.replaced is not None:
        await show_approval(bot, project, approval.replaced, approved=False)
    await show_approval(bot, project, card.take.id, approved=True)
    progress = (
        f"all {approval.total_shots} shots approved: `/cut` when you're ready."
        if approval.approved_shots >= approval.total_shots
        else f"{approval.approved_shots}/{approval.total_shots} shots approved."
    )
    await reply(
        interaction,
        f"✅ **Shot {card.shot_number} · Take {card.number}** approved for the cut.\n"
        f"-# take #{card.take.id} · {progress}",
        ephemeral=False,
    )


async def show_approval(bot: SlateBot, project: Project, take_id: int, *, approved: bool) -> None:
    """Edit a posted take card to show whether it is the approved take (best effort: a card
    deleted or unreachable is left as it is)."""
    try:
        card = await bot.production.take_card(project.scope, project.id, take_id)
        channel = await project_channel(bot, project)
        if card.take.message is None or channel is None or not hasattr(channel, "fetch_message"):
            return
        message = await channel.fetch_message(int(card.take.message))
        view = take_view(project.id, take_id, approved=approved)
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
    if not instruction.strip():
        raise InvalidValue("Say what to change in the shot.")
    permit(interaction, project, "direct")
    project.shotlist.shot(shot)
    message = bot.production.check_direction(f"shot {shot}: {instruction}")
    bot.directions.hit((interaction.guild_id or 0, interaction.user.id))
    await interaction.response.defer(thinking=True)
    turn = await bot.production.direct(
        scope_of(interaction), project.id, author_of(interaction.user), message
    )
    await answer_direction(interaction, turn)


async def answer_direction(interaction: discord.Interaction, turn: DirectorTurn) -> None:
    """The reply with its diff; the room's pinned list follows the change."""
    bot = bot_of(interaction)
    await reply(interaction, direction_reply(turn.reply, turn.changes, turn.notes), ephemeral=False)
    if turn.changes:
        await show_shotlist(bot, turn.project)
    if turn.render is not None:
        await reply(interaction, await render_ask(bot, interaction.user, turn), ephemeral=False)


async def render_ask(bot: SlateBot, member: discord.abc.User, turn: DirectorTurn) -> str:
    """The director heard "render it": start the render if the author may, and say what happened."""
    assert turn.render is not None
    project = turn.project
    if turn.render.needs_confirmation:
        shots = ",".join(turn.render.shots)
        return f"{turn.render.reason} Confirm with `/render{f' shots:{shots}' if shots else ''}`."
    if not may(member, project, bot.settings.discord_crew_role, "render"):
        return f"{denial('render', bot.settings.discord_crew_role)} Ask one of them to `/render`."
    try:
        batch = await bot.production.render(
            project.scope, project.id, author_of(member), list(turn.render.shots)
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
    clip_path: Path,
    poster: Path | None,
    filename: str,
    extra: Sequence[discord.File] = (),
) -> None:
    """Send a video through the interaction, fitted to this server's upload limit."""
    limit = upload_limit(interaction, interaction.guild)
    async with clip_upload(clip_path, poster, limit, name=filename) as upload:
        note = f"\n-# {upload.note}" if upload.note else ""
        await reply(interaction, text + note, ephemeral=False, files=[upload.file, *extra])
