"""What a run was asked to do beyond its target: typed, read by the steps, set once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DnsServer:
    """Ask only this DNS server (`--dns-server`), never the machine's resolver."""

    address: str
    port: int = 53


@dataclass(frozen=True)
class Settings:
    error_text: str | None = None  # the error the person saw, read first
    native_login: bool = False  # log in with sqlreach's own TDS login, whatever the driver
    dns: DnsServer | None = None
    environment: object | None = None  # the machine the local readers read (a test's stand-in)
    platform: str | None = None  # `sys.platform` of the machine (a test's stand-in)
