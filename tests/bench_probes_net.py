"""How long the network probes take on loopback: `python -m tests.bench_probes_net [runs]`.

Medians over many runs, printed, never asserted (machines are noisy). What is measured:
probe_tcp on a refused port and on a listener (with the default 50 ms settle window, and
without it), probe_dns against the in-process DNS server (A, AAAA and the PTR of each address),
and an NXDOMAIN.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.dnsserver import DnsServer
from tests.netutil import closed_port, random_loopback
from tui.probes.dns import probe_dns
from tui.probes.tcp import probe_tcp

Probe = Callable[[], Awaitable[float]]


async def median_ms(probe: Probe, runs: int) -> tuple[float, float]:
    await probe()  # warm up imports and caches
    samples = [await probe() for _ in range(runs)]
    return statistics.median(samples), max(samples)


async def main(runs: int) -> None:
    address = random_loopback()
    refused_port = closed_port(address)
    server_socket = socket.socket()
    server_socket.bind((address, 0))
    server_socket.listen(1024)
    open_port = server_socket.getsockname()[1]
    accepted: list[socket.socket] = []

    async def drain() -> None:  # keep the backlog from filling up
        server_socket.setblocking(False)
        loop = asyncio.get_running_loop()
        while True:
            connection, _ = await loop.sock_accept(server_socket)
            accepted.append(connection)

    drainer = asyncio.ensure_future(drain())
    dns_server = DnsServer(random_loopback())
    dns_server.add("db.corp.test", "A", "198.51.100.7")
    dns_server.add("db.corp.test", "AAAA", "2001:db8::7")
    dns_server.add_ptr("198.51.100.7", "db.corp.test")
    dns_server.add_ptr("2001:db8::7", "db.corp.test")
    hosts = Path(tempfile.mkdtemp()) / "hosts"
    hosts.write_text("127.0.0.1 localhost\n", "ascii")

    async def dns(name: str) -> float:
        result = await probe_dns(
            name,
            timeout=2.0,
            nameservers=[dns_server.address],
            port=dns_server.port,
            hosts_file=hosts,
            system_resolver=False,
        )
        return result.elapsed_ms

    async def tcp(port: int, settle: float = 0.05) -> float:
        return (await probe_tcp([address], port, timeout=2.0, settle=settle)).elapsed_ms

    async def connect_only() -> float:
        result = await probe_tcp([address], open_port, timeout=2.0, settle=0)
        connect_ms = result.attempts[0].connect_ms
        assert connect_ms is not None
        return connect_ms

    cases: list[tuple[str, Probe]] = [
        ("probe_tcp refused (loopback)", lambda: tcp(refused_port)),
        ("probe_tcp connected, settle 50 ms", lambda: tcp(open_port)),
        ("probe_tcp connected, settle 0", lambda: tcp(open_port, settle=0)),
        ("  of which the connect itself", connect_only),
        ("probe_dns A+AAAA+2 PTR (in-process)", lambda: dns("db.corp.test")),
        ("probe_dns NXDOMAIN (in-process)", lambda: dns("gone.corp.test")),
    ]
    print(f"{'case':40} {'median ms':>10} {'max ms':>10}   ({runs} runs each)")
    with dns_server.running():
        for label, probe in cases:
            median, worst = await median_ms(probe, runs)
            print(f"{label:40} {median:10.3f} {worst:10.3f}")
    drainer.cancel()
    for connection in accepted:
        connection.close()
    server_socket.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
