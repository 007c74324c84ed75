"""Who may do what, and how often."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import discord

from studio.errors import LimitReached, PermissionDenied
from studio.store import Project


class SlidingWindow:
    """At most `limit` events per `window` seconds per key (in memory; a restart forgets)."""

    def __init__(self, limit: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._events: dict[tuple[int, int], deque[float]] = {}

    def hit(self, key: tuple[int, int], what: str = "directions") -> None:
        """Count one event for `key`, or raise LimitReached saying when to try again."""
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) >= self.limit:
            wait = max(1, round(self.window - (now - events[0])))
            raise LimitReached(f"Easy there: at most {self.limit} {what} a minute. "
                               f"Try again in {wait} s.")
        events.append(now)


def is_crew(member: discord.abc.User, project: Project, crew_role: str) -> bool:
    if project.owner == str(member.id):
        return True
    roles = getattr(member, "roles", ())
    return any(role.name == crew_role for role in roles)


def require_crew(member: discord.abc.User, project: Project, crew_role: str,
                 action: str) -> None:
    if not is_crew(member, project, crew_role):
        raise PermissionDenied(
            f"Only the project's owner or members with the **{crew_role}** role can {action}. "
            "You can still comment in the thread and view everything.")
