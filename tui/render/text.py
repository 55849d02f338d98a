"""A diagnosis as plain text for a terminal: the verdict first, then the path, the steps, what
each client would do, and the fixes. Every value from outside goes through the sanitiser."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

from tui.engine.walk import Diagnosis
from tui.knowledge.causes import RootCause
from tui.knowledge.clients import ClientRow
from tui.knowledge.fixes.model import Fix
from tui.render.path import path_table, states_of
from tui.render.rows import ScanRow
from tui.safe.sanitise import NAME, TEXT, visible, visible_lines


def render(diagnosis: Diagnosis, platform_first: str | None = None) -> str:
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
            f"  {record.status.value.upper():<4} {visible(record.title)} "
            f"({record.elapsed_ms:.0f} ms)"
        )
        lines.extend("       " + line for line in _wrap(record.summary, 92))
    lines += clients(verdict.clients)
    lines += fixes(verdict.fixes, platform_first)
    for note in diagnosis.target.notes:
        lines.append(f"Note: {visible(note)}")
    lines.append(f"Time to verdict: {diagnosis.elapsed_ms:.0f} ms")
    return "\n".join(lines) + "\n"


def bad_input(message: str) -> str:
    """What `check` prints for a target it cannot understand."""
    return f"Verdict: {RootCause.BAD_INPUT.value}\n\n{visible(message)}\n"


def fixes(found: Sequence[Fix], platform_first: str | None = None) -> list[str]:
    if not found:
        return []
    lines = ["", "Fixes:"]
    for number, fix in enumerate(found, 1):
        lines.append(f"  {number}. {visible(fix.title)}")
        lines.extend("     " + line for line in _wrap(fix.why, 94))
        if fix.risk:
            lines.extend("     " + line for line in _wrap("Risk: " + fix.risk, 94))
        for warning in fix.warnings:
            lines.extend("     " + line for line in _wrap("Warning: " + warning, 94))
        commands = list(fix.commands)
        if platform_first:
            commands.sort(key=lambda c: 0 if c.platform == platform_first else 1)
        for command in commands:
            lines.append(f"     [{command.platform}] {visible(command.label)}:")
            lines.extend("         " + line for line in visible_lines(command.text).splitlines())
    return lines


def clients(rows: Sequence[ClientRow]) -> list[str]:
    """What each client family would do against this server ('works from SSMS, not my app')."""
    if not rows:
        return []
    lines = ["", "Clients (what each driver would do against this server; * = yours):"]
    for row in rows:
        mark = "*" if row.candidate else " "
        failed = f": {visible(row.failed_check)}" if row.failed_check else ""
        lines.append(
            f"  {mark} {visible(row.outcome.upper(), NAME):<8} {visible(row.name, NAME)} "
            f"({visible(row.versions, NAME)}){failed}"
        )
        lines.extend("             " + line for line in _wrap(row.reason, 86))
        for platform in ("linux", "windows"):
            error = row.errors.get(platform)
            if error:
                lines.extend(
                    "             " + line for line in _wrap(f"prints on {platform}: {error}", 86)
                )
    return lines


def scan_table(rows: Sequence[ScanRow]) -> str:
    """One line a target, cut to the terminal, then the count of each root cause."""
    texts = [visible(r.text, NAME) for r in rows]
    width = min(48, max((len(text) for text in texts), default=6))
    out = [f"{'TARGET':<{width}}  {'ROOT CAUSE':<20}  {'TIME':>8}  SUMMARY"]
    for row, text in zip(rows, texts, strict=True):
        text = text if len(text) <= width else text[: width - 1] + "…"
        summary = visible(row.summary)
        summary = summary if len(summary) <= 100 else summary[:99] + "…"
        out.append(
            f"{text:<{width}}  {visible(row.root_cause, 20):<20}  {row.elapsed_ms:>6.0f}ms  "
            f"{summary}"
        )
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.root_cause] = counts.get(row.root_cause, 0) + 1
    out.append("")
    out.append(
        "Total: " + ", ".join(f"{visible(cause, 40)} {n}" for cause, n in sorted(counts.items()))
    )
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int) -> Iterable[str]:
    """Prose from outside, controls made visible, wrapped (its line breaks become spaces)."""
    return textwrap.wrap(visible_lines(text, TEXT), width) or [""]
