"""The wizard's screens answer once.

Textual's `dismiss` pops whatever screen is on top and calls the callback each time it is
called: a second Enter already on its way to a question popped the step screen under it (a
blank screen), and on the start screen popped the last screen (a crash). A wizard screen that
has given its answer ignores every later dismiss, and one that is not on top (a help screen
over it) is brought to the top first, so that the screen above is never popped in its place.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar, TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer

ResultT = TypeVar("ResultT")


class WizardScreen(Screen[ResultT]):
    TYPE_AHEAD: ClassVar[bool] = True  # keys typed before it showed are for it (screens.keys)

    def __init__(
        self,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 (Textual's own keyword: ModalScreen passes it)
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.answered = False
        self.shown_at = time.monotonic()  # when it last became the current screen
        self.first_shown_at: float | None = None  # when it first did

    def on_screen_resume(self) -> None:
        self.shown_at = time.monotonic()
        if self.first_shown_at is None:
            self.first_shown_at = self.shown_at

    def dismiss(self, result: ResultT | None = None) -> AwaitComplete:
        if self.answered or self not in self.app.screen_stack:
            return AwaitComplete(asyncio.sleep(0))
        self.answered = True
        if self.app.screen is not self:
            self.pop_until_active()
        return super().dismiss(result)


class WizardDialog(ModalScreen[ResultT], WizardScreen[ResultT]):
    """A modal wizard screen (a question, the login, the transcript, help). ModalScreen comes
    first: Textual takes a screen's CSS type names from the first base class only."""


def footer() -> Footer:
    """Compact, and without the "^p palette" hint (F1 help names ctrl+p): every key of every
    screen then fits in 80 columns."""
    return Footer(compact=True, show_command_palette=False)
