"""Issue 7: the pure parts of the pyodbc login (`probes.login`) and of the diagnostic query's
row (`probes.serverinfo`): the connection string per driver family, pyodbc's joined error
records, the driver preference, the Kerberos check, and what one row of the query says.

pyodbc error strings are real: produced here by pyodbc itself (FreeTDS against a closed loopback
port, a driver or DSN that does not exist, each with `timeout=2`), or taken from
`tests/fixtures/windows/error-messages.txt` and the cited examples of the error-text catalog.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.netutil import closed_port
from tests.odbc_drivers import FREETDS, ODBC18, freetds_library, why_no_odbc18
from tui.knowledge.explain.catalog import default_catalog
from tui.probes.odbc_login import (
    Drivers,
    Family,
    OdbcLoginResult,
    OdbcRecord,
    OdbcStatus,
    connection_string,
    family,
    kerberos_state,
    list_drivers,
    login_timeout,
    parse_records,
    probe_odbc_login,
)
from tui.probes.serverinfo import COLUMNS, ServerInfo
from tui.secret import Secret
from tui.target import Target, parse_target

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
ODBC17 = "ODBC Driver 17 for SQL Server"
NO_FREETDS = None if freetds_library() is not None else "FreeTDS (tdsodbc) is not installed"
NO_ODBC18 = why_no_odbc18()


def odbc_pairs(text: str) -> list[tuple[str, str]]:
    """Split an ODBC connection string as a driver manager does: `{...}` with `}}` inside."""
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        equals = text.index("=", i)
        key, i = text[i:equals], equals + 1
        if text.startswith("{", i):
            i += 1
            value: list[str] = []
            while True:
                if text[i] == "}":
                    if text.startswith("}}", i):
                        value.append("}")
                        i += 2
                        continue
                    i += 1
                    break
                value.append(text[i])
                i += 1
            assert i == len(text) or text[i] == ";", text[i:]
            pairs.append((key, "".join(value)))
        else:
            end = text.find(";", i)
            end = len(text) if end < 0 else end
            pairs.append((key, text[i:end]))
            i = end
        i += 1  # the ';'
    return pairs


def keys(text: str) -> dict[str, str]:
    pairs = odbc_pairs(text)
    assert len({key for key, _ in pairs}) == len(pairs), pairs  # no key twice
    return dict(pairs)


def with_password(target: Target, password: str) -> Target:
    return target.replace(password=Secret(password))


SQL_LOGIN = "Server=sqlhost01.corp.test,1433;Database=Payroll;User ID=app;Password=x"


def built(driver: str, target_text: str, server: str | None = None) -> dict[str, str]:
    """The keys of the real connection string for a target connected to at 127.0.0.1:1433."""
    real, _ = connection_string(driver, "127.0.0.1", 1433, parse_target(target_text), server=server)
    return keys(real)


# ------------------------------------------------------------------------------------------
# connection_string: Microsoft's drivers


def test_microsoft_driver_gets_tcp_host_comma_port_and_the_name_for_the_certificate() -> None:
    target = parse_target(SQL_LOGIN + ";Encrypt=yes;TrustServerCertificate=no")
    real, shown = connection_string(ODBC18, "127.0.0.1", 1433, target)
    assert odbc_pairs(real) == [
        ("Driver", ODBC18),
        ("Server", "tcp:127.0.0.1,1433"),
        ("Encrypt", "yes"),
        ("TrustServerCertificate", "no"),
        ("HostNameInCertificate", "sqlhost01.corp.test"),
        ("Database", "Payroll"),
        ("UID", "app"),
        ("PWD", "x"),
        ("APP", "sqlreach"),
    ]
    assert real.startswith("Driver={ODBC Driver 18 for SQL Server};Server=tcp:127.0.0.1,1433;")
    assert keys(shown)["PWD"] == "********"
    assert "Port" not in keys(real) and "TDS_Version" not in keys(real)


@pytest.mark.parametrize(
    ("said", "encrypt"),
    [
        ("Encrypt=yes", "yes"),
        ("Encrypt=Mandatory", "yes"),
        ("Encrypt=true", "yes"),
        ("Encrypt=no", "no"),
        ("Encrypt=Optional", "no"),
        ("Encrypt=strict", "strict"),
        ("Encryption=request", "no"),
        ("", None),
    ],
)
def test_microsoft_encrypt_mapping(said: str, encrypt: str | None) -> None:
    target = parse_target(f"{SQL_LOGIN};{said}" if said else SQL_LOGIN)
    real, shown = connection_string(ODBC17, "127.0.0.1", 1433, target)
    assert keys(real).get("Encrypt") == encrypt
    assert keys(shown).get("Encrypt") == encrypt
    assert "Encryption" not in keys(real)


@pytest.mark.parametrize(
    ("said", "trust"), [("TrustServerCertificate=yes", "yes"), ("TrustServerCertificate=no", "no")]
)
def test_microsoft_trust_server_certificate_only_when_said(said: str, trust: str) -> None:
    assert built(ODBC18, f"{SQL_LOGIN};{said}").get("TrustServerCertificate") == trust
    assert "TrustServerCertificate" not in built(ODBC18, SQL_LOGIN)


def test_host_name_in_certificate_only_when_the_name_and_the_address_differ() -> None:
    by_address = "Server=127.0.0.1,1433;User ID=app;Password=x"
    explicit = SQL_LOGIN + ";HostNameInCertificate=cert.corp.test"
    assert built(ODBC18, SQL_LOGIN)["HostNameInCertificate"] == "sqlhost01.corp.test"
    assert "HostNameInCertificate" not in built(ODBC18, by_address)
    assert built(ODBC18, explicit)["HostNameInCertificate"] == "cert.corp.test"
    # connecting by the name itself (Kerberos wants the name): nothing to tell the driver
    named = built(ODBC18, SQL_LOGIN, server="sqlhost01.corp.test")
    assert named["Server"] == "tcp:sqlhost01.corp.test,1433"
    assert "HostNameInCertificate" not in named


def test_an_ipv6_host_named_by_address_gets_no_certificate_name() -> None:
    target = parse_target("Server=tcp:[::1],1433;UID=a;PWD=b")
    real, _ = connection_string(ODBC18, "::1", 1433, target)
    assert "HostNameInCertificate" not in keys(real)


@pytest.mark.parametrize(
    ("address", "server"),
    [("::1", "tcp:[::1],1433"), ("fe80::1%eth0", "tcp:[fe80::1%eth0],1433")],
)
def test_ipv6_addresses_are_bracketed_for_microsoft(address: str, server: str) -> None:
    real, shown = connection_string(ODBC18, address, 1433, parse_target(SQL_LOGIN))
    assert keys(real)["Server"] == server and keys(shown)["Server"] == server


# ------------------------------------------------------------------------------------------
# connection_string: FreeTDS


def test_freetds_gets_server_port_and_tds_version() -> None:
    target = parse_target(SQL_LOGIN + ";Encrypt=yes;TrustServerCertificate=yes")
    real, shown = connection_string(FREETDS, "127.0.0.1", 1533, target)
    assert odbc_pairs(real) == [
        ("Driver", FREETDS),
        ("Server", "127.0.0.1"),
        ("Port", "1533"),
        ("TDS_Version", "7.4"),
        ("Encryption", "require"),
        ("Database", "Payroll"),
        ("UID", "app"),
        ("PWD", "x"),
        ("APP", "sqlreach"),
    ]
    for microsoft_only in ("Encrypt", "TrustServerCertificate", "HostNameInCertificate"):
        assert microsoft_only not in keys(real) and microsoft_only not in keys(shown)


@pytest.mark.parametrize(
    ("said", "encryption"),
    [
        ("Encrypt=yes", "require"),
        ("Encrypt=Mandatory", "require"),
        ("Encrypt=strict", "strict"),
        ("Encryption=request", "request"),
        ("", None),
    ],
)
def test_freetds_encryption_mapping(said: str, encryption: str | None) -> None:
    target = parse_target(f"{SQL_LOGIN};{said}" if said else SQL_LOGIN)
    real, _ = connection_string(FREETDS, "127.0.0.1", 1433, target)
    assert keys(real).get("Encryption") == encryption


def test_freetds_named_by_its_library_is_freetds_too() -> None:
    library = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so"
    real, _ = connection_string(library, "127.0.0.1", 1433, parse_target(SQL_LOGIN))
    assert keys(real)["Port"] == "1433" and keys(real)["Driver"] == library


# ------------------------------------------------------------------------------------------
# connection_string: the password

PASSWORDS = [
    "Zq}w;=rd x",
    " Zq-leading",
    "  Zq-two-leading",
    "Zq-trailing ",
    "Zq}",
    "{Zq",
    "{Zq}",
    "Zq}}y",
    "Zq=b",
    "Zq;c",
    "Zq with spaces",
    "Zq-plain",
]


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("driver", [ODBC18, FREETDS])
def test_the_password_is_brace_quoted_in_the_real_string_and_absent_from_the_shown(
    driver: str, password: str
) -> None:
    target = with_password(parse_target(SQL_LOGIN), password)
    real, shown = connection_string(driver, "127.0.0.1", 1433, target)
    assert "PWD={" + password.replace("}", "}}") + "};" in real
    assert keys(real)["PWD"] == password
    assert keys(real)["UID"] == "app"
    assert password not in shown and "PWD=********;" in shown
    assert odbc_pairs(real)[-1] == ("APP", "sqlreach")  # PWD is never last (FreeTDS 1.3)
    assert [k for k, _ in odbc_pairs(real)] == [k for k, _ in odbc_pairs(shown)]


@pytest.mark.parametrize("password", ["", "}", "{", "=", ";", " "])
def test_tiny_passwords_survive_the_quoting(password: str) -> None:
    real, _ = connection_string(
        ODBC18, "127.0.0.1", 1433, with_password(parse_target(SQL_LOGIN), password)
    )
    assert keys(real)["PWD"] == password


def test_no_password_given_is_an_empty_braced_one() -> None:
    target = parse_target("Server=sqlhost01.corp.test;User ID=app")
    real, shown = connection_string(ODBC18, "127.0.0.1", 1433, target)
    assert "PWD={};" in real and keys(real)["PWD"] == ""
    assert keys(shown)["PWD"] == "********"


@pytest.mark.parametrize("driver", [ODBC18, FREETDS])
def test_integrated_security_is_trusted_connection_without_uid_or_pwd(driver: str) -> None:
    target = parse_target("Server=sqlhost01.corp.test;Integrated Security=SSPI;Database=Payroll")
    real, shown = connection_string(driver, "127.0.0.1", 1433, target, server="sqlhost01.corp.test")
    assert real == shown
    assert keys(real)["Trusted_Connection"] == "yes"
    assert "UID" not in keys(real) and "PWD" not in keys(real)


@settings(max_examples=300, deadline=None)
@given(
    password=st.text(),
    user=st.text(min_size=1, max_size=30),
    database=st.none() | st.text(min_size=1, max_size=30),
    driver=st.sampled_from([ODBC18, ODBC17, FREETDS]),
    address=st.sampled_from(["127.0.0.1", "::1", "127.0.0.5"]),
)
def test_every_value_round_trips_and_the_password_never_shows(
    password: str, user: str, database: str | None, driver: str, address: str
) -> None:
    secret = "Zq" + password
    target = parse_target(SQL_LOGIN).replace(user=user, database=database, password=Secret(secret))
    real, shown = connection_string(driver, address, 1433, target)
    parsed = keys(real)
    assert parsed["PWD"] == secret and parsed["UID"] == user
    assert parsed.get("Database") == database
    assert parsed["Driver"] == driver
    assert secret not in shown


# ------------------------------------------------------------------------------------------
# parse_records: real pyodbc strings


def pyodbc_error(text: str) -> tuple[str, str]:
    """The (sqlstate, message) pyodbc raises for `text`; the connection must fail."""
    import pyodbc

    try:
        connection = pyodbc.connect(text, timeout=2)
    except pyodbc.Error as error:
        assert len(error.args) == 2, error.args
        return str(error.args[0]), str(error.args[1])
    connection.close()
    raise AssertionError(f"{text} connected")


def one_record(sqlstate: str, raw: str) -> OdbcRecord:
    """What a single-record pyodbc message says, read without a regular expression:
    '[SQLSTATE] message (native) (SQLDriverConnect)'."""
    head, tail = f"[{sqlstate}] ", " (SQLDriverConnect)"
    assert raw.startswith(head) and raw.endswith(tail), raw
    body = raw[len(head) : -len(tail)]
    message, _, native = body.rpartition(" (")
    assert native.endswith(")"), raw
    return OdbcRecord(sqlstate, message.strip(), int(native[:-1]))


@pytest.mark.skipif(NO_FREETDS is not None, reason=str(NO_FREETDS))
def test_freetds_against_a_closed_port(loopback: str) -> None:
    port = closed_port(loopback)
    sqlstate, raw = pyodbc_error(
        f"Driver={{{FREETDS}}};Server={loopback};Port={port};TDS_Version=7.4;UID=u;PWD=p"
    )
    records = parse_records(sqlstate, raw)
    assert records == (one_record(sqlstate, raw),)
    assert records[0].sqlstate == "08S01"
    assert records[0].message.startswith("[FreeTDS][SQL Server]")
    assert "(SQLDriverConnect)" not in records[0].message
    assert isinstance(records[0].native, int)


@pytest.mark.skipif(NO_ODBC18 is not None, reason=str(NO_ODBC18))
def test_odbc18_against_a_closed_port(loopback: str) -> None:
    port = closed_port(loopback)
    sqlstate, raw = pyodbc_error(
        f"Driver={{{ODBC18}}};Server=tcp:{loopback},{port};Encrypt=no;UID=u;PWD=p"
    )
    records = parse_records(sqlstate, raw)
    assert records == (one_record(sqlstate, raw),)
    assert records[0].message.startswith("[Microsoft][ODBC Driver 18 for SQL Server]")


def test_a_driver_that_does_not_exist() -> None:
    sqlstate, raw = pyodbc_error("Driver={sqlreach no such driver 99};Server=127.0.0.1;UID=u")
    records = parse_records(sqlstate, raw)
    assert records == (one_record(sqlstate, raw),)
    assert "Can't open lib 'sqlreach no such driver 99'" in records[0].message
    assert records[0].native == 0


def test_a_dsn_that_does_not_exist_is_im002() -> None:
    sqlstate, raw = pyodbc_error("DSN=sqlreach-no-such-dsn;UID=u;PWD=p")
    records = parse_records(sqlstate, raw)
    assert records == (one_record(sqlstate, raw),)
    assert records[0].sqlstate == "IM002"
    assert "Data source name not found" in records[0].message


def _fixture_tuples() -> list[tuple[str, str]]:
    """Every pyodbc ('SQLSTATE', 'message') tuple quoted in error-messages.txt."""
    found = []
    text = (FIXTURES / "error-messages.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        match = re.search(r"\(('[0-9A-Z]{5}', .*)\)$", line)
        if match:
            value = ast.literal_eval(f"({match.group(1)})")
            found.append((str(value[0]), str(value[1])))
    return found


FIXTURE_TUPLES = _fixture_tuples()
MULTI = next(message for _, message in FIXTURE_TUPLES if "; [08001]" in message)


def test_the_fixture_holds_pyodbc_tuples() -> None:
    assert len(FIXTURE_TUPLES) == 8


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [pair for pair in FIXTURE_TUPLES if pair[1] != MULTI],
    ids=[pair[1][8:60] for pair in FIXTURE_TUPLES if pair[1] != MULTI],
)
def test_single_record_fixture_messages(sqlstate: str, message: str) -> None:
    assert parse_records(sqlstate, message) == (one_record(sqlstate, message),)


def test_the_windows_three_record_message_gives_three_records() -> None:
    """pyodbc (errors.cpp) writes the first record as '[S] msg (native) (SQLDriverConnect)'
    and each further one as '; [S] msg (native)'; on Windows it reads every record."""
    records = parse_records("08001", MULTI)
    assert records == (
        OdbcRecord(
            "08001",
            "[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: The certificate chain was "
            "issued by an authority that is not trusted.",
            -2146893019,
        ),
        OdbcRecord(
            "08001",
            "[Microsoft][ODBC Driver 18 for SQL Server]Client unable to establish connection",
            -2146893019,
        ),
        OdbcRecord(
            "08001",
            "[Microsoft][ODBC Driver 18 for SQL Server]Invalid connection string attribute",
            0,
        ),
    )


@pytest.mark.parametrize(
    "text",
    [
        "SQLState = 08001, NativeError = -1\nError = [Microsoft][ODBC Driver 18 for SQL Server]"
        "SSL Provider: [error:1416F086:SSL routines:tls_process_server_certificate:certificate "
        "verify failed:self signed certificate]",
        "SQLSTATE[08001]: [Microsoft][ODBC Driver 17 for SQL Server]SSL Provider: "
        "[error:0A000102:SSL routines::unsupported protocol]",
    ],
    ids=["bcp", "pdo"],
)
def test_text_that_does_not_parse_is_kept_whole(text: str) -> None:
    # both are lines of error-messages.txt (the bcp and PDO_SQLSRV blocks)
    assert text.splitlines()[0] in (FIXTURES / "error-messages.txt").read_text(encoding="utf-8")
    assert parse_records("08001", f"  {text}\n") == (OdbcRecord("08001", text),)


def test_empty_text_is_one_empty_record() -> None:
    assert parse_records("HY000", "") == (OdbcRecord("HY000", ""),)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=8), st.text(max_size=600))
def test_parse_records_never_raises(sqlstate: str, message: str) -> None:
    records = parse_records(sqlstate, message)
    assert records
    for record in records:
        assert isinstance(record.message, str)
        assert record.native is None or isinstance(record.native, int)
        json.dumps(record.to_json())


_STATE = st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=5, max_size=5)
_MESSAGE = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:'-_/", min_size=1
).filter(lambda text: text.strip() == text and text != "")
_RECORD = st.tuples(_STATE, _MESSAGE, st.integers(min_value=-(2**31), max_value=2**31 - 1))


def pyodbc_format(records: list[tuple[str, str, int]]) -> str:
    """pyodbc's own joining (src/errors.cpp GetErrorFromHandle)."""
    first_state, first_message, first_native = records[0]
    text = f"[{first_state}] {first_message} ({first_native}) (SQLDriverConnect)"
    for state, message, native in records[1:]:
        text += f"; [{state}] {message} ({native})"
    return text


@settings(max_examples=300, deadline=None)
@given(_RECORD)
def test_one_record_in_pyodbc_format_round_trips(record: tuple[str, str, int]) -> None:
    text = pyodbc_format([record])
    assert parse_records("XXXXX", text) == (OdbcRecord(*record),)


@settings(max_examples=300, deadline=None)
@given(st.lists(_RECORD, min_size=2, max_size=4))
def test_several_records_in_pyodbc_format_round_trip(records: list[tuple[str, str, int]]) -> None:
    text = pyodbc_format(records)
    assert parse_records(records[0][0], text) == tuple(OdbcRecord(*r) for r in records)


# ------------------------------------------------------------------------------------------
# OdbcLoginResult.numbers


def _result(records: tuple[OdbcRecord, ...]) -> OdbcLoginResult:
    return OdbcLoginResult(
        ODBC17,
        "127.0.0.1",
        1433,
        "app",
        OdbcStatus.REFUSED,
        "refused",
        "Driver=x",
        2.0,
        1.0,
        records,
    )


def test_numbers_are_only_the_sql_server_records() -> None:
    cited = default_catalog().entry("database-4064").examples[0]  # a real 4064, with its source
    server = parse_records("42000", cited)
    assert server == (
        OdbcRecord(
            "42000",
            "[Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Cannot open user default "
            "database. Login failed.",
            4064,
        ),
    )
    driver_own = parse_records(*next(pair for pair in FIXTURE_TUPLES if "-1)" in pair[1]))
    assert driver_own[0].native == -1 and "[SQL Server]" not in driver_own[0].message
    unparsed = (OdbcRecord("08001", "[SQL Server]something kept whole"),)  # native None
    result = _result(driver_own + server + unparsed)
    assert result.numbers == (4064,)
    assert result.sqlstate == driver_own[0].sqlstate
    assert _result(driver_own).numbers == ()
    assert _result(()).numbers == () and _result(()).sqlstate is None
    assert _result(()).text == "refused"  # no record: the detail
    assert result.text.startswith("[Microsoft]")


# ------------------------------------------------------------------------------------------
# drivers


ODBC13 = "ODBC Driver 13 for SQL Server"
ODBC19 = "ODBC Driver 19 for SQL Server"  # newer than sqlreach knows


@pytest.mark.parametrize(
    ("names", "best"),
    [
        ((FREETDS, ODBC17, ODBC18), ODBC18),
        ((FREETDS, ODBC17), ODBC17),
        (("SQL Server", FREETDS), FREETDS),
        ((ODBC13, ODBC19), ODBC19),
        ((ODBC19, "ODBC Driver 11 for SQL Server"), ODBC19),
        ((ODBC13,), ODBC13),
        (("SQL Server", "SQL Server Native Client 11.0", "PostgreSQL Unicode"), None),
        ((), None),
    ],
)
def test_best_driver(names: tuple[str, ...], best: str | None) -> None:
    assert Drivers(names).best() == best


def test_family() -> None:
    assert family(FREETDS) is Family.FREETDS
    assert family("freetds") is Family.FREETDS
    assert family("/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so") is Family.FREETDS
    for name in (ODBC18, ODBC17, "SQL Server", "SQL Server Native Client 11.0"):
        assert family(name) is Family.MICROSOFT


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [
        (0.0, 1),
        (0.001, 1),
        (0.5, 1),
        (1.0, 1),
        (1.01, 2),
        (2.0, 2),
        (2.5, 3),
        (15.0, 15),
        (-3.0, 1),
    ],
)
def test_login_timeout_is_whole_seconds_never_below_one(timeout: float, seconds: int) -> None:
    assert login_timeout(timeout) == seconds


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_login_timeout_rounds_up(timeout: float) -> None:
    seconds = login_timeout(timeout)
    assert isinstance(seconds, int) and seconds >= 1
    assert seconds >= timeout and (timeout < 1 or seconds - timeout < 1)


def _module(names: list[str]) -> ModuleType:
    module = ModuleType("pyodbc")
    module.drivers = lambda: names  # type: ignore[attr-defined]
    return module


def test_list_drivers_through_a_loader() -> None:
    assert list_drivers(loader=lambda: _module([ODBC18, FREETDS])) == Drivers((ODBC18, FREETDS))


def test_list_drivers_really() -> None:
    drivers = list_drivers()
    assert drivers.problem is None
    if NO_FREETDS is None:
        assert FREETDS in drivers.names  # registered for the test run (tests/odbc_drivers.py)
    json.dumps(drivers.to_json())


def _raise(error: BaseException) -> ModuleType:
    raise error


def test_without_libodbc_the_problem_says_unixodbc_is_missing() -> None:
    text = "libodbc.so.2: cannot open shared object file: No such file or directory"
    drivers = list_drivers(loader=lambda: _raise(ImportError(text, name="pyodbc")))
    assert drivers.names == () and drivers.best() is None
    assert drivers.problem is not None
    assert "unixODBC is missing" in drivers.problem and text in drivers.problem


def test_without_pyodbc_the_problem_says_pyodbc_is_not_installed() -> None:
    for error in (
        ImportError(name="pyodbc"),
        ImportError("No module named 'pyodbc'", name="pyodbc"),
    ):
        drivers = list_drivers(loader=functools.partial(_raise, error))
        assert drivers.problem is not None
        assert "pyodbc is not installed" in drivers.problem
        assert "unixODBC" not in drivers.problem


def test_a_driver_manager_that_fails_is_said() -> None:
    def broken() -> list[str]:
        raise RuntimeError("SQLAllocHandle failed")

    module = ModuleType("pyodbc")
    module.drivers = broken  # type: ignore[attr-defined]
    drivers = list_drivers(loader=lambda: module)
    assert drivers.problem == "the ODBC driver manager failed: SQLAllocHandle failed"


async def test_the_login_probe_reports_a_missing_driver_manager() -> None:
    text = "libodbc.so.2: cannot open shared object file: No such file or directory"
    target = with_password(parse_target(SQL_LOGIN), "Zq-secret")
    result = await probe_odbc_login(
        "127.0.0.1",
        1433,
        target=target,
        driver=ODBC18,
        timeout=1.0,
        loader=lambda: _raise(ImportError(text, name="pyodbc")),
    )
    assert result.status is OdbcStatus.NO_ODBC
    assert "unixODBC is missing" in result.detail
    assert "Zq-secret" not in json.dumps(result.evidence())


@pytest.mark.skipif(NO_FREETDS is not None, reason=str(NO_FREETDS))
async def test_the_login_probe_parses_freetds_refusal(loopback: str) -> None:
    port = closed_port(loopback)
    target = with_password(parse_target(SQL_LOGIN), "Zq-secret}")
    result = await probe_odbc_login(loopback, port, target=target, driver=FREETDS, timeout=2.0)
    assert result.status is OdbcStatus.REFUSED
    assert result.records and result.sqlstate == "08S01"
    assert result.detail.startswith("[08S01] [FreeTDS][SQL Server]")
    assert result.error_class == "OperationalError"
    document = json.dumps(result.evidence())
    assert "Zq-secret" not in document and "PWD=********" in document


# ------------------------------------------------------------------------------------------
# Kerberos


async def test_windows_always_can() -> None:
    state = await kerberos_state(timeout=1.0, platform="win32", klist="/bin/false")
    assert state.possible and state.command is None and "SSPI" in state.detail


async def test_klist_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("klist") is None
    state = await kerberos_state(timeout=1.0, platform="linux", klist=None)
    assert not state.possible and state.command is None
    assert "klist is not even installed" in state.detail


@pytest.mark.skipif(shutil.which("klist") is None, reason="klist (krb5-user) is not installed")
def test_the_real_klist() -> None:
    klist = shutil.which("klist")
    assert klist is not None
    expected = subprocess.run([klist, "-s"], check=False, timeout=10).returncode == 0
    state = asyncio.run(kerberos_state(timeout=5.0, platform="linux"))
    assert state.possible is expected and state.command == "klist -s"


@pytest.mark.parametrize(
    ("platform", "command"), [("linux", "klist -s"), ("darwin", "klist --test")]
)
async def test_klist_exit_codes(platform: str, command: str) -> None:
    without = await kerberos_state(timeout=5.0, platform=platform, klist="/bin/false")
    assert not without.possible and without.command == command
    assert "no valid Kerberos ticket" in without.detail
    with_ticket = await kerberos_state(timeout=5.0, platform=platform, klist="/bin/true")
    assert with_ticket.possible and with_ticket.command == command
    assert "a Kerberos ticket is in the credential cache" in with_ticket.detail
    json.dumps(with_ticket.to_json())


async def test_klist_that_cannot_run(tmp_path: Path) -> None:
    state = await kerberos_state(timeout=1.0, platform="linux", klist=str(tmp_path / "klist"))
    assert not state.possible and state.detail.startswith("klist could not be run")


async def test_klist_that_hangs(tmp_path: Path) -> None:
    script = tmp_path / "klist"
    script.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    os.chmod(script, 0o755)
    state = await kerberos_state(timeout=0.3, platform="linux", klist=str(script))
    assert not state.possible and state.detail == "klist did not answer within 0.3 s"


# ------------------------------------------------------------------------------------------
# ServerInfo


ROW = [
    "OLDHOST\\INST",
    "NEWHOST",
    "16.0.4135.4",
    "Developer Edition (64-bit)",
    "TCP",
    "NTLM",
    "TRUE",
    "127.0.0.1 port 1433",
]


def test_from_row_matches_names_case_insensitively() -> None:
    named = COLUMNS[: len(ROW)]  # the row holds the first columns; the others stay None
    columns = [name.upper() if i % 2 else f" {name.title()} " for i, name in enumerate(named)]
    info = ServerInfo.from_row([*columns, "something_else"], [*ROW, "ignored"])
    assert info == ServerInfo(*ROW)


def test_from_row_nulls_blanks_bytes_and_numbers() -> None:
    info = ServerInfo.from_row(
        ["server_name", "machine_name", "encrypt_option", "listening_ports", "product_version"],
        ["  SQLHOST01  ", None, b"\x01\xff", "   ", 16],
    )
    assert info.server_name == "SQLHOST01"
    assert info.machine_name is None
    assert info.encrypt_option == "01ff"
    assert info.listening_ports is None
    assert info.product_version == "16"
    assert ServerInfo.from_row([], []) == ServerInfo()


def test_from_row_keeps_the_first_of_a_repeated_column_and_short_rows() -> None:
    info = ServerInfo.from_row(["server_name", "SERVER_NAME", "machine_name"], ["A", "B"])
    assert info.server_name == "A" and info.machine_name is None


def test_a_renamed_host() -> None:
    info = ServerInfo(server_name="OLDHOST", machine_name="NEWHOST")
    assert info.renamed and info.registered_name() == "NEWHOST"
    named = ServerInfo(server_name="OLD\\INST", machine_name="NEW")
    assert named.renamed
    assert named.recorded_machine == "OLD" and named.instance_part == "INST"
    assert named.registered_name() == "NEW\\INST"


@pytest.mark.parametrize(
    ("server_name", "machine_name"),
    [
        ("sqlhost01", "SQLHOST01"),
        ("SQLHOST01\\SQLEXPRESS", "sqlhost01"),
        (None, "SQLHOST01"),
        ("SQLHOST01", None),
        (None, None),
    ],
)
def test_not_a_rename(server_name: str | None, machine_name: str | None) -> None:
    assert not ServerInfo(server_name=server_name, machine_name=machine_name).renamed


def test_registered_name_needs_the_machine() -> None:
    assert ServerInfo(server_name="OLD\\INST").registered_name() is None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "::1",
        "[::1]",
        "fe80::1%eth0",
        "SQLHOST01",
        "sqlhost01",
        "sqlhost01.corp.test",
        "SQLHOST01.corp.test.",
        "localhost",
        None,
        "",
    ],
)
def test_no_host_note_for_addresses_and_the_machines_own_names(host: str | None) -> None:
    assert ServerInfo(server_name="SQLHOST01", machine_name="SQLHOST01").host_note(host) is None


def test_a_cname_gets_a_note() -> None:
    note = ServerInfo(machine_name="SQLHOST01").host_note("sql-alias.corp.test")
    assert note is not None
    assert "sql-alias.corp.test" in note and "SQLHOST01" in note
    assert "CNAME" in note and "SPN" in note
    assert ServerInfo().host_note("sql-alias.corp.test") is None  # machine unknown


def test_sentence() -> None:
    info = ServerInfo(*ROW)
    assert info.sentence() == (
        "@@SERVERNAME is OLDHOST\\INST, on machine NEWHOST; SQL Server 2022 16.0.4135.4 "
        "Developer Edition (64-bit); this session: over TCP, Windows authentication through "
        "NTLM (Kerberos was not used), encrypted; listening on 127.0.0.1 port 1433"
    )
    sql = ServerInfo(server_name="SQLHOST01", auth_scheme="sql", encrypt_option="FALSE")
    assert sql.sentence() == (
        "@@SERVERNAME is SQLHOST01; this session: SQL Server authentication, not encrypted"
    )
    assert ServerInfo().sentence() == ""
    assert ServerInfo(product_version="not a version").product is None
    assert ServerInfo(auth_scheme="NEGOTIATE").sentence() == "this session: NEGOTIATE"


def test_evidence_is_json() -> None:
    info = ServerInfo(*ROW)
    document = json.loads(json.dumps(info.evidence()))
    assert document["renamed"] is True and document["listening_ports_note"] is None
    assert "encrypt_option_note" not in document
    empty = json.loads(json.dumps(ServerInfo().evidence()))
    assert empty["renamed"] is False
    assert "VIEW SERVER STATE" in empty["listening_ports_note"]
    assert "VIEW SERVER STATE" in empty["encrypt_option_note"]


_CELL = st.none() | st.text(max_size=30) | st.binary(max_size=8) | st.integers() | st.floats()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(COLUMNS) | st.text(max_size=15), max_size=12),
    st.lists(_CELL, max_size=12),
    st.none() | st.text(max_size=40),
)
def test_server_info_never_raises(
    columns: list[str], values: list[object], host: str | None
) -> None:
    info = ServerInfo.from_row(columns, values)
    json.dumps(info.evidence())
    assert isinstance(info.sentence(), str)
    info.host_note(host)
    info.registered_name()
    assert isinstance(info.renamed, bool)
