"""The server side, when the tool runs on the machine it diagnoses: is that so, and what is there.

`detect_this_machine` compares the target with this machine's names and addresses (loopback
counts). `read_server_view` runs this platform's readers (windows.py, linux.py) with timeouts and
returns one platform-neutral `ServerView`; `server_view_from_sqlcheck` builds the same view from a
SQLCheck report pasted from a machine this tool cannot run on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from tui.probes.base import in_daemon_thread
from tui.probes.local.system import Environment, powershell_timeout
from tui.target import LOCAL_NAMES

if TYPE_CHECKING:
    from tui.probes.local.errorlog import ErrorLog
    from tui.probes.local.eventlog import ServiceEvent
    from tui.probes.local.model import InstanceConfig, OsListener, ServiceInfo
    from tui.probes.local.windows import FirewallState

DEFAULT_TIMEOUT: Final = 5.0
MAX_PROC_BYTES: Final = 1 << 20


# ---------------------------------------------------------------------------------------------
# Is the target this machine?


@dataclass(frozen=True)
class LocalIdentity:
    names: frozenset[str]  # lowercased, without a trailing dot
    addresses: frozenset[str]


def local_identity(environment: Environment | None = None) -> LocalIdentity:
    """This machine's names (host name, FQDN) and addresses (resolver, and on Linux the kernel's
    own lists in /proc/net/fib_trie and /proc/net/if_inet6). May ask the resolver: call it from a
    thread when a slow resolver must not hold things up."""
    names: set[str] = set()
    addresses: set[str] = set()
    with contextlib.suppress(OSError):
        hostname = socket.gethostname()
        names.add(_name(hostname))
        with contextlib.suppress(OSError):
            names.add(_name(socket.getfqdn(hostname)))
        with contextlib.suppress(OSError, UnicodeError):
            for info in socket.getaddrinfo(hostname, None):
                addresses.add(str(info[4][0]).split("%")[0])
    if environment is not None and environment.platform.startswith("linux"):
        addresses |= set(_proc_addresses(environment))
    return LocalIdentity(frozenset(n for n in names if n), frozenset(addresses))


def _proc_addresses(environment: Environment) -> Iterable[str]:
    trie = environment.files.read("/proc/net/fib_trie", MAX_PROC_BYTES)
    if trie.data:
        previous: str | None = None
        for line in trie.data.decode("ascii", "replace").splitlines():
            stripped = line.strip()
            if stripped.startswith("|--"):
                previous = stripped[3:].strip()
            elif stripped.endswith("host LOCAL") and previous:
                yield previous
    inet6 = environment.files.read("/proc/net/if_inet6", MAX_PROC_BYTES)
    if inet6.data:
        for line in inet6.data.decode("ascii", "replace").splitlines():
            fields = line.split()
            if fields and len(fields[0]) == 32:
                with contextlib.suppress(ValueError):
                    yield str(ipaddress.IPv6Address(int(fields[0], 16)))


def detect_this_machine(
    host: str | None, addresses: Iterable[str], identity: LocalIdentity | None = None
) -> bool:
    """True when the target names this machine or resolves to one of its addresses (loopback
    counts). A short name matches this machine's short host name only when it has no dots."""
    resolved = [address.split("%")[0].strip("[]") for address in addresses]
    if host is not None and host.strip().lower() in LOCAL_NAMES:
        return True
    for address in [*resolved, (host or "").strip("[]")]:
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(address).is_loopback:
                return True
    if host is None and not resolved:
        return False
    identity = identity if identity is not None else local_identity()
    if host:
        wanted = _name(host)
        shorts = {name.split(".")[0] for name in identity.names}
        if wanted in identity.names or ("." not in wanted and wanted in shorts):
            return True
    normalised = {_address(address) for address in identity.addresses}
    return any(_address(address) in normalised for address in [*resolved, host or ""])


def _name(text: str) -> str:
    return text.strip().rstrip(".").lower()


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.split("%")[0].strip("[]")))
    except ValueError:
        return text.lower()


# ---------------------------------------------------------------------------------------------
# The view


@dataclass(frozen=True)
class InstanceView:
    config: InstanceConfig
    service: ServiceInfo | None = None
    errorlog: ErrorLog | None = None
    events: tuple[ServiceEvent, ...] = ()

    @property
    def name(self) -> str:
        return self.config.name

    def evidence(self) -> dict[str, object]:
        return {
            "config": self.config.evidence(),
            "service": self.service.evidence() if self.service else None,
            "errorlog": self.errorlog.evidence() if self.errorlog else None,
            "events": [event.evidence() for event in self.events],
        }


@dataclass(frozen=True)
class ServerView:
    """What this machine (or a report from one) says about its SQL Server."""

    platform: str
    source: str
    installed: bool | None
    installed_evidence: tuple[str, ...] = ()
    instances: tuple[InstanceView, ...] = ()
    browser: ServiceInfo | None = None
    listeners: tuple[OsListener, ...] = ()
    listeners_read: bool = False
    firewall: FirewallState | None = None
    wanted_instance: str | None = None
    restart_loop: bool = False
    journal: tuple[str, ...] = ()
    identity: LocalIdentity | None = field(default=None, compare=False)
    problems: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    def instance(self, name: str | None) -> InstanceView | None:
        wanted = (name or "MSSQLSERVER").upper()
        return next((item for item in self.instances if item.name.upper() == wanted), None)

    def summary(self) -> str:
        if self.installed is False:
            return f"no SQL Server is installed here ({self.source})"
        if not self.instances:
            return f"no SQL Server instance could be read ({self.source})"
        parts = []
        for item in self.instances:
            state = item.service.state.value if item.service else "state unknown"
            ports = item.config.configured_ports()
            port_text = ", ".join(str(p) for p in ports) if ports else "no TCP port"
            if item.config.tcp_enabled is False:
                port_text = "TCP disabled"
            parts.append(f"{item.name} ({state}, {port_text})")
        return f"{self.source}: " + "; ".join(parts)

    def evidence(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "source": self.source,
            "installed": self.installed,
            "installed_evidence": list(self.installed_evidence),
            "instances": [item.evidence() for item in self.instances],
            "browser": self.browser.evidence() if self.browser else None,
            "listeners": [listener.evidence() for listener in self.listeners],
            "firewall_read": bool(self.firewall and self.firewall.read),
            "restart_loop": self.restart_loop,
            "journal": list(self.journal),
            "problems": list(self.problems),
            "elapsed_ms": self.elapsed_ms,
        }


def whole_read_bound(platform: str, timeout: float) -> float:
    """How long the whole read may take: two rounds of commands, and on Windows the PowerShell
    calls' own, longer limit (a cold PowerShell with NetSecurity)."""
    if platform == "win32":
        return max(2 * timeout, powershell_timeout(timeout)) + 2
    return 2 * timeout + 1


async def read_server_view(
    environment: Environment | None = None,
    *,
    instance: str | None = None,
    port: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ServerView:
    """Read this machine's SQL Server side. Every command has `timeout` seconds and they run
    side by side; the whole read is abandoned (with a problem saying so) after twice that."""
    environment = environment or Environment.current()
    started = time.perf_counter()
    identity_task = asyncio.ensure_future(in_daemon_thread(lambda: local_identity(environment)))
    bound = whole_read_bound(environment.platform, timeout)
    try:
        if environment.is_windows:
            view = await asyncio.wait_for(
                _windows_view(environment, instance, port, timeout), bound
            )
        elif environment.platform.startswith("linux"):
            view = await asyncio.wait_for(_linux_view(environment, instance, timeout), bound)
        else:
            view = ServerView(
                environment.platform,
                "this machine",
                installed=False,
                installed_evidence=(),
                wanted_instance=instance,
                problems=(
                    "SQL Server does not run natively on this operating system; a SQL Server in "
                    "a container here is diagnosed like a remote one",
                ),
            )
    except TimeoutError:
        view = ServerView(
            environment.platform,
            "this machine",
            installed=None,
            wanted_instance=instance,
            problems=(f"reading this machine's SQL Server setup took longer than {bound:g} s",),
        )
    identity: LocalIdentity | None = None
    with contextlib.suppress(TimeoutError, OSError):
        identity = await asyncio.wait_for(identity_task, timeout)
    elapsed = round((time.perf_counter() - started) * 1000.0, 3)
    return dataclasses.replace(view, identity=identity, elapsed_ms=elapsed)


async def _windows_view(
    environment: Environment, instance: str | None, port: int | None, timeout: float
) -> ServerView:
    from tui.probes.local.windows import BROWSER, read_windows

    windows = await read_windows(environment, timeout=timeout, extra_ports=(port,) if port else ())
    events = windows.events.events if windows.events else ()
    instances = tuple(
        InstanceView(
            config=config,
            service=windows.services.get(config.service.upper()),
            errorlog=windows.errorlogs.get(config.name.upper()),
            events=tuple(e for e in events if (e.service or "").upper() == config.service.upper()),
        )
        for config in instances_sorted(windows.instances)
    )
    evidence = [f"instance {item.name} is registered" for item in instances]
    problems = list(windows.problems)
    if windows.events:
        problems.extend(windows.events.problems)
    if windows.firewall:
        problems.extend(windows.firewall.problems)
    return ServerView(
        platform="win32",
        source="this machine (registry, sc.exe, netstat, firewall, ERRORLOG, System event log)",
        installed=bool(instances),
        installed_evidence=tuple(evidence),
        instances=instances,
        browser=windows.services.get(BROWSER.upper()),
        listeners=windows.listeners,
        listeners_read=not any("listening sockets not read" in p for p in windows.problems),
        firewall=windows.firewall,
        wanted_instance=instance,
        problems=tuple(dict.fromkeys(problems)),
    )


async def _linux_view(environment: Environment, instance: str | None, timeout: float) -> ServerView:
    from tui.probes.local.linux import read_linux

    linux = await read_linux(environment, timeout=timeout)
    instances: tuple[InstanceView, ...] = ()
    if linux.config is not None:
        instances = (InstanceView(linux.config, linux.systemd.service, linux.errorlog),)
    elif linux.installed:
        problems = ("SQL Server seems installed but mssql.conf was not read",)
        return ServerView(
            "linux", "this machine", True, linux.installed_evidence, problems=problems
        )
    return ServerView(
        platform="linux",
        source="this machine (systemctl, mssql.conf, ss, errorlog)",
        installed=linux.installed,
        installed_evidence=linux.installed_evidence,
        instances=instances,
        listeners=linux.listeners,
        listeners_read=not any("listening sockets not read" in p for p in linux.problems),
        wanted_instance=instance,
        restart_loop=linux.systemd.restart_loop,
        journal=linux.systemd.journal,
        problems=linux.problems,
    )


def instances_sorted(instances: tuple[InstanceConfig, ...]) -> tuple[InstanceConfig, ...]:
    """The default instance first, then named ones by name."""
    return tuple(sorted(instances, key=lambda i: (not i.is_default, i.name.upper())))


def server_view_from_sqlcheck(text: str, *, instance: str | None = None) -> ServerView:
    """A view of the machine a SQLCheck report was made on."""
    from tui.probes.local.sqlcheck import parse_sqlcheck_report
    from tui.probes.local.windows import BROWSER

    report = parse_sqlcheck_report(text)
    services = {service.name.upper(): service for service in report.services}
    instances = tuple(
        InstanceView(config, services.get(config.service.upper()))
        for config in instances_sorted(report.instances)
    )
    names = {name for name in (report.computer, report.fqdn) if name}
    identity = LocalIdentity(
        frozenset(_name(name) for name in names),
        frozenset(a.split("%")[0] for a in report.addresses),
    )
    installed = bool(instances) or any(s.name.upper().startswith("MSSQL") for s in report.services)
    return ServerView(
        platform="win32",
        source=f"the SQLCheck report of {report.fqdn or report.computer or 'a server'}",
        installed=installed if not report.problems else None,
        installed_evidence=tuple(f"instance {item.name} is in the report" for item in instances),
        instances=instances,
        browser=services.get(BROWSER.upper()),
        wanted_instance=instance,
        identity=identity,
        problems=report.problems,
    )
