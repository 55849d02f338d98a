"""A diagnosis as self-contained HTML (the transcript's HTML export): the picture of the path,
the verdict, the steps, what each client would do, the fixes. Every value is escaped after its
control characters are made visible; nothing from outside becomes markup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from tui.engine.model import StepRecord, Verdict
from tui.knowledge.clients import ClientRow
from tui.knowledge.fixes.model import Fix
from tui.safe.sanitise import NAME, TEXT, html, html_lines

CSS: Final = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.45}
pre,code{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f4f4f4}
pre{padding:.6rem;overflow-x:auto}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}
.pass{color:#176b2c}.fail{color:#b00020}.warn{color:#8a5a00}.skip{color:#666}
"""


def head(title: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html(title)}</title><style>{CSS}</style></head><body>"
    )


def verdict_section(verdict: Verdict | None) -> str:
    if verdict is None:
        return "<h2>No verdict</h2><p>The session ended before a verdict.</p>"
    return (
        f"<h2>Root cause: {html(verdict.root_cause.value)}</h2><p>{html(verdict.summary, TEXT)}</p>"
    )


def steps_table(records: Sequence[StepRecord]) -> str:
    rows = "".join(
        f"<tr><td>{html(r.title, NAME)}</td><td class={r.status.value}>{r.status.value}</td>"
        f"<td>{r.elapsed_ms:.0f} ms</td><td>{html(r.summary)}</td></tr>"
        for r in records
    )
    return (
        "<h2>Steps</h2><table><tr><th>step</th><th>status</th><th>time</th><th>result</th></tr>"
        f"{rows}</table>"
    )


def clients_table(rows: Sequence[ClientRow]) -> str:
    if not rows:
        return ""
    cells = "".join(
        f"<tr><td>{'<b>' if row.candidate else ''}{html(row.name, NAME)} "
        f"({html(row.versions, NAME)}){'</b>' if row.candidate else ''}</td>"
        f"<td>{html(row.encrypt_default, NAME)}</td><td>{html(row.certificate_checked)}</td>"
        f"<td>{html(row.outcome, NAME)}"
        f"{': ' + html(row.failed_check) if row.failed_check else ''}</td>"
        f"<td>{html(row.errors.get('linux') or '')}</td>"
        f"<td>{html(row.errors.get('windows') or '')}</td></tr>"
        for row in rows
    )
    return (
        "<h2>Clients</h2><table><tr><th>client</th><th>Encrypt default</th>"
        "<th>certificate checked</th><th>outcome</th><th>error (Linux)</th>"
        f"<th>error (Windows)</th></tr>{cells}</table>"
    )


def fixes_section(fixes: Sequence[Fix]) -> str:
    parts = []
    for fix in fixes:
        parts.append(f"<h3>{html(fix.title)}</h3><p>{html(fix.why, TEXT)}</p>")
        if fix.risk:
            parts.append(f"<p><strong>Risk:</strong> {html(fix.risk, TEXT)}</p>")
        for warning in fix.warnings:
            parts.append(f"<p><strong>Warning:</strong> {html(warning, TEXT)}</p>")
        for command in fix.commands:
            parts.append(
                f"<p><em>{html(command.platform, NAME)}, {html(command.label, NAME)}</em></p>"
                f"<pre>{html_lines(command.text)}</pre>"
            )
    return "".join(parts)
