"""A fix as a verdict carries it: the catalog's template with the target's values filled in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Json = Any  # JSON-safe values


@dataclass(frozen=True)
class Command:
    """One exact command of a fix, for one platform."""

    platform: str  # windows-cmd, powershell, linux, macos, tsql, gui, client
    label: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"platform": self.platform, "label": self.label, "text": self.text}

    @classmethod
    def from_json(cls, document: Mapping[str, Json]) -> Command:
        return cls(
            str(document.get("platform", "")),
            str(document.get("label", "")),
            str(document.get("text", "")),
        )


@dataclass(frozen=True)
class Fix:
    """A fix from the catalog with the target's values filled in."""

    id: str
    title: str
    why: str
    commands: tuple[Command, ...]
    risk: str | None = None
    # a value that could not go safely into a command: the command shows a placeholder, and
    # this says which value, why, and what to do
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Json]:
        document: dict[str, Json] = {
            "id": self.id,
            "title": self.title,
            "why": self.why,
            "commands": [command.to_json() for command in self.commands],
        }
        if self.risk:
            document["risk"] = self.risk
        if self.warnings:
            document["warnings"] = list(self.warnings)
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Json]) -> Fix:
        commands = document.get("commands")
        risk = document.get("risk")
        warnings = document.get("warnings")
        return cls(
            id=str(document.get("id", "")),
            title=str(document.get("title", "")),
            why=str(document.get("why", "")),
            commands=tuple(Command.from_json(c) for c in commands if isinstance(c, dict))
            if isinstance(commands, list)
            else (),
            risk=str(risk) if risk else None,
            warnings=tuple(str(w) for w in warnings) if isinstance(warnings, list) else (),
        )
