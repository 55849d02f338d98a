"""Start: paste a target in any form (or pick one), and optionally the error you saw.

The parse is shown live, with where each value came from and errors pointing at the offending
character; the error text is read live too, so the person sees what it already rules out.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Header, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from screens.base import WizardScreen, footer
from screens.text import describe_target
from tui.knowledge.explain import explain
from tui.target import TargetError, parse_target


@dataclass(frozen=True)
class StartRequest:
    target_text: str
    error_text: str | None


EMPTY_TARGET = (
    "Type a server first: a name (db1), name\\instance (db1\\SALES), name,port "
    "(db1,1433) or a whole connection string; then Enter."
)


class StartScreen(WizardScreen[StartRequest]):
    BINDINGS = [
        Binding("ctrl+r", "diagnose", "Diagnose", priority=True),
        Binding("f2", "toggle_error", "Error text"),
    ]

    def __init__(
        self,
        initial: str = "",
        suggestions: tuple[tuple[str, str], ...] = (),
        notice: str | None = None,
    ) -> None:
        super().__init__()
        self.initial = initial
        self.suggestions = suggestions
        self.notice = notice

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="start"):
            if self.notice:
                yield Static(Text(self.notice, style="yellow"), id="notice")
            yield Static(
                "Server name or connection string (ADO.NET, ODBC, JDBC, sqlcmd -S), then Enter:"
            )
            yield Input(value=self.initial, placeholder=r"host\INSTANCE,1433", id="target")
            yield Static("", id="parse")
            with Vertical(id="error-box"):
                yield Static("The error you saw (optional; F2 to show or hide):")
                yield TextArea(id="error", soft_wrap=True)
                yield Static("", id="error-read")
            if self.suggestions:
                yield Static(Text("Or pick one:", style="bold"))
                yield OptionList(
                    *(Option(label, id=str(i)) for i, (label, _) in enumerate(self.suggestions)),
                    id="suggestions",
                )
        yield footer()

    def on_mount(self) -> None:
        self.title = "sqlreach"
        self.sub_title = "from 'actively refused' to the root cause"
        self.show_parse(self.initial)
        self.set_focus(self.query_one("#target", Input))

    @on(Input.Changed, "#target")
    def target_changed(self, event: Input.Changed) -> None:
        self.show_parse(event.value)

    def show_parse(self, text: str) -> bool:
        parse = self.query_one("#parse", Static)
        if not text.strip():
            parse.update(
                Text(
                    "Examples: db1   db1\\SALES   tcp:db1,1433   "
                    "Server=db1;Database=x;User ID=app   jdbc:sqlserver://db1:1433",
                    style="dim",
                )
            )
            return False
        try:
            parse.update(describe_target(parse_target(text)))
            parse.remove_class("error")
            return True
        except TargetError as error:
            parse.update(Text(f"Cannot read this: {error}", style="bold red"))
            parse.add_class("error")
            return False

    @on(TextArea.Changed, "#error")
    def error_changed(self, event: TextArea.Changed) -> None:
        text = event.text_area.text
        read = self.query_one("#error-read", Static)
        if not text.strip():
            read.update("")
            return
        explanation = explain(text[:200_000])
        if not explanation.found:
            read.update(
                Text("Nothing recognised in it yet; the live checks will tell.", style="dim")
            )
            return
        said = Text()
        for item in explanation.recognised[:4]:
            said.append(f"  {item.code}: ", style="bold")
            said.append(item.meaning[:160] + ("…" if len(item.meaning) > 160 else "") + "\n")
        likely = ", ".join(c.cause.value for c in explanation.candidates[:3])
        said.append(f"  Most likely: {likely}\n", style="bold")
        if explanation.ruled_out:
            out = ", ".join(r.cause.value for r in explanation.ruled_out[:4])
            said.append(f"  Ruled out by the text: {out}\n", style="dim")
        read.update(said)

    @on(Input.Submitted, "#target")
    def action_diagnose(self) -> None:
        text = self.query_one("#target", Input).value
        if not text.strip():  # Enter on an empty box: say what to type, where the eye is
            self.query_one("#parse", Static).update(Text(EMPTY_TARGET, style="bold yellow"))
            self.app.bell()
            self.query_one("#target", Input).focus()
            return
        if not self.show_parse(text):
            self.query_one("#target", Input).focus()
            return
        error = self.query_one("#error", TextArea).text.strip() or None
        self.dismiss(StartRequest(text, error))

    @on(OptionList.OptionSelected, "#suggestions")
    def picked(self, event: OptionList.OptionSelected) -> None:
        _, text = self.suggestions[int(event.option.id or 0)]
        self.query_one("#target", Input).value = text
        self.action_diagnose()

    def action_toggle_error(self) -> None:
        box = self.query_one("#error-box")
        box.display = not box.display
