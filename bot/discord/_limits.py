"""Who may do what, and how often."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import discord

from studio.errors import LimitReached, PermissionDenied
from studio.records import Project


class SlidingWindow:
    """At most `limit` events per `window` seconds per key (in memory; a restart forgets)."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._events: dict[tuple[int, int], deque[float]] = {}

    def hit(self, key: tuple[int, int], what: str = "directions") -> None:
        """Count one event for `key`, or raise LimitReached saying when to try again."""
        now = self._clock()
        # Forget keys whose every event has left the window, so idle users don't pile up.
        for idle in [k for k, events in self._events.items() if now - events[-1] >= self.window]:
            del self._events[idle]
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) >= self.limit:
            wait = max(1, round(self.window - (now - events[0])))
            raise LimitReached(
                f"Easy there: at most {self.limit} {what} {_per(self.window)}. "
                f"Try again in {wait} s."
            )
        events.append(now)


def _per(window: float) -> str:
    """ "a minute", "every 5 minutes", "every 10 s": the window in words."""
    if window == 60:
        return "a minute"
    if window == 3600:
        return "an hour"
    if window >= 60 and window % 60 == 0:
        return f"every {window / 60:g} minutes"
    return f"every {window:g} s"


# --- who may do what --------------------------------------------------------------------------
# The one permission table. "crew" is the project's owner or anyone with the configurable crew
# role; "everyone" is anyone who can see the channel. Directing stays open to everyone: a crew room
# is collaborative and comments often carry direction. Acting on the film (rendering, approving,
# cancelling, deleting) and changing it outside the conversation (undo, style presets, the cast)
# is the crew's.
EVERYONE, CREW = "everyone", "crew"
PERMISSIONS: dict[str, str] = {
    "view": EVERYONE,
    "comment": EVERYONE,
    "direct": EVERYONE,  # /direct, /revise, mentions in the thread, the Revise buttons
    "render": CREW,  # /render, /reroll, the Render and Reroll buttons, "render it"
    "approve": CREW,
    "cancel": CREW,
    "delete": CREW,
    "undo": CREW,
    "set style": CREW,  # /style set
    "edit cast": CREW,  # /cast add
}
# How a denial names each crew action ("Only ... can <this>").
_DOING = {
    "render": "start renders",
    "approve": "approve takes",
    "cancel": "cancel renders",
    "delete": "delete projects",
    "undo": "undo changes to the shot list",
    "set style": "change the style preset",
    "edit cast": "change the cast",
}


def is_crew(member: discord.abc.User, project: Project, crew_role: str) -> bool:
    if project.owner == str(member.id):
        return True
    roles = getattr(member, "roles", ())
    return any(role.name == crew_role for role in roles)


def may(member: discord.abc.User, project: Project, crew_role: str, action: str) -> bool:
    """Whether `member` may do `action` (a PERMISSIONS key) on `project`."""
    return PERMISSIONS[action] == EVERYONE or is_crew(member, project, crew_role)


def denial(action: str, crew_role: str) -> str:
    """Why a member may not do `action`: who may, and what is still open to them."""
    return (
        f"Only the project's owner or members with the **{crew_role}** role can "
        f"{_DOING.get(action, action)}. You can still comment in the thread, direct changes "
        "and view everything."
    )


def require(member: discord.abc.User, project: Project, crew_role: str, action: str) -> None:
    """Raise PermissionDenied, saying why, unless `member` may do `action` on `project`."""
    if not may(member, project, crew_role, action):
        raise PermissionDenied(denial(action, crew_role))
