"""Exports of a session: Markdown that reads like a good ticket, self-contained HTML, JSON.

Everything is built from the journal (already scrubbed of secrets): the last run is read back
as a `Diagnosis` and drawn by the same renderers as `check` (tui.render.markdown, .html), with
what only a session has around it (the environment, the error text seen, notes, copied
commands, earlier runs). Files are written owner-only, never through a symlink, and only over
an earlier export when the person says so (`force`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

from tui.render import html as page
from tui.render import markdown as md
from tui.render.jsonout import SCHEMA, dumps
from tui.render.path import hop_states
from tui.render.svg import verdict_svg
from tui.safe.files import UnsafePath, write_new
from tui.safe.sanitise import NAME, TEXT, code, fence, html, markdown, visible_lines
from tui.transcript.journal import TranscriptError
from tui.transcript.store import Session

FORMATS: Final = ("md", "html", "json")


def _no_verdict(session: Session) -> str:
    if session.finished:
        return "the session ended before a verdict"
    return "the session was interrupted before a verdict"


def _environment(session: Session) -> list[tuple[str, str]]:
    env = session.environment
    drivers = ", ".join(str(d) for d in env.get("drivers") or [])
    if not drivers:
        drivers = "none" + (f" ({env['drivers_note']})" if env.get("drivers_note") else "")
    return [
        ("Client OS", str(env.get("client_os", "?"))),
        ("Python", str(env.get("python", "?"))),
        ("sqlreach", str(env.get("tool_version", "?"))),
        ("ODBC drivers found", drivers),
    ]


def to_markdown(session: Session) -> str:
    diagnosis = session.diagnosis
    verdict = diagnosis.verdict if diagnosis is not None else None
    form = session.target.get("form", "?")
    lines = [
        f"# sqlreach session {markdown(session.id, NAME)}",
        "",
        f"Target: {code(session.target_text)} ({markdown(form, NAME)})  ",
        f"Started: {markdown(session.started, NAME)}",
        "",
        "## Summary",
        "",
    ]
    if verdict is not None:
        lines += md.verdict_lines(verdict)
    else:
        lines.append(f"**No verdict:** {_no_verdict(session)}.")
    lines.append("")
    errors = session.of_type("error-text")
    if errors:
        lines += ["## The error that was seen", "", *fence(errors[-1].get("text", "")), ""]
    lines += ["## Environment", ""]
    lines += [f"- {label}: {markdown(value)}" for label, value in _environment(session)]
    steps = diagnosis.steps if diagnosis is not None else tuple(session.steps)
    if steps:
        cause = verdict.root_cause if verdict is not None else None
        lines += md.path_section(hop_states(steps, cause), 2)
        lines += md.steps_section(steps, 2, detail=True)
    if verdict is not None:
        lines += md.clients_section(verdict.clients, 2)
        lines += md.fixes_section(verdict.fixes, 2)
    lines.append("")
    copied = session.of_type("copied")
    notes = session.of_type("note")
    if copied or notes:
        lines += ["## Notes", ""]
        lines += [
            f"- {markdown(event.get('t', ''), NAME)}: {markdown(event.get('text', ''), TEXT)}"
            for event in notes
        ]
        lines += [
            f"- {markdown(event.get('t', ''), NAME)}: copied {code(event.get('command', ''), TEXT)}"
            for event in copied
        ]
        lines.append("")
    if len(session.verdicts) > 1:
        lines += [
            "## Runs",
            "",
            *(
                f"- run {n}: {code(v.get('root_cause'), NAME)}"
                for n, v in enumerate(session.verdicts, 1)
            ),
            "",
        ]
    if session.damaged_lines:
        lines += [
            f"_{session.damaged_lines} journal line(s) could not be read (the session was "
            "cut off while writing)._",
            "",
        ]
    return "\n".join(lines)


def to_json(session: Session) -> str:
    return dumps({"schema": SCHEMA, "session": session.id, "events": session.events})


def to_html(session: Session) -> str:
    diagnosis = session.diagnosis
    verdict = diagnosis.verdict if diagnosis is not None else None
    steps = diagnosis.steps if diagnosis is not None else tuple(session.steps)
    parts = [
        page.head(f"sqlreach session {session.id}"),
        f"<h1>sqlreach session {html(session.id, NAME)}</h1>",
        f"<p>Target: <code>{html(session.target_text)}</code><br>Started: "
        f"{html(session.started, NAME)}</p>",
        verdict_svg(steps, verdict),
    ]
    drawn = session.of_type("verdict-screen")
    if (
        drawn
        and isinstance(drawn[-1].get("svg"), str)
        and drawn[-1]["svg"].lstrip().startswith("<svg")
    ):
        parts.append("<h2>The verdict screen</h2>" + _inline_svg(drawn[-1]["svg"]))
    parts.append(page.verdict_section(verdict))
    parts.append(
        "<h2>Environment</h2><ul>"
        + "".join(
            f"<li>{html(label)}: {html(value)}</li>" for label, value in _environment(session)
        )
        + "</ul>"
    )
    parts.append(page.steps_table(steps))
    if verdict is not None:
        parts.append(page.clients_table(verdict.clients))
        parts.append(page.fixes_section(verdict.fixes))
    notes = session.of_type("note")
    if notes:
        parts.append(
            "<h2>Notes</h2><ul>"
            + "".join(f"<li>{html(n.get('text', ''), TEXT)}</li>" for n in notes)
            + "</ul>"
        )
    parts.append("</body></html>\n")
    return "".join(parts)


def _inline_svg(svg: str) -> str:
    """Textual's SVG, kept self-contained: no scripts, no external references, no control
    characters (invalid in XML)."""
    cleaned = re.sub(r"(?is)<script.*?</script>", "", svg)
    cleaned = re.sub(r"(?i)(href|src)\s*=\s*\"(?!#)[^\"]*\"", "", cleaned)
    cleaned = re.sub(r"(?i),?\s*url\([^)]*\)(\s*format\([^)]*\))?", "", cleaned)  # web fonts
    return f'<div class="screen">{visible_lines(cleaned, None)}</div>'


def render(session: Session, fmt: str) -> str:
    if fmt == "md":
        return to_markdown(session)
    if fmt == "html":
        return to_html(session)
    if fmt == "json":
        return to_json(session)
    raise ValueError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")


def export(session: Session, fmt: str, output: Path, *, force: bool = False) -> Path:
    """Write the export to a new file, or over an earlier regular file with `force`."""
    try:
        return write_new(output, render(session, fmt).encode("utf-8"), force=force)
    except UnsafePath as error:
        raise TranscriptError(str(error)) from None
    except OSError as error:
        raise TranscriptError(f"cannot write {output}: {error.strerror or error}") from None


def summary_row(session: Session) -> dict[str, Any]:
    verdict = session.verdict
    return {
        "id": session.id,
        "when": session.started,
        "target": session.target_text,
        "verdict": verdict.get("root_cause")
        if verdict
        else ("(unfinished)" if not session.finished else "(none)"),
        "path": str(session.path),
    }
