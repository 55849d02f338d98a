"""The lab is faithful: real clients written by others log in, query and fail against it.

FreeTDS `tsql`, pyodbc with the FreeTDS ODBC driver, python-tds, impacket, and mssql-python
(Microsoft's driver, bundling ODBC Driver 18). A client that cannot be installed here is skipped
with the reason printed, never silently.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests.lab_fixtures import running
from tests.netutil import random_loopback
from tui.commands.lab import BackgroundLab
from tui.lab.scenarios import DYNAMIC_PORT, LAB_PASSWORD, LAB_USER, scenario
from tui.target import parse_target

DIAGNOSTIC = (
    "SELECT @@SERVERNAME AS server_name, SERVERPROPERTY('MachineName') AS machine_name, "
    "SERVERPROPERTY('ProductVersion') AS product_version, SERVERPROPERTY('Edition') AS edition"
)


def _need(module: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except Exception as error:  # a missing client, or a missing shared library under it
        pytest.skip(f"{module} cannot be imported here: {type(error).__name__}: {error}")


def _tsql(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    if shutil.which("tsql") is None:
        pytest.skip("FreeTDS tsql is not installed (apt install freetds-bin)")
    return subprocess.run(["tsql", *args], input=stdin, capture_output=True, text=True, timeout=30)


# -- FreeTDS tsql ---------------------------------------------------------------------------


def test_tsql_logs_in_and_queries_the_default_instance() -> None:
    with running("healthy-default") as lab:
        done = _tsql(
            ["-H", lab.address, "-p", "1433", "-U", LAB_USER, "-P", LAB_PASSWORD],
            f"{DIAGNOSTIC}\ngo\nexit\n",
        )
    assert "SQLHOST01" in done.stdout, done.stdout + done.stderr
    assert "Developer Edition" in done.stdout


def test_tsql_reports_18456_for_a_wrong_password() -> None:
    with running("healthy-default") as lab:
        done = _tsql(["-H", lab.address, "-p", "1433", "-U", LAB_USER, "-P", "wrong"], "exit\n")
    assert "18456" in done.stdout + done.stderr
    assert "Login failed for user 'sa'" in done.stdout + done.stderr


def test_tsql_lists_instances_through_the_browser() -> None:
    with running("healthy-named") as lab:
        done = _tsql(["-LH", lab.address])
    listing = done.stdout + done.stderr  # tsql -L prints the instances on standard error
    assert "InstanceName SALES" in listing, listing
    assert f"tcp {DYNAMIC_PORT}" in listing


def test_tsql_finds_a_named_instance_through_the_browser(tmp_path: Any, monkeypatch: Any) -> None:
    config = tmp_path / "freetds.conf"
    with running("healthy-named") as lab:
        config.write_text(f"[lab]\n\thost = {lab.address}\n\tinstance = SALES\n")
        monkeypatch.setenv("FREETDSCONF", str(config))
        done = _tsql(["-S", "lab", "-U", LAB_USER, "-P", LAB_PASSWORD], f"{DIAGNOSTIC}\ngo\nexit\n")
    assert "SQLHOST01" in done.stdout, done.stdout + done.stderr


# -- pyodbc + FreeTDS ODBC ------------------------------------------------------------------


def _pyodbc_freetds() -> Any:
    pyodbc = _need("pyodbc")
    if "FreeTDS" not in pyodbc.drivers():
        pytest.skip("the FreeTDS ODBC driver is not registered (apt install tdsodbc)")
    return pyodbc


def test_pyodbc_freetds_logs_in_and_queries() -> None:
    pyodbc = _pyodbc_freetds()
    with running("healthy-default") as lab:
        connection = pyodbc.connect(
            f"Driver={{FreeTDS}};Server={lab.address};Port=1433;UID={LAB_USER};PWD={LAB_PASSWORD};"
            "TDS_Version=7.4",
            timeout=5,
        )
        row = connection.cursor().execute(DIAGNOSTIC).fetchone()
        connection.close()
    assert row.server_name == "SQLHOST01"
    assert row.product_version.startswith("16.")


def test_pyodbc_freetds_wrong_password_is_18456() -> None:
    pyodbc = _pyodbc_freetds()
    with running("healthy-default") as lab, pytest.raises(pyodbc.Error) as error:
        pyodbc.connect(
            f"Driver={{FreeTDS}};Server={lab.address};Port=1433;UID={LAB_USER};"
            "PWD=wrong;TDS_Version=7.4",
            timeout=5,
        )
    assert "18456" in str(error.value)


def test_pyodbc_freetds_named_instance_through_the_browser() -> None:
    pyodbc = _pyodbc_freetds()
    with running("healthy-named") as lab:
        connection = pyodbc.connect(
            f"Driver={{FreeTDS}};Server={lab.address}\\SALES;UID={LAB_USER};PWD={LAB_PASSWORD};"
            "TDS_Version=7.4",
            timeout=5,
        )
        row = connection.cursor().execute(DIAGNOSTIC).fetchone()
        connection.close()
    assert row.machine_name == "SQLHOST01"


# -- python-tds -----------------------------------------------------------------------------


def test_pytds_by_instance_name_query_and_18456() -> None:
    pytds = _need("pytds")
    with running("healthy-named") as lab:
        with pytds.connect(
            dsn=f"{lab.address}\\SALES",
            user=LAB_USER,
            password=LAB_PASSWORD,
            login_timeout=5,
            timeout=5,
            autocommit=True,
        ) as connection:
            cursor = connection.cursor()
            cursor.execute(DIAGNOSTIC)
            row = cursor.fetchone()
        with pytest.raises(pytds.OperationalError) as error:
            pytds.connect(
                dsn=f"{lab.address}\\SALES",
                user=LAB_USER,
                password="wrong",
                login_timeout=5,
                autocommit=True,
            )
    assert row[0] == "SQLHOST01"
    assert error.value.msg_no == 18456


# -- impacket -------------------------------------------------------------------------------


def test_impacket_get_instances_login_and_query() -> None:
    tds = _need("impacket.tds")
    with running("healthy-default") as lab:
        client = tds.MSSQL(lab.address, 1433)
        instances = client.getInstances(5)
        client.connect()
        assert client.login(None, LAB_USER, LAB_PASSWORD)
        rows = client.sql_query(DIAGNOSTIC)
        client.disconnect()
        wrong = tds.MSSQL(lab.address, 1433)
        wrong.connect()
        refused = wrong.login(None, LAB_USER, "wrong")
        wrong.disconnect()
    assert [i["InstanceName"] for i in instances] == ["MSSQLSERVER"]
    assert rows[0]["server_name"] == "SQLHOST01"
    assert not refused


# -- mssql-python (Microsoft ODBC Driver 18) ------------------------------------------------


def test_mssql_python_logs_in_with_encrypt_no() -> None:
    mssql_python = _need("mssql_python")
    with running("healthy-default") as lab:
        connection = mssql_python.connect(
            f"Server={lab.address},1433;UID={LAB_USER};PWD={LAB_PASSWORD};Encrypt=no", timeout=5
        )
        cursor = connection.cursor()
        cursor.execute(DIAGNOSTIC)
        row = cursor.fetchone()
        connection.close()
    assert row[0] == "SQLHOST01"


def test_mssql_python_default_encrypt_against_no_tls_server() -> None:
    """ODBC Driver 18 encrypts by default; a server that offers no TLS (NOT_SUP) fails it. The
    healthy scenarios used to answer NOT_SUP, which no server since 2005 does: this is now the
    scenario that says why it has no TLS (a non-Microsoft endpoint without TLS)."""
    mssql_python = _need("mssql_python")
    with running("encryption-unsupported") as lab, pytest.raises(Exception) as error:
        mssql_python.connect(
            f"Server={lab.address},1433;UID={LAB_USER};PWD={LAB_PASSWORD}", timeout=5
        )
    assert "Encryption not supported" in str(error.value)


# Every healthy scenario is a fresh install: OFF, with a self-signed certificate made at start.
HEALTHY = ("healthy-default", "healthy-named", "renamed-host", "renamed-not-restarted")


def _odbc_server(name: str, address: str) -> str:
    target = parse_target(scenario(name).target_for(address))
    where = address + (f"\\{target.instance}" if target.instance else "")
    return f"Server={where};UID={LAB_USER};PWD={LAB_PASSWORD}"


@pytest.mark.parametrize("name", HEALTHY)
def test_mssql_python_fails_a_fresh_install_by_default_and_connects_trusting_it(name: str) -> None:
    """What a fresh real install does to ODBC Driver 18: its default (Encrypt=yes, certificate
    checked) refuses the self-signed certificate; TrustServerCertificate=yes gets in."""
    mssql_python = _need("mssql_python")
    with running(name) as lab:
        address = lab.address
        with pytest.raises(Exception) as error:
            mssql_python.connect(_odbc_server(name, address), timeout=5)
        connection = mssql_python.connect(
            _odbc_server(name, address) + ";TrustServerCertificate=yes", timeout=5
        )
        cursor = connection.cursor()
        cursor.execute("SELECT @@SERVERNAME")
        served = cursor.fetchone()[0]
        cursor.execute("SELECT 1")
        one = cursor.fetchone()[0]
        cursor.execute("SELECT @@VERSION")
        version = cursor.fetchone()[0]
        connection.close()
    assert "certificate verify failed:self-signed certificate" in str(error.value)
    assert served == scenario(name).server_name
    assert one == 1
    assert version.startswith("Microsoft SQL Server 2022 - 16.0.1000.6")


def test_simple_queries_through_pytds_and_tsql() -> None:
    pytds = _need("pytds")
    with running("healthy-default") as lab:
        address = lab.address
        with pytds.connect(
            dsn=address, user=LAB_USER, password=LAB_PASSWORD, login_timeout=5, autocommit=True
        ) as connection:
            cursor = connection.cursor()
            cursor.execute("select @@version")
            version = cursor.fetchone()[0]
            cursor.execute("select 1")
            one = cursor.fetchone()[0]
            cursor.execute("select @@servername, 'lab' as word")
            row = cursor.fetchone()
        done = _tsql(
            ["-H", address, "-p", "1433", "-U", LAB_USER, "-P", LAB_PASSWORD],
            "select 1 as one\ngo\nexit\n",
        )
    assert "16.0.1000.6" in version
    assert one == 1
    assert tuple(row) == ("SQLHOST01", "lab")
    assert "one" in done.stdout and "\n1\n" in done.stdout, done.stdout


# -- Windows authentication: NTLM as far as real clients get ---------------------------------


def _windows_logins(lab: BackgroundLab) -> list[str]:
    """Who completed the NTLM exchange with the lab's server, as DOMAIN\\user."""
    return [login.login for handler in lab.servers[0].handlers for login in handler.windows_logins]


def test_impacket_windows_authentication_gets_the_challenge_then_18452() -> None:
    """impacket sends NTLM NEGOTIATE in the login, answers the lab's CHALLENGE with an
    AUTHENTICATE (NTLMv2, computed from the challenge's target information), and gets the
    refusal a server outside its domain gives."""
    tds = _need("impacket.tds")
    with BackgroundLab([(scenario("healthy-default"), random_loopback())]) as lab:
        client = tds.MSSQL(lab.servers[0].address, 1433)
        client.connect()
        accepted = client.login(None, "alice", "Secret-1", domain="CORP", useWindowsAuth=True)
        client.disconnect()
        seen = _windows_logins(lab)
    errors = [reply for reply in client.replies.get(tds.TDS_ERROR_TOKEN, [])]
    assert not accepted
    assert seen == ["CORP\\alice"]
    assert [error["Number"] for error in errors] == [18452]


def test_freetds_ntlm_gets_the_challenge_then_18452() -> None:
    """FreeTDS does NTLM when the user name is DOMAIN\\user: the whole exchange, then 18452."""
    with BackgroundLab([(scenario("healthy-default"), random_loopback())]) as lab:
        done = _tsql(
            ["-H", lab.servers[0].address, "-p", "1433", "-U", "CORP\\bob", "-P", "Secret-1"],
            "exit\n",
        )
        seen = _windows_logins(lab)
    output = done.stdout + done.stderr
    assert seen == ["CORP\\bob"], output
    assert "18452" in output and "untrusted domain" in output, output


def test_mssql_python_windows_authentication_stops_at_kerberos_before_the_lab() -> None:
    """ODBC Driver 18 on Linux does Windows authentication through Kerberos only: without a
    ticket it stops on the client, and the lab never sees an NTLM exchange."""
    mssql_python = _need("mssql_python")
    with BackgroundLab([(scenario("healthy-default"), random_loopback())]) as lab:
        server = lab.servers[0]
        with pytest.raises(Exception) as error:
            mssql_python.connect(
                f"Server={server.address};Trusted_Connection=yes;TrustServerCertificate=yes",
                timeout=5,
            )
        seen = [login for handler in server.handlers for login in handler.windows_logins]
    assert "SSPI Provider" in str(error.value)
    assert seen == []
