"""Answering interactions: the one reply helper and the one error mapping."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TransformerError

from bot.errors import GENERIC_ERROR, user_message

log = logging.getLogger(__name__)

# What a public "thinking…" message becomes when the command then fails: the reason goes to the
# user alone (the first message after a defer replaces the thinking one and keeps its visibility,
# so an ephemeral followup needs that one settled first; a deleted one can't be followed up).
LATE_REFUSAL = "-# That didn't go through."
_ANSWERED = "slate_answered"  # Interaction.extras key: a followup already replaced the thinking


async def reply(
    interaction: discord.Interaction, content: str, *, ephemeral: bool = True, **kwargs: Any
) -> None:
    """Answer an interaction whether or not it was already acknowledged."""
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=ephemeral, **kwargs)
        interaction.extras[_ANSWERED] = True
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral, **kwargs)


_INVALID_WEBHOOK_TOKEN = 50027


async def late_reply(interaction: discord.Interaction, content: str, **kwargs: Any) -> bool:
    """A public reply after slow work: the interaction token lives 15 minutes, so when it has
    expired (Unknown Webhook / Invalid Webhook Token) log it and carry on; the work's real output
    went out as ordinary bot messages. Returns whether the reply was delivered."""
    try:
        await reply(interaction, content, ephemeral=False, **kwargs)
    except discord.NotFound:
        log.warning("interaction token expired before the reply: %s", content[:100])
        return False
    except discord.HTTPException as error:
        if error.code != _INVALID_WEBHOOK_TOKEN:
            raise
        log.warning("interaction token expired before the reply: %s", content[:100])
        return False
    return True


async def answer_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Errors with crew-facing text (see bot.errors) answer with it; anything else is logged and
    answered generically."""
    original = getattr(error, "original", error)
    text = user_message(original)
    if text is None and isinstance(original, app_commands.CheckFailure | TransformerError):
        text = str(original) or "You can't use that here."
    if text is None:
        command = interaction.command.qualified_name if interaction.command else "component"
        log.error("unexpected error in %s", command, exc_info=original)
        text = GENERIC_ERROR
    try:
        if (
            interaction.response.type is discord.InteractionResponseType.deferred_channel_message
            and not interaction.extras.get(_ANSWERED)
        ):
            await interaction.edit_original_response(content=LATE_REFUSAL)
            interaction.extras[_ANSWERED] = True
        await reply(interaction, text)
    except discord.HTTPException:
        log.warning("could not deliver an error reply", exc_info=True)
