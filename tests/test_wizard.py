"""The wizard's main paths under the Textual pilot, against lab scenarios."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, TextArea

from screens.credentials import CredentialsScreen
from screens.help import HelpScreen
from screens.question import QuestionScreen
from screens.start import StartScreen
from screens.transcript import TranscriptScreen
from screens.verdict import VerdictScreen
from tests.lab_fixtures import running
from tests.wizard_helpers import on, shown, to_verdict, wait_for
from tui.app import SqlreachApp, make_app
from tui.lab.scenarios import LAB_PASSWORD, MOVED_PORT
from tui.target import parse_target


async def test_refused_leads_to_a_verdict_with_fixes(tmp_path: Path) -> None:
    with running("service-stopped") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app)
            assert "PORT_REFUSED" in shown(verdict, "#cause")
            assert "refuses TCP port 1433" in shown(verdict, "#summary")
            assert verdict.commands  # copyable commands are listed
            assert any("systemctl start mssql-server" in c for _, c in verdict.commands)


@pytest.mark.slow
async def test_named_instance_through_the_browser_to_ok(tmp_path: Path) -> None:
    with running("healthy-named") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app, login=_enter)
            assert "OK" in shown(verdict, "#cause")
            summary = shown(verdict, "#summary")
            assert "49733" in summary and "login as sa works" in summary


async def _enter(pilot: Pilot[None]) -> None:
    await pilot.press("enter")


@pytest.mark.slow
async def test_wrong_password_through_the_credentials_screen(tmp_path: Path) -> None:
    with running("healthy-default") as lab:
        app = make_app(lab.address, sessions_dir=tmp_path, show_timings=False, timeout=1)

        async def wrong(pilot: Pilot[None]) -> None:
            screen = app.screen
            assert isinstance(screen, CredentialsScreen)
            screen.query_one("#user", Input).value = "sa"
            screen.query_one("#password", Input).value = "definitely-wrong"
            await pilot.press("enter")

        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app, login=wrong)
            assert "LOGIN_FAILED" in shown(verdict, "#cause")
            assert "18456" in shown(verdict, "#summary")
    journal = next(tmp_path.glob("*.jsonl")).read_bytes()
    assert b"definitely-wrong" not in journal


@pytest.mark.slow
async def test_rerun_after_the_scenario_changes_shows_what_changed(
    tmp_path: Path, loopback: str
) -> None:
    app = make_app(loopback, sessions_dir=tmp_path, show_timings=False, timeout=1)
    async with app.run_test(size=(120, 40)) as pilot:
        with running("service-stopped", loopback):
            await to_verdict(pilot, app)
        with running("healthy-default", loopback):  # the service came back
            await pilot.press("r")  # answers already given are not asked again
            await wait_for(pilot, lambda: not isinstance(app.screen, VerdictScreen))
            verdict = await to_verdict(pilot, app, forbid=("on-server",))
            change = shown(verdict, "#change")
            assert "PORT_REFUSED → OK" in change
            assert "Open a TCP connection to the port: fail → pass" in change
    events = [json.loads(line) for line in next(tmp_path.glob("*.jsonl")).read_text().splitlines()]
    assert [e["verdict"]["root_cause"] for e in events if e["type"] == "verdict"] == [
        "PORT_REFUSED",
        "OK",
    ]
    assert any(e["type"] == "rerun" for e in events)


async def test_start_screen_parses_live_and_points_at_errors(tmp_path: Path) -> None:
    app = make_app(sessions_dir=tmp_path, record=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, on(app, StartScreen))
        target = app.screen.query_one("#target", Input)
        target.value = "Server=tcp:db1\\SALES,1500;Database=x"
        await pilot.pause(0.05)
        assert "1500" in shown(app.screen, "#parse") and "SALES" in shown(app.screen, "#parse")
        target.value = "Server={db1"
        await pilot.pause(0.05)
        assert "unbalanced '{' at character 8" in shown(app.screen, "#parse")
        await pilot.press("enter")  # refused: stays on the start screen
        assert isinstance(app.screen, StartScreen)


async def test_suggestions_and_the_error_box(tmp_path: Path) -> None:
    with running("moved-port") as lab:
        app = make_app(
            sessions_dir=tmp_path,
            record=False,
            show_timings=False,
            timeout=1,
            suggestions=[("moved-port: lab", lab.target)],
        )
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, on(app, StartScreen))
            area = app.screen.query_one("#error", TextArea)
            area.load_text(
                "TCP Provider: No connection could be made because the target "
                "machine actively refused it. (Microsoft SQL Server, Error: 10061)"
            )
            await pilot.pause(0.1)
            assert "PORT_REFUSED" in shown(app.screen, "#error-read")
            app.screen.query_one("#suggestions").focus()
            await pilot.press("enter")
            verdict = await to_verdict(pilot, app)
            summary = shown(verdict, "#summary")
            assert str(MOVED_PORT) in summary
            assert "The error text you saw" in summary


async def test_escape_cancels_a_long_probe_and_the_app_stays_usable(tmp_path: Path) -> None:
    """The Browser behind a firewall that drops UDP 1434 waits the whole timeout (a dropped TCP
    port on loopback is called filtered after about 1.1 s: the host's other ports answer)."""
    with running("udp-blocked") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=30)
        async with app.run_test(size=(80, 24)) as pilot:
            await to_question_done(pilot, app)
            await wait_for(pilot, lambda: "asking the Browser" in shown(app.screen, "#progress"))
            started = time.monotonic()
            await pilot.press("escape")
            await wait_for(pilot, lambda: "Cancelled" in shown(app.screen, "#result"), 5)
            assert time.monotonic() - started < 5  # not the 30 s timeout
            await pilot.press("escape")
            await wait_for(pilot, on(app, StartScreen))
            assert app.screen.query_one("#target", Input).value == lab.target


async def to_question_done(pilot: Pilot[None], app: SqlreachApp) -> None:
    await wait_for(pilot, on(app, QuestionScreen))
    await pilot.press("down", "enter")


@pytest.mark.slow
async def test_help_transcript_and_palette(tmp_path: Path) -> None:
    with running("service-stopped") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await to_verdict(pilot, app)
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.press("t")
            assert isinstance(app.screen, TranscriptScreen)
            note = app.screen.query_one("#note", Input)
            note.value = "tried from the jump host"
            await pilot.press("enter")
            await pilot.click("#md")
            await pilot.pause(0.1)
            exported = next(tmp_path.glob("*.md")).read_text()
            assert "PORT_REFUSED" in exported and "tried from the jump host" in exported
            await pilot.press("escape")
            await pilot.press("ctrl+p")
            await pilot.press(*"new target")
            await pilot.press("enter")
            await wait_for(pilot, on(app, StartScreen))


async def test_copy_records_the_command(tmp_path: Path) -> None:
    with running("service-stopped") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app)
            await pilot.press("down", "down", "c")
            await pilot.pause(0.05)
            assert app.clipboard in {c for _, c in verdict.commands}
    journal = next(tmp_path.glob("*.jsonl")).read_text()
    assert '"type": "copied"' in journal


@pytest.mark.slow
async def test_password_from_the_string_never_reaches_the_journal(tmp_path: Path) -> None:
    with running("healthy-default") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app, login=_enter)
            assert "OK" in shown(verdict, "#cause")
    for path in tmp_path.iterdir():
        assert LAB_PASSWORD.encode() not in path.read_bytes()


async def test_an_unfinished_session_is_offered_for_resuming(tmp_path: Path) -> None:
    from tui.transcript.journal import Journal
    from tui.transcript.store import default_directory, ensure_directory

    directory = default_directory()  # under the test's own XDG_DATA_HOME
    ensure_directory(directory)
    journal = Journal.create(
        parse_target("db7\\PAYROLL"), directory / "20261123-010203-abcdef.jsonl"
    )
    journal.write(
        "step-end",
        record={"id": "target", "title": "Read the target", "hop": "client", "status": "pass"},
    )
    del journal  # killed: no session-end
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, on(app, StartScreen))
        notice = shown(app.screen, "#notice")
        assert "db7\\PAYROLL" in notice and "stopped before its verdict" in notice
        assert "Read the target" in notice
        options = app.screen.query_one("#suggestions", OptionList)
        assert "Resume: db7\\PAYROLL" in str(options.get_option_at_index(0).prompt)


@pytest.mark.slow
async def test_html_export_holds_the_verdict_screen_as_drawn(tmp_path: Path) -> None:
    with running("moved-port") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(100, 30)) as pilot:
            await to_verdict(pilot, app)
            await pilot.pause(0.2)
            await pilot.press("t")
            await wait_for(pilot, on(app, TranscriptScreen))
            await pilot.click("#html")
            await pilot.pause(0.2)
    page = next(tmp_path.glob("*.html")).read_text()
    assert "The verdict screen" in page and page.count("<svg") == 2
    assert "WRONG_PORT" in page
    assert "cdnjs" not in page and "url(" not in page  # one self-contained file
