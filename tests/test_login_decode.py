"""Issue 7: what a failed login says, decoded; and the pure parts of the login probe.

The texts are real: the examples the explain catalog keeps with their sources, the client
messages in tests/fixtures/windows/error-messages.txt, and what real pyodbc prints here.
"""

from __future__ import annotations

import json
import re
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.netutil import closed_port, random_loopback
from tui.knowledge import login_errors
from tui.knowledge.causes import RootCause
from tui.knowledge.fixes.catalog import catalog_ids, render_fix, template
from tui.knowledge.fixes.values import FixValues
from tui.knowledge.login_errors import Outcome, Reply, decode, reply_from_messages
from tui.probes.odbc_login import (
    Drivers,
    Family,
    OdbcLoginResult,
    OdbcRecord,
    OdbcStatus,
    connection_string,
    family,
    list_drivers,
    login_timeout,
    parse_records,
)
from tui.probes.serverinfo import ServerInfo
from tui.secret import Secret
from tui.target import parse_target

CATALOG = Path(__file__).resolve().parent.parent / "tui" / "knowledge" / "explain" / "catalog.toml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "windows" / "error-messages.txt"
ENTRIES = {entry["id"]: entry for entry in tomllib.loads(CATALOG.read_text())["entry"]}


def _examples() -> list[Any]:
    """Every catalog example of every entry a login rule claims, with that rule."""
    cases = []
    for rule in login_errors.RULES:
        if rule.together_with:  # needs a second text besides its entry's (tested on their own)
            continue
        for entry in sorted(rule.entries):
            for index, text in enumerate(ENTRIES[entry].get("examples", ())):
                cases.append(pytest.param(rule.key, text, id=f"{rule.key}-{entry}-{index}"))
    return cases


def fixture_line(starting: str) -> str:
    lines = [line for line in FIXTURES.read_text().splitlines() if line.startswith(starting)]
    assert lines, starting
    return lines[0]


# ------------------------------------------------------------------------------------------
# the rules against real texts


def test_every_entry_a_rule_claims_is_in_the_catalog_with_examples() -> None:
    for rule in login_errors.RULES:
        for entry in rule.entries:
            assert entry in ENTRIES, (rule.key, entry)
            assert ENTRIES[entry].get("examples"), (rule.key, entry)


@pytest.mark.parametrize(("key", "text"), _examples())
def test_catalog_examples_decode_to_their_rule(key: str, text: str) -> None:
    """A driver's text alone (no error number, as most wrappers show it) finds the rule whose
    catalog entries recognise it; the 18456 relatives win over a plain 18456 in the same text."""
    decoded = decode(Reply(text=text), user="app", database="Sales", driver="ODBC Driver 18")
    expected = login_errors.rule(key)
    assert decoded.rule.outcome is expected.outcome, (decoded.rule.key, text)
    assert decoded.cause is expected.cause
    if decoded.rule.key == key:  # else a more specific rule of the same outcome took it
        assert set(expected.fixes) <= set(decoded.fixes)


@pytest.mark.parametrize(
    ("starting", "cause", "fixes"),
    [
        (
            "pyodbc.OperationalError: ('08001', '[08001] [Microsoft][ODBC Driver 18 for SQL "
            "Server]SSL Provider: [error:0A000086",
            RootCause.TLS_FAILED,
            ("provision-certificate", "trust-server-certificate"),
        ),
        (
            "[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: The certificate chain",
            RootCause.TLS_FAILED,
            ("provision-certificate", "trust-server-certificate"),
        ),
        (
            "pyodbc.OperationalError: ('08001', '[08001] [Microsoft][ODBC Driver 18 for SQL "
            "Server]SSL Provider: [error:0A000102:SSL routines::unsupported protocol]",
            RootCause.TLS_FAILED,
            ("enable-tls12",),
        ),
        (
            "The target principal name is incorrect. Cannot generate SSPI context.",
            RootCause.LOGIN_FAILED,
            ("register-spn", "get-kerberos-ticket"),
        ),
        (
            "('01000', \"[01000] [unixODBC][Driver Manager]Can't open lib 'ODBC Driver 17",
            RootCause.DRIVER_MISSING,
            ("install-odbc-driver-18", "install-freetds"),
        ),
        (
            "pyodbc.InterfaceError: ('IM002'",
            RootCause.DRIVER_MISSING,
            ("install-odbc-driver-18", "install-freetds"),
        ),
        (
            "Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server : Login timeout expired.",
            RootCause.SERVER_UNRESPONSIVE,
            ("check-server-health",),
        ),
    ],
)
def test_client_messages_from_the_fixtures(
    starting: str, cause: RootCause, fixes: tuple[str, ...]
) -> None:
    decoded = decode(Reply(text=fixture_line(starting)), user="app", database=None)
    assert decoded.cause is cause
    assert decoded.fixes[: len(fixes)] == fixes


def test_the_certificate_verdict_states_the_risk_of_trusting_any_certificate() -> None:
    text = fixture_line("[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: The certificate")
    decoded = decode(Reply(text=text), user="app", database=None, driver="ODBC Driver 18")
    assert "TrustServerCertificate=yes" in decoded.detail
    assert "pose as it and read the login" in decoded.detail


def test_a_missing_freetds_puts_the_freetds_install_first() -> None:
    text = "[01000] [unixODBC][Driver Manager]Can't open lib 'FreeTDS' : file not found (0)"
    decoded = decode(Reply(text=text, sqlstate="01000"), user="sa", database=None, driver="FreeTDS")
    assert decoded.cause is RootCause.DRIVER_MISSING
    assert decoded.fixes == ("install-freetds", "install-odbc-driver-18")


# ------------------------------------------------------------------------------------------
# 18456 and its states, as the native login reads them


def test_state_1_says_how_to_read_the_real_state() -> None:
    decoded = decode(
        reply_from_messages([(18456, 1, "Login failed for user 'sa'.")]), user="sa", database=None
    )
    assert decoded.outcome is Outcome.LOGIN_FAILED
    assert "EXEC xp_readerrorlog 0, 1, N'18456'" in decoded.detail
    assert "8 or 9 wrong password" in decoded.detail
    assert decoded.fixes == ("read-18456-state", "check-login")


@pytest.mark.parametrize(
    ("state", "words", "first_fix"),
    [
        (58, "accepts Windows authentication only", "enable-mixed-mode"),
        (8, "the password is wrong", "read-18456-state"),
        (38, "could not be opened", "fix-database-name"),
        (126, "does not exist", "fix-database-name"),
    ],
)
def test_a_real_state_is_read_and_its_fix_comes_first(
    state: int, words: str, first_fix: str
) -> None:
    decoded = decode(
        reply_from_messages([(18456, state, "Login failed for user 'sa'.")]),
        user="sa",
        database="Sales",
    )
    assert f"The server sent state {state}: " in decoded.detail
    assert words in decoded.detail
    assert decoded.fixes[0] == first_fix


def test_the_state_table_is_the_reference_table() -> None:
    """troubleshooting-knowledge.md: 2, 5 not valid; 6 Windows name; 7 disabled; 8, 9 wrong
    password; 11, 12 no access; 13 paused; 18 must change; 38, 46 database; 58 Windows only;
    102-111, 132-133 Entra ID; 122-124 empty; 126 no database."""
    reference = {
        2: "no login",
        5: "no login",
        6: "Windows login name",
        7: "disabled",
        8: "password is wrong",
        9: "password is wrong",
        11: "no permission",
        12: "no permission",
        13: "paused",
        18: "must be changed",
        38: "database",
        46: "database",
        58: "Windows authentication only",
        102: "Entra",
        111: "Entra",
        132: "Entra",
        133: "Entra",
        122: "empty",
        124: "empty",
        126: "does not exist",
    }
    for state, words in reference.items():
        meaning = login_errors.state_meaning(state)
        assert meaning is not None and words in meaning, (state, meaning)
    assert login_errors.state_meaning(1) is None
    assert login_errors.state_meaning(112) is None


def test_4060_before_18456_is_a_database_problem() -> None:
    """What the server sends for a missing database (wire-protocols.md): 4060, then 18456."""
    decoded = decode(
        reply_from_messages(
            [
                (4060, 1, 'Cannot open database "Payroll" requested by the login.'),
                (18456, 1, "Login failed for user 'sa'."),
            ]
        ),
        user="sa",
        database="Payroll",
    )
    assert decoded.cause is RootCause.DATABASE_UNAVAILABLE
    assert "'Payroll'" in decoded.detail
    assert decoded.fixes == ("fix-database-name",)


def test_anonymous_logon_adds_the_spn_fix() -> None:
    text = "Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'."
    decoded = decode(Reply(numbers=(18456,), text=text), user=None, database=None)
    assert "Kerberos failed" in decoded.detail
    assert decoded.fixes[-1] == "register-spn"


def test_encryption_demanded_of_a_server_without_it_explains_a_bare_driver_error() -> None:
    from tui.wire.prelogin import Encryption

    text = "[08001] [FreeTDS][SQL Server]Unable to connect to data source"
    decoded = decode(
        Reply(text=text, sqlstate="08001"),
        user="sa",
        database=None,
        server_encryption=Encryption.NOT_SUP,
        client_encrypt="yes",
    )
    assert decoded.cause is RootCause.ENCRYPTION_MISMATCH


def test_an_unknown_message_is_kept_whole() -> None:
    decoded = decode(Reply(text="something nobody has seen"), user="sa", database=None)
    assert decoded.rule is login_errors.UNRECOGNISED
    assert decoded.detail.endswith("It said: something nobody has seen")


@given(
    numbers=st.lists(st.integers(min_value=-(2**31), max_value=2**31 - 1), max_size=4),
    states=st.lists(st.integers(min_value=-1, max_value=300), max_size=4),
    text=st.text(max_size=300),
    sqlstate=st.none() | st.text(alphabet=string.ascii_uppercase + string.digits, max_size=6),
    user=st.none() | st.text(max_size=20),
)
def test_decode_never_raises(
    numbers: list[int], states: list[int], text: str, sqlstate: str | None, user: str | None
) -> None:
    decoded = decode(Reply(tuple(numbers), tuple(states), text, sqlstate), user=user, database=user)
    assert decoded.detail


def test_every_fix_the_login_names_exists_and_renders_whole() -> None:
    """Filled with a login failure's facts, no command is left out for a missing value and no
    {placeholder} is left in a title or a reason."""
    target = parse_target("Server=db1,1433;Database=Sales;User ID=app;Password=x")
    facts = {
        "address": "127.0.0.9",
        "port": 1433,
        "login": "app",
        "database": "Sales",
        "old_server_name": "OLDHOST",
        "new_server_name": "SQLHOST01",
        "client_name": "db1",  # the TLS step, always before the login, says it
        "client_ip": "203.0.113.7",  # an Azure SQL 40615 names it
        "azure_server": "db1",
        "fqdn": "db1.corp.test",
        "service_account": "CORP\\svc-sql",
        "server_build": "11.0.2100",
        "tls12_builds": "TLS 1.2 came with SP2 GDR 11.0.5352.0 (KB 3135244)",
    }
    for fix_id in sorted(login_errors.fix_ids() | {"restart-after-rename", "install-unixodbc"}):
        assert fix_id in catalog_ids(), fix_id
        fix = render_fix(fix_id, FixValues.of(target, **facts))
        assert len(fix.commands) == len(template(fix_id).commands), fix_id
        for text in (fix.title, fix.why, *(command.text for command in fix.commands)):
            leftover = re.findall(r"\{[a-z_]+\}", text)
            assert not leftover, (fix_id, leftover, text)


# ------------------------------------------------------------------------------------------
# the probe's pure parts


def test_connection_string_for_microsoft_drivers_and_freetds() -> None:
    target = parse_target("Server=db1,1500;Database=Sales;User ID=app;Password=x;Encrypt=yes")
    _, shown = connection_string("ODBC Driver 18 for SQL Server", "127.0.0.9", 1500, target)
    assert "Server=tcp:127.0.0.9,1500" in shown
    assert "Encrypt=yes" in shown and "HostNameInCertificate=db1" in shown
    assert "Database=Sales" in shown and "UID=app" in shown and "PWD=********" in shown
    _, shown = connection_string("FreeTDS", "::1", 1500, target)
    assert "Server=::1;Port=1500;TDS_Version=7.4" in shown
    assert "Encryption=require" in shown and "Encrypt=" not in shown
    _, shown = connection_string("ODBC Driver 17 for SQL Server", "::1", 1500, target)
    assert "Server=tcp:[::1],1500" in shown


@pytest.mark.parametrize("password", ["a}b;c=d", " lead", "trail ", "{braced}", "plain"])
def test_the_password_is_quoted_in_the_real_string_and_absent_from_the_shown_one(
    password: str,
) -> None:
    target = parse_target("Server=db1;User ID=app").replace(password=Secret(password))
    real, shown = connection_string("FreeTDS", "127.0.0.9", 1433, target)
    assert "PWD={" + password.replace("}", "}}") + "};" in real
    assert password not in shown.replace("Driver=FreeTDS", "")
    assert real.endswith(";APP=sqlreach")  # PWD is never last (FreeTDS misreads it there)


def test_windows_authentication_sends_no_user_or_password() -> None:
    target = parse_target("Server=db1;Integrated Security=SSPI")
    real, _ = connection_string("ODBC Driver 18 for SQL Server", "127.0.0.9", 1433, target)
    assert "Trusted_Connection=yes" in real
    assert "UID=" not in real and "PWD=" not in real


def test_records_from_a_real_pyodbc_error_in_the_fixtures() -> None:
    line = fixture_line("('08001', '[08001] [Microsoft][ODBC Driver 18 for SQL Server]SSL Provider")
    sqlstate, message = line[2:7], line[11:-2]
    records = parse_records(sqlstate, message.replace("\\r\\n", "\r\n"))
    assert len(records) >= 2
    assert records[0].sqlstate == "08001"
    assert records[0].native == -2146893019
    assert "certificate chain was issued by an authority" in records[0].message


def test_records_from_real_pyodbc_here() -> None:
    """Real pyodbc with real FreeTDS: a closed loopback port, and a driver that is not there."""
    import pyodbc

    texts = []
    address = random_loopback()
    port = closed_port(address)
    for driver in ("FreeTDS", "ODBC Driver 99 for SQL Server"):
        try:
            pyodbc.connect(
                f"Driver={{{driver}}};Server={address};Port={port};UID=a;PWD=b", timeout=2
            )
        except pyodbc.Error as error:
            texts.append((str(error.args[0]), str(error.args[1])))
    assert len(texts) == 2
    refused = parse_records(*texts[0])
    assert refused[0].sqlstate == "08S01"
    assert any(record.native == 20009 for record in refused), refused
    missing = parse_records(*texts[1])
    assert missing[0].sqlstate == "01000"
    assert "Can't open lib 'ODBC Driver 99 for SQL Server'" in missing[0].message
    decoded = decode(
        Reply(text=" ".join(r.message for r in missing), sqlstate=missing[0].sqlstate),
        user="a",
        database=None,
    )
    assert decoded.cause is RootCause.DRIVER_MISSING


@given(st.text(max_size=400), st.text(max_size=6))
def test_parse_records_never_raises_and_keeps_what_it_cannot_read(
    message: str, sqlstate: str
) -> None:
    records = parse_records(sqlstate, message)
    assert records
    if "[" not in message:
        assert records == (OdbcRecord(sqlstate, message.strip()),)


def test_only_sql_server_records_count_as_server_errors() -> None:
    result = OdbcLoginResult(
        "FreeTDS",
        "127.0.0.9",
        1433,
        "sa",
        OdbcStatus.REFUSED,
        "d",
        "c",
        1.0,
        1.0,
        records=(
            OdbcRecord("42000", "[FreeTDS][SQL Server]Login failed for user 'sa'.", 18456),
            OdbcRecord("08001", "[FreeTDS][SQL Server]Unable to connect", 20009),
        ),
    )
    assert result.numbers == (18456, 20009)
    result = OdbcLoginResult(
        "FreeTDS",
        "127.0.0.9",
        1433,
        "sa",
        OdbcStatus.REFUSED,
        "d",
        "c",
        1.0,
        1.0,
        records=(OdbcRecord("01000", "[unixODBC][Driver Manager]Can't open lib 'x'", 0),),
    )
    assert result.numbers == ()


def test_the_best_driver_and_the_families() -> None:
    assert Drivers(("FreeTDS", "ODBC Driver 17 for SQL Server")).best() == (
        "ODBC Driver 17 for SQL Server"
    )
    assert Drivers(("ODBC Driver 17 for SQL Server", "ODBC Driver 18 for SQL Server")).best() == (
        "ODBC Driver 18 for SQL Server"
    )
    assert Drivers(("ODBC Driver 19 for SQL Server", "SQL Server")).best() == (
        "ODBC Driver 19 for SQL Server"
    )
    assert Drivers(("PostgreSQL Unicode",)).best() is None
    assert family("FreeTDS") is Family.FREETDS
    assert family("/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so") is Family.FREETDS
    assert family("ODBC Driver 18 for SQL Server") is Family.MICROSOFT
    assert [login_timeout(t) for t in (0.1, 1.0, 1.2, 3.0)] == [1, 1, 2, 3]


def test_a_pyodbc_that_cannot_load_says_why() -> None:
    def no_manager() -> Any:
        raise ImportError(
            "libodbc.so.2: cannot open shared object file: No such file or directory",
            name="pyodbc",
        )

    def no_pyodbc() -> Any:
        raise ImportError("No module named 'pyodbc'", name="pyodbc")

    assert "unixODBC is missing" in (list_drivers(no_manager).problem or "")
    assert list_drivers(no_pyodbc).problem == "pyodbc is not installed for this Python"
    assert "FreeTDS" in list_drivers().names  # the real one, here


# ------------------------------------------------------------------------------------------
# the diagnostic query's row


def test_a_renamed_host_and_what_to_register() -> None:
    info = ServerInfo.from_row(
        ["SERVER_NAME", "machine_name", "product_version", "unknown"],
        ["OLDHOST\\SALES", "SQLHOST01", "16.0.1000.6", "x"],
    )
    assert info.renamed
    assert info.registered_name() == "SQLHOST01\\SALES"
    assert not ServerInfo(server_name="sqlhost01", machine_name="SQLHOST01").renamed
    assert not ServerInfo(server_name=None, machine_name="SQLHOST01").renamed


def test_a_name_that_is_not_the_machines_own() -> None:
    info = ServerInfo(machine_name="SQLHOST01")
    assert info.host_note("127.0.0.9") is None
    assert info.host_note("[::1]") is None
    assert info.host_note("sqlhost01.corp.example") is None
    assert info.host_note("localhost") is None
    note = info.host_note("payroll-db")
    assert note is not None and "CNAME" in note and "SPN" in note


def test_the_row_reads_as_one_sentence_and_as_json() -> None:
    row: list[object] = ["SQLHOST01", "SQLHOST01", "16.0.1000.6", "Developer Edition (64-bit)"]
    row += ["TCP", "NTLM", "TRUE", b"\x01"]
    info = ServerInfo.from_row(list(ServerInfo.__dataclass_fields__), row)
    sentence = info.sentence()
    assert "SQL Server 2022 16.0.1000.6 Developer Edition (64-bit)" in sentence
    assert "Windows authentication through NTLM (Kerberos was not used)" in sentence
    assert "encrypted" in sentence
    assert json.loads(json.dumps(info.evidence()))["listening_ports"] == "01"
