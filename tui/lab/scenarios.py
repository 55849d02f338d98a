"""The lab's scenarios: named, documented setups, each broken (or healthy) in one known way.

Each says which real-world situation it imitates, which root cause sqlreach should reach, and
which fix a person should arrive at. A scenario is data; `server.py` serves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from tui.knowledge.causes import RootCause
from tui.lab.certs import CertSpec
from tui.wire.prelogin import Encryption

LAB_USER: Final = "sa"
LAB_PASSWORD: Final = "Lab-Passw0rd!"
DYNAMIC_PORT: Final = 49733
NEW_DYNAMIC_PORT: Final = 49811
MOVED_PORT: Final = 1500
DAC_PORT: Final = 1434
LAB_HOST: Final = "SQLHOST01"
SECONDARY_HOST: Final = "SQLHOST02"
NAMED_DAC_PORT: Final = 49734
REDIRECT_PORT: Final = 11047  # Azure SQL's redirect ports are 11000-11999
AZURE_SERVER: Final = "sqlreach-lab"
AZURE_GATEWAY: Final = f"{AZURE_SERVER}.database.windows.net"
AZURE_NODE: Final = "tr1.lab-region1-a.worker.database.windows.net"
AZURE_NODE_UNREGISTERED: Final = "tr9.lab-region1-a.worker.database.windows.net"
LISTENER: Final = "aglistener.sqlreach.test"
FORWARDED_PORT: Final = 14330
INSIDE_ADDRESS: Final = "10.20.30.40"  # where the NAT router forwards to (RFC 1918)


SELF_SIGNED: Final = CertSpec()  # what SQL Server makes itself when none is configured


class BrowserMode(StrEnum):
    ON = "on"  # the SQL Server Browser answers on UDP 1434
    STOPPED = "stopped"  # nothing on UDP 1434: the host answers 'port unreachable'
    DROPPED = "dropped"  # a firewall drops UDP 1434: silence


class PortMode(StrEnum):
    TDS = "tds"  # SQL Server
    HTTP = "http"  # a web server holds the port
    FILTERED = "filtered"  # a full accept queue: SYNs go unanswered, as behind a DROP rule
    STALL = "stall"  # accepts, then never answers (worker threads exhausted)
    CLOSE = "close"  # accepts, then closes at once (a proxy with no backend)
    RESET = "reset"  # accepts, then resets


@dataclass(frozen=True)
class Route:
    """Where a good login here is sent on, by a routing ENVCHANGE: an Azure SQL gateway in
    Redirect mode sends every login on; an availability group's primary only read-intent ones
    (ApplicationIntent=ReadOnly) when read-only routing is configured."""

    host: str  # '{address}', '{sibling}', or a name the scenario's DNS knows (or does not)
    port: int
    read_only: bool = False

    def host_for(self, address: str, sibling: str | None) -> str:
        return self.host.format(address=address, sibling=sibling or address)


@dataclass(frozen=True)
class Refusal:
    """A login answered with one error before any credential is looked at (Azure SQL's server
    firewall answers 40615 this way). `message` may name {client}: the address seen."""

    number: int
    state: int
    severity: int
    message: str


@dataclass(frozen=True)
class LabInstance:
    name: str  # MSSQLSERVER for the default instance
    port: int | None  # where it listens on TCP; None: TCP/IP disabled
    advertised_port: int | None = None  # what the Browser says, when it differs (stale)
    hidden: bool = False
    version: str = "16.0.1000.6"
    # The dedicated admin connection: the port the Browser gives for CLNT_UCAST_DAC (None: no
    # DAC, as SQL Server Express without trace flag 7806), and whether it listens on the lab's
    # address (remote admin connections on) or, as by default, on 127.0.0.1 only.
    dac_port: int | None = None
    remote_dac: bool = True
    on_sibling: bool = False  # served on the scenario's second address
    server_name: str | None = None  # @@SERVERNAME of this node, when not the scenario's
    route: Route | None = None
    refusal: Refusal | None = None
    inside: tuple[str, int] | None = None  # behind NAT: the address and port it really has

    @property
    def browser_port(self) -> int | None:
        return self.advertised_port if self.advertised_port is not None else self.port


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    imitates: str  # the real-world situation
    lesson: str  # the fix a person should arrive at
    expected: RootCause
    target: str  # what to diagnose; {address} is the scenario's loopback address
    instances: tuple[LabInstance, ...]
    browser: BrowserMode = BrowserMode.ON
    extra_ports: tuple[tuple[int, PortMode], ...] = ()
    # Every SQL Server since 2005 answers OFF and encrypts the login with a self-signed
    # certificate made at start-up when none is configured: so does the lab, unless a scenario
    # says why not (why_no_tls).
    encryption: Encryption = Encryption.OFF
    certificate: CertSpec | None = SELF_SIGNED
    tls_max: str = "1.2"  # SQL Server under TDS 7.x: at most TLS 1.2
    tls_min: str = "1.2"
    strict_only: bool = False  # TDS 8: TLS first, ALPN tds/8.0
    databases: tuple[str, ...] = ("master", "tempdb", "model", "msdb", "Sales")
    login_stalls: bool = False  # the pre-login is answered, the login never is
    logins: tuple[tuple[str, str], ...] = ((LAB_USER, LAB_PASSWORD),)
    server_name: str = LAB_HOST  # @@SERVERNAME
    machine_name: str = LAB_HOST  # SERVERPROPERTY('MachineName')
    edition: str = "Developer Edition (64-bit)"
    trust_ca: bool = False  # the client must trust the scenario's test CA (SSL_CERT_FILE)
    tags: tuple[str, ...] = field(default=())
    # Names the lab's own DNS server answers ('{address}', '{sibling}'); every other name gets
    # NXDOMAIN from it.
    names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sibling_ports: tuple[tuple[int, PortMode], ...] = ()
    registered_name: str | None = None  # sys.servers (server_id 0); None: @@SERVERNAME's
    why_no_tls: str | None = None  # a scenario answering NOT_SUP says why (no 2005+ server does)

    def __post_init__(self) -> None:
        if self.encryption is Encryption.NOT_SUP and not self.why_no_tls:
            raise ValueError(f"{self.name}: every server since 2005 encrypts; say why not")

    @property
    def needs_sibling(self) -> bool:
        """Whether the scenario serves on a second address (a secondary, a second subnet)."""
        routed = any(i.route and "{sibling}" in i.route.host for i in self.instances)
        named = any("{sibling}" in value for _, values in self.names for value in values)
        return (
            routed or named or bool(self.sibling_ports) or any(i.on_sibling for i in self.instances)
        )

    def target_for(self, address: str, sibling: str | None = None) -> str:
        host = f"[{address}]" if ":" in address else address
        other = sibling or address
        return self.target.format(address=host, sibling=other)

    def resolved_names(self, address: str, sibling: str | None) -> dict[str, tuple[str, ...]]:
        return {
            name: tuple(v.format(address=address, sibling=sibling or address) for v in values)
            for name, values in self.names
        }


_LOGIN = f";User ID={LAB_USER};Password={LAB_PASSWORD}"
_DEFAULT = LabInstance("MSSQLSERVER", 1433)
_SALES = LabInstance("SALES", DYNAMIC_PORT)

# After the port opens: TLS and certificates, judged as the client's own driver would.
_ODBC18 = "Driver={{ODBC Driver 18 for SQL Server}};Server={address}"
_ODBC_LOGIN = f";UID={LAB_USER};PWD={LAB_PASSWORD}"
_AS_SQLHOST01 = f";HostNameInCertificate={LAB_HOST}"

TLS_SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario(
        "tls-self-signed",
        "Self-signed certificate meets ODBC Driver 18",
        "A default install: no certificate configured, so SQL Server made itself a self-signed "
        "one, and encrypts the login packet only (Force Encryption off). ODBC Driver 18 "
        "encrypts by default and checks the certificate; ODBC Driver 17 and FreeTDS connect.",
        "Give the server a certificate from a CA the clients trust, with the name they use; "
        "TrustServerCertificate=yes only knowingly.",
        RootCause.TLS_FAILED,
        _ODBC18 + _ODBC_LOGIN,
        (_DEFAULT,),
        encryption=Encryption.OFF,
        certificate=CertSpec(),
        tags=("tls",),
    ),
    Scenario(
        "tls-forced",
        "Force Encryption on, and Encrypt=no in the client",
        "The server forces encryption with its self-signed certificate; the application says "
        "Encrypt=no, hoping to avoid the certificate check. ODBC Driver 18 encrypts anyway, "
        "because the server demands it, and checks the certificate.",
        "Encrypt=no does not help against a server that forces encryption: trust the "
        "certificate (or provision one the clients trust).",
        RootCause.TLS_FAILED,
        _ODBC18 + ";Encrypt=no" + _ODBC_LOGIN,
        (_DEFAULT,),
        encryption=Encryption.ON,
        certificate=CertSpec(),
        tags=("tls",),
    ),
    Scenario(
        "tls-1.0-only",
        "An unpatched server that speaks only TLS 1.0",
        "SQL Server 2012 without the TLS 1.2 update: TLS 1.0 only. OpenSSL 3 on the client "
        "refuses it at its default security level, even with TrustServerCertificate=yes; "
        "FreeTDS (GnuTLS) still connects.",
        "Install the SQL Server update that brings TLS 1.2 and enable TLS 1.2 on both sides.",
        RootCause.TLS_FAILED,
        _ODBC18 + ";TrustServerCertificate=yes" + _ODBC_LOGIN,
        (LabInstance("MSSQLSERVER", 1433, version="11.0.2100.60"),),
        encryption=Encryption.OFF,
        certificate=CertSpec(),
        tls_min="1.0",
        tls_max="1.0",
        tags=("tls",),
    ),
    Scenario(
        "tls-wrong-name",
        "Certificate made out to the old server name",
        "The server was renamed to SQLHOST01 but still presents the certificate issued to "
        "OLDHOST by the company CA (which the client trusts). Clients use SQLHOST01 "
        "(HostNameInCertificate stands for connecting by that name on loopback).",
        "Issue a certificate for SQLHOST01, or connect by the name on the certificate.",
        RootCause.TLS_FAILED,
        _ODBC18 + _AS_SQLHOST01 + _ODBC_LOGIN,
        (_DEFAULT,),
        encryption=Encryption.OFF,
        certificate=CertSpec(name="OLDHOST", issuer="ca"),
        trust_ca=True,
        tags=("tls",),
    ),
    Scenario(
        "tls-expired",
        "Expired certificate",
        "The server's certificate from the company CA (trusted by the client) expired a month "
        "ago; nobody renewed it.",
        "Renew the certificate, give it to the instance, restart the service.",
        RootCause.TLS_FAILED,
        _ODBC18 + _AS_SQLHOST01 + _ODBC_LOGIN,
        (_DEFAULT,),
        encryption=Encryption.OFF,
        certificate=CertSpec(issuer="ca", expired=True),
        trust_ca=True,
        tags=("tls",),
    ),
    Scenario(
        "tls-trusted",
        "Certificate from a CA the client trusts",
        "The server presents a certificate for SQLHOST01 issued by the company CA, and the "
        "client trusts that CA: ODBC Driver 18's checks all pass.",
        "Nothing to fix: this is what a correctly provisioned certificate looks like.",
        RootCause.OK,
        _ODBC18 + _AS_SQLHOST01 + _ODBC_LOGIN,
        (_DEFAULT,),
        encryption=Encryption.OFF,
        certificate=CertSpec(issuer="ca"),
        trust_ca=True,
        tags=("tls",),
    ),
    Scenario(
        "tls-strict-only",
        "A server that accepts only TDS 8 strict",
        "SQL Server 2022 with Force Strict Encryption: TLS comes first, before any TDS. A "
        "client with Encrypt=yes (TDS 7.x) sends a plain pre-login and is dropped.",
        "Connect with Encrypt=strict (ODBC Driver 18, SqlClient 5+) and a certificate the "
        "client trusts.",
        RootCause.ENCRYPTION_MISMATCH,
        _ODBC18 + ";Encrypt=yes;TrustServerCertificate=yes" + _ODBC_LOGIN,
        (_DEFAULT,),
        encryption=Encryption.OFF,
        certificate=CertSpec(),
        strict_only=True,
        tags=("tls",),
    ),
)


# Behind something: an Azure SQL gateway, an availability group listener, a NAT router.
_AZURE_CERT = CertSpec(
    name="*.database.windows.net",
    issuer="ca",
    san_names=("*.lab-region1-a.worker.database.windows.net",),
)
_AZURE_TARGET = f"Server=tcp:{AZURE_GATEWAY},1433;Database=Sales" + _LOGIN
_AZURE_NAMES = ((AZURE_GATEWAY, ("{address}",)), (AZURE_NODE, ("{address}",)))
_AZURE_VERSION = "12.0.2000.8"  # what SERVERPROPERTY('ProductVersion') says on Azure SQL Database
_AZURE_NODE_INSTANCE = LabInstance("MSSQLSERVER", REDIRECT_PORT, version=_AZURE_VERSION)


def _gateway(host: str, refusal: Refusal | None = None) -> LabInstance:
    route = None if refusal is not None else Route(host, REDIRECT_PORT)
    return LabInstance("MSSQLSERVER", 1433, version=_AZURE_VERSION, route=route, refusal=refusal)


def _azure(
    name: str,
    title: str,
    imitates: str,
    lesson: str,
    expected: RootCause,
    instances: tuple[LabInstance, ...],
    extra_ports: tuple[tuple[int, PortMode], ...] = (),
) -> Scenario:
    return Scenario(
        name,
        title,
        imitates,
        lesson,
        expected,
        _AZURE_TARGET,
        instances,
        browser=BrowserMode.DROPPED,  # Azure SQL runs no SQL Server Browser
        extra_ports=extra_ports,
        encryption=Encryption.ON,
        certificate=_AZURE_CERT,
        trust_ca=True,  # stands for the public CA Azure's certificates come from
        server_name=AZURE_SERVER,
        machine_name="DB-LAB-NODE1",
        edition="SQL Azure",
        names=_AZURE_NAMES,
        tags=("azure", "routing"),
    )


AZURE_40615: Final = (
    "Cannot open server '{server}' requested by the login. Client with IP address '{client}' is "
    "not allowed to access the server.  To enable access, use the SQL Database Portal or run "
    "sp_set_firewall_rule on the master database to create a firewall rule for this IP address "
    "or address range.  It may take up to five minutes for this change to take effect."
)  # error 40615, the text of Microsoft's 'SQL error codes for SQL Database client applications'

ROUTED_SCENARIOS: Final[tuple[Scenario, ...]] = (
    _azure(
        "azure-redirect",
        "Azure SQL gateway in Redirect mode",
        "An Azure SQL Database logical server with the Redirect connection policy: the gateway "
        "on 1433 answers the login with a routing ENVCHANGE, and the client logs in again at the "
        f"node that hosts the database ({AZURE_NODE}, port {REDIRECT_PORT}).",
        "Nothing to fix; clients need outbound TCP 11000-11999 to the region besides 1433 to "
        "the gateway (or the Proxy policy).",
        RootCause.OK,
        (_gateway(AZURE_NODE), _AZURE_NODE_INSTANCE),
    ),
    _azure(
        "azure-redirect-dropped",
        "Azure SQL redirect to a port the firewall drops",
        "The gateway redirects the login to the node on port 11047, but the company firewall "
        "allows outbound 1433 only: the second connection times out (ODBC Driver 18: 'TCP "
        "Provider: Error code 0x102').",
        "Allow outbound TCP 11000-11999 to Azure SQL's addresses in the region, or switch the "
        "server's connection policy to Proxy.",
        RootCause.PORT_FILTERED,
        (_gateway(AZURE_NODE),),
        extra_ports=((REDIRECT_PORT, PortMode.FILTERED),),
    ),
    _azure(
        "azure-redirect-unresolved",
        "Azure SQL redirect to a name DNS does not know",
        "The gateway redirects the login to a node name this client's DNS cannot resolve (a "
        "split-horizon or filtering DNS): ODBC Driver 18 fails with 'Error code 0x2AF9'.",
        "Let the client resolve *.worker.database.windows.net (or use the Proxy policy).",
        RootCause.NAME_NOT_RESOLVED,
        (_gateway(AZURE_NODE_UNREGISTERED),),
    ),
    _azure(
        "azure-firewall",
        "Azure SQL server firewall: the client's address is not allowed",
        "The gateway answers the login with error 40615: no server-level firewall rule allows "
        "the address the client connects from.",
        "Add a firewall rule for the address named in the error (az sql server firewall-rule "
        "create), wait up to five minutes.",
        RootCause.LOGIN_FAILED,
        (
            _gateway(
                AZURE_NODE,
                refusal=Refusal(40615, 1, 14, AZURE_40615.replace("{server}", AZURE_SERVER)),
            ),
        ),
    ),
    Scenario(
        "ag-read-only-routing",
        "Availability group listener with read-only routing",
        "The listener leads to the primary replica (SQLHOST01); a login that says "
        "ApplicationIntent=ReadOnly is routed to the readable secondary SQLHOST02, every "
        "other login stays on the primary.",
        "Nothing to fix; read-intent connections land on the secondary.",
        RootCause.OK,
        "Server={address};Database=Sales;ApplicationIntent=ReadOnly" + _LOGIN,
        (
            LabInstance("MSSQLSERVER", 1433, route=Route("{sibling}", 1433, read_only=True)),
            LabInstance("MSSQLSERVER", 1433, on_sibling=True, server_name=SECONDARY_HOST),
        ),
        tags=("routing",),
    ),
    Scenario(
        "ag-multi-subnet",
        "Multi-subnet listener without MultiSubnetFailover",
        f"The listener {LISTENER} has one address per subnet (RegisterAllProvidersIP=1); only "
        "the primary's subnet is online, the other drops the port. Without "
        "MultiSubnetFailover the driver tries the first address and waits out its timeout.",
        "MultiSubnetFailover=True in the connection string; or RegisterAllProvidersIP=0 and a "
        "short HostRecordTTL on the listener's cluster resource.",
        RootCause.PORT_FILTERED,
        f"Server={LISTENER};Database=Sales" + _LOGIN,
        (LabInstance("MSSQLSERVER", 1433, on_sibling=True),),
        browser=BrowserMode.DROPPED,
        extra_ports=((1433, PortMode.FILTERED),),
        names=((LISTENER, ("{address}", "{sibling}")),),
        tags=("listener",),
    ),
    Scenario(
        "ag-multi-subnet-failover",
        "Multi-subnet listener with MultiSubnetFailover",
        f"The same listener {LISTENER}; the client says MultiSubnetFailover=True, so the driver "
        "tries both addresses at once and connects through the live one.",
        "Nothing to fix; the dead address is the other subnet, online after a failover.",
        RootCause.OK,
        f"Server={LISTENER};Database=Sales;MultiSubnetFailover=True" + _LOGIN,
        (LabInstance("MSSQLSERVER", 1433, on_sibling=True),),
        browser=BrowserMode.DROPPED,
        extra_ports=((1433, PortMode.FILTERED),),
        names=((LISTENER, ("{address}", "{sibling}")),),
        tags=("listener",),
    ),
)

# The dedicated admin connection, named pipes, Analysis Services, NAT, a rename half done.
OTHER_WAYS_IN: Final[tuple[Scenario, ...]] = (
    Scenario(
        "dac-remote-off",
        "Dedicated admin connection from another machine, remote admin connections off",
        "admin:host asks the Browser for the DAC port (1434) and connects there, but the DAC "
        "listens on 127.0.0.1 only: 'remote admin connections' is 0, as after installation.",
        "EXEC sp_configure 'remote admin connections', 1; RECONFIGURE; or use the DAC on the "
        "server itself (sqlcmd -S admin:localhost).",
        RootCause.PORT_REFUSED,
        "Server=admin:{address}" + _LOGIN,
        (LabInstance("MSSQLSERVER", 1433, dac_port=DAC_PORT, remote_dac=False),),
        tags=("dac",),
    ),
    Scenario(
        "dac-named",
        "Dedicated admin connection to a named instance",
        "admin:host\\SALES: the Browser gives the DAC port of SALES (CLNT_UCAST_DAC), remote "
        "admin connections are on, and the DAC answers there.",
        "Nothing to fix: the DAC port comes from the Browser, never from 1433.",
        RootCause.OK,
        "Server=admin:{address}\\SALES" + _LOGIN,
        (LabInstance("SALES", DYNAMIC_PORT, dac_port=NAMED_DAC_PORT),),
        tags=("dac",),
    ),
    Scenario(
        "named-pipes-no-smb",
        "Named pipes from another machine, SMB closed",
        "The connection asks for named pipes (np:); the instance answers on TCP 1433, but "
        "nothing listens on SMB port 445, which remote named pipes travel over.",
        "Use TCP (tcp:host,1433), or start the Server service and open TCP 445.",
        RootCause.PORT_REFUSED,
        "Server=np:\\\\{address}\\pipe\\sql\\query" + _LOGIN,
        (_DEFAULT,),
        tags=("pipes",),
    ),
    Scenario(
        "analysis-services-stopped",
        "Analysis Services port 2383, its service stopped",
        "The client wants SQL Server Analysis Services on its default port 2383; the SSAS "
        "service is stopped, while the database engine runs on 1433.",
        "Start the Analysis Services service (MSSQLServerOLAPService); SQL Server drivers do not "
        "speak to Analysis Services.",
        RootCause.PORT_REFUSED,
        "{address},2383",
        (_DEFAULT,),
    ),
    Scenario(
        "nat-port-forward",
        "Through a NAT router's port forward",
        f"The client connects to port {FORWARDED_PORT}; a router forwards it to the server's "
        f"real address {INSIDE_ADDRESS} port 1433, which the server itself reports.",
        "Nothing to fix; know that clients, SPNs and certificates see the outside name and "
        "port, the server the inside ones.",
        RootCause.OK,
        f"Server={{address}},{FORWARDED_PORT}" + _LOGIN,
        (LabInstance("MSSQLSERVER", FORWARDED_PORT, inside=(INSIDE_ADDRESS, 1433)),),
    ),
    Scenario(
        "renamed-not-restarted",
        "Renamed host: sp_addserver run, the service not restarted",
        "After the rename, sp_dropserver 'OLDHOST' and sp_addserver 'SQLHOST01', 'local' were "
        "run, but the service was not restarted: sys.servers says SQLHOST01, @@SERVERNAME "
        "still OLDHOST.",
        "Restart the SQL Server service; nothing else.",
        RootCause.OK,
        "Server={address}" + _LOGIN,
        (_DEFAULT,),
        server_name="OLDHOST",
        registered_name=LAB_HOST,
    ),
)

SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario(
        "healthy-default",
        "Healthy default instance on 1433",
        "A default instance, running, TCP/IP on port 1433, the Browser up.",
        "Nothing to fix: this is what working looks like.",
        RootCause.OK,
        "Server={address}" + _LOGIN,
        (_DEFAULT,),
    ),
    Scenario(
        "healthy-named",
        "Healthy named instance on a dynamic port",
        "A named instance SALES on a port chosen at start-up; clients find it through the "
        "SQL Server Browser on UDP 1434.",
        "Nothing to fix. Note how the port comes from the Browser.",
        RootCause.OK,
        "Server={address}\\SALES" + _LOGIN,
        (_SALES,),
    ),
    Scenario(
        "service-stopped",
        "The SQL Server service is stopped",
        "MSSQLSERVER stopped (after a failed start, or a changed service-account password): "
        "nothing listens on 1433 and the Browser lists nothing.",
        "Start the service (net start MSSQLSERVER); if it will not start, read the ERRORLOG "
        "and the event log (7038: update the service password).",
        RootCause.PORT_REFUSED,
        "Server={address}" + _LOGIN,
        (),
        browser=BrowserMode.STOPPED,
    ),
    Scenario(
        "moved-port",
        "Default instance moved off 1433",
        "Someone set the default instance's IPAll TCP port to 1500; clients still use 1433. "
        "The Browser still reports the instance with its real port.",
        "Connect with host,1500, or set IPAll back to 1433 and restart.",
        RootCause.WRONG_PORT,
        "Server={address}" + _LOGIN,
        (LabInstance("MSSQLSERVER", MOVED_PORT),),
    ),
    Scenario(
        "browser-stopped",
        "SQL Server Browser stopped",
        "A named instance on a dynamic port; the SQL Server Browser service is stopped, so "
        "UDP 1434 answers 'port unreachable' and clients get error 26.",
        "Start the Browser (net start SQLBrowser), or connect with host,port.",
        RootCause.BROWSER_UNAVAILABLE,
        "Server={address}\\SALES" + _LOGIN,
        (_SALES,),
        browser=BrowserMode.STOPPED,
    ),
    Scenario(
        "udp-blocked",
        "UDP 1434 blocked by a firewall",
        "The Browser runs, but a firewall drops UDP 1434: the lookup times out (error 26).",
        "Open UDP 1434 in the firewall, or give the port (host,port) and a static IPAll port.",
        RootCause.BROWSER_UNAVAILABLE,
        "Server={address}\\SALES" + _LOGIN,
        (_SALES,),
        browser=BrowserMode.DROPPED,
    ),
    Scenario(
        "unknown-instance",
        "Instance name that does not exist",
        "The connection asks for instance HR; the server has only SALES (a typo, a renamed "
        "or removed instance).",
        "Use the instance name the Browser lists (SALES).",
        RootCause.INSTANCE_NOT_FOUND,
        "Server={address}\\HR" + _LOGIN,
        (_SALES,),
    ),
    Scenario(
        "tcp-disabled",
        "TCP/IP disabled for the instance",
        "The instance runs with only Shared Memory and Named Pipes (a fresh Express or "
        "Developer install): the Browser lists it without a TCP port.",
        "Enable TCP/IP in Configuration Manager and restart the service.",
        RootCause.TCP_DISABLED,
        "Server={address}\\SALES" + _LOGIN,
        (LabInstance("SALES", None),),
    ),
    Scenario(
        "stale-port",
        "Stale dynamic port after a restart",
        "After a restart the instance took another dynamic port, but the client (or the "
        "Browser's cached answer here) still names the old one.",
        "Give the instance a static port under IPAll (and clear TcpDynamicPorts).",
        RootCause.PORT_REFUSED,
        "Server={address}\\SALES" + _LOGIN,
        (LabInstance("SALES", NEW_DYNAMIC_PORT, advertised_port=DYNAMIC_PORT),),
    ),
    Scenario(
        "firewall-drop",
        "A firewall drops the SQL Server port",
        "Windows Firewall (or a network firewall) drops TCP 1433: connections time out "
        "(10060) instead of being refused.",
        "Open TCP 1433 in the firewall (and check IPSec or NAT on the way).",
        RootCause.PORT_FILTERED,
        "Server={address}" + _LOGIN,
        (),
        browser=BrowserMode.DROPPED,
        extra_ports=((1433, PortMode.FILTERED),),
    ),
    Scenario(
        "http-on-1433",
        "Something else holds port 1433",
        "A web server (or another program) listens on 1433; SQL Server failed to get the port.",
        "Find the program on the port (netstat -ano | findstr :1433) and move one of them.",
        RootCause.NOT_SQL_SERVER,
        "Server={address}" + _LOGIN,
        (),
        browser=BrowserMode.STOPPED,
        extra_ports=((1433, PortMode.HTTP),),
    ),
    Scenario(
        "wrong-password",
        "Wrong password",
        "The network is fine; the password in the connection string is wrong (the server logs "
        "18456 state 8; clients see state 1).",
        "Fix the password; read the real 18456 state in the ERRORLOG.",
        RootCause.LOGIN_FAILED,
        f"Server={{address}};User ID={LAB_USER};Password=not-the-password",
        (_DEFAULT,),
    ),
    Scenario(
        "missing-database",
        "The database does not exist",
        "The login works but the database named in the connection string does not exist: the "
        "server sends 4060, then 18456, and drivers show only the 18456.",
        "Fix the database name (or restore the database, or grant access).",
        RootCause.DATABASE_UNAVAILABLE,
        "Server={address};Database=Payroll" + _LOGIN,
        (_DEFAULT,),
    ),
    Scenario(
        "encryption-unsupported",
        "Encrypt=yes against a server without TLS",
        "The client insists on encryption, but the endpoint is not Microsoft's: a TDS proxy (or "
        "a Babelfish endpoint) with no TLS configured, which answers that it does not support "
        "encryption. Every SQL Server since 2005 makes itself a certificate and encrypts at "
        "least the login; only SQL Server 2000 and such endpoints answer NOT_SUP.",
        "Configure TLS on the endpoint, or (knowingly) Encrypt=no.",
        RootCause.ENCRYPTION_MISMATCH,
        "Server={address};Encrypt=yes" + _LOGIN,
        (_DEFAULT,),
        encryption=Encryption.NOT_SUP,
        certificate=None,
        why_no_tls="a non-Microsoft TDS endpoint with no TLS configured",
    ),
    Scenario(
        "renamed-host",
        "Renamed host: @@SERVERNAME is stale",
        "The machine was renamed from OLDHOST to SQLHOST01 but sp_dropserver / sp_addserver "
        "were never run: @@SERVERNAME still says OLDHOST.",
        "EXEC sp_dropserver 'OLDHOST'; EXEC sp_addserver 'SQLHOST01', 'local'; then restart.",
        RootCause.OK,
        "Server={address}" + _LOGIN,
        (_DEFAULT,),
        server_name="OLDHOST",
    ),
    Scenario(
        "server-stalled",
        "Server under pressure: accepts, then says nothing",
        "Worker threads exhausted (or the instance hung): TCP connections open, but the "
        "pre-login is never answered. Drivers report a network timeout.",
        "Look at the server: the ERRORLOG, sys.dm_os_schedulers through the dedicated admin "
        "connection (admin:host).",
        RootCause.SERVER_UNRESPONSIVE,
        "Server={address}" + _LOGIN,
        (),
        browser=BrowserMode.STOPPED,
        extra_ports=((1433, PortMode.STALL),),
    ),
    Scenario(
        "server-resets",
        "A proxy with no backend: accepts, then resets",
        "A load balancer or proxy accepts the connection and resets it because no SQL Server "
        "behind it is alive (or the instance is stopping).",
        "Check the proxy's backend pool and the SQL Server behind it.",
        RootCause.SERVER_UNRESPONSIVE,
        "Server={address}" + _LOGIN,
        (),
        browser=BrowserMode.STOPPED,
        extra_ports=((1433, PortMode.RESET),),
    ),
    *TLS_SCENARIOS,
    Scenario(
        "login-stalled",
        "Under pressure: the pre-login answered, the login never",
        "The pre-login is answered, but the login is not: a logon trigger that blocks, a "
        "database the login must open still in recovery, or worker threads exhausted behind "
        "the listener. Drivers report 'Login timeout expired' (HYT00).",
        "Look at the server: the ERRORLOG (recovery, 'login timeout'), logon triggers "
        "(sys.server_triggers), and sys.dm_os_schedulers through the dedicated admin connection "
        "(admin:host).",
        RootCause.SERVER_UNRESPONSIVE,
        "Server={address}" + _LOGIN,
        (_DEFAULT,),
        login_stalls=True,
    ),
    *ROUTED_SCENARIOS,
    *OTHER_WAYS_IN,
)

BY_NAME: Final = {scenario.name: scenario for scenario in SCENARIOS}


def scenario(name: str) -> Scenario:
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(BY_NAME)
        raise KeyError(f"no lab scenario '{name}'; the scenarios are: {known}") from None
