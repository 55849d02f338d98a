"""`check --error`: the text people saw, read first, then judged against the live result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.check_run import run_check
from tests.lab_fixtures import running
from tests.netutil import closed_port

REPO = Path(__file__).resolve().parent.parent
FIXTURE = (REPO / "tests" / "fixtures" / "windows" / "error-messages.txt").read_text()
# The seed text of the project (a linked server; SNAC 11; error 10061).
REFUSED = (
    'OLE DB provider "SQLNCLI11" for linked server "REMOTE" returned message "Login timeout '
    'expired". TCP Provider: No connection could be made because the target machine actively '
    "refused it. (Microsoft SQL Server, Error: 10061)"
)
LOGIN_FAILED = "[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Login failed for user 'sa'."


def check(target: str, *extra: str, stdin: bytes | None = None) -> tuple[int, dict[str, Any]]:
    code, document, _ = run_check(target, *extra, stdin=stdin)
    return code, document


def test_the_text_and_the_live_result_agree() -> None:
    with running("service-stopped") as lab:
        code, document = check(lab.target, "--error", REFUSED)
    assert code == 1 and document["root_cause"] == "PORT_REFUSED"
    assert "the live check agrees: PORT_REFUSED" in document["summary"]
    assert document["error_text"]["agreement"] == "agrees"
    step = next(s for s in document["steps"] if s["id"] == "error")
    assert "10061" in step["summary"]


def test_refused_in_the_text_but_it_works_now() -> None:
    with running("healthy-default") as lab:
        code, document = check(lab.target, "--error", REFUSED)
    assert code == 0 and document["root_cause"] == "OK"
    assert "it works from here now" in document["summary"]
    assert "another address family" in document["summary"]
    assert document["error_text"]["agreement"] == "disagrees"


def test_a_login_error_but_the_port_refuses_here() -> None:
    with running("service-stopped") as lab:
        _, document = check(lab.target, "--error", LOGIN_FAILED)
    assert document["root_cause"] == "PORT_REFUSED"
    assert "which that text rules out" in document["summary"]


def test_a_login_error_without_credentials_asks_for_them() -> None:
    with running("healthy-default") as lab:
        _, document = check(lab.address, "--error", LOGIN_FAILED)
    assert document["root_cause"] == "OK"
    assert "the error text you saw is about the login" in document["summary"]


def test_error_file_in_utf16_and_secrets_redacted(tmp_path: Path) -> None:
    secret = "Err0r-Text-Secret-5521"
    path = tmp_path / "error.txt"
    path.write_bytes(("Server=db;UID=sa;PWD=" + secret + ";\n" + REFUSED).encode("utf-16"))
    with running("service-stopped") as lab:
        _code, document = check(
            lab.target,
            "--error-file",
            str(path),
            "--transcript",
            str(tmp_path / "t.jsonl"),
        )
    assert document["error_text"]["agreement"] == "agrees"
    assert secret not in json.dumps(document)
    journal = (tmp_path / "t.jsonl").read_text()
    assert '"error-text"' in journal and secret not in journal


def test_a_long_multi_error_text_can_be_given_to_check(loopback: str) -> None:
    code, document = check(f"{loopback},{closed_port(loopback)}", "--error", FIXTURE[:4000])
    assert code in (0, 1) and "error_text" in document


def test_bad_error_input_is_exit_2() -> None:
    code, document = check("db1", "--error-file", "-", stdin=b"\x00\x01\x02binary\xff" * 10)
    assert code == 2 and "error text" in document["summary"]
    code, document = check("db1", "--error-file", "/nonexistent/error.txt")
    assert code == 2 and "cannot read" in document["summary"]
