"""`sqlreach lab list|start` and `sqlreach lab [SCENARIO]` (the wizard on a running lab)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import ssl
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import Final, TextIO

from tui.commands.check import dns_settings
from tui.engine.settings import Settings
from tui.knowledge.causes import RootCause
from tui.lab.scenarios import LAB_PASSWORD, LAB_USER, SCENARIOS, Scenario, scenario
from tui.lab.server import LabServer
from tui.platforms import Platform, current
from tui.target import parse_target

FIRST_HOST: Final = 10  # scenario i listens on 127.0.0.(10 + i)


def default_address(item: Scenario, alone: bool = False) -> str:
    """Each scenario on its own loopback address; macOS has only 127.0.0.1 unless aliased, so
    one scenario alone goes there."""
    if alone and current() is Platform.MACOS:
        return "127.0.0.1"
    return f"127.0.0.{FIRST_HOST + SCENARIOS.index(item)}"


def cannot_listen(error: OSError, items: Sequence[tuple[Scenario, str]]) -> str:
    """What to do when the lab cannot bind: another lab, or an address this system lacks."""
    if error.errno == errno.EADDRNOTAVAIL:
        aliases = "; ".join(f"sudo ifconfig lo0 alias {address} up" for _, address in items[:3])
        return (
            f"sqlreach lab: this system has no loopback address {items[0][1]} "
            f"({error.strerror}). On macOS only 127.0.0.1 exists by default: run one "
            "scenario ('sqlreach lab NAME', or add --address 127.0.0.1), or add aliases: "
            f"{aliases}{' …' if len(items) > 3 else ''}\n"
        )
    return (
        f"sqlreach lab: cannot listen: {error.strerror} (is another lab, or a SQL Server, "
        "using ports 1433/1434 on that address? Try --address 127.0.0.N)\n"
    )


def run_list(out: TextIO) -> int:
    width = max(len(s.name) for s in SCENARIOS)
    for item in SCENARIOS:
        out.write(f"{item.name:<{width}}  {item.expected.value:<20}  {item.title}\n")
    out.write("\nStart one with 'sqlreach lab start NAME', or practise with 'sqlreach lab NAME'.\n")
    return 0


def _pick(names: Sequence[str], out: TextIO) -> list[Scenario] | None:
    try:
        return [scenario(name) for name in names] if names else list(SCENARIOS)
    except KeyError as error:
        out.write(f"sqlreach: {error.args[0]}\n")
        return None


def _check_address(address: str) -> str | None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return f"'{address}' is not an IP address"
    if not parsed.is_loopback:
        return f"{address} is not a loopback address: the lab only serves on 127.0.0.0/8 or ::1"
    return None


async def _serve(
    items: list[tuple[Scenario, str]],
    out: TextIO,
    ready: threading.Event | None,
    stop: asyncio.Event,
    servers: list[LabServer] | None = None,
) -> None:
    servers = servers if servers is not None else []
    try:
        for item, address in items:
            servers.append(await LabServer(item, address).start())
        for server in servers:
            if ready is None:
                _describe(server, out)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        for server in servers:
            await server.stop()


def _describe(server: LabServer, out: TextIO) -> None:
    item = server.scenario
    ports = ", ".join(str(p) for p in server.ports()) or "none"
    dns = f" --dns-server {server.dns_server}" if server.dns_server else ""
    out.write(
        f"{item.name}: {item.title}\n"
        f"  serving on {server.address}: TCP {ports}; Browser on UDP 1434: {item.browser.value}\n"
        + (f"  its second node on {server.sibling}\n" if server.sibling else "")
        + f"  imitates: {item.imitates}\n"
        f'  diagnose it: sqlreach check "{server.target}"{dns}\n'
        f"  lab login: {LAB_USER} / {LAB_PASSWORD}\n"
        f"  expected root cause: {item.expected.value}\n\n"
    )
    if dns:
        out.write(
            f"  its names resolve only through the lab's own DNS server ({server.dns_server}):\n"
            "  give check --dns-server, or point a client's resolver there\n\n"
        )
    for caveat in server.caveats:
        out.write(f"  note: {caveat}\n\n")
    if item.trust_ca and server.ca_file is not None:
        out.write(
            f"  the client trusts the lab's test CA: export SSL_CERT_FILE={server.ca_file}\n\n"
        )
    driver = parse_target(server.target).driver
    if driver and item.expected is RootCause.OK:
        out.write(
            f"  the login goes through {driver}; where it is not installed, sqlreach\n"
            "  stops at DRIVER_MISSING once the network and TLS pass, as an application would\n\n"
        )


def _placed(
    names: Sequence[str], address: str | None, out: TextIO
) -> list[tuple[Scenario, str]] | None:
    """The scenarios asked for, each with its address (--address for one alone); None when the
    names or the address are wrong, and `out` says why."""
    chosen = _pick(names, out)
    if chosen is None:
        return None
    if address is not None:
        problem = _check_address(address)
        if problem or len(chosen) != 1:
            out.write(f"sqlreach: {problem or '--address needs exactly one scenario'}\n")
            return None
    alone = len(chosen) == 1
    return [(item, address or default_address(item, alone)) for item in chosen]


def run_start(names: Sequence[str], address: str | None, out: TextIO) -> int:
    items = _placed(names, address, out)
    if items is None:
        return 2

    async def main() -> None:
        await _serve(items, out, None, asyncio.Event())

    out.write("sqlreach lab: press Ctrl-C to stop.\n\n")
    out.flush()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        out.write("\nsqlreach lab: stopped.\n")
    except OSError as error:
        out.write(cannot_listen(error, items))
        return 1
    return 0


class BackgroundLab:
    """The lab on a thread of its own, so the wizard can run in the foreground."""

    def __init__(self, items: list[tuple[Scenario, str]]) -> None:
        self.items = items
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sqlreach-lab", daemon=True)
        self.servers: list[LabServer] = []

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            await _serve(self.items, sys.stdout, self._ready, self._stop, self.servers)

        try:
            self._loop.run_until_complete(main())
        except BaseException as error:
            self._error = error
            self._ready.set()
        finally:
            self._loop.close()

    def __enter__(self) -> BackgroundLab:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)


def _trust_lab_ca(servers: Sequence[LabServer]) -> None:
    """Scenarios whose certificate comes from the lab's test CA stand for a properly issued
    certificate: this process (the wizard on the lab) trusts that CA as well as the system's."""
    cas = [
        server.ca_file
        for server in servers
        if server.scenario.trust_ca and server.ca_file is not None
    ]
    if not cas:
        return
    paths = ssl.get_default_verify_paths()
    bundle = b""
    for system in (os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile):
        if system and os.path.isfile(system):
            with open(system, "rb") as source:
                bundle = source.read()
            break
    for ca in cas:
        bundle += b"\n" + ca.read_bytes()
    descriptor, name = tempfile.mkstemp(prefix="sqlreach-lab-trust-", suffix=".pem")
    with os.fdopen(descriptor, "wb") as out:
        out.write(bundle)
    os.environ["SSL_CERT_FILE"] = name


def _lab_names(servers: Sequence[LabServer]) -> Settings | None:
    """The scenarios' names (an Azure gateway, a listener) resolve through the lab's own DNS:
    every lab DNS server answers all of them, and the wizard asks one of those only, never the
    machine's resolver (a lab name must not reach a real DNS server, or a real server)."""
    named = [server for server in servers if server.dns is not None]
    if not named:
        return None
    every: dict[str, tuple[str, ...]] = {}
    for server in named:
        every.update(server.scenario.resolved_names(server.address, server.sibling))
    for server in named:
        assert server.dns is not None
        server.dns.names = {name.rstrip(".").casefold(): values for name, values in every.items()}
    return Settings(dns=dns_settings(str(named[0].dns_server)))


def run_wizard_on_lab(
    names: Sequence[str], out: TextIO, address: str | None = None, timeout: float = 3.0
) -> int:
    items = _placed(names, address, out)
    if items is None:
        return 2
    try:
        with BackgroundLab(items) as lab:
            _trust_lab_ca(lab.servers)
            from tui.app import run_wizard

            suggestions = [
                (f"{server.scenario.name}: {server.scenario.title}", server.target)
                for server in lab.servers
            ]
            first = suggestions[0][1] if len(items) == 1 else None
            return run_wizard(
                target_text=first,
                suggestions=suggestions,
                timeout=timeout,
                settings=_lab_names(lab.servers),
            )
    except OSError as error:
        out.write(cannot_listen(error, items))
        return 1
