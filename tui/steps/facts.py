"""The typed facts the steps hand each other and the verdict reads.

Each record belongs to the step (or steps) that learn it; its `key` is the name a verdict's
summary template uses (`{tcp.detail}`, `{endpoint.port}`). The `Endpoint` says where the
connection goes now: the target step sets it, and name resolution, the Browser and the TCP step
move it on purpose; every other record is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from tui.engine.facts import Fact
from tui.wire.prelogin import Encryption

if TYPE_CHECKING:  # annotations only: the tables load when a step records them
    from tui.knowledge.clients import ClientRow
    from tui.knowledge.explain.model import Explanation


@dataclass(frozen=True)
class Endpoint(Fact):
    """Where the connection goes now: host, instance, and once known, addresses and port."""

    key: ClassVar[str] = "endpoint"
    replaceable: ClassVar[bool] = True
    host: str
    instance: str  # MSSQLSERVER for the default instance
    port: int | None = None
    addresses: tuple[str, ...] = ()
    address: str | None = None
    port_from_browser: bool = False
    fqdn: str | None = None  # the full name, when the host is short and DNS gave it back

    def moved(
        self,
        *,
        addresses: tuple[str, ...] | None = None,
        address: str | None = None,
        port: int | None = None,
        port_from_browser: bool | None = None,
        fqdn: str | None = None,
    ) -> Endpoint:
        return replace(
            self,
            fqdn=self.fqdn if fqdn is None else fqdn,
            addresses=self.addresses if addresses is None else addresses,
            address=self.address if address is None else address,
            port=self.port if port is None else port,
            port_from_browser=(
                self.port_from_browser if port_from_browser is None else port_from_browser
            ),
        )


@dataclass(frozen=True)
class Alias(Fact):
    """A client alias, DSN or FreeTDS section replaced what was typed."""

    key: ClassVar[str] = "alias"
    name: str
    where: str  # where it is defined, and how to change it


@dataclass(frozen=True)
class PortAlias(Fact):
    """The alias or DSN that gave the port nothing listens on."""

    key: ClassVar[str] = "port_alias"
    name: str
    where: str


@dataclass(frozen=True)
class AliasProblem(Fact):
    """The connection names an alias or DSN that leads to no host."""

    key: ClassVar[str] = "alias_problem"
    text: str


@dataclass(frozen=True)
class ErrorRead(Fact):
    """What the error text the person saw says, read before any probe."""

    key: ClassVar[str] = "error"
    explanation: Explanation


@dataclass(frozen=True)
class DnsFailure(Fact):
    key: ClassVar[str] = "dns"
    detail: str


@dataclass(frozen=True)
class BrowserAnswer(Fact):
    """What the SQL Server Browser said about the instances of the host."""

    key: ClassVar[str] = "browser"
    instances_listed: str | None = None  # "SALES, HR", for an instance it does not know


@dataclass(frozen=True)
class TcpResult(Fact):
    key: ClassVar[str] = "tcp"
    detail: str
    silence: str = ""  # how a filtered port stayed silent: "did not answer within 3 s", or the
    # SYNs it ignored while the host answered another port


@dataclass(frozen=True)
class FoundElsewhere(Fact):
    """SQL Server answers on another port of the host than the one used."""

    key: ClassVar[str] = "found"
    port: int
    how: str


@dataclass(frozen=True)
class SearchResult(Fact):
    """What the search for SQL Server on other ports of the host saw, when it found none."""

    key: ClassVar[str] = "search"
    detail: str


@dataclass(frozen=True)
class ServerAnswer(Fact):
    """SQL Server answered the pre-login (or TDS 8): its version and encryption setting."""

    key: ClassVar[str] = "server"
    version: str  # "SQL Server 2022, 16.0.1000"
    encryption: Encryption | None  # None: TDS 8 strict (no pre-login answer to read it from)
    strict_only: bool = False
    build: tuple[int, ...] | None = None  # the pre-login's VERSION: 11.0.2100


@dataclass(frozen=True)
class PreloginFailure(Fact):
    """What came back instead of a pre-login answer."""

    key: ClassVar[str] = "prelogin"
    detail: str


@dataclass(frozen=True)
class TlsFindings(Fact):
    """What each client would do against this server's encryption and certificate."""

    key: ClassVar[str] = "tls"
    summary: str
    clients: tuple[ClientRow, ...]
    client_name: str  # the name the client checks the certificate against
    detail: str | None = None  # the verdict's words when a client will fail
    cert_name: str | None = None
    cert_issuer: str | None = None


@dataclass(frozen=True)
class LoginSkipped(Fact):
    key: ClassVar[str] = "skipped"
    reason: str


@dataclass(frozen=True)
class LoginFacts(Fact):
    """Who logged in through what, and what came back."""

    key: ClassVar[str] = "login"
    client: str  # "pyodbc with ODBC Driver 18 for SQL Server", "sqlreach's own TDS login"
    label: str  # who: "sa", "the current Windows (Kerberos) user"
    database_label: str
    detail: str
    user: str | None = None  # a SQL login's name (None for Windows authentication)
    database: str | None = None


@dataclass(frozen=True)
class Renamed(Fact):
    """@@SERVERNAME still names the machine's old name."""

    key: ClassVar[str] = "renamed"
    old: str
    new: str


# -- a name with several addresses, judged as the client connects ------------------------------


@dataclass(frozen=True)
class Listener(Fact):
    """A name with several addresses (an availability group listener, a multi-subnet cluster):
    which answered, and which one the person's client meets first."""

    key: ClassVar[str] = "listener"
    addresses: str  # "10.1.0.5, 10.2.0.5", in the order the client tries them
    first: str  # the address a client without MultiSubnetFailover tries first
    live: str | None = None  # one that accepted, when any did
    dead: str | None = None  # the ones that did not, joined


# -- a redirect: the second hop -------------------------------------------------------------------


@dataclass(frozen=True)
class Redirect(Fact):
    """The login's answer sent the client on (routing ENVCHANGE): to where, and who did it."""

    key: ClassVar[str] = "redirect"
    host: str
    port: int
    by: str  # "the Azure SQL gateway (Redirect connection policy)"
    azure: bool = False
    read_only: bool = False  # read-only routing of an availability group


@dataclass(frozen=True)
class Routed(Fact):
    """Where the redirected connection goes: the routed name, its addresses and the one used."""

    key: ClassVar[str] = "routed"
    replaceable: ClassVar[bool] = True
    host: str
    port: int
    addresses: tuple[str, ...] = ()
    address: str | None = None


@dataclass(frozen=True)
class RoutedDnsFailure(Fact):
    key: ClassVar[str] = "routed_dns"
    detail: str


@dataclass(frozen=True)
class RoutedTcp(Fact):
    key: ClassVar[str] = "routed_tcp"
    detail: str


@dataclass(frozen=True)
class RoutedServer(Fact):
    key: ClassVar[str] = "routed_server"
    version: str
    encryption: Encryption | None


@dataclass(frozen=True)
class RoutedPreloginFailure(Fact):
    key: ClassVar[str] = "routed_prelogin"
    detail: str


@dataclass(frozen=True)
class RoutedTls(TlsFindings):
    """What each client would do against the routed server's TLS, with the routed name."""

    key: ClassVar[str] = "routed_tls"


@dataclass(frozen=True)
class RoutedLogin(LoginFacts):
    """The login repeated at the routed host and port, as drivers repeat it."""

    key: ClassVar[str] = "routed_login"


# -- Azure SQL, the dedicated admin connection, other transports -------------------------------


@dataclass(frozen=True)
class AzureRefusal(Fact):
    """An Azure SQL error at login, with what its text names (the client's address)."""

    key: ClassVar[str] = "azure"
    number: int
    client_ip: str | None = None
    server: str | None = None  # the logical server's short name (az --server takes it)


@dataclass(frozen=True)
class DacPort(Fact):
    """Where the dedicated admin connection listens, and how that was learned."""

    key: ClassVar[str] = "dac"
    port: int
    how: str


@dataclass(frozen=True)
class Transport(Fact):
    """A connection that does not go over TCP to SQL Server: what it is, and what could be
    checked from here."""

    key: ClassVar[str] = "transport"
    kind: str  # "named pipes", "shared memory", "LocalDB"
    detail: str


@dataclass(frozen=True)
class Smb(Fact):
    """What TCP 445 (SMB, which remote named pipes travel over) said."""

    key: ClassVar[str] = "smb"
    detail: str
    tcp: str  # what the instance's TCP port said, for comparison


@dataclass(frozen=True)
class ServiceAccount(Fact):
    """The account the instance's service runs as, read on the server itself."""

    key: ClassVar[str] = "service_account"
    account: str
