"""The decision tree, as data.

Each step names the checklist item or triage question it comes from, says why it matters in
words a junior admin can follow, and maps each outcome of its action to the next step or to a
verdict. The actions (the code that runs probes and picks an outcome) live in `actions.py`;
the wiring of outcomes to steps and verdicts lives only here.
"""

from __future__ import annotations

from typing import Final

from tui.diagnosis import actions, actions_login, actions_tls, error_join
from tui.diagnosis.clients import AUTO, FAMILIES
from tui.diagnosis.engine import Tree
from tui.diagnosis.model import Choice, Conclude, Hop, Next, Question, Step
from tui.diagnosis.vocabulary import RootCause as R

_NAME_FIXES = ("fix-name-resolution", "fix-hosts-override", "fix-client-alias")
_REFUSED_FIXES = (
    "start-engine-service",
    "enable-tcp",
    "find-listening-port",
    "listen-on-all-ips",
    "fix-client-alias",
)
_BROWSER_FIXES = ("start-browser", "open-firewall-udp-1434", "connect-with-port")

STEPS: Final[tuple[Step, ...]] = (
    Step(
        id="target",
        title="Read the target",
        why=(
            "Before any packet is sent, be sure what the client is really asked to reach: which "
            "host, which instance, which port, and where each came from. A connection string "
            "can name an alias or a DSN that quietly replaces the server and port you think you "
            "typed (checklist item 1: 'right server?', and item 7: aliases)."
        ),
        source="Checklist 1 (right server?) and 7 (aliases)",
        hop=Hop.CLIENT,
        action=actions.read_target,
        outcomes={
            "ok": Next("error"),
            "unresolved-alias": Conclude(
                R.BAD_INPUT,
                "{alias_problem}",
                ("fix-client-alias",),
            ),
        },
    ),
    Step(
        id="error",
        title="Read the error you saw",
        why=(
            "The error text already rules things in and out: 'actively refused' means a host "
            "answered and nothing listened; 18456 means the network path worked and the login "
            "did not. Reading it first tells where to look, and comparing it with what the live "
            "checks find tells whether the failing client sees what this machine sees."
        ),
        source="Microsoft triage: read the exact error; the errors table of the field guides",
        hop=Hop.CLIENT,
        action=error_join.read_error,
        outcomes={"none": Next("on-server"), "read": Next("on-server")},
    ),
    Step(
        id="on-server",
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
            default=actions.default_on_server,
        ),
        outcomes={"yes": Next("server-config"), "no": Next("dns")},
    ),
    Step(
        id="server-config",
        title="Read the server's own configuration",
        why=(
            "The service state, the TCP/IP protocol switch, the IPAll port, the Browser, the "
            "firewall rules and the ERRORLOG's 'Server is listening on' lines explain most "
            "'actively refused' errors before any packet is sent (checklist items 3 to 6, "
            "Microsoft's ten steps 1, 2 and 6)."
        ),
        source="Checklist 3-6; Microsoft's ten steps 1, 2, 6",
        hop=Hop.CLIENT,
        action=actions.read_server_config,
        outcomes={"done": Next("dns")},
    ),
    Step(
        id="dns",
        title="Resolve the host name",
        why=(
            "The client must turn the name into an address before anything else. A stale DNS "
            "record or a forgotten hosts-file line sends it to the wrong machine, and a reverse "
            "lookup that does not lead back to the name is the classic sign (checklist item 2: "
            "'ping <name>', then 'ping -a <ip>')."
        ),
        source="Checklist 2 (ping, ping -a)",
        hop=Hop.NAME,
        action=actions.resolve,
        outcomes={
            "resolved": Next("tcp"),
            "resolved-named": Next("browser"),
            "not-resolved": Conclude(
                R.NAME_NOT_RESOLVED,
                "The name {host} does not resolve: {dns_detail}",
                _NAME_FIXES,
            ),
        },
    ),
    Step(
        id="browser",
        title="Ask the SQL Server Browser for the instance's port",
        why=(
            "A named instance usually listens on a port chosen at start-up. Clients ask the "
            "SQL Server Browser on UDP 1434 which port that is; with the Browser stopped or "
            "UDP 1434 blocked, the lookup fails with error 26 before any TCP connection is "
            "tried (checklist item 5; Microsoft's ten steps 2 and 5)."
        ),
        source="Checklist 5 (Browser running?)",
        hop=Hop.BROWSER,
        action=actions.ask_browser,
        outcomes={
            "port": Next("tcp"),
            "no-tcp": Conclude(
                R.TCP_DISABLED,
                "The SQL Server Browser on {address} knows instance {instance} but reports no "
                "TCP endpoint for it: TCP/IP is disabled for that instance.",
                ("enable-tcp", "set-ipall-port"),
            ),
            "unknown-instance": Conclude(
                R.INSTANCE_NOT_FOUND,
                "The SQL Server Browser on {address} answers, but knows no instance named "
                "{instance}. It reports: {instances_listed}.",
                ("check-instance-name", "unhide-instance", "connect-with-port"),
            ),
            "silent": Conclude(
                R.BROWSER_UNAVAILABLE,
                "No answer from the SQL Server Browser on {address} (UDP 1434) within "
                "{timeout_s}: it is stopped, or a firewall drops UDP 1434. Without it the "
                "client cannot find the port of instance {instance} (error 26).",
                _BROWSER_FIXES,
            ),
            "refused": Conclude(
                R.BROWSER_UNAVAILABLE,
                "{address} answered 'port unreachable' on UDP 1434: the host is up but no SQL "
                "Server Browser runs there, so the port of instance {instance} cannot be looked "
                "up (error 26).",
                _BROWSER_FIXES,
            ),
        },
    ),
    Step(
        id="tcp",
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
        action=actions.connect_tcp,
        outcomes={
            "connected": Next("prelogin"),
            "refused": Next("search"),
            "filtered": Conclude(
                R.PORT_FILTERED,
                "TCP {port} on {address} did not answer within {timeout_s} (10060): a "
                "firewall, an IPSec policy or a NAT router between here and {host} drops the "
                "packets.",
                ("open-firewall-tcp", "check-network-path", "connect-with-port"),
            ),
            "unreachable": Conclude(
                R.HOST_UNREACHABLE,
                "{address} cannot be reached: {tcp_detail}.",
                ("check-route", "fix-name-resolution"),
            ),
        },
    ),
    Step(
        id="search",
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
        action=actions.search_elsewhere,
        outcomes={
            "found-elsewhere": Conclude(
                R.WRONG_PORT,
                "Nothing listens on {address} port {port}, but SQL Server answers on port "
                "{found_port} of the same host ({found_how}).",
                ("connect-with-port", "set-ipall-port", "fix-client-alias"),
            ),
            "alias-wrong-port": Conclude(
                R.WRONG_PORT,
                "The alias {alias_name} sends the client to port {port}, where nothing "
                "listens, while SQL Server answers on port {found_port} ({found_how}). The "
                "alias is the cause: {alias_where}.",
                ("fix-client-alias", "connect-with-port"),
            ),
            "stale-port": Conclude(
                R.PORT_REFUSED,
                "The SQL Server Browser says instance {instance} is on port {port}, but "
                "{address} refuses that port (10061): the Browser's answer is stale or the "
                "instance is not listening there (a dynamic port after a restart, or the "
                "service stopped).",
                ("start-engine-service", "set-ipall-port", "find-listening-port"),
            ),
            "not-found": Conclude(
                R.PORT_REFUSED,
                "{address} refuses TCP port {port} (10061 WSAECONNREFUSED): the host is up, "
                "but nothing listens there, and no SQL Server was found on another port. "
                "{search_detail}",
                _REFUSED_FIXES,
            ),
        },
    ),
    Step(
        id="prelogin",
        title="Ask the port whether it is SQL Server (TDS pre-login)",
        why=(
            "An open port is not yet a SQL Server. Every client starts with a TDS PRELOGIN "
            "message; SQL Server answers with its version and its encryption setting. Anything "
            "else (a web server, SSH, silence) means the port belongs to something else or the "
            "server is too busy to answer."
        ),
        source="Microsoft triage question 2 ('yes' branch: driver, TLS, alias, application)",
        hop=Hop.SERVER,
        action=actions_tls.prelogin,
        outcomes={
            "sql-server": Next("client"),
            "sql-server-strict": Next("client"),
            "not-sql": Conclude(
                R.NOT_SQL_SERVER,
                "Something answers on {address} port {port}, but it is not SQL Server: "
                "{prelogin_detail}",
                ("free-the-port", "find-listening-port", "connect-with-port"),
            ),
            "unresponsive": Conclude(
                R.SERVER_UNRESPONSIVE,
                "TCP port {port} on {address} accepts connections, but nothing answers the "
                "TDS pre-login: {prelogin_detail}",
                ("check-server-health", "check-proxy-backend", "start-engine-service"),
            ),
        },
    ),
    Step(
        id="client",
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
                *(Choice(family.id, family.name) for family in FAMILIES),
            ),
            flag="--client NAME",
            default=actions_tls.default_client,
        ),
        outcomes={AUTO: Next("tls"), **{family.id: Next("tls") for family in FAMILIES}},
    ),
    Step(
        id="tls",
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
        action=actions_tls.check_tls,
        outcomes={
            "ok": Next("login-wanted"),
            "depends": Next("login-wanted"),
            "tls-failed": Conclude(R.TLS_FAILED, "{tls_detail}", ()),
            "mismatch": Conclude(R.ENCRYPTION_MISMATCH, "{encryption_detail}", ()),
        },
    ),
    Step(
        id="login-wanted",
        title="Test a login?",
        why=(
            "The network path works. A login proves the rest: the account, its password, the "
            "authentication mode and the database. Error 18456 always reaches the client as "
            "state 1; sqlreach reads everything else the server sends."
        ),
        source="Checklist 9 (server-side rejections)",
        hop=Hop.LOGIN,
        question=Question(
            prompt="Test a login with credentials?",
            choices=(Choice("login", "Yes, log in"), Choice("skip", "No, stop here")),
            flag="--user / --password-env",
            default=actions.default_login_wanted,
        ),
        outcomes={
            "login": Next("login"),
            "skip": Conclude(
                R.OK,
                "SQL Server answers on {address} port {port} ({server_version}). No login was "
                "tried: {login_skipped}",
            ),
        },
    ),
    Step(
        id="login",
        title="Log in",
        why=(
            "Only a real login shows whether the account exists, the password matches, the "
            "server accepts this kind of authentication and the database can be opened. "
            "Drivers often hide the real reason (a missing database shows as 18456): the "
            "login step reads every error the server sends."
        ),
        source="Checklist 9; error 18456 states",
        hop=Hop.LOGIN,
        action=actions_login.login,
        outcomes={
            "ok": Conclude(
                R.OK,
                "SQL Server answers on {address} port {port} ({server_version}) and the login "
                "as {login_label} works ({login_client}).",
            ),
            "login-failed": Conclude(
                R.LOGIN_FAILED,
                "The network path works, but the server rejected the login ({login_client}): "
                "{login_detail}",
                (),
            ),
            "kerberos": Conclude(
                R.LOGIN_FAILED,
                "The network path works, but Windows authentication failed ({login_client}): "
                "{login_detail}",
                (),
            ),
            "no-windows-auth": Conclude(
                R.LOGIN_FAILED,
                "SQL Server answers on {address} port {port} ({server_version}). {login_detail}",
                (),
            ),
            "database": Conclude(
                R.DATABASE_UNAVAILABLE,
                "The login itself works, but the database {database_label} cannot be opened "
                "({login_client}): {login_detail}",
                (),
            ),
            "unresponsive": Conclude(
                R.SERVER_UNRESPONSIVE,
                "SQL Server answered the pre-login on {address} port {port} but not the login "
                "within {timeout_s} ({login_client}): {login_detail}",
                ("check-server-health",),
            ),
            "driver-missing": Conclude(
                R.DRIVER_MISSING,
                "The network path to {address} port {port} works ({server_version}), but the "
                "login cannot be made with the driver asked for: {login_detail}",
                (),
            ),
            "tls-failed": Conclude(
                R.TLS_FAILED,
                "The network path works, but the login failed in TLS ({login_client}): "
                "{login_detail}",
                ("provision-certificate", "trust-server-certificate"),
            ),
            "encryption-mismatch": Conclude(
                R.ENCRYPTION_MISMATCH,
                "The network path works, but the login failed on encryption ({login_client}): "
                "{login_detail}",
                (),
            ),
        },
    ),
)

TREE: Final = Tree(steps={step.id: step for step in STEPS}, first="target")
