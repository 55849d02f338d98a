"""One step's result as the person reads it, shared by the live run and the steps walked."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Collapsible, Static

from tui.engine.model import StepRecord
from tui.safe.sanitise import visible, visible_lines

STATUS_STYLES = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim"}
EVIDENCE_LIMIT = 20_000  # characters: a hostile server's bytes must not flood the screen


def result_text(record: StepRecord, show_timings: bool = True) -> Text:
    """The status spelled out (never colour alone, for NO_COLOR), then the plain summary."""
    result = Text()
    result.append(
        f"{record.status.value.upper()}: ", style=f"bold {STATUS_STYLES[record.status.value]}"
    )
    result.append(visible_lines(record.summary))
    if record.answer is not None:
        result.append(f"\nYour answer: {visible(record.answer)}", style="italic")
    if show_timings:
        result.append(f"  ({record.elapsed_ms:.0f} ms)", style="dim")
    return result


def evidence_text(record: StepRecord) -> Text:
    evidence = json.dumps(dict(record.evidence), indent=1, ensure_ascii=False, default=str)
    return Text(visible_lines(evidence, EVIDENCE_LIMIT))


def next_text(record: StepRecord) -> Text:
    return Text(f"→ {visible(record.decision)}", style="italic")


class StepDetail(VerticalScroll):
    """The right-hand panel of a step: title, (live progress), result, what comes next, and the
    why and evidence boxes the keys w and e open and close."""

    def __init__(self, *, progress: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.progress = progress

    def compose(self) -> ComposeResult:
        yield Static(id="step-title")
        if self.progress:
            yield Static(id="progress")
        yield Static(id="result")
        yield Static(id="next")
        with Collapsible(title="Why this matters", id="why-box", collapsed=False):
            yield Static(id="why")
        with Collapsible(title="Evidence", id="evidence-box", collapsed=True):
            yield Static(id="evidence")

    def toggle(self, box: str) -> None:
        found = self.query_one(f"#{box}-box", Collapsible)
        found.collapsed = not found.collapsed
