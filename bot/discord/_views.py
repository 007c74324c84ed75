"""Buttons and modals. Every button is a DynamicItem whose custom_id carries its state, so buttons
posted before a restart keep working after it; the guild of the click scopes every lookup.

A crafted custom_id (another guild's project, an id past SQLite's 64-bit integers) is refused
like any unknown project; every callback answers, even an unexpected error (logged, answered
generically)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discord import _actions
from bot.discord._format import shot_by_uid
from bot.discord._replies import answer_error, reply
from studio.errors import InvalidValue, SlateError
from studio.store import Project, Take

_Button = discord.ui.DynamicItem[discord.ui.Button[Any]]


async def _take(
    interaction: discord.Interaction, project_id: int, take_id: int
) -> tuple[Project, Take, str]:
    project = await _actions.project_for(interaction, project_id)
    if not 0 < take_id <= _actions.MAX_ID:
        raise InvalidValue("That take no longer exists.")
    take = await _actions.bot_of(interaction).production.store.take(project.id, take_id)
    shot = shot_by_uid(project.shotlist, take.shot_uid)
    if shot is None:
        raise InvalidValue("That take's shot has been removed from the shot list.")
    return project, take, shot.number


class TakeButton(
    _Button,
    template=r"slate:(?P<action>approve|reroll|revise):(?P<project>[0-9]+):(?P<take>[0-9]+)",
):
    """Approve / Reroll / Revise under a posted take."""

    _STYLES = {
        "approve": (discord.ButtonStyle.success, "Approve", "✅"),
        "reroll": (discord.ButtonStyle.secondary, "Reroll", "🎲"),
        "revise": (discord.ButtonStyle.secondary, "Revise", "✏️"),
    }

    def __init__(
        self, action: str, project_id: int, take_id: int, *, approved: bool = False
    ) -> None:
        style, label, emoji = self._STYLES[action]
        done = approved and action == "approve"
        super().__init__(
            discord.ui.Button(
                style=style,
                label="Approved" if done else label,
                emoji=emoji,
                disabled=done,
                custom_id=f"slate:{action}:{project_id}:{take_id}",
            )
        )
        self.action, self.project_id, self.take_id = action, project_id, take_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TakeButton:
        return cls(match["action"], int(match["project"]), int(match["take"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            project, take, number = await _take(interaction, self.project_id, self.take_id)
            if self.action == "approve":
                await _actions.approve(interaction, project, number, take.id)
            elif self.action == "reroll":
                await _actions.render(interaction, project, number, reroll=True)
            else:
                await interaction.response.send_modal(ReviseModal(project.id, number))
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


class ProjectButton(
    _Button, template=r"slate:p:(?P<action>render|revise|board):(?P<project>[0-9]+)"
):
    """Render all / Revise / Storyboard under a shot list."""

    _STYLES = {
        "render": (discord.ButtonStyle.primary, "Render all", "🎥"),
        "revise": (discord.ButtonStyle.secondary, "Revise", "✏️"),
        "board": (discord.ButtonStyle.secondary, "Storyboard", "🗂️"),
    }

    def __init__(self, action: str, project_id: int) -> None:
        style, label, emoji = self._STYLES[action]
        super().__init__(
            discord.ui.Button(
                style=style, label=label, emoji=emoji, custom_id=f"slate:p:{action}:{project_id}"
            )
        )
        self.action, self.project_id = action, project_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ProjectButton:
        return cls(match["action"], int(match["project"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            project = await _actions.project_for(interaction, self.project_id)
            if self.action == "render":
                await _actions.render(interaction, project)
            elif self.action == "revise":
                await interaction.response.send_modal(ReviseModal(project.id, None))
            else:
                await _actions.storyboard(interaction, project)
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


class CancelButton(_Button, template=r"slate:cancel:(?P<project>[0-9]+):(?P<batch>[0-9a-f]{1,32})"):
    """Cancel on a running batch's status message."""

    def __init__(self, project_id: int, batch_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.danger,
                label="Cancel",
                custom_id=f"slate:cancel:{project_id}:{batch_id}",
            )
        )
        self.project_id, self.batch_id = project_id, batch_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CancelButton:
        return cls(int(match["project"]), match["batch"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            project = await _actions.project_for(interaction, self.project_id)
            _actions.permit(interaction, project, "cancel")
            production = _actions.bot_of(interaction).production
            jobs = await production.store.batch_jobs(self.batch_id)
            if not jobs or any(job.project_id != project.id for job in jobs):
                raise InvalidValue("That render batch is not part of this project.")
            cancelled = 0
            for job in jobs:
                if job.state in ("queued", "running"):
                    try:
                        cancelled += await production.cancel_job(project.scope, job.id)
                    except SlateError:  # finished meanwhile
                        continue
            await reply(
                interaction,
                f"⏹ Cancelling {cancelled} render(s)."
                if cancelled
                else "Nothing left to cancel in this batch.",
            )
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


class ReviseModal(discord.ui.Modal, title="Revise"):
    """One instruction for a shot (the shot number is asked for when it isn't known)."""

    instruction: discord.ui.TextInput[ReviseModal] = discord.ui.TextInput(
        label="What should change?",
        custom_id="instruction",
        style=discord.TextStyle.paragraph,
        max_length=500,
        placeholder="close-up, slow push-in, she turns to the window",
    )

    def __init__(self, project_id: int, shot: str | None) -> None:
        super().__init__(title=f"Revise shot {shot}" if shot else "Revise a shot")
        self.project_id, self.shot = project_id, shot
        self.number: discord.ui.TextInput[ReviseModal] | None = None
        if shot is None:
            self.number = discord.ui.TextInput(
                label="Shot number", custom_id="number", max_length=6, placeholder="3"
            )
            self.add_item(self.number)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            shot = self.shot or (self.number.value.strip() if self.number else "")
            project = await _actions.project_for(interaction, self.project_id)
            await _actions.revise(interaction, project, shot, self.instruction.value)
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)

    async def on_error(  # type: ignore[override]  # Modal.on_error has no item argument
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await answer_error(interaction, error)


def take_view(project_id: int, take_id: int, *, approved: bool = False) -> discord.ui.View:
    """Approve / Reroll / Revise; once approved, Approve reads "Approved" and is disabled."""
    view = discord.ui.View(timeout=None)
    for action in ("approve", "reroll", "revise"):
        view.add_item(TakeButton(action, project_id, take_id, approved=approved))
    return view


def project_view(project_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in ("render", "revise", "board"):
        view.add_item(ProjectButton(action, project_id))
    return view


def status_view(project_id: int, batch_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(project_id, batch_id))
    return view


DYNAMIC_ITEMS = (TakeButton, ProjectButton, CancelButton)
