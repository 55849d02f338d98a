"""A finished diagnosis as text, Markdown or JSON: the verdict first, then steps, then fixes."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from typing import Any

from tui.engine.walk import Diagnosis
from tui.knowledge.fixes.catalog import PLATFORMS
from tui.knowledge.fixes.model import Fix
from tui.render.path import path_line, path_table, states_of


def to_json(diagnosis: Diagnosis) -> str:
    return json.dumps(diagnosis.to_json(), indent=2, ensure_ascii=False)


def _ordered_commands(fix: Fix, platform_first: str | None) -> list[tuple[str, str, str]]:
    commands = [(c.platform, c.label, c.text) for c in fix.commands]
    if platform_first:
        commands.sort(key=lambda c: 0 if c[0] == platform_first else 1)
    return commands


def to_text(diagnosis: Diagnosis, platform_first: str | None = None) -> str:
    verdict = diagnosis.verdict
    lines = [
        f"Verdict: {verdict.root_cause.value}",
        "",
        *_wrap(verdict.summary, 100),
        "",
        "Path:",
        *("  " + row for row in path_table(states_of(diagnosis))),
        "",
        "Steps:",
    ]
    for record in diagnosis.steps:
        lines.append(
            f"  {record.status.value.upper():<4} {record.title} ({record.elapsed_ms:.0f} ms)"
        )
        lines.extend("       " + line for line in _wrap(record.summary, 92))
    lines += _clients_text(diagnosis)
    if verdict.fixes:
        lines += ["", "Fixes:"]
        for number, fix in enumerate(verdict.fixes, 1):
            lines.append(f"  {number}. {fix.title}")
            lines.extend("     " + line for line in _wrap(fix.why, 94))
            if fix.risk:
                lines.extend("     " + line for line in _wrap("Risk: " + fix.risk, 94))
            for platform, label, text in _ordered_commands(fix, platform_first):
                lines.append(f"     [{platform}] {label}:")
                lines.extend("         " + line for line in text.splitlines())
    for note in diagnosis.target.notes:
        lines.append(f"Note: {note}")
    lines.append(f"Time to verdict: {diagnosis.elapsed_ms:.0f} ms")
    return "\n".join(lines) + "\n"


def to_markdown(diagnosis: Diagnosis) -> str:
    verdict = diagnosis.verdict
    target = diagnosis.target
    states = states_of(diagnosis)
    lines = [
        f"## sqlreach: `{verdict.root_cause.value}` for `{target.data_source}`",
        "",
        verdict.summary,
        "",
        "### Path",
        "",
        "```",
        path_line(states),
        "```",
        "",
        "| hop | state | detail |",
        "|---|---|---|",
        *(f"| {s.hop.value} | {s.mark.value} | {_cell(s.detail)} |" for s in states),
        "",
        "### Steps",
        "",
        "| step | status | time | result |",
        "|---|---|---|---|",
        *(
            f"| {r.title} | {r.status.value} | {r.elapsed_ms:.0f} ms | {_cell(r.summary)} |"
            for r in diagnosis.steps
        ),
    ]
    lines += _clients_markdown(diagnosis)
    if verdict.fixes:
        lines += ["", "### Fixes"]
        for fix in verdict.fixes:
            lines += ["", f"#### {fix.title}", "", fix.why]
            if fix.risk:
                lines += ["", f"**Risk:** {fix.risk}"]
            for platform in PLATFORMS:
                for command in (c for c in fix.commands if c.platform == platform):
                    language = {
                        "powershell": "powershell",
                        "tsql": "sql",
                        "linux": "sh",
                        "macos": "sh",
                        "windows-cmd": "bat",
                    }.get(platform, "")
                    lines += [
                        "",
                        f"*{platform}, {command.label}:*",
                        "",
                        f"```{language}",
                        command.text,
                        "```",
                    ]
    if target.notes:
        lines += ["", "### Notes", "", *(f"- {note}" for note in target.notes)]
    lines += ["", f"Time to verdict: {diagnosis.elapsed_ms:.0f} ms", ""]
    return "\n".join(lines)


def _clients(diagnosis: Diagnosis) -> list[dict[str, Any]]:
    return [row.to_json() for row in diagnosis.verdict.clients]


def _clients_text(diagnosis: Diagnosis) -> list[str]:
    """What each client family would do against this server ('works from SSMS, not my app')."""
    rows = _clients(diagnosis)
    if not rows:
        return []
    lines = ["", "Clients (what each driver would do against this server; * = yours):"]
    for row in rows:
        mark = "*" if row.get("candidate") else " "
        outcome = str(row.get("outcome", "")).upper()
        failed = f": {row['failed_check']}" if row.get("failed_check") else ""
        lines.append(f"  {mark} {outcome:<8} {row.get('name')} ({row.get('versions')}){failed}")
        lines.extend("             " + line for line in _wrap(str(row.get("reason", "")), 86))
        errors = row.get("error") or {}
        for platform in ("linux", "windows"):
            if errors.get(platform):
                lines.extend(
                    "             " + line
                    for line in _wrap(f"prints on {platform}: {errors[platform]}", 86)
                )
    return lines


def _clients_markdown(diagnosis: Diagnosis) -> list[str]:
    rows = _clients(diagnosis)
    if not rows:
        return []
    lines = [
        "",
        "### Clients",
        "",
        "What each driver would do against this server (**bold**: the one in use, or the "
        "candidates when the connection string does not say).",
        "",
        "| client | Encrypt default | certificate checked | outcome | error (Linux) "
        "| error (Windows) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        name = f"{row.get('name')} ({row.get('versions')})"
        if row.get("candidate"):
            name = f"**{name}**"
        failed = f": {row['failed_check']}" if row.get("failed_check") else ""
        errors = row.get("error") or {}
        lines.append(
            f"| {_cell(name)} | {row.get('encrypt_default')} | "
            f"{_cell(str(row.get('certificate_checked')))} | {row.get('outcome')}{_cell(failed)} | "
            f"{_cell(str(errors.get('linux') or ''))} | {_cell(str(errors.get('windows') or ''))} |"
        )
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _wrap(text: str, width: int) -> Iterable[str]:
    return textwrap.wrap(text, width) or [""]
