"""A real login through pyodbc with the person's own ODBC driver, and what Windows
authentication needs on this machine.

The native login (`native_login.probe_login`) shows what the server says; this one shows what the
person's driver makes of it: its defaults (ODBC Driver 18 encrypts and checks the certificate),
its error texts, and whether it is installed at all. pyodbc blocks, so each attempt runs in a
daemon thread with the driver's own login timeout and a hard timeout around it: a driver that
hangs (FreeTDS on a port that is not TDS) never holds the event loop or the exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ipaddress
import math
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import Any, Final

from tui.probes import serverinfo
from tui.probes.base import Evidence, JsonValue, Stopwatch, in_daemon_thread
from tui.probes.serverinfo import ServerInfo
from tui.safe.quote import odbc_braced
from tui.secret import redact
from tui.target import Target

GRACE: Final = 1.0  # seconds past the driver's own timeouts before the thread is abandoned
# Preference when the connection names no driver: Microsoft's newest first, then FreeTDS.
PREFERRED: Final = (
    "ODBC Driver 18 for SQL Server",
    "ODBC Driver 17 for SQL Server",
    "FreeTDS",
)
APP_NAME: Final = "sqlreach"

Loader = Callable[[], ModuleType]


class Family(StrEnum):
    MICROSOFT = "microsoft"  # ODBC Driver 11-18, SQL Server Native Client, "SQL Server"
    FREETDS = "freetds"


class OdbcStatus(StrEnum):
    OK = "OK"  # logged in; the diagnostic query ran (or says why it could not)
    REFUSED = "REFUSED"  # the driver returned an error: see `records`
    HUNG = "HUNG"  # the driver did not return within its timeout plus the grace
    NO_ODBC = "NO_ODBC"  # pyodbc or the ODBC driver manager cannot be loaded here


@dataclass(frozen=True)
class OdbcRecord:
    """One diagnostic record as pyodbc prints it: [SQLSTATE] message (native error)."""

    sqlstate: str
    message: str
    native: int | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {"sqlstate": self.sqlstate, "native": self.native, "message": self.message}


@dataclass(frozen=True)
class Drivers:
    """What pyodbc.drivers() lists, or why pyodbc cannot be used here."""

    names: tuple[str, ...] = ()
    problem: str | None = None

    def best(self) -> str | None:
        for name in PREFERRED:
            if name in self.names:
                return name
        microsoft = sorted(
            (n for n in self.names if family(n) is Family.MICROSOFT and "ODBC Driver" in n),
            key=_driver_number,
            reverse=True,
        )
        return microsoft[0] if microsoft else None

    def to_json(self) -> dict[str, JsonValue]:
        return {"installed": list(self.names), "problem": self.problem}


@dataclass(frozen=True)
class OdbcLoginResult:
    driver: str
    address: str
    port: int
    user: str | None
    status: OdbcStatus
    detail: str
    connection: str  # the connection string sqlreach built, password replaced
    timeout: float
    elapsed_ms: float
    records: tuple[OdbcRecord, ...] = ()
    error_class: str | None = None
    server_info: ServerInfo | None = None
    query_detail: str | None = None
    extra: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def sqlstate(self) -> str | None:
        return self.records[0].sqlstate if self.records else None

    @property
    def numbers(self) -> tuple[int, ...]:
        """SQL Server error numbers among the records (the driver's own codes are small)."""
        return tuple(
            r.native for r in self.records if r.native is not None and "[SQL Server]" in r.message
        )

    @property
    def text(self) -> str:
        return " ".join(record.message for record in self.records) or self.detail

    def evidence(self) -> Evidence:
        return {
            "client": f"pyodbc with {self.driver}",
            "driver": self.driver,
            "address": self.address,
            "port": self.port,
            "user": self.user,
            "status": self.status.value,
            "detail": self.detail,
            "connection_string": self.connection,
            "error_class": self.error_class,
            "records": [record.to_json() for record in self.records],
            "server_info": self.server_info.evidence() if self.server_info else None,
            "query_detail": self.query_detail,
            **self.extra,
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        return self.detail if self.status is OdbcStatus.OK else f"{self.driver}: {self.detail}"


def family(driver: str) -> Family:
    lowered = driver.lower()
    if "freetds" in lowered or "tdsodbc" in lowered:
        return Family.FREETDS
    return Family.MICROSOFT


def _driver_number(name: str) -> int:
    found = re.search(r"ODBC Driver (\d+)", name)
    return int(found.group(1)) if found else 0


def load_pyodbc() -> ModuleType:
    return importlib.import_module("pyodbc")


def list_drivers(loader: Loader = load_pyodbc) -> Drivers:
    """The installed drivers; a pyodbc that cannot load (no libodbc.so.2) is a finding."""
    try:
        module = loader()
        names = tuple(str(name) for name in module.drivers())
    except ImportError as error:
        return Drivers(problem=_import_problem(error))
    except Exception as error:  # the driver manager itself failed: say what it said
        return Drivers(problem=f"the ODBC driver manager failed: {error}")
    return Drivers(names)


def _import_problem(error: ImportError) -> str:
    text = str(error)
    if error.name == "pyodbc" and "libodbc" not in text:
        return "pyodbc is not installed for this Python"
    return (
        "pyodbc is installed, but the ODBC driver manager it needs cannot be loaded "
        f"(unixODBC is missing here): {text}"
    )


def login_timeout(timeout: float) -> int:
    """ODBC login timeouts are whole seconds, and 0 means 'wait for ever': never below 1."""
    return max(1, math.ceil(timeout))


def connection_string(
    driver: str,
    address: str,
    port: int,
    target: Target,
    *,
    server: str | None = None,
) -> tuple[str, str]:
    """The connection string for `driver` (with the password) and the same with it replaced.

    Built from the parsed target in the driver's own keywords, so a target pasted in any form
    (ADO.NET, JDBC, sqlcmd) logs in alike. The driver connects to the address the diagnosis
    resolved; a name the certificate must carry goes in HostNameInCertificate.
    """
    where = server or address
    parts: list[tuple[str, str]] = [("Driver", driver)]
    if family(driver) is Family.FREETDS:
        parts += [("Server", where), ("Port", str(port)), ("TDS_Version", "7.4")]
        freetds = {"yes": "require", "strict": "strict", "request": "request"}
        if target.encrypt in freetds:
            parts.append(("Encryption", freetds[target.encrypt]))
    else:
        host = f"[{where}]" if ":" in where else where
        parts.append(("Server", f"tcp:{host},{port}"))
        microsoft = {"yes": "yes", "no": "no", "strict": "strict", "request": "no"}
        if target.encrypt in microsoft:
            parts.append(("Encrypt", microsoft[target.encrypt]))
        if target.trust_server_certificate is not None:
            trust = "yes" if target.trust_server_certificate else "no"
            parts.append(("TrustServerCertificate", trust))
        certificate = target.host_name_in_certificate or _name_for_certificate(target, where)
        if certificate:
            parts.append(("HostNameInCertificate", certificate))
    if target.database:
        parts.append(("Database", target.database))
    if target.integrated_security:
        parts.append(("Trusted_Connection", "yes"))
    else:
        parts.append(("UID", target.user or ""))
    # PWD is never last: FreeTDS 1.3 misreads a braced value that ends the string
    shown = [*parts, ("PWD", "********")] if not target.integrated_security else list(parts)
    password = target.password.reveal() if target.password is not None else ""
    real = [*parts, ("PWD", password)] if not target.integrated_security else list(parts)
    tail = [("APP", APP_NAME)]
    return _join([*real, *tail], secret=password), _join([*shown, *tail])


def _join(parts: list[tuple[str, str]], *, secret: str | None = None) -> str:
    return ";".join(
        f"{key}={_quote(value, always=key == 'PWD' and secret is not None)}" for key, value in parts
    )


def _name_for_certificate(target: Target, where: str) -> str | None:
    """The name the person's driver would check the certificate against, when sqlreach
    connects by address instead."""
    host = target.connect_host
    if not host or host == where:
        return None
    try:
        ipaddress.ip_address(host.split("%")[0])
        return None
    except ValueError:
        return host


def _quote(value: str, *, always: bool = False) -> str:
    if always or any(c in value for c in ";{}= ") or value != value.strip():
        return odbc_braced(value)
    return value


# pyodbc writes "[SQLSTATE] message (native) (SQLDriverConnect)", then each further record as
# "; [SQLSTATE] message (native)" (its errors.cpp).
_RECORD = re.compile(
    r"\[(?P<state>[0-9A-Z]{5})\]\s?(?P<message>.*?)\s\((?P<native>-?\d+)\)"
    r"(?:\s*\(SQL\w+\))?(?=; \[|\s*$)",
    re.DOTALL,
)


def parse_records(sqlstate: str, message: str) -> tuple[OdbcRecord, ...]:
    """pyodbc's error text back into its records; text that does not parse is kept whole."""
    records = tuple(
        OdbcRecord(m.group("state"), m.group("message").strip(), int(m.group("native")))
        for m in _RECORD.finditer(message)
    )
    return records or (OdbcRecord(sqlstate, message.strip()),)


@dataclass(frozen=True)
class _Attempt:
    connected: bool
    error: tuple[str, str, str] | None = None  # class, sqlstate, message
    info: ServerInfo | None = None
    query_detail: str | None = None


def _attempt(module: ModuleType, text: str, seconds: int) -> _Attempt:
    """Connect, run the diagnostic query, close: all of it inside the worker thread."""
    try:
        connection = module.connect(text, timeout=seconds, autocommit=True)
    except module.Error as error:
        return _Attempt(False, _error_parts(error))
    try:
        connection.timeout = seconds  # the query's own timeout
        cursor = connection.cursor()
        cursor.execute(serverinfo.QUERY)
        while cursor.description is None and cursor.nextset():
            pass
        if cursor.description is None:
            return _Attempt(True, query_detail="the diagnostic query returned no row")
        columns = [str(column[0]) for column in cursor.description]
        row = cursor.fetchone()
        if row is None:
            return _Attempt(True, query_detail="the diagnostic query returned no row")
        return _Attempt(True, info=ServerInfo.from_row(columns, list(row)))
    except module.Error as error:
        _, state, message = _error_parts(error)
        return _Attempt(True, query_detail=f"the diagnostic query failed: [{state}] {message}")
    finally:
        with contextlib.suppress(module.Error):
            connection.close()


def _error_parts(error: BaseException) -> tuple[str, str, str]:
    args: tuple[Any, ...] = error.args
    if len(args) >= 2:
        return type(error).__name__, str(args[0]), str(args[1])
    return type(error).__name__, "", str(error)


async def probe_odbc_login(
    address: str,
    port: int,
    *,
    target: Target,
    driver: str,
    timeout: float,
    server: str | None = None,
    loader: Loader = load_pyodbc,
) -> OdbcLoginResult:
    """Log in through pyodbc with `driver`, then run the diagnostic query; never raises."""
    clock = Stopwatch()
    seconds = login_timeout(timeout)
    secret = target.password
    text, shown = connection_string(driver, address, port, target, server=server)
    user = None if target.integrated_security else target.user

    def result(status: OdbcStatus, detail: str, **extra: Any) -> OdbcLoginResult:
        return OdbcLoginResult(
            driver,
            address,
            port,
            user,
            status,
            redact(detail, secret),
            shown,
            float(seconds),
            clock.elapsed_ms(),
            **extra,
        )

    limit = 2 * seconds + GRACE  # the login, then the query, each with its timeout: one deadline
    deadline = Stopwatch(limit)
    try:
        module = await asyncio.wait_for(in_daemon_thread(loader), timeout=seconds + GRACE)
    except ImportError as error:
        return result(OdbcStatus.NO_ODBC, _import_problem(error))
    except TimeoutError:
        return result(OdbcStatus.NO_ODBC, "loading pyodbc did not finish in time")
    try:
        attempt = await asyncio.wait_for(
            in_daemon_thread(lambda: _attempt(module, text, seconds)),
            timeout=max(deadline.remaining(), 0.001),
        )
    except TimeoutError:
        return result(
            OdbcStatus.HUNG,
            f"{driver} did not return within {limit:g} s although its login "
            f"timeout was {seconds} s: the driver hangs",
        )
    if attempt.error is not None:
        kind, state, message = attempt.error
        message = redact(message, secret)
        records = tuple(
            OdbcRecord(r.sqlstate, redact(r.message, secret), r.native)
            for r in parse_records(state, message)
        )
        return result(
            OdbcStatus.REFUSED,
            _refusal(records, message),
            records=records,
            error_class=kind,
        )
    info = attempt.info
    return result(
        OdbcStatus.OK,
        f"logged in through pyodbc with {driver}",
        server_info=info,
        query_detail=redact(attempt.query_detail, secret) if attempt.query_detail else None,
    )


def _refusal(records: tuple[OdbcRecord, ...], message: str) -> str:
    if not records:
        return message
    first = records[0]
    native = f" ({first.native})" if first.native is not None else ""
    return f"[{first.sqlstate}] {first.message}{native}"


# ------------------------------------------------------------------------------------------
# Windows authentication from here


@dataclass(frozen=True)
class KerberosState:
    """Can this machine use Windows authentication? On Windows, yes (the logged-on user); on
    Linux and macOS only with a Kerberos ticket in the credential cache."""

    possible: bool
    detail: str
    command: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {"possible": self.possible, "detail": self.detail, "command": self.command}


async def kerberos_state(
    *, timeout: float, platform: str = sys.platform, klist: str | None = None
) -> KerberosState:
    if platform.startswith("win"):
        return KerberosState(True, "Windows uses the signed-in user's own credentials (SSPI)")
    program = klist or shutil.which("klist")
    if program is None:
        return KerberosState(
            False,
            "Windows authentication from Linux or macOS needs a Kerberos ticket (kinit), and "
            "klist is not even installed here, so there is none",
        )
    # MIT klist -s and Heimdal klist --test: exit 0 only with an unexpired ticket
    args = [program, "--test"] if platform == "darwin" else [program, "-s"]
    command = " ".join(["klist", *args[1:]])
    try:
        process = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
    except OSError as error:
        return KerberosState(False, f"klist could not be run: {error.strerror}", command)
    try:
        code = await asyncio.wait_for(process.wait(), timeout=timeout)
    except TimeoutError:
        process.kill()
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=1.0)  # reap it: no zombie left
        return KerberosState(False, f"klist did not answer within {timeout:g} s", command)
    if code == 0:
        return KerberosState(True, "a Kerberos ticket is in the credential cache", command)
    return KerberosState(
        False,
        "no valid Kerberos ticket in the credential cache (klist finds none): Windows "
        "authentication from Linux or macOS needs one, from kinit or a keytab",
        command,
    )
