"""SQL Server on this Windows machine: instances, their network settings, services, firewall.

Where each fact lives (and who reads it the same way):
- Instances: `HKLM\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\Instance Names\\SQL` (value =
  instance, data = instance id such as MSSQL16.MSSQLSERVER), and its WOW6432Node twin.
- Network settings: `...\\<id>\\MSSQLServer\\SuperSocketNetLib` (`ForceEncryption`,
  `HideInstance`, `Certificate`), `\\Tcp` (`Enabled`, `ListenOnAllIPs`), `\\Tcp\\IPAll` and
  `\\Tcp\\IPn` (`TcpPort`, `TcpDynamicPorts`, `IpAddress`, `Enabled`, `Active`); the ERRORLOG path
  is the `-e` startup parameter under `...\\MSSQLServer\\Parameters`. Microsoft's SQLCheck reads
  the same values (Collectors.cs `ProcessMSSQLServer`).
- Services: state from `sc query` (real output: tests/fixtures/windows/sc-query-*, one of them
  Spanish), read by the place and shape of its values, never by its translated field names; start
  type and log-on account from `HKLM\\SYSTEM\\CurrentControlSet\\Services\\<name>` `Start`
  (2 automatic, 3 manual, 4 disabled) and `ObjectName` (the Windows 2000 registry reference,
  Microsoft). When sc.exe is missing, `Get-Service -Name <exact name>` as JSON: its table cuts
  names at 18 characters (real samples: `MSSQLServerOLAP...`, `…` in PowerShell 7).
- Listening sockets: `netstat -ano` (real output, unattributed, in the fixtures).
- Firewall: Get-NetFirewallPortFilter / Get-NetFirewallRule / Get-NetFirewallApplicationFilter /
  Get-NetFirewallProfile, as JSON built by the script below. No real output of these cmdlets (nor
  of `netsh advfirewall firewall show rule`) could be found; the parser follows their documented
  values (New-NetFirewallRule: LocalPort is a port, a range `a-b`, or a keyword such as Any or
  RPC; Protocol TCP, UDP, Any or a number; Action Allow or Block; Enabled True or False).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from tui.probes.base import in_daemon_thread
from tui.probes.local.errorlog import ErrorLog, read_errorlog
from tui.probes.local.eventlog import EventScan, read_service_events
from tui.probes.local.model import (
    InstanceConfig,
    IpEntry,
    OsListener,
    ServiceInfo,
    ServiceState,
    StartType,
    parse_port_list,
)
from tui.probes.local.system import (
    CommandResult,
    CommandStatus,
    Environment,
    Hive,
    RegistryKey,
    RegistryReader,
    decode_text,
    powershell,
    powershell_timeout,
)

SQL_ROOTS: Final = (
    r"SOFTWARE\Microsoft\Microsoft SQL Server",
    r"SOFTWARE\WOW6432Node\Microsoft\Microsoft SQL Server",
)
SERVICES_KEY: Final = r"SYSTEM\CurrentControlSet\Services"
BROWSER: Final = "SQLBrowser"
SC: Final = "sc.exe"
NETSTAT: Final = "netstat.exe"
ERROR_SERVICE_DOES_NOT_EXIST: Final = 1060

_SC_STATES: Final = {
    1: ServiceState.STOPPED,
    2: ServiceState.STARTING,
    3: ServiceState.STOPPING,
    4: ServiceState.RUNNING,
    5: ServiceState.STARTING,  # CONTINUE_PENDING
    6: ServiceState.STOPPING,  # PAUSE_PENDING
    7: ServiceState.PAUSED,
}
_START_TYPES: Final = {2: StartType.AUTOMATIC, 3: StartType.MANUAL, 4: StartType.DISABLED}


def service_name(instance: str) -> str:
    return "MSSQLSERVER" if instance.upper() == "MSSQLSERVER" else f"MSSQL${instance}"


# ---------------------------------------------------------------------------------------------
# Registry: instances and their network settings


def read_instances(registry: RegistryReader) -> tuple[tuple[InstanceConfig, ...], tuple[str, ...]]:
    """Every SQL Server instance registered on this machine, with its network settings."""
    instances: list[InstanceConfig] = []
    problems: list[str] = []
    seen: set[str] = set()
    for root in SQL_ROOTS:
        path = f"{root}\\Instance Names\\SQL"
        try:
            names = registry.open(Hive.HKLM, path)
        except OSError as error:
            problems.append(f"HKEY_LOCAL_MACHINE\\{path} cannot be read: {error}")
            continue
        if names is None:
            continue
        for instance, instance_id in names.values.items():
            if not instance or not isinstance(instance_id, str) or instance.upper() in seen:
                continue
            seen.add(instance.upper())
            instances.append(read_instance_config(registry, root, instance, instance_id))
    return tuple(instances), tuple(problems)


def read_instance_config(
    registry: RegistryReader, root: str, instance: str, instance_id: str
) -> InstanceConfig:
    base = f"{root}\\{instance_id}\\MSSQLServer"
    netlib_path = f"{base}\\SuperSocketNetLib"
    problems: list[str] = []

    def open_key(path: str) -> RegistryKey | None:
        try:
            key = registry.open(Hive.HKLM, path)
        except OSError as error:
            problems.append(
                f"HKEY_LOCAL_MACHINE\\{path} cannot be read ({error}): run as an administrator"
            )
            return None
        return key

    netlib = open_key(netlib_path)
    tcp = open_key(f"{netlib_path}\\Tcp")
    pipes = open_key(f"{netlib_path}\\Np")
    parameters = open_key(f"{base}\\Parameters")
    if netlib is None and not problems:
        problems.append(f"HKEY_LOCAL_MACHINE\\{netlib_path} is missing")
    if tcp is None and not problems:
        problems.append(f"HKEY_LOCAL_MACHINE\\{netlib_path}\\Tcp is missing")
    static: tuple[int, ...] = ()
    dynamic: tuple[int, ...] = ()
    requested = False
    entries: list[IpEntry] = []
    if tcp is not None:
        for sub in tcp.subkeys:
            key = open_key(f"{netlib_path}\\Tcp\\{sub}")
            if key is None:
                continue
            ports, dyn, wants_dynamic = _tcp_ports(key, problems)
            if sub.lower() == "ipall":
                static, dynamic, requested = ports, dyn, wants_dynamic
            elif re.fullmatch(r"(?i)ip\d+", sub):
                entries.append(
                    IpEntry(
                        key=sub,
                        address=key.text("IpAddress"),
                        enabled=_flag(key, "Enabled"),
                        active=_flag(key, "Active"),
                        static_ports=ports,
                        dynamic_ports=dyn,
                        dynamic_requested=wants_dynamic,
                    )
                )
    errorlog = None
    if parameters is not None:
        for value in parameters.values.values():
            if isinstance(value, str) and value.startswith("-e"):
                errorlog = value[2:].strip() or None
    return InstanceConfig(
        name=instance,
        service=service_name(instance),
        config_where=f"HKEY_LOCAL_MACHINE\\{netlib_path}",
        instance_id=instance_id,
        tcp_enabled=_flag(tcp, "Enabled") if tcp else None,
        listen_all=_flag(tcp, "ListenOnAllIPs") if tcp else None,
        static_ports=static,
        dynamic_ports=dynamic,
        dynamic_requested=requested,
        ip_entries=tuple(sorted(entries, key=lambda e: _ip_order(e.key))),
        hidden=_flag(netlib, "HideInstance") if netlib else None,
        force_encryption=(
            bool((netlib.number("ForceEncryption") or 0) or (netlib.number("Encrypt") or 0))
            if netlib
            else None
        ),
        certificate=(netlib.text("Certificate") or None) if netlib else None,
        named_pipes_enabled=_flag(pipes, "Enabled") if pipes else None,
        errorlog_path=errorlog,
        problems=tuple(problems),
    )


def _tcp_ports(
    key: RegistryKey, problems: list[str]
) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
    static, bad_static = parse_port_list(key.text("TcpPort"))
    dynamic_text = (key.text("TcpDynamicPorts") or "").strip()
    requested = dynamic_text == "0"
    dynamic, bad_dynamic = ((), ()) if requested else parse_port_list(dynamic_text)
    for problem in (*bad_static, *bad_dynamic):
        problems.append(f"{key.where}: {problem}")
    return static, dynamic, requested


def _flag(key: RegistryKey | None, name: str) -> bool | None:
    if key is None:
        return None
    value = key.number(name)
    return None if value is None else value != 0


def _ip_order(name: str) -> int:
    digits = re.sub(r"\D", "", name)
    return int(digits) if digits else 0


# ---------------------------------------------------------------------------------------------
# Services


def parse_sc_query(text: str) -> tuple[ServiceInfo, ...]:
    """`sc query` / `sc query type= service` output, in any display language.

    sc.exe translates its field names (`NOMBRE_SERVICIO`, `ESTADO`, `CÓD_SALIDA_WIN32` on a
    Spanish Windows: tests/fixtures/windows/sc-query-localised-es-*) and writes them in the OEM
    code page, but not its values: so fields are found by place and shape, never by name. A block
    starts with its unindented lines (the service name, then the display name when sc prints
    one); among its indented lines, STATE is the one whose value is a number and a state name
    (`4  RUNNING`, the same words in every language seen), and the two exit codes are the next
    two values of the form `1066  (0x42a)` (WIN32_EXIT_CODE, then SERVICE_EXIT_CODE)."""
    services: list[ServiceInfo] = []
    block: _ScBlock | None = None
    for line in text.splitlines():
        match = _SC_FIELD.match(line)
        if not match:
            continue
        indented, value = bool(match.group(1)), match.group(3).strip()
        if not indented:
            if block is None or block.fields:  # a name line after fields: the next service
                if block is not None:
                    services.extend(block.service())
                block = _ScBlock()
            block.heads.append(value)
        elif block is not None:
            block.fields.append(value)
    if block is not None:
        services.extend(block.service())
    return tuple(services)


# "KEY : value": the key is one word of capitals (any script), digits, `_` or `.`, at least two
# characters, so a prompt such as `C:\Users>sc query` is never read as a field.
_SC_FIELD: Final = re.compile(r"^(\s*)([^\W\d_a-z][^\s:a-z]+)\s*:\s*(.*?)\s*$")
_SC_STATE_VALUE: Final = re.compile(
    r"^(\d+)\s+(STOPPED|START_PENDING|STOP_PENDING|RUNNING|CONTINUE_PENDING|PAUSE_PENDING|"
    r"PAUSED)\b"
)
_SC_CODE_VALUE: Final = re.compile(r"^(\d+)\s+\(0x[0-9A-Fa-f]+\)$")


@dataclass
class _ScBlock:
    heads: list[str] = field(default_factory=list)  # service name, display name
    fields: list[str] = field(default_factory=list)  # the indented values, in order

    def service(self) -> tuple[ServiceInfo, ...]:
        if not self.heads or not self.heads[0]:
            return ()
        state = ServiceState.UNKNOWN
        codes: list[int] = []
        after_state = False
        for value in self.fields:
            state_match = _SC_STATE_VALUE.match(value)
            if state_match and not after_state:
                state = _SC_STATES.get(int(state_match.group(1)), ServiceState.UNKNOWN)
                after_state = True
                continue
            code_match = _SC_CODE_VALUE.match(value)
            if after_state and code_match and len(codes) < 2:
                codes.append(int(code_match.group(1)))
        exit_code = codes[0] if codes else None
        service_exit = codes[1] if len(codes) > 1 else None
        if state == ServiceState.STOPPED and exit_code not in {None, 0, 1077}:
            state = ServiceState.FAILED  # 1077: never started since the last boot
        display = self.heads[1] if len(self.heads) > 1 and self.heads[1] else None
        return (
            ServiceInfo(
                name=self.heads[0],
                state=state,
                display_name=display,
                exit_code=exit_code,
                service_exit_code=service_exit,
                source="sc query",
            ),
        )


def _first_int(text: str | None) -> int | None:
    match = re.match(r"\s*(\d+)", text or "")
    return int(match.group(1)) if match else None


def sc_says_not_installed(result: CommandResult) -> bool:
    """sc.exe exits with the Win32 error; 1060 is ERROR_SERVICE_DOES_NOT_EXIST."""
    if result.returncode == ERROR_SERVICE_DOES_NOT_EXIST:
        return True
    text = decode_text(result.stdout + result.stderr).text
    return bool(re.search(r"FAILED\s+1060\b", text))


def get_service_script(name: str) -> str:
    """Get-Service for one exact name, as JSON: its default table cuts names longer than 18
    characters (`MSSQL$SQLEXPRESS2...`, or `…` in PowerShell 7), so a long instance's service
    could never be matched by name. Status is cast to its number, the ServiceControllerStatus
    values (Stopped 1 ... Paused 7), which are SERVICE_STATUS's dwCurrentState values, as
    sc.exe prints them; the name is checked by the caller to be safe inside single quotes."""
    return (
        "[Console]::OutputEncoding = [Text.Encoding]::UTF8; "
        f"Get-Service -Name '{name}' -ErrorAction SilentlyContinue | "
        "Select-Object Name, DisplayName, @{n='Status';e={[int]$_.Status}} | "
        "ConvertTo-Json -Compress"
    )


def parse_get_service_json(text: str) -> tuple[ServiceInfo, ...]:
    """The JSON of `get_service_script`: one object, or an array of them."""
    try:
        data = json.loads(text.strip() or "null")
    except (ValueError, RecursionError):
        return ()
    services: list[ServiceInfo] = []
    for item in _as_list(data):
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            continue
        status = item.get("Status")
        state = (
            _SC_STATES.get(status, ServiceState.UNKNOWN)
            if isinstance(status, int) and not isinstance(status, bool)
            else ServiceState.UNKNOWN
        )
        display = item.get("DisplayName")
        services.append(
            ServiceInfo(
                item["Name"],
                state,
                display_name=display if isinstance(display, str) and display else None,
                source="Get-Service",
            )
        )
    return tuple(services)


def service_registry(
    registry: RegistryReader | None, name: str
) -> tuple[StartType, str | None, str | None]:
    """Start type, log-on account and display name from the service's registry key."""
    if registry is None:
        return StartType.UNKNOWN, None, None
    try:
        key = registry.open(Hive.HKLM, f"{SERVICES_KEY}\\{name}")
    except OSError:
        return StartType.UNKNOWN, None, None
    if key is None:
        return StartType.UNKNOWN, None, None
    start = _START_TYPES.get(key.number("Start") or -1, StartType.UNKNOWN)
    if start == StartType.AUTOMATIC and key.number("DelayedAutostart"):
        start = StartType.DELAYED
    return start, key.text("ObjectName"), key.text("DisplayName")


async def read_service(environment: Environment, name: str, *, timeout: float) -> ServiceInfo:
    start, account, display = service_registry(environment.registry, name)
    result = await environment.runner.run((SC, "query", name), timeout=timeout)
    info: ServiceInfo | None = None
    if result.status == CommandStatus.OK:
        if sc_says_not_installed(result):
            return ServiceInfo(name, ServiceState.NOT_INSTALLED, source="sc query")
        parsed = parse_sc_query(decode_text(result.stdout).text)
        info = next((s for s in parsed if s.name.lower() == name.lower()), None)
    safe_name = re.fullmatch(r"[A-Za-z0-9_$#@.-]{1,256}", name) is not None
    if info is None and result.status == CommandStatus.NOT_FOUND and safe_name:
        found = await environment.runner.run(
            powershell(get_service_script(name)), timeout=powershell_timeout(timeout)
        )
        if found.status == CommandStatus.OK:
            parsed = parse_get_service_json(decode_text(found.stdout).text)
            info = next((s for s in parsed if s.name.lower() == name.lower()), None)
    if info is None:
        failure = result.describe_failure() or "its state could not be read"
        return ServiceInfo(name, ServiceState.UNKNOWN, start, account, display, detail=failure)
    return ServiceInfo(
        name=info.name,
        state=info.state,
        start_type=start,
        account=account,
        display_name=info.display_name or display,
        exit_code=info.exit_code,
        service_exit_code=info.service_exit_code,
        source=info.source,
    )


# ---------------------------------------------------------------------------------------------
# Listening sockets


def parse_netstat(text: str) -> tuple[OsListener, ...]:
    """TCP listeners from `netstat -ano`: a listening socket's foreign address is 0.0.0.0:0 or
    [::]:0 (read from the address, not the localised word LISTENING)."""
    listeners: list[OsListener] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0].upper() != "TCP":
            continue
        local, foreign = fields[1], fields[2]
        if foreign not in {"0.0.0.0:0", "[::]:0"}:
            continue
        address, _, port = local.rpartition(":")
        if not port.isdigit() or not 0 < int(port) <= 65535:
            continue
        pid = int(fields[-1]) if fields[-1].isdigit() else None
        listeners.append(OsListener(address.strip("[]") or "?", int(port), pid))
    return tuple(dict.fromkeys(listeners))


# ---------------------------------------------------------------------------------------------
# Firewall


class Coverage(StrEnum):
    ALLOWED = "allowed"
    BLOCKED = "blocked"
    NOT_ALLOWED = "not allowed"  # no rule allows it: the default inbound action blocks it
    FIREWALL_OFF = "firewall off"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class FirewallRule:
    name: str
    display_name: str
    enabled: bool
    action: str  # Allow, Block
    protocol: str  # TCP, UDP, Any, or a number
    local_ports: tuple[str, ...]
    profile: str = "Any"
    program: str | None = None

    def matches(self, protocol: str, port: int) -> bool:
        own = {"6": "TCP", "17": "UDP"}.get(self.protocol, self.protocol).upper()
        if own not in {protocol.upper(), "ANY"}:
            return False
        for item in self.local_ports or ("Any",):
            text = item.strip()
            if text.lower() == "any":
                return True
            if text.isdigit() and int(text) == port:
                return True
            low, dash, high = text.partition("-")
            if (
                dash
                and low.strip().isdigit()
                and high.strip().isdigit()
                and int(low) <= port <= int(high)
            ):
                return True
        return False

    def for_program(self, programs: tuple[str, ...]) -> bool:
        if not self.program or self.program.lower() == "any":
            return True
        return any(self.program.lower().endswith(program.lower()) for program in programs)

    def describe(self) -> str:
        ports = ",".join(self.local_ports) or "Any"
        program = f", program {self.program}" if self.program and self.program != "Any" else ""
        return (
            f"'{self.display_name or self.name}' ({self.action} {self.protocol} {ports}, "
            f"profile {self.profile}{program})"
        )


@dataclass(frozen=True)
class FirewallCheck:
    protocol: str
    port: int
    coverage: Coverage
    rules: tuple[FirewallRule, ...] = ()

    def evidence(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "port": self.port,
            "coverage": self.coverage.value,
            "rules": [rule.describe() for rule in self.rules],
        }


@dataclass(frozen=True)
class FirewallState:
    profiles: Mapping[str, bool | None] = field(default_factory=lambda: MappingProxyType({}))
    rules: tuple[FirewallRule, ...] = ()
    problems: tuple[str, ...] = ()
    read: bool = True

    @property
    def enabled(self) -> bool | None:
        if not self.profiles:
            return None
        states = set(self.profiles.values())
        if True in states:
            return True
        return False if states == {False} else None

    def check(self, protocol: str, port: int, programs: tuple[str, ...] = ()) -> FirewallCheck:
        """Would an inbound packet to `port` pass? Block rules win over allow rules."""
        if not self.read:
            return FirewallCheck(protocol, port, Coverage.UNKNOWN)
        if self.enabled is False:
            return FirewallCheck(protocol, port, Coverage.FIREWALL_OFF)
        matching = [r for r in self.rules if r.enabled and r.matches(protocol, port)]
        blocks = tuple(r for r in matching if r.action.lower() == "block")
        if blocks:
            return FirewallCheck(protocol, port, Coverage.BLOCKED, blocks)
        allows = tuple(
            r for r in matching if r.action.lower() == "allow" and r.for_program(programs)
        )
        if allows:
            return FirewallCheck(protocol, port, Coverage.ALLOWED, allows)
        return FirewallCheck(protocol, port, Coverage.NOT_ALLOWED)


FIREWALL_SCRIPT: Final = r"""
[Console]::OutputEncoding = [Text.Encoding]::UTF8
$want = @(__PORTS__)
function Hit($ports) {
  foreach ($p in @($ports)) {
    $s = [string]$p
    if ($s -eq 'Any') { return $true }
    if ($s -match '^(\d+)-(\d+)$') {
      foreach ($w in $want) {
        if ($w -ge [int]$matches[1] -and $w -le [int]$matches[2]) { return $true }
      }
    } elseif ($s -match '^\d+$' -and $want -contains [int]$s) { return $true }
  }
  return $false
}
$rules = @(Get-NetFirewallPortFilter -PolicyStore ActiveStore |
  Where-Object { (@('TCP','UDP','Any') -contains [string]$_.Protocol) -and (Hit $_.LocalPort) } |
  ForEach-Object {
    $f = $_
    $r = $f | Get-NetFirewallRule
    if ($r -and [string]$r.Direction -eq 'Inbound') {
      $a = $r | Get-NetFirewallApplicationFilter
      [pscustomobject]@{ Name = [string]$r.Name; DisplayName = [string]$r.DisplayName;
        Enabled = [string]$r.Enabled; Action = [string]$r.Action; Profile = [string]$r.Profile;
        Protocol = [string]$f.Protocol;
        LocalPort = @(@($f.LocalPort) | ForEach-Object { [string]$_ });
        Program = [string]$a.Program }
    }
  })
$profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore |
  ForEach-Object { [pscustomobject]@{ Name = [string]$_.Name; Enabled = [string]$_.Enabled } })
$all = [pscustomobject]@{ Profiles = $profiles; Rules = $rules }
ConvertTo-Json -Compress -Depth 4 -InputObject $all
"""


def firewall_script(ports: tuple[int, ...]) -> str:
    wanted = ",".join(str(port) for port in sorted(set(ports)) if 0 < port <= 65535) or "1433"
    return FIREWALL_SCRIPT.replace("__PORTS__", wanted)


def parse_firewall_json(text: str) -> FirewallState:
    """The JSON FIREWALL_SCRIPT prints: {Profiles: [{Name, Enabled}], Rules: [...]}."""
    try:
        data = json.loads(text.strip() or "null")
    except (ValueError, RecursionError):
        return FirewallState(read=False, problems=("the firewall query did not return JSON",))
    if not isinstance(data, dict):
        return FirewallState(read=False, problems=("the firewall query returned no rules object",))
    profiles: dict[str, bool | None] = {}
    for item in _as_list(data.get("Profiles")):
        if isinstance(item, dict) and isinstance(item.get("Name"), str):
            profiles[item["Name"]] = _bool_text(item.get("Enabled"))
    rules: list[FirewallRule] = []
    problems: list[str] = []
    for item in _as_list(data.get("Rules")):
        if not isinstance(item, dict):
            continue
        enabled = _bool_text(item.get("Enabled"))
        action = item.get("Action")
        if enabled is None or not isinstance(action, str):
            problems.append("a firewall rule without Enabled/Action was skipped")
            continue
        ports = tuple(str(p) for p in _as_list(item.get("LocalPort")) if isinstance(p, str | int))
        rules.append(
            FirewallRule(
                name=_text(item.get("Name")),
                display_name=_text(item.get("DisplayName")),
                enabled=enabled,
                action=action,
                protocol=_text(item.get("Protocol")) or "Any",
                local_ports=ports,
                profile=_text(item.get("Profile")) or "Any",
                program=_text(item.get("Program")) or None,
            )
        )
    return FirewallState(MappingProxyType(profiles), tuple(rules), tuple(problems))


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _bool_text(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


async def read_firewall(
    environment: Environment, ports: tuple[int, ...], *, timeout: float
) -> FirewallState:
    result = await environment.runner.run(
        powershell(firewall_script(ports)), timeout=powershell_timeout(timeout)
    )
    failure = result.describe_failure()
    if failure is not None:
        return FirewallState(read=False, problems=(f"the firewall rules were not read: {failure}",))
    if result.returncode not in {0, None}:
        lines = decode_text(result.stderr).text.strip().splitlines()
        detail = lines[0][:200] if lines else f"exit code {result.returncode}"
        return FirewallState(read=False, problems=(f"the firewall rules were not read: {detail}",))
    return parse_firewall_json(decode_text(result.stdout).text)


# ---------------------------------------------------------------------------------------------
# Everything at once


@dataclass(frozen=True)
class WindowsView:
    instances: tuple[InstanceConfig, ...] = ()
    services: Mapping[str, ServiceInfo] = field(default_factory=lambda: MappingProxyType({}))
    firewall: FirewallState | None = None
    listeners: tuple[OsListener, ...] = ()
    errorlogs: Mapping[str, ErrorLog] = field(default_factory=lambda: MappingProxyType({}))
    events: EventScan | None = None
    problems: tuple[str, ...] = ()
    elapsed_ms: float = 0.0


async def read_windows(
    environment: Environment, *, timeout: float, extra_ports: tuple[int, ...] = ()
) -> WindowsView:
    """Read the registry, then the services, firewall, sockets and event log side by side.

    Each command gets `timeout` seconds; they run concurrently, so the whole read takes about
    one timeout at most. Nothing here raises for what the machine returns.
    """
    started = time.perf_counter()
    problems: list[str] = []
    registry = environment.registry
    if registry is None:
        return WindowsView(problems=("the Windows registry is not available here",))
    instances, found = read_instances(registry)
    problems.extend(found)
    names = [instance.service for instance in instances] + [BROWSER]
    ports = tuple(
        dict.fromkeys(
            [port for instance in instances for port in instance.configured_ports()]
            + list(extra_ports)
            + [1434]
        )
    )
    service_reads = [read_service(environment, name, timeout=timeout) for name in names]
    netstat = environment.runner.run((NETSTAT, "-ano", "-p", "TCP"), timeout=timeout)
    netstat6 = environment.runner.run((NETSTAT, "-ano", "-p", "TCPv6"), timeout=timeout)
    firewall = read_firewall(environment, ports, timeout=timeout)
    events = read_service_events(environment, timeout=timeout)
    logs = in_daemon_thread(lambda: _read_logs(environment, instances))
    gathered = await asyncio.gather(
        asyncio.gather(*service_reads), netstat, netstat6, firewall, events, logs
    )
    services, net4, net6, firewall_state, event_scan, errorlogs = gathered
    listeners: list[OsListener] = []
    for result in (net4, net6):
        if result.status == CommandStatus.OK:
            listeners.extend(parse_netstat(decode_text(result.stdout).text))
        elif result.describe_failure():
            problems.append(f"listening sockets not read: {result.describe_failure()}")
    return WindowsView(
        instances=instances,
        services=MappingProxyType({service.name.upper(): service for service in services}),
        firewall=firewall_state,
        listeners=tuple(dict.fromkeys(listeners)),
        errorlogs=MappingProxyType(errorlogs),
        events=event_scan,
        problems=tuple(dict.fromkeys(problems)),
        elapsed_ms=round((time.perf_counter() - started) * 1000.0, 3),
    )


def _read_logs(
    environment: Environment, instances: tuple[InstanceConfig, ...]
) -> dict[str, ErrorLog]:
    logs: dict[str, ErrorLog] = {}
    for instance in instances:
        if instance.errorlog_path:
            logs[instance.name.upper()] = read_errorlog(environment, instance.errorlog_path)
    return logs
