"""The decision tree, as data.

Each step names the checklist item or triage question it comes from, says why it matters in
words a junior admin can follow, and maps each outcome of its action to the next step or to a
verdict. The actions (the code that runs probes and picks an outcome) live in one module per
step beside this one, each with its own outcome enum and the typed facts it records; the wiring
of outcomes to steps and verdicts, the step ids and the answers a person may give in advance
live only here. A verdict's template names facts as `{kind.field}` (tui/steps/facts.py); its
fixes, when it names none, are its root cause's own (tui/knowledge/causes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tui.engine.model import Choice, Conclude, Next, Question, Step
from tui.engine.walk import Tree
from tui.knowledge.causes import Hop
from tui.knowledge.causes import RootCause as R
from tui.knowledge.clients import AUTO, FAMILIES, SSMS, SSMS_LABEL
from tui.steps import (
    browser,
    dac,
    dns,
    error,
    login,
    login_wanted,
    prelogin,
    routed,
    search,
    target,
    tcp,
    tls,
    transport,
)
from tui.steps import facts as f
from tui.steps.browser import BrowserOutcome
from tui.steps.dac import DacOutcome
from tui.steps.dns import DnsOutcome
from tui.steps.error import ErrorOutcome
from tui.steps.ids import S
from tui.steps.login import LoginOutcome
from tui.steps.prelogin import PreloginOutcome
from tui.steps.routed import (
    RoutedDnsOutcome,
    RoutedLoginOutcome,
    RoutedPreloginOutcome,
    RoutedTcpOutcome,
)
from tui.steps.search import SearchOutcome
from tui.steps.target import ServerConfigOutcome, TargetOutcome
from tui.steps.tcp import TcpOutcome
from tui.steps.tls import TlsOutcome
from tui.steps.transport import LocalOutcome, SmbOutcome
from tui.steps.verdict import conclude


@dataclass(frozen=True)
class Answers:
    """What a person can say before the walk (flags of `check`, `scan`, a re-run)."""

    on_server: bool | None = None  # --on-server / --remote
    login: bool | None = None  # False: --no-login
    client: str | None = None  # --client NAME (a family id)

    def by_step(self) -> dict[str, str]:
        """The answers keyed by the question steps they answer: the only place that maps them."""
        answers: dict[str, str] = {}
        if self.on_server is not None:
            answers[S.ON_SERVER] = "yes" if self.on_server else "no"
        if self.login is not None:
            answers[S.LOGIN_WANTED] = "login" if self.login else "skip"
        if self.client is not None:
            answers[S.CLIENT] = self.client
        return answers


# The second hop: where a redirect sends the login (design.md: the root cause is the failing
# hop's own code, and the summary names the redirect).
_SENT_ON = (
    "The login to {endpoint.host} works, but {redirect.by} sends it on to {redirect.host} port "
    "{redirect.port}"
)
_DRIVERS_FOLLOW = "Drivers follow the redirect on their own, so this is where the application fails"

ROUTED_STEPS: Final[tuple[Step, ...]] = (
    Step(
        id=S.ROUTED_DNS,
        title="Resolve the name the login was redirected to",
        why=(
            "An Azure SQL gateway in Redirect mode, and an availability group's primary for a "
            "read-intent login, answer a good login by sending the client elsewhere. The "
            "driver then starts over with the new name: if this client cannot resolve it, "
            "every connection fails although the first server answered."
        ),
        source="MS-TDS ENVCHANGE type 20 (routing); Azure SQL connectivity architecture",
        hop=Hop.ROUTED_NAME,
        action=routed.resolve_routed,
        timeouts=1,
        gives={
            RoutedDnsOutcome.RESOLVED: (f.Routed,),
            RoutedDnsOutcome.NOT_RESOLVED: (f.RoutedDnsFailure,),
        },
        outcomes={
            RoutedDnsOutcome.RESOLVED: Next(S.ROUTED_TCP),
            RoutedDnsOutcome.NOT_RESOLVED: Conclude(
                R.NAME_NOT_RESOLVED,
                _SENT_ON
                + ", and that name does not resolve here: {routed_dns.detail} "
                + _DRIVERS_FOLLOW
                + " (ODBC Driver 18: 'TCP Provider: Error code 0x2AF9').",
                (),
            ),
        },
    ),
    Step(
        id=S.ROUTED_TCP,
        title="Open a TCP connection to the redirected port",
        why=(
            "Azure SQL's Redirect policy sends clients to the node that holds the database, on "
            "a port from 11000 to 11999; a firewall that allows only 1433 lets the first "
            "connection through and drops the second. A read-only routing list can name a "
            "secondary whose port is closed the same way."
        ),
        source="Azure SQL connectivity architecture (Redirect: outbound 11000-11999)",
        hop=Hop.ROUTED_PORT,
        action=routed.connect_routed,
        timeouts=1,
        gives={outcome: (f.Routed, f.RoutedTcp) for outcome in RoutedTcpOutcome},
        outcomes={
            RoutedTcpOutcome.CONNECTED: Next(S.ROUTED_PRELOGIN),
            RoutedTcpOutcome.REFUSED: Conclude(
                R.PORT_REFUSED,
                _SENT_ON + ", and {routed.address} refuses TCP {redirect.port} (10061): nothing "
                "listens there. " + _DRIVERS_FOLLOW + ".",
                (),
            ),
            RoutedTcpOutcome.FILTERED: Conclude(
                R.PORT_FILTERED,
                _SENT_ON + ", and TCP {redirect.port} on {routed.address} does not answer within "
                "{run.timeout_s} (10060): a firewall between here and there drops it. "
                + _DRIVERS_FOLLOW
                + " (ODBC Driver 18: 'TCP Provider: Error code 0x102' at its login timeout).",
                (),
            ),
            RoutedTcpOutcome.UNREACHABLE: Conclude(
                R.HOST_UNREACHABLE,
                _SENT_ON
                + ", and {routed.address} cannot be reached: {routed_tcp.detail}. "
                + _DRIVERS_FOLLOW
                + ".",
                (),
            ),
        },
    ),
    Step(
        id=S.ROUTED_PRELOGIN,
        title="Ask the redirected port whether it is SQL Server",
        why=(
            "The routed port must answer the TDS pre-login like any SQL Server; silence or "
            "something else there fails the driver's second connection."
        ),
        source="MS-TDS PRELOGIN",
        hop=Hop.ROUTED_SERVER,
        action=routed.prelogin_routed,
        timeouts=1,  # the TLS probe runs beside it, on the same budget
        gives={
            RoutedPreloginOutcome.SQL_SERVER: (f.RoutedServer,),
            RoutedPreloginOutcome.NOT_SQL: (f.RoutedPreloginFailure,),
            RoutedPreloginOutcome.UNRESPONSIVE: (f.RoutedPreloginFailure,),
        },
        outcomes={
            RoutedPreloginOutcome.SQL_SERVER: Next(S.ROUTED_TLS),
            RoutedPreloginOutcome.NOT_SQL: Conclude(
                R.NOT_SQL_SERVER,
                _SENT_ON + ", and what answers on {routed.address} port {redirect.port} is not "
                "SQL Server: {routed_prelogin.detail}",
                (),
            ),
            RoutedPreloginOutcome.UNRESPONSIVE: Conclude(
                R.SERVER_UNRESPONSIVE,
                _SENT_ON + ", and {routed.address} port {redirect.port} accepts the connection "
                "but does not answer the pre-login: {routed_prelogin.detail}",
                ("check-server-health",),
            ),
        },
    ),
    Step(
        id=S.ROUTED_TLS,
        title="Check the redirected server's encryption as the client's driver would",
        why=(
            "The driver checks the routed server's certificate against the routed name, not "
            "the one in the connection string: a certificate made out to the gateway or the "
            "listener does not cover a node or a secondary."
        ),
        source="MS-TDS routing: the client uses the routed name for TLS and in LOGIN7",
        hop=Hop.ROUTED_TLS,
        action=routed.tls_routed,
        timeouts=1,
        gives={outcome: (f.RoutedTls,) for outcome in TlsOutcome},
        outcomes={
            TlsOutcome.OK: Next(S.ROUTED_LOGIN),
            TlsOutcome.DEPENDS: Next(S.ROUTED_LOGIN),
            TlsOutcome.TLS_FAILED: Conclude(
                R.TLS_FAILED, _SENT_ON + ", where: {routed_tls.detail}", ()
            ),
            TlsOutcome.MISMATCH: Conclude(
                R.ENCRYPTION_MISMATCH, _SENT_ON + ", where: {routed_tls.detail}", ()
            ),
        },
    ),
    Step(
        id=S.ROUTED_LOGIN,
        title="Log in where the redirect leads",
        why=(
            "The driver logs in a second time at the routed server, with the routed name in "
            "the login and the same application intent. That login is the one the "
            "application's session runs on."
        ),
        source="MS-TDS routing; listener read-only routing (ApplicationIntent=ReadOnly)",
        hop=Hop.ROUTED_LOGIN,
        action=routed.login_routed,
        # the driver's login (whole seconds and a grace) or sqlreach's own
        timeouts=4,
        seconds=4,
        gives={outcome: (f.RoutedLogin,) for outcome in RoutedLoginOutcome},
        outcomes={
            RoutedLoginOutcome.OK: Conclude(
                R.OK,
                "SQL Server answers on {endpoint.address} port {endpoint.port} ({server.version}) "
                "and {redirect.by} sends the login on to {redirect.host} port {redirect.port} "
                "({routed.address}, {routed_server.version}): {routed_login.detail}.",
            ),
            RoutedLoginOutcome.LOGIN_FAILED: Conclude(
                R.LOGIN_FAILED,
                _SENT_ON + ", where the login is rejected: {routed_login.detail}",
                (),
            ),
            RoutedLoginOutcome.DATABASE: Conclude(
                R.DATABASE_UNAVAILABLE,
                _SENT_ON + ", where the database {routed_login.database_label} cannot be "
                "opened: {routed_login.detail}",
                (),
            ),
            RoutedLoginOutcome.UNRESPONSIVE: Conclude(
                R.SERVER_UNRESPONSIVE,
                _SENT_ON + ", where the login gets no answer: {routed_login.detail}",
                (),
            ),
            RoutedLoginOutcome.FAILED: Conclude(
                R.LOGIN_FAILED,
                _SENT_ON + ", where the login could not be completed: {routed_login.detail}",
                (),
            ),
        },
    ),
)


STEPS: Final[tuple[Step, ...]] = (
    Step(
        id=S.TARGET,
        title="Read the target",
        why=(
            "Before any packet is sent, be sure what the client is really asked to reach: which "
            "host, which instance, which port, and where each came from. A connection string "
            "can name an alias or a DSN that quietly replaces the server and port you think you "
            "typed (checklist item 1: 'right server?', and item 7: aliases)."
        ),
        source="Checklist 1 (right server?) and 7 (aliases)",
        hop=Hop.CLIENT,
        action=target.read_target,
        timeouts=1,  # alias and DSN files, read with one timeout
        gives={
            TargetOutcome.OK: (f.Endpoint,),
            TargetOutcome.UNRESOLVED_ALIAS: (f.Endpoint, f.AliasProblem),
        },
        may_give=(f.Alias,),
        outcomes={
            TargetOutcome.OK: Next(S.ERROR),
            TargetOutcome.UNRESOLVED_ALIAS: Conclude(
                R.BAD_INPUT,
                "{alias_problem.text}",
                ("fix-client-alias",),
            ),
        },
    ),
    Step(
        id=S.ERROR,
        title="Read the error you saw",
        why=(
            "The error text already rules things in and out: 'actively refused' means a host "
            "answered and nothing listened; 18456 means the network path worked and the login "
            "did not. Reading it first tells where to look, and comparing it with what the live "
            "checks find tells whether the failing client sees what this machine sees."
        ),
        source="Microsoft triage: read the exact error; the errors table of the field guides",
        hop=Hop.CLIENT,
        action=error.read_error,
        may_give=(f.ErrorRead,),
        outcomes={ErrorOutcome.NONE: Next(S.ON_SERVER), ErrorOutcome.READ: Next(S.ON_SERVER)},
    ),
    Step(
        id=S.ON_SERVER,
        title="Where are you?",
        why=(
            "On the server itself, sqlreach can also read what no socket can show: whether the "
            "service runs, which port IPAll or mssql.conf sets, what the error log says the "
            "instance listens on, and the firewall rules. Microsoft's triage starts there: "
            "'can you connect locally?'"
        ),
        source="Microsoft triage question 1 (connect locally)",
        hop=Hop.CLIENT,
        question=Question(
            prompt="Are you on the SQL Server machine itself?",
            choices=(Choice("yes", "Yes, on the server"), Choice("no", "No, on a client")),
            flag="--on-server / --remote",
            default=target.default_on_server,
        ),
        outcomes={"yes": Next(S.SERVER_CONFIG), "no": Next(S.DNS)},
    ),
    Step(
        id=S.SERVER_CONFIG,
        title="Read the server's own configuration",
        why=(
            "The service state, the TCP/IP protocol switch, the IPAll port, the Browser, the "
            "firewall rules and the ERRORLOG's 'Server is listening on' lines explain most "
            "'actively refused' errors before any packet is sent (checklist items 3 to 6, "
            "Microsoft's ten steps 1, 2 and 6)."
        ),
        source="Checklist 3-6; Microsoft's ten steps 1, 2, 6",
        hop=Hop.CLIENT,
        action=target.read_server_config,
        timeouts=2,  # the local readers: 2 timeouts and 1 s (probes/local/server.py)
        seconds=1,
        may_give=(f.ServiceAccount,),
        outcomes={ServerConfigOutcome.DONE: Next(S.DNS)},
    ),
    Step(
        id=S.DNS,
        title="Resolve the host name",
        why=(
            "The client must turn the name into an address before anything else. A stale DNS "
            "record or a forgotten hosts-file line sends it to the wrong machine, and a reverse "
            "lookup that does not lead back to the name is the classic sign (checklist item 2: "
            "'ping <name>', then 'ping -a <ip>')."
        ),
        source="Checklist 2 (ping, ping -a)",
        hop=Hop.NAME,
        action=dns.resolve,
        timeouts=1,
        gives={
            DnsOutcome.RESOLVED: (f.Endpoint,),
            DnsOutcome.RESOLVED_NAMED: (f.Endpoint,),
            DnsOutcome.RESOLVED_DAC: (f.Endpoint,),
            DnsOutcome.RESOLVED_PIPE: (f.Endpoint, f.Transport),
            DnsOutcome.LOCAL_TRANSPORT: (f.Transport,),
            DnsOutcome.NOT_RESOLVED: (f.DnsFailure,),
        },
        outcomes={
            DnsOutcome.RESOLVED: Next(S.TCP),
            DnsOutcome.RESOLVED_NAMED: Next(S.BROWSER),
            DnsOutcome.RESOLVED_DAC: Next(S.DAC),
            DnsOutcome.RESOLVED_PIPE: Next(S.SMB),
            DnsOutcome.LOCAL_TRANSPORT: Next(S.LOCAL),
            DnsOutcome.NOT_RESOLVED: Conclude(
                R.NAME_NOT_RESOLVED,
                "The name {endpoint.host} does not resolve: {dns.detail}",
            ),
        },
    ),
    Step(
        id=S.LOCAL,
        title="A connection that never leaves this machine",
        why=(
            "LocalDB, shared memory (lpc:) and a pipe on this machine never touch the network: "
            "no name to resolve, no port to knock on. What can be checked is said (LocalDB "
            "through SqlLocalDB on Windows); what cannot is said too, rather than passing a "
            "TCP test the connection never makes."
        ),
        source="Microsoft: SQL Server Express LocalDB; sqlcmd protocol prefixes (lpc:, np:)",
        hop=Hop.CLIENT,
        action=transport.check_local,
        timeouts=1,  # SqlLocalDB info, with one timeout
        outcomes={
            LocalOutcome.UNTESTED: Conclude(R.UNTESTED, "{transport.detail}.", ()),
        },
    ),
    Step(
        id=S.SMB,
        title="Named pipes: is SMB (TCP 445) open?",
        why=(
            "Named pipes between machines travel over SMB on TCP port 445, not over the SQL "
            "Server port: a firewall that allows 1433 but not 445, or a server whose Server "
            "service is stopped, breaks pipes only. This machine can knock on 445; opening the "
            "pipe itself needs the SQL Server client libraries of Windows."
        ),
        source="Microsoft: creating a valid connection string using named pipes (port 445)",
        hop=Hop.PORT,
        action=transport.check_smb,
        timeouts=1,  # SMB 445 and the SQL port side by side
        gives={outcome: (f.Endpoint, f.Smb) for outcome in SmbOutcome},
        outcomes={
            SmbOutcome.OPEN: Conclude(
                R.UNTESTED,
                "{transport.detail}. SMB answers on {endpoint.address} port 445 ({smb.detail}), "
                "so the way to the pipe is open; whether the instance listens on that pipe was "
                "not tried from here ({smb.tcp}).",
                (),
            ),
            SmbOutcome.REFUSED: Conclude(
                R.PORT_REFUSED,
                "The connection asks for named pipes, which travel over SMB (TCP 445), and "
                "{endpoint.address} refuses port 445 (10061): the Server service (LanmanServer) "
                "does not run there, or nothing listens. {smb.tcp}.",
                (),
            ),
            SmbOutcome.FILTERED: Conclude(
                R.PORT_FILTERED,
                "The connection asks for named pipes, which travel over SMB (TCP 445), and port "
                "445 on {endpoint.address} does not answer within {run.timeout_s}: a firewall "
                "drops SMB. {smb.tcp}.",
                (),
            ),
            SmbOutcome.UNREACHABLE: Conclude(
                R.HOST_UNREACHABLE,
                "{endpoint.address} cannot be reached for named pipes (SMB, TCP 445): "
                "{smb.detail}.",
                (),
            ),
        },
    ),
    Step(
        id=S.DAC,
        title="Ask the SQL Server Browser for the dedicated admin connection's port",
        why=(
            "The dedicated admin connection (admin:host) has a port of its own: 1434 for a "
            "default instance, a port chosen at start-up for a named one. Clients ask the SQL "
            "Server Browser for it (CLNT_UCAST_DAC). The engine's port 1433 is never a DAC."
        ),
        source="MC-SQLR CLNT_UCAST_DAC; Microsoft: diagnostic connection for administrators",
        hop=Hop.BROWSER,
        action=dac.find_dac,
        timeouts=2,  # the Browser's DAC answer, then the DAC port
        gives={
            DacOutcome.PORT: (f.Endpoint, f.DacPort),
            DacOutcome.DEFAULT_PORT: (f.Endpoint, f.DacPort),
            DacOutcome.NO_PORT: (f.Endpoint, f.BrowserAnswer),
        },
        outcomes={
            DacOutcome.PORT: Next(S.TCP),
            DacOutcome.DEFAULT_PORT: Next(S.TCP),
            DacOutcome.NO_PORT: Conclude(
                R.BROWSER_UNAVAILABLE,
                "The SQL Server Browser on {endpoint.address} gives no dedicated admin "
                "connection port for instance {endpoint.instance}: the Browser does not answer, "
                "or the instance has no DAC (SQL Server Express listens for one only with trace "
                "flag 7806; on a cluster the DAC is off by default). A named instance's DAC "
                "port comes only from the Browser.",
                ("start-browser", "open-firewall-udp-1434", "dac-on-the-server"),
            ),
        },
    ),
    Step(
        id=S.BROWSER,
        title="Ask the SQL Server Browser for the instance's port",
        why=(
            "A named instance usually listens on a port chosen at start-up. Clients ask the "
            "SQL Server Browser on UDP 1434 which port that is; with the Browser stopped or "
            "UDP 1434 blocked, the lookup fails with error 26 before any TCP connection is "
            "tried (checklist item 5; Microsoft's ten steps 2 and 5)."
        ),
        source="Checklist 5 (Browser running?)",
        hop=Hop.BROWSER,
        action=browser.ask_browser,
        timeouts=1,
        gives={outcome: (f.Endpoint, f.BrowserAnswer) for outcome in BrowserOutcome},
        outcomes={
            BrowserOutcome.PORT: Next(S.TCP),
            BrowserOutcome.NO_TCP: Conclude(
                R.TCP_DISABLED,
                "The SQL Server Browser on {endpoint.address} knows instance {endpoint.instance} "
                "but reports no TCP endpoint for it: TCP/IP is disabled for that instance.",
            ),
            BrowserOutcome.UNKNOWN_INSTANCE: Conclude(
                R.INSTANCE_NOT_FOUND,
                "The SQL Server Browser on {endpoint.address} answers, but knows no instance named "
                "{endpoint.instance}. It reports: {browser.instances_listed}.",
            ),
            BrowserOutcome.SILENT: Conclude(
                R.BROWSER_UNAVAILABLE,
                "No answer from the SQL Server Browser on {endpoint.address} (UDP 1434) within "
                "{run.timeout_s}: it is stopped, or a firewall drops UDP 1434. Without it the "
                "client cannot find the port of instance {endpoint.instance} (error 26).",
            ),
            BrowserOutcome.UNREADABLE: Conclude(
                R.BROWSER_UNAVAILABLE,
                "Something answered on UDP 1434 of {endpoint.address}, but not in the SQL Server "
                "Browser's protocol (SSRP): the Browser answered, unreadable, so the port of "
                "instance {endpoint.instance} cannot be looked up (error 26).",
            ),
            BrowserOutcome.REFUSED: Conclude(
                R.BROWSER_UNAVAILABLE,
                "{endpoint.address} answered 'port unreachable' on UDP 1434: the host is up but no "
                "SQL Server Browser runs there, so the port of instance {endpoint.instance} "
                "cannot be looked up (error 26).",
            ),
        },
    ),
    Step(
        id=S.TCP,
        title="Open a TCP connection to the port",
        why=(
            "This is where 'actively refused' (10061) comes from. Refused means the host "
            "answered and nothing listens on that port; a timeout (10060) means something "
            "dropped the packets, usually a firewall; 'no route' means the host cannot be "
            "reached at all. Drivers report these alike; the socket tells them apart "
            "(checklist item 4: 'telnet <host> <port>'; Microsoft's triage question 2)."
        ),
        source="Checklist 4 (telnet host port); Microsoft triage question 2",
        hop=Hop.PORT,
        action=tcp.connect_tcp,
        timeouts=1,
        gives={
            **{outcome: (f.Endpoint, f.TcpResult) for outcome in TcpOutcome},
            TcpOutcome.FIRST_ADDRESS_DROPPED: (f.Endpoint, f.TcpResult, f.Listener),
        },
        outcomes={
            TcpOutcome.CONNECTED: Next(S.PRELOGIN),
            TcpOutcome.FIRST_ADDRESS_DROPPED: Conclude(
                R.PORT_FILTERED,
                "{endpoint.host} has several addresses ({listener.addresses}); TCP "
                "{endpoint.port} on the first, {listener.first}, does not answer within "
                "{run.timeout_s} (10060), while {listener.live} accepts. Without "
                "MultiSubnetFailover the client tries the addresses in order and waits out its "
                "whole login timeout on the first: this is the failure the application sees "
                "(ODBC Driver 18: 'TCP Provider: Error code 0x102'), though the listener's live "
                "address works.",
                ("multi-subnet-failover", "register-all-providers-ip", "open-firewall-tcp"),
            ),
            TcpOutcome.REFUSED: Next(S.SEARCH),
            TcpOutcome.FILTERED: Conclude(
                R.PORT_FILTERED,
                "TCP {endpoint.port} on {endpoint.address} {tcp.silence} (10060): a firewall, "
                "an IPSec policy or a NAT router between here and {endpoint.host} drops the "
                "packets.",
            ),
            TcpOutcome.UNREACHABLE: Conclude(
                R.HOST_UNREACHABLE,
                "{endpoint.address} cannot be reached: {tcp.detail}.",
            ),
        },
    ),
    Step(
        id=S.SEARCH,
        title="Look for SQL Server elsewhere on the host",
        why=(
            "Refused means nothing listens on that port, not that SQL Server is gone. Before "
            "blaming the service, ask the Browser which ports its instances use and knock on "
            "the default port 1433: an instance moved to another port, a stale dynamic port or "
            "an alias pointing to an old port all look like 'refused' (the reader comments on "
            "the checklist; Microsoft's ten steps 5)."
        ),
        source="Checklist comments (default instance moved off 1433; aliases)",
        hop=Hop.PORT,
        action=search.search_elsewhere,
        timeouts=2,  # the Browser's list, then every port it names
        gives={
            SearchOutcome.FOUND_ELSEWHERE: (f.FoundElsewhere,),
            SearchOutcome.ALIAS_WRONG_PORT: (f.FoundElsewhere, f.PortAlias),
            SearchOutcome.NOT_FOUND: (f.SearchResult,),
        },
        outcomes={
            SearchOutcome.FOUND_ELSEWHERE: Conclude(
                R.WRONG_PORT,
                "Nothing listens on {endpoint.address} port {endpoint.port}, but SQL Server "
                "answers on port {found.port} of the same host ({found.how}).",
            ),
            SearchOutcome.ALIAS_WRONG_PORT: Conclude(
                R.WRONG_PORT,
                "The alias {port_alias.name} sends the client to port {endpoint.port}, where "
                "nothing listens, while SQL Server answers on port {found.port} ({found.how}). The "
                "alias is the cause: {port_alias.where}.",
                ("fix-client-alias", "connect-with-port"),
            ),
            SearchOutcome.STALE_PORT: Conclude(
                R.PORT_REFUSED,
                "The SQL Server Browser says instance {endpoint.instance} is on port "
                "{endpoint.port}, but {endpoint.address} refuses that port (10061): the Browser's "
                "answer is stale or the instance is not listening there (a dynamic port after a "
                "restart, or the service stopped).",
                ("start-engine-service", "set-ipall-port", "find-listening-port"),
            ),
            SearchOutcome.DAC_REFUSED: Conclude(
                R.PORT_REFUSED,
                "{endpoint.address} refuses TCP {endpoint.port}, the dedicated admin "
                "connection's port (10061). By default the DAC listens only on the server's own "
                "loopback address (127.0.0.1): from another machine it is refused until "
                "'remote admin connections' is on (ODBC Driver 18, for a default instance: "
                "'Could not establish dedicated administrator connection (DAC) on default "
                "port').",
                ("enable-remote-admin-connections", "dac-on-the-server", "open-firewall-tcp"),
            ),
            SearchOutcome.ANALYSIS_SERVICES: Conclude(
                R.PORT_REFUSED,
                "Nothing listens on {endpoint.address} port {endpoint.port}, a port of SQL Server "
                "Analysis Services (2383 the service, 2382 its Browser for named instances), not "
                "of the database engine: SQL Server drivers do not speak to it, and the engine's "
                "port does not replace it. The Analysis Services service is stopped, or listens "
                "elsewhere.",
                ("start-analysis-services",),
            ),
            SearchOutcome.NOT_FOUND: Conclude(
                R.PORT_REFUSED,
                "{endpoint.address} refuses TCP port {endpoint.port} (10061 WSAECONNREFUSED): the "
                "host is up, but nothing listens there, and no SQL Server was found on another "
                "port. {search.detail}",
            ),
        },
    ),
    Step(
        id=S.PRELOGIN,
        title="Ask the port whether it is SQL Server (TDS pre-login)",
        why=(
            "An open port is not yet a SQL Server. Every client starts with a TDS PRELOGIN "
            "message; SQL Server answers with its version and its encryption setting. Anything "
            "else (a web server, SSH, silence) means the port belongs to something else or the "
            "server is too busy to answer."
        ),
        source="Microsoft triage question 2 ('yes' branch: driver, TLS, alias, application)",
        hop=Hop.SERVER,
        action=prelogin.prelogin,
        timeouts=1,  # the TLS probe runs beside it, on the same budget
        gives={
            PreloginOutcome.SQL_SERVER: (f.ServerAnswer,),
            PreloginOutcome.SQL_SERVER_STRICT: (f.ServerAnswer,),
            PreloginOutcome.NOT_SQL: (f.PreloginFailure,),
            PreloginOutcome.UNRESPONSIVE: (f.PreloginFailure,),
        },
        outcomes={
            PreloginOutcome.SQL_SERVER: Next(S.CLIENT),
            PreloginOutcome.SQL_SERVER_STRICT: Next(S.CLIENT),
            PreloginOutcome.NOT_SQL: Conclude(
                R.NOT_SQL_SERVER,
                "Something answers on {endpoint.address} port {endpoint.port}, but it is not SQL "
                "Server: {prelogin.detail}",
            ),
            PreloginOutcome.UNRESPONSIVE: Conclude(
                R.SERVER_UNRESPONSIVE,
                "TCP port {endpoint.port} on {endpoint.address} accepts connections, but nothing "
                "answers the TDS pre-login: {prelogin.detail}",
            ),
        },
    ),
    Step(
        id=S.CLIENT,
        title="Which client will connect?",
        why=(
            "The same server works from one client and fails from another: ODBC Driver 18, "
            "OLE DB Driver 19 and SqlClient 4+ encrypt by default and check the server's "
            "certificate, ODBC Driver 17 and older SqlClient do not, FreeTDS never checks it. "
            "'It works from SSMS but not from my app' is usually this."
        ),
        source="wire-protocols.md: who validates the certificate, and when",
        hop=Hop.CLIENT,
        question=Question(
            prompt="Which client will connect to this server?",
            choices=(
                Choice(AUTO, "Work it out from the connection string"),
                Choice(SSMS, SSMS_LABEL),
                *(Choice(family.id, family.name) for family in FAMILIES),
            ),
            flag="--client NAME",
            default=tls.default_client,
        ),
        outcomes={
            AUTO: Next(S.TLS),
            SSMS: Next(S.TLS),
            **{family.id: Next(S.TLS) for family in FAMILIES},
        },
    ),
    Step(
        id=S.TLS,
        title="Check encryption and the certificate as the client's driver would",
        why=(
            "Every SQL Server encrypts at least the login packet, and makes itself a "
            "self-signed certificate when none is configured. Whether a client then checks the "
            "certificate (its issuer, its dates, its name) depends on the driver and its "
            "version; so does which TLS versions it speaks. No credentials are needed to see "
            "what each driver would do."
        ),
        source="MS-TDS PRELOGIN encryption; sql-docs: encryption and certificate validation",
        hop=Hop.TLS,
        action=tls.check_tls,
        timeouts=1,
        gives={outcome: (f.TlsFindings,) for outcome in TlsOutcome},
        outcomes={
            TlsOutcome.OK: Next(S.LOGIN_WANTED),
            TlsOutcome.DEPENDS: Next(S.LOGIN_WANTED),
            TlsOutcome.TLS_FAILED: Conclude(R.TLS_FAILED, "{tls.detail}", ()),
            TlsOutcome.MISMATCH: Conclude(R.ENCRYPTION_MISMATCH, "{tls.detail}", ()),
        },
    ),
    Step(
        id=S.LOGIN_WANTED,
        title="Test a login?",
        why=(
            "The network path works. A login proves the rest: the account, its password, the "
            "authentication mode and the database. Error 18456 always reaches the client as "
            "state 1; sqlreach reads everything else the server sends."
        ),
        source="Checklist 9 (server-side rejections)",
        hop=Hop.LOGIN,
        gives={"login": (f.LoginSkipped,), "skip": (f.LoginSkipped,)},
        question=Question(
            prompt="Test a login with credentials?",
            choices=(Choice("login", "Yes, log in"), Choice("skip", "No, stop here")),
            flag="--user / --password-env",
            default=login_wanted.default_login_wanted,
            facts=login_wanted.skipped_facts,
            credentials=True,
        ),
        outcomes={
            "login": Next(S.LOGIN),
            "skip": Conclude(
                R.OK,
                "SQL Server answers on {endpoint.address} port {endpoint.port} "
                "({server.version}). No login was tried: {skipped.reason}",
            ),
        },
    ),
    Step(
        id=S.LOGIN,
        title="Log in",
        why=(
            "Only a real login shows whether the account exists, the password matches, the "
            "server accepts this kind of authentication and the database can be opened. "
            "Drivers often hide the real reason (a missing database shows as 18456): the "
            "login step reads every error the server sends."
        ),
        source="Checklist 9; error 18456 states",
        hop=Hop.LOGIN,
        action=login.login,
        # a ticket check, the driver's login and query (whole seconds, and a grace), then
        # sqlreach's own login
        timeouts=4,
        seconds=4,
        gives={
            **{outcome: (f.LoginFacts,) for outcome in LoginOutcome},
            LoginOutcome.ROUTED: (f.LoginFacts, f.Redirect),
        },
        may_give=(f.Renamed, f.AzureRefusal),
        outcomes={
            LoginOutcome.ROUTED: Next(S.ROUTED_DNS),
            LoginOutcome.OK: Conclude(
                R.OK,
                "SQL Server answers on {endpoint.address} port {endpoint.port} ({server.version}) "
                "and the login as {login.label} works ({login.client}).",
            ),
            LoginOutcome.LOGIN_FAILED: Conclude(
                R.LOGIN_FAILED,
                "The network path works, but the server rejected the login ({login.client}): "
                "{login.detail}",
                (),
            ),
            LoginOutcome.KERBEROS: Conclude(
                R.LOGIN_FAILED,
                "The network path works, but Windows authentication failed ({login.client}): "
                "{login.detail}",
                (),
            ),
            LoginOutcome.NO_WINDOWS_AUTH: Conclude(
                R.LOGIN_FAILED,
                "SQL Server answers on {endpoint.address} port {endpoint.port} ({server.version}). "
                "{login.detail}",
                (),
            ),
            LoginOutcome.DATABASE: Conclude(
                R.DATABASE_UNAVAILABLE,
                "The login itself works, but the database {login.database_label} cannot be opened "
                "({login.client}): {login.detail}",
                (),
            ),
            LoginOutcome.UNRESPONSIVE: Conclude(
                R.SERVER_UNRESPONSIVE,
                "SQL Server answered the pre-login on {endpoint.address} port {endpoint.port} but "
                "not the login within {run.timeout_s} ({login.client}): {login.detail}",
                ("check-server-health",),
            ),
            LoginOutcome.BROKEN: Conclude(
                R.SERVER_UNRESPONSIVE,
                "SQL Server answered the pre-login on {endpoint.address} port {endpoint.port}, but "
                "the connection broke during the login ({login.client}): {login.detail}",
                ("check-server-health",),
            ),
            LoginOutcome.PROTOCOL_ERROR: Conclude(
                R.NOT_SQL_SERVER,
                "{endpoint.address} port {endpoint.port} answered the pre-login like SQL Server, "
                "but not the login ({login.client}): {login.detail}",
            ),
            LoginOutcome.DRIVER_MISSING: Conclude(
                R.DRIVER_MISSING,
                "The network path to {endpoint.address} port {endpoint.port} works "
                "({server.version}), but the login cannot be made with the driver asked for: "
                "{login.detail}",
                (),
            ),
            LoginOutcome.TLS_FAILED: Conclude(
                R.TLS_FAILED,
                "The network path works, but the login failed in TLS ({login.client}): "
                "{login.detail}",
                ("provision-certificate", "trust-server-certificate"),
            ),
            LoginOutcome.ENCRYPTION_MISMATCH: Conclude(
                R.ENCRYPTION_MISMATCH,
                "The network path works, but the login failed on encryption ({login.client}): "
                "{login.detail}",
                (),
            ),
        },
    ),
    *ROUTED_STEPS,
)

TREE: Final = Tree(steps={step.id: step for step in STEPS}, first=S.TARGET, conclude=conclude)
