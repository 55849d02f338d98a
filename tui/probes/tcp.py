"""TCP reachability, told apart live: refused, filtered, unreachable, reset, connected.

Drivers blur these together (see wire-protocols.md, "What drivers report for network failures");
a plain socket connect tells them apart at once. Every address a name resolves to is tried at
the same time, because a client may try any of them (MultiSubnetFailover tries all in parallel).
After a connection opens, the probe watches it for `settle` seconds: SQL Server never speaks
first, so a reset or a close in that window means a filter, proxy or load balancer accepted on
its behalf and had nothing behind it, and bytes mean some other service owns the port.

Filtered is called early, and never falsely. A port silent for a quarter of a second sets the
probe knocking on other ports of the same host (445, 135, 22, 80, 443, 3389: a reset or a
SYN-ACK from any of them, or the Browser's answer on UDP 1434, which the step passes in): their
round trip says how long this host takes to answer anything. A second SYN to the port, from a
socket of its own, stands against a single lost packet. Once the kernel has resent the first SYN
(its initial retransmission timeout: 1 s on Linux, read from the socket there) and several of
the host's round trips have passed since with neither SYN answered, the port is called filtered
with that evidence. When nothing else on the host answers, the timeout is waited out. With a
timeout that ends before the resend could be answered (1.1 s or less on Linux), no evidence
could shorten the wait, and none is sought.

Windows retries a SYN that met a reset for about 2 s before it reports "refused" (Microsoft KB
175523; nmap measured 2.0 s), and resends an unanswered SYN after 3 s (TcpInitialRtt): there a
connect is given at least 3 s, and nothing is called filtered before the 3 s resend, so a
refusal is always told by its error code, never taken for a filter by its duration. (Modelled
from those documents and tested with simulated sockets; it never ran on Windows.)
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from tui.platforms import Platform, of
from tui.probes.base import Evidence, JsonValue, Stopwatch
from tui.probes.errors import TIMED_OUT, WinsockCode, describe_os_error

DEFAULT_SETTLE: Final = 0.05
FIRST_BYTES_MAX: Final = 64

HESITATION: Final = 0.25  # s of silence from the port before the probe looks for other answers
ROUND_TRIPS: Final = 4  # host round trips a resent SYN is given before the port is called filtered
LEAST_MARGIN: Final = 0.1  # s after the resend at the least (jitter, a filter nearer than the host)
WITNESS_PORTS: Final = (445, 135, 22, 80, 443, 3389)  # SMB, RPC, SSH, HTTP, HTTPS, RDP
POLL: Final = 0.05  # s between looks at the kernel's resend count when it is late


@dataclass(frozen=True)
class Stack:
    """What this machine's TCP does with an unanswered SYN, and with a reset to one."""

    name: str
    first_resend: float  # s after a SYN until it is resent unanswered (the initial RTO)
    least_wait: float  # s a connect is given at the least: a refusal may take this long to report


STACKS: Final = {
    Platform.LINUX: Stack("Linux", 1.0, 0.0),  # TCP_TIMEOUT_INIT (RFC 6298); read from TCP_INFO
    Platform.MACOS: Stack("macOS", 1.0, 0.0),  # RFC 6298's 1 s (modelled; never ran on macOS)
    # TcpInitialRtt 3 s; a reset is retried for about 2 s (KB 175523): modelled, never ran there
    Platform.WINDOWS: Stack("Windows", 3.0, 3.0),
}

Connector = Callable[[socket.socket, tuple[object, ...]], Awaitable[None]]


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
class HostAnswer:
    """Something else on the same host answered: the host is up, and this is its round trip."""

    address: str
    what: str  # "TCP port 445", "UDP port 1434"
    how: str  # "a reset", "accepted", "ICMP port unreachable", "the Browser answered"
    rtt_ms: float

    def evidence(self) -> Evidence:
        return {
            "address": self.address,
            "what": self.what,
            "how": self.how,
            "rtt_ms": round(self.rtt_ms, 3),
        }


@dataclass(frozen=True)
class Silence:
    """The evidence for calling a port filtered before the timeout."""

    host: HostAnswer  # what answered on the same host, and how fast
    syns: int  # SYNs sent to the port and never answered (the kernel's resends included)
    waited_ms: float

    def words(self) -> str:
        """'ignored 3 SYNs over 1.1 s while the host answered on TCP port 445 in 0.4 ms (a
        reset)'"""
        return (
            f"ignored {self.syns} SYNs over {self.waited_ms / 1000:.1f} s while the host "
            f"answered on {self.host.what} in {self.host.rtt_ms:.1f} ms ({self.host.how})"
        )

    def evidence(self) -> Evidence:
        return {
            "host_answered": self.host.evidence(),
            "syns_unanswered": self.syns,
            "waited_ms": round(self.waited_ms, 3),
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
    silence: Silence | None = None  # why a silent port was called filtered before the timeout

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
            "silence": None if self.silence is None else self.silence.evidence(),
        }

    def summary(self, timeout: float | None = None) -> str:
        if self.silence is not None:
            line = f"{self.endpoint} {self.silence.words()}: a firewall drops packets to that port"
            return line if self.error is None else f"{line} ({self.error.label()})"
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

    def silence(self) -> str:
        """How the port stayed silent, in words for the verdict ('did not answer within 3 s')."""
        called = next((a.silence for a in self.attempts if a.silence is not None), None)
        return called.words() if called is not None else f"did not answer within {self.timeout:g} s"

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
    witness: Callable[[str], Awaitable[HostAnswer | None]] | None = None,
    adaptive: bool = True,
    platform: str = sys.platform,
    connect: Connector | None = None,
) -> TcpResult:
    """Connect to every address at once; never longer than `timeout` (plus scheduling).

    `witness` is another answer from a host (the step passes the Browser's), `adaptive` False
    waits every silence out, `platform` and `connect` stand in for another machine in tests.
    """
    stack = STACKS[of(platform)]
    budget = max(timeout, stack.least_wait)
    plan = _Plan(stack, witness, adaptive, connect or _sock_connect, measured=connect is None)
    clock = Stopwatch(budget)
    attempts = await asyncio.gather(*(_attempt(a, port, clock, settle, plan) for a in addresses))
    status = min((a.status for a in attempts), key=_RANK.index, default=TcpStatus.ERROR)
    return TcpResult(port, status, tuple(attempts), budget, clock.elapsed_ms())


@dataclass(frozen=True)
class _Plan:
    stack: Stack
    witness: Callable[[str], Awaitable[HostAnswer | None]] | None
    adaptive: bool
    connect: Connector
    measured: bool  # a real socket connect: the kernel's resend count can be read (Linux)


async def _sock_connect(sock: socket.socket, sockaddr: tuple[object, ...]) -> None:
    await asyncio.get_running_loop().sock_connect(sock, sockaddr)


class _Syn:
    """One connection attempt in flight, on a socket of its own."""

    def __init__(
        self, family: socket.AddressFamily, sockaddr: tuple[object, ...], plan: _Plan
    ) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.lap = Stopwatch()
        self.plan = plan
        self.resend_after = _initial_rto(self.sock) if plan.measured else None
        if self.resend_after is None:
            self.resend_after = plan.stack.first_resend
        self.task: asyncio.Task[None] = asyncio.ensure_future(plan.connect(self.sock, sockaddr))
        self.connect_ms: float | None = None

    def resends(self) -> int:
        """How often the kernel has resent the SYN: read on Linux, else from the stack's timing."""
        counted = _kernel_resends(self.sock) if self.plan.measured else None
        if counted is not None:
            return counted
        return 1 if self.lap.elapsed() >= self.plan.stack.first_resend else 0

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)  # the loop lets go of the socket
        self.sock.close()


async def _attempt(
    address: str, port: int, clock: Stopwatch, settle: float, plan: _Plan
) -> TcpAttempt:
    lap = clock.lap()
    try:
        family, sockaddr = _sockaddr(address, port)
    except (ValueError, OSError) as error:
        code = WinsockCode(None, "not an IP address", str(error))
        return TcpAttempt(address, port, TcpStatus.ERROR, code, elapsed_ms=lap.elapsed_ms())
    syns: list[_Syn] = []
    knocking: asyncio.Task[HostAnswer | None] | None = None
    try:
        try:
            syns.append(_Syn(family, sockaddr, plan))
        except OSError as error:
            return _failed(address, port, error, None, lap)
        answered, silence = None, None
        while answered is None and silence is None and lap.remaining() > 0:
            waiting: list[asyncio.Future[Any]] = [s.task for s in syns if not s.task.done()]
            if knocking is not None and not knocking.done():
                waiting.append(knocking)
            wake = min(lap.remaining(), _next_look(syns, knocking, plan, lap))
            if waiting:
                await asyncio.wait(waiting, timeout=wake, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(wake)
            answered = _answered(syns)
            if answered is not None or not plan.adaptive:
                continue
            if knocking is None and lap.elapsed() >= HESITATION and _may_call_early(syns, lap):
                knocking = asyncio.ensure_future(_host_answer(address, port, lap, plan))
                with contextlib.suppress(OSError):  # no descriptor left: no second SYN
                    syns.append(_Syn(family, sockaddr, plan))  # against one lost packet
            silence = _silence(syns, knocking, lap)
        if answered is None:
            return TcpAttempt(
                address,
                port,
                TcpStatus.TIMEOUT,
                TIMED_OUT,
                "ETIMEDOUT",
                elapsed_ms=lap.elapsed_ms(),
                silence=silence,
            )
        failure = answered.task.exception()
        if failure is not None:
            return _failed(address, port, failure, None, lap)
        local = str(answered.sock.getsockname()[0])
        status, first = await _watch(
            asyncio.get_running_loop(), answered.sock, min(settle, lap.remaining())
        )
        return TcpAttempt(
            address,
            port,
            status,
            _closed_code(status),
            "ECONNRESET" if status is TcpStatus.RESET else None,
            connect_ms=answered.connect_ms,
            elapsed_ms=lap.elapsed_ms(),
            local_address=local,
            first_bytes=first,
        )
    finally:
        if knocking is not None:
            knocking.cancel()
            await asyncio.gather(knocking, return_exceptions=True)
        for syn in syns:
            await syn.stop()


def _answered(syns: list[_Syn]) -> _Syn | None:
    """The SYN that got an answer that settles the port (a later one's local failure does not)."""
    for index, syn in enumerate(syns):
        if not syn.task.done() or syn.task.cancelled():
            continue
        if syn.connect_ms is None:
            syn.connect_ms = syn.lap.elapsed_ms()
        error = syn.task.exception()
        if error is None or index == 0:
            return syn
        if _BY_WINSOCK.get(describe_os_error(error).number or 0, TcpStatus.ERROR) is not (
            TcpStatus.ERROR
        ):
            return syn
    return None


def _may_call_early(syns: list[_Syn], lap: Stopwatch) -> bool:
    """Can evidence still shorten the wait? Not when the timeout ends before the resend."""
    first = syns[0]
    assert first.resend_after is not None
    earliest = first.resend_after + LEAST_MARGIN - first.lap.elapsed()
    return earliest < lap.remaining()


def _call_at(syns: list[_Syn], host: HostAnswer) -> float:
    """Seconds into the first SYN's wait when silence proves a filter: the kernel resent it, and
    every SYN has had several of the host's round trips since it (or its resend) left."""
    margin = max(ROUND_TRIPS * host.rtt_ms / 1000, LEAST_MARGIN)
    first = syns[0]
    assert first.resend_after is not None
    started = first.lap.elapsed()
    return max(
        first.resend_after + margin,
        *(started - syn.lap.elapsed() + margin for syn in syns[1:]),
    )


def _silence(
    syns: list[_Syn], knocking: asyncio.Task[HostAnswer | None] | None, lap: Stopwatch
) -> Silence | None:
    if knocking is None or not knocking.done() or knocking.cancelled():
        return None
    host = knocking.result()
    if host is None or syns[0].lap.elapsed() < _call_at(syns, host):
        return None
    if syns[0].resends() < 1:  # the kernel is late with its resend: look again shortly
        return None
    unanswered = sum(1 + syn.resends() for syn in syns)
    return Silence(host, unanswered, lap.elapsed_ms())


def _next_look(
    syns: list[_Syn],
    knocking: asyncio.Task[HostAnswer | None] | None,
    plan: _Plan,
    lap: Stopwatch,
) -> float:
    """Seconds until the probe must look again even if nothing answers."""
    if not plan.adaptive:
        return lap.remaining()
    if knocking is None:
        if not _may_call_early(syns, lap):
            return lap.remaining()
        return max(0.0, HESITATION - lap.elapsed())
    host = None if not knocking.done() or knocking.cancelled() else knocking.result()
    if host is None:
        return lap.remaining()
    left = _call_at(syns, host) - syns[0].lap.elapsed()
    return left if left > 0 else POLL  # due, but the kernel's resend is late: look again soon


async def _host_answer(address: str, port: int, lap: Stopwatch, plan: _Plan) -> HostAnswer | None:
    """The first answer from another port of the host (a reset, a SYN-ACK, the Browser), or
    None when nothing else answers before the time is up."""
    knocks: list[Awaitable[HostAnswer | None]] = [
        _knock(address, other, plan) for other in WITNESS_PORTS if other != port
    ]
    if plan.witness is not None:
        knocks.append(plan.witness(address))
    tasks = [asyncio.ensure_future(knock) for knock in knocks]
    try:
        for finished in asyncio.as_completed(tasks, timeout=lap.remaining()):
            try:
                answer = await finished
            except Exception:  # a witness that failed is no answer; the port's own SYN decides
                continue
            if answer is not None:
                return answer
    except TimeoutError:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return None


async def _knock(address: str, port: int, plan: _Plan) -> HostAnswer | None:
    """Connect to another port: a reset or a SYN-ACK is the host answering (then hang up)."""
    lap = Stopwatch()
    try:
        family, sockaddr = _sockaddr(address, port)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setblocking(False)
            await plan.connect(sock, sockaddr)
    except OSError as error:
        if describe_os_error(error).number == 10061:
            return HostAnswer(address, f"TCP port {port}", "a reset", lap.elapsed() * 1000)
        return None  # unreachable, a local failure, or silence: not an answer from the host
    return HostAnswer(address, f"TCP port {port}", "accepted", lap.elapsed() * 1000)


def _failed(
    address: str, port: int, error: BaseException, connect_ms: float | None, lap: Stopwatch
) -> TcpAttempt:
    code = describe_os_error(error)
    # A reset here came after the handshake (a reset to the SYN is ECONNREFUSED): the peer
    # accepted and reset before the event loop saw the connection complete.
    status = _BY_WINSOCK.get(code.number or 0, TcpStatus.ERROR)
    number = getattr(error, "errno", None)
    return TcpAttempt(
        address,
        port,
        status,
        code,
        errno.errorcode.get(number if isinstance(number, int) else 0),
        connect_ms=connect_ms,
        elapsed_ms=lap.elapsed_ms(),
    )


def _initial_rto(sock: socket.socket) -> float | None:
    """The kernel's retransmission timeout for this socket's first SYN (Linux TCP_INFO)."""
    info = _tcp_info(sock)
    if info is None or len(info) < 12:
        return None
    rto_us = int.from_bytes(info[8:12], sys.byteorder)
    return rto_us / 1_000_000 if rto_us > 0 else None


def _kernel_resends(sock: socket.socket) -> int | None:
    """`tcpi_retransmits`: how often the kernel resent the unanswered SYN so far (Linux)."""
    info = _tcp_info(sock)
    return None if info is None or len(info) < 3 else info[2]


def _tcp_info(sock: socket.socket) -> bytes | None:
    option = getattr(socket, "TCP_INFO", None)
    if option is None or not sys.platform.startswith("linux"):
        return None
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, option, 16)
    except OSError:
        return None


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
    family, _, _, _, sockaddr = socket.getaddrinfo(  # bytes: a str loads the IDNA codec
        text.encode("ascii"), port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
    )[0]
    return family, tuple(sockaddr)
