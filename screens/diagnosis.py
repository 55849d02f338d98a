"""The step screen: the diagnosis as it runs, one step at a time, and the path walked so far.

The engine runs in a worker; its events arrive here as messages and only change what is shown.
Questions come back through the asker, which opens a modal and waits for the person.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Header, ListItem, ListView, Static
from textual.worker import get_current_worker

from screens.base import WizardScreen, footer
from screens.credentials import CredentialsAnswer, CredentialsScreen
from screens.question import QuestionScreen
from screens.stepview import StepDetail, evidence_text, next_text, result_text
from screens.text import path_picture, step_line
from tui.engine.context import Context
from tui.engine.model import (
    Event,
    ProbeFinished,
    ProbeStarted,
    Question,
    Step,
    StepFinished,
    StepRecord,
    StepStarted,
    VerdictReached,
)
from tui.engine.walk import Diagnosis, Tree
from tui.render.path import hop_states
from tui.run import RunOptions, start_run
from tui.safe.sanitise import visible
from tui.target import Target


@dataclass
class Run:
    """Everything one walk needs; the app builds it, the screen only drives it."""

    tree: Tree
    target: Target
    options: RunOptions
    record: Callable[[Event], None] | None = None  # the journal
    on_credentials: Callable[[CredentialsAnswer], None] | None = None
    credentials_screen: Callable[[Target], CredentialsScreen] | None = None
    show_timings: bool = True
    on_back: Callable[[str], None] | None = None  # the journal: the person went back


class GoBack(Exception):
    """Escape on a question: the walk starts again and stops at the question before it."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


@dataclass
class ProbeLine:
    """One probe's line in the live view: waiting, then what it found."""

    probe: str
    detail: str
    started: float
    done: Text | None = None

    @property
    def running(self) -> bool:
        return self.done is None

    def cancel(self) -> None:
        self.done = Text(f"✘ {visible(self.detail)}: cancelled", style="yellow")

    def finish(self, event: ProbeFinished, *, cancelled: bool, timings: bool = True) -> None:
        if cancelled:
            self.cancel()
            return
        self.done = Text(f"✔ {visible(event.summary)}")
        if timings:
            self.done.append(f" ({event.elapsed_ms:.0f} ms)", style="dim")

    def render(self, now: float | None) -> Text:
        """`now` is None when no clock may be shown."""
        if self.done is not None:
            return self.done
        line = Text(f"… {visible(self.detail)}")
        waited = None if now is None else now - self.started
        if waited is not None and waited >= 1:
            line.append(f"  {waited:.0f} s", style="bold")
            if waited >= 2:
                line.append("  (escape cancels)", style="dim")
        return line


class EngineEvent(Message):
    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class DiagnosisScreen(WizardScreen[Diagnosis | None]):
    """Dismissed with the Diagnosis, or None when the person cancels.

    While the walk runs, keys typed just after a dialog closed are held for the next dialog
    (screens.keys: `shown_at`, `expects_dialog`); they never land here."""

    TYPE_AHEAD = False

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("w", "toggle_why", "Why this matters"),
        Binding("e", "toggle_evidence", "Evidence"),
    ]

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run_spec = run
        self.records: list[StepRecord] = []
        self.current: StepStarted | None = None
        self.steps_by_id: dict[str, Step] = dict(run.tree.steps)
        self.progress: list[ProbeLine] = []
        self.cancelled = False
        self.context: Context | None = None
        self.walking = False
        self.asked: list[tuple[str, str]] = []  # (step, answer) in the order the person gave
        self.kept: dict[str, str] = {}  # answers kept when the person went back
        self.again: dict[str, str] = {}  # the answer to highlight on a question asked again

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="path")
        with Horizontal(id="body"):
            yield ListView(id="steps")
            yield StepDetail(id="detail", progress=True)
        yield footer()

    def on_mount(self) -> None:
        self.title = "sqlreach"
        self.sub_title = visible(self.run_spec.target.data_source)
        self.query_one("#path", Static).update(path_picture(hop_states([])))
        if self.run_spec.show_timings:  # no clock on screen for tests and snapshots
            self.set_interval(0.5, self.tick)
        self.walk()

    def expects_dialog(self) -> bool:
        return self.walking and not self.cancelled

    # -- the engine ----------------------------------------------------------------------------

    @work(exclusive=True, group="diagnosis")
    async def walk(self) -> None:
        run = self.run_spec

        def keep(context: Context) -> None:
            self.context = context

        self.walking = True
        try:
            while True:
                options = replace(run.options, preset={**run.options.preset, **self.kept})
                try:
                    diagnosis = await start_run(
                        run.target,
                        options,
                        tree=run.tree,
                        asker=self.ask,
                        emit=self.emit,
                        on_context=keep,
                    )
                except GoBack as back:
                    if run.on_back is not None:
                        run.on_back(back.step)
                    self.start_again()
                    continue
                break
        except asyncio.CancelledError:
            with contextlib.suppress(NoMatches):  # the app closing: the widgets are gone
                self.show_cancelled()
            raise
        finally:
            self.walking = False
        self.dismiss(diagnosis)

    def start_again(self) -> None:
        """Back one question: the answers before it are kept, the steps run again."""
        last_step, last_answer = self.asked.pop()
        self.again[last_step] = last_answer
        self.kept = dict(self.asked)
        self.asked = []
        self.call_later(self.clear_view)  # after the old walk's events still queued here

    def clear_view(self) -> None:
        self.records = []
        self.progress = []
        self.query_one("#steps", ListView).clear()
        self.query_one("#path", Static).update(path_picture(hop_states([])))

    def emit(self, event: Event) -> None:
        if self.run_spec.record is not None:
            self.run_spec.record(event)
        self.post_message(EngineEvent(event))

    async def ask(self, step: Step, question: Question, default: str) -> str:
        if question.credentials:
            make = self.run_spec.credentials_screen or CredentialsScreen.for_target
            assert self.context is not None
            answer = await self.app.push_screen_wait(make(self.context.target))
            if answer is None or not answer.log_in:
                return "skip"
            self.context.target = answer.apply(self.context.target)
            if self.run_spec.on_credentials is not None:
                self.run_spec.on_credentials(answer)
            return "login"
        default = self.again.pop(step.id, default)
        chosen = await self.app.push_screen_wait(QuestionScreen(step, question, default))
        if chosen is None and self.asked:  # escape: back to the question before this one
            raise GoBack(self.asked[-1][0])
        if chosen is None:  # escape on the first question stops the walk, as on this screen
            self.cancelled = True
            worker = get_current_worker()
            worker.cancel()
            await asyncio.sleep(0)  # the cancellation lands here
            raise asyncio.CancelledError
        self.asked.append((step.id, chosen))
        return chosen

    # -- showing events --------------------------------------------------------------------

    @on(EngineEvent)
    def show_event(self, message: EngineEvent) -> None:
        event = message.event
        if isinstance(event, StepStarted):
            self.current = event
            self.progress = []
            self.show_step(self.steps_by_id[event.step], None)
        elif isinstance(event, ProbeStarted):
            self.progress.append(ProbeLine(event.probe, event.detail, time.monotonic()))
            self.show_progress()
        elif isinstance(event, ProbeFinished):
            line = next((p for p in self.progress if p.probe == event.probe and p.running), None)
            if line is not None:
                line.finish(event, cancelled=self.cancelled, timings=self.run_spec.show_timings)
            self.show_progress()
        elif isinstance(event, StepFinished):
            self.records.append(event.record)
            steps = self.query_one("#steps", ListView)
            # no highlight here: a highlight means the person walks back through the path
            steps.append(ListItem(Static(step_line(event.record)), name=event.record.id))
            self.query_one("#path", Static).update(path_picture(hop_states(self.records)))
            self.show_step(self.steps_by_id[event.record.id], event.record)
        elif isinstance(event, VerdictReached):
            self.query_one("#next", Static).update(
                Text(f"Verdict: {event.verdict.root_cause.value}", style="bold")
            )

    def show_step(self, step: Step, record: StepRecord | None) -> None:
        self.query_one("#step-title", Static).update(Text(step.title, style="bold"))
        self.query_one("#why", Static).update(Text(f"{step.why}\n\n({step.source})"))
        if record is None:
            self.query_one("#result", Static).update(Text("running…", style="dim"))
            self.query_one("#evidence", Static).update("")
            self.query_one("#next", Static).update("")
            return
        self.query_one("#result", Static).update(result_text(record, self.run_spec.show_timings))
        self.query_one("#evidence", Static).update(evidence_text(record))
        self.query_one("#next", Static).update(next_text(record))

    def show_progress(self) -> None:
        now = time.monotonic() if self.run_spec.show_timings else None
        text = Text()
        for index, line in enumerate(self.progress):
            text.append("\n" if index else "")
            text.append(line.render(now))
        self.query_one("#progress", Static).update(text)

    def tick(self) -> None:
        """Long probes show that time passes, and how to stop waiting."""
        if any(line.running for line in self.progress):
            self.show_progress()

    def show_cancelled(self) -> None:
        self.cancelled = True
        for line in self.progress:
            if line.running:
                line.cancel()
        self.show_progress()
        self.query_one("#result", Static).update(
            Text("Cancelled. Press Escape again to go back.", style="bold yellow")
        )

    @on(ListView.Highlighted, "#steps")
    def go_back_to(self, event: ListView.Highlighted) -> None:
        """The path can be walked back: a done step shows what it found."""
        if event.item is None or event.list_view.index is None:
            return
        index = event.list_view.index
        if 0 <= index < len(self.records):
            record = self.records[index]
            self.show_step(self.steps_by_id[record.id], record)

    # -- actions ---------------------------------------------------------------------------

    def action_cancel(self) -> None:
        running = [w for w in self.workers if w.group == "diagnosis" and w.is_running]
        if running:
            self.cancelled = True  # before the probes' last events arrive
            for worker in running:
                worker.cancel()
            return
        self.dismiss(None)

    def action_toggle_why(self) -> None:
        self.query_one(StepDetail).toggle("why")

    def action_toggle_evidence(self) -> None:
        self.query_one(StepDetail).toggle("evidence")
