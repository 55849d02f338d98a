"""Driving the wizard under the pilot: wait for screens, answer questions, read what is shown."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import OptionList, Static

from screens.credentials import CredentialsScreen
from screens.question import QuestionScreen
from screens.verdict import VerdictScreen
from tui.app import SqlreachApp


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; the screen is {pilot.app.screen!r}")
        await pilot.pause(0.02)


def on(app: SqlreachApp, screen: type[Screen[Any]]) -> Callable[[], bool]:
    return lambda: isinstance(app.screen, screen)


async def to_verdict(
    pilot: Pilot[None],
    app: SqlreachApp,
    *,
    on_server: str = "no",
    login: Callable[[Pilot[None]], object] | None = None,
) -> VerdictScreen:
    """Answer the questions on the way (the remote branch by default) until the verdict."""
    deadline = time.monotonic() + 30
    while not isinstance(app.screen, VerdictScreen):
        assert time.monotonic() < deadline, f"no verdict; the screen is {app.screen!r}"
        if isinstance(app.screen, QuestionScreen):
            choices = [c.value for c in app.screen.question.choices]
            assert on_server in choices, f"an unexpected question: {app.screen.question.prompt}"
            index = choices.index(on_server)
            found = app.screen.query("#choices")
            if not found:  # pushed, not composed yet
                await pilot.pause(0.02)
                continue
            highlighted = found.first(OptionList).highlighted or 0
            await pilot.press(
                *(
                    ["down"] * (index - highlighted)
                    if index > highlighted
                    else ["up"] * (highlighted - index)
                ),
                "enter",
            )
        elif isinstance(app.screen, CredentialsScreen):
            if login is None:
                await pilot.press("escape")
            else:
                await login(pilot)  # type: ignore[misc]
        await pilot.pause(0.02)
    await pilot.pause(0.05)
    return app.screen


def shown(screen: Screen[Any], selector: str) -> str:
    return str(screen.query_one(selector, Static).render())
