"""Directions addressed to a project by number ("project 1: delete shot 1").

A chat edits one project. A direction that names another project is refused with a reason rather
than applied to this one; an address to this project is dropped so the rest reads as usual.
"""

from __future__ import annotations

import re

from studio.errors import PermissionDenied

# fmt: off
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen", "twenty")
# fmt: on
_PROJECT = (
    r"project\s*(?:no\.?\s*|number\s*|id\s*)?#?\s*"
    rf"(?P<id>[-−]?\d+(?:[.,]\d+)?|{'|'.join(sorted(_WORDS, key=len, reverse=True))})\b"
)
_PREPOSITION = r"(?:in|on|for|of|from|inside|within|to)\s+(?:the\s+)?"
# Only where a number addresses a project: opening the message ("project 1: …", "in project #1,
# …") or closing it ("… in project 1."). "Call it Project 7" is a title, and "Mia works on
# project 2 files" a description.
_OPENING_RE = re.compile(rf"^[^\w#]*(?:{_PREPOSITION})?{_PROJECT}\s*[:,;.\-–—]?", re.IGNORECASE)
_CLOSING_RE = re.compile(rf"\b{_PREPOSITION}{_PROJECT}[\s.!?]*$", re.IGNORECASE)


def _named(token: str) -> str:
    """The project number as the crew meant it: '#01' → '1', 'two' → '2', '1.5' stays '1.5'."""
    word = token.lower()
    if word in _WORDS:
        return str(_WORDS.index(word))
    if word.isdigit():
        return word.lstrip("0") or "0"
    return token if len(token) <= 24 else f"{token[:20]}…"


def unaddressed(message: str, project_id: int | None) -> str:
    """`message` without the addresses to this project; `PermissionDenied` when it names another.

    `project_id` None (an editor that can't say which project it is) refuses any address.
    """
    for address in (_OPENING_RE, _CLOSING_RE):
        match = address.search(message)
        if match is None:
            continue
        named = _named(match.group("id"))
        if project_id is None:
            raise PermissionDenied(
                f"That names project #{named}, and I can't tell which project this chat is. "
                f"Direct project #{named} in its own chat."
            )
        if named != str(project_id):
            raise PermissionDenied(
                f"That names project #{named}; this chat is project #{project_id}. "
                f"Direct project #{named} in its own chat."
            )
        message = (message[: match.start()] + " " + message[match.end() :]).strip()
    return message
