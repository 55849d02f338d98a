"""The wizard's login through the person's ODBC driver (issue 7), under the pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from screens.credentials import CredentialsScreen
from tests.lab_fixtures import running
from tests.wizard_helpers import shown, to_verdict
from tui.app import make_app
from tui.lab.scenarios import LAB_PASSWORD


async def _as_sa(pilot: Pilot[None]) -> None:
    """Type the lab's login into the credentials screen, as a person would."""
    screen = pilot.app.screen
    assert isinstance(screen, CredentialsScreen)
    screen.query_one("#user", Input).value = "sa"
    screen.query_one("#password", Input).value = LAB_PASSWORD
    await pilot.press("enter")


@pytest.mark.slow
async def test_renamed_host_through_freetds_shows_the_names_and_the_fix(tmp_path: Path) -> None:
    with running("renamed-host") as lab:
        target = f"Driver={{FreeTDS}};Server={lab.address}"
        app = make_app(target, sessions_dir=tmp_path, show_timings=False, timeout=2)
        async with app.run_test(size=(120, 40)) as pilot:
            verdict = await to_verdict(pilot, app, login=_as_sa)
            assert "OK" in shown(verdict, "#cause")
            summary = shown(verdict, "#summary")
            assert "(pyodbc with FreeTDS)" in summary
            assert "@@SERVERNAME still says OLDHOST, but the machine is SQLHOST01" in summary
            commands = [command for _, command in verdict.commands]
            assert any("EXEC sp_dropserver N'OLDHOST';" in command for command in commands)
            added = "EXEC sp_addserver N'SQLHOST01', 'local';"
            assert any(added in command for command in commands)


@pytest.mark.slow
async def test_a_driver_missing_here_is_a_verdict_with_install_steps(tmp_path: Path) -> None:
    with running("healthy-default") as lab:
        target = f"Driver={{ODBC Driver 99 for SQL Server}};Server={lab.address}"
        app = make_app(target, sessions_dir=tmp_path, show_timings=False, timeout=2)
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app, login=_as_sa)
            assert "DRIVER_MISSING" in shown(verdict, "#cause")
            assert "the login as sa works" in shown(verdict, "#summary")
            commands = [command for _, command in verdict.commands]
            assert any("msodbcsql18" in command for command in commands)
            assert any("tdsodbc" in command for command in commands)
    journal = b"".join(path.read_bytes() for path in tmp_path.glob("*.jsonl"))
    assert b"ODBC Driver 99 for SQL Server" in journal
    assert LAB_PASSWORD.encode() not in journal
