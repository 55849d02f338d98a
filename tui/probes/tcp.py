"""TCP reachability, told apart live: refused, filtered, unreachable, reset, connected.

Drivers blur these together (see wire-protocols.md, "What drivers report for network failures");
a plain socket connect tells them apart at once. Every address a name resolves to is tried at
the same time, because a client may try any of them (MultiSubnetFailover tries all in parallel).
After a connection opens, the probe watches it for `settle` seconds: SQL Server never speaks
first, so a reset or a close in that window means a filter, proxy or load balancer accepted on
its behalf and had nothing behind it, and bytes mean some other service owns the port.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from tui.probes.base import Evidence, JsonValue, Stopwatch
from tui.probes.errors import TIMED_OUT, WinsockCode, describe_os_error

DEFAULT_SETTLE: Final = 0.05
FIRST_BYTES_MAX: Final = 64


class TcpStatus(StrEnum):
    CONNECTED = "CONNECTED"
    RESET = "RESET"  # accepted, then reset at once
    CLOSED = "CLOSED"  # accepted, then closed at once
    REFUSED = "REFUSED"  # 10061: a reset to the SYN, nothing listens
    HOST_UNREACHABLE = "HOST_UNREACHABLE"  # 10065: ICMP unreachable or prohibited, no ARP
    TIMEOUT = "TIMEOUT"  # 10060: no answer at all, filtered
    NET_UNREACHABLE = "NET_UNREACHABLE"  # 10051: no route from this machine
    ERROR = "ERROR"


# The overall answer: the outcome that proves the most about the path wins.
_RANK: Final = tuple(TcpStatus)

_BY_WINSOCK: Final = {
    10061: TcpStatus.REFUSED,
    10060: TcpStatus.TIMEOUT,
    10065: TcpStatus.HOST_UNREACHABLE,
    10064: TcpStatus.HOST_UNREACHABLE,
    10013: TcpStatus.HOST_UNREACHABLE,  # Linux, ICMPv6 "administratively prohibited": EACCES
    10051: TcpStatus.NET_UNREACHABLE,
    10050: TcpStatus.NET_UNREACHABLE,
    10054: TcpStatus.RESET,
}

_PHRASES: Final = {
    TcpStatus.CONNECTED: "accepted the connection",
    TcpStatus.RESET: "accepted the connection, then reset it at once (a filter, proxy or load "
    "balancer with nothing behind it?)",
    TcpStatus.CLOSED: "accepted the connection, then closed it at once without a word (a proxy "
    "or load balancer with nothing behind it?)",
    TcpStatus.REFUSED: "refused the connection: nothing listens there (service stopped, TCP "
    "disabled, or another port)",
    TcpStatus.HOST_UNREACHABLE: "cannot be reached: a router or firewall answered 'host "
    "unreachable'",
    TcpStatus.TIMEOUT: "did not answer{within}: a firewall dropping packets, or the wrong address",
    TcpStatus.NET_UNREACHABLE: "cannot be reached: this machine has no route to that network",
    TcpStatus.ERROR: "could not be tried",
}


@dataclass(frozen=True)
class TcpAttempt:
    """One connect to one address."""

    address: str
    port: int
    status: TcpStatus
    error: WinsockCode | None = None
    os_error: str | None = None  # the local name: ECONNREFUSED, EHOSTUNREACH...
    connect_ms: float | None = None
    elapsed_ms: float = 0.0
    local_address: str | None = None
    first_bytes: bytes = b""  # what the server said before being asked (SQL Server says nothing)

    @property
    def endpoint(self) -> str:
        return (
            f"[{self.address}]:{self.port}"
            if ":" in self.address
            else f"{self.address}:{self.port}"
        )

    def evidence(self) -> Evidence:
        return {
            "address": self.address,
            "port": self.port,
            "status": self.status.value,
            "winsock": None if self.error is None else self.error.number,
            "winsock_name": None if self.error is None else self.error.name,
            "winsock_hex": None if self.error is None else self.error.hex,
            "meaning": None if self.error is None else self.error.meaning,
            "os_error": self.os_error,
            "connect_ms": self.connect_ms,
            "elapsed_ms": self.elapsed_ms,
            "local_address": self.local_address,
            "first_bytes_hex": self.first_bytes.hex(),
        }

    def summary(self, timeout: float | None = None) -> str:
        within = "" if timeout is None else f" within {timeout:g} s"
        line = f"{self.endpoint} {_PHRASES[self.status].format(within=within)}"
        if self.status is TcpStatus.CONNECTED and self.connect_ms is not None:
            line += f" in {self.connect_ms:.1f} ms"
            if self.first_bytes:
                line += f", and spoke first ({len(self.first_bytes)} bytes): not SQL Server?"
        if self.error is not None:
            line += f" ({self.error.label()})"
        return line


@dataclass(frozen=True)
class TcpResult:
    port: int
    status: TcpStatus
    attempts: tuple[TcpAttempt, ...]
    timeout: float
    elapsed_ms: float

    @property
    def connected(self) -> tuple[str, ...]:
        return tuple(a.address for a in self.attempts if a.status is TcpStatus.CONNECTED)

    def evidence(self) -> Evidence:
        attempts: list[JsonValue] = [attempt.evidence() for attempt in self.attempts]
        return {
            "port": self.port,
            "status": self.status.value,
            "attempts": attempts,
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        if not self.attempts:
            return f"no address to try on port {self.port}"
        best = next(a for a in self.attempts if a.status is self.status)
        line = best.summary(self.timeout)
        others = [a for a in self.attempts if a is not best]
        if others:
            words = ", ".join(f"{a.address} {a.status.value.lower()}" for a in others)
            line += f"; also tried {words}"
        return line


async def probe_tcp(
    addresses: Sequence[str],
    port: int,
    *,
    timeout: float,
    settle: float = DEFAULT_SETTLE,
) -> TcpResult:
    """Connect to every address at once; never longer than `timeout` (plus scheduling)."""
    clock = Stopwatch(timeout)
    attempts = await asyncio.gather(*(_attempt(a, port, clock, settle) for a in addresses))
    status = min((a.status for a in attempts), key=_RANK.index, default=TcpStatus.ERROR)
    return TcpResult(port, status, tuple(attempts), timeout, clock.elapsed_ms())


async def _attempt(address: str, port: int, clock: Stopwatch, settle: float) -> TcpAttempt:
    lap = clock.lap()
    try:
        family, sockaddr = _sockaddr(address, port)
    except (ValueError, OSError) as error:
        code = WinsockCode(None, "not an IP address", str(error))
        return TcpAttempt(address, port, TcpStatus.ERROR, code, elapsed_ms=lap.elapsed_ms())
    loop = asyncio.get_running_loop()
    connect_ms: float | None = None
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setblocking(False)
            async with asyncio.timeout(lap.remaining()):
                await loop.sock_connect(sock, sockaddr)
            connect_ms = lap.elapsed_ms()
            local = str(sock.getsockname()[0])
            status, first = await _watch(loop, sock, min(settle, lap.remaining()))
            return TcpAttempt(
                address,
                port,
                status,
                _closed_code(status),
                "ECONNRESET" if status is TcpStatus.RESET else None,
                connect_ms=connect_ms,
                elapsed_ms=lap.elapsed_ms(),
                local_address=local,
                first_bytes=first,
            )
    except TimeoutError:
        return TcpAttempt(
            address, port, TcpStatus.TIMEOUT, TIMED_OUT, "ETIMEDOUT", elapsed_ms=lap.elapsed_ms()
        )
    except OSError as error:
        code = describe_os_error(error)
        # A reset here came after the handshake (a reset to the SYN is ECONNREFUSED): the peer
        # accepted and reset before the event loop saw the connection complete.
        status = _BY_WINSOCK.get(code.number or 0, TcpStatus.ERROR)
        return TcpAttempt(
            address,
            port,
            status,
            code,
            errno.errorcode.get(error.errno or 0),
            connect_ms=connect_ms,
            elapsed_ms=lap.elapsed_ms(),
        )


async def _watch(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, window: float
) -> tuple[TcpStatus, bytes]:
    """Does the peer reset, close or talk within `window` seconds of accepting?"""
    if window <= 0:
        return TcpStatus.CONNECTED, b""
    try:
        async with asyncio.timeout(window):
            data = await loop.sock_recv(sock, FIRST_BYTES_MAX)
    except TimeoutError:
        return TcpStatus.CONNECTED, b""
    except (ConnectionResetError, ConnectionAbortedError):
        return TcpStatus.RESET, b""
    if not data:
        return TcpStatus.CLOSED, b""
    return TcpStatus.CONNECTED, data


def _closed_code(status: TcpStatus) -> WinsockCode | None:
    if status is TcpStatus.RESET:
        return describe_os_error(ConnectionResetError(errno.ECONNRESET, "reset"))
    return None


def _sockaddr(address: str, port: int) -> tuple[socket.AddressFamily, tuple[object, ...]]:
    """The socket address for an IP literal; never a DNS question (that is the DNS probe's job)."""
    text = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    ipaddress.ip_address(text)  # raises ValueError for names
    family, _, _, _, sockaddr = socket.getaddrinfo(
        text, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
    )[0]
    return family, tuple(sockaddr)
