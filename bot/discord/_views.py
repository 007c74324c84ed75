"""Buttons and modals. Every button is a DynamicItem whose custom_id carries its state, so buttons
posted before a restart keep working after it; the guild of the click scopes every lookup.

A click hands off to the cog that handles it, found at click time through `interaction.client`
(as RoboDanny's DynamicItems do), so this module never imports the code that builds its views.
Every callback answers, even an unexpected error (logged, answered generically)."""

from __future__ import annotations

import re
from typing import Any, Protocol, cast

import discord

from bot.discord._replies import answer_error
from studio.errors import SlateError

_Button = discord.ui.DynamicItem[discord.ui.Button[Any]]
HANDLER_COG = "Shooting"
GALLERY_COG = "CastingRoom"


class ClickHandler(Protocol):
    """What the buttons and the revise modal ask of the cog that handles them."""

    async def on_take_button(
        self, interaction: discord.Interaction, action: str, project_id: int, take_id: int
    ) -> None: ...

    async def on_project_button(
        self, interaction: discord.Interaction, action: str, project_id: int
    ) -> None: ...

    async def on_cancel_button(
        self, interaction: discord.Interaction, project_id: int, batch_id: str
    ) -> None: ...

    async def on_page_button(
        self, interaction: discord.Interaction, project_id: int, page: int
    ) -> None: ...

    async def on_revise(
        self, interaction: discord.Interaction, project_id: int, shot: str, instruction: str
    ) -> None: ...

    async def on_cast_frame(
        self, interaction: discord.Interaction, project_id: int, take_id: int, name: str
    ) -> None: ...


class GalleryHandler(Protocol):
    """What the portrait gallery's buttons ask of the cog that handles them."""

    async def on_gallery_button(
        self, interaction: discord.Interaction, action: str, project_id: int, sha256: str | None
    ) -> None: ...

    async def on_describe(
        self, interaction: discord.Interaction, project_id: int, element: str, description: str
    ) -> None: ...


def _cog(interaction: discord.Interaction, name: str) -> Any:
    bot = interaction.client
    cog = bot.get_cog(name) if hasattr(bot, "get_cog") else None
    if cog is None:
        raise SlateError("Slate is starting up; try again in a moment.")
    return cog


def _handler(interaction: discord.Interaction) -> ClickHandler:
    return cast(ClickHandler, _cog(interaction, HANDLER_COG))


def _gallery(interaction: discord.Interaction) -> GalleryHandler:
    return cast(GalleryHandler, _cog(interaction, GALLERY_COG))


class _AnsweringModal(discord.ui.Modal):
    """A modal whose every error is answered (unexpected ones logged, answered generically)."""

    async def on_error(  # type: ignore[override]  # Modal.on_error has no item argument
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await answer_error(interaction, error)


class TakeButton(
    _Button,
    template=r"slate:(?P<action>approve|reroll|revise|cast):(?P<project>[0-9]+):(?P<take>[0-9]+)",
):
    """Approve / Reroll / Revise / Use as reference under a posted take."""

    _STYLES = {
        "approve": (discord.ButtonStyle.success, "Approve", "✅"),
        "reroll": (discord.ButtonStyle.secondary, "Reroll", "🎲"),
        "revise": (discord.ButtonStyle.secondary, "Revise", "✏️"),
        "cast": (discord.ButtonStyle.secondary, "Use as reference", "🖼️"),
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
            await _handler(interaction).on_take_button(
                interaction, self.action, self.project_id, self.take_id
            )
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
            await _handler(interaction).on_project_button(interaction, self.action, self.project_id)
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


class PageButton(
    _Button, template=r"slate:page:(?P<project>[0-9]+):(?P<page>[0-9]{1,4}):(?P<way>prev|next)"
):
    """◀ / ▶ on a pinned shot list longer than one message: `page` is the one it leads to."""

    def __init__(self, project_id: int, page: int, way: str, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="◀️" if way == "prev" else "▶️",
                disabled=disabled,
                custom_id=f"slate:page:{project_id}:{page}:{way}",
            )
        )
        self.project_id, self.page = project_id, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(int(match["project"]), int(match["page"]), match["way"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await _handler(interaction).on_page_button(interaction, self.project_id, self.page)
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
            await _handler(interaction).on_cancel_button(
                interaction, self.project_id, self.batch_id
            )
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


class ReviseModal(_AnsweringModal, title="Revise"):
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
            await _handler(interaction).on_revise(
                interaction, self.project_id, shot, self.instruction.value
            )
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


class GalleryButton(
    _Button,
    template=r"slate:g:(?P<action>pick|again|describe):(?P<project>[0-9]+)(?::(?P<sha>[0-9a-f]{64}))?",
):
    """Pick N / Again / Describe again under a gallery of candidate portraits; which element it
    is for is written on the gallery itself (its footer), so the buttons outlive a restart."""

    def __init__(
        self, action: str, project_id: int, sha256: str | None = None, *, label: str = ""
    ) -> None:
        styles = {
            "pick": (discord.ButtonStyle.success, label or "Pick", "✅"),
            "again": (discord.ButtonStyle.secondary, "Again", "🎲"),
            "describe": (discord.ButtonStyle.secondary, "Describe again", "✏️"),
        }
        style, text, emoji = styles[action]
        suffix = f":{sha256}" if sha256 else ""
        super().__init__(
            discord.ui.Button(
                style=style,
                label=text,
                emoji=emoji,
                custom_id=f"slate:g:{action}:{project_id}{suffix}",
            )
        )
        self.action, self.project_id, self.sha256 = action, project_id, sha256

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> GalleryButton:
        return cls(match["action"], int(match["project"]), match["sha"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await _gallery(interaction).on_gallery_button(
                interaction, self.action, self.project_id, self.sha256
            )
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


class DescribeModal(_AnsweringModal, title="Describe again"):
    """A new bible description for the element, then new candidates."""

    description: discord.ui.TextInput[DescribeModal] = discord.ui.TextInput(
        label="How should they look?",
        custom_id="description",
        style=discord.TextStyle.paragraph,
        max_length=1000,
        placeholder="red-haired detective in her forties, grey trench coat, tired eyes",
    )

    def __init__(self, project_id: int, element: str) -> None:
        super().__init__(title=f"Describe {element[:30]} again")
        self.project_id, self.element = project_id, element

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await _gallery(interaction).on_describe(
                interaction, self.project_id, self.element, self.description.value
            )
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


def gallery_view(project_id: int, candidates: list[str]) -> discord.ui.View:
    """Pick 1..N for each candidate (by digest), then Again and Describe again."""
    view = discord.ui.View(timeout=None)
    for index, sha256 in enumerate(candidates, 1):
        view.add_item(GalleryButton("pick", project_id, sha256, label=f"Pick {index}"))
    view.add_item(GalleryButton("again", project_id))
    view.add_item(GalleryButton("describe", project_id))
    return view


class CastFrameModal(_AnsweringModal, title="Use this frame as a reference"):
    """Who or what a take's frame shows: it becomes one of that element's references."""

    name: discord.ui.TextInput[CastFrameModal] = discord.ui.TextInput(
        label="Who or what is in this frame?",
        custom_id="name",
        max_length=80,
        placeholder="Mia",
    )

    def __init__(self, project_id: int, take_id: int) -> None:
        super().__init__()
        self.project_id, self.take_id = project_id, take_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await _handler(interaction).on_cast_frame(
                interaction, self.project_id, self.take_id, self.name.value
            )
        except Exception as error:  # noqa: BLE001 - always answer the click
            await answer_error(interaction, error)


def take_view(project_id: int, take_id: int, *, approved: bool = False) -> discord.ui.View:
    """Approve / Reroll / Revise / Use as reference; once approved, Approve reads "Approved"
    and is disabled."""
    view = discord.ui.View(timeout=None)
    for action in ("approve", "reroll", "revise", "cast"):
        view.add_item(TakeButton(action, project_id, take_id, approved=approved))
    return view


def project_view(project_id: int, page: int = 0, pages: int = 1) -> discord.ui.View:
    """Render all / Revise / Storyboard, and ◀ ▶ when the list runs over several pages."""
    view = discord.ui.View(timeout=None)
    for action in ("render", "revise", "board"):
        view.add_item(ProjectButton(action, project_id))
    if pages > 1:
        view.add_item(PageButton(project_id, max(page - 1, 0), "prev", disabled=page == 0))
        view.add_item(
            PageButton(project_id, min(page + 1, pages - 1), "next", disabled=page >= pages - 1)
        )
    return view


def status_view(project_id: int, batch_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(project_id, batch_id))
    return view


DYNAMIC_ITEMS = (TakeButton, ProjectButton, PageButton, CancelButton, GalleryButton)
