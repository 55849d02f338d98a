"""An explanation in plain words for a junior administrator, or as one JSON object."""

from __future__ import annotations

import re
import textwrap
from typing import Final

from tui.knowledge.causes import LAYER_TITLES, MEANINGS
from tui.knowledge.explain.model import Explanation
from tui.render.jsonout import SCHEMA, dumps
from tui.safe.sanitise import visible_lines

WIDTH: Final = 96
# Names taken from pasted text go into a command people copy: letters, digits, dots, dashes only.
_SAFE_HOST: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
_SAFE_INSTANCE: Final = re.compile(r"[A-Za-z0-9_-]{1,32}")
NOTHING_FOUND: Final = (
    "sqlreach does not recognise anything in this text. It knows Winsock and SQL Network "
    "Interfaces codes, login and database errors, TLS and certificate messages, and the errors "
    "of ODBC, SqlClient, JDBC, FreeTDS, tedious, go-mssqldb, pytds and mssql-python. "
    "Test the connection live instead: sqlreach check SERVER (a server name or a connection "
    "string)."
)


def render_json(explanation: Explanation) -> str:
    document = {"schema": SCHEMA, **explanation.to_json()}
    if not explanation.found:
        document["message"] = NOTHING_FOUND
    return dumps(document) + "\n"


def render_text(explanation: Explanation) -> str:
    """The explanation in words; what came from the pasted text is shown with its control
    characters made visible."""
    return visible_lines(_text(explanation), None)


def _text(explanation: Explanation) -> str:
    lines: list[str] = []
    for note in explanation.notes:
        lines.extend(_wrap(f"Note: {note}"))
    if not explanation.found:
        lines.extend(_wrap(NOTHING_FOUND))
        return "\n".join(lines) + "\n"
    if lines:
        lines.append("")
    lines.append("What the text says")
    for item in explanation.recognised:
        repeat = f" (mentioned {item.count} times)" if item.count > 1 else ""
        lines.extend(_wrap(f'"{item.text}"{repeat}', "  * ", "    "))
        lines.extend(_wrap(f"{item.code}: {item.meaning}", "    ", "    "))
    if explanation.omitted:
        lines.append(f"  ... and {explanation.omitted} more recognised parts (see --json)")
    lines.append("")
    if explanation.layer is not None:
        lines.extend(_wrap(f"Where it failed: {LAYER_TITLES[explanation.layer]}."))
    passed = [p for p in explanation.passed_layers if p != explanation.layer]
    if passed:
        worked = "; ".join(LAYER_TITLES[p] for p in passed)
        lines.extend(_wrap(f"What worked, by the text's own evidence: {worked}."))
    if explanation.candidates:
        lines.append("")
        lines.append("Likely root causes, most likely first")
        for number, candidate in enumerate(explanation.candidates, 1):
            cause = candidate.cause
            lines.extend(_wrap(f"{number}. {cause.value}: {MEANINGS[cause]}", "  ", "     "))
            lines.extend(_wrap(f"(from {', '.join(candidate.because)})", "     ", "     "))
    if explanation.ruled_out:
        lines.append("")
        lines.append("Ruled out by the text")
        grouped: dict[str, list[str]] = {}
        for ruled in explanation.ruled_out:
            grouped.setdefault(ruled.because, []).append(ruled.cause.value)
        for because, causes in grouped.items():
            lines.extend(_wrap(f"{', '.join(causes)}: {because}", "  * ", "    "))
    if explanation.next_checks:
        lines.append("")
        lines.append("Checks that tell the candidates apart")
        for check in explanation.next_checks:
            lines.extend(_wrap(check, "  * ", "    "))
    lines.append("")
    lines.extend(_wrap(f"Then test it live: {suggested_command(explanation)}"))
    return "\n".join(lines) + "\n"


def suggested_command(explanation: Explanation) -> str:
    """`sqlreach check` with the server the text names, when that name is safe in a shell."""
    facts = explanation.facts
    host = facts.get("host", "")
    if not _SAFE_HOST.fullmatch(host):
        return "sqlreach check SERVER (from the machine where the error appeared)"
    target = host
    if facts.get("port", "").isdigit():
        target = f"{host},{facts['port']}"
    elif _SAFE_INSTANCE.fullmatch(facts.get("instance", "")):
        target = f'"{host}\\{facts["instance"]}"'
    return f"sqlreach check {target} (from the machine where the error appeared)"


def _wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=first,
        subsequent_indent=rest or first,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [first.rstrip()]
