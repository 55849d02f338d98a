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
class LabInstance:
    name: str  # MSSQLSERVER for the default instance
    port: int | None  # where it listens on TCP; None: TCP/IP disabled
    advertised_port: int | None = None  # what the Browser says, when it differs (stale)
    hidden: bool = False
    version: str = "16.0.1000.6"

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
    encryption: Encryption = Encryption.NOT_SUP
    certificate: CertSpec | None = None
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

    def target_for(self, address: str) -> str:
        host = f"[{address}]" if ":" in address else address
        return self.target.format(address=host)


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
        "The client insists on encryption, but the server has no certificate configured and "
        "answers that it does not support encryption.",
        "Configure a certificate on the server, or (knowingly) Encrypt=no.",
        RootCause.ENCRYPTION_MISMATCH,
        "Server={address};Encrypt=yes" + _LOGIN,
        (_DEFAULT,),
        encryption=Encryption.NOT_SUP,
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
)

BY_NAME: Final = {scenario.name: scenario for scenario in SCENARIOS}


def scenario(name: str) -> Scenario:
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(BY_NAME)
        raise KeyError(f"no lab scenario '{name}'; the scenarios are: {known}") from None
