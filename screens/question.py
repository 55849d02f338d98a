"""A question the tree puts to the person: one choice from a short list, default highlighted.

Escape goes back: to the question before this one, or, on the first question, it stops the
walk (the step screen then says how to get back to the start, the target kept).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.base import WizardDialog
from tui.engine.model import Question, Step


class QuestionScreen(WizardDialog[str | None]):
    """Dismissed with the chosen value, or None for Escape (back one question)."""

    BINDINGS = [Binding("escape", "back", "Back")]
    AUTO_FOCUS = "#choices"

    def __init__(self, step: Step, question: Question, default: str) -> None:
        super().__init__()
        self.step = step
        self.question = question
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="question"):
            yield Static(Text(self.question.prompt, style="bold"))
            with VerticalScroll(id="question-why-box"):
                yield Static(Text(self.step.why, style="dim"), id="question-why")
            options = [Option(c.label, id=c.value) for c in self.question.choices]
            yield OptionList(*options, id="choices")
            yield Static(
                Text("↑↓ choose · Enter answers · Escape goes back", style="dim"),
                id="question-keys",
            )

    def on_mount(self) -> None:
        choices = self.query_one("#choices", OptionList)
        values = [c.value for c in self.question.choices]
        choices.highlighted = values.index(self.default) if self.default in values else 0
        choices.scroll_to_highlight()

    @on(OptionList.OptionSelected, "#choices")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id or self.default)

    def action_back(self) -> None:
        self.dismiss(None)
