"""`sqlreach explain`: read the text, explain it, print it, choose the exit code.

Exit 0 when something was recognised, 1 when nothing was, 2 for input that is not an error text
(empty, binary, oddly encoded) or for a missing text on an interactive terminal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import BinaryIO, Final, TextIO

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
            "error": message,
            "recognised": [],
            "layer": None,
            "candidates": [],
            "ruled_out": [],
            "next_checks": [],
        }
        _write(out, json.dumps(document, indent=2) + "\n")
    _write(err, f"sqlreach explain: {message}\n")
    return EXIT_BAD_INPUT


def _write(stream: TextIO, text: str) -> None:
    """Write without dying on a console code page or a closed pipe (`| head`)."""
    try:
        stream.write(text)
        stream.flush()
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "replace").decode(encoding, "replace"))
        stream.flush()
    except BrokenPipeError:
        pass
