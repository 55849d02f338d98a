"""The Textual application: the composition root that wires screens to the engine."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from screens.start import StartScreen


class SqlreachApp(App[None]):
    TITLE = "sqlreach"
    SUB_TITLE = "from 'actively refused' to the root cause"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, target_text: str | None = None) -> None:
        super().__init__()
        self.target_text = target_text
        self.suggestions: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        self.push_screen(StartScreen(initial=self.target_text or ""))


def make_app(target_text: str | None = None) -> SqlreachApp:
    """One factory for the CLI and the tests."""
    return SqlreachApp(target_text=target_text)


def run_wizard(
    target_text: str | None = None, suggestions: list[tuple[str, str]] | None = None
) -> int:
    app = make_app(target_text)
    app.suggestions = suggestions or []
    app.run()
    return 0
