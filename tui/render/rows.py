"""One target's line in a scan, as every scan format shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScanRow:
    line: int
    text: str  # the target as written in the file, redacted
    root_cause: str
    summary: str
    elapsed_ms: float
    target: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "target_text": self.text,
            "root_cause": self.root_cause,
            "summary": self.summary,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "target": self.target,
        }
