"""Transcript: where this session is being written, and exports for a ticket or a colleague."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from screens.base import WizardDialog
from tui.transcript.export import export
from tui.transcript.journal import Journal, TranscriptError
from tui.transcript.store import read_session


class TranscriptScreen(WizardDialog[None]):
    """Each export is written once per opening of the dialog: a second press of the same
    button (Enter twice) says where the first one went instead of writing again."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, journal: Journal | None, note: str | None = None) -> None:
        super().__init__()
        self.journal = journal
        self.note = note
        self.exported: dict[str, Path] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Transcript", style="bold"))
            if self.journal is None:
                yield Static(Text(self.note or "This session is not being recorded."))
            else:
                yield Static(
                    Text(
                        f"This session is written, step by step, to\n{self.journal.path}"
                        + (f"\n{self.note}" if self.note else "")
                    )
                )
                yield Input(placeholder="a note for the transcript, then Enter", id="note")
                with Horizontal(id="buttons"):
                    yield Button("Markdown", id="md", variant="primary")
                    yield Button("HTML", id="html")
                    yield Button("JSON", id="json")
                    yield Button("Close", id="close")
            yield Static("", id="exported")

    @on(Input.Submitted, "#note")
    def add_note(self, event: Input.Submitted) -> None:
        if self.journal is None:
            return
        if not event.value.strip():
            self.query_one("#exported", Static).update(
                Text("Type a note first (what you tried, who you asked), then Enter.")
            )
            return
        self.journal.note(event.value.strip())
        event.input.value = ""
        self.query_one("#exported", Static).update("Note added to the transcript.")

    @on(Button.Pressed, "#md")
    @on(Button.Pressed, "#html")
    @on(Button.Pressed, "#json")
    def export_as(self, event: Button.Pressed) -> None:
        if self.journal is None or event.button.id is None:
            return
        fmt = event.button.id
        if fmt in self.exported:
            self.query_one("#exported", Static).update(f"Already exported to {self.exported[fmt]}")
            return
        destination = self.journal.path.with_suffix(
            {"md": ".md", "html": ".html", "json": ".json"}[fmt]
        )
        try:
            # the session's own export beside its journal: a later press refreshes it
            written = export(read_session(self.journal.path), fmt, Path(destination), force=True)
        except TranscriptError as error:
            self.query_one("#exported", Static).update(Text(str(error), style="red"))
            return
        self.exported[fmt] = Path(written)
        self.query_one("#exported", Static).update(Text(f"Exported to {written}"))

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
