"""Slate's Discord front-end: a crew directs, reviews and revises a film in its server.

`create_bot` wires a bot around an existing production without connecting (tests, embedding);
`run_bot` is the `slate bot` entry point.
"""

from __future__ import annotations

import logging

import discord

from bot.discord._bot import SlateBot
from bot.production import Production
from bot.settings import Settings
from studio.errors import SlateError

log = logging.getLogger(__name__)

__all__ = ["SlateBot", "create_bot", "run_bot"]


def create_bot(settings: Settings, production: Production) -> SlateBot:
    """The complete bot: commands, buttons and the progress reporter load in its setup_hook."""
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
