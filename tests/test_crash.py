"""The crash report: secret-free, owner-only, in the first place that takes it."""

from __future__ import annotations

import stat
from pathlib import Path

from tui.crash import report_text, save_report
from tui.secret import Secret


def _failure(password: str) -> RuntimeError:
    try:
        raise RuntimeError(f"login failed for Server=db1;Password={password};UID=sa ({password})")
    except RuntimeError as error:
        return error


def test_the_report_holds_the_stack_and_no_secret() -> None:
    text = report_text(_failure("Typed-Secret-42"), [Secret("Typed-Secret-42"), None])
    assert "RuntimeError: login failed" in text and "test_crash.py" in text
    assert "Typed-Secret-42" not in text


def test_a_key_value_password_is_scrubbed_even_when_nobody_said_it_was_secret() -> None:
    """Only as Password=...: a bare repeat of a secret nobody named cannot be recognised, which
    is why the wizard hands over every secret it has seen."""
    text = report_text(_failure("Unknown-Secret-7"), [])
    assert "Password=********;UID=sa" in text
    assert "Password=Unknown-Secret-7" not in text


def test_saved_owner_only_in_the_first_place_that_takes_it(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the directory should be")
    report = save_report(
        _failure("Typed-Secret-42"), ["Typed-Secret-42"], [blocked, tmp_path / "ok"]
    )
    assert report.path is not None and report.path.parent == tmp_path / "ok"
    assert stat.S_IMODE(report.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.path.parent.stat().st_mode) == 0o700
    assert "Typed-Secret-42" not in report.path.read_text() + report.message()
    assert report.message().count("\n") == 1


def test_with_no_place_the_message_says_why(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    report = save_report(_failure("x"), [], [blocked])
    assert report.path is None
    assert "no report could be saved" in report.message() and str(blocked) in report.message()
