"""A person types fast: keys in bursts (no pause between them, as over SSH), keys typed before a
dialog is mounted, the same key twice, resizes mid-screen; Escape goes back, Enter on an empty
field says what to type. All against lab scenarios, under the pilot."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from screens.credentials import CredentialsScreen
from screens.diagnosis import DiagnosisScreen
from screens.question import QuestionScreen
from screens.start import EMPTY_TARGET, StartScreen
from screens.transcript import TranscriptScreen
from screens.verdict import VerdictScreen
from tests.lab_fixtures import running
from tests.wizard_helpers import (
    burst,
    on,
    question_of,
    settled,
    shown,
    to_verdict,
    wait_for,
)
from tui.app import SqlreachApp, make_app
from tui.lab.scenarios import LAB_PASSWORD


def journal_of(directory: Path) -> list[dict[str, Any]]:
    (path,) = directory.glob("*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def stack(app: SqlreachApp) -> list[str]:
    return [type(screen).__name__ for screen in app.screen_stack]


async def to_client_question(pilot: Pilot[None], app: SqlreachApp, *, at_once: bool) -> None:
    """'Not on the server' on the first question, then wait for the client question; with
    `at_once` both keys in one burst, else through pilot.press."""
    await wait_for(pilot, question_of(app, "on-server"))
    if at_once:
        burst(app, "down", "enter")
    else:
        await pilot.press("down", "enter")
    await wait_for(pilot, question_of(app, "client"))


async def to_login(pilot: Pilot[None], app: SqlreachApp) -> CredentialsScreen:
    """On to the login dialog, by pilot.press: a client, the client the target implies."""
    await to_client_question(pilot, app, at_once=False)
    await settled(pilot)  # an Enter at once would be a double press of the one before
    await pilot.press("enter")
    await wait_for(pilot, on(app, CredentialsScreen))
    await settled(pilot)  # read before the next Enter, as a person would (screens.keys)
    screen = app.screen
    assert isinstance(screen, CredentialsScreen)
    return screen


def notices() -> tuple[list[str], Callable[[Message], None]]:
    """What the app notified (toasts), and the message hook that collects it."""
    told: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            told.append(message.notification.message)

    return told, hook


# -- Enter pressed twice in one burst, on every screen and question ---------------------------


async def test_enter_twice_on_the_start_screen_starts_one_diagnosis() -> None:
    async with running("moved-port") as lab:
        app = make_app(record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, on(app, StartScreen))
            app.screen.query_one("#target", Input).value = lab.target
            burst(app, "enter", "enter")
            await wait_for(pilot, question_of(app, "on-server"))
            await settled(pilot)
            # the second Enter neither popped a screen (a crash) nor answered the question
            assert stack(app) == ["Screen", "DiagnosisScreen", "QuestionScreen"]
            assert question_of(app, "on-server")()


async def test_pilot_presses_enter_twice_on_the_start_screen_and_every_question() -> None:
    """pilot.press waits for the app to be idle between keys (up to a second): the second
    Enter may come after the next screen showed, and then answers it, as a deliberate press
    would. Whatever the timing: one diagnosis, never a blank screen or a crash."""
    async with running("moved-port") as lab:
        app = make_app(record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, on(app, StartScreen))
            app.screen.query_one("#target", Input).value = lab.target
            await pilot.press("enter", "enter")
            while not isinstance(app.screen, VerdictScreen):
                await wait_for(
                    pilot, lambda: isinstance(app.screen, QuestionScreen | VerdictScreen)
                )
                assert stack(app)[:2] == ["Screen", "DiagnosisScreen"]
                if isinstance(app.screen, QuestionScreen):
                    await pilot.press("enter", "enter")
            await settled(pilot)
            assert stack(app) == ["Screen", "VerdictScreen"]
            assert app.session is not None and len(app.session.history) == 1


async def test_enter_bursts_on_each_question_and_the_login_answer_each_once(
    tmp_path: Path,
) -> None:
    async with running("healthy-default") as lab:
        app = make_app(lab.address, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, question_of(app, "on-server"))
            burst(app, "down", "enter", "enter")  # on a client; the second Enter is a bounce
            await wait_for(pilot, question_of(app, "client"))
            await settled(pilot)
            assert question_of(app, "client")()  # not answered by the bounce
            burst(app, "enter", "enter")
            await wait_for(pilot, on(app, CredentialsScreen))
            await settled(pilot)
            assert isinstance(app.screen, CredentialsScreen)  # not submitted empty by it
            burst(app, *"sa", "tab", *LAB_PASSWORD, "enter", "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, CredentialsScreen))
            verdict = await to_verdict(pilot, app, questions=False)
            await settled(pilot)
            assert "login as sa works" in shown(verdict, "#summary")
            assert stack(app) == ["Screen", "VerdictScreen"]
    journal = journal_of(tmp_path)
    answers = [e["record"] for e in journal if e["type"] == "step-end"]
    by_step = {record["id"]: record.get("answer") for record in answers}
    assert by_step["on-server"] == "no" and by_step["client"] == "auto"
    assert by_step["login-wanted"] == "login"
    assert LAB_PASSWORD not in json.dumps(journal)


async def test_keys_typed_before_the_login_dialog_is_mounted_land_in_their_fields() -> None:
    """The audit's case: Enter on the question before the login, then at once `sa`, Tab and
    the password: all of it typed before the dialog exists."""
    async with running("healthy-default") as lab:
        app = make_app(lab.address, record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await to_client_question(pilot, app, at_once=True)
            await settled(pilot)  # read it (an Enter at once would be a double press)
            burst(app, "enter", *"sa", "tab", *LAB_PASSWORD)
            await wait_for(pilot, on(app, CredentialsScreen))
            screen = app.screen
            await wait_for(pilot, lambda: screen.query_one("#password", Input).value != "")
            await settled(pilot, 0.3)
            assert screen.query_one("#user", Input).value == "sa"
            assert screen.query_one("#password", Input).value == LAB_PASSWORD
            assert screen.query_one("#password", Input).has_focus


async def test_a_filled_in_user_is_never_typed_over(tmp_path: Path) -> None:
    async with running("healthy-default") as lab:
        target = f"Server={lab.address};User ID=sa"  # a user, no password: the dialog asks
        app = make_app(target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await to_client_question(pilot, app, at_once=True)
            await settled(pilot)
            burst(app, "enter", *LAB_PASSWORD, "enter")
            await wait_for(pilot, on(app, VerdictScreen))
            verdict = await to_verdict(pilot, app, questions=False)
            assert "login as sa works" in shown(verdict, "#summary")
    assert LAB_PASSWORD not in json.dumps(journal_of(tmp_path))


async def test_keys_typed_ahead_for_a_dialog_that_never_comes_are_not_verdict_actions() -> None:
    async with running("moved-port") as lab:
        app = make_app(lab.target, record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, question_of(app, "on-server"))
            await settled(pilot)
            burst(app, "down", "enter", *"sa", "tab", "x")  # for a login that never comes
            await wait_for(pilot, on(app, VerdictScreen))
            verdict = await to_verdict(pilot, app, questions=False)
            await settled(pilot)
            assert stack(app) == ["Screen", "VerdictScreen"]  # 's' did not open the steps
            assert "Copied" not in shown(verdict, "#copied")  # nor 'c' a copy


async def test_the_same_letter_twice_on_the_verdict_acts_once(tmp_path: Path) -> None:
    async with running("moved-port") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await to_verdict(pilot, app)
            burst(app, "r", "r")  # run again, twice in one burst
            await wait_for(pilot, lambda: app.session is not None and len(app.session.history) == 2)
            await to_verdict(pilot, app)
            await settled(pilot)
            assert stack(app) == ["Screen", "VerdictScreen"]
            burst(app, "t", "t")
            await wait_for(pilot, on(app, TranscriptScreen))
            await settled(pilot)
            assert stack(app) == ["Screen", "VerdictScreen", "TranscriptScreen"]
            burst(app, "tab", "enter", "enter")  # Markdown, twice
            await wait_for(pilot, lambda: "Exported to" in shown(app.screen, "#exported"))
            await settled(pilot)
            await pilot.press("enter")  # once more, later: said, not written again
            await wait_for(pilot, lambda: "Already exported" in shown(app.screen, "#exported"))
            assert len(list(tmp_path.glob("*.md"))) == 1
            burst(app, "escape", "n", "n")
            await wait_for(pilot, on(app, StartScreen))
            await settled(pilot)
            assert app.screen.query_one("#target", Input).value == ""  # the second n: dropped
    assert [e["type"] for e in journal_of(tmp_path)].count("rerun") == 1


# -- Escape goes back; Enter on an empty field says what to type ------------------------------


async def test_escape_goes_back_one_question_then_cancels_keeping_the_target(
    tmp_path: Path,
) -> None:
    async with running("healthy-default") as lab:
        app = make_app(lab.address, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await to_client_question(pilot, app, at_once=False)
            await pilot.press("escape")  # back: the question before, its answer highlighted
            await wait_for(pilot, question_of(app, "on-server"))
            choices = app.screen.query_one("#choices", OptionList)
            assert choices.highlighted == 1  # "No, on a client", as answered
            await pilot.press("enter")  # the same answer again: on to the client question
            await wait_for(pilot, question_of(app, "client"))
            await pilot.press("escape", "escape")  # back to the first question, then cancel
            await wait_for(
                pilot,
                lambda: (
                    isinstance(app.screen, DiagnosisScreen)
                    and "Cancelled" in shown(app.screen, "#result")
                ),
            )
            await pilot.press("escape")
            await wait_for(pilot, on(app, StartScreen))
            assert app.screen.query_one("#target", Input).value == lab.address
    kinds = [e["type"] for e in journal_of(tmp_path)]
    assert kinds.count("back") == 2 and kinds[-1] == "session-end"


async def test_enter_on_empty_fields_says_what_to_type() -> None:
    told, hook = notices()
    async with running("healthy-default") as lab:
        app = make_app(record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
            await wait_for(pilot, on(app, StartScreen))
            await pilot.press("enter")
            await wait_for(pilot, lambda: EMPTY_TARGET in shown(app.screen, "#parse"))
            assert isinstance(app.screen, StartScreen)
            await pilot.press(*lab.address, "enter")
            await to_login(pilot, app)
            await pilot.press("enter")  # no user
            await wait_for(pilot, lambda: any("Type the user name" in t for t in told))
            await pilot.press(*"sa", "enter")  # Enter in the user field: on to the password
            assert app.screen.query_one("#password", Input).has_focus
            await pilot.press("enter")  # an empty password: said, not sent
            await wait_for(pilot, lambda: any("The password is empty" in t for t in told))
            assert isinstance(app.screen, CredentialsScreen)
            await pilot.press("enter")  # asked for twice: logged in without one
            verdict = await to_verdict(pilot, app, questions=False)
            assert "LOGIN_FAILED" in shown(verdict, "#cause")


# -- 80x24: lists scroll to the highlight, the login form fits, resizes ------------------------


async def test_the_client_list_scrolls_to_its_last_choice_at_80x24_and_after_a_resize() -> None:
    async with running("healthy-default") as lab:
        app = make_app(lab.address, record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await to_client_question(pilot, app, at_once=False)
            screen = app.screen
            assert isinstance(screen, QuestionScreen)
            choices = screen.query_one("#choices", OptionList)
            assert choices.region.bottom <= 24
            await pilot.press("end")
            assert choices.highlighted == choices.option_count - 1
            assert choices.max_scroll_y > 0 and choices.scroll_y == choices.max_scroll_y
            await pilot.resize_terminal(120, 40)
            await pilot.pause(0.1)
            await pilot.resize_terminal(80, 24)
            await pilot.pause(0.1)
            await pilot.press("home")
            assert choices.highlighted == 0 and choices.scroll_y == 0
            labels = [str(choices.get_option_at_index(i).prompt) for i in range(9)]
            assert any("SSMS" in label for label in labels)
            await pilot.press("end", "up")
            assert choices.scroll_y > 0 and choices.region.bottom <= 24


async def test_the_login_form_fits_80x24_and_follows_a_resize() -> None:
    async with running("healthy-default") as lab:
        app = make_app(lab.address, record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await to_login(pilot, app)
            dialog = screen.query_one("#dialog")
            await pilot.pause(0.1)
            for selector in ("#user", "#password", "#login", "#integrated", "#keep"):
                widget = screen.query_one(selector)
                assert widget.region.height > 0 and widget.region.bottom <= dialog.region.bottom
            await pilot.resize_terminal(120, 40)
            await pilot.pause(0.1)
            assert not screen.query_one("#user", Input).compact
            await pilot.resize_terminal(80, 24)
            await pilot.pause(0.1)
            assert screen.query_one("#user", Input).compact
            burst(app, *"sa", "tab", *LAB_PASSWORD, "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, CredentialsScreen))
            verdict = await to_verdict(pilot, app, questions=False)
            assert "login as sa works" in shown(verdict, "#summary")


async def test_every_footer_key_shows_at_80_columns() -> None:
    from textual.widgets._footer import FooterKey

    async with running("moved-port") as lab:
        app = make_app(lab.target, record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app)
            await pilot.pause(0.1)
            keys = list(verdict.query(FooterKey))
            shown_keys = {key.key for key in keys if key.region.right <= 80 and key.region.width}
            assert {"c", "p", "r", "s", "t", "n", "ctrl+q", "f1"} <= shown_keys
            await pilot.press("s")
            await pilot.pause(0.2)
            steps = [k for k in app.screen.query(FooterKey)]
            assert steps and all(k.region.right <= 80 for k in steps)


async def test_copying_says_so_below_the_list_not_in_a_toast_over_it() -> None:
    told, hook = notices()
    async with running("moved-port") as lab:
        app = make_app(lab.target, record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
            verdict = await to_verdict(pilot, app)
            await pilot.press("down", "down", "down", "c")
            await pilot.pause(0.1)
            copied = verdict.query_one("#copied", Static)
            assert "Copied:" in str(copied.render())
            assert copied.region.y >= verdict.query_one("#fixes").region.bottom
            assert told == []


# -- the palette, Ctrl+C, screenshots ----------------------------------------------------------


async def test_the_palette_offers_run_again_only_on_the_verdict() -> None:
    from screens.palette import offered

    async with running("moved-port") as lab:
        app = make_app(lab.target, record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, question_of(app, "on-server"))
            assert [a for _, a, _ in offered(app.screen)] == ["help"]
            verdict = await to_verdict(pilot, app)
            assert "rerun" in [a for _, a, _ in offered(verdict)]


async def test_ctrl_c_quits_and_the_journal_is_closed(tmp_path: Path) -> None:
    async with running("moved-port") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, question_of(app, "on-server"))
            await pilot.press("ctrl+c")
            await pilot.pause(0.2)
            assert app.return_code == 0
    assert journal_of(tmp_path)[-1]["type"] == "session-end"


async def test_a_screenshot_goes_to_the_data_directory_without_downloads(
    tmp_path: Path, monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    told, hook = notices()
    app = make_app(record=False, show_timings=False)
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await wait_for(pilot, on(app, StartScreen))
        app.deliver_screenshot()
        folder = tmp_path / "data" / "sqlreach" / "screenshots"
        await wait_for(pilot, lambda: any(folder.glob("*.svg")) and bool(told), 10)
        assert str(folder) in told[-1]
        assert (folder.stat().st_mode & 0o777) == 0o700
