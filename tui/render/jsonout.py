"""A diagnosis as JSON, the `check --json` contract (design.md), and a scan as JSON Lines.

Every document carries `schema`: its version, raised when a field is removed or changes meaning
(adding a field does not raise it). JSON is written ASCII-escaped: any code page can carry it,
and no control character from a server reaches the output raw (it travels as `\\u001b`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from tui.engine.walk import Diagnosis
from tui.knowledge.causes import RootCause
from tui.render.rows import ScanRow

SCHEMA: Final = 1


def dumps(document: Any, *, indent: int | None = 2) -> str:
    return json.dumps(document, indent=indent, ensure_ascii=True)


def render(diagnosis: Diagnosis) -> str:
    return dumps({"schema": SCHEMA, **diagnosis.to_json()}) + "\n"


def bad_input(message: str) -> str:
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "target": None,
        "root_cause": RootCause.BAD_INPUT.value,
        "summary": message,
        "steps": [],
        "fixes": [],
        "clients": [],
    }
    return dumps(document) + "\n"


def scan_lines(rows: Sequence[ScanRow]) -> str:
    return "".join(dumps({"schema": SCHEMA, **row.to_json()}, indent=None) + "\n" for row in rows)
