"""probe_tcp against things that really answer, all on random loopback addresses.

Refused: a closed port (the kernel answers the SYN with a reset). Filtered: `full_backlog_listener`,
whose SYNs go unanswered exactly as behind a DROP rule. Reset and closed: a listener that accepts
and then closes with SO_LINGER 0 (reset) or plainly (FIN). The real firewall answers (nftables
DROP, REJECT, ICMP unreachable) are in test_netns_firewall.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.netutil import closed_port, full_backlog_listener, random_loopback
from tui.probes.base import ProbeResult, is_json_safe
from tui.probes.tcp import TcpStatus, probe_tcp

TIMEOUT = 0.5
SLACK_MS = 250  # event-loop scheduling on a busy machine; the bound itself is the point


@contextlib.contextmanager
def listener(address: str, on_accept: Callable[[socket.socket], None] | None) -> Iterator[int]:
    """A TCP listener on `address`; `on_accept` (in a thread) handles each connection.

    With `on_accept` None nothing is accepted: the kernel completes the handshake and the
    connection waits in the backlog, as it does for a busy SQL Server.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind((address, 0))
    server.listen(16)
    server.settimeout(0.05)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)
            assert on_accept is not None
            on_accept(connection)

    thread = threading.Thread(target=serve, daemon=True)
    if on_accept is not None:
        thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        if on_accept is not None:
            thread.join(timeout=2)
        for connection in held:
            connection.close()
        server.close()


def reset(connection: socket.socket) -> None:
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def close(connection: socket.socket) -> None:
    connection.close()


def speak(connection: socket.socket) -> None:
    connection.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


async def test_a_closed_port_is_refused_at_once(loopback: str) -> None:
    port = closed_port(loopback)
    result = await probe_tcp([loopback], port, timeout=TIMEOUT)

    assert result.status is TcpStatus.REFUSED
    (attempt,) = result.attempts
    assert attempt.error is not None
    assert (attempt.error.number, attempt.error.name, attempt.error.hex) == (
        10061,
        "WSAECONNREFUSED",
        "0x274D",
    )
    assert attempt.os_error == "ECONNREFUSED"
    assert attempt.elapsed_ms < TIMEOUT * 1000 / 2
    assert result.summary().startswith(f"{loopback}:{port} refused the connection")
    assert "(10061 WSAECONNREFUSED)" in result.summary()


async def test_a_full_backlog_is_filtered_and_the_timeout_holds(loopback: str) -> None:
    with full_backlog_listener(loopback) as port:
        result = await probe_tcp([loopback], port, timeout=TIMEOUT)

    assert result.status is TcpStatus.TIMEOUT
    (attempt,) = result.attempts
    assert attempt.error is not None and attempt.error.number == 10060
    assert TIMEOUT * 1000 * 0.9 <= result.elapsed_ms <= TIMEOUT * 1000 + SLACK_MS
    assert f"did not answer within {TIMEOUT:g} s" in result.summary()


async def test_filtered_addresses_are_tried_at_the_same_time() -> None:
    first, second = random_loopback(), random_loopback()
    with full_backlog_listener(first) as port_a, full_backlog_listener(second) as port_b:
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(
            probe_tcp([first, second], port_a, timeout=TIMEOUT),
            probe_tcp([second], port_b, timeout=TIMEOUT),
        )
        took_ms = (asyncio.get_running_loop().time() - started) * 1000
    # Both addresses of the first probe time out in parallel: about one timeout, not two.
    assert took_ms <= TIMEOUT * 1000 + SLACK_MS
    assert results[1].status is TcpStatus.TIMEOUT
    assert results[0].attempts[0].status is TcpStatus.TIMEOUT


async def test_a_listener_is_connected_and_says_nothing(loopback: str) -> None:
    with listener(loopback, None) as port:
        result = await probe_tcp([loopback], port, timeout=TIMEOUT)

    assert result.status is TcpStatus.CONNECTED
    (attempt,) = result.attempts
    assert attempt.error is None
    assert attempt.connect_ms is not None and attempt.connect_ms <= attempt.elapsed_ms
    assert attempt.local_address is not None
    assert attempt.first_bytes == b""
    assert result.connected == (loopback,)
    assert "accepted the connection in" in result.summary()


async def test_a_listener_that_accepts_and_resets_is_reset(loopback: str) -> None:
    with listener(loopback, reset) as port:
        result = await probe_tcp([loopback], port, timeout=TIMEOUT)

    assert result.status is TcpStatus.RESET
    (attempt,) = result.attempts
    # The reset may land before or after the event loop sees the handshake complete.
    assert attempt.error is not None and attempt.error.label() == "10054 WSAECONNRESET"
    assert "then reset it at once" in result.summary()


async def test_a_listener_that_accepts_and_closes_is_closed(loopback: str) -> None:
    with listener(loopback, close) as port:
        result = await probe_tcp([loopback], port, timeout=TIMEOUT)

    assert result.status is TcpStatus.CLOSED
    assert result.attempts[0].error is None


async def test_a_service_that_speaks_first_is_recorded(loopback: str) -> None:
    with listener(loopback, speak) as port:
        result = await probe_tcp([loopback], port, timeout=TIMEOUT)

    assert result.status is TcpStatus.CONNECTED
    assert result.attempts[0].first_bytes.startswith(b"SSH-2.0-")
    evidence = json.loads(json.dumps(result.evidence()))
    assert evidence["attempts"][0]["first_bytes_hex"].startswith("5353482d")
    assert "spoke first" in result.summary()


async def test_without_a_settle_window_a_connection_is_not_watched(loopback: str) -> None:
    with listener(loopback, None) as port:
        result = await probe_tcp([loopback], port, timeout=TIMEOUT, settle=0)
    assert result.status is TcpStatus.CONNECTED
    assert result.elapsed_ms < 50  # the default window is 50 ms; here nothing waits


async def test_connected_anywhere_wins(loopback: str) -> None:
    refused = random_loopback()  # the same port number there: nothing listens
    with listener(loopback, None) as port:
        result = await probe_tcp([refused, loopback], port, timeout=TIMEOUT)
    assert result.status is TcpStatus.CONNECTED
    assert [a.status for a in result.attempts] == [TcpStatus.REFUSED, TcpStatus.CONNECTED]
    assert f"also tried {refused} refused" in result.summary()


async def test_refused_beats_a_timeout(loopback: str) -> None:
    refused = random_loopback()
    with full_backlog_listener(loopback) as port:
        result = await probe_tcp([loopback, refused], port, timeout=TIMEOUT)
    assert [a.status for a in result.attempts] == [TcpStatus.TIMEOUT, TcpStatus.REFUSED]
    assert result.status is TcpStatus.REFUSED
    assert result.summary().startswith(f"{refused}:{port} refused")


@pytest.mark.skipif(not ipv6_loopback_works(), reason="IPv6 loopback (::1) is not available")
async def test_ipv6_loopback_is_refused_and_connected() -> None:
    port = closed_port("::1")
    result = await probe_tcp(["::1", "[::1]"], port, timeout=TIMEOUT)
    assert [a.status for a in result.attempts] == [TcpStatus.REFUSED, TcpStatus.REFUSED]
    assert result.attempts[0].endpoint == f"[::1]:{port}"
    with listener("::1", None) as open_port:
        result = await probe_tcp(["::1"], open_port, timeout=TIMEOUT)
    assert result.status is TcpStatus.CONNECTED


async def test_names_are_not_resolved_here(loopback: str) -> None:
    result = await probe_tcp(["localhost", "db.example.invalid"], 1433, timeout=TIMEOUT)
    assert result.status is TcpStatus.ERROR
    assert all(a.status is TcpStatus.ERROR for a in result.attempts)
    assert all(a.elapsed_ms < 50 for a in result.attempts)


async def test_no_address_is_an_error_with_words() -> None:
    result = await probe_tcp([], 1433, timeout=TIMEOUT)
    assert result.status is TcpStatus.ERROR
    assert result.summary() == "no address to try on port 1433"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd to count")
async def test_every_socket_is_closed_whatever_happened(loopback: str) -> None:
    before = open_fds()
    with (
        listener(loopback, None) as open_port,
        listener(random_loopback(), reset) as reset_port,
        full_backlog_listener(random_loopback()) as filtered_port,
    ):
        listening = open_fds()
        for port in (open_port, reset_port, filtered_port, closed_port(loopback)):
            await probe_tcp([loopback], port, timeout=0.2)
        task = asyncio.ensure_future(probe_tcp([loopback], filtered_port, timeout=5))
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert open_fds() == listening
    assert open_fds() == before


async def test_evidence_is_json_safe_and_matches_the_result(loopback: str) -> None:
    with listener(loopback, speak) as port:
        result: ProbeResult = await probe_tcp(
            [loopback, random_loopback(), "not-an-ip"], port, timeout=TIMEOUT
        )
    assert is_json_safe(result.evidence())
    evidence = json.loads(json.dumps(result.evidence()))
    assert evidence == result.evidence()
    assert evidence["status"] == "CONNECTED"
    assert [a["status"] for a in evidence["attempts"]] == ["CONNECTED", "REFUSED", "ERROR"]
