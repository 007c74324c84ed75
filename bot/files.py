"""Files a user names: where Slate may write one, how it writes it, and file errors in words.

Every front-end that writes a file the user chose asks `check_output_file` first: it never lets an
export land on Slate's own store, and it says whether an existing file would be replaced (the
front-end then asks, or refuses). `write_atomically` writes it so a failure leaves the old file
whole. Plain functions, no I/O on import; call them off the event loop.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from studio.errors import InvalidValue

# SQLite keeps a database's pending writes beside it in these files; writing over any of them
# loses data as surely as writing over the database.
STORE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


class UnsafeOutput(InvalidValue):
    """The file named cannot be written: it is Slate's store, a folder, or not a plain file."""


@dataclass(frozen=True)
class OutputFile:
    """Where an export will go, once checked."""

    path: Path  # absolute, symlinks resolved: the file that will be written
    shown: str  # the name as the user wrote it, for messages
    exists: bool  # a file is there and would be replaced: ask before writing


def check_output_file(target: str | os.PathLike[str], *, database: Path) -> OutputFile:
    """Check that `target` may be written, given the configured `database` path.

    Raise `UnsafeOutput` when it is the database or one of its -wal/-shm/-journal files (by any
    name: relative paths, symlinks and hard links are resolved), a folder, or something other
    than a plain file. Relative paths are taken from the current directory."""
    shown = os.fspath(target)
    if any(ord(character) < 32 for character in shown):
        raise UnsafeOutput("A file name can't hold control characters (such as a NUL byte).")
    resolved = Path(os.path.realpath(shown or "."))
    if _is_store_file(resolved, database):
        raise UnsafeOutput(
            f"{shown} is Slate's own project store: writing there would lose every project. "
            "Choose another file name."
        )
    try:
        info = os.stat(resolved)
    except FileNotFoundError:
        if not resolved.parent.is_dir():
            raise UnsafeOutput(
                f"{shown}: there is no folder {Path(shown).parent}; create it first."
            ) from None
        return OutputFile(resolved, shown, exists=False)
    except NotADirectoryError:
        raise UnsafeOutput(f"{shown}: part of that path is a file, not a folder.") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnsafeOutput(
            f"{shown} is a folder: name a file inside it, e.g. {Path(shown) / 'shotlist.md'}."
        )
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeOutput(f"{shown} is not a plain file: I only write plain files.")
    return OutputFile(resolved, shown, exists=True)


def _is_store_file(resolved: Path, database: Path) -> bool:
    names = {
        os.path.realpath(os.fspath(base) + suffix)
        for base in (os.path.abspath(database), os.path.realpath(database))
        for suffix in STORE_SIDE_FILES
    }
    # Case-folded too: on a case-insensitive disk SLATE.DB is the store.
    if str(resolved).casefold() in {name.casefold() for name in names}:
        return True
    try:
        target = os.stat(resolved)
    except OSError:
        return False
    for name in names:  # a hard link to the store has another name but the same inode
        with contextlib.suppress(OSError):
            if os.path.samestat(target, os.stat(name)):
                return True
    return False


def write_atomically(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file in the same folder, then rename it
    into place: readers see the old file or the new one, never half of one. An existing file's
    permissions are kept."""
    data = text.encode("utf-8")
    try:
        mode, existed = stat.S_IMODE(os.stat(path).st_mode), True
    except FileNotFoundError:
        mode, existed = 0o666, False  # the umask applies, as for any new file
    tmp, fd = _open_temp_sibling(path, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            if existed and hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(path.parent)


def _open_temp_sibling(path: Path, mode: int) -> tuple[Path, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, flags, mode)
        except FileExistsError:
            continue
        except OSError as error:  # name the file the user asked for, not the temporary one
            raise OSError(error.errno, error.strerror, str(path)) from error


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); best effort."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def file_error(error: OSError) -> str:
    """An OSError in one sentence, without a traceback."""
    where = f" ({error.filename})" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk is full{where}: free some space and try again."
    return f"{error.strerror or error}{where}."
