"""Start: paste a target in any form; the parse is shown live, errors point at the culprit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from tui.target import Target, TargetError, parse_target


def describe(target: Target) -> str:
    """The parse, one value per line, with where each value came from."""
    lines = [f"Form: {target.form.value}"]
    for name in ("host", "instance", "port", "protocol", "database", "user", "encrypt", "driver"):
        value = getattr(target, name)
        if value is None:
            continue
        origin = target.origins.get(name)
        where = f"  ({origin.source.value}: {origin.detail})" if origin else ""
        lines.append(f"{name.capitalize()}: {value}{where}")
    lines.extend(f"Note: {note}" for note in target.notes)
    return "\n".join(lines)


class StartScreen(Screen[str]):
    DEFAULT_CSS = """
    StartScreen Vertical { padding: 1 2; }
    StartScreen #parse { margin-top: 1; }
    StartScreen #parse.error { color: $error; }
    """

    def __init__(self, initial: str = "") -> None:
        super().__init__()
        self.initial = initial

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(
                "Paste a server name or a connection string (ADO.NET, ODBC, JDBC, sqlcmd -S):"
            )
            yield Input(value=self.initial, placeholder=r"host\INSTANCE,1433", id="target")
            yield Static("", id="parse")
        yield Footer()

    def on_mount(self) -> None:
        self.show_parse(self.initial)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_parse(event.value)

    def show_parse(self, text: str) -> None:
        parse = self.query_one("#parse", Static)
        if not text.strip():
            parse.update("")
            parse.remove_class("error")
            return
        try:
            parse.update(describe(parse_target(text)))
            parse.remove_class("error")
        except TargetError as error:
            parse.update(f"Cannot read this: {error}")
            parse.add_class("error")
