"""Which operating system sqlreach runs on: asked here, and nowhere else.

Everything that differs by platform (the fix commands shown first, the hosts file, the driver
error texts predicted, the journal's environment line) asks `current()`, so tests can stand in
for Windows or macOS by passing a platform name instead.
"""

from __future__ import annotations

import sys
from enum import StrEnum


class Platform(StrEnum):
    WINDOWS = "windows"
    MACOS = "macos"
    LINUX = "linux"  # and every other POSIX system


def of(name: str) -> Platform:
    """The platform of a `sys.platform` value ('win32', 'darwin', 'linux', ...)."""
    if name.startswith("win") or name == "cygwin":
        return Platform.WINDOWS
    if name == "darwin":
        return Platform.MACOS
    return Platform.LINUX


def current() -> Platform:
    return of(sys.platform)
