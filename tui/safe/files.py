"""Writing files that hold a session's details: owner-only directories, and exports that never
write through a symlink or over something that is not a file the person meant to replace.

`transcripts export -o PATH` is given a path by a person, perhaps a path someone else prepared:
a symlink to their ~/.bashrc, a device node, a directory. The rules: a new regular file is
written; an existing regular file only with `force`, replaced atomically (the old one stays
whole until the new one is complete); anything else (a symlink, a device, a FIFO, a socket, a
directory) never, with or without `force`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Final

DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_BINARY: Final = getattr(os, "O_BINARY", 0)


class UnsafePath(OSError):
    """The path cannot be written safely; the message says what is there and what to do."""


def private_directory(path: Path) -> Path:
    """Create `path` and any missing parents owner-only (0700) whatever the umask; an existing
    `path` must be a directory of this user's, and is narrowed to 0700."""
    missing: list[Path] = []
    probe = path
    while not os.path.lexists(probe) and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another sqlreach: judged below like any other
        os.chmod(directory, DIR_MODE)  # the umask may have taken bits mkdir was given
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePath(f"{path} is not a directory")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise UnsafePath(f"{path} belongs to another user (uid {info.st_uid})")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, DIR_MODE)
    return path


def describe(mode: int) -> str:
    """What a file-system entry is, in words."""
    for test, words in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISREG, "a file"),
    ):
        if test(mode):
            return words
    return "something that is not a file"


def write_new(path: Path, data: bytes, *, force: bool = False) -> Path:
    """Write `data` to `path` owner-only: a new file, or (with `force`) over a regular file,
    atomically. Never through a symlink, never over a device, a directory or a pipe."""
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if not stat.S_ISREG(existing.st_mode):
            raise UnsafePath(
                f"{path} is {describe(existing.st_mode)}: sqlreach writes only to a new file or "
                "over a regular file (--force), never through a link or onto a device"
            )
        if not force:
            raise UnsafePath(f"{path} exists already: give a new file, or --force to replace it")
    directory = path.parent if str(path.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        os.chmod(temporary, FILE_MODE)
        _write_synced(fd, data)
        if existing is None:
            _link_new(temporary, path, data)
        else:
            os.replace(temporary, path)  # a rename replaces the entry, never a link's target
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def _write_synced(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _link_new(temporary: str, path: Path, data: bytes) -> None:
    """Put the finished file at `path` only if nothing is there yet (no race with a symlink
    planted between the check and the write)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise UnsafePath(f"{path} appeared while it was being written: give a new file") from None
    except OSError:  # a file system without hard links: create exclusively, never following
        _write_synced(open_new_private(path), data)


def open_new_private(path: Path, extra_flags: int = 0) -> int:
    """A new file readable by its owner only, created exclusively and never through a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY | extra_flags
    fd = os.open(path, flags, FILE_MODE)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, FILE_MODE)  # exactly 0600: a umask such as 0277 would leave it 0400
    return fd
