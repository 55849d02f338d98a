"""Compare what the client tries with what the server is set up for: each mismatch a finding.

The port the client tries vs the ports the instance is configured for and, at its last start,
listened on; TCP enabled or not; the service stopped, paused, or failing to log on; the Browser's
state for named instances; hidden instances; listening on some addresses only; the firewall.
Each finding names fixes from the catalog (tui/knowledge/fixes/) and carries the values those
fixes need (`port`, `found_port`, `instance`, `service`, `alias_where`), so the engine can render
them without guessing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from tui.probes.local.aliases import AliasResolution
from tui.probes.local.errorlog import ErrorLog
from tui.probes.local.model import InstanceConfig, ServiceInfo, ServiceState, StartType
from tui.probes.local.server import InstanceView, ServerView
from tui.probes.local.windows import Coverage
from tui.target import Source

FIX_IDS: Final = frozenset(
    {
        "start-engine-service",
        "start-browser",
        "set-ipall-port",
        "enable-tcp",
        "open-firewall-tcp",
        "open-firewall-udp-1434",
        "fix-client-alias",
        "update-service-password",
        "connect-with-port",
        "restart-after-rename",
        "enable-tls12",
        "register-spn",
        "unhide-instance",
        "listen-on-all-ips",
        "find-listening-port",
    }
)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_ORDER: Final = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Finding:
    id: str
    severity: Severity
    title: str
    detail: str
    evidence: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    fix_ids: tuple[str, ...] = ()
    values: Mapping[str, str | int] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        unknown = set(self.fix_ids) - FIX_IDS
        if unknown:
            raise ValueError(f"unknown fix ids: {sorted(unknown)}")

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "title": self.title,
            "detail": self.detail,
            "evidence": dict(self.evidence),
            "fix_ids": list(self.fix_ids),
            "values": dict(self.values),
        }


class _Collector:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(
        self,
        id: str,  # noqa: A002 (the field is called id)
        severity: Severity,
        title: str,
        detail: str,
        *,
        evidence: Mapping[str, object] | None = None,
        fixes: tuple[str, ...] = (),
        values: Mapping[str, str | int | None] | None = None,
    ) -> None:
        clean = {key: value for key, value in (values or {}).items() if value is not None}
        self.items.append(
            Finding(
                id,
                severity,
                title,
                detail,
                MappingProxyType(dict(evidence or {})),
                fixes,
                MappingProxyType(clean),
            )
        )

    def result(self) -> tuple[Finding, ...]:
        ranked = sorted(enumerate(self.items), key=lambda pair: (_ORDER[pair[1].severity], pair[0]))
        return tuple(item for _, item in ranked)


def compare(
    port_tried: int | None,
    server_view: ServerView,
    *,
    instance: str | None = None,
    alias: AliasResolution | None = None,
) -> tuple[Finding, ...]:
    """Findings for a client that tries `port_tried` (None: it asks the Browser for the port)
    against this server. `instance` defaults to the view's wanted instance, else the default
    instance; `alias` (when the port came from one) adds the alias fix to a port mismatch."""
    found = _Collector()
    view = server_view
    wanted = instance if instance is not None else view.wanted_instance
    if view.installed is False:
        found.add(
            "not-installed",
            Severity.ERROR,
            "SQL Server is not installed on this machine",
            f"Nothing here is a SQL Server ({view.source}). If the client means this machine, "
            "it has the wrong server name or address; otherwise diagnose the server from here "
            "as a remote one.",
            evidence={"problems": list(view.problems)},
        )
        return found.result()
    chosen = _choose_instance(found, view, wanted, port_tried)
    if chosen is None:
        return found.result()
    values: dict[str, str | int | None] = {
        "instance": chosen.name,
        "service": chosen.config.service,
        "port": port_tried,
    }
    _service_findings(found, view, chosen, values)
    _errorlog_findings(found, chosen, values)
    _tcp_findings(found, chosen, values)
    _port_findings(found, view, chosen, port_tried, alias, values)
    _browser_findings(found, view, chosen, port_tried, values)
    _firewall_findings(found, view, chosen, port_tried, values)
    if chosen.config.force_encryption:
        found.add(
            "force-encryption",
            Severity.INFO,
            f"{chosen.name} requires encrypted connections (ForceEncryption)",
            "Every client must negotiate TLS. A client that cannot (an old driver, TLS 1.0 "
            "only, Encrypt=no with a driver that refuses) fails at pre-login, not at the port.",
            evidence={"force_encryption": True, "where": chosen.config.config_where},
            values=values,
        )
    return found.result()


def _choose_instance(
    found: _Collector, view: ServerView, wanted: str | None, port_tried: int | None
) -> InstanceView | None:
    chosen = view.instance(wanted)
    if chosen is not None:
        return chosen
    listed = ", ".join(_describe_instance(item) for item in view.instances) or "none"
    if not view.instances:
        found.add(
            "instances-unreadable",
            Severity.INFO,
            "The SQL Server instances on this machine could not be read",
            "; ".join(view.problems) or "No instance configuration was found.",
            evidence={"problems": list(view.problems)},
        )
        return None
    if wanted is None or wanted.upper() == "MSSQLSERVER":
        good = _first_port(view.instances[0])
        found.add(
            "no-default-instance",
            Severity.ERROR,
            "This machine has no default instance",
            f"The client asks for the default instance{_on(port_tried)}, but this machine has only "
            f"named instances: {listed}. Connect to host\\NAME, or give that instance's port.",
            evidence={"instances": [item.name for item in view.instances]},
            fixes=("connect-with-port",) if good else (),
            values={"found_port": good, "instances_listed": listed, "port": port_tried},
        )
        return None
    found.add(
        "instance-not-found",
        Severity.ERROR,
        f"There is no instance {wanted} on this machine",
        f"The client asks for instance {wanted}; this machine has {listed}.",
        evidence={"wanted": wanted, "instances": [item.name for item in view.instances]},
        values={"instances_listed": listed},
    )
    return None


def _describe_instance(item: InstanceView) -> str:
    ports = item.config.configured_ports()
    return f"{item.name} (port {', '.join(map(str, ports))})" if ports else item.name


def _first_port(item: InstanceView) -> int | None:
    if item.errorlog and item.errorlog.client_ports and not item.errorlog.stopped:
        return item.errorlog.client_ports[0]
    ports = item.config.configured_ports()
    return ports[0] if ports else None


def _on(port: int | None) -> str:
    return f" on port {port}" if port else ""


# ---------------------------------------------------------------------------------------------
# The service


def _service_findings(
    found: _Collector, view: ServerView, chosen: InstanceView, values: dict[str, str | int | None]
) -> None:
    service = chosen.service
    logon = [event for event in chosen.events if event.logon_failure]
    running = service is not None and service.state == ServiceState.RUNNING
    if logon:
        last = logon[0]
        found.add(
            "service-logon-failure",
            Severity.WARNING if running else Severity.ERROR,
            f"The {chosen.config.service} service could not log on"
            + (" (earlier; it runs now)" if running else ""),
            f"{last.meaning}. The service account's password (or its right to log on as a "
            "service) must be fixed before the service can start: update it in SQL Server "
            "Configuration Manager, which also grants the rights.",
            evidence={"events": [event.evidence() for event in logon[:5]]},
            fixes=("update-service-password",),
            values={**values, "account": last.account},
        )
    starts = [e for e in chosen.events if not e.logon_failure]
    if starts and not running:
        found.add(
            "service-start-failure",
            Severity.ERROR,
            f"The {chosen.config.service} service failed to start",
            starts[0].meaning + ".",
            evidence={"events": [event.evidence() for event in starts[:5]]},
            fixes=("start-engine-service",),
            values=values,
        )
    if service is None:
        return
    disabled = service.start_type == StartType.DISABLED
    note = (
        " Its start type is Disabled: set it to Automatic first, or it cannot be started."
        if disabled
        else ""
    )
    evidence = {"service": service.evidence(), "journal": list(view.journal)}
    if view.restart_loop:
        found.add(
            "service-restart-loop",
            Severity.ERROR,
            f"{service.name} starts and fails again and again",
            "systemd restarts the service and it exits each time ("
            + "; ".join(view.journal[-3:])
            + "). The error log says why it stops.",
            evidence=evidence,
            fixes=("start-engine-service",),
            values=values,
        )
    elif service.state in {ServiceState.STOPPED, ServiceState.FAILED}:
        code = f" (exit code {service.exit_code})" if service.exit_code else ""
        found.add(
            "service-stopped",
            Severity.ERROR,
            f"The {service.name} service is {service.state.value}",
            f"Nothing accepts connections while the database engine is not running{code}." + note,
            evidence=evidence,
            fixes=("start-engine-service",),
            values=values,
        )
    elif service.state == ServiceState.PAUSED:
        found.add(
            "service-paused",
            Severity.ERROR,
            f"The {service.name} service is paused",
            "A paused SQL Server keeps its connections but refuses new logins (error 18456, "
            "state 13). Resume it (net continue, or Start-Service).",
            evidence=evidence,
            fixes=("start-engine-service",),
            values=values,
        )
    elif service.state in {ServiceState.STARTING, ServiceState.STOPPING}:
        found.add(
            "service-changing",
            Severity.WARNING,
            f"The {service.name} service is {service.state.value}",
            "Connections fail until it has finished; check again in a minute.",
            evidence=evidence,
            values=values,
        )
    elif service.state == ServiceState.NOT_INSTALLED:
        found.add(
            "service-missing",
            Severity.ERROR,
            f"The {service.name} service does not exist",
            f"The instance {chosen.name} is registered but its service is not installed: a "
            "broken or half-removed installation.",
            evidence=evidence,
            values=values,
        )
    elif service.state == ServiceState.UNKNOWN:
        found.add(
            "service-state-unknown",
            Severity.INFO,
            f"The state of {service.name} could not be read",
            service.detail or "The service manager did not say.",
            evidence=evidence,
            values=values,
        )
    elif disabled:
        found.add(
            "service-disabled",
            Severity.WARNING,
            f"The {service.name} service runs but its start type is Disabled",
            "It will not start again after a restart of the service or the machine.",
            evidence=evidence,
            values=values,
        )


# ---------------------------------------------------------------------------------------------
# The error log


def _errorlog_findings(
    found: _Collector, chosen: InstanceView, values: dict[str, str | int | None]
) -> None:
    log = chosen.errorlog
    if log is None:
        return
    evidence = {"errorlog": log.path, "started_at": log.started_at}
    if log.problems and not log.startups and not log.errors:
        found.add(
            "errorlog-unreadable",
            Severity.INFO,
            "The error log could not be used",
            "; ".join(log.problems) + ". Where SQL Server listens and why it stopped are "
            "written there; read it as an administrator (or EXEC xp_readerrorlog).",
            evidence={**evidence, "problems": list(log.problems)},
            values=values,
        )
    for error in log.errors:
        text = f"{log.path or 'ERRORLOG'}: Error {error.number}: {error.message}"
        if "every network protocol" in error.meaning:
            found.add(
                "all-protocols-disabled",
                Severity.ERROR,
                "SQL Server stopped at start: every network protocol is disabled",
                f"{error.meaning} ({text}). Enable TCP/IP and start the service.",
                evidence={**evidence, "line": error.line},
                fixes=("enable-tcp",),
                values=values,
            )
            break
        if "certificate" in error.meaning:
            found.add(
                "certificate-load-failure",
                Severity.ERROR,
                "SQL Server stopped at start: its TLS certificate cannot be loaded",
                f"{error.meaning} ({text}). Pick a valid certificate (or none) in Configuration "
                "Manager, Protocols, Certificate, then start the service.",
                evidence={**evidence, "line": error.line},
                values=values,
            )
            break
        if "already in use" in error.meaning:
            port = log.ports_in_use[0] if log.ports_in_use else None
            found.add(
                "port-in-use",
                Severity.ERROR,
                f"At its last start the TCP port{_on(port).replace(' on', '')} was taken by "
                "another program",
                f"{error.meaning} ({text}). Find the program on that port, or move SQL Server "
                "to another port.",
                evidence={**evidence, "line": error.line},
                fixes=("find-listening-port", "set-ipall-port"),
                values={**values, "port": port if port is not None else values.get("port")},
            )
            break
    if log.local_only_ports and not log.client_ports:
        only = ", ".join(str(port) for port in log.local_only_ports)
        found.add(
            "local-connections-only",
            Severity.ERROR,
            f"At its last start SQL Server listened on loopback only (port {only})",
            f"{log.path or 'ERRORLOG'}: every 'Server is listening on' line names a loopback "
            "address: what SQL Server 2005's Surface Area Configuration called 'Local "
            "connections only'. Clients from other machines are refused.",
            evidence=evidence,
            fixes=("listen-on-all-ips", "enable-tcp"),
            values=values,
        )
    if log.ready is False and not log.errors and log.startups:
        found.add(
            "not-ready",
            Severity.WARNING,
            "The error log does not say SQL Server became ready",
            f"{log.summary()}. It may still be starting, or it stopped during start.",
            evidence=evidence,
            values=values,
        )
    if log.spn_failures:
        found.add(
            "spn-not-registered",
            Severity.INFO,
            "SQL Server could not register its Kerberos SPN",
            f"{log.path or 'ERRORLOG'}: SPN {', '.join(log.spn_failures)} was not registered. "
            "Windows authentication from other machines falls back to NTLM or fails with "
            "'Cannot generate SSPI context'; SQL logins are not affected.",
            evidence={**evidence, "spns": list(log.spn_failures)},
            fixes=("register-spn",),
            values=values,
        )
    if log.login_failures:
        last = log.login_failures[-1]
        states = sorted({f.state for f in log.login_failures if f.state is not None})
        found.add(
            "login-failures",
            Severity.INFO,
            f"The error log records {len(log.login_failures)} failed logins",
            f"The last one: user '{last.user}', state {last.state}: {last.meaning}"
            + (f", from {last.client}" if last.client else "")
            + ". The client always sees state 1; the server's state says why.",
            evidence={**evidence, "states": states, "last": log.evidence()["login_failures"]},
            values=values,
        )


# ---------------------------------------------------------------------------------------------
# TCP, ports, addresses


def _tcp_findings(
    found: _Collector, chosen: InstanceView, values: dict[str, str | int | None]
) -> None:
    config = chosen.config
    evidence = {"config": config.evidence()}
    if config.problems:
        found.add(
            "config-unreadable",
            Severity.INFO,
            f"Part of {chosen.name}'s configuration could not be read",
            "; ".join(config.problems[:5]),
            evidence=evidence,
            values=values,
        )
    if config.tcp_enabled is False:
        log = chosen.errorlog
        still = (
            f" (its last start still listened on {', '.join(map(str, log.client_ports))}: the "
            "change applies at the next restart)"
            if log and log.client_ports and not log.stopped
            else ""
        )
        found.add(
            "tcp-disabled",
            Severity.ERROR,
            f"TCP/IP is disabled for {chosen.name}",
            f"{config.config_where}\\Tcp: Enabled = 0. The instance accepts only shared memory "
            f"and named pipes: every TCP client is refused{still}.",
            evidence=evidence,
            fixes=("enable-tcp",),
            values=values,
        )
        return
    if config.listen_all is False and config.ip_entries:
        enabled = [entry for entry in config.ip_entries if entry.enabled]
        if enabled and all(_loopback(entry.address) for entry in enabled):
            found.add(
                "local-connections-only",
                Severity.ERROR,
                f"{chosen.name} accepts local connections only",
                f"ListenOnAllIPs = 0 and only loopback addresses are enabled "
                f"({', '.join(str(e.address) for e in enabled)}): what SQL Server 2005's "
                "Surface Area Configuration called 'Local connections only'. Clients from "
                "other machines are refused.",
                evidence=evidence,
                fixes=("listen-on-all-ips",),
                values=values,
            )
            return
        addresses = ", ".join(f"{e.address} ({e.key})" for e in enabled) or "none"
        found.add(
            "listens-on-some-addresses" if enabled else "no-address-enabled",
            Severity.WARNING if enabled else Severity.ERROR,
            f"{chosen.name} listens only on chosen addresses"
            if enabled
            else f"{chosen.name} listens on no address",
            f"ListenOnAllIPs = 0, so only the enabled IPn entries count: {addresses}. A client "
            "that reaches the server by another address is refused.",
            evidence=evidence,
            fixes=("listen-on-all-ips",),
            values=values,
        )
    if config.listen_addresses:
        found.add(
            "listens-on-some-addresses",
            Severity.WARNING,
            f"SQL Server listens only on {', '.join(config.listen_addresses)}",
            f"{config.config_where}: ipaddress = {', '.join(config.listen_addresses)}. A client "
            "that reaches the server by another address is refused.",
            evidence=evidence,
            fixes=("listen-on-all-ips",),
            values=values,
        )


def _port_findings(
    found: _Collector,
    view: ServerView,
    chosen: InstanceView,
    port_tried: int | None,
    alias: AliasResolution | None,
    values: dict[str, str | int | None],
) -> None:
    config = chosen.config
    log = chosen.errorlog
    configured = config.configured_ports()
    listening = log.client_ports if log and not log.stopped else ()
    effective = listening or configured
    os_ports = {listener.port for listener in view.listeners}
    evidence: dict[str, object] = {
        "port_tried": port_tried,
        "configured_ports": list(configured),
        "errorlog_ports": list(listening),
        "os_listening": sorted(os_ports),
        "dynamic": config.uses_dynamic_ports,
    }
    if config.uses_dynamic_ports:
        found.add(
            "dynamic-port",
            Severity.WARNING if config.is_default else Severity.INFO,
            f"{chosen.name} uses a dynamic TCP port",
            "The port can change at every start; only clients that ask the SQL Server Browser "
            "(or are told the new port) still find it"
            + (
                ". A default instance is expected on 1433: set a static port."
                if config.is_default
                else ". A static port is easier for firewalls and clients."
            ),
            evidence=evidence,
            fixes=("set-ipall-port",),
            values={**values, "port": port_tried or (1433 if config.is_default else None)},
        )
    if port_tried is None or config.tcp_enabled is False:
        return
    other = _other_owner(view, port_tried)
    if other is not None:
        found.add(
            "port-taken",
            Severity.ERROR,
            f"Port {port_tried} belongs to another program",
            f"{other} listens on {port_tried}, not SQL Server.",
            evidence=evidence,
            fixes=("find-listening-port",),
            values=values,
        )
    if port_tried in effective:
        if view.listeners_read and os_ports and port_tried not in os_ports:
            found.add(
                "port-not-listening",
                Severity.ERROR,
                f"Nothing listens on port {port_tried} right now",
                f"{chosen.name} is set up for {port_tried}, but the operating system shows no "
                "listener there: SQL Server is not running, or failed to bind the port.",
                evidence=evidence,
                fixes=("start-engine-service", "find-listening-port"),
                values=values,
            )
        return
    if port_tried in configured and listening:
        found.add(
            "restart-pending",
            Severity.WARNING,
            f"{chosen.name} is set to port {port_tried} but still listens on "
            f"{', '.join(map(str, listening))}",
            "The port was changed after the last start; it applies when the service restarts.",
            evidence=evidence,
            fixes=("set-ipall-port",),
            values={**values, "found_port": listening[0]},
        )
        return
    if not effective:
        return
    good = effective[0]
    fixes: list[str] = []
    from_alias = _port_from_alias(alias)
    if from_alias:
        fixes.append("fix-client-alias")
    fixes.extend(["connect-with-port", "set-ipall-port"])
    where = (
        f"at its last start it listened on {', '.join(map(str, listening))}"
        if listening
        else f"it is configured for {', '.join(map(str, configured))}"
    )
    cause = f" The port {port_tried} comes from {from_alias}." if from_alias else ""
    found.add(
        "wrong-port",
        Severity.ERROR,
        f"The client tries port {port_tried}, but {chosen.name} uses {good}",
        f"{chosen.name}: {where} ({config.config_where}).{cause} Connect to port {good}, or "
        f"move SQL Server to {port_tried}.",
        evidence=evidence,
        fixes=tuple(fixes),
        values={
            **values,
            "found_port": good,
            "alias_where": alias.alias_where if alias and from_alias else None,
        },
    )


def _port_from_alias(alias: AliasResolution | None) -> str | None:
    if alias is None or not alias.applied:
        return None
    origin = alias.target.origins.get("port")
    if origin is not None and origin.source in {Source.ALIAS, Source.DSN}:
        return origin.detail
    return None


def _other_owner(view: ServerView, port: int) -> str | None:
    """A listener on `port` owned by a known process that is not SQL Server (Linux ss)."""
    for listener in view.listeners:
        if listener.port == port and listener.process and listener.process != "sqlservr":
            return f"the process {listener.process} (pid {listener.pid})"
    return None


# ---------------------------------------------------------------------------------------------
# Browser and firewall


def _browser_findings(
    found: _Collector,
    view: ServerView,
    chosen: InstanceView,
    port_tried: int | None,
    values: dict[str, str | int | None],
) -> None:
    if chosen.config.is_default or view.platform != "win32":
        return
    needs_browser = port_tried is None
    browser: ServiceInfo | None = view.browser
    good = _first_port(chosen)
    if chosen.config.hidden and needs_browser:
        found.add(
            "instance-hidden",
            Severity.ERROR,
            f"{chosen.name} is hidden from the SQL Server Browser",
            "HideInstance = 1: the Browser does not tell clients this instance's port, so "
            "host\\instance without a port fails (error 26). Give the port, or unhide it.",
            evidence={"where": chosen.config.config_where},
            fixes=("connect-with-port", "unhide-instance") if good else ("unhide-instance",),
            values={**values, "found_port": good},
        )
    if browser is None or browser.state == ServiceState.RUNNING:
        return
    if browser.state == ServiceState.UNKNOWN:
        return
    disabled = " and its start type is Disabled" if browser.start_type == StartType.DISABLED else ""
    fixes = ("start-browser", "connect-with-port") if good else ("start-browser",)
    found.add(
        "browser-not-running",
        Severity.ERROR if needs_browser else Severity.INFO,
        f"The SQL Server Browser is {browser.state.value}{disabled}",
        (
            f"A named instance without a port needs the Browser (UDP 1434) to find {chosen.name}'s "
            "port; without it the client fails with error 26."
            if needs_browser
            else "The client gives the port, so it does not need the Browser; others might."
        ),
        evidence={"browser": browser.evidence()},
        fixes=fixes,
        values={**values, "found_port": good},
    )


def _firewall_findings(
    found: _Collector,
    view: ServerView,
    chosen: InstanceView,
    port_tried: int | None,
    values: dict[str, str | int | None],
) -> None:
    firewall = view.firewall
    if firewall is None:
        return
    if not firewall.read:
        found.add(
            "firewall-unknown",
            Severity.INFO,
            "The Windows Firewall rules could not be read",
            "; ".join(firewall.problems) or "No answer from the firewall cmdlets.",
            evidence={"problems": list(firewall.problems)},
        )
        return
    ports = [port_tried] if port_tried else list(_effective(chosen))[:1]
    for port in ports:
        check = firewall.check("TCP", port, ("sqlservr.exe",))
        if check.coverage in {Coverage.BLOCKED, Coverage.NOT_ALLOWED}:
            blocked = check.coverage == Coverage.BLOCKED
            found.add(
                "firewall-blocks-tcp" if blocked else "firewall-tcp-not-open",
                Severity.ERROR if blocked else Severity.WARNING,
                f"The Windows Firewall {'blocks' if blocked else 'does not open'} TCP {port}",
                (
                    "A block rule matches: " + "; ".join(r.describe() for r in check.rules)
                    if blocked
                    else f"No enabled inbound rule allows TCP {port} (or sqlservr.exe)"
                )
                + ". Clients on other machines time out; clients on this machine are not "
                "affected.",
                evidence=check.evidence(),
                fixes=("open-firewall-tcp",),
                values={**values, "port": port},
            )
    if not chosen.config.is_default and port_tried is None:
        check = firewall.check("UDP", 1434, ("sqlbrowser.exe",))
        if check.coverage in {Coverage.BLOCKED, Coverage.NOT_ALLOWED}:
            found.add(
                "firewall-udp-1434-closed",
                Severity.ERROR,
                "The Windows Firewall does not let the Browser's UDP 1434 in",
                f"The client needs the Browser to find {chosen.name}'s port; with UDP 1434 "
                f"{check.coverage.value}, it fails with error 26 from other machines.",
                evidence=check.evidence(),
                fixes=("open-firewall-udp-1434",),
                values=values,
            )


def _effective(chosen: InstanceView) -> tuple[int, ...]:
    log: ErrorLog | None = chosen.errorlog
    config: InstanceConfig = chosen.config
    if log and log.client_ports and not log.stopped:
        return log.client_ports
    return config.configured_ports()


def _loopback(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False
