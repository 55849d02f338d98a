"""SQL Server on this Linux machine: the mssql-server unit, mssql.conf, sockets, error log.

- `systemctl status mssql-server`: the `Loaded:` and `Active:` lines and the journal lines under
  them (real samples: tests/fixtures/windows/linux-systemctl-status-mssql-server-active.txt and
  linux-journal-mssql-server-failed-restart-loop.txt); its exit status follows LSB (systemctl(1),
  "EXIT STATUS": 0 active, 3 not running, 4 no such unit).
- `/var/opt/mssql/mssql.conf` `[network]`: tcpport (1433 when absent), ipaddress,
  forceencryption, tlscert, tlskey, tlsprotocols; `[filelocation]` errorlogfile moves the error
  log (real samples: linux-mssql.conf-*).
- `ss -ltnp`: listening TCP sockets and, where this user may see them, their processes (real
  sample: linux-ss-tlnp-grep-1433-sqlservr-UNATTRIBUTED.txt; the tests also read real `ss`
  output while they run a listener of their own).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Final

from tui.probes.base import in_daemon_thread
from tui.probes.local import ini
from tui.probes.local.errorlog import ErrorLog, read_errorlog
from tui.probes.local.model import (
    InstanceConfig,
    OsListener,
    ServiceInfo,
    ServiceState,
    StartType,
    parse_port_list,
)
from tui.probes.local.system import CommandResult, CommandStatus, Environment, decode_text

UNIT: Final = "mssql-server"
MSSQL_CONF: Final = "/var/opt/mssql/mssql.conf"
DEFAULT_ERRORLOG: Final = "/var/opt/mssql/log/errorlog"
SQLSERVR: Final = "/opt/mssql/bin/sqlservr"
SYSTEMCTL: Final = "systemctl"
SS: Final = "ss"
MAX_CONF_BYTES: Final = 1 << 20

_ACTIVE = re.compile(r"^\s*Active:\s*(?P<state>[a-z-]+)(?:\s*\((?P<sub>[^)]*)\))?(?P<rest>.*)$")
_LOADED = re.compile(r"^\s*Loaded:\s*(?P<load>[a-z-]+)(?:\s*\((?P<inside>[^)]*)\))?")
_MAIN_PID = re.compile(r"^\s*Main PID:\s*(?P<pid>\d+)")
_USERS = re.compile(r'\("(?P<name>[^"]*)",pid=(?P<pid>\d+)')
_UNIT_STATES: Final = {
    "enabled": StartType.AUTOMATIC,
    "enabled-runtime": StartType.AUTOMATIC,
    "disabled": StartType.MANUAL,
    "static": StartType.MANUAL,
    "indirect": StartType.MANUAL,
    "masked": StartType.DISABLED,
    "masked-runtime": StartType.DISABLED,
}


# ---------------------------------------------------------------------------------------------
# systemctl


@dataclass(frozen=True)
class SystemdStatus:
    service: ServiceInfo
    restart_loop: bool = False
    journal: tuple[str, ...] = ()
    available: bool = True  # False: no systemd here (a container, WSL without systemd)
    problems: tuple[str, ...] = ()
    main_pid: int | None = None


def parse_systemctl_status(text: str, returncode: int | None = None) -> SystemdStatus:
    """`systemctl status mssql-server` output (any locale forced to C by the runner)."""
    lowered = text.lower()
    if "not been booted with systemd" in lowered or "failed to connect to bus" in lowered:
        info = ServiceInfo(UNIT, ServiceState.UNKNOWN, detail="systemd is not running here")
        return SystemdStatus(
            info, available=False, problems=("systemd is not running here: no unit state",)
        )
    if "could not be found" in lowered or returncode == 4:
        return SystemdStatus(ServiceInfo(UNIT, ServiceState.NOT_INSTALLED, source="systemctl"))
    state = ServiceState.UNKNOWN
    start = StartType.UNKNOWN
    detail: str | None = None
    pid: int | None = None
    journal: list[str] = []
    for line in text.splitlines():
        active = _ACTIVE.match(line)
        if active:
            state = _systemd_state(active.group("state"), active.group("sub") or "")
            detail = line.strip()[len("Active:") :].strip()
            continue
        loaded = _LOADED.match(line)
        if loaded:
            inside = (loaded.group("inside") or "").split(";")
            if loaded.group("load") == "masked":
                start = StartType.DISABLED
            elif len(inside) > 1:
                start = _UNIT_STATES.get(inside[1].strip(), StartType.UNKNOWN)
            continue
        main = _MAIN_PID.match(line)
        if main:
            pid = int(main.group("pid"))
            continue
        if "systemd[" in line or "mssql-server.service:" in line or "sqlservr[" in line:
            journal.append(line.strip().lstrip("- ").strip())
    if state == ServiceState.UNKNOWN and returncode == 3:
        state = ServiceState.STOPPED
    restart_loop = any(
        "start request repeated too quickly" in entry.lower()
        or "scheduled restart job" in entry.lower()
        for entry in journal
    ) or (detail is not None and "auto-restart" in detail)
    info = ServiceInfo(UNIT, state, start, detail=detail, source="systemctl")
    return SystemdStatus(info, restart_loop, tuple(journal[-20:]), main_pid=pid)


def _systemd_state(state: str, sub: str) -> ServiceState:
    if state == "active":
        return ServiceState.RUNNING if sub in {"running", ""} else ServiceState.STARTING
    if state == "failed":
        return ServiceState.FAILED
    if state in {"activating", "reloading"}:
        return ServiceState.STARTING
    if state == "deactivating":
        return ServiceState.STOPPING
    if state == "inactive":
        return ServiceState.STOPPED
    return ServiceState.UNKNOWN


async def read_systemd(environment: Environment, *, timeout: float) -> SystemdStatus:
    argv = (SYSTEMCTL, "status", UNIT, "--no-pager", "--lines=20")
    result = await environment.runner.run(argv, timeout=timeout)
    failure = result.describe_failure()
    if failure is not None:
        info = ServiceInfo(UNIT, ServiceState.UNKNOWN, detail=failure)
        return SystemdStatus(info, available=False, problems=(f"unit state not read: {failure}",))
    text = decode_text(result.stdout + b"\n" + result.stderr).text
    return parse_systemctl_status(text, result.returncode)


# ---------------------------------------------------------------------------------------------
# mssql.conf


def parse_mssql_conf(text: str, path: str = MSSQL_CONF) -> InstanceConfig:
    """The `[network]` settings of mssql.conf; absent settings take SQL Server's defaults."""
    parsed = ini.parse(text, ini.Dialect.ODBC)
    problems = [f"{path}: {problem}" for problem in parsed.problems]
    network = parsed.find("network")
    values = ini.merged(network)
    locations = parsed.find("filelocation")
    files = ini.merged(locations)

    def where(key: str) -> str:
        entry = values.get(key)
        return f"{path} [network] {key} = {entry.value} (line {entry.line})" if entry else path

    ports: tuple[int, ...] = (1433,)
    if "tcpport" in values:
        parsed_ports, bad = parse_port_list(values["tcpport"].value)
        if bad or len(parsed_ports) != 1:
            problems.append(f"{where('tcpport')}: not one TCP port number; SQL Server won't start")
        ports = parsed_ports[:1] or ports
    force = None
    if "forceencryption" in values:
        raw = values["forceencryption"].value.strip()
        force = raw == "1"
        if raw not in {"0", "1"}:
            problems.append(f"{where('forceencryption')}: must be 0 or 1")
    address = values["ipaddress"].value.strip() if "ipaddress" in values else ""
    cert = values["tlscert"].value.strip() if "tlscert" in values else None
    errorlog = files["errorlogfile"].value.strip() if "errorlogfile" in files else None
    return InstanceConfig(
        name="MSSQLSERVER",
        service=UNIT,
        config_where=f"{path} [network]",
        tcp_enabled=True,
        listen_all=not address,
        static_ports=ports,
        listen_addresses=(address,) if address else (),
        force_encryption=force,
        certificate=cert or None,
        tls_key=values["tlskey"].value.strip() or None if "tlskey" in values else None,
        tls_protocols=values["tlsprotocols"].value.strip() if "tlsprotocols" in values else None,
        errorlog_path=errorlog or DEFAULT_ERRORLOG,
        problems=tuple(problems),
    )


# ---------------------------------------------------------------------------------------------
# ss


def parse_ss(text: str) -> tuple[OsListener, ...]:
    """`ss -ltnp` lines: State Recv-Q Send-Q Local:Port Peer:Port [users:((...))]."""
    listeners: list[OsListener] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] != "LISTEN":
            continue
        address, port = _split_address(fields[3])
        if port is None:
            continue
        users = _USERS.search(line)
        listeners.append(
            OsListener(
                address,
                port,
                int(users.group("pid")) if users else None,
                users.group("name") if users else None,
            )
        )
    return tuple(dict.fromkeys(listeners))


def _split_address(text: str) -> tuple[str, int | None]:
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) <= 65535:
        return text, None
    host = host.split("%")[0] if not host.startswith("[") else host
    if host.startswith("["):
        inner = host[1 : host.find("]")] if "]" in host else host[1:]
        host = inner
    return host or "*", int(port)


async def read_listeners(
    environment: Environment, *, timeout: float
) -> tuple[tuple[OsListener, ...], CommandResult]:
    result = await environment.runner.run((SS, "-ltnp"), timeout=timeout)
    if result.status != CommandStatus.OK:
        return (), result
    return parse_ss(decode_text(result.stdout).text), result


# ---------------------------------------------------------------------------------------------
# Everything at once


@dataclass(frozen=True)
class LinuxView:
    installed: bool
    installed_evidence: tuple[str, ...]
    systemd: SystemdStatus
    config: InstanceConfig | None
    listeners: tuple[OsListener, ...]
    errorlog: ErrorLog | None
    problems: tuple[str, ...] = ()
    elapsed_ms: float = 0.0


async def read_linux(environment: Environment, *, timeout: float) -> LinuxView:
    """Unit state, listeners and files side by side; about one `timeout` in all."""
    started = time.perf_counter()
    systemd_task = read_systemd(environment, timeout=timeout)
    listeners_task = read_listeners(environment, timeout=timeout)
    files_task = in_daemon_thread(lambda: _read_files(environment))
    (
        systemd,
        (listeners, ss_result),
        (config, errorlog, evidence, file_problems),
    ) = await asyncio.gather(systemd_task, listeners_task, files_task)
    problems = list(systemd.problems) + file_problems
    failure = ss_result.describe_failure()
    if failure:
        problems.append(f"listening sockets not read: {failure}")
    if systemd.service.state not in {ServiceState.NOT_INSTALLED, ServiceState.UNKNOWN}:
        evidence.append(f"the {UNIT} unit exists ({systemd.service.state.value})")
    if any(listener.process == "sqlservr" for listener in listeners):
        evidence.append("a sqlservr process listens on TCP")
    return LinuxView(
        installed=bool(evidence),
        installed_evidence=tuple(evidence),
        systemd=systemd,
        config=config,
        listeners=listeners,
        errorlog=errorlog,
        problems=tuple(dict.fromkeys(problems)),
        elapsed_ms=round((time.perf_counter() - started) * 1000.0, 3),
    )


def _read_files(
    environment: Environment,
) -> tuple[InstanceConfig | None, ErrorLog | None, list[str], list[str]]:
    evidence: list[str] = []
    problems: list[str] = []
    binary = environment.files.read(SQLSERVR, 0)
    if binary.found:
        evidence.append(f"{SQLSERVR} exists")
    conf = environment.files.read(MSSQL_CONF, MAX_CONF_BYTES)
    config: InstanceConfig | None = None
    if conf.found and conf.data is not None:
        evidence.append(f"{MSSQL_CONF} exists")
        config = parse_mssql_conf(decode_text(conf.data).text)
    elif conf.error not in {"not found", None}:
        problems.append(f"{MSSQL_CONF} cannot be read: {conf.error}")
    if config is None and binary.found:
        config = parse_mssql_conf("", f"{MSSQL_CONF} (absent: SQL Server's defaults)")
    log_path = config.errorlog_path if config and config.errorlog_path else DEFAULT_ERRORLOG
    errorlog: ErrorLog | None = None
    if evidence or environment.files.read(log_path, 0).found:
        errorlog = read_errorlog(environment, log_path)
        if errorlog.startups:
            evidence.append(f"{log_path} records SQL Server starts")
    return config, errorlog, evidence, problems
