"""Issue 7: what a failed login says, decoded into a root cause and the fixes that fit.

Every text fed to `decode` is a real client (or ERRORLOG) text from `tests/fixtures/windows`
(sources in `tests/fixtures/README.md`), taken whole or one line / one record at a time. Errors
the fixtures hold no text for (18470, 18486 to 18488, 4060, 4064, 08S01, ANONYMOUS LOGON) are fed
as the native login reads them: numbers, states and SQLSTATEs, without a text. The one text not
from the fixtures is the loader's "libodbc.so.2: cannot open shared object file" (unixODBC
missing), which the fixtures do not hold either; it is the message the issue names.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.knowledge import login_errors
from tui.knowledge.causes import RootCause
from tui.knowledge.fixes.catalog import catalog_ids, render_fix, template
from tui.knowledge.fixes.values import FixValues
from tui.knowledge.login_errors import (
    RULES,
    STATES_18456,
    UNRECOGNISED,
    Outcome,
    Reply,
    decode,
    reply_from_messages,
    state_meaning,
)
from tui.probes.odbc_login import Family, family
from tui.steps import login as actions_login
from tui.target import parse_target
from tui.wire.prelogin import Encryption

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
ERROR_MESSAGES = FIXTURES / "error-messages.txt"
ODBC17 = "ODBC Driver 17 for SQL Server"
ODBC18 = "ODBC Driver 18 for SQL Server"
TLS_FIXES = ("provision-certificate", "trust-server-certificate")
INSTALL = ("install-odbc-driver-18", "install-freetds")


# ------------------------------------------------------------------------------------------
# reading the fixtures


def _blocks() -> dict[str, str]:
    """label -> message of each block of error-messages.txt (without label, Source, Note)."""
    blocks: dict[str, str] = {}
    for raw in ERROR_MESSAGES.read_text(encoding="utf-8").split("\n=====\n"):
        lines = raw.strip().splitlines()
        label = next(line[3:] for line in lines if line.startswith("## "))
        body = [line for line in lines if not line.startswith(("#", "Source:", "Note:"))]
        blocks[label] = "\n".join(body).strip()
    return blocks


BLOCKS = _blocks()


def block(prefix: str) -> str:
    """The message of the one block whose label starts with `prefix`."""
    found = [text for label, text in BLOCKS.items() if label.startswith(prefix)]
    assert len(found) == 1, (prefix, len(found))
    return found[0]


def line(prefix: str, contains: str) -> str:
    """One line of a block: the one that contains `contains`."""
    found = [text for text in block(prefix).splitlines() if contains in text]
    assert len(found) == 1, (prefix, contains, found)
    return found[0]


def errorlog_message(name: str, contains: str) -> str:
    """The message of one ERRORLOG line (without its date, time and source columns)."""
    path = FIXTURES / name
    encoding = "utf-16" if name.endswith(".utf16le.log") else "utf-8"
    lines = [text for text in path.read_text(encoding=encoding).splitlines() if contains in text]
    assert lines, (name, contains)
    found = re.match(r"^\S+ \S+ \S+\s+(?P<message>.+)$", lines[0])
    assert found is not None, lines[0]
    return found.group("message").strip()


STATE8_LOG = "errorlog-linux-sql2019-docker-login-failed-state8.log"
STATE7_LOG = "errorlog-linux-sql2025-accept-sockets-login-failed-state7.log"
STATE58_LOG = "errorlog-windows-sql2019-windows-only-login-failed-state58.utf16le.log"
STATE11_LOG = "errorlog-windows-docs-26023-tcp-port-in-use.txt"


def test_the_fixture_blocks_are_all_there() -> None:
    assert len(BLOCKS) == 26
    assert block("Cannot generate SSPI context") == (
        "The target principal name is incorrect. Cannot generate SSPI context."
    )


# ------------------------------------------------------------------------------------------
# 18456 and its states


def _assert_reads_the_errorlog(detail: str) -> None:
    assert "xp_readerrorlog" in detail and "N'18456'" in detail
    assert "state 1" in detail  # what every client sees
    for words in (
        "2 or 5 no such login",
        "7 disabled",
        "8 or 9 wrong password",
        "11 or 12",
        "18 password must be changed",
        "38 or 46 the database",
        "58 a SQL login on a Windows-only server",
    ):
        assert words in detail, words


@pytest.mark.parametrize(
    ("log", "contains"),
    [
        pytest.param(STATE8_LOG, "Login failed for user 'sa'", id="state8-linux"),
        pytest.param(STATE7_LOG, "Login failed for user 'SA'", id="state7-linux-2025"),
        pytest.param(STATE58_LOG, "Login failed for user 'User1'", id="state58-windows"),
        pytest.param(STATE11_LOG, "Login failed for user", id="state11-docs"),
    ],
)
def test_18456_text_says_how_to_read_the_real_state(log: str, contains: str) -> None:
    text = errorlog_message(log, contains)
    for reply in (Reply(text=text), Reply(numbers=(18456,), states=(1,), text=text)):
        decoded = decode(reply, user="sa", database=None, driver=ODBC18)
        assert decoded.rule.key == "18456"
        assert decoded.outcome is Outcome.LOGIN_FAILED
        assert decoded.cause is RootCause.LOGIN_FAILED
        assert decoded.fixes == ("read-18456-state", "check-login")
        assert decoded.detail.startswith("Error 18456, login failed for 'sa'.")
        _assert_reads_the_errorlog(decoded.detail)


def test_18456_number_alone_names_this_login_or_says_it_does_not_know() -> None:
    named = decode(Reply(numbers=(18456,), states=(1,)), user="app", database=None)
    nameless = decode(Reply(numbers=(18456,)), user=None, database=None)
    assert "login failed for 'app'" in named.detail
    assert "login failed for this login" in nameless.detail
    _assert_reads_the_errorlog(named.detail)
    _assert_reads_the_errorlog(nameless.detail)


def test_state_58_from_the_native_login_asks_for_mixed_mode_first() -> None:
    text = errorlog_message(STATE58_LOG, "Login failed for user 'User1'")
    for reply in (
        Reply(numbers=(18456,), states=(58,)),
        reply_from_messages([(18456, 58, text)]),
    ):
        decoded = decode(reply, user="User1", database=None)
        assert decoded.rule.key == "18456" and decoded.cause is RootCause.LOGIN_FAILED
        assert decoded.fixes[0] == "enable-mixed-mode"
        assert decoded.fixes == ("enable-mixed-mode", "read-18456-state", "check-login")
        assert "The server sent state 58: " in decoded.detail
        assert "Windows authentication only" in decoded.detail
        assert "Every client sees state 1" not in decoded.detail


def test_state_8_from_the_native_login_says_the_password_is_wrong() -> None:
    text = errorlog_message(STATE8_LOG, "Login failed for user 'sa'")
    decoded = decode(reply_from_messages([(18456, 8, text)]), user="sa", database=None)
    assert decoded.rule.key == "18456"
    assert "The server sent state 8: the password is wrong." in decoded.detail
    assert "check-login" in decoded.fixes  # exists, enabled, and a new password
    assert "enable-mixed-mode" not in decoded.fixes
    assert "fix-database-name" not in decoded.fixes


def test_state_38_from_the_native_login_points_at_the_database() -> None:
    decoded = decode(Reply(numbers=(18456,), states=(38,)), user="app", database="Payroll")
    assert decoded.rule.key == "18456"
    assert decoded.fixes[0] == "fix-database-name"
    assert "The server sent state 38: " in decoded.detail and "database" in decoded.detail


def test_an_unknown_state_is_said_without_a_meaning() -> None:
    decoded = decode(Reply(numbers=(18456,), states=(250,)), user="app", database=None)
    assert "The server sent state 250." in decoded.detail
    assert decoded.fixes == ("read-18456-state", "check-login")


def test_the_first_real_18456_state_counts_and_no_other_numbers_state() -> None:
    twice = decode(Reply(numbers=(18456, 18456), states=(1, 58)), user="u", database=None)
    assert twice.fixes[0] == "enable-mixed-mode"  # state 1 says nothing: the next one does
    other = decode(Reply(numbers=(18401, 18456), states=(58, 1)), user="u", database=None)
    assert other.rule.key == "18456"  # 18401 has no rule of its own
    assert "enable-mixed-mode" not in other.fixes  # its state 58 is not an 18456 state
    assert "Every client sees state 1" in other.detail


# The 18456 state table of ../shared/reference/troubleshooting-knowledge.md, as words each
# meaning must carry ("1 no detail" is what every client sees, not a reason).
REFERENCE_18456: dict[frozenset[int], tuple[str, ...]] = {
    frozenset({2, 5}): ("no login",),
    frozenset({6}): ("windows login", "sql server authentication"),
    frozenset({7}): ("disabled", "password"),
    frozenset({8, 9}): ("password is wrong",),
    frozenset({11, 12}): ("valid",),
    frozenset({13}): ("paused",),
    frozenset({18}): ("password must be changed",),
    frozenset({38, 46}): ("database",),
    frozenset({58}): ("sql login", "windows authentication only"),
    frozenset(range(102, 112)) | {132, 133}: ("entra",),
    frozenset({122, 123, 124}): ("empty",),
    frozenset({126}): ("database", "does not exist"),
}


def test_state_table_covers_exactly_the_reference_states() -> None:
    code_states = {state for states, _ in STATES_18456 for state in states}
    reference_states = {state for states in REFERENCE_18456 for state in states}
    assert code_states == reference_states
    assert state_meaning(1) is None and state_meaning(0) is None


@pytest.mark.parametrize(
    ("states", "words"),
    list(REFERENCE_18456.items()),
    ids=[",".join(map(str, sorted(states)))[:20] for states in REFERENCE_18456],
)
def test_state_meaning_agrees_with_the_reference(
    states: frozenset[int], words: tuple[str, ...]
) -> None:
    for state in states:
        meaning = state_meaning(state)
        assert meaning is not None, state
        for word in words:
            assert word in meaning.lower(), (state, word, meaning)


# ------------------------------------------------------------------------------------------
# the relatives of 18456, and the database errors (numbers only: no fixture text)


LOGIN = (Outcome.LOGIN_FAILED, RootCause.LOGIN_FAILED)
DATABASE = (Outcome.DATABASE, RootCause.DATABASE_UNAVAILABLE)
# number -> (outcome and cause, fixes, words of the detail)
NUMBERS: dict[int, tuple[tuple[Outcome, RootCause], tuple[str, ...], str]] = {
    18452: (
        (Outcome.KERBEROS, RootCause.LOGIN_FAILED),
        ("use-sql-login", "register-spn"),
        "cannot verify this Windows login",
    ),
    18470: (LOGIN, ("enable-login",), "the login 'app' exists but is disabled"),
    18486: (LOGIN, ("unlock-login",), "the login 'app' is locked out"),
    18487: (LOGIN, ("change-login-password",), "the password of 'app' has expired"),
    18488: (LOGIN, ("change-login-password",), "the password of 'app' must be changed"),
    4060: (DATABASE, ("fix-database-name",), "the database 'Payroll' does not exist"),
    4064: (DATABASE, ("fix-default-database",), "its default database cannot be opened"),
}


@pytest.mark.parametrize("number", list(NUMBERS))
def test_server_numbers_decode_to_their_rule(number: int) -> None:
    (outcome, cause), fixes, said = NUMBERS[number]
    # what the native login reads: the number alone, or followed by the 18456
    for reply in (Reply(numbers=(number,), states=(1,)), Reply(numbers=(number, 18456))):
        decoded = decode(reply, user="app", database="Payroll", driver=None)
        assert decoded.rule.key == str(number)
        assert decoded.outcome is outcome and decoded.cause is cause
        assert decoded.fixes == fixes
        assert said in decoded.detail
        assert decoded.detail.startswith(f"Error {number}")


def test_4060_without_a_database_says_the_default() -> None:
    decoded = decode(Reply(numbers=(4060, 18456)), user=None, database=None)
    assert "the database (the login's default)" in decoded.detail
    assert "this login has no user in it" in decoded.detail


def test_a_server_number_wins_over_what_the_text_says() -> None:
    text = block("SSL Provider: certificate chain not trusted -- ODBC Driver 18")
    decoded = decode(Reply(numbers=(18470,), text=text), user="app", database=None)
    assert decoded.rule.key == "18470"


def test_untrusted_domain_text_is_18452() -> None:
    decoded = decode(
        Reply(text=block("Login from untrusted domain")), user=None, database=None, driver=ODBC17
    )
    assert decoded.rule.key == "18452"
    assert decoded.outcome is Outcome.KERBEROS and decoded.cause is RootCause.LOGIN_FAILED
    assert decoded.fixes == ("use-sql-login", "register-spn")
    assert decoded.recognised


# ------------------------------------------------------------------------------------------
# Windows authentication


def test_cannot_generate_sspi_context() -> None:
    decoded = decode(
        Reply(text=block("Cannot generate SSPI context")), user=None, database=None, driver=ODBC18
    )
    assert decoded.rule.key == "sspi"
    assert decoded.outcome is Outcome.KERBEROS and decoded.cause is RootCause.LOGIN_FAILED
    assert decoded.fixes == ("register-spn", "get-kerberos-ticket")
    assert "SPN" in decoded.detail and "kinit" in decoded.detail


@pytest.mark.parametrize("who", ["NT AUTHORITY\\ANONYMOUS LOGON", "nt authority\\anonymous logon"])
def test_anonymous_logon_adds_the_kerberos_explanation_and_the_spn(who: str) -> None:
    decoded = decode(Reply(numbers=(18456,), states=(1,)), user=who, database=None)
    assert decoded.rule.key == "18456"
    assert "NT AUTHORITY\\ANONYMOUS LOGON" in decoded.detail
    assert "Kerberos failed" in decoded.detail and "SPN" in decoded.detail
    assert decoded.fixes == ("read-18456-state", "check-login", "register-spn")


def test_an_ordinary_18456_does_not_mention_anonymous_logon() -> None:
    decoded = decode(Reply(numbers=(18456,)), user="app", database=None)
    assert "ANONYMOUS" not in decoded.detail and "register-spn" not in decoded.fixes


# ------------------------------------------------------------------------------------------
# TLS during the login

CERTIFICATE_BLOCKS = [
    "SSL Provider: certificate chain not trusted -- OLE DB Driver 19",
    "SSL Provider: certificate chain not trusted -- ODBC Driver 18",
    "SSL Provider: certificate chain not trusted -- pyodbc on Windows",
    "Linux sqlcmd, ODBC Driver 18, OpenSSL 1.1.x: certificate verify failed",
    "pyodbc, ODBC Driver 18, OpenSSL 3.x: certificate verify failed",
    "pyodbc, ODBC Driver 18, OpenSSL 1.1.x: certificate verify failed",
    "bcp, ODBC Driver 18 on Linux: certificate verify failed",
]


@pytest.mark.parametrize("label", CERTIFICATE_BLOCKS)
def test_certificate_errors_are_tls_failed_with_the_certificate_fixes(label: str) -> None:
    decoded = decode(
        Reply(text=block(label), sqlstate="08001"), user="app", database=None, driver=ODBC18
    )
    assert decoded.rule.key == "tls-certificate"
    assert decoded.outcome is Outcome.TLS_FAILED and decoded.cause is RootCause.TLS_FAILED
    assert decoded.fixes == TLS_FIXES
    assert decoded.detail.startswith(f"{ODBC18} refused the server's certificate")
    # the detail states what TrustServerCertificate costs
    assert "TrustServerCertificate=yes" in decoded.detail
    assert "stops checking who the server is" in decoded.detail
    assert "pose as it and read the login" in decoded.detail


def test_one_line_of_a_certificate_error_is_enough() -> None:
    text = line("SSL Provider: certificate chain not trusted -- ODBC Driver 18", "SSL Provider:")
    decoded = decode(Reply(text=text), user=None, database=None, driver=None)
    assert decoded.rule.key == "tls-certificate" and decoded.fixes == TLS_FIXES
    assert decoded.detail.startswith("The driver refused the server's certificate")


@pytest.mark.parametrize(
    "label",
    [
        "pyodbc, ODBC Driver 18, OpenSSL 3.x: unsupported protocol",
        "PDO_SQLSRV, ODBC Driver 17, OpenSSL 3.x: unsupported protocol",
        "Python tuple (pyodbc-style), ODBC Driver 17, OpenSSL 1.1.x: unsupported protocol",
    ],
)
def test_no_tls_version_in_common_asks_for_tls12(label: str) -> None:
    decoded = decode(Reply(text=block(label)), user="app", database=None, driver=ODBC18)
    assert decoded.rule.key == "tls-version"
    assert decoded.outcome is Outcome.TLS_FAILED and decoded.cause is RootCause.TLS_FAILED
    assert decoded.fixes == ("enable-tls12",)


@pytest.mark.parametrize(
    "label", ["10054 during login (SSL Provider)", "10054 during pre-login handshake"]
)
def test_a_connection_reset_in_the_tls_layer_is_not_a_refused_certificate(label: str) -> None:
    """The fixture's source (tls-exist-connection-closed.md) and the reference table
    ("10054 forcibly closed (SSL provider, pre-login)": no shared TLS version or cipher, a
    weak-hash certificate; fix: TLS 1.2 on both sides) say the server closed the connection:
    TrustServerCertificate cannot help with that, TLS 1.2 can."""
    decoded = decode(Reply(text=block(label)), user="app", database=None, driver=ODBC18)
    assert decoded.outcome is Outcome.TLS_FAILED and decoded.cause is RootCause.TLS_FAILED
    assert "enable-tls12" in decoded.fixes
    assert "trust-server-certificate" not in decoded.fixes


def test_encryption_refused_by_a_server_without_tls_when_the_text_says_nothing() -> None:
    for demand in ("yes", "strict"):
        decoded = decode(
            Reply(),
            user="app",
            database=None,
            driver="FreeTDS",
            server_encryption=Encryption.NOT_SUP,
            client_encrypt=demand,
        )
        assert decoded.rule.key == "encryption-not-supported"
        assert decoded.outcome is Outcome.ENCRYPTION_MISMATCH
        assert decoded.cause is RootCause.ENCRYPTION_MISMATCH
        assert decoded.fixes == ("provision-certificate", "encrypt-optional")
    for server, client in (
        (Encryption.NOT_SUP, "no"),
        (Encryption.ON, "yes"),
        (None, "yes"),
    ):
        other = decode(
            Reply(), user="app", database=None, server_encryption=server, client_encrypt=client
        )
        assert other.rule is UNRECOGNISED


# ------------------------------------------------------------------------------------------
# the driver itself


def test_im002_is_driver_missing() -> None:
    text = block("Windows ODBC Driver Manager: DSN / driver name not found")
    decoded = decode(Reply(text=text, sqlstate="IM002"), user="app", database=None, driver=ODBC17)
    assert decoded.rule.key == "driver-missing"
    assert decoded.outcome is Outcome.DRIVER_MISSING and decoded.cause is RootCause.DRIVER_MISSING
    assert decoded.fixes == INSTALL
    assert decoded.detail.startswith(f"The ODBC driver '{ODBC17}' is not installed here")


def test_cant_open_lib_is_driver_missing() -> None:
    text = block("unixODBC: driver library not found")
    decoded = decode(Reply(text=text, sqlstate="01000"), user=None, database=None, driver=ODBC17)
    assert decoded.rule.key == "driver-missing"
    assert decoded.outcome is Outcome.DRIVER_MISSING and decoded.cause is RootCause.DRIVER_MISSING
    assert decoded.fixes == INSTALL
    assert ODBC17 in decoded.detail


def test_im002_sqlstate_alone_is_driver_missing() -> None:
    for state in ("IM002", "im002", "IM003"):
        decoded = decode(Reply(sqlstate=state), user=None, database=None, driver=ODBC18)
        assert decoded.rule.key == "driver-missing" and decoded.fixes == INSTALL


@pytest.mark.parametrize("driver", ["FreeTDS", "freetds", "FreeTDS 1.3"])
def test_freetds_install_comes_first_when_the_driver_named_is_freetds(driver: str) -> None:
    text = block("Windows ODBC Driver Manager: DSN / driver name not found")
    decoded = decode(Reply(text=text, sqlstate="IM002"), user=None, database=None, driver=driver)
    assert decoded.outcome is Outcome.DRIVER_MISSING
    assert decoded.fixes == ("install-freetds", "install-odbc-driver-18")


def test_freetds_named_by_its_library_path_also_gets_freetds_first() -> None:
    """`probes.login.family` knows a driver named by its library (Driver=.../libtdsodbc.so, as
    unixODBC accepts, and as tests/odbc_drivers.py registers it) is FreeTDS; decode must agree."""
    driver = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so"
    assert family(driver) is Family.FREETDS
    decoded = decode(Reply(sqlstate="IM002"), user=None, database=None, driver=driver)
    assert decoded.outcome is Outcome.DRIVER_MISSING
    assert decoded.fixes[0] == "install-freetds"


def test_missing_driver_manager_asks_for_unixodbc_first() -> None:
    """No fixture holds this text: it is the loader's message the brief names (glibc's
    dlopen error), as `probes.login` reports it when pyodbc cannot load libodbc."""
    text = "libodbc.so.2: cannot open shared object file: No such file or directory"
    decoded = decode(Reply(text=text), user="app", database=None, driver=ODBC18)
    assert decoded.rule.key == "driver-manager-missing"
    assert decoded.outcome is Outcome.DRIVER_MISSING and decoded.cause is RootCause.DRIVER_MISSING
    assert decoded.fixes == ("install-unixodbc", *INSTALL)
    freetds = decode(Reply(text=text), user="app", database=None, driver="FreeTDS")
    assert freetds.fixes[0] == "install-freetds" and "install-unixodbc" in freetds.fixes


# ------------------------------------------------------------------------------------------
# a server that does not finish the login


@pytest.mark.parametrize(
    ("label", "contains"),
    [
        ("SNAC 10.0: Login timeout expired", "Login timeout expired"),
        ("Linux sqlcmd, ODBC Driver 17: Login timeout expired", "Login timeout expired."),
        ("Linux sqlcmd, ODBC Driver 13: Login timeout expired", "Login timeout expired."),
    ],
)
def test_login_timeout_is_server_unresponsive(label: str, contains: str) -> None:
    text = line(label, contains)
    for reply in (Reply(text=text, sqlstate="HYT00"), Reply(text=text), Reply(sqlstate="HYT00")):
        decoded = decode(reply, user="app", database=None, driver=ODBC17)
        assert decoded.rule.key == "timeout"
        assert decoded.outcome is Outcome.UNRESPONSIVE
        assert decoded.cause is RootCause.SERVER_UNRESPONSIVE
        assert decoded.fixes == ("check-server-health",)


def test_08s01_is_a_broken_link() -> None:
    for state in ("08S01", "08s01"):
        decoded = decode(Reply(sqlstate=state), user="app", database=None, driver="FreeTDS")
        assert decoded.rule.key == "link-failure"
        assert decoded.outcome is Outcome.UNRESPONSIVE
        assert decoded.cause is RootCause.SERVER_UNRESPONSIVE
        assert decoded.fixes == ("check-server-health",)
        assert "broke during the login" in decoded.detail


def test_hyt01_is_a_timeout_too() -> None:
    assert decode(Reply(sqlstate="HYT01"), user=None, database=None).rule.key == "timeout"


def test_an_unknown_text_is_quoted_back() -> None:
    text = block("Error 233")
    decoded = decode(Reply(text=text), user="app", database=None)
    assert decoded.rule is UNRECOGNISED
    assert decoded.outcome is Outcome.LOGIN_FAILED and decoded.cause is RootCause.LOGIN_FAILED
    assert decoded.detail.endswith(f" It said: {text}")
    assert decoded.fixes == ("read-18456-state",)


def test_nothing_at_all_is_unrecognised_without_a_quote() -> None:
    decoded = decode(Reply(), user=None, database=None)
    assert decoded.rule is UNRECOGNISED and "It said" not in decoded.detail
    assert decoded.detail[0].isupper()


# ------------------------------------------------------------------------------------------
# the fixes exist and render


def _every_named_fix() -> set[str]:
    named = {fix for rule in (*RULES, UNRECOGNISED) for fix in rule.fixes}
    for state in range(256):  # the fixes a state adds
        named |= set(decode(Reply(numbers=(18456,), states=(state,)), user="u", database="d").fixes)
    named |= set(
        decode(Reply(numbers=(18456,)), user="NT AUTHORITY\\ANONYMOUS LOGON", database=None).fixes
    )
    return named


def test_every_fix_a_rule_names_is_in_the_catalog() -> None:
    named = _every_named_fix()
    assert named <= catalog_ids(), named - catalog_ids()
    assert named <= login_errors.fix_ids()  # the list the tree test checks is complete
    assert login_errors.fix_ids() <= catalog_ids()
    assert catalog_ids() >= actions_login.FIX_IDS


TYPICAL_FACTS = {
    "host": "sqlhost01.corp.test",
    "port": 1433,
    "address": "127.0.0.1",
    "database": "Payroll",
    "login": "app",
    "old_server_name": "OLDHOST",
    "new_server_name": "NEWHOST",
    "cert_name": "OLDHOST",
    "client_name": "sqlhost01.corp.test",
    "cert_issuer": "CN=Corp CA",
    "client_ip": "203.0.113.7",  # an Azure SQL 40615 names the client's address
    "azure_server": "sqlhost01",
    "fqdn": "sqlhost01.corp.test",  # the name (or the reverse lookup) gives it
    "service_account": "CORP\\svc-sql",  # read on the server, or how to read it
    "server_build": "11.0.2100",  # the pre-login gives it
    "tls12_builds": "TLS 1.2 came with SP2 GDR 11.0.5352.0 (KB 3135244)",
}
TARGETS = {
    "default": "Server=sqlhost01.corp.test,1433;Database=Payroll;User ID=app;Password=x",
    "named": "Server=sqlhost01.corp.test\\INST,1533;Database=Payroll;User ID=app;Password=x",
}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
LOGIN_FIX_IDS = sorted(login_errors.fix_ids() | actions_login.FIX_IDS)


@pytest.mark.parametrize("fix_id", LOGIN_FIX_IDS)
@pytest.mark.parametrize("target_text", list(TARGETS.values()), ids=list(TARGETS))
def test_every_login_fix_renders_for_every_platform_it_has(fix_id: str, target_text: str) -> None:
    target = parse_target(target_text)
    fix = render_fix(fix_id, FixValues.of(target, **TYPICAL_FACTS))
    wanted = template(fix_id)
    assert [c.platform for c in fix.commands] == [c.platform for c in wanted.commands]
    for text in (fix.title, fix.why, *(c.text for c in fix.commands)):
        assert not PLACEHOLDER.search(text), (fix_id, text)
    if target.instance:
        services = " ".join(c.text for c in fix.commands)
        assert "MSSQLSERVER" not in services.replace("MSSQLServer", "")


def test_windows_authentication_fixes_leave_no_placeholder_in_their_titles() -> None:
    """With Windows authentication the login step sets no `login` fact (actions_login), so the
    fixes an 18456 for it names (ANONYMOUS LOGON included) render without one. The engine's own
    convention for a missing fact is '(unknown)' (engine.fill); a raw '{login}' must not reach
    a junior admin's screen."""
    target = parse_target("Server=sqlhost01.corp.test,1433;Integrated Security=SSPI")
    decoded = decode(
        Reply(numbers=(18456,), states=(1,)),
        user="NT AUTHORITY\\ANONYMOUS LOGON",
        database=None,
    )
    facts = {"host": "sqlhost01.corp.test", "port": 1433, "address": "127.0.0.1"}
    for fix_id in decoded.fixes:
        fix = render_fix(fix_id, FixValues.of(target, **facts))
        assert not PLACEHOLDER.search(fix.title), (fix_id, fix.title)


def test_fix_templates_of_the_login_step_use_only_values_fix_values_knows() -> None:
    derived = {"spn_port", "spn_name"}  # FixValues makes them from fqdn, port and instance
    known = {"host", "port", "good_port", "instance", "service", "address", *TYPICAL_FACTS}
    known |= derived
    for fix_id in LOGIN_FIX_IDS:
        fix = template(fix_id)
        for text in (fix.title, fix.why, *(c.text for c in fix.commands)):
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            assert names <= known, (fix_id, names - known)


# ------------------------------------------------------------------------------------------
# hostile input


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    numbers=st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=6),
    states=st.lists(st.integers(min_value=-(2**20), max_value=2**20), max_size=6),
    text=st.text(max_size=400) | st.sampled_from(list(BLOCKS.values())),
    sqlstate=st.none() | st.text(max_size=8) | st.sampled_from(["HYT00", "08S01", "IM002"]),
    user=st.none() | st.text(max_size=40),
    database=st.none() | st.text(max_size=40),
    driver=st.none() | st.text(max_size=40),
    server_encryption=st.none() | st.sampled_from(list(Encryption)),
    client_encrypt=st.none() | st.sampled_from(["yes", "no", "strict", "request", "{x}"]),
)
def test_decode_never_raises(
    numbers: list[int],
    states: list[int],
    text: str,
    sqlstate: str | None,
    user: str | None,
    database: str | None,
    driver: str | None,
    server_encryption: Encryption | None,
    client_encrypt: str | None,
) -> None:
    decoded = decode(
        Reply(numbers=tuple(numbers), states=tuple(states), text=text, sqlstate=sqlstate),
        user=user,
        database=database,
        driver=driver,
        server_encryption=server_encryption,
        client_encrypt=client_encrypt,
    )
    assert decoded.detail and decoded.fixes
    assert set(decoded.fixes) <= catalog_ids()
    assert decoded.outcome in set(Outcome) and decoded.cause in set(RootCause)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(), st.integers(), st.text(max_size=60)), max_size=5))
def test_reply_from_messages_keeps_the_order(messages: list[tuple[int, int, str]]) -> None:
    reply = reply_from_messages(messages, sqlstate="28000")
    assert reply.numbers == tuple(number for number, _, _ in messages)
    assert reply.states == tuple(state for _, state, _ in messages)
    assert reply.sqlstate == "28000"
    decode(reply, user=None, database=None)
