"""Start: paste a target in any form (or pick one), and optionally the error you saw.

The parse is shown live, with where each value came from and errors pointing at the offending
character; the error text is read live too, so the person sees what it already rules out. An
error text pasted (or typed) into the target field moves to the error field, and the server it
names, if any, becomes the target (`tui.knowledge.pasted` decides, as for `check`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Header, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from screens.base import WizardScreen, footer
from screens.text import describe_target
from tui.knowledge.explain import explain
from tui.knowledge.pasted import PastedError, read_pasted
from tui.safe.sanitise import visible
from tui.target import TargetError, parse_target


@dataclass(frozen=True)
class StartRequest:
    target_text: str
    error_text: str | None


class TargetInput(Input):
    """The target field: a paste of several lines (an error text, a JSON block) reaches the
    screen whole, where Input alone would keep its first line."""

    class Pasted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def on_paste(self, event: events.Paste) -> None:
        if "\n" in event.text.strip() or "\r" in event.text.strip():
            event.prevent_default()
            event.stop()
            self.post_message(self.Pasted(event.text))


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
        self.moved: tuple[str, str] | None = None  # (the target field's value, what was said)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="start"):
            if self.notice:
                yield Static(Text(self.notice, style="yellow"), id="notice")
            yield Static(
                "Server name or connection string (ADO.NET, ODBC, JDBC, sqlcmd -S), then Enter:"
            )
            yield TargetInput(value=self.initial, placeholder=r"host\INSTANCE,1433", id="target")
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
        if not self.take_error_text(self.initial):
            self.show_parse(self.initial)
        self.set_focus(self.query_one("#target", Input))

    @on(Input.Changed, "#target")
    def target_changed(self, event: Input.Changed) -> None:
        if self.moved is not None and event.value != self.moved[0]:
            self.moved = None
        if not self.take_error_text(event.value):
            self.show_parse(event.value)

    @on(TargetInput.Pasted)
    def pasted(self, event: TargetInput.Pasted) -> None:
        if self.take_error_text(event.text):
            return
        one_line = " ".join(event.text.split())
        self.query_one("#target", Input).value = one_line

    def take_error_text(self, text: str) -> bool:
        """An error text in the target field moves to the error field, saying so; the server it
        names (if any) stays as the target."""
        try:
            pasted = read_pasted(text)
        except TargetError:
            return False
        if not isinstance(pasted, PastedError):
            return False
        self.query_one("#error-box").display = True
        self.query_one("#error", TextArea).text = pasted.text.strip()
        target = pasted.target.data_source if pasted.target is not None else ""
        said = (
            f"That was an error text: it moved to the error field below. It names the server "
            f"{target}, now the target; change it if that is not the server."
            if target
            else "That was an error text: it moved to the error field below. Now give the "
            "server (or the connection string) here."
        )
        self.moved = (target, said)
        self.query_one("#target", Input).value = target
        self.show_parse(target)
        return True

    def show_parse(self, text: str) -> bool:
        parse = self.query_one("#parse", Static)
        if self.moved is not None and text == self.moved[0]:
            said = Text(self.moved[1] + "\n", style="yellow")
            readable = False
            if text.strip():
                try:
                    said.append_text(describe_target(parse_target(text)))
                    readable = True
                except TargetError as error:
                    said.append(f"Cannot read this: {error}", style="bold red")
            parse.update(said)
            return readable
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
            parse.update(Text(f"Cannot read this: {visible(str(error))}", style="bold red"))
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
            said.append(f"  {visible(item.code)}: ", style="bold")
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
