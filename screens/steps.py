"""The steps walked, after the verdict: the path the person can go back through, each step with
what it found, its evidence and why it matters."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, ListItem, ListView, Static

from screens.base import WizardScreen, footer
from screens.stepview import StepDetail, evidence_text, next_text, result_text
from screens.text import path_picture, step_line
from tui.engine.model import Step, StepRecord
from tui.engine.walk import Diagnosis
from tui.render.path import states_of
from tui.safe.sanitise import visible


class StepsScreen(WizardScreen[None]):
    """Read-only: going back through the path never re-runs a probe."""

    TYPE_AHEAD = False
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("w", "toggle_why", "Why"),
        Binding("e", "toggle_evidence", "Evidence"),
    ]

    def __init__(
        self, diagnosis: Diagnosis, steps: Mapping[str, Step], show_timings: bool = True
    ) -> None:
        super().__init__()
        self.diagnosis = diagnosis
        self.steps_by_id = steps
        self.show_timings = show_timings

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            path_picture(states_of(self.diagnosis)),
            id="path",
        )
        with Horizontal(id="body"):
            yield ListView(
                *(
                    ListItem(Static(step_line(record)), name=record.id)
                    for record in self.diagnosis.steps
                ),
                id="steps",
            )
            yield StepDetail(id="detail")
        yield footer()

    def on_mount(self) -> None:
        self.title = "sqlreach: the steps walked"
        self.sub_title = visible(self.diagnosis.target.data_source)
        steps = self.query_one("#steps", ListView)
        steps.focus()
        if self.diagnosis.steps:
            steps.index = len(self.diagnosis.steps) - 1  # the step that decided
            self.show(self.diagnosis.steps[-1])

    @on(ListView.Highlighted, "#steps")
    def highlighted(self, event: ListView.Highlighted) -> None:
        index = event.list_view.index
        if index is not None and 0 <= index < len(self.diagnosis.steps):
            self.show(self.diagnosis.steps[index])

    def show(self, record: StepRecord) -> None:
        step = self.steps_by_id.get(record.id)
        self.query_one("#step-title", Static).update(Text(visible(record.title), style="bold"))
        self.query_one("#result", Static).update(result_text(record, self.show_timings))
        self.query_one("#next", Static).update(next_text(record))
        why = f"{step.why}\n\n({step.source})" if step is not None else ""
        self.query_one("#why", Static).update(Text(why))
        self.query_one("#evidence", Static).update(evidence_text(record))

    def action_toggle_why(self) -> None:
        self.query_one(StepDetail).toggle("why")

    def action_toggle_evidence(self) -> None:
        self.query_one(StepDetail).toggle("evidence")

    def action_close(self) -> None:
        self.dismiss(None)
