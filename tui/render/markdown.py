"""A diagnosis as Markdown that reads like a good ticket: `check --markdown`, the transcript
export and `transcripts show` build from these same sections.

Every value from outside is escaped (no emphasis, link, raw HTML, heading or table column can
come from a server), names sit in code spans and commands in fences no backtick can close.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from tui.engine.model import StepRecord, Verdict
from tui.engine.walk import Diagnosis
from tui.knowledge.causes import RootCause
from tui.knowledge.clients import ClientRow
from tui.knowledge.fixes.catalog import PLATFORMS
from tui.knowledge.fixes.model import Fix
from tui.render.path import HopState, path_line, states_of
from tui.render.rows import ScanRow
from tui.safe.sanitise import NAME, TEXT, code, fence, markdown

FENCE_LANGUAGE = {
    "powershell": "powershell",
    "tsql": "sql",
    "linux": "sh",
    "macos": "sh",
    "windows-cmd": "bat",
}


def render(diagnosis: Diagnosis) -> str:
    verdict = diagnosis.verdict
    target = diagnosis.target
    lines = [
        f"## sqlreach: `{verdict.root_cause.value}` for {code(target.data_source)}",
        "",
        markdown(verdict.summary, TEXT),
    ]
    lines += path_section(states_of(diagnosis), 3)
    lines += steps_section(diagnosis.steps, 3)
    lines += clients_section(verdict.clients, 3)
    lines += fixes_section(verdict.fixes, 3)
    if target.notes:
        lines += ["", "### Notes", "", *(f"- {markdown(note)}" for note in target.notes)]
    lines += ["", f"Time to verdict: {diagnosis.elapsed_ms:.0f} ms", ""]
    return "\n".join(lines)


def bad_input(message: str) -> str:
    return f"## sqlreach: `{RootCause.BAD_INPUT.value}`\n\n{markdown(message, TEXT)}\n"


def verdict_lines(verdict: Verdict) -> list[str]:
    return [f"**Root cause: `{verdict.root_cause.value}`**", "", markdown(verdict.summary, TEXT)]


def _heading(level: int, title: str) -> list[str]:
    return ["", f"{'#' * level} {title}", ""]


def path_section(states: Sequence[HopState], level: int) -> list[str]:
    return [
        *_heading(level, "Path"),
        "```",
        path_line(states),
        "```",
        "",
        "| hop | state | detail |",
        "|---|---|---|",
        *(f"| {s.hop.value} | {s.mark.value} | {markdown(s.detail)} |" for s in states),
    ]


def steps_section(records: Sequence[StepRecord], level: int, *, detail: bool = False) -> list[str]:
    """The steps as a table; with `detail`, then each step's decision, the person's answer and
    its evidence (a transcript keeps them for whoever picks the ticket up)."""
    lines = [
        *_heading(level, "Steps"),
        "| step | status | time | result |",
        "|---|---|---|---|",
        *(
            f"| {markdown(r.title, NAME)} | {r.status.value} | {r.elapsed_ms:.0f} ms | "
            f"{markdown(r.summary)} |"
            for r in records
        ),
    ]
    if not detail:
        return lines
    lines.append("")
    for number, record in enumerate(records, 1):
        answer = f" (answer: {markdown(record.answer, NAME)})" if record.answer else ""
        lines += [
            f"{number}. **{markdown(record.title, NAME)}**: {record.status.value}, "
            f"{record.elapsed_ms:.0f} ms{answer}  ",
            f"   Decision: {markdown(record.decision, NAME)}",
        ]
        if record.evidence:
            evidence = json.dumps(record.evidence, indent=2, ensure_ascii=True, sort_keys=True)
            lines += [
                "",
                "   <details><summary>evidence</summary>",
                "",
                *fence(evidence, "json", "   "),
                "",
                "   </details>",
            ]
        lines.append("")
    return lines


def clients_section(rows: Sequence[ClientRow], level: int) -> list[str]:
    if not rows:
        return []
    lines = [
        *_heading(level, "Clients"),
        "What each driver would do against this server (**bold**: the one in use, or the "
        "candidates when the connection string does not say).",
        "",
        "| client | Encrypt default | certificate checked | outcome | error (Linux) "
        "| error (Windows) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        name = f"{markdown(row.name, NAME)} ({markdown(row.versions, NAME)})"
        if row.candidate:
            name = f"**{name}**"
        failed = f": {markdown(row.failed_check)}" if row.failed_check else ""
        lines.append(
            f"| {name} | {markdown(row.encrypt_default, NAME)} | "
            f"{markdown(row.certificate_checked)} | {markdown(row.outcome, NAME)}{failed} | "
            f"{markdown(row.errors.get('linux') or '')} | "
            f"{markdown(row.errors.get('windows') or '')} |"
        )
    return lines


def fixes_section(fixes: Sequence[Fix], level: int) -> list[str]:
    if not fixes:
        return []
    lines = _heading(level, "Fixes")[:-1]
    for fix in fixes:
        lines += ["", f"{'#' * (level + 1)} {markdown(fix.title)}", "", markdown(fix.why, TEXT)]
        if fix.risk:
            lines += ["", f"**Risk:** {markdown(fix.risk, TEXT)}"]
        for warning in fix.warnings:
            lines += ["", f"**Warning:** {markdown(warning, TEXT)}"]
        for platform in PLATFORMS:
            for command in (c for c in fix.commands if c.platform == platform):
                lines += [
                    "",
                    f"*{platform}, {markdown(command.label, NAME)}:*",
                    "",
                    *fence(command.text, FENCE_LANGUAGE.get(platform, "")),
                ]
    return lines


def scan_table(rows: Sequence[ScanRow]) -> str:
    lines = ["| line | target | root cause | time | summary |", "|---|---|---|---|---|"]
    lines += [
        f"| {r.line} | {code(r.text, in_table=True)} | {markdown(r.root_cause, NAME)} | "
        f"{r.elapsed_ms:.0f} ms | {markdown(r.summary)} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"
