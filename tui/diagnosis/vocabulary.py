"""The root-cause vocabulary: the `root_cause` field of `check --json` (see design.md)."""

from __future__ import annotations

from enum import StrEnum


class RootCause(StrEnum):
    OK = "OK"
    BAD_INPUT = "BAD_INPUT"
    NAME_NOT_RESOLVED = "NAME_NOT_RESOLVED"
    HOST_UNREACHABLE = "HOST_UNREACHABLE"
    BROWSER_UNAVAILABLE = "BROWSER_UNAVAILABLE"
    INSTANCE_NOT_FOUND = "INSTANCE_NOT_FOUND"
    TCP_DISABLED = "TCP_DISABLED"
    PORT_REFUSED = "PORT_REFUSED"
    WRONG_PORT = "WRONG_PORT"
    PORT_FILTERED = "PORT_FILTERED"
    NOT_SQL_SERVER = "NOT_SQL_SERVER"
    SERVER_UNRESPONSIVE = "SERVER_UNRESPONSIVE"
    ENCRYPTION_MISMATCH = "ENCRYPTION_MISMATCH"
    TLS_FAILED = "TLS_FAILED"
    LOGIN_FAILED = "LOGIN_FAILED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    DRIVER_MISSING = "DRIVER_MISSING"


MEANINGS: dict[RootCause, str] = {
    RootCause.OK: "reachable; a SQL Server answered; the login worked when credentials were given",
    RootCause.BAD_INPUT: "the target or connection string cannot be understood",
    RootCause.NAME_NOT_RESOLVED: "the host name does not resolve (DNS, hosts file, alias)",
    RootCause.HOST_UNREACHABLE: "no route to the host (ICMP unreachable, no ARP answer)",
    RootCause.BROWSER_UNAVAILABLE: (
        "a named instance without a port, and UDP 1434 gives no answer (Browser stopped or blocked)"
    ),
    RootCause.INSTANCE_NOT_FOUND: "the Browser answers but does not know that instance",
    RootCause.TCP_DISABLED: "the Browser knows the instance but reports no TCP endpoint",
    RootCause.PORT_REFUSED: (
        "TCP connection refused (10061): nothing listens on that address and port"
    ),
    RootCause.WRONG_PORT: (
        "nothing on the port used, but SQL Server was found answering on another port of the host"
    ),
    RootCause.PORT_FILTERED: (
        "TCP connection timed out (10060): firewall, IPSec, NAT or a host that drops packets"
    ),
    RootCause.NOT_SQL_SERVER: "something answers on the port, but it is not SQL Server",
    RootCause.SERVER_UNRESPONSIVE: (
        "the TCP connection opens, but SQL Server does not answer the pre-login or the login in "
        "time, or closes the connection before answering"
    ),
    RootCause.ENCRYPTION_MISMATCH: "client and server encryption settings cannot agree",
    RootCause.TLS_FAILED: (
        "TLS fails, or would fail for the person's own driver (protocol, cipher, or a "
        "certificate that is untrusted, expired or for another name)"
    ),
    RootCause.LOGIN_FAILED: "the server rejected the login (18456 and relatives)",
    RootCause.DATABASE_UNAVAILABLE: (
        "login works but the requested database cannot be opened (4060)"
    ),
    RootCause.DRIVER_MISSING: "the ODBC driver named in the connection string is not installed",
}
