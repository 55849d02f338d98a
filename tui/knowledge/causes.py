"""The cause registry: every root cause sqlreach can name, defined once.

One entry per root cause says what it means, where along the connection it fails (the hop of
the path picture and the layer `explain` reads in an error text), the fixes it gets when the
step that concludes it has nothing more specific, and which other causes its evidence rules out.
The `root_cause` field of `check --json`, the README's table, `explain`'s layers and the path
picture all come from here; adding a root cause is one entry below plus the step that concludes
it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

T = TypeVar("T")


class RootCause(StrEnum):
    """The codes of the `root_cause` field (design.md); their meaning is in `CAUSES`."""

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
    UNTESTED = "UNTESTED"


class Hop(StrEnum):
    """The hops of a connection's path, drawn left to right in the path picture. The last ones
    are the second hop a redirect adds (an Azure SQL gateway in Redirect mode, an availability
    group's read-only routing): the routed host and port go through the same chain again."""

    CLIENT = "client"
    NAME = "name resolution"
    HOST = "host"
    BROWSER = "Browser (UDP 1434)"
    PORT = "TCP port"
    SERVER = "SQL Server"
    TLS = "TLS"
    LOGIN = "login"
    ROUTED_NAME = "redirect: name"
    ROUTED_PORT = "redirect: TCP port"
    ROUTED_SERVER = "redirect: SQL Server"
    ROUTED_TLS = "redirect: TLS"
    ROUTED_LOGIN = "redirect: login"


HOPS: Final[tuple[Hop, ...]] = tuple(Hop)
ROUTED_HOPS: Final[tuple[Hop, ...]] = (
    Hop.ROUTED_NAME,
    Hop.ROUTED_PORT,
    Hop.ROUTED_SERVER,
    Hop.ROUTED_TLS,
    Hop.ROUTED_LOGIN,
)
FIRST_HOPS: Final[tuple[Hop, ...]] = tuple(hop for hop in Hop if hop not in ROUTED_HOPS)
# Where a root cause fails when it fails on the routed hop instead of the first one.
ROUTED_TWIN: Final[Mapping[Hop, Hop]] = {
    Hop.NAME: Hop.ROUTED_NAME,
    Hop.HOST: Hop.ROUTED_PORT,
    Hop.PORT: Hop.ROUTED_PORT,
    Hop.SERVER: Hop.ROUTED_SERVER,
    Hop.TLS: Hop.ROUTED_TLS,
    Hop.LOGIN: Hop.ROUTED_LOGIN,
}


class Layer(StrEnum):
    """Where along the connection an error text says it failed, in the order a connection
    meets them (`explain` reads these; a hop of the path can hold more than one)."""

    DRIVER = "driver"
    NAME = "name"
    BROWSER = "browser"
    TCP = "tcp"
    SERVER = "server"
    TLS = "tls"
    KERBEROS = "kerberos"
    LOGIN = "login"
    DATABASE = "database"


LAYER_TITLES: Final[Mapping[Layer, str]] = {
    Layer.DRIVER: "the driver on the client (ODBC driver manager, driver libraries)",
    Layer.NAME: "name resolution (DNS, hosts file, aliases)",
    Layer.BROWSER: "the SQL Server Browser (UDP 1434, named instances)",
    Layer.TCP: "the TCP connection to the port",
    Layer.SERVER: "SQL Server answering on the connection (pre-login)",
    Layer.TLS: "encryption (TLS and the server certificate)",
    Layer.KERBEROS: "Windows authentication (Kerberos, SPNs, domains)",
    Layer.LOGIN: "the login (user name, password, permissions)",
    Layer.DATABASE: "opening the database named in the connection",
}


@dataclass(frozen=True)
class Cause:
    """One root cause: what it means and where it sits."""

    code: RootCause
    meaning: str  # one line, as the README's table and `check --help` say it
    hop: Hop | None  # the hop of the path picture it fails at (None: nothing failed)
    layer: Layer | None  # the layer `explain` files it under (None: not an error text's cause)
    fixes: tuple[str, ...] = ()  # fix ids when the concluding step names none of its own

    @property
    def is_problem(self) -> bool:
        return self.code is not RootCause.OK


_R = RootCause

CAUSES: Final[tuple[Cause, ...]] = (
    Cause(
        _R.OK,
        "reachable; a SQL Server answered; the login worked when credentials were given",
        hop=None,
        layer=None,
    ),
    Cause(
        _R.BAD_INPUT,
        "the target or connection string cannot be understood",
        hop=Hop.CLIENT,
        layer=None,
    ),
    Cause(
        _R.NAME_NOT_RESOLVED,
        "the host name does not resolve (DNS, hosts file, alias)",
        hop=Hop.NAME,
        layer=Layer.NAME,
        fixes=("fix-name-resolution", "fix-hosts-override", "fix-client-alias"),
    ),
    Cause(
        _R.HOST_UNREACHABLE,
        "no route to the host (ICMP unreachable, no ARP answer)",
        hop=Hop.HOST,
        layer=Layer.TCP,
        fixes=("check-route", "fix-name-resolution"),
    ),
    Cause(
        _R.BROWSER_UNAVAILABLE,
        "a named instance without a port, and UDP 1434 gives no answer that can be used "
        "(Browser stopped, blocked, or answering something unreadable)",
        hop=Hop.BROWSER,
        layer=Layer.BROWSER,
        fixes=("start-browser", "open-firewall-udp-1434", "connect-with-port"),
    ),
    Cause(
        _R.INSTANCE_NOT_FOUND,
        "the Browser answers but does not know that instance",
        hop=Hop.BROWSER,
        layer=Layer.BROWSER,
        fixes=("check-instance-name", "unhide-instance", "connect-with-port"),
    ),
    Cause(
        _R.TCP_DISABLED,
        "the Browser knows the instance but reports no TCP endpoint",
        hop=Hop.BROWSER,
        layer=Layer.BROWSER,
        fixes=("enable-tcp", "set-ipall-port"),
    ),
    Cause(
        _R.PORT_REFUSED,
        "TCP connection refused (10061): nothing listens on that address and port",
        hop=Hop.PORT,
        layer=Layer.TCP,
        fixes=(
            "start-engine-service",
            "enable-tcp",
            "find-listening-port",
            "listen-on-all-ips",
            "fix-client-alias",
        ),
    ),
    Cause(
        _R.WRONG_PORT,
        "nothing on the port used, but SQL Server was found answering on another port of the host",
        hop=Hop.PORT,
        layer=Layer.TCP,
        fixes=("connect-with-port", "set-ipall-port", "fix-client-alias"),
    ),
    Cause(
        _R.PORT_FILTERED,
        "TCP connection timed out (10060): firewall, IPSec, NAT or a host that drops packets",
        hop=Hop.PORT,
        layer=Layer.TCP,
        fixes=("open-firewall-tcp", "check-network-path", "connect-with-port"),
    ),
    Cause(
        _R.NOT_SQL_SERVER,
        "something answers on the port, but it is not SQL Server",
        hop=Hop.SERVER,
        layer=Layer.SERVER,
        fixes=("free-the-port", "find-listening-port", "connect-with-port"),
    ),
    Cause(
        _R.SERVER_UNRESPONSIVE,
        "the TCP connection opens, but SQL Server does not answer the pre-login or the login "
        "in time, or closes the connection before answering",
        hop=Hop.SERVER,
        layer=Layer.SERVER,
        fixes=("check-server-health", "check-proxy-backend", "start-engine-service"),
    ),
    Cause(
        _R.ENCRYPTION_MISMATCH,
        "client and server encryption settings cannot agree",
        hop=Hop.TLS,
        layer=Layer.TLS,
    ),
    Cause(
        _R.TLS_FAILED,
        "TLS fails, or would fail for your own driver (protocol, cipher, or a "
        "certificate that is untrusted, expired or for another name)",
        hop=Hop.TLS,
        layer=Layer.TLS,
        fixes=("provision-certificate", "trust-server-certificate"),
    ),
    Cause(
        _R.LOGIN_FAILED,
        "the server rejected the login (18456 and relatives)",
        hop=Hop.LOGIN,
        layer=Layer.LOGIN,
    ),
    Cause(
        _R.DATABASE_UNAVAILABLE,
        "login works but the requested database cannot be opened (4060)",
        hop=Hop.LOGIN,
        layer=Layer.DATABASE,
    ),
    Cause(
        _R.DRIVER_MISSING,
        "the ODBC driver named in the connection string is not installed, and nothing else is "
        "wrong (a server-side failure seen by sqlreach's own login outranks it)",
        hop=Hop.CLIENT,
        layer=Layer.DRIVER,
        fixes=("install-odbc-driver-18", "install-freetds"),
    ),
    Cause(
        _R.UNTESTED,
        "the connection goes over a transport this machine cannot test (named pipes past SMB "
        "445, shared memory, LocalDB): what could be checked is said, the rest is not claimed",
        hop=Hop.CLIENT,
        layer=None,
    ),
)

REGISTRY: Final[dict[RootCause, Cause]] = {cause.code: cause for cause in CAUSES}


class _View(Mapping[RootCause, T]):
    """A read-only view of one attribute of every registered cause (kept live, so a cause
    registered later is in it too)."""

    def __init__(self, pick: Callable[[Cause], T | None]) -> None:
        self._pick = pick

    def _items(self) -> dict[RootCause, T]:
        return {
            code: value
            for code, cause in REGISTRY.items()
            if (value := self._pick(cause)) is not None
        }

    def __getitem__(self, code: RootCause) -> T:
        return self._items()[code]

    def __iter__(self) -> Iterator[RootCause]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


MEANINGS: Final[Mapping[RootCause, str]] = _View(lambda cause: cause.meaning)
CAUSE_LAYERS: Final[Mapping[RootCause, Layer]] = _View(lambda cause: cause.layer)


def cause(code: RootCause) -> Cause:
    return REGISTRY[code]


def register(entry: Cause) -> None:
    """Add a root cause (one a step concludes). Every renderer, `explain`'s layers and the
    path picture read it from here; the README's table is checked against it."""
    if entry.code in REGISTRY:
        raise ValueError(f"the root cause {entry.code} is registered already")
    REGISTRY[entry.code] = entry


def unregister(code: RootCause) -> None:
    """Take a root cause out again (tests that register a throwaway one)."""
    REGISTRY.pop(code, None)


# What a hop still waiting when the diagnosis's time limit runs out is taken to mean (the
# engine's verdict then; every probe has a timeout of its own, so it takes one that overran).
UNANSWERED: Final[Mapping[Hop, RootCause]] = {
    Hop.NAME: RootCause.NAME_NOT_RESOLVED,
    Hop.HOST: RootCause.HOST_UNREACHABLE,
    Hop.BROWSER: RootCause.BROWSER_UNAVAILABLE,
    Hop.PORT: RootCause.PORT_FILTERED,
    Hop.SERVER: RootCause.SERVER_UNRESPONSIVE,
    Hop.TLS: RootCause.TLS_FAILED,
    Hop.LOGIN: RootCause.SERVER_UNRESPONSIVE,
}
