"""Slate's domain errors. Each message is written for the person in the chat, and raising one
means nothing was changed."""


class SlateError(Exception):
    """Base of every error whose text can be shown to a user as it is."""


class InvalidValue(SlateError, ValueError):
    """A field value is not acceptable (unknown shot size, duration out of range...)."""


class EditError(SlateError):
    """An edit to the shot list cannot be applied; the shot list is unchanged."""


class ShotNotFound(EditError):
    """The edit names a shot that is not in the list."""


class NotFound(SlateError):
    """A project, version or take does not exist in this scope."""


class PermissionDenied(SlateError):
    """The user may not do this here."""


class LimitReached(SlateError):
    """A per-user or per-project limit stops the request."""


class StoreDamaged(SlateError):
    """The project database, or a part of it, cannot be read: the message says which, and where
    the newest backup is."""


class InvalidImage(InvalidValue):
    """A file cannot be a reference image: not an image, animated, too big or too small; nothing
    was stored."""
