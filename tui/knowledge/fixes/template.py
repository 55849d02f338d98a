"""The shape of a fix template, shared by the fix catalog's modules (`fixes`, `fixes_tls`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

WINDOWS_CMD: Final = "windows-cmd"
POWERSHELL: Final = "powershell"
LINUX: Final = "linux"
MACOS: Final = "macos"
TSQL: Final = "tsql"
GUI: Final = "gui"
CONNECTION: Final = "connection"

PLATFORMS: Final = (WINDOWS_CMD, POWERSHELL, LINUX, MACOS, TSQL, GUI, CONNECTION)


@dataclass(frozen=True)
class CommandTemplate:
    platform: str
    label: str
    text: str


@dataclass(frozen=True)
class FixTemplate:
    id: str
    title: str
    why: str
    commands: tuple[CommandTemplate, ...]
    risk: str | None = None
    # said instead of `title` / `why` when a value they name is not known for this target
    title_unknown: str | None = None
    why_unknown: str | None = None


def command(platform: str, label: str, text: str) -> CommandTemplate:
    return CommandTemplate(platform, label, text)
