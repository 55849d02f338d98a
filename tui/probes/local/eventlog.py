"""Service Control Manager events that explain a SQL Server service that will not start.

7038 and 7041: the service could not log on (a changed or expired password, a locked or disabled
account, a missing "Log on as a service" right): the fix is the service account's password or
rights, not the network. 7000: the service failed to start (access denied, file not found).
7024: it started and stopped with a service-specific error (ERRORLOG says why).

Two layouts are read: Event Viewer's "Details" text (the real samples in
tests/fixtures/windows/eventlog-*), and the JSON this module asks `Get-WinEvent` for (its fields
`Id`, `TimeCreated`, `ProviderName`, `Message` are the EventLogRecord properties documented for
Get-WinEvent; the message text is the same as Event Viewer's Description).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from tui.probes.local.system import (
    CommandStatus,
    Environment,
    decode_text,
    powershell,
    powershell_timeout,
)

MAX_EVENTS: Final = 50
QUERY: Final = (
    "[Console]::OutputEncoding = [Text.Encoding]::UTF8; "
    "$e = @(Get-WinEvent -ErrorAction SilentlyContinue -MaxEvents {count} -FilterHashtable "
    "@{{LogName='System'; ProviderName='Service Control Manager'; Id=7000,7024,7038,7041}} | "
    "Select-Object Id, @{{n='TimeCreated';e={{$_.TimeCreated.ToString('o')}}}}, ProviderName, "
    "Message); ConvertTo-Json -InputObject $e -Compress"
)


class EventId(IntEnum):
    FAILED_TO_START = 7000
    TERMINATED_WITH_ERROR = 7024
    LOGON_FAILED = 7038
    LOGON_TYPE_NOT_GRANTED = 7041


_LOGON = re.compile(
    r"The (?P<service>.+?) service was unable to log on as (?P<account>.+?) with the currently "
    r"configured password due to the following error:\s*(?P<reason>[^\r\n]*)",
    re.DOTALL,
)
_FAILED = re.compile(
    r"The (?P<display>.+?) service failed to start due to the following error:\s*"
    r"(?P<reason>[^\r\n]*)",
    re.DOTALL,
)
# Two wordings of 7024: today's "... with the following service-specific error: %n%2" (the
# SQL Server docs' sample), and the older "... with service-specific error %2." that Windows 2000
# to Server 2003 logged (Microsoft's KB 269375 sample: "The Netlogon service terminated with
# service-specific error 2114.").
_TERMINATED = re.compile(
    r"The (?P<display>.+?) service terminated with the following service-specific error:\s*"
    r"(?P<reason>[^\r\n]*)",
    re.DOTALL,
)
_TERMINATED_OLDER = re.compile(
    r"The (?P<display>[^\r\n]+?) service terminated with service-specific error\s+"
    r"(?P<reason>[^\s.]+(?: \(0x[0-9A-Fa-f]+\))?)"
)
_DISPLAY_SQL = re.compile(r"^SQL Server \((?P<instance>[^)]+)\)$")
_SERVICE_TOKEN = re.compile(r"\b(MSSQLSERVER|MSSQL\$[A-Za-z0-9_$#@]+|SQLBrowser)\b", re.I)


@dataclass(frozen=True)
class ServiceEvent:
    event_id: int
    service: str | None  # the service name (MSSQLSERVER, MSSQL$INST, SQLBrowser), when known
    display_name: str | None
    account: str | None
    reason: str | None
    when: str | None
    message: str

    @property
    def logon_failure(self) -> bool:
        return self.event_id in {EventId.LOGON_FAILED, EventId.LOGON_TYPE_NOT_GRANTED}

    @property
    def meaning(self) -> str:
        service = self.service or self.display_name or "a service"
        reason = f" ({self.reason})" if self.reason else ""
        if self.event_id == EventId.LOGON_TYPE_NOT_GRANTED:
            return (
                f"{service} could not log on as {self.account or 'its account'}: the account "
                "lacks the 'Log on as a service' right" + reason
            )
        if self.event_id == EventId.LOGON_FAILED:
            return f"{service} could not log on as {self.account or 'its account'}{reason}"
        if self.event_id == EventId.FAILED_TO_START:
            return f"{service} failed to start{reason}"
        if self.event_id == EventId.TERMINATED_WITH_ERROR:
            return f"{service} stopped with a service-specific error{reason}; see the ERRORLOG"
        return f"event {self.event_id} for {service}"

    def evidence(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "service": self.service,
            "account": self.account,
            "reason": self.reason,
            "when": self.when,
            "meaning": self.meaning,
        }


def service_name_for(display: str) -> str | None:
    """`SQL Server (MSSQLSERVER)` -> MSSQLSERVER, `SQL Server (SALES)` -> MSSQL$SALES."""
    display = display.strip()
    if display.lower() == "sql server browser":
        return "SQLBrowser"
    match = _DISPLAY_SQL.match(display)
    if match:
        instance = match.group("instance").strip()
        return "MSSQLSERVER" if instance.upper() == "MSSQLSERVER" else f"MSSQL${instance}"
    token = _SERVICE_TOKEN.search(display)
    return token.group(1) if token else None


def classify(event_id: int, message: str, when: str | None = None) -> ServiceEvent:
    """Read one event's message; an unknown wording (another language) keeps the event id."""
    text = message.strip()
    service: str | None = None
    display: str | None = None
    account: str | None = None
    reason: str | None = None
    logon = _LOGON.search(text)
    failed = _FAILED.search(text)
    terminated = _TERMINATED.search(text) or _TERMINATED_OLDER.search(text)
    if logon:
        service, account = logon.group("service").strip(), logon.group("account").strip()
        reason = logon.group("reason").strip() or None
    elif failed:
        display, reason = failed.group("display").strip(), failed.group("reason").strip() or None
        service = service_name_for(display)
    elif terminated:
        display = terminated.group("display").strip()
        reason = terminated.group("reason").strip() or None
        service = service_name_for(display)
    else:
        token = _SERVICE_TOKEN.search(text)
        service = token.group(1) if token else None
    return ServiceEvent(event_id, service, display, account, reason, when, text[:2000])


def parse_event_text(text: str) -> tuple[ServiceEvent, ...]:
    """Event Viewer "Details" text (or the older Event Type/Event Source layout): one or more
    events, each starting at a `Log Name:` or `Event Type:` line, or at `Event ID:`."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        starts = re.match(r"^\s*(Log Name|Event Type):", line)
        if starts or (re.match(r"^\s*Event ID:", line) and (not blocks or _has_id(blocks[-1]))):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    events: list[ServiceEvent] = []
    for block in blocks:
        fields: dict[str, str] = {}
        body: list[str] = []
        in_description = False
        for line in block:
            header = re.match(r"^\s*([A-Za-z][A-Za-z ]{1,20}):\s*(.*)$", line)
            if not in_description and header and header.group(1) != "Description":
                fields.setdefault(header.group(1).strip(), header.group(2).strip())
                continue
            if header and header.group(1) == "Description":
                in_description = True
                if header.group(2).strip():
                    body.append(header.group(2))
                continue
            body.append(line)
        number = fields.get("Event ID", "")
        if not number.isdigit():
            continue
        when = fields.get("Date")
        if when and fields.get("Time"):
            when = f"{when} {fields['Time']}"
        events.append(classify(int(number), "\n".join(body), when))
    return tuple(events)


def _has_id(block: list[str]) -> bool:
    return any(re.match(r"^\s*Event ID:", line) for line in block)


def parse_event_json(text: str) -> tuple[tuple[ServiceEvent, ...], tuple[str, ...]]:
    """The JSON of QUERY: an array of {Id, TimeCreated, ProviderName, Message} (or one object)."""
    stripped = text.strip()
    if not stripped:
        return (), ()
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return (), ("the event log query did not return JSON",)
    items = data if isinstance(data, list) else [data]
    events: list[ServiceEvent] = []
    problems: list[str] = []
    for item in items[:MAX_EVENTS]:
        if not isinstance(item, dict):
            continue
        number = item.get("Id")
        message = item.get("Message")
        if not isinstance(number, int) or isinstance(number, bool):
            problems.append("an event without a numeric Id was skipped")
            continue
        if not isinstance(message, str):
            message = ""
        when = item.get("TimeCreated")
        events.append(classify(number, message, when if isinstance(when, str) else None))
    return tuple(events), tuple(problems)


@dataclass(frozen=True)
class EventScan:
    events: tuple[ServiceEvent, ...]
    problems: tuple[str, ...]
    command: str | None = None
    elapsed_ms: float = 0.0

    def for_service(self, service: str) -> tuple[ServiceEvent, ...]:
        wanted = service.lower()
        return tuple(e for e in self.events if (e.service or "").lower() == wanted)


async def read_service_events(environment: Environment, *, timeout: float) -> EventScan:
    """Ask the System event log for the last SCM start failures (Windows only)."""
    if not environment.is_windows:
        return EventScan((), ())
    result = await environment.runner.run(
        powershell(QUERY.format(count=MAX_EVENTS)), timeout=powershell_timeout(timeout)
    )
    failure = result.describe_failure()
    if failure is not None:
        return EventScan((), (f"the System event log was not read: {failure}",), "Get-WinEvent")
    if result.status == CommandStatus.OK and result.returncode not in {0, None}:
        stderr = decode_text(result.stderr).text.strip().splitlines()
        detail = stderr[0][:200] if stderr else f"exit code {result.returncode}"
        return EventScan((), (f"the System event log was not read: {detail}",), "Get-WinEvent")
    events, problems = parse_event_json(decode_text(result.stdout).text)
    return EventScan(events, problems, "Get-WinEvent", result.elapsed_ms)
