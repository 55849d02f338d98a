"""`sqlreach transcripts list|show|export`: what the command does, apart from its parsing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from tui.safe.sanitise import NAME, visible
from tui.transcript.export import FORMATS, export, render, summary_row
from tui.transcript.journal import TranscriptError
from tui.transcript.store import find_session, list_sessions


def run_list(out: TextIO) -> int:
    sessions = list_sessions()
    if not sessions:
        out.write("No sessions yet. The wizard and 'sqlreach check --transcript FILE' make them.\n")
        return 0
    rows = [
        {key: visible(value, NAME) for key, value in summary_row(session).items()}
        for session in sessions
    ]
    width = max(len(str(row["id"])) for row in rows)
    out.write(f"{'ID':<{width}}  {'WHEN':<24}  {'VERDICT':<20}  TARGET\n")
    for row in rows:
        target = str(row["target"])
        target = target if len(target) <= 60 else target[:59] + "…"
        out.write(
            f"{row['id']:<{width}}  {str(row['when'])[:24]:<24}  {row['verdict']!s:<20}  {target}\n"
        )
    return 0


def run_show(session_id: str, out: TextIO) -> int:
    try:
        session = find_session(session_id)
    except TranscriptError as error:
        sys.stderr.write(f"sqlreach: {error}\n")
        return 1
    out.write(render(session, "md"))
    return 0


def run_export(
    session_id: str, fmt: str, output: str | None, out: TextIO, *, force: bool = False
) -> int:
    if fmt not in FORMATS:
        sys.stderr.write(f"sqlreach: unknown format '{fmt}': use {', '.join(FORMATS)}\n")
        return 2
    try:
        session = find_session(session_id)
        if output is None or output == "-":
            out.write(render(session, fmt))
            return 0
        path = export(session, fmt, Path(output), force=force)
    except TranscriptError as error:
        sys.stderr.write(f"sqlreach: {error}\n")
        return 1
    out.write(f"Exported session {visible(session.id)} to {visible(path)}\n")
    return 0
