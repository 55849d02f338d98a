"""Issue 7: a real login through pyodbc with the person's driver, against the lab.

pyodbc + FreeTDS (Debian's tdsodbc) and pyodbc + Microsoft's ODBC Driver 18 (the library
mssql-python bundles, registered by tests/odbc_drivers.py) log in to lab scenarios through
`sqlreach check --driver NAME`, as a person would; the probe itself is also driven directly
against scenarios the tree stops before (an untrusted certificate, a server that stalls).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.check_run import run_check
from tests.lab_fixtures import client_env, running
from tests.odbc_drivers import FREETDS, ODBC18, why_no_odbc18
from tui.knowledge import login_errors
from tui.knowledge.causes import RootCause
from tui.knowledge.login_errors import Outcome, Reply
from tui.lab.scenarios import LAB_PASSWORD
from tui.probes.odbc_login import OdbcStatus, probe_odbc_login
from tui.target import parse_target
from tui.transcript.export import export
from tui.transcript.store import read_session

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 2.0
NO_ODBC18 = why_no_odbc18()
DRIVERS = [
    pytest.param(FREETDS, id="freetds"),
    pytest.param(
        ODBC18, id="odbc18", marks=pytest.mark.skipif(NO_ODBC18 is not None, reason=str(NO_ODBC18))
    ),
]


def check(target: str, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    code, document, _ = run_check(target, *extra, timeout=TIMEOUT, env=env)
    document["_exit"] = code
    return document


def login_step(document: dict[str, Any]) -> dict[str, Any]:
    steps = [step for step in document["steps"] if step["id"] == "login"]
    assert steps, [step["id"] for step in document["steps"]]
    step: dict[str, Any] = steps[0]
    return step


def fix_ids(document: dict[str, Any]) -> list[str]:
    return [fix["id"] for fix in document["fixes"]]


def for_driver(target: str, driver: str) -> str:
    """ODBC Driver 18 encrypts by default, and these scenarios offer no encryption: say
    Encrypt=no (Optional), as a person does against such a server."""
    return f"{target};Encrypt=no" if driver == ODBC18 else target


@pytest.mark.parametrize("driver", DRIVERS)
def test_healthy_login_runs_the_diagnostic_query(driver: str) -> None:
    with running("healthy-default") as server:
        document = check(for_driver(server.target, driver), "--driver", driver)
    assert document["root_cause"] == "OK", document["summary"]
    assert document["_exit"] == 0
    assert f"pyodbc with {driver}" in document["summary"]
    assert "@@SERVERNAME is SQLHOST01, on machine SQLHOST01" in document["summary"]
    login = login_step(document)["evidence"]["login"]
    assert login["status"] == "OK"
    assert login["driver"] == driver
    assert "PWD=********" in login["connection_string"]
    info = login["server_info"]
    assert info["server_name"] == "SQLHOST01"
    assert info["net_transport"] == "TCP"
    assert info["auth_scheme"] == "SQL"
    assert info["encrypt_option"] == "FALSE"
    assert info["listening_ports"] == f"{server.address} port 1433"
    assert info["renamed"] is False


@pytest.mark.parametrize("driver", DRIVERS)
def test_wrong_password_says_how_to_read_the_real_state(driver: str) -> None:
    with running("wrong-password") as server:
        document = check(for_driver(server.target, driver), "--driver", driver)
    assert document["root_cause"] == "LOGIN_FAILED", document["summary"]
    assert document["_exit"] == 1
    assert "18456" in document["summary"]
    assert "xp_readerrorlog" in document["summary"]  # the client only ever sees state 1
    assert "8 or 9 wrong password" in document["summary"]
    assert fix_ids(document)[:2] == ["read-18456-state", "check-login"]
    records = login_step(document)["evidence"]["login"]["records"]
    assert [record["native"] for record in records if "[SQL Server]" in record["message"]] == [
        18456
    ]
    assert records[0]["sqlstate"] in ("28000", "42000")


@pytest.mark.parametrize("driver", DRIVERS)
def test_missing_database_is_told_apart_from_a_bad_login(driver: str) -> None:
    with running("missing-database") as server:
        document = check(for_driver(server.target, driver), "--driver", driver)
    assert document["root_cause"] == "DATABASE_UNAVAILABLE", document["summary"]
    assert "'Payroll'" in document["summary"]
    assert "4060" in document["summary"]
    assert fix_ids(document)[0] == "fix-database-name"
    fix = json.dumps(document["fixes"][0])
    assert "Payroll" in fix


@pytest.mark.parametrize("driver", DRIVERS)
def test_renamed_host_logs_in_and_names_the_old_and_new_names(driver: str) -> None:
    with running("renamed-host") as server:
        document = check(for_driver(server.target, driver), "--driver", driver)
    assert document["root_cause"] == "OK", document["summary"]
    assert document["_exit"] == 0
    assert "@@SERVERNAME still says OLDHOST, but the machine is SQLHOST01" in document["summary"]
    assert login_step(document)["status"] == "warn"
    assert fix_ids(document) == ["restart-after-rename"]
    commands = json.dumps(document["fixes"][0])
    assert "EXEC sp_dropserver N'OLDHOST';" in commands
    assert "EXEC sp_addserver N'SQLHOST01', 'local';" in commands


def test_freetds_logs_in_where_the_server_forces_encryption() -> None:
    """FreeTDS encrypts when the server requires it and checks no certificate: it connects."""
    with running("tls-forced") as server:
        target = f"Server={server.address};UID=sa;PWD={LAB_PASSWORD}"
        document = check(target, "--driver", FREETDS)
    assert document["root_cause"] == "OK", document["summary"]
    assert "this session: over TCP, SQL Server authentication, encrypted" in document["summary"]
    assert login_step(document)["evidence"]["login"]["server_info"]["encrypt_option"] == "TRUE"


def test_freetds_demanding_encryption_of_a_server_without_it() -> None:
    """FreeTDS says only 'Unable to connect'; the pre-login already said why."""
    with running("encryption-unsupported") as server:
        document = check(server.target, "--driver", FREETDS)
    assert document["root_cause"] == "ENCRYPTION_MISMATCH", document["summary"]
    assert "does not support encryption" in document["summary"]
    assert "Unable to connect" in document["summary"]


@pytest.mark.skipif(NO_ODBC18 is not None, reason=str(NO_ODBC18))
def test_odbc18_trusted_certificate_logs_in_encrypted() -> None:
    with running("tls-trusted") as server:
        document = check(server.target, env=client_env(server))
    assert document["root_cause"] == "OK", document["summary"]
    assert f"pyodbc with {ODBC18}" in document["summary"]
    assert "encrypted" in document["summary"]


@pytest.mark.skipif(NO_ODBC18 is not None, reason=str(NO_ODBC18))
async def test_odbc18_encrypt_yes_against_an_untrusted_certificate() -> None:
    """The driver's own refusal, decoded: TLS_FAILED, with the safe fix first and the risky one
    said to be risky."""
    with running("tls-self-signed") as server:
        target = parse_target(f"Server={server.address};Encrypt=yes;UID=sa;PWD={LAB_PASSWORD}")
        result = await probe_odbc_login(
            server.address, 1433, target=target, driver=ODBC18, timeout=TIMEOUT
        )
    assert result.status is OdbcStatus.REFUSED
    assert "SSL Provider" in result.text
    assert "certificate verify failed" in result.text
    decoded = login_errors.decode(
        Reply(numbers=result.numbers, text=result.text, sqlstate=result.sqlstate),
        user="sa",
        database=None,
        driver=ODBC18,
    )
    assert decoded.cause is RootCause.TLS_FAILED
    assert decoded.fixes == ("provision-certificate", "trust-server-certificate")
    assert "anyone between client and server can then pose as it" in decoded.detail
    assert LAB_PASSWORD not in json.dumps(result.evidence())


@pytest.mark.skipif(NO_ODBC18 is not None, reason=str(NO_ODBC18))
async def test_odbc18_trust_server_certificate_connects_to_the_self_signed_server() -> None:
    with running("tls-self-signed") as server:
        target = parse_target(
            f"Server={server.address};Encrypt=yes;TrustServerCertificate=yes;"
            f"UID=sa;PWD={LAB_PASSWORD}"
        )
        result = await probe_odbc_login(
            server.address, 1433, target=target, driver=ODBC18, timeout=TIMEOUT
        )
    assert result.status is OdbcStatus.OK, result.detail
    assert result.server_info is not None
    assert result.server_info.encrypted is True


@pytest.mark.parametrize("driver", DRIVERS)
async def test_a_stalled_server_never_holds_the_driver_past_its_hard_timeout(driver: str) -> None:
    """FreeTDS waits for ever on a silent port without timeout=; the probe bounds it."""
    with running("server-stalled") as server:
        target = parse_target(f"Server={server.address};Encrypt=no;UID=sa;PWD={LAB_PASSWORD}")
        result = await probe_odbc_login(
            server.address, 1433, target=target, driver=driver, timeout=1.0
        )
    assert result.status is OdbcStatus.REFUSED, result.detail  # the driver's own HYT00
    assert result.sqlstate == "HYT00"
    assert result.elapsed_ms <= (2 * 1 + 1) * 1000 + 500  # the probe's own bound, not a benchmark
    decoded = login_errors.decode(
        Reply(text=result.text, sqlstate=result.sqlstate), user="sa", database=None
    )
    assert decoded.outcome is Outcome.UNRESPONSIVE
    assert decoded.cause is RootCause.SERVER_UNRESPONSIVE


def test_a_driver_that_is_not_installed_is_driver_missing_with_install_steps() -> None:
    with running("healthy-default") as server:
        document = check(server.target, "--driver", "ODBC Driver 99 for SQL Server")
    assert document["root_cause"] == "DRIVER_MISSING", document["summary"]
    assert document["_exit"] == 1
    assert "'ODBC Driver 99 for SQL Server' is not installed here" in document["summary"]
    assert "the login as sa works" in document["summary"]  # the native login still tried it
    assert "application runs on another one" not in document["summary"]  # --driver: this machine
    assert fix_ids(document)[:2] == ["install-odbc-driver-18", "install-freetds"]
    commands = json.dumps(document["fixes"])
    for words in ("msodbcsql18", "apt-get install", "dnf install", "brew install", "msiexec"):
        assert words in commands, words
    for words in ("tdsodbc", "freetds"):
        assert words in commands, words


def test_a_driver_named_by_the_connection_string_and_missing_here_says_look_there() -> None:
    with running("healthy-default") as server:
        target = f"Driver={{ODBC Driver 99 for SQL Server}};{server.target}"
        document = check(target)
    assert document["root_cause"] == "DRIVER_MISSING", document["summary"]
    assert "if the application runs on another one, look there" in document["summary"]
    assert "odbcinst -q -d" in document["summary"]


def test_freetds_named_first_when_freetds_is_missing() -> None:
    with running("healthy-default") as server:
        document = check(server.target, "--driver", "FreeTDS-missing")
    assert document["root_cause"] == "DRIVER_MISSING", document["summary"]
    assert fix_ids(document)[0] == "install-freetds"


def test_windows_authentication_without_a_ticket_is_said_before_the_server_is_asked(
    tmp_path: Path,
) -> None:
    """No Kerberos ticket here (an empty credential cache; on this machine not even klist):
    say so, with kinit and the setspn commands, without a login attempt."""
    env = dict(os.environ, KRB5CCNAME=f"FILE:{tmp_path / 'no-such-cache'}")
    with running("healthy-default") as server:
        document = check(f"Server={server.address};Integrated Security=SSPI", env=env)
    assert document["root_cause"] == "LOGIN_FAILED", document["summary"]
    assert "cannot be tried from this machine" in document["summary"]
    assert login_step(document)["outcome"] == "no-windows-auth"
    assert "login" not in login_step(document)["evidence"]  # SQL Server was not asked
    assert fix_ids(document)[:2] == ["get-kerberos-ticket", "register-spn"]
    commands = json.dumps(document["fixes"])
    assert "kinit" in commands
    assert "setspn" in commands
    # an address makes no SPN (Kerberos needs the name): the command says which name to write
    assert server.address not in commands.split("setspn")[1]
    spn = next(
        c["text"] for f in document["fixes"] for c in f["commands"] if "setspn -Q" in c["text"]
    )
    assert 'setspn -Q "MSSQLSvc/<the server\'s FQDN>:1433"' in spn  # quoted for cmd.exe


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    ("name", "password"),
    [("healthy-default", LAB_PASSWORD), ("wrong-password", "Zq7;}=  pw{x'\"%")],
    ids=["healthy", "wrong-password"],
)
def test_a_whole_session_never_writes_the_password(
    tmp_path: Path, driver: str, name: str, password: str
) -> None:
    """check with its journal, then every export of it: the password is in no byte of stdout,
    stderr, the JSON or any file written (UTF-8 or UTF-16)."""
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home), SQLREACH_TEST_PASSWORD=password)
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[variable] = str(home / variable.lower())
    outputs: list[bytes] = []
    with running(name) as server:
        target = for_driver(f"Server={server.address};User ID=sa", driver)
        done = subprocess.run(
            [
                *(sys.executable, "-m", "tui", "check", target, "--json"),
                *("--driver", driver, "--password-env", "SQLREACH_TEST_PASSWORD"),
                *("--timeout", str(TIMEOUT), "--transcript", str(tmp_path / "session.jsonl")),
            ],
            capture_output=True,
            timeout=90,
            cwd=REPO,
            env=env,
        )
    outputs += [done.stdout, done.stderr]
    document = json.loads(done.stdout)
    expected = "OK" if name == "healthy-default" else "LOGIN_FAILED"
    assert document["root_cause"] == expected, document["summary"]
    assert login_step(document)["evidence"]["login"]["driver"] == driver
    session = read_session(tmp_path / "session.jsonl")
    for fmt in ("md", "html", "json"):
        export(session, fmt, tmp_path / f"export.{fmt}")
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) == 4, written  # the journal and its three exports
    outputs += [path.read_bytes() for path in written]
    for data in outputs:
        for encoding in ("utf-8", "utf-16-le"):
            assert password.encode(encoding) not in data


def test_the_client_the_person_names_logs_in_when_it_is_installed() -> None:
    """--client (the wizard's 'Which client will connect?') picks the ODBC driver to log in with
    when the string names none; a family not installed here falls back to the native login."""
    with running("healthy-default") as server:
        freetds = check(server.target, "--client", "freetds")
        odbc17 = check(server.target, "--client", "odbc17")
    assert freetds["root_cause"] == odbc17["root_cause"] == "OK"
    assert login_step(freetds)["evidence"]["plan"]["driver"] == FREETDS
    assert "(pyodbc with FreeTDS)" in freetds["summary"]
    plan = login_step(odbc17)["evidence"]["plan"]
    assert plan["client"] == "native"
    assert "ODBC Driver 17 for SQL Server will connect, but it is not installed here" in plan["why"]
    assert "(sqlreach's own TDS login)" in odbc17["summary"]


@pytest.mark.parametrize("driver", [pytest.param(None, id="native"), *DRIVERS])
def test_a_login_that_never_completes_after_a_good_prelogin(driver: str | None) -> None:
    with running("login-stalled") as server:
        extra = ("--driver", driver) if driver else ("--native",)
        document = check(for_driver(server.target, driver or ""), *extra)
    assert document["root_cause"] == "SERVER_UNRESPONSIVE", document["summary"]
    assert "answered the pre-login" in document["summary"]
    assert "the login was not completed in time" in document["summary"]
    assert fix_ids(document) == ["check-server-health"]
    if driver:
        assert login_step(document)["evidence"]["login"]["records"][0]["sqlstate"] == "HYT00"
