"""The wizard shows hostile text as inert text (issue 22): a login error carrying OSC 52 (which
wrote the clipboard) and OSC 2 (the window title), and a user name `dev[/]ops` (which crashed
the verdict screen with MarkupError). The screen's own text is captured and searched."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static

from screens.credentials import CredentialsScreen
from screens.steps import StepsScreen
from screens.verdict import VerdictScreen
from tests import hostile
from tests.lab_fixtures import running
from tests.test_render_hostile import hostile_diagnosis
from tests.wizard_helpers import shown, to_verdict, wait_for
from tui.app import make_app
from tui.engine.walk import Diagnosis

ESCAPES = {"\x1b", "\x9b", "\x9d", "\x90", "\x07", "\u202e"}


def _screen_text(app: App[None]) -> str:
    """What the screen shows: every Static's text, and the screenshot Textual would save."""
    statics = "\n".join(str(widget.render()) for widget in app.screen.query(Static))
    return statics + "\n" + app.export_screenshot()


def _assert_inert(text: str) -> None:
    controls = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"]
    raw = [c for c in text if c in ESCAPES] + controls
    assert not raw, raw[:5]


class _Show(App[None]):
    """The verdict screen alone, on a diagnosis built with hostile values."""

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.diagnosis = diagnosis

    def on_mount(self) -> None:
        self.push_screen(VerdictScreen(self.diagnosis, None, show_timings=False))


async def test_verdict_and_steps_screens_show_escape_sequences_as_text() -> None:
    diagnosis = hostile_diagnosis()
    app = _Show(diagnosis)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, VerdictScreen))
        await pilot.pause(0.1)
        verdict = app.screen
        assert isinstance(verdict, VerdictScreen)
        summary = shown(verdict, "#summary")
        assert "dev[/]ops" in summary and "\\x1b]52;c;cm0gLXJmIH4=\\x07" in summary
        text = _screen_text(app)
        _assert_inert(text)
        for _ in verdict.platforms:  # every platform's commands drawn
            await pilot.press("p")
            _assert_inert(_screen_text(app))
        app.push_screen(StepsScreen(diagnosis, {}, show_timings=False))
        await wait_for(pilot, lambda: isinstance(app.screen, StepsScreen))
        await pilot.press("e", "w")
        await pilot.pause(0.1)
        steps_text = _screen_text(app)
        _assert_inert(steps_text)
        assert "dev[/]ops" in steps_text


async def _as_dev_ops(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, CredentialsScreen)
    screen.query_one("#user", Input).value = "dev[/]ops"
    screen.query_one("#password", Input).value = "definitely-wrong"
    await pilot.press("enter")


async def test_a_user_name_with_markup_reaches_the_verdict(tmp_path: Path) -> None:
    """The lab's server echoes the user name in its 18456 message, as SQL Server does."""
    async with running("healthy-default") as lab:
        app = make_app(lab.address, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(100, 30)) as pilot:
            verdict = await to_verdict(pilot, app, login=_as_dev_ops)
            assert "LOGIN_FAILED" in shown(verdict, "#cause")
            assert "login failed for 'dev[/]ops'" in shown(verdict, "#summary")
            commands = [command for _, command in verdict.commands]
            assert any("ALTER LOGIN [dev[/]]ops]" in command for command in commands)
            _assert_inert(_screen_text(app))


def _server_of(scenario: str, address: str, port: int) -> str:
    return f"{address},{port}" if scenario != "hostile_browser" else f"{address}\\SQL"


async def _walk_against(
    scenario: str, target: str, tmp_path: Path, user: bool
) -> tuple[str, list[str]]:
    """The wizard against a hostile server: every screen on the way, and the verdict."""
    texts: list[str] = []
    app = make_app(target, sessions_dir=tmp_path, show_timings=False, timeout=3)

    async def log_in(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, CredentialsScreen)
        texts.append(_screen_text(app))
        screen.query_one("#user", Input).value = "sa"
        screen.query_one("#password", Input).value = "Hostile#Pw1"
        await pilot.press("enter")

    async with app.run_test(size=(120, 40)) as pilot:
        verdict = await to_verdict(pilot, app, login=log_in if user else None)
        await pilot.pause(0.1)
        cause = shown(verdict, "#cause")
        texts.append(_screen_text(app))
        app.push_screen(StepsScreen(verdict.diagnosis, app.decision_tree.steps, False))
        await wait_for(pilot, lambda: isinstance(app.screen, StepsScreen))
        await pilot.pause(0.1)
        texts.append(_screen_text(app))
    return cause, texts


@pytest.mark.parametrize(
    ("scenario", "user", "shows"),
    [
        ("login_error", True, True),
        ("login_ack", True, True),
        ("hostile_certificate", False, False),  # its fields show only when a client would fail
        ("hostile_browser", False, True),
    ],
)
async def test_a_hostile_server_never_reaches_the_terminal_raw(
    scenario: str, user: bool, shows: bool, tmp_path: Path
) -> None:
    """The hostile servers of tests/hostile.py (escape sequences, markup and HTML in the
    login error, LOGINACK and ENVCHANGE, the certificate, the Browser's answer), walked in
    the wizard: every screen's text is inert, and the walk still reaches a verdict."""
    with getattr(hostile, scenario)() as (address, port):
        cause, texts = await _walk_against(
            scenario, _server_of(scenario, address, port), tmp_path, user
        )
    assert cause
    for text in texts:
        _assert_inert(text)
    shown_inert = "\n".join(texts)
    if shows:  # the hostile text did reach the screen, as inert text
        assert "\\x1b" in shown_inert or "\\x9b" in shown_inert
