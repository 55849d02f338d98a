"""The command palette's main actions: new target, run again, copy, transcript, help."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

ACTIONS = (
    ("New target", "new_target", "diagnose another server"),
    ("Run again (I applied a fix)", "rerun", "re-run the diagnosis and show what changed"),
    ("Copy the highlighted command", "copy", "to the clipboard, over SSH too (OSC 52)"),
    ("Steps walked", "steps", "go back through each step: what it found, its evidence, why"),
    ("Transcript and export", "transcript", "where the session is written; Markdown/HTML/JSON"),
    ("Help", "help", "every key"),
)


class SqlreachCommands(Provider):
    async def discover(self) -> Hits:
        for title, action, help_text in ACTIONS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
