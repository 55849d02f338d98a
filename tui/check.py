"""`sqlreach check`: the diagnosis without questions, printed as text, JSON or Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from tui.diagnosis.vocabulary import RootCause
from tui.target import Target, TargetError, parse_target

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class CheckOptions:
    target_text: str
    output: str = "text"  # text, json, markdown
    timeout: float = 3.0


def run_check(options: CheckOptions, out: TextIO) -> int:
    try:
        target = parse_target(options.target_text)
    except TargetError as error:
        _emit_bad_input(options, str(error), out)
        return EXIT_BAD_INPUT
    _emit_parsed(options, target, out)
    return EXIT_OK


def _emit_bad_input(options: CheckOptions, message: str, out: TextIO) -> None:
    if options.output == "json":
        document: dict[str, Any] = {
            "target": None,
            "root_cause": RootCause.BAD_INPUT.value,
            "summary": message,
            "steps": [],
            "fixes": [],
        }
        out.write(json.dumps(document, indent=2) + "\n")
    elif options.output == "markdown":
        out.write(f"## Verdict: BAD_INPUT\n\n{message}\n")
    else:
        out.write(f"BAD_INPUT: {message}\n")


def _emit_parsed(options: CheckOptions, target: Target, out: TextIO) -> None:
    if options.output == "json":
        document: dict[str, Any] = {
            "target": target.to_json(),
            "root_cause": None,
            "summary": "target parsed; no probes run yet",
            "steps": [],
            "fixes": [],
        }
        out.write(json.dumps(document, indent=2) + "\n")
        return
    out.write(f"Target ({target.form.value}): {target.data_source}\n")
    for name, origin in target.origins.items():
        out.write(f"  {name}: from {origin.source.value} ({origin.detail})\n")
    for note in target.notes:
        out.write(f"  note: {note}\n")
