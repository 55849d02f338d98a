"""Service Control Manager events: the real Event Viewer texts, and Get-WinEvent's JSON.

The JSON tests use minimal inputs built from the documented EventLogRecord fields (Id,
TimeCreated, ProviderName, Message) with the message text of the real samples; no real
`Get-WinEvent | ConvertTo-Json` output was found to record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.localenv import Replay, make_env, ok
from tui.probes.local.eventlog import (
    ServiceEvent,
    classify,
    parse_event_json,
    parse_event_text,
    read_service_events,
    service_name_for,
)
from tui.probes.local.system import POWERSHELL

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def events(name: str) -> tuple[ServiceEvent, ...]:
    return parse_event_text((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("eventlog-system-7038-wrong-password.txt", "The user name or password is incorrect."),
        (
            "eventlog-system-7038-account-disabled.txt",
            "This user can't sign in because this account is currently disabled.",
        ),
        (
            "eventlog-system-7038-locked-out.txt",
            "The referenced account is currently locked out and may not be logged on to.",
        ),
        (
            "eventlog-system-7038-password-must-change.txt",
            "The user's password must be changed before signing in.",
        ),
    ],
)
def test_7038_logon_failures(name: str, reason: str) -> None:
    (event,) = events(name)
    assert event.event_id == 7038 and event.logon_failure
    assert (event.service, event.account, event.reason) == ("MSSQLSERVER", ".\\sqlsrvlogin", reason)
    assert event.when == "<Datetime>"
    assert event.meaning == f"MSSQLSERVER could not log on as .\\sqlsrvlogin ({reason})"


def test_7041_logon_type_not_granted() -> None:
    (event,) = events("eventlog-system-7041-logon-type.txt")
    assert event.event_id == 7041 and event.logon_failure
    assert event.account == "NT Service\\MSSQLSERVER"
    assert "Log on as a service" in event.meaning


def test_7000_and_7024() -> None:
    (denied,) = events("eventlog-system-7000-access-denied.txt")
    assert (denied.service, denied.display_name, denied.reason) == (
        "MSSQLSERVER",
        "SQL Server (MSSQLSERVER)",
        "Access is denied.",
    )
    assert not denied.logon_failure
    (missing,) = events("eventlog-system-7000-file-not-found.txt")
    assert missing.reason == "The system cannot find the file specified."
    (terminated,) = events("eventlog-system-7024-data-invalid.txt")
    assert terminated.event_id == 7024 and terminated.reason == "The data is invalid."
    assert "see the ERRORLOG" in terminated.meaning


def test_older_layout_event_is_read_but_is_not_a_service_event() -> None:
    (kdc,) = events("eventlog-system-kdc-11-duplicate-spn.txt")
    assert kdc.event_id == 11 and kdc.when == "2/29/2008 1:43:18 PM"
    assert kdc.service is None and not kdc.logon_failure


def test_several_events_in_one_text() -> None:
    text = "\n".join(
        (FIXTURES / name).read_text(encoding="utf-8")
        for name in (
            "eventlog-system-7038-wrong-password.txt",
            "eventlog-system-7024-data-invalid.txt",
        )
    )
    assert [event.event_id for event in parse_event_text(text)] == [7038, 7024]


def test_service_names_from_display_names() -> None:
    assert service_name_for("SQL Server (MSSQLSERVER)") == "MSSQLSERVER"
    assert service_name_for("SQL Server (SQLEXPRESS)") == "MSSQL$SQLEXPRESS"
    assert service_name_for("SQL Server Browser") == "SQLBrowser"
    assert service_name_for("Print Spooler") is None


def test_unknown_wording_keeps_the_event_id() -> None:
    event = classify(7038, "Der Dienst MSSQL$SALES konnte sich nicht anmelden.")
    assert event.logon_failure and event.service == "MSSQL$SALES" and event.account is None


def recorded_json() -> str:
    wrong = (FIXTURES / "eventlog-system-7038-wrong-password.txt").read_text(encoding="utf-8")
    message = wrong.split("Description:\n", 1)[1]
    return json.dumps(
        [
            {
                "Id": 7038,
                "TimeCreated": "2024-05-01T08:00:00.0000000+02:00",
                "ProviderName": "Service Control Manager",
                "Message": message,
            },
            {"Id": "x", "Message": None},
        ]
    )


def test_json_array_and_single_object() -> None:
    parsed, problems = parse_event_json(recorded_json())
    assert [e.account for e in parsed] == [".\\sqlsrvlogin"]
    assert parsed[0].when == "2024-05-01T08:00:00.0000000+02:00"
    assert problems == ("an event without a numeric Id was skipped",)
    single, _ = parse_event_json(json.dumps({"Id": 7000, "Message": "x"}))
    assert single[0].event_id == 7000
    assert parse_event_json("") == ((), ())
    assert parse_event_json("<html>") == ((), ("the event log query did not return JSON",))


async def test_reader_runs_get_winevent_only_on_windows(tmp_path: Path) -> None:
    runner = Replay({(POWERSHELL,): ok(recorded_json())})
    windows, _ = make_env(tmp_path, platform="win32", runner=runner)
    scan = await read_service_events(windows, timeout=5)
    assert [e.service for e in scan.for_service("mssqlserver")] == ["MSSQLSERVER"]
    assert runner.calls[0][:4] == (POWERSHELL, "-NoProfile", "-NonInteractive", "-Command")
    linux, _ = make_env(tmp_path, runner=runner)
    assert (await read_service_events(linux, timeout=5)).events == ()
    assert len(runner.calls) == 1


async def test_reader_reports_a_missing_powershell(tmp_path: Path) -> None:
    windows, _ = make_env(tmp_path, platform="win32", runner=Replay())
    scan = await read_service_events(windows, timeout=5)
    assert scan.events == () and "not available" in scan.problems[0]


@given(st.text(max_size=2000))
def test_text_parser_never_raises(text: str) -> None:
    for event in parse_event_text(text):
        assert isinstance(event.meaning, str)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.one_of(st.text(max_size=500), json_values.map(json.dumps)))
def test_json_parser_never_raises(text: str) -> None:
    parsed, _ = parse_event_json(text)
    assert all(isinstance(event.event_id, int) for event in parsed)
