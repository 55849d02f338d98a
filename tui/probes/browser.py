"""The SQL Server Browser (SSRP on UDP 1434): answered, silent, or refused.

Silent and refused mean different things: silence is a Browser that is stopped behind a
firewall, or UDP 1434 dropped on the way (or, for one instance, a name the Browser does not know:
the specification says it must ignore it); refused is an ICMP 'port unreachable', which says the
host is up and simply runs no Browser.

How the ICMP 'port unreachable' reaches the probe differs by platform and event loop, and the
probe reads every form as REFUSED. It keeps a *connected* UDP socket, because that is the only
kind on which every form below is seen:
- Linux and macOS: `error_received(ConnectionRefusedError)` (ECONNREFUSED).
- Windows, WSAECONNRESET (10054) raised by WSARecv itself: `error_received(ConnectionResetError)`
  (python/cpython#127057).
- Windows' Proactor loop before the fix of python/cpython#91227 (PR #32011, merged March 2024):
  `error_received(OSError)` whose `winerror` is 1234, ERROR_PORT_UNREACHABLE ("No service is
  operating at the destination network endpoint on the remote system", as caproto/caproto#745
  shows); Python maps that code to errno EINVAL.
- Windows' Proactor loop after that fix: `IocpProactor.finish_socket_func` answers
  ERROR_PORT_UNREACHABLE with the pair `(b'', None)`; a connected transport hands that pair to
  `datagram_received` as its data, while an unconnected one drops it (`if data:` in
  `_ProactorDatagramTransport._loop_reading`), so on an unconnected socket the refusal would
  look like silence.
None of this ever ran on Windows here: tests/test_hostile_probes.py feeds each form to the probe
through a fake transport (simulated, from the CPython sources and issues named above).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from tui.probes.base import Evidence, JsonValue, Stopwatch
from tui.probes.errors import describe_os_error
from tui.wire import ssrp
from tui.wire.errors import WireError

BROWSER_PORT: Final = 1434
ERROR_PORT_UNREACHABLE: Final = 1234  # winerror of an ICMP port unreachable on Windows
MAX_DATAGRAM: Final = 65_535 + 3
RAW_EVIDENCE_BYTES: Final = 2048
# UDP may lose a request or its answer: FreeTDS asks up to 16 times, a second apart
# (src/tds/net.c tds7_get_instance_port). The probe asks every second too, and at least
# MIN_TRIES times within its timeout, so a short timeout never rests on one datagram.
RESEND_EVERY: Final = 1.0
MIN_TRIES: Final = 3


class BrowserStatus(StrEnum):
    ANSWERED = "ANSWERED"
    SILENT = "SILENT"
    REFUSED = "REFUSED"  # ICMP port unreachable: the host is up, no Browser runs
    MALFORMED = "MALFORMED"  # something answered on UDP 1434, but not in SSRP
    ERROR = "ERROR"  # the request could not be sent (no route, bad address)


@dataclass(frozen=True)
class BrowserResult:
    address: str
    port: int
    request: str  # inst, ex, dac
    instance: str | None
    status: BrowserStatus
    instances: tuple[ssrp.Instance, ...]
    dac_port: int | None
    raw: bytes
    detail: str
    timeout: float
    elapsed_ms: float

    def find(self, name: str) -> ssrp.Instance | None:
        """The instance of that name (SQL Server compares instance names case-insensitively)."""
        wanted = name.casefold()
        return next((i for i in self.instances if i.instance.casefold() == wanted), None)

    def evidence(self) -> Evidence:
        instances: list[JsonValue] = [instance.to_json() for instance in self.instances]
        return {
            "address": self.address,
            "port": self.port,
            "request": self.request,
            "instance": self.instance,
            "status": self.status.value,
            "instances": instances,
            "dac_port": self.dac_port,
            "raw_hex": self.raw[:RAW_EVIDENCE_BYTES].hex(),
            "raw_bytes": len(self.raw),
            "detail": self.detail,
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        where = f"the Browser on {self.address} (UDP {self.port})"
        if self.status is BrowserStatus.ANSWERED:
            if self.request == "dac":
                return f"{where} gives the dedicated admin connection port {self.dac_port}"
            listed = ", ".join(_describe(i) for i in self.instances) or "no instances"
            return f"{where} answered: {listed}"
        if self.status is BrowserStatus.SILENT:
            asked = f"instance {self.instance}" if self.request == "inst" else "its instances"
            return f"{where} did not answer within {self.timeout:g} s when asked for {asked}"
        if self.status is BrowserStatus.REFUSED:
            return f"{where}: port unreachable: the host is up but no Browser runs there"
        if self.status is BrowserStatus.MALFORMED:
            return f"{where} answered with bytes that are not SSRP: {self.detail}"
        return f"{where} could not be asked: {self.detail}"


def _describe(instance: ssrp.Instance) -> str:
    tcp = f"TCP {instance.tcp_port}" if instance.tcp_port is not None else "no TCP"
    return f"{instance.instance} ({tcp}, version {instance.version})"


class PortUnreachable(ConnectionRefusedError):
    """ICMP 'port unreachable' as Windows reports it (see the module's notes)."""


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes | tuple[object, ...], addr: tuple[object, ...]) -> None:
        if self.answer.done():
            return
        if not isinstance(data, bytes | bytearray):  # (b'', None): Proactor's port unreachable
            self.answer.set_exception(
                PortUnreachable("ERROR_PORT_UNREACHABLE (1234), as Windows' Proactor loop says it")
            )
            return
        self.answer.set_result(bytes(data))

    def error_received(self, exc: Exception) -> None:
        if self.answer.done():
            return
        if getattr(exc, "winerror", None) == ERROR_PORT_UNREACHABLE:
            exc = PortUnreachable(f"ERROR_PORT_UNREACHABLE (1234): {exc}")
        elif isinstance(exc, ConnectionResetError):  # WSAECONNRESET: nothing to reset on UDP
            exc = PortUnreachable(f"{describe_os_error(exc).label()}, on UDP: port unreachable")
        self.answer.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.answer.done():
            self.answer.cancel()  # closed by us: nobody waits for an answer any more

    def settle(self) -> None:
        """Mark an error nobody awaited as seen (asyncio would warn about it otherwise)."""
        if self.answer.done() and not self.answer.cancelled():
            self.answer.exception()


def build_request(request: str, instance: str | None) -> bytes:
    if request == "ex":
        return ssrp.build_ucast_ex()
    if request == "inst":
        return ssrp.build_ucast_inst(instance or "MSSQLSERVER")
    if request == "dac":
        return ssrp.build_ucast_dac(instance or "MSSQLSERVER")
    raise ValueError(f"unknown Browser request '{request}'")


async def probe_browser(
    address: str,
    *,
    request: str = "ex",
    instance: str | None = None,
    timeout: float,
    port: int = BROWSER_PORT,
) -> BrowserResult:
    """Ask the Browser (re-sent every second as FreeTDS does, and at least MIN_TRIES times
    within the timeout, in case UDP lost a request or an answer)."""
    clock = Stopwatch(timeout)
    payload = build_request(request, instance)

    def result(
        status: BrowserStatus,
        detail: str = "",
        raw: bytes = b"",
        instances: tuple[ssrp.Instance, ...] = (),
        dac: int | None = None,
    ) -> BrowserResult:
        return BrowserResult(
            address,
            port,
            request,
            instance,
            status,
            instances,
            dac,
            raw,
            detail,
            timeout,
            clock.elapsed_ms(),
        )

    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        transport, protocol = await asyncio.wait_for(
            loop.create_datagram_endpoint(_Collector, remote_addr=(address, port), family=family),
            timeout=max(clock.remaining(), 0.001),
        )
    except (OSError, TimeoutError) as error:
        return result(BrowserStatus.ERROR, _error_text(error))
    try:
        data = await _ask(transport, protocol, payload, clock)
    except TimeoutError:
        return result(BrowserStatus.SILENT)
    except ConnectionRefusedError as error:  # every form of ICMP port unreachable
        return result(BrowserStatus.REFUSED, _error_text(error))
    except OSError as error:
        return result(BrowserStatus.ERROR, _error_text(error))
    finally:
        transport.close()
        protocol.settle()
    try:
        if request == "dac":
            return result(BrowserStatus.ANSWERED, raw=data, dac=ssrp.parse_dac_response(data))
        response = ssrp.parse_response(data)
    except WireError as error:
        return result(BrowserStatus.MALFORMED, str(error), raw=data)
    return result(
        BrowserStatus.ANSWERED, response.note or "", raw=data, instances=response.instances
    )


async def _ask(
    transport: asyncio.DatagramTransport,
    protocol: _Collector,
    payload: bytes,
    clock: Stopwatch,
) -> bytes:
    """Send, wait, re-send until an answer or the deadline; an answer that has arrived by the
    time the deadline is seen counts (a busy event loop may see both in the same turn)."""
    every = min(RESEND_EVERY, clock.budget / MIN_TRIES)
    while True:
        transport.sendto(payload)
        left = clock.remaining()
        if left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(protocol.answer), timeout=min(every, left))
        if protocol.answer.done():
            return protocol.answer.result()
        if clock.remaining() <= 0:
            raise TimeoutError


def _error_text(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out opening a UDP socket"
    if isinstance(error, PortUnreachable):
        return str(error)
    return describe_os_error(error).label()
