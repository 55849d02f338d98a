"""SQL Server's ERRORLOG: where the last start listens, whether it became ready, and why not.

The wording is SQL Server's own, checked against real logs (tests/fixtures/windows: Windows
files in UTF-16LE with BOM, Linux files in ASCII with CRLF or LF, and Microsoft's quoted
excerpts): `Server is listening on [ 'any' <ipv4> 1433].`, the 2022+ suffix `accept sockets 1.`,
the older doc spacing `['any'<ipv6> 1963]`, loopback-only lines for the dedicated admin
connection, `SQL Server is now ready for client connections`, errors 17182/26014/26023/17826,
18456 with its state and `[CLIENT: ...]`, and SPN registration failures. Only the last start
counts for "where does it listen": a log holds every start since it was cycled.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass
from typing import Final

from tui.probes.local.system import Decoded, Environment, decode_text

HEAD_BYTES: Final = 4 << 20  # the start of the log: every startup line is here
TAIL_BYTES: Final = 1 << 20  # the end: the latest login failures
MAX_LOGIN_FAILURES: Final = 50

_STAMP = re.compile(
    r"^(?P<stamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?|<Datetime>)\s+(?P<source>\S+)\s+"
    r"(?P<message>.*)$"
)
_BANNER = re.compile(r"^Microsoft SQL Server \d{4}\b")
_LISTENING = re.compile(
    r"Server is listening on \[\s*(?P<address>'any'|[0-9A-Fa-f:.%\w-]+?)\s*<(?P<family>ipv[46])>"
    r"\s*(?P<port>\d{1,5})\s*\](?:\s*accept sockets (?P<accept>\d+))?",
    re.IGNORECASE,
)
_PIPE = re.compile(r"provider is ready to accept connection on \[\s*(?P<pipe>\\\\[^\]]*?)\s*\]")
_DAC = re.compile(
    r"Dedicated admin connection support was established for listening (?P<where>locally|"
    r"remotely) on port (?P<port>\d{1,5})",
    re.IGNORECASE,
)
_DAC_OFF = re.compile(r"Dedicated administrator connection support was not started", re.I)
_READY = re.compile(r"SQL Server is now ready for client connections", re.IGNORECASE)
_TERMINATING = re.compile(r"SQL Server is terminating|SQL Server shutdown has been initiated", re.I)
_ERROR = re.compile(
    r"Error: (?P<number>\d{1,6}), Severity: (?P<severity>\d{1,3}), State: (?P<state>\d{1,5})"
)
_LOGIN_FAILED = re.compile(
    r"Login failed for user '(?P<user>.*?)'\.(?:\s*Reason:\s*(?P<reason>.*?))?\s*"
    r"(?:\[CLIENT:\s*(?P<client>[^\]]*?)\s*\])?\s*$"
)
_AUTH_MODE = re.compile(r"Authentication mode is (?P<mode>[A-Z-]+)")
_INSTANCE_ARG = re.compile(r'^\s*-s\s*"?(?P<name>[^"\s]+)"?\s*$')
_SPN = re.compile(
    r"could not register the Service Principal Name \(SPN\) \[\s*(?P<spn>[^\]]+?)\s*\]", re.I
)
_PORT_IN_USE = re.compile(
    r"failed to listen on \[\s*(?P<address>'any'|[^\s<]+)\s*<(?P<family>ipv[46])>\s*"
    r"(?P<port>\d{1,5})\s*\]",
    re.IGNORECASE,
)
_TDSSNI = re.compile(
    r"TDSSNIClient initialization failed with error (?P<error>0x[0-9a-fA-F]+), status code "
    r"(?P<status>0x[0-9a-fA-F]+)(?:\.\s*Reason:\s*(?P<reason>.*))?"
)

STARTUP_ERRORS: Final = frozenset({17182, 17826, 17120, 26014, 26023, 26024, 9692})

LOGIN_STATES: Final = {
    1: "no detail (the server hides the reason from the client)",
    2: "the login name does not exist",
    5: "the login name does not exist",
    6: "a Windows login name was used with SQL Server authentication",
    7: "the login is disabled (and the password was wrong)",
    8: "the password is wrong",
    9: "the password is not valid",
    11: "the login is valid but has no access to the server",
    12: "the login is valid but has no access to the server",
    13: "SQL Server is paused",
    18: "the password must be changed",
    38: "the database named in the connection cannot be opened (missing, or no access)",
    46: "the default database of the login cannot be opened",
    58: "SQL authentication was used but the server accepts Windows authentication only",
    102: "Microsoft Entra ID authentication failed",
    122: "the user name or password is empty",
    123: "the user name or password is empty",
    124: "the user name or password is empty",
    126: "the database does not exist",
}


@dataclass(frozen=True)
class Listener:
    """One `Server is listening on [...]` line of the last start."""

    address: str  # any, or an address such as 127.0.0.1 or ::1
    family: str  # ipv4 or ipv6
    port: int
    line: int
    dac: bool = False
    accept_sockets: int | None = None

    @property
    def any_address(self) -> bool:
        return self.address.lower() == "any"

    @property
    def loopback(self) -> bool:
        if self.any_address:
            return False
        try:
            return ipaddress.ip_address(self.address.split("%")[0]).is_loopback
        except ValueError:
            return False


@dataclass(frozen=True)
class LogError:
    number: int
    severity: int | None
    state: int | None
    message: str
    line: int
    stamp: str | None = None

    @property
    def meaning(self) -> str:
        return describe_error(self.number, self.message)


@dataclass(frozen=True)
class LoginFailure:
    user: str
    state: int | None
    reason: str | None
    client: str | None
    line: int
    stamp: str | None = None

    @property
    def meaning(self) -> str:
        if self.state is None:
            return "the log does not give the state"
        return LOGIN_STATES.get(self.state, f"state {self.state}")


@dataclass(frozen=True)
class ErrorLog:
    """What one ERRORLOG says about the last start (and the login failures after it)."""

    path: str | None
    encoding: str = "utf-8"
    startups: int = 0
    started_at: str | None = None
    version: str | None = None
    instance: str | None = None
    auth_mode: str | None = None
    listeners: tuple[Listener, ...] = ()
    pipes: tuple[str, ...] = ()
    dac_port: int | None = None
    dac_disabled: bool = False
    ready: bool = False
    stopped: bool = False  # the last start was followed by a shutdown
    errors: tuple[LogError, ...] = ()  # startup errors of the last start
    ports_in_use: tuple[int, ...] = ()  # 26023: "Tcp port is already in use"
    spn_failures: tuple[str, ...] = ()
    login_failures: tuple[LoginFailure, ...] = ()
    truncated: bool = False
    replaced: int = 0
    problems: tuple[str, ...] = ()

    @property
    def client_ports(self) -> tuple[int, ...]:
        """Ports SQL Server listens on for other machines: not the DAC, not loopback-only."""
        return tuple(
            dict.fromkeys(
                item.port for item in self.listeners if not item.dac and not item.loopback
            )
        )

    @property
    def local_only_ports(self) -> tuple[int, ...]:
        """Non-DAC ports bound to loopback only (reachable from this machine alone)."""
        remote = set(self.client_ports)
        return tuple(
            dict.fromkeys(
                item.port
                for item in self.listeners
                if not item.dac and item.loopback and item.port not in remote
            )
        )

    @property
    def tcp_listening(self) -> bool:
        return any(not item.dac for item in self.listeners)

    def evidence(self) -> dict[str, object]:
        return {
            "path": self.path,
            "encoding": self.encoding,
            "startups": self.startups,
            "started_at": self.started_at,
            "version": self.version,
            "instance": self.instance,
            "auth_mode": self.auth_mode,
            "listening": [
                {
                    "address": item.address,
                    "family": item.family,
                    "port": item.port,
                    "dac": item.dac,
                    "line": item.line,
                }
                for item in self.listeners
            ],
            "pipes": list(self.pipes),
            "dac_port": self.dac_port,
            "ready": self.ready,
            "stopped": self.stopped,
            "errors": [
                {
                    "number": error.number,
                    "state": error.state,
                    "message": error.message[:300],
                    "meaning": error.meaning,
                    "line": error.line,
                }
                for error in self.errors
            ],
            "ports_in_use": list(self.ports_in_use),
            "spn_failures": list(self.spn_failures),
            "login_failures": [
                {
                    "user": failure.user,
                    "state": failure.state,
                    "meaning": failure.meaning,
                    "client": failure.client,
                    "stamp": failure.stamp,
                }
                for failure in self.login_failures[-10:]
            ],
            "truncated": self.truncated,
            "problems": list(self.problems),
        }

    def summary(self) -> str:
        where = self.path or "the error log"
        if self.startups == 0 and not self.listeners and not self.errors:
            return f"{where} holds no SQL Server start"
        parts = []
        ports = self.client_ports
        if ports:
            parts.append(f"listens on TCP port {', '.join(str(p) for p in ports)}")
        elif self.local_only_ports:
            only = ", ".join(str(p) for p in self.local_only_ports)
            parts.append(f"listens on TCP port {only} on loopback only")
        elif self.ready or self.errors:
            parts.append("does not listen on TCP (named pipes or shared memory only)")
        else:
            parts.append("reported no listener (the log may end before that point)")
        if self.errors:
            parts.append("failed to start its network: " + self.errors[0].meaning)
        parts.append("was ready for connections" if self.ready else "never said it was ready")
        if self.stopped:
            parts.append("and was stopped afterwards")
        return f"{where}: at its last start ({self.started_at or 'time unknown'}) SQL Server " + (
            "; ".join(parts)
        )


def describe_error(number: int, message: str) -> str:
    """Plain words for the startup errors that stop connections."""
    lowered = message.lower()
    if number == 17182 or "tdssniclient initialization failed" in lowered:
        if "all protocols are disabled" in lowered:
            return "every network protocol (TCP/IP, Named Pipes, Shared Memory) is disabled"
        if "ssl" in lowered or "certificate" in lowered or "0x80092004" in lowered:
            return "the TLS certificate configured for SQL Server cannot be loaded"
        tdssni = _TDSSNI.search(message)
        code = f" ({tdssni.group('error')}, status {tdssni.group('status')})" if tdssni else ""
        return "the network library (TDSSNIClient) failed to start" + code
    if number == 26014:
        return "the TLS certificate configured for SQL Server cannot be loaded"
    if number in {26023, 26024} or "already in use" in lowered:
        match = _PORT_IN_USE.search(message)
        port = f" {match.group('port')}" if match else ""
        return f"the TCP port{port} is already in use by another program"
    if number == 17826:
        return "SQL Server could not start its network library and stopped"
    if number == 17120:
        return "SQL Server could not start its communication thread and stopped"
    if number == 9692:
        return "the Service Broker port is used by another program"
    if number == 18456:
        return "a login failed"
    return f"error {number}"


def parse_errorlog(text: str, path: str | None = None) -> ErrorLog:
    """Parse ERRORLOG text (already decoded). Never raises; odd lines are skipped."""
    startups = 0
    started_at: str | None = None
    version: str | None = None
    instance: str | None = None
    auth_mode: str | None = None
    listeners: list[Listener] = []
    pipes: list[str] = []
    dac_port: int | None = None
    dac_disabled = False
    ready = False
    stopped = False
    errors: list[LogError] = []
    ports_in_use: list[int] = []
    spns: list[str] = []
    failures: list[LoginFailure] = []
    pending: tuple[int, int | None, int | None, int, str | None] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line:
            continue
        match = _STAMP.match(line)
        stamp = match.group("stamp") if match else None
        message = match.group("message") if match else line.strip()
        if _BANNER.match(message):
            startups += 1
            started_at = stamp if stamp != "<Datetime>" else None
            version = message.strip()
            listeners, pipes, errors, ports_in_use = [], [], [], []
            dac_port, dac_disabled, ready, stopped = None, False, False, False
            pending = None
            continue
        if not match and instance is None:
            arg = _INSTANCE_ARG.match(line)
            if arg:
                instance = arg.group("name")
        header = _ERROR.search(message)
        if header:
            pending = (
                int(header.group("number")),
                _int(header.group("severity")),
                _int(header.group("state")),
                number,
                stamp,
            )
            continue
        if pending is not None:
            code, severity, state, at, when = pending
            pending = None
            if code == 18456 or "Login failed for user" in message:
                failure = _login_failure(message, state, number, stamp)
                if failure is not None:
                    failures.append(failure)
                    continue
            if code in STARTUP_ERRORS:
                errors.append(LogError(code, severity, state, message.strip(), at, when))
                in_use = _PORT_IN_USE.search(message)
                if in_use and code in {26023, 26024}:
                    ports_in_use.append(int(in_use.group("port")))
                continue
        if "Login failed for user" in message:
            failure = _login_failure(message, None, number, stamp)
            if failure is not None:
                failures.append(failure)
            continue
        listening = _LISTENING.search(message)
        if listening:
            port = int(listening.group("port"))
            if 0 < port <= 65535:
                listeners.append(
                    Listener(
                        address=listening.group("address").strip("'"),
                        family=listening.group("family").lower(),
                        port=port,
                        line=number,
                        accept_sockets=_int(listening.group("accept")),
                    )
                )
            continue
        pipe = _PIPE.search(message)
        if pipe:
            pipes.append(pipe.group("pipe"))
            continue
        dac = _DAC.search(message)
        if dac:
            dac_port = int(dac.group("port"))
            continue
        if _DAC_OFF.search(message):
            dac_disabled = True
            continue
        if _READY.search(message):
            ready = True
            continue
        if _TERMINATING.search(message):
            stopped = True
            continue
        mode = _AUTH_MODE.search(message)
        if mode:
            auth_mode = mode.group("mode")
            continue
        spn = _SPN.search(message)
        if spn:
            spns.append(spn.group("spn"))
    if dac_port is not None:
        listeners = [
            Listener(item.address, item.family, item.port, item.line, True, item.accept_sockets)
            if item.port == dac_port
            else item
            for item in listeners
        ]
    return ErrorLog(
        path=path,
        startups=startups,
        started_at=started_at,
        version=version,
        instance=instance,
        auth_mode=auth_mode,
        listeners=tuple(listeners),
        pipes=tuple(dict.fromkeys(pipes)),
        dac_port=dac_port,
        dac_disabled=dac_disabled,
        ready=ready,
        stopped=stopped,
        errors=tuple(errors),
        ports_in_use=tuple(dict.fromkeys(ports_in_use)),
        spn_failures=tuple(dict.fromkeys(spns)),
        login_failures=tuple(failures[-MAX_LOGIN_FAILURES:]),
    )


def _login_failure(
    message: str, state: int | None, line: int, stamp: str | None
) -> LoginFailure | None:
    match = _LOGIN_FAILED.search(message)
    if not match:
        return None
    reason = (match.group("reason") or "").strip() or None
    return LoginFailure(match.group("user"), state, reason, match.group("client"), line, stamp)


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def read_errorlog(environment: Environment, path: str) -> ErrorLog:
    """Read and parse one ERRORLOG: its head (every startup line) and, when the file is larger,
    its tail too (the latest login failures). Unreadable or hostile files give problems."""
    head = environment.files.read(path, HEAD_BYTES)
    if not head.found or head.data is None:
        return ErrorLog(path, problems=(f"{path} cannot be read: {head.error}",))
    decoded = decode_text(head.data)
    text = decoded.text
    replaced = decoded.replaced
    truncated = False
    if head.truncated and head.size is not None:
        offset = max(len(head.data), head.size - TAIL_BYTES)
        if decoded.encoding.startswith("utf-16") and offset % 2:
            offset += 1
        tail = environment.files.read(path, TAIL_BYTES, offset=offset)
        if tail.data:
            tail_text = _decode_like(tail.data, decoded)
            replaced += tail_text.replaced
            cut = tail_text.text.find("\n")
            text += "\n" + (tail_text.text[cut + 1 :] if cut >= 0 else "")
            truncated = offset > len(head.data)
    parsed = parse_errorlog(text, path)
    problems: list[str] = []
    if truncated:
        problems.append(
            f"{path} is {head.size:,} bytes: read its first {HEAD_BYTES >> 20} MB and last "
            f"{TAIL_BYTES >> 20} MB"
        )
    if replaced:
        problems.append(f"{path} holds {replaced} characters that are not text")
    if parsed.startups == 0 and not parsed.listeners:
        problems.append(f"{path} does not look like a SQL Server error log")
    return dataclasses.replace(
        parsed,
        encoding=decoded.encoding,
        truncated=truncated,
        replaced=replaced,
        problems=tuple(problems),
    )


def _decode_like(data: bytes, head: Decoded) -> Decoded:
    if head.encoding.startswith("utf-16"):
        text = data.decode(head.encoding, errors="replace").replace("\x00", "")
        return Decoded(text, head.encoding, text.count("\ufffd"))
    return decode_text(data)
