"""Serve one scenario on its own loopback address: the Browser on UDP 1434, SQL Server and the
scenario's other listeners on TCP, the dedicated admin connection where it listens, and the
scenario's own DNS names on UDP 53 (or a free port, without the right to bind 53). A scenario
with a second node (a secondary replica, a second subnet) serves it on a second loopback address,
the sibling. Plain asyncio; stops without leaking tasks or sockets."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import struct
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tui.lab.browser import BrowserProtocol
from tui.lab.certs import Material, make_material, server_context
from tui.lab.dns import DnsProtocol
from tui.lab.scenarios import BrowserMode, PortMode, Scenario
from tui.lab.tds_server import Placement, TdsServer

_Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
BROWSER_PORT: Final = 1434
DNS_PORT: Final = 53


def sibling_of(address: str) -> str:
    """The second loopback address of a scenario on `address`: the third octet moved by one
    (127.0.0.10 and 127.0.1.10), so both stay inside 127.0.0.0/8."""
    parts = address.split(".")
    if len(parts) != 4 or parts[0] != "127":
        raise ValueError(
            f"a scenario with a second node needs an IPv4 loopback address, not {address}"
        )
    parts[2] = str((int(parts[2]) + 1) % 256)
    return ".".join(parts)


HTTP_ANSWER: Final = (
    b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n"
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)
_TLS_VERSIONS: Final = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


# A dropped port without root or a firewall rule, per system:
# - Linux: a full accept queue; further SYNs are dropped (tcp_conn_request: `if
#   (sk_acceptq_is_full(sk)) ... goto drop`), and a queue holds backlog + 1. Tested here.
# - macOS: a full queue too: XNU's tcp_input drops the SYN when sonewconn finds the queue full
#   ("listen drop", then `goto drop`, no RST), and sonewconn refuses once the queue holds
#   so_qlimit; listen(0) would mean somaxconn there (solisten), hence listen(1).
#   apple/darwin-xnu bsd/netinet/tcp_input.c and bsd/kern/uipc_socket{,2}.c @2ff845c2. Never ran.
# - Windows: a full queue is refused (the listen function's documentation: the client receives
#   WSAECONNREFUSED), so that stand-in would teach "refused". SO_CONDITIONAL_ACCEPT (0x3002)
#   makes the stack wait for the application to accept through WSAAccept before it accepts the
#   connection (Microsoft Learn, "SO_CONDITIONAL_ACCEPT socket option"); nothing ever accepts, so
#   the client's SYNs go unanswered. Never ran on Windows.
SO_CONDITIONAL_ACCEPT: Final = 0x3002


def drop_caveat(platform: str) -> str | None:
    """What `sqlreach lab` says where the dropped-port stand-in never ran."""
    if platform == "win32":
        how = "a listener that never accepts (SO_CONDITIONAL_ACCEPT)"
    elif platform == "darwin":
        how = "a full listen queue, which macOS drops silently"
    else:
        return None
    return (
        f"this machine stands in for a firewall's DROP with {how}; that stand-in never ran "
        "while sqlreach was developed. If the diagnosis says PORT_REFUSED instead of "
        "PORT_FILTERED, this system answered the SYN: a real firewall that drops still gives "
        "a timeout (10060)."
    )


@dataclass
class LabServer:
    scenario: Scenario
    address: str
    sibling: str | None = None  # the second node's address; derived when the scenario has one
    dns_port: int = DNS_PORT  # 0: any free port (the port bound is kept here)
    material: Material | None = None
    ca_file: Path | None = None  # the test CA, for SSL_CERT_FILE when the scenario trusts it
    _servers: list[asyncio.Server] = field(default_factory=list)
    _udp: list[asyncio.DatagramTransport] = field(default_factory=list)
    _sockets: list[socket.socket] = field(default_factory=list)
    _clients: set[asyncio.Task[None]] = field(default_factory=set)
    browser: BrowserProtocol | None = None
    dns: DnsProtocol | None = None
    handlers: list[TdsServer] = field(default_factory=list)  # one per instance
    caveats: list[str] = field(default_factory=list)  # what this platform cannot stage faithfully

    def __post_init__(self) -> None:
        if self.sibling is None and self.scenario.needs_sibling:
            self.sibling = sibling_of(self.address)

    @property
    def target(self) -> str:
        return self.scenario.target_for(self.address, self.sibling)

    @property
    def dns_server(self) -> str | None:
        """`--dns-server` for this scenario's names, when it has any."""
        if self.dns is None:
            return None
        return f"{self.address}:{self.dns_port}"

    def ports(self) -> list[int]:
        found = [i.port for i in self.scenario.instances if i.port is not None and not i.on_sibling]
        return found + [port for port, _ in self.scenario.extra_ports]

    async def start(self) -> LabServer:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _start(self) -> None:
        scenario = self.scenario
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        tls_context = strict_context = None
        if scenario.certificate is not None:
            self.material = make_material(scenario.certificate)
            if self.material.ca_pem is not None:
                self.ca_file = Path(tempfile.mkdtemp(prefix="sqlreach-lab-ca-")) / "ca.pem"
                self.ca_file.write_bytes(self.material.ca_pem)
            tls_context = server_context(
                self.material,
                min_version=_TLS_VERSIONS[scenario.tls_min],
                max_version=_TLS_VERSIONS[scenario.tls_max],
            )
            if scenario.strict_only:
                strict_context = server_context(
                    self.material, alpn=("tds/8.0",), min_version=ssl.TLSVersion.TLSv1_2
                )
        if scenario.names:
            await self._serve_dns(loop, family)
        if scenario.browser is not BrowserMode.STOPPED:
            silent = scenario.browser is BrowserMode.DROPPED
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: BrowserProtocol(scenario.machine_name, scenario.instances, silent),
                local_addr=(self.address, BROWSER_PORT),
                family=family,
            )
            self._udp.append(transport)
            self.browser = protocol
        placement = Placement(self.address, self.sibling)
        for instance in scenario.instances:
            where = self.sibling if instance.on_sibling else self.address
            assert where is not None
            handler = TdsServer(scenario, instance, tls_context, strict_context, placement)
            self.handlers.append(handler)
            if instance.port is not None:
                await self._listen(where, instance.port, handler.handle)
            if instance.dac_port is not None and instance.remote_dac:
                await self._listen(where, instance.dac_port, handler.handle)
        for where, ports in (
            (self.address, scenario.extra_ports),
            (self.sibling, scenario.sibling_ports),
        ):
            for port, mode in ports:
                assert where is not None
                if mode is PortMode.FILTERED:
                    self._dropping(where, port, family)
                else:
                    await self._listen(where, port, _handlers[mode])

    async def _serve_dns(
        self, loop: asyncio.AbstractEventLoop, family: socket.AddressFamily
    ) -> None:
        names = self.scenario.resolved_names(self.address, self.sibling)
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: DnsProtocol(names), local_addr=(self.address, self.dns_port), family=family
            )
        except PermissionError:  # port 53 needs privileges: any free port, said by dns_server
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: DnsProtocol(names), local_addr=(self.address, 0), family=family
            )
        self.dns_port = int(transport.get_extra_info("sockname")[1])
        self._udp.append(transport)
        self.dns = protocol

    async def _listen(self, address: str, port: int, handler: _Handler) -> None:
        def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.ensure_future(handler(reader, writer))
            self._clients.add(task)
            task.add_done_callback(self._clients.discard)

        server = await asyncio.start_server(tracked, address, port, reuse_address=True, backlog=512)
        self._servers.append(server)

    def _dropping(self, address: str, port: int, family: socket.AddressFamily) -> None:
        """A port whose SYNs go unanswered, as behind a firewall that drops them (no root, no
        firewall rule), by each system's own rule; see `drop_stand_in`."""
        listener = socket.socket(family, socket.SOCK_STREAM)
        if sys.platform == "win32":
            listener.setsockopt(socket.SOL_SOCKET, SO_CONDITIONAL_ACCEPT, 1)
        else:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        listener.listen(1)
        self._sockets.append(listener)
        caveat = drop_caveat(sys.platform)
        if caveat is not None:
            self.caveats.append(caveat)
        if sys.platform == "win32":
            return  # nothing is ever accepted: no queue to fill
        for _ in range(4):  # fill the queue (Linux takes backlog + 1, macOS backlog)
            filler = socket.socket(family, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect_ex((address, port))
            self._sockets.append(filler)

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._clients):
            task.cancel()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=2.0)
        for transport in self._udp:
            transport.close()
        for sock in self._sockets:
            sock.close()
        self._servers.clear()
        self._udp.clear()
        self._sockets.clear()
        if self.ca_file is not None:
            shutil.rmtree(self.ca_file.parent, ignore_errors=True)
            self.ca_file = None

    async def __aenter__(self) -> LabServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


# ------------------------------------------------------------------------------------------
# listeners that are not SQL Server


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader.read(4096), timeout=5.0)
        writer.write(HTTP_ANSWER)
        await writer.drain()
    writer.close()


async def _stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and say nothing, reading whatever comes, until the client gives up."""
    with contextlib.suppress(Exception):
        while await reader.read(65_536):
            pass
    writer.close()


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


_handlers: dict[PortMode, _Handler] = {
    PortMode.HTTP: _http,
    PortMode.STALL: _stall,
    PortMode.CLOSE: _close,
    PortMode.RESET: _reset,
}
