"""Input checks with no side effects, shared by the production and the front-ends (which run
them before deferring, so a refusal can stay private). Every refusal's text lives here once."""

from __future__ import annotations

import re

from studio.errors import InvalidValue, LimitReached, SlateError
from studio.styles import find_style, style_names

MAX_BRIEF = 4000
MAX_DIRECTION = 2000
MAX_CAST_NAME, MAX_CAST_DESCRIPTION = 80, 1000  # studio.edits.SetCharacter's limits

NO_RENDERING = "Rendering is not set up in this session."
NO_PROJECT = "There is no project yet: start one with a brief."


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """`text` with control characters (terminal escapes, NUL...) written out as `\\x1b`, so
    crew- and model-written text can never drive a terminal or hide in a stored list."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def check_brief(brief: str) -> str:
    brief = visible(brief).strip()
    if not brief:
        raise InvalidValue("Tell me about the film first: a sentence or two of brief.")
    if len(brief) > MAX_BRIEF:
        raise InvalidValue(f"That brief is {len(brief)} characters; keep it under {MAX_BRIEF}.")
    return brief


def check_direction(message: str) -> str:
    message = visible(message).strip()
    if not message:
        raise InvalidValue("Say what to change, e.g. “shot 3: slow dolly-in, close-up”.")
    if len(message) > MAX_DIRECTION:
        raise InvalidValue(
            f"That message is too long ({len(message)} characters); keep it under {MAX_DIRECTION}."
        )
    return message


def check_style(name: str) -> str:
    """The preset's canonical name."""
    found = find_style(name)
    if found is None:
        raise InvalidValue(
            f"I don't know the style '{clip(name, 40)}'. Presets: {', '.join(style_names())}."
        )
    return found


def check_cast(name: str, description: str) -> tuple[str, str]:
    name, description = name.strip(), description.strip()
    if not name or len(name) > MAX_CAST_NAME:
        raise InvalidValue(f"A character's name takes 1 to {MAX_CAST_NAME} characters.")
    if len(description) > MAX_CAST_DESCRIPTION:
        raise InvalidValue(
            f"That description is {len(description)} characters; keep it "
            f"under {MAX_CAST_DESCRIPTION}."
        )
    return name, description


def check_capacity(open_now: int, adding: int, limit: int) -> None:
    """Refuse when `adding` more renders would take a user past `limit` open ones."""
    if open_now + adding > limit:
        raise LimitReached(
            f"You have {open_now} renders queued or running; the limit is {limit}. "
            "Wait for some to finish or cancel a few."
        )


def missing_takes(numbers: list[str]) -> None:
    """Refuse a cut while some shots have no take."""
    if numbers:
        plural = len(numbers) > 1
        raise InvalidValue(
            clip(
                f"Shot{'s' if plural else ''} {', '.join(numbers)} "
                f"ha{'ve' if plural else 's'} no take yet: render first.",
                1000,
            )
        )


def no_rendering() -> SlateError:
    return SlateError(NO_RENDERING)
