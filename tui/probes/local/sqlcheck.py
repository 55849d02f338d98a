"""A report of Microsoft's SQLCheck, read back: services and per-instance network settings.

An administrator can run SQLCheck (microsoft/CSS_SQL_Networking_Tools) on a server this tool
cannot reach and paste the report. Its layout is fixed by SQLCheck's TextReport.cs: fixed-width
tables whose column widths follow from the dashes under the header, and `Key:   value` lines
under `Details for SQL Server Instance: NAME (Edition)`. Real sample:
tests/fixtures/windows/sqlcheck-report-sample.txt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tui.probes.local.model import (
    InstanceConfig,
    ServiceInfo,
    ServiceState,
    StartType,
    parse_port_list,
)
from tui.probes.local.windows import service_name

MAX_CHARS: Final = 4 << 20
_DETAILS = re.compile(r"^Details for SQL Server Instance:\s*(?P<name>\S+)")
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9 ()./-]*?):\s{2,}(?P<value>.*?)\s*$")
_START_MODES: Final = {
    "auto": StartType.AUTOMATIC,
    "manual": StartType.MANUAL,
    "disabled": StartType.DISABLED,
}


@dataclass(frozen=True)
class SqlCheckReport:
    computer: str | None
    fqdn: str | None
    addresses: tuple[str, ...]
    services: tuple[ServiceInfo, ...]
    instances: tuple[InstanceConfig, ...]
    aliases: tuple[dict[str, str], ...]
    problems: tuple[str, ...] = ()


def parse_sqlcheck_report(text: str) -> SqlCheckReport:
    """Read a SQLCheck text report. Never raises; a report that is not one gives problems."""
    lines = text[:MAX_CHARS].splitlines()
    problems: list[str] = []
    if not any("SQL Server Connectivity Check" in line for line in lines[:20]):
        problems.append("this does not start like a SQLCheck report")
    header = _key_values(lines[:60])
    services = tuple(_service(row) for row in _table_after(lines, "Services of Interest:"))
    addresses = tuple(
        row.get("Address", "")
        for row in _table_after(lines, "The following IP addresses are associated")
        if row.get("Address")
    )
    aliases = tuple(_table_after(lines, "SQL Aliases:"))
    instances = tuple(_instances(lines))
    return SqlCheckReport(
        computer=header.get("NETBIOS Name") or None,
        fqdn=header.get("FQDN") or None,
        addresses=addresses,
        services=tuple(s for s in services if s.name),
        instances=instances,
        aliases=aliases,
        problems=tuple(problems),
    )


def _key_values(lines: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in lines:
        match = _KEY_VALUE.match(line)
        if match:
            values.setdefault(match.group("key").strip(), match.group("value"))
    return values


def _table_after(lines: list[str], title: str) -> list[dict[str, str]]:
    """The first fixed-width table after a line starting with `title`."""
    start = next((i for i, line in enumerate(lines) if line.strip().startswith(title)), None)
    if start is None:
        return []
    for index in range(start + 1, min(start + 8, len(lines) - 1)):
        separator = lines[index + 1]
        if separator.strip() and set(separator.strip()) <= {"-", " "}:
            spans = [m.span() for m in re.finditer(r"-+", separator)]
            names = [lines[index][a:b].strip() for a, b in spans]
            rows: list[dict[str, str]] = []
            for line in lines[index + 2 :]:
                if not line.strip():
                    break
                cells = []
                for number, (a, b) in enumerate(spans):
                    end = len(line) if number == len(spans) - 1 else b
                    cells.append(line[a:end].strip())
                rows.append(dict(zip(names, cells, strict=True)))
            return rows
    return []


def _service(row: dict[str, str]) -> ServiceInfo:
    name, instance = row.get("Name", ""), row.get("Instance", "")
    if instance:
        name = f"{name}${instance}"  # SQLCheck splits MSSQL$SQL2017 into MSSQL + SQL2017
    started = row.get("Started", "").lower()
    state = {"true": ServiceState.RUNNING, "false": ServiceState.STOPPED}.get(
        started, ServiceState.UNKNOWN
    )
    return ServiceInfo(
        name=name,
        state=state,
        start_type=_START_MODES.get(row.get("Start Mode", "").lower(), StartType.UNKNOWN),
        account=row.get("Service Account") or None,
        display_name=row.get("Description") or None,
        source="SQLCheck report",
    )


def _instances(lines: list[str]) -> list[InstanceConfig]:
    instances: list[InstanceConfig] = []
    for index, line in enumerate(lines):
        match = _DETAILS.match(line)
        if not match:
            continue
        block: list[str] = []
        for following in lines[index + 2 :]:
            if not following.strip():
                break
            block.append(following)
        values = _key_values(block)
        instances.append(_instance(match.group("name"), values))
    return instances


def _instance(name: str, values: dict[str, str]) -> InstanceConfig:
    problems: list[str] = []
    static, bad = _ports(values.get("TCP Port(s)"))
    dynamic, bad_dynamic = _ports(values.get("Dynamic TCP Port(s)"))
    problems.extend(bad + bad_dynamic)
    pipes = values.get("Named Pipes Enabled", "")
    return InstanceConfig(
        name=name,
        service=service_name(name),
        config_where=f"the SQLCheck report, 'Details for SQL Server Instance: {name}'",
        tcp_enabled=_bool(values.get("TCP Enabled")),
        listen_all=_bool(values.get("Listen on all IPs")),
        static_ports=static,
        dynamic_ports=dynamic,
        hidden=_bool(values.get("Hidden Instance")),
        force_encryption=_bool(values.get("ForceEncryption")),
        certificate=values.get("Certificate") or None,
        named_pipes_enabled=_bool(pipes.split(" ", 1)[0]) if pipes else None,
        errorlog_path=values.get("ERRORLOG Path") or None,
        problems=tuple(problems),
    )


def _ports(text: str | None) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """`1433`, `1433,1500`, or per-address `10.0.0.5 (1433)` when not listening on all IPs."""
    if text and "(" in text:
        found = [int(p) for p in re.findall(r"\((\d{1,5})\)", text) if 0 < int(p) <= 65535]
        return tuple(dict.fromkeys(found)), ()
    return parse_port_list(text)


def _bool(text: str | None) -> bool | None:
    return {"true": True, "false": False}.get((text or "").strip().lower())
