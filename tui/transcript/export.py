"""Exports of a session: Markdown that reads like a good ticket, self-contained HTML, JSON.

Everything is built from the journal (already scrubbed of secrets), and written atomically:
a temporary file beside the target, then a rename, so an earlier export is never half replaced.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Final

from tui.render.path import hop_states, path_line
from tui.render.svg import verdict_svg
from tui.transcript.journal import FILE_MODE, TranscriptError
from tui.transcript.store import Session

FORMATS: Final = ("md", "html", "json")


def _verdict_lines(session: Session) -> list[str]:
    verdict = session.verdict
    if verdict is None:
        state = (
            "the session ended before a verdict"
            if session.finished
            else ("the session was interrupted before a verdict")
        )
        return [f"**No verdict:** {state}."]
    return [f"**Root cause: `{verdict.get('root_cause')}`**", "", str(verdict.get("summary", ""))]


def to_markdown(session: Session) -> str:
    target = session.target
    env = session.environment
    steps = session.steps
    lines = [f"# sqlreach session {session.id}", ""]
    lines += [
        f"Target: `{session.target_text}` ({target.get('form', '?')})  ",
        f"Started: {session.started}",
        "",
    ]
    lines += ["## Summary", "", *_verdict_lines(session), ""]
    errors = session.of_type("error-text")
    if errors:
        lines += [
            "## The error that was seen",
            "",
            "```",
            str(errors[-1].get("text", "")),
            "```",
            "",
        ]
    lines += [
        "## Environment",
        "",
        f"- Client OS: {env.get('client_os', '?')}",
        f"- Python: {env.get('python', '?')}",
        f"- sqlreach: {env.get('tool_version', '?')}",
        "- ODBC drivers found: "
        + (
            ", ".join(env.get("drivers") or [])
            or "none" + (f" ({env['drivers_note']})" if env.get("drivers_note") else "")
        ),
        "",
    ]
    if steps:
        lines += ["## Path", "", "```", path_line(hop_states(steps)), "```", ""]
        lines += ["## Steps", ""]
        for number, record in enumerate(steps, 1):
            answer = f" (answer: {record.answer})" if record.answer else ""
            lines += [
                f"{number}. **{record.title}**: {record.status.value}, "
                f"{record.elapsed_ms:.0f} ms{answer}  ",
                f"   {record.summary}  ",
                f"   Decision: {record.decision}",
            ]
            if record.evidence:
                evidence = json.dumps(record.evidence, indent=2, ensure_ascii=False, sort_keys=True)
                lines += [
                    "",
                    "   <details><summary>evidence</summary>",
                    "",
                    "   ```json",
                    *("   " + line for line in evidence.splitlines()),
                    "   ```",
                    "",
                    "   </details>",
                ]
            lines.append("")
    verdict = session.verdict
    fixes = verdict.get("fixes", []) if verdict else []
    if fixes:
        lines += ["## Fixes", ""]
        for fix in fixes:
            lines += [f"### {fix.get('title')}", "", str(fix.get("why", "")), ""]
            if fix.get("risk"):
                lines += [f"**Risk:** {fix['risk']}", ""]
            for command in fix.get("commands", []):
                lines += [
                    f"*{command.get('platform')}, {command.get('label')}:*",
                    "",
                    "```",
                    str(command.get("text", "")),
                    "```",
                    "",
                ]
    copied = session.of_type("copied")
    notes = session.of_type("note")
    if copied or notes:
        lines += ["## Notes", ""]
        lines += [f"- {event.get('t', '')}: {event.get('text', '')}" for event in notes]
        lines += [
            f"- {event.get('t', '')}: copied `{event.get('command', '')}`" for event in copied
        ]
        lines.append("")
    if len(session.verdicts) > 1:
        lines += [
            "## Runs",
            "",
            *(f"- run {n}: `{v.get('root_cause')}`" for n, v in enumerate(session.verdicts, 1)),
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
    document = {"session": session.id, "events": session.events}
    return json.dumps(document, indent=2, ensure_ascii=False)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.45}
pre,code{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f4f4f4}
pre{padding:.6rem;overflow-x:auto}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}
.pass{color:#176b2c}.fail{color:#b00020}.warn{color:#8a5a00}.skip{color:#666}
"""


def to_html(session: Session) -> str:
    esc = html.escape
    verdict = session.verdict
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>sqlreach session {esc(session.id)}</title><style>{_CSS}</style></head><body>",
        f"<h1>sqlreach session {esc(session.id)}</h1>",
        f"<p>Target: <code>{esc(session.target_text)}</code><br>Started: "
        f"{esc(session.started)}</p>",
        verdict_svg(session.steps, verdict),
    ]
    drawn = session.of_type("verdict-screen")
    if (
        drawn
        and isinstance(drawn[-1].get("svg"), str)
        and drawn[-1]["svg"].lstrip().startswith("<svg")
    ):
        parts.append("<h2>The verdict screen</h2>" + _inline_svg(drawn[-1]["svg"]))
    if verdict:
        parts.append(
            f"<h2>Root cause: {esc(str(verdict.get('root_cause')))}</h2>"
            f"<p>{esc(str(verdict.get('summary', '')))}</p>"
        )
    else:
        parts.append("<h2>No verdict</h2><p>The session ended before a verdict.</p>")
    env = session.environment
    parts.append(
        "<h2>Environment</h2><ul>"
        + "".join(
            f"<li>{esc(label)}: {esc(str(value))}</li>"
            for label, value in (
                ("Client OS", env.get("client_os", "?")),
                ("Python", env.get("python", "?")),
                ("sqlreach", env.get("tool_version", "?")),
                ("ODBC drivers", ", ".join(env.get("drivers") or []) or "none"),
            )
        )
        + "</ul>"
    )
    parts.append(
        "<h2>Steps</h2><table><tr><th>step</th><th>status</th><th>time</th><th>result</th></tr>"
    )
    for record in session.steps:
        parts.append(
            f"<tr><td>{esc(record.title)}</td><td class={record.status.value}>"
            f"{record.status.value}</td><td>{record.elapsed_ms:.0f} ms</td>"
            f"<td>{esc(record.summary)}</td></tr>"
        )
    parts.append("</table>")
    for fix in (verdict or {}).get("fixes", []):
        parts.append(f"<h3>{esc(str(fix.get('title')))}</h3><p>{esc(str(fix.get('why', '')))}</p>")
        for command in fix.get("commands", []):
            parts.append(
                f"<p><em>{esc(str(command.get('platform')))}, "
                f"{esc(str(command.get('label')))}</em></p>"
                f"<pre>{esc(str(command.get('text', '')))}</pre>"
            )
    notes = session.of_type("note")
    if notes:
        parts.append(
            "<h2>Notes</h2><ul>"
            + "".join(f"<li>{esc(str(n.get('text', '')))}</li>" for n in notes)
            + "</ul>"
        )
    parts.append("</body></html>\n")
    return "".join(parts)


def _inline_svg(svg: str) -> str:
    """Textual's SVG, kept self-contained: no scripts, no external references."""
    cleaned = re.sub(r"(?is)<script.*?</script>", "", svg)
    cleaned = re.sub(r"(?i)(href|src)\s*=\s*\"(?!#)[^\"]*\"", "", cleaned)
    cleaned = re.sub(r"(?i),?\s*url\([^)]*\)(\s*format\([^)]*\))?", "", cleaned)  # web fonts
    return f'<div class="screen">{cleaned}</div>'


def render(session: Session, fmt: str) -> str:
    if fmt == "md":
        return to_markdown(session)
    if fmt == "html":
        return to_html(session)
    if fmt == "json":
        return to_json(session)
    raise ValueError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")


def write_atomically(path: Path, text: str) -> None:
    """Write beside the destination, then rename: the old file stays whole until the new is."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as error:
        raise TranscriptError(f"cannot write in {directory}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise TranscriptError(f"cannot write {path}: {error.strerror}") from None


def export(session: Session, fmt: str, output: Path) -> Path:
    write_atomically(output, render(session, fmt))
    return output


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
