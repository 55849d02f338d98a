"""A question the tree puts to the person: one choice from a short list, default highlighted."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.engine.model import Question, Step


class QuestionScreen(ModalScreen[str | None]):
    """Dismissed with the chosen value, or None when the person cancels the diagnosis."""

    BINDINGS = [Binding("escape", "cancel", "Cancel the diagnosis")]

    def __init__(self, step: Step, question: Question, default: str) -> None:
        super().__init__()
        self.step = step
        self.question = question
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.question.prompt, style="bold"))
            yield Static(Text(self.step.why, style="dim"), id="question-why")
            options = [Option(c.label, id=c.value) for c in self.question.choices]
            yield OptionList(*options, id="choices")

    def on_mount(self) -> None:
        choices = self.query_one("#choices", OptionList)
        values = [c.value for c in self.question.choices]
        choices.highlighted = values.index(self.default) if self.default in values else 0
        choices.focus()

    @on(OptionList.OptionSelected, "#choices")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id or self.default)

    def action_cancel(self) -> None:
        self.dismiss(None)
