"""The values a fix's commands are filled with, typed: one field per placeholder a template may
name, and nothing else (a test proves every placeholder of every template is a field here).

A command that needs a value this target does not have is left out of the fix rather than
shown with a hole in it; a title or reason that needs one says its `title_unknown` /
`why_unknown` wording instead. Nothing ever reads "(unknown)".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from tui.target import Target


@dataclass(frozen=True)
class FixValues:
    instance: str  # MSSQLSERVER for the default instance
    service: str  # MSSQLSERVER or MSSQL$<instance>
    host: str | None = None
    port: str | None = None
    good_port: str | None = None  # the port SQL Server was found on (else the port used)
    address: str | None = None
    alias_where: str | None = None
    old_server_name: str | None = None
    new_server_name: str | None = None
    database: str | None = None
    login: str | None = None
    instances_listed: str | None = None
    cert_name: str | None = None
    client_name: str | None = None
    cert_issuer: str | None = None
    client_ip: str | None = None  # the address an Azure SQL 40615 says it saw
    azure_server: str | None = None  # the Azure SQL logical server's short name
    fqdn: str | None = None  # the host's full name (an SPN needs it)
    spn_port: str | None = None  # MSSQLSvc/<fqdn>:<port>
    spn_name: str | None = None  # MSSQLSvc/<fqdn> (default) or MSSQLSvc/<fqdn>:<instance>
    service_account: str | None = None  # the service's log-on account, or how to read it
    server_build: str | None = None  # the build the pre-login gave: 11.0.2100
    tls12_builds: str | None = None  # what KB 3135244 says about TLS 1.2 for that version

    @classmethod
    def of(cls, target: Target, **known: Any) -> FixValues:
        """The values for `target`, with what the walk found (`known`) taking precedence."""
        names = {f.name for f in fields(cls)}
        unknown = set(known) - names
        if unknown:
            raise TypeError(f"FixValues has no field(s) {sorted(unknown)}")
        text = {name: str(value) for name, value in known.items() if value not in (None, "")}
        host = text.get("host") or target.connect_host
        port = text.get("port") or (str(target.port) if target.port else None)
        text.update(
            instance=target.instance or "MSSQLSERVER",
            service="MSSQLSERVER" if target.instance is None else f"MSSQL${target.instance}",
        )
        if host:
            text["host"] = host
            text.setdefault("address", host)
        if port:
            text["port"] = port
        good = text.get("good_port") or port
        if good:
            text["good_port"] = good
        fqdn = text.get("fqdn")
        if fqdn:
            suffix = f":{target.instance}" if target.instance else ""
            text["spn_name"] = f"MSSQLSvc/{fqdn}{suffix}"
            if port:
                text["spn_port"] = f"MSSQLSvc/{fqdn}:{port}"
        return cls(**text)

    def known(self) -> dict[str, str]:
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name))}


ALWAYS_KNOWN: frozenset[str] = frozenset({"instance", "service"})
