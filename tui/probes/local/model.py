"""Shapes the Windows and Linux readers share, so the comparison does not care which OS it saw."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum


class ServiceState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    PAUSED = "paused"
    STARTING = "starting"
    STOPPING = "stopping"
    FAILED = "failed"  # systemd: failed; Windows: stopped with an exit code
    NOT_INSTALLED = "not installed"
    UNKNOWN = "unknown"


class StartType(StrEnum):
    AUTOMATIC = "automatic"
    DELAYED = "automatic (delayed start)"
    MANUAL = "manual"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ServiceInfo:
    """One service: `MSSQLSERVER`, `MSSQL$INST`, `SQLBrowser`, or systemd's `mssql-server`."""

    name: str
    state: ServiceState = ServiceState.UNKNOWN
    start_type: StartType = StartType.UNKNOWN
    account: str | None = None
    display_name: str | None = None
    exit_code: int | None = None  # WIN32_EXIT_CODE, or systemd's ExecMainStatus
    service_exit_code: int | None = None
    detail: str | None = None  # plain words from the source (systemd's Active: line)
    source: str = ""  # where the state was read: "sc query", "systemctl", a report

    def evidence(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": self.state.value,
            "start_type": self.start_type.value,
            "account": self.account,
            "exit_code": self.exit_code,
            "service_exit_code": self.service_exit_code,
            "detail": self.detail,
            "source": self.source,
        }


@dataclass(frozen=True)
class IpEntry:
    """One `Tcp\\IPn` key: a single address SQL Server may listen on when not on all IPs."""

    key: str
    address: str | None
    enabled: bool | None
    active: bool | None
    static_ports: tuple[int, ...] = ()
    dynamic_ports: tuple[int, ...] = ()
    dynamic_requested: bool = False


@dataclass(frozen=True)
class InstanceConfig:
    """The network configuration of one instance, as its configuration store says."""

    name: str  # MSSQLSERVER for the default instance (and for SQL Server on Linux)
    service: str  # MSSQLSERVER, MSSQL$NAME, mssql-server
    config_where: str  # the registry key or file that holds it
    instance_id: str | None = None  # MSSQL16.MSSQLSERVER
    tcp_enabled: bool | None = None
    listen_all: bool | None = None
    static_ports: tuple[int, ...] = ()  # IPAll TcpPort (or mssql.conf tcpport)
    dynamic_ports: tuple[int, ...] = ()  # IPAll TcpDynamicPorts as last written by SQL Server
    dynamic_requested: bool = False  # TcpDynamicPorts = 0: a new port at every start
    ip_entries: tuple[IpEntry, ...] = ()
    listen_addresses: tuple[str, ...] = ()  # mssql.conf network.ipaddress
    hidden: bool | None = None
    force_encryption: bool | None = None
    certificate: str | None = None
    tls_key: str | None = None
    tls_protocols: str | None = None
    named_pipes_enabled: bool | None = None
    errorlog_path: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.name.upper() == "MSSQLSERVER"

    @property
    def uses_dynamic_ports(self) -> bool:
        return not self.static_ports and (self.dynamic_requested or bool(self.dynamic_ports))

    def configured_ports(self) -> tuple[int, ...]:
        """Every TCP port the configuration points at (all IPs, or each enabled IPn)."""
        ports: list[int] = [*self.static_ports, *self.dynamic_ports]
        if self.listen_all is False and self.ip_entries:
            ports = []
            for entry in self.ip_entries:
                if entry.enabled:
                    ports.extend([*entry.static_ports, *entry.dynamic_ports])
        return tuple(dict.fromkeys(ports))

    def evidence(self) -> dict[str, object]:
        return {
            "name": self.name,
            "service": self.service,
            "config_where": self.config_where,
            "instance_id": self.instance_id,
            "tcp_enabled": self.tcp_enabled,
            "listen_all": self.listen_all,
            "static_ports": list(self.static_ports),
            "dynamic_ports": list(self.dynamic_ports),
            "dynamic_requested": self.dynamic_requested,
            "ip_entries": [
                {
                    "key": entry.key,
                    "address": entry.address,
                    "enabled": entry.enabled,
                    "active": entry.active,
                    "static_ports": list(entry.static_ports),
                    "dynamic_ports": list(entry.dynamic_ports),
                }
                for entry in self.ip_entries
            ],
            "listen_addresses": list(self.listen_addresses),
            "hidden": self.hidden,
            "force_encryption": self.force_encryption,
            "certificate": self.certificate,
            "tls_key": self.tls_key,
            "tls_protocols": self.tls_protocols,
            "errorlog_path": self.errorlog_path,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class OsListener:
    """A listening TCP socket as the operating system reports it (ss, netstat)."""

    address: str  # 0.0.0.0, ::, *, 127.0.0.1, ...
    port: int
    pid: int | None = None
    process: str | None = None

    @property
    def all_addresses(self) -> bool:
        return self.address in {"0.0.0.0", "::", "*", "[::]"}

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.address.strip("[]").split("%")[0]).is_loopback
        except ValueError:
            return False

    def evidence(self) -> dict[str, object]:
        return {
            "address": self.address,
            "port": self.port,
            "pid": self.pid,
            "process": self.process,
        }


def parse_port_list(text: str | None) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """`1433`, `1433,1500`, ` 1433 , 1500 ` -> ports; anything else is a problem, not an error."""
    if text is None or not text.strip():
        return (), ()
    ports: list[int] = []
    problems: list[str] = []
    for part in text.replace(";", ",").split(","):
        item = part.strip()
        if not item:
            continue
        if item.isascii() and item.isdigit() and 0 < int(item) <= 65535:
            ports.append(int(item))
        else:
            problems.append(f"'{item[:20]}' is not a TCP port number")
    return tuple(dict.fromkeys(ports)), tuple(problems)
