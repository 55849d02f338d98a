"""Driving the wizard under the pilot: wait for screens, answer questions, read what is shown."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.keys import _character_to_key
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
    questions: bool = True,
    forbid: tuple[str, ...] = (),
) -> VerdictScreen:
    """Answer the questions on the way until the verdict: the remote branch for 'on-server',
    the offered default for any other; `questions=False` fails on any question at all, and
    `forbid` on the questions of those steps."""
    deadline = time.monotonic() + 30
    while not isinstance(app.screen, VerdictScreen):
        assert time.monotonic() < deadline, f"no verdict; the screen is {app.screen!r}"
        if isinstance(app.screen, QuestionScreen):
            screen = app.screen
            assert questions, f"an unexpected question: {screen.question.prompt}"
            assert screen.step.id not in forbid, f"asked again: {screen.question.prompt}"
            found = screen.query("#choices")
            if not found:  # pushed, not composed yet
                await pilot.pause(0.02)
                continue
            choices = [c.value for c in screen.question.choices]
            wanted = on_server if screen.step.id == "on-server" else screen.default
            index = choices.index(wanted)
            highlighted = found.first(OptionList).highlighted or 0
            moves = (
                ["down"] * (index - highlighted)
                if index > highlighted
                else (["up"] * (highlighted - index))
            )
            await pilot.press(*moves, "enter")
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


def burst(app: SqlreachApp, *keys: str) -> None:
    """Keys as a terminal delivers a burst over SSH: all queued at once, with no pause for the
    app to handle one before the next arrives (pilot.press waits for idle between keys)."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        character = key if len(key) == 1 else {"enter": "\r", "tab": "\t"}.get(key)
        event = events.Key(name, character)
        event.set_sender(app)
        driver.send_message(event)


async def settled(pilot: Pilot[None], seconds: float = 0.6) -> None:
    """Long enough for a burst to be handled (and for a wrong second answer to show)."""
    await pilot.pause(seconds)


def question_of(app: SqlreachApp, step: str) -> Callable[[], bool]:
    """The question of step `step` is on screen, composed."""
    return lambda: (
        isinstance(app.screen, QuestionScreen)
        and app.screen.step.id == step
        and bool(app.screen.query("#choices"))
    )
