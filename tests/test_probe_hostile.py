"""The Browser and pre-login probes against hostile servers on loopback: each ends within its
timeout with a classified result, reads a bounded amount, and raises nothing."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from tui.probes.browser import BrowserStatus, probe_browser
from tui.probes.prelogin import PreloginStatus, probe_prelogin

TIMEOUT = 1.0
SLACK = 0.5

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def tcp_server(address: str, handler: Handler) -> AsyncIterator[int]:
    tasks: set[asyncio.Task[None]] = set()

    def spawn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(handler(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(spawn, address, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _one_byte_per_second(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    header = b"\x04\x01\x00\x30\x00\x00\x01\x00"
    for byte in header + b"\x00" * 40:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1.0)


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(100)
    writer.write(bytes(range(256)) * 256)  # 64 KB that is not TDS
    await writer.drain()
    await asyncio.sleep(5)


async def _lying_length(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(100)
    writer.write(b"\x04\x01\xff\xff\x00\x00\x01\x00" + b"\x00" * 20)  # says 65535, sends 28
    await writer.drain()
    await asyncio.sleep(5)


async def _short_length(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(100)
    writer.write(b"\x04\x01\x00\x03\x00\x00\x01\x00")  # a length shorter than the header
    await writer.drain()
    await asyncio.sleep(5)


async def _endless_packets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Valid-looking packets, never the end-of-message bit: memory must stay bounded."""
    await reader.read(100)
    packet = b"\x04\x00\x10\x00\x00\x00\x01\x00" + b"\x00" * (4096 - 8)
    with contextlib.suppress(ConnectionError):
        for _ in range(2000):
            writer.write(packet)
            await writer.drain()


async def _broken_prelogin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(100)
    payload = b"\x00\x00\xf0\x00\x06\xff"  # VERSION option pointing far past the payload
    writer.write(b"\x04\x01" + struct.pack(">H", 8 + len(payload)) + b"\x00\x00\x01\x00" + payload)
    await writer.drain()
    await asyncio.sleep(5)


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (_one_byte_per_second, {PreloginStatus.SILENT}),
        (_garbage, {PreloginStatus.NOT_TDS}),
        (_lying_length, {PreloginStatus.SILENT, PreloginStatus.NOT_TDS}),
        (_short_length, {PreloginStatus.NOT_TDS}),
        (_endless_packets, {PreloginStatus.NOT_TDS, PreloginStatus.SILENT}),
        (_broken_prelogin, {PreloginStatus.NOT_TDS}),
    ],
    ids=[
        "one-byte-per-second",
        "64KB-garbage",
        "lying-length",
        "short-length",
        "endless-packets",
        "broken-prelogin",
    ],
)
async def test_prelogin_against_hostile_servers(
    loopback: str, handler: Handler, expected: set[PreloginStatus]
) -> None:
    async with tcp_server(loopback, handler) as port:
        started = time.perf_counter()
        result = await probe_prelogin(loopback, port, timeout=TIMEOUT)
        elapsed = time.perf_counter() - started
    assert result.status in expected, result.summary()
    assert elapsed < TIMEOUT + SLACK
    assert len(result.first_bytes) <= 64 * 1024
    assert result.summary()  # says something, in words


@contextlib.contextmanager
def udp_answerer(address: str, answer: bytes) -> Iterator[int]:
    """Answers every datagram with `answer` (a plain socket: asyncio drops empty datagrams)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                _, peer = sock.recvfrom(2048)
            except TimeoutError:
                continue
            with contextlib.suppress(OSError):
                sock.sendto(answer, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        sock.close()


def _svr_resp(text: bytes) -> bytes:
    return b"\x05" + struct.pack("<H", len(text)) + text


HUGE = b"".join(
    b"ServerName;SQLHOST01;InstanceName;I%05d;IsClustered;No;Version;16.0.1000.6;tcp;%d;;"
    % (n, 40000 + n)
    for n in range(1000)
)[: 65_507 - 3]  # the largest answer a UDP datagram over IPv4 can carry


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", BrowserStatus.MALFORMED),
        (b"\x05\xff\xff" + b"\x00" * 10, BrowserStatus.MALFORMED),  # RESP_SIZE lies
        (
            _svr_resp(
                b"ServerName;X;InstanceName;\xff\xfe\xfd;IsClustered;No;Version;1;tcp;99999;;"
            ),
            BrowserStatus.ANSWERED,
        ),  # broken encoding, impossible port
        (_svr_resp(HUGE), BrowserStatus.ANSWERED),  # the largest answer UDP carries
        (b"", BrowserStatus.MALFORMED),
    ],
    ids=["http", "lying-size", "broken-encoding", "65504-bytes", "empty"],
)
async def test_browser_against_hostile_answers(
    loopback: str, answer: bytes, expected: BrowserStatus
) -> None:
    with udp_answerer(loopback, answer) as port:
        started = time.perf_counter()
        result = await probe_browser(loopback, request="ex", timeout=TIMEOUT, port=port)
        elapsed = time.perf_counter() - started
    assert result.status is expected, result.summary()
    assert elapsed < TIMEOUT + SLACK
    assert result.summary()
    if answer is not None and len(answer) > 60_000:
        assert len(result.instances) > 100


async def test_a_udp_reset_is_what_windows_says_for_port_unreachable(
    loopback: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows surfaces ICMP port unreachable on a UDP socket as WSAECONNRESET (10054);
    the probe must read it as 'no Browser runs there', as it reads ECONNREFUSED elsewhere."""
    import errno

    from tui.probes import browser

    original = browser._Collector.error_received

    def windows_style(self: browser._Collector, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            exc = ConnectionResetError(errno.ECONNRESET, "WSAECONNRESET")
        original(self, exc)

    monkeypatch.setattr(browser._Collector, "error_received", windows_style)
    result = await probe_browser(loopback, request="ex", timeout=TIMEOUT)
    assert result.status is BrowserStatus.REFUSED
