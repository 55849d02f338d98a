"""What a failed login says, decoded into the root-cause vocabulary with the fixes that fit.

The table is data: each rule names the SQL Server error numbers it covers (as the native login
reads them from ERROR tokens, or as an ODBC driver reports them as its native error), the entries
of the error-text catalog (`explain/catalog.toml`) that recognise the same failure in a driver's
words, or the SQLSTATEs that say it. Rules are tried in order, numbers first: a server's number
is the surest evidence, the catalog reads what a driver printed, the SQLSTATE comes last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from tui.knowledge import azure
from tui.knowledge.causes import RootCause
from tui.wire.prelogin import Encryption


class Outcome(StrEnum):
    """The login step's failure outcomes (tree.py maps each to its verdict)."""

    LOGIN_FAILED = "login-failed"
    DATABASE = "database"
    KERBEROS = "kerberos"
    TLS_FAILED = "tls-failed"
    ENCRYPTION_MISMATCH = "encryption-mismatch"
    DRIVER_MISSING = "driver-missing"
    UNRESPONSIVE = "unresponsive"


@dataclass(frozen=True)
class Rule:
    key: str
    outcome: Outcome
    cause: RootCause
    what: str  # what it means, for the verdict; {user}, {database}, {driver} are filled in
    fixes: tuple[str, ...]
    numbers: frozenset[int] = frozenset()
    entries: frozenset[str] = frozenset()
    sqlstates: frozenset[str] = frozenset()
    together_with: frozenset[str] = frozenset()  # when set, one of these must be recognised too

    def matches(self, recognised: set[str]) -> bool:
        if not self.entries & recognised:
            return False
        return not self.together_with or bool(self.together_with & recognised)


# 18456 states: the client always sees state 1; the server's ERRORLOG has the real one.
STATES_18456: Final[tuple[tuple[frozenset[int], str], ...]] = (
    (frozenset({2, 5}), "no login of that name exists on this instance"),
    (frozenset({6}), "a Windows login name was used with SQL Server authentication"),
    (frozenset({7}), "the login is disabled (and the password is wrong)"),
    (frozenset({8, 9}), "the password is wrong"),
    (frozenset({11, 12}), "the login is valid but has no permission to connect (CONNECT SQL)"),
    (frozenset({13}), "the SQL Server service is paused"),
    (frozenset({18}), "the password must be changed"),
    (frozenset({38, 46}), "the login works but the database it asked for could not be opened"),
    (
        frozenset({58}),
        "a SQL login was tried on a server that accepts Windows authentication only",
    ),
    (frozenset(range(102, 112)) | {132, 133}, "Microsoft Entra ID authentication failed"),
    (frozenset({122, 123, 124}), "the user name or the password was empty"),
    (frozenset({126}), "the database asked for does not exist"),
)

_ERRORLOG = "EXEC xp_readerrorlog 0, 1, N'18456'"
_STATES_WORDS = (
    "2 or 5 no such login, 7 disabled, 8 or 9 wrong password, 11 or 12 no permission to "
    "connect, 18 password must be changed, 38 or 46 the database could not be opened, 58 a SQL "
    "login on a Windows-only server"
)
_TLS_ENTRIES = frozenset(
    {
        "ssl-provider",
        "cert-verify-failed",
        "cert-self-signed",
        "cert-untrusted",
        "cert-name-mismatch",
        "jdbc-pkix",
        "jdbc-ssl-failed",
        "dbnetlib-ssl",
        "handshakes-before-login",
        "prelogin-failed",
        "encryption-fwlink",
    }
)
_INSTALL = ("install-odbc-driver-18", "install-freetds")

_AZURE_WHAT = "Azure SQL error {number}: {azure}"

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "40615",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        _AZURE_WHAT,
        ("azure-firewall-rule",),
        numbers=frozenset({40615}),
        entries=frozenset({"azure-40615"}),
    ),
    Rule(
        "40914",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        _AZURE_WHAT,
        ("azure-vnet-rule",),
        numbers=frozenset({40914}),
        entries=frozenset({"azure-40914"}),
    ),
    Rule(
        "47073",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        _AZURE_WHAT,
        ("azure-private-endpoint",),
        numbers=frozenset({47073}),
        entries=frozenset({"azure-47073"}),
    ),
    Rule(
        "47072",
        Outcome.TLS_FAILED,
        RootCause.TLS_FAILED,
        _AZURE_WHAT,
        ("enable-tls12",),
        numbers=frozenset({47072}),
    ),
    Rule(
        "40532",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        _AZURE_WHAT,
        ("check-login",),
        numbers=frozenset({40532}),
        entries=frozenset({"azure-40532"}),
    ),
    Rule(
        "40613",
        Outcome.DATABASE,
        RootCause.DATABASE_UNAVAILABLE,
        _AZURE_WHAT,
        ("azure-retry",),
        numbers=frozenset({40613}),
        entries=frozenset({"azure-40613"}),
    ),
    Rule(
        "40501",
        Outcome.UNRESPONSIVE,
        RootCause.SERVER_UNRESPONSIVE,
        _AZURE_WHAT,
        ("azure-retry",),
        numbers=frozenset({40501, 40197}),
        entries=frozenset({"azure-40501"}),
    ),
    Rule(
        "4060",
        Outcome.DATABASE,
        RootCause.DATABASE_UNAVAILABLE,
        "error 4060: the database {database} does not exist on this instance, is offline or "
        "restoring, or {user} has no user in it.",
        ("fix-database-name",),
        numbers=frozenset({4060}),
        entries=frozenset({"database-4060", "login-18456-state-database"}),
    ),
    Rule(
        "4064",
        Outcome.DATABASE,
        RootCause.DATABASE_UNAVAILABLE,
        "error 4064: the login works, but its default database cannot be opened (removed, "
        "offline, or no access), and the connection names no other.",
        ("fix-default-database",),
        numbers=frozenset({4064}),
        entries=frozenset({"database-4064"}),
    ),
    Rule(
        "18452",
        Outcome.KERBEROS,
        RootCause.LOGIN_FAILED,
        "error 18452: the server cannot verify this Windows login; the client is not in a "
        "domain it trusts, or Kerberos failed and the NTLM fallback was refused.",
        ("use-sql-login", "register-spn"),
        numbers=frozenset({18452}),
        entries=frozenset({"login-18452"}),
    ),
    Rule(
        "18470",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        "error 18470: the login {user} exists but is disabled.",
        ("enable-login",),
        numbers=frozenset({18470}),
        entries=frozenset({"login-18470-disabled"}),
    ),
    Rule(
        "18486",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        "error 18486: the login {user} is locked out after too many wrong passwords (the "
        "Windows password policy applies to it).",
        ("unlock-login",),
        numbers=frozenset({18486}),
        entries=frozenset({"login-18486-locked"}),
    ),
    Rule(
        "18487",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        "error 18487: the password of {user} has expired.",
        ("change-login-password",),
        numbers=frozenset({18487}),
        entries=frozenset({"login-18487-expired"}),
    ),
    Rule(
        "18488",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        "error 18488: the password of {user} must be changed before it can log in.",
        ("change-login-password",),
        numbers=frozenset({18488}),
        entries=frozenset({"login-18488-must-change"}),
    ),
    Rule(
        "18456",
        Outcome.LOGIN_FAILED,
        RootCause.LOGIN_FAILED,
        "error 18456, login failed for {user}.",
        ("read-18456-state", "check-login"),
        numbers=frozenset({18456}),
        entries=frozenset(
            {
                "login-18456",
                "login-18456-state",
                "login-reason-password",
                "login-reason-evaluating-password",
                "login-reason-token-access",
            }
        ),
    ),
    Rule(
        "sspi",
        Outcome.KERBEROS,
        RootCause.LOGIN_FAILED,
        "Windows authentication could not start (Cannot generate SSPI context): the client got "
        "no Kerberos ticket for the server. Usually the SQL Server service's SPN is missing, "
        "duplicated or on the wrong account; also a client without a ticket (kinit), clock "
        "skew, or a name the domain does not know.",
        ("register-spn", "get-kerberos-ticket"),
        entries=frozenset({"sspi-context", "kerberos-no-ticket"}),
    ),
    # before the TLS rules: a text that names a server without encryption is that, not a
    # certificate problem (JDBC's 'could not establish a secure connection' says both)
    Rule(
        "encryption-not-supported",
        Outcome.ENCRYPTION_MISMATCH,
        RootCause.ENCRYPTION_MISMATCH,
        "the connection insists on encryption, but the server has no certificate configured "
        "and answers that it does not support encryption.",
        ("provision-certificate", "encrypt-optional"),
        entries=frozenset({"encryption-not-supported-by-server"}),
    ),
    Rule(
        "encryption-required",
        Outcome.ENCRYPTION_MISMATCH,
        RootCause.ENCRYPTION_MISMATCH,
        "the server requires encryption, and the client cannot or will not encrypt.",
        ("enable-client-encryption",),
        entries=frozenset({"encryption-required-by-server"}),
    ),
    Rule(
        "tls-version",
        Outcome.TLS_FAILED,
        RootCause.TLS_FAILED,
        "the driver and the server share no TLS version (an old server without TLS 1.2, or a "
        "client whose OpenSSL refuses TLS 1.0 and 1.1).",
        ("enable-tls12",),
        entries=frozenset({"tls-no-common-protocol"}),
    ),
    Rule(
        "tls-reset",
        Outcome.TLS_FAILED,
        RootCause.TLS_FAILED,
        "the connection was reset (10054) during the TLS handshake of the login: most often the "
        "client and the server share no TLS version or cipher (TLS 1.0 turned off on one side, "
        "an unpatched server without TLS 1.2, a certificate with a weak hash); also a device in "
        "between that cuts TLS.",
        ("enable-tls12",),
        entries=frozenset({"winsock-10054"}),
        together_with=frozenset({"ssl-provider", "prelogin-failed", "login-process-failed"}),
    ),
    Rule(
        "tls-certificate",
        Outcome.TLS_FAILED,
        RootCause.TLS_FAILED,
        "{driver} refused the server's certificate (or its TLS handshake) during the login. "
        "ODBC Driver 18 encrypts by default and checks the certificate: its issuer must be "
        "trusted here, its dates valid, its name the one the client uses. The safe fix is a "
        "certificate from a CA the clients trust, made out to that name. "
        "TrustServerCertificate=yes makes the error go away but stops checking who the server "
        "is: anyone between client and server can then pose as it and read the login. "
        "Encrypt=no (Optional) helps only when the server does not force encryption.",
        ("provision-certificate", "trust-server-certificate"),
        entries=_TLS_ENTRIES,
    ),
    Rule(
        "driver-manager-missing",
        Outcome.DRIVER_MISSING,
        RootCause.DRIVER_MISSING,
        "the ODBC driver manager (unixODBC: libodbc) is not installed on this machine, so no "
        "ODBC driver can load at all.",
        ("install-unixodbc", *_INSTALL),
        entries=frozenset({"odbc-manager-missing"}),
    ),
    Rule(
        "driver-missing",
        Outcome.DRIVER_MISSING,
        RootCause.DRIVER_MISSING,
        "the ODBC driver '{driver}' is not installed here (or not registered under that name, or "
        "its library cannot be loaded).",
        _INSTALL,
        entries=frozenset({"odbc-im002", "odbc-cant-open-lib"}),
        sqlstates=frozenset({"IM002", "IM003"}),
    ),
    Rule(
        "timeout",
        Outcome.UNRESPONSIVE,
        RootCause.SERVER_UNRESPONSIVE,
        "the pre-login was answered, but the login was not completed in time: the server is "
        "under pressure (worker threads, memory, a long recovery), or hangs.",
        ("check-server-health",),
        entries=frozenset({"login-timeout-expired", "postlogin-timeout"}),
        sqlstates=frozenset({"HYT00", "HYT01"}),
    ),
    Rule(
        "link-failure",
        Outcome.UNRESPONSIVE,
        RootCause.SERVER_UNRESPONSIVE,
        "the connection broke during the login: the server (or something in between) closed it.",
        ("check-server-health",),
        entries=frozenset({"communication-link-failure", "transport-level-error", "winsock-10054"}),
        sqlstates=frozenset({"08S01"}),
    ),
)

_BY_KEY: Final = {rule.key: rule for rule in RULES}

UNRECOGNISED: Final = Rule(
    "unrecognised",
    Outcome.LOGIN_FAILED,
    RootCause.LOGIN_FAILED,
    "the network path works, but the login did not complete, and the driver's message is not "
    "one sqlreach knows.",
    ("read-18456-state",),
)


@dataclass(frozen=True)
class Reply:
    """What came back from a failed login, whichever client tried it (texts already redacted)."""

    numbers: tuple[int, ...] = ()  # SQL Server error numbers, in the order received
    states: tuple[int, ...] = ()  # their states, where known (the native login reads them)
    text: str = ""  # every message, joined
    sqlstate: str | None = None  # the ODBC SQLSTATE of the first record


@dataclass(frozen=True)
class Decoded:
    rule: Rule
    detail: str  # the verdict's sentence(s)
    fixes: tuple[str, ...]
    recognised: tuple[str, ...]  # catalog codes the text matched
    reply: Reply | None = None  # what it was decoded from

    @property
    def outcome(self) -> Outcome:
        return self.rule.outcome

    @property
    def cause(self) -> RootCause:
        return self.rule.cause


def rule(key: str) -> Rule:
    return _BY_KEY[key]


def state_meaning(state: int) -> str | None:
    for states, meaning in STATES_18456:
        if state in states:
            return meaning
    return None


def decode(
    reply: Reply,
    *,
    user: str | None,
    database: str | None,
    driver: str | None = None,
    server_encryption: Encryption | None = None,
    client_encrypt: str | None = None,
) -> Decoded:
    """The rule that fits, and the sentence that says what it means here."""
    from tui.knowledge.explain.reader import explain
    from tui.probes.odbc_login import Family, family

    explanation = explain(reply.text) if reply.text else None
    entries = {item.entry for item in explanation.recognised} if explanation else set()
    codes = tuple(item.code for item in explanation.recognised) if explanation else ()
    chosen = _pick(reply, entries)
    if chosen is None and _encryption_refused(server_encryption, client_encrypt):
        chosen = _BY_KEY["encryption-not-supported"]
    chosen = chosen or UNRECOGNISED
    values = {
        "user": f"'{user}'" if user else "this login",
        "database": f"'{database}'" if database else "(the login's default)",
        "driver": driver or "The driver",
        **_azure_values(chosen, reply),
    }
    detail = chosen.what.format(**values)
    detail = detail[0].upper() + detail[1:]
    fixes = chosen.fixes
    if chosen.key == "18456":
        about, more = _about_18456(reply)
        detail += " " + about
        fixes = (*more, *fixes)
        if "ANONYMOUS LOGON" in f"{user or ''} {reply.text}".upper():
            detail += (
                " The login arrived as NT AUTHORITY\\ANONYMOUS LOGON: Kerberos failed (a "
                "second hop without delegation, or a missing SPN) and NTLM lost the identity."
            )
            fixes = (*fixes, "register-spn")
    if chosen.outcome is Outcome.DRIVER_MISSING and driver and family(driver) is Family.FREETDS:
        fixes = tuple(sorted(fixes, key=lambda fix: fix != "install-freetds"))
    if chosen is UNRECOGNISED and reply.text:
        detail += f" It said: {reply.text}"
    tracing = azure.tracing_id(reply.text)
    if chosen.key == "18456" and tracing:
        detail += (
            f" Azure SQL gave the session tracing ID {tracing}: Microsoft support can read the "
            "reason with it (Azure sends the client no state either)."
        )
    return Decoded(chosen, detail, fixes, codes, reply)


def _azure_values(chosen: Rule, reply: Reply) -> dict[str, str]:
    """The Azure error's number and meaning, with the client address its text names."""
    number = next((n for n in reply.numbers if n in chosen.numbers), min(chosen.numbers or {0}))
    error = azure.ERRORS.get(number)
    if error is None:
        return {"number": str(number), "azure": ""}
    ip = azure.client_ip(reply.text)
    meaning = error.meaning.format(ip=ip or "the client connects from")
    tracing = azure.tracing_id(reply.text)
    if tracing:
        meaning += f" Give Microsoft support the session tracing ID {tracing}."
    return {"number": str(number), "azure": meaning}


def azure_rule(rule: Rule) -> bool:
    return rule.what == _AZURE_WHAT


def _pick(reply: Reply, entries: set[str]) -> Rule | None:
    numbers = set(reply.numbers)
    for candidate in RULES:
        if candidate.numbers & numbers:
            return candidate
    for candidate in RULES:
        if candidate.matches(entries):
            return candidate
    if reply.sqlstate:
        for candidate in RULES:
            if reply.sqlstate.upper() in candidate.sqlstates:
                return candidate
    return None


def _encryption_refused(server: Encryption | None, client: str | None) -> bool:
    """A generic driver error, where the pre-login already showed why: the client demands
    encryption of a server that has none (FreeTDS says only 'Unable to connect')."""
    return server is Encryption.NOT_SUP and client in {"yes", "strict"}


def _about_18456(reply: Reply) -> tuple[str, tuple[str, ...]]:
    """What the state says when the server sent a real one, else how to read it; and the fixes
    a state names."""
    states = [
        state
        for number, state in zip(reply.numbers, reply.states, strict=False)
        if number == 18456 and state not in (0, 1)
    ]
    if states:
        meaning = state_meaning(states[0])
        said = f"The server sent state {states[0]}"
        return (f"{said}: {meaning}." if meaning else f"{said}."), _STATE_FIXES.get(states[0], ())
    return (
        "Every client sees state 1; the real reason is the state the server writes to its "
        f"ERRORLOG next to the 18456 (on the server: {_ERRORLOG}): {_STATES_WORDS}.",
        (),
    )


_STATE_FIXES: Final[dict[int, tuple[str, ...]]] = {
    58: ("enable-mixed-mode",),
    38: ("fix-database-name",),
    46: ("fix-database-name",),
    126: ("fix-database-name",),
}


def reply_from_messages(
    messages: Sequence[tuple[int, int, str]], *, sqlstate: str | None = None
) -> Reply:
    """Build a `Reply` from (number, state, message) triples."""
    return Reply(
        numbers=tuple(number for number, _, _ in messages),
        states=tuple(state for _, state, _ in messages),
        text=" ".join(message for _, _, message in messages),
        sqlstate=sqlstate,
    )


def fix_ids() -> frozenset[str]:
    """Every fix a decoded login failure may name (the tree test checks they exist)."""
    named = {fix for candidate in (*RULES, UNRECOGNISED) for fix in candidate.fixes}
    named |= {fix for fixes in _STATE_FIXES.values() for fix in fixes}
    return frozenset(named | {"register-spn"})
