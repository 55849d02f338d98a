"""The command palette's main actions: new target, run again, copy, transcript, help.

Each is offered only where it does something: "Run again" on the start screen did nothing."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from screens.verdict import VerdictScreen

VERDICT = "verdict"  # needs the verdict screen
ANYWHERE = "anywhere"

ACTIONS = (
    ("New target", "new_target", "diagnose another server", VERDICT),
    ("Run again (I applied a fix)", "rerun", "re-run it and show what changed", VERDICT),
    ("Copy the highlighted command", "copy", "to the clipboard, over SSH too (OSC 52)", VERDICT),
    ("Steps walked", "steps", "each step: what it found, its evidence, why", VERDICT),
    ("Transcript and export", "transcript", "where it is written; Markdown/HTML/JSON", VERDICT),
    ("Help", "help", "every key", ANYWHERE),
)


def offered(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """The actions that work on `screen` (the one the palette was opened over)."""
    on_verdict = isinstance(screen, VerdictScreen)
    return [
        (title, action, help_text)
        for title, action, help_text, where in ACTIONS
        if where == ANYWHERE or on_verdict
    ]


class SqlreachCommands(Provider):
    async def discover(self) -> Hits:
        for title, action, help_text in offered(self.screen):
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in offered(self.screen):
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
