"""Help: every key, on every screen, and how to get around without a mouse."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.base import WizardDialog

HELP = """\
sqlreach walks from a connection error to its root cause and the fix.

Everywhere
  ctrl+p      command palette: new target, run again, copy, steps, export, screenshot
  f1          this help
  ctrl+q      quit (the transcript is already on disk); ctrl+c too

Start
  Enter       diagnose the target (on an empty box: what to type)
  ctrl+r      diagnose (also from the error text box)
  f2          show or hide the "error you saw" box
  tab         move between the target, the error box and the suggestions

While diagnosing
  escape      cancel the running step (escape again: back)
  up / down   walk back through the steps done so far
  w           show or hide "why this matters"
  e           show or hide the evidence

Questions
  up / down   the choices (the likely one is highlighted); enter answers
  escape      back to the question before (on the first: stop the diagnosis)

Log in
  enter       on to the next empty field; from the password, log in
  escape      skip the login (the network checks still count)

Verdict
  up / down   move through the fixes and their commands
  c or enter  copy the highlighted command (OSC 52: works over SSH)
  p           the same fixes for another platform
  r           run again: I applied a fix; show what changed
  s           the steps walked: up / down through them, w and e as above,
              escape back to the verdict
  t           transcript: where it is, add a note, export Markdown/HTML/JSON
  n           new: another target

Over SSH: NO_COLOR=1 for no colours, TEXTUAL_COLOR_SYSTEM=truecolor if your terminal does
better than 256 colours, ESCDELAY=25 if escape feels slow.
"""


class HelpScreen(WizardDialog[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("f1", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(Text("Help", style="bold"))
            yield Static(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
