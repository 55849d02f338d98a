"""`sqlreach explain`: read the text, explain it, print it, choose the exit code.

Exit 0 when something was recognised, 1 when nothing was, 2 for input that is not an error text
(empty, binary, oddly encoded) or for a missing text on an interactive terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import BinaryIO, Final, TextIO

from tui.commands.output import write as _write
from tui.exitcodes import ExitCode
from tui.knowledge.explain.reader import explain
from tui.knowledge.explain.textinput import (
    DecodedInput,
    InputError,
    decode_argument,
    decode_bytes,
    read_capped,
)
from tui.render.explain import render_json, render_text
from tui.render.jsonout import SCHEMA, dumps
from tui.safe.sanitise import visible

EXIT_RECOGNISED: Final = ExitCode.OK  # something in the text was recognised
EXIT_NOTHING: Final = ExitCode.PROBLEM  # nothing was
EXIT_BAD_INPUT: Final = ExitCode.USAGE
STDIN: Final = "-"
NO_TEXT: Final = (
    "give the error text as an argument (in quotes), or pipe it in: sqlreach explain - < error.txt"
)


@dataclass(frozen=True)
class ExplainOptions:
    text: str | None  # None or "-": read standard input
    output: str = "text"  # text or json


def run_explain(
    options: ExplainOptions, stdin: BinaryIO, stdin_is_tty: bool, out: TextIO, err: TextIO
) -> int:
    try:
        decoded = _read(options, stdin, stdin_is_tty)
    except InputError as error:
        return _refuse(options, str(error), out, err)
    explanation = explain(decoded.text)
    if decoded.notes:
        explanation = replace(explanation, notes=decoded.notes + explanation.notes)
    rendered = render_json(explanation) if options.output == "json" else render_text(explanation)
    _write(out, rendered)
    return EXIT_RECOGNISED if explanation.found else EXIT_NOTHING


def _read(options: ExplainOptions, stdin: BinaryIO, stdin_is_tty: bool) -> DecodedInput:
    if options.text is not None and options.text != STDIN:
        return decode_argument(options.text)
    if options.text is None and stdin_is_tty:
        raise InputError(f"no text to explain: {NO_TEXT}")
    try:
        data, truncated = read_capped(stdin)
    except OSError as error:
        raise InputError(f"standard input cannot be read: {error.strerror or error}") from None
    return decode_bytes(data, truncated)


def _refuse(options: ExplainOptions, message: str, out: TextIO, err: TextIO) -> int:
    if options.output == "json":
        document: dict[str, object] = {
            "schema": SCHEMA,
            "error": message,
            "recognised": [],
            "layer": None,
            "candidates": [],
            "ruled_out": [],
            "next_checks": [],
        }
        _write(out, dumps(document) + "\n")
    _write(err, f"sqlreach explain: {visible(message)}\n")
    return EXIT_BAD_INPUT
