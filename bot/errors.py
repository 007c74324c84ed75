"""The one error map: which exceptions carry text for the crew, and what that text is.

Both front-ends ask `user_message`; anything it does not know is unexpected — logged with its
traceback by the front-end and answered with `GENERIC_ERROR`.
"""

from __future__ import annotations

import sqlite3

from bot.files import file_error
from render.types import RenderError
from studio.errors import SlateError

GENERIC_ERROR = "Something went wrong on my side. It has been logged; please try again."
DISK_FULL = "The disk is full"  # how every full-disk message starts


def user_message(error: BaseException) -> str | None:
    """The crew-facing sentence for an error, or None when it is a bug to log."""
    if isinstance(error, SlateError | RenderError):
        return str(error)
    if isinstance(error, OSError):
        return file_error(error)
    if isinstance(error, sqlite3.OperationalError) and "full" in str(error):
        return f"{DISK_FULL}: the project database can't grow. Free some space and try again."
    return None
