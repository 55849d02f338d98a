"""DRIVER_MISSING only when everything else works: a connection string naming an ODBC driver that
is not installed here, against a lab server that rejects the password, is LOGIN_FAILED (what
sqlreach's own login saw), with the missing driver as a finding beside it and its install steps
after the login's own fixes."""

from __future__ import annotations

import json
from typing import Any

from tests.check_run import run_check
from tests.lab_fixtures import running
from tui.knowledge.causes import CAUSES, RootCause
from tui.lab.scenarios import LAB_PASSWORD

MISSING = "ODBC Driver 99 for SQL Server"  # named nowhere: not installed on any machine


def check(target: str, *extra: str) -> dict[str, Any]:
    code, document, _ = run_check(target, *extra, timeout=3)
    document["_exit"] = code
    return document


def fix_ids(document: dict[str, Any]) -> list[str]:
    return [fix["id"] for fix in document["fixes"]]


def test_a_server_that_rejects_the_login_outranks_the_missing_driver() -> None:
    with running("wrong-password") as server:
        document = check(f"Driver={{{MISSING}}};{server.target}")
    assert document["root_cause"] == "LOGIN_FAILED", document["summary"]
    summary = document["summary"]
    assert "18456" in summary
    assert f"'{MISSING}' is not installed here" in summary  # the finding beside it
    assert "Installing it would not help until the server accepts the login" in summary
    assert "if the application runs on another one, look there" in summary
    ids = fix_ids(document)
    assert "install-odbc-driver-18" in ids
    install = ids.index("install-odbc-driver-18")
    assert install > 0, ids  # the login's own fixes come first
    assert LAB_PASSWORD not in json.dumps(document)
    login = next(step for step in document["steps"] if step["id"] == "login")
    assert "native" in login["evidence"]  # sqlreach's own login asked the server


def test_with_a_good_login_the_missing_driver_is_the_root_cause() -> None:
    with running("healthy-default") as server:
        document = check(f"Driver={{{MISSING}}};{server.target}")
    assert document["root_cause"] == "DRIVER_MISSING", document["summary"]
    assert "the login as sa works" in document["summary"]


def test_the_registry_says_when_the_driver_is_the_root_cause() -> None:
    meaning = {cause.code: cause.meaning for cause in CAUSES}[RootCause.DRIVER_MISSING]
    assert "nothing else is wrong" in meaning
    assert "outranks it" in meaning
