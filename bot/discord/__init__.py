"""Slate's Discord front-end: a crew directs, reviews and revises a film in its server.

`create_bot` wires a bot around an existing production without connecting (tests, embedding);
`run_bot` is the `slate bot` entry point; `invite_url` is the link that adds the bot to a server
with exactly the permissions in `PERMISSIONS`.
"""

from __future__ import annotations

import base64
import binascii
import logging

import discord

from bot.discord._bot import SlateBot
from bot.production import Production
from bot.settings import Settings
from studio.errors import SlateError

log = logging.getLogger(__name__)

__all__ = [
    "INVITE_SCOPES",
    "PERMISSIONS",
    "SlateBot",
    "application_id",
    "create_bot",
    "invite_url",
    "run_bot",
]

# What Slate does in a server, and nothing more: the invite link asks for these and the README
# lists them (a test keeps the two in step).
PERMISSIONS = discord.Permissions(
    view_channel=True,  # see the channel where /direct is used
    send_messages=True,  # answer in it
    create_public_threads=True,  # one thread per film: the review room
    send_messages_in_threads=True,  # shot lists, progress, takes and replies in that thread
    embed_links=True,  # the shot list and take cards are embeds
    attach_files=True,  # clips, the final cut, the storyboard
    read_message_history=True,  # reply to a direction, edit its own progress and take messages
    pin_messages=True,  # pin the shot list in the project's thread
)
INVITE_SCOPES = ("bot", "applications.commands")


def application_id(token: str) -> int | None:
    """The application (bot user) id a bot token carries: its first dot-separated part is that
    id in base64. None if `token` does not look like a bot token."""
    head = token.strip().split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    text = decoded.decode("ascii", errors="replace")
    return int(text) if text.isdigit() and 0 < int(text) < 2**64 else None


def invite_url(token: str) -> str | None:
    """The link that adds the bot to a server with Slate's scopes and permissions."""
    app = application_id(token)
    if app is None:
        return None
    return discord.utils.oauth_url(app, permissions=PERMISSIONS, scopes=INVITE_SCOPES)


def create_bot(settings: Settings, production: Production) -> SlateBot:
    """The complete bot: commands, buttons and the progress reporter load in its setup_hook."""
    # Slate never joins a voice channel: discord.py's warnings about voice libraries are noise.
    for flag in ("warn_nacl", "warn_dave"):
        if hasattr(discord.VoiceClient, flag):
            setattr(discord.VoiceClient, flag, False)
    return SlateBot(settings, production)


async def run_bot(settings: Settings) -> None:
    """Open the production with its render pool and run the bot until it is stopped."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise SlateError("Set SLATE_DISCORD_TOKEN (in the environment or .env) to run the bot.")
    from bot.app import production

    async with production(settings, render=True) as prod:
        bot = create_bot(settings, prod)
        try:
            async with bot:
                await bot.start(settings.discord_token.get_secret_value())
        except discord.LoginFailure:
            # discord.py's message never contains the token; ours doesn't either.
            raise SlateError(
                "Discord rejected the bot token: check SLATE_DISCORD_TOKEN "
                "(Developer Portal → your app → Bot → Reset Token)."
            ) from None
        except (OSError, discord.GatewayNotFound) as error:
            # aiohttp's connection errors are OSErrors: no network, DNS, a proxy in the way.
            raise SlateError(
                f"Could not reach Discord ({error}). Check the network and retry."
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise SlateError(
                "Discord refused the Message Content intent: enable it in the "
                "Developer Portal or unset SLATE_DISCORD_MESSAGE_CONTENT."
            ) from None
