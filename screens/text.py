"""Plain-text pieces the screens show, built from engine data (kept apart so they are testable
without a terminal)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from tui.engine.model import Status, StepRecord
from tui.knowledge.fixes.model import Fix
from tui.knowledge.fixes.template import (
    CONNECTION,
    GUI,
    LINUX,
    MACOS,
    POWERSHELL,
    TSQL,
    WINDOWS_CMD,
)
from tui.platforms import Platform, current
from tui.render.path import HopMark, HopState
from tui.safe.sanitise import visible
from tui.target import Target

MARKS = {
    Status.PASS: ("✔", "green"),
    Status.WARN: ("!", "yellow"),
    Status.FAIL: ("✘", "red"),
    Status.SKIP: ("–", "dim"),
}
HOP_MARKS = {
    HopMark.PASSED: ("✔", "green"),
    HopMark.WARNING: ("!", "yellow"),
    HopMark.FAILED: ("✘", "bold red"),
    HopMark.SKIPPED: ("–", "dim"),
    HopMark.NOT_REACHED: ("·", "dim"),
}
PLATFORM_NAMES = {
    WINDOWS_CMD: "Windows (cmd)",
    POWERSHELL: "PowerShell",
    LINUX: "Linux",
    MACOS: "macOS",
    TSQL: "T-SQL",
    GUI: "GUI",
    CONNECTION: "Connection string",
}


def platform_order() -> list[str]:
    """The person's own platform first: where they will paste the command."""
    first = {
        Platform.WINDOWS: [WINDOWS_CMD, POWERSHELL],
        Platform.MACOS: [MACOS, LINUX],
        Platform.LINUX: [LINUX],
    }[current()]
    rest = [
        p for p in (WINDOWS_CMD, POWERSHELL, LINUX, MACOS, TSQL, GUI, CONNECTION) if p not in first
    ]
    return first + rest


def describe_target(target: Target) -> Text:
    """The parse, one value per line, with where each value came from."""
    text = Text()
    text.append(f"{target.form.value}: ", style="bold")
    text.append(visible(target.data_source) + "\n")
    for name in (
        "host",
        "instance",
        "port",
        "protocol",
        "database",
        "user",
        "encrypt",
        "driver",
        "dsn",
    ):
        value = getattr(target, name)
        if value is None:
            continue
        origin = target.origins.get(name)
        where = f"  ({origin.source.value}: {visible(origin.detail)})" if origin else ""
        text.append(f"  {name:<9}", style="dim")
        text.append(visible(value))
        text.append(f"{where}\n", style="dim")
    if target.password is not None:
        text.append("  password ", style="dim")
        text.append("********  (kept out of every transcript)\n", style="dim")
    for note in target.notes:
        text.append(f"  note: {visible(note)}\n", style="yellow")
    return text


def step_line(record: StepRecord) -> Text:
    mark, style = MARKS[record.status]
    line = Text()
    line.append(f"{mark} ", style=style)
    line.append(visible(record.title))
    return line


def path_picture(states: Sequence[HopState], width: int = 78) -> Text:
    """client ✔ → name ✔ → host ✔ → Browser – → port ✘ → …, wrapped to the width."""
    text = Text()
    used = 0
    for index, state in enumerate(states):
        mark, style = HOP_MARKS[state.mark]
        piece = f"{state.hop.value} {mark}"
        arrow = " → " if index else ""
        if used + len(arrow) + len(piece) > width:
            text.append("\n")
            used = 0
            arrow = "→ " if index else ""
        text.append(arrow, style="dim")
        text.append(state.hop.value, style="bold" if state.mark is HopMark.FAILED else "")
        text.append(f" {mark}", style=style)
        used += len(arrow) + len(piece)
    return text


EVERYWHERE = frozenset({CONNECTION, TSQL})  # the same on every client platform


def fix_commands(fix: Fix, platform: str) -> list[tuple[str, str]]:
    """(label, command) for one platform, plus connection strings and T-SQL, which are the
    same everywhere."""
    return [
        (c.label if c.platform == platform else f"{PLATFORM_NAMES[c.platform]}, {c.label}", c.text)
        for c in fix.commands
        if c.platform == platform or (c.platform in EVERYWHERE and platform not in EVERYWHERE)
    ]


def fix_platforms(fix: Fix) -> list[str]:
    have = {c.platform for c in fix.commands}
    return [p for p in platform_order() if p in have]
