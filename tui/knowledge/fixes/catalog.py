"""The fix catalog: what the field's guides tell you to do, as exact commands.

Each fix is data: an id, a title, why it helps, and command templates per platform, filled with
the target's values (host, instance, port, service name) when a verdict is rendered. A command
whose values are unknown for this target is left out rather than shown with a hole in it.
Sources: ../shared/reference/troubleshooting-knowledge.md (Microsoft's triage, the checklists).
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Final

from tui.knowledge.fixes.azure import AZURE_FIXES
from tui.knowledge.fixes.login import LOGIN_FIXES
from tui.knowledge.fixes.model import Command, Fix
from tui.knowledge.fixes.paths import PATH_FIXES
from tui.knowledge.fixes.template import (
    CONNECTION,
    GUI,
    JDBC,
    LANGUAGE_BARE,
    LANGUAGE_NAMES,
    LANGUAGE_QUOTING,
    LINUX,
    MACOS,
    ODBC,
    PLATFORMS,
    POWERSHELL,
    TEXT,
    TSQL,
    WINDOWS_CMD,
    CommandTemplate,
    FixTemplate,
)
from tui.knowledge.fixes.template import (
    command as _command,
)
from tui.knowledge.fixes.tls import TLS_FIXES
from tui.knowledge.fixes.values import FixValues
from tui.safe.quote import QUOTERS, VALIDATED, UnsafeValue
from tui.safe.sanitise import NAME, visible

__all__ = ["CATALOG", "PLATFORMS", "CommandTemplate", "FixTemplate", "render_fixes"]


def _c(platform: str, label: str, text: str, language: str | None = None) -> CommandTemplate:
    return _command(platform, label, text, language)


_REG_ID = (
    "$id = (Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\Instance Names"
    "\\SQL').{instance:ps}\n"
    '$net = "HKLM:\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\$id\\MSSQLServer'
    '\\SuperSocketNetLib"\n'
)

CATALOG: Final[tuple[FixTemplate, ...]] = (
    FixTemplate(
        "start-engine-service",
        "Start the SQL Server service",
        "Nothing accepts connections while the database engine is stopped. The service of a "
        "default instance is MSSQLSERVER; a named instance's is MSSQL$<instance>.",
        (
            _c(WINDOWS_CMD, "on the server", "net start {service}"),
            _c(
                POWERSHELL,
                "on the server",
                "Start-Service -Name {service:ps}\n"
                "Get-Service -Name {service:ps} | Format-List Status, StartType",
            ),
            _c(
                LINUX,
                "on a Linux server",
                "sudo systemctl start mssql-server\nsudo systemctl status mssql-server",
            ),
            _c(
                GUI,
                "on the server",
                "SQL Server Configuration Manager > SQL Server Services > "
                "SQL Server ({instance}) > Start. If it stops again, read the ERRORLOG and the "
                "System event log for the reason.",
            ),
        ),
    ),
    FixTemplate(
        "start-browser",
        "Start the SQL Server Browser",
        "Clients find a named instance's port by asking the SQL Server Browser on UDP 1434. "
        "With the Browser stopped, only connections that give the port explicitly work.",
        (
            _c(
                WINDOWS_CMD,
                "on the server",
                "sc config SQLBrowser start= auto\nnet start SQLBrowser",
            ),
            _c(
                POWERSHELL,
                "on the server",
                "Set-Service -Name SQLBrowser -StartupType Automatic\n"
                "Start-Service -Name SQLBrowser",
            ),
            _c(
                GUI,
                "on the server",
                "SQL Server Configuration Manager > SQL Server Services > "
                "SQL Server Browser > Properties > Service > Start Mode: Automatic; then Start.",
            ),
        ),
    ),
    FixTemplate(
        "open-firewall-udp-1434",
        "Open UDP 1434 for the SQL Server Browser",
        "The Browser answers on UDP 1434; a firewall that drops it makes every named-instance "
        "lookup time out (error 26).",
        (
            _c(
                WINDOWS_CMD,
                "on the server",
                "netsh advfirewall firewall add rule "
                'name="SQL Server Browser" dir=in action=allow protocol=UDP localport=1434',
            ),
            _c(
                POWERSHELL,
                "on the server",
                'New-NetFirewallRule -DisplayName "SQL Server '
                'Browser" -Direction Inbound -Protocol UDP -LocalPort 1434 -Action Allow',
            ),
            _c(
                LINUX,
                "firewalld",
                "sudo firewall-cmd --permanent --add-port=1434/udp && sudo firewall-cmd --reload",
            ),
            _c(LINUX, "ufw", "sudo ufw allow 1434/udp"),
        ),
    ),
    FixTemplate(
        "open-firewall-tcp",
        "Open the SQL Server TCP port in the firewall",
        "A firewall that drops the port makes the connection time out (10060) instead of "
        "being refused. Open it on the server, and check any firewall, IPSec policy or NAT "
        "rule between client and server.",
        (
            _c(
                WINDOWS_CMD,
                "on the server",
                "netsh advfirewall firewall add rule "
                'name="SQL Server {instance} TCP {port}" dir=in action=allow protocol=TCP '
                "localport={port}",
            ),
            _c(
                POWERSHELL,
                "on the server",
                'New-NetFirewallRule -DisplayName "SQL Server '
                '{instance:ps_dq} TCP {port}" -Direction Inbound -Protocol TCP -LocalPort {port} '
                "-Action Allow\nGet-NetFirewallRule -Direction Inbound -Enabled True | "
                "Get-NetFirewallPortFilter | Where-Object LocalPort -eq {port}",
            ),
            _c(
                LINUX,
                "firewalld",
                "sudo firewall-cmd --permanent --add-port={port}/tcp && sudo firewall-cmd --reload",
            ),
            _c(LINUX, "ufw", "sudo ufw allow {port}/tcp"),
            _c(
                LINUX,
                "nftables / iptables: look for a DROP rule",
                "sudo nft list ruleset | grep -n {port}\n"
                "sudo iptables -S | grep -- '--dport {port}'",
            ),
            _c(
                POWERSHELL,
                "from the client: confirm",
                "Test-NetConnection -ComputerName {host:ps} -Port {port}",
            ),
        ),
    ),
    FixTemplate(
        "check-network-path",
        "Check IPSec, NAT and routers between client and server",
        "When the server's own firewall is open and the port still times out, something in "
        "between drops the packets: a network firewall, an IPSec policy, or a NAT router "
        "without a port forward.",
        (
            _c(
                WINDOWS_CMD,
                "from the client",
                "tracert -d {address:cmd}\nnetsh ipsec dynamic show all",
            ),
            _c(
                POWERSHELL,
                "from the client",
                "Test-NetConnection -ComputerName {host:ps} -Port {port} "
                "-InformationLevel Detailed",
            ),
            _c(
                LINUX,
                "from the client",
                "tracepath -n {address:sh}\nnc -vz -w 3 {address:sh} {port}",
            ),
        ),
    ),
    FixTemplate(
        "set-ipall-port",
        "Give the instance a static TCP port (IPAll)",
        "Clients, aliases and firewall rules expect the instance on one known port. Setting "
        "IPAll's TCP port (and clearing TcpDynamicPorts) puts it there, and keeps it there "
        "after restarts, where a dynamic port would move.",
        (
            _c(
                POWERSHELL,
                "on the server (then restart the service)",
                _REG_ID + "Set-ItemProperty \"$net\\Tcp\\IPAll\" -Name TcpPort -Value '{port}'\n"
                "Set-ItemProperty \"$net\\Tcp\\IPAll\" -Name TcpDynamicPorts -Value ''\n"
                "Restart-Service -Name {service:ps} -Force",
            ),
            _c(
                LINUX,
                "on a Linux server",
                "sudo /opt/mssql/bin/mssql-conf set network.tcpport "
                "{port}\nsudo systemctl restart mssql-server",
            ),
            _c(
                GUI,
                "on the server",
                "SQL Server Configuration Manager > SQL Server Network "
                "Configuration > Protocols for {instance} > TCP/IP > IP Addresses > IPAll: "
                "TCP Port = {port}, TCP Dynamic Ports = (empty). Restart the service.",
            ),
        ),
    ),
    FixTemplate(
        "connect-with-port",
        "Connect with the port (host,port or tcp:)",
        "Giving the port skips the Browser lookup and any client-side guessing; `tcp:` also "
        "stops the client from trying Named Pipes first.",
        (
            _c(CONNECTION, "server name", "tcp:{host:hostname},{good_port}", TEXT),
            _c(CONNECTION, "ADO.NET / ODBC", "Server=tcp:{host:hostname},{good_port}", ODBC),
            _c(CONNECTION, "JDBC", "jdbc:sqlserver://{host:hostname}:{good_port}", JDBC),
            _c(
                WINDOWS_CMD,
                "test it",
                'sqlcmd -S tcp:{host:hostname},{good_port} -Q "SELECT @@SERVERNAME"',
            ),
        ),
    ),
    FixTemplate(
        "enable-tcp",
        "Enable TCP/IP for the instance and restart it",
        "With TCP/IP disabled the instance listens only on Shared Memory and Named Pipes: "
        "remote TCP clients are refused.",
        (
            _c(
                POWERSHELL,
                "on the server",
                _REG_ID + 'Set-ItemProperty "$net\\Tcp" -Name '
                "Enabled -Value 1\nRestart-Service -Name {service:ps} -Force",
            ),
            _c(
                GUI,
                "on the server",
                "SQL Server Configuration Manager > SQL Server Network "
                "Configuration > Protocols for {instance} > TCP/IP > Enable. Restart the "
                "service.",
            ),
            _c(
                TSQL,
                "confirm after the restart",
                "EXEC xp_readerrorlog 0, 1, N'Server is listening on';",
            ),
        ),
    ),
    FixTemplate(
        "listen-on-all-ips",
        "Make the instance listen on the address clients use",
        "An instance can listen on some addresses only (ListenOnAllIPs off, or mssql.conf "
        "network.ipaddress). Clients using another address are refused.",
        (
            _c(
                POWERSHELL,
                "on the server",
                _REG_ID + 'Get-ItemProperty "$net\\Tcp" | '
                'Select-Object Enabled, ListenOnAllIPs\nSet-ItemProperty "$net\\Tcp" -Name '
                "ListenOnAllIPs -Value 1\nRestart-Service -Name {service:ps} -Force",
            ),
            _c(
                LINUX,
                "on a Linux server",
                "sudo /opt/mssql/bin/mssql-conf unset "
                "network.ipaddress\nsudo systemctl restart mssql-server\n"
                "sudo ss -ltnp | grep sqlservr",
            ),
            _c(
                TSQL,
                "where it listens now",
                "SELECT DISTINCT local_net_address, local_tcp_port "
                "FROM sys.dm_exec_connections WHERE local_tcp_port IS NOT NULL;",
            ),
        ),
    ),
    FixTemplate(
        "find-listening-port",
        "Find the port SQL Server really listens on",
        "The ERRORLOG states every address and port the instance listens on at start-up.",
        (
            _c(
                TSQL,
                "on any working connection",
                "EXEC xp_readerrorlog 0, 1, N'Server is listening on';",
            ),
            _c(WINDOWS_CMD, "on the server", "netstat -ano | findstr LISTENING | findstr :{port}"),
            _c(
                POWERSHELL,
                "on the server",
                "Get-NetTCPConnection -State Listen | Where-Object "
                "{{ (Get-Process -Id $_.OwningProcess).ProcessName -eq 'sqlservr' }}",
            ),
            _c(LINUX, "on a Linux server", "sudo ss -ltnp | grep sqlservr"),
        ),
    ),
    FixTemplate(
        "fix-client-alias",
        "Correct or remove the client alias",
        "An alias silently replaces the server name and port you typed. One that points to an "
        "old port or host sends every connection to the wrong place.",
        (
            _c(CONNECTION, "the alias in use", "{alias_where:text}", TEXT),
            _c(
                WINDOWS_CMD,
                "list aliases (64-bit and 32-bit)",
                'reg query "HKLM\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo"\n'
                'reg query "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\MSSQLServer\\Client\\'
                'ConnectTo"',
            ),
            _c(
                GUI,
                "on Windows",
                "SQL Server Configuration Manager > SQL Native Client "
                "Configuration (and its 32-bit twin) > Aliases; or cliconfg.exe > Alias.",
            ),
            _c(
                LINUX,
                "FreeTDS and unixODBC",
                "tsql -C\nodbcinst -j\n"
                "grep -n -A4 -i '^\\[' ~/.freetds.conf /etc/freetds/freetds.conf",
            ),
        ),
    ),
    FixTemplate(
        "update-service-password",
        "Update the service account's password",
        "After the service account's password changes (or expires) the service cannot log on "
        "and stays stopped (events 7038 / 7041, error 1069). Configuration Manager is the "
        "supported way: it also keeps the account's permissions right.",
        (
            _c(
                GUI,
                "on the server",
                "SQL Server Configuration Manager > SQL Server Services > "
                "SQL Server ({instance}) > Properties > Log On: re-enter the password; Start.",
            ),
            _c(
                WINDOWS_CMD,
                "on the server",
                'sc.exe config "{service}" obj= "DOMAIN\\account" '
                'password= "<new password>"\nnet start "{service}"',
            ),
        ),
    ),
    FixTemplate(
        "unhide-instance",
        "Unhide the instance, or give the port",
        "A hidden instance (HideInstance) is left out of the Browser's answers, so lookups by "
        "name fail; clients must give the port.",
        (
            _c(
                POWERSHELL,
                "on the server",
                _REG_ID + 'Set-ItemProperty "$net" -Name '
                "HideInstance -Value 0\nRestart-Service -Name {service:ps} -Force",
            ),
            _c(
                GUI,
                "on the server",
                "Configuration Manager > Protocols for {instance} > "
                "Properties > Flags > Hide Instance: No.",
            ),
        ),
    ),
    FixTemplate(
        "check-instance-name",
        "Use an instance name the server really has",
        "The Browser answers for the instances it knows; a misspelt or removed instance gets "
        "no answer at all.",
        (
            _c(CONNECTION, "instances this host reports", "{instances_listed:text}", TEXT),
            _c(
                WINDOWS_CMD,
                "on the server",
                'reg query "HKLM\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\Instance Names\\SQL"',
            ),
            _c(
                POWERSHELL,
                "on the server",
                "Get-Service -Name 'MSSQL*' | Format-Table Name, Status, StartType",
            ),
        ),
    ),
    FixTemplate(
        "fix-name-resolution",
        "Fix the name resolution",
        "The client must turn the host name into the server's address before anything else. "
        "Check DNS, the hosts file, and the DNS suffix of short names.",
        (
            _c(
                WINDOWS_CMD,
                "from the client",
                "nslookup {host:cmd}\nipconfig /flushdns\n"
                "type %SystemRoot%\\System32\\drivers\\etc\\hosts | findstr /i {host:cmd}",
            ),
            _c(POWERSHELL, "from the client", "Resolve-DnsName {host:ps}\nClear-DnsClientCache"),
            _c(
                LINUX,
                "from the client",
                "getent hosts {host:sh}\nresolvectl query {host:sh}  "
                "# or: dig {host:sh}\ngrep -i {host:sh} /etc/hosts",
            ),
            _c(
                MACOS,
                "from the client",
                "dscacheutil -q host -a name {host:sh}\n"
                "sudo dscacheutil -flushcache; sudo killall -HUP mDNSResponder",
            ),
        ),
    ),
    FixTemplate(
        "fix-hosts-override",
        "Remove the stale hosts-file entry",
        "A hosts-file line wins over DNS; an old one sends the client to an old address.",
        (
            _c(
                WINDOWS_CMD,
                "from the client (as administrator)",
                "notepad %SystemRoot%\\System32\\drivers\\etc\\hosts",
            ),
            _c(LINUX, "from the client", "sudoedit /etc/hosts"),
            _c(MACOS, "from the client", "sudo nano /etc/hosts"),
        ),
    ),
    FixTemplate(
        "check-route",
        "Check the route to the host",
        "'No route to host' means a router or the host's own stack said the address cannot be "
        "reached: the host is down, the address is wrong, or a route or VPN is missing.",
        (
            _c(
                WINDOWS_CMD,
                "from the client",
                "ping {address:cmd}\ntracert -d {address:cmd}\nroute print",
            ),
            _c(
                LINUX,
                "from the client",
                "ping -c 3 {address:sh}\ntracepath -n {address:sh}\nip route get {address:sh}",
            ),
        ),
    ),
    FixTemplate(
        "free-the-port",
        "Find what answers on the port",
        "Another program (a web server, a proxy, another database) holds the port SQL Server "
        "should have; SQL Server itself may then have failed to start (error 26023).",
        (
            _c(
                WINDOWS_CMD,
                "on the server",
                'netstat -ano | findstr :{port}\ntasklist /FI "PID eq <PID from netstat>"',
            ),
            _c(
                POWERSHELL,
                "on the server",
                "Get-NetTCPConnection -LocalPort {port} -State "
                "Listen | ForEach-Object {{ Get-Process -Id $_.OwningProcess }}",
            ),
            _c(LINUX, "on a Linux server", "sudo ss -ltnp 'sport = :{port}'"),
        ),
    ),
    FixTemplate(
        "check-server-health",
        "Look at the server's health",
        "The port accepts connections but SQL Server does not answer: worker threads may be "
        "exhausted, the instance may be starting, stopping or hung, or a proxy has no live "
        "backend. The dedicated admin connection gets in when nothing else does.",
        (
            _c(
                WINDOWS_CMD,
                "dedicated admin connection",
                "sqlcmd -S admin:{host:hostname} -E "
                '-Q "SELECT scheduler_id, current_tasks_count, work_queue_count FROM '
                "sys.dm_os_schedulers WHERE status = 'VISIBLE ONLINE'\"",
            ),
            _c(
                TSQL,
                "blocking and waiting work",
                "SELECT session_id, status, wait_type, "
                "blocking_session_id FROM sys.dm_exec_requests WHERE session_id > 50;",
            ),
            _c(
                TSQL,
                "worker threads: in use against the maximum",
                "SELECT (SELECT COUNT(*) FROM sys.dm_os_workers) AS workers, "
                "max_workers_count FROM sys.dm_os_sys_info;",
            ),
            _c(TSQL, "the error log", "EXEC xp_readerrorlog 0, 1;"),
            _c(
                LINUX,
                "on a Linux server",
                "sudo systemctl status mssql-server\nsudo tail -n 50 /var/opt/mssql/log/errorlog",
            ),
        ),
    ),
    FixTemplate(
        "restart-after-rename",
        "Register the new machine name, then restart",
        "After a machine is renamed, @@SERVERNAME keeps the old name until sp_dropserver / "
        "sp_addserver are run and the service restarts. Linked servers, replication and "
        "some clients rely on it.",
        (
            _c(
                TSQL,
                "on the server",
                "SELECT @@SERVERNAME, SERVERPROPERTY('MachineName');\n"
                "EXEC sp_dropserver {old_server_name:tsql_str};\n"
                "EXEC sp_addserver {new_server_name:tsql_str}, 'local';",
            ),
            _c(WINDOWS_CMD, "then restart", "net stop {service} && net start {service}"),
            _c(LINUX, "then restart (Linux)", "sudo systemctl restart mssql-server"),
        ),
    ),
    FixTemplate(
        "register-spn",
        "Register the SQL Server SPNs: {spn_port}",
        "Windows authentication over TCP uses Kerberos, which needs SPNs for the server's full "
        "name on the account the service runs as: MSSQLSvc/<FQDN>:<port> for TCP, and "
        "MSSQLSvc/<FQDN> (default instance) or MSSQLSvc/<FQDN>:<instance> (named) beside it. "
        "'Cannot generate SSPI context' when one is missing, duplicated or on another account. "
        "Look first (setspn -Q), then add only what is missing (setspn -S refuses duplicates).",
        (
            _c(
                WINDOWS_CMD,
                "look first: registered, and on which account",
                "setspn -Q {spn_port:cmd}\nsetspn -Q {spn_name:cmd}\nsetspn -X",
            ),
            _c(WINDOWS_CMD, "the service's account (on the server)", "sc qc {service}"),
            _c(
                POWERSHELL,
                "the service's account (on the server)",
                "(Get-CimInstance Win32_Service | Where-Object Name -eq {service:ps}).StartName",
            ),
            _c(
                WINDOWS_CMD,
                "register what is missing (domain admin)",
                "setspn -S {spn_port:cmd} {service_account:cmd}\n"
                "setspn -S {spn_name:cmd} {service_account:cmd}",
            ),
        ),
        title_unknown="Register the SQL Server SPNs",
    ),
    *TLS_FIXES,
    *LOGIN_FIXES,
    *AZURE_FIXES,
    *PATH_FIXES,
)

_BY_ID: Final[Mapping[str, FixTemplate]] = {fix.id: fix for fix in CATALOG}


def catalog_ids() -> frozenset[str]:
    return frozenset(_BY_ID)


def template(fix_id: str) -> FixTemplate:
    return _BY_ID[fix_id]


class _Strict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


class _Missing(Exception):
    """A value the command needs is not known for this target."""


def placeholder(field: str) -> str:
    """What stands in a command for a value that cannot go there: `<OLD-SERVER-NAME>`, one
    word in every language (a shell must not read it as two arguments)."""
    return "<" + field.replace("_", "-").upper() + ">"


def fill_command(template: CommandTemplate, known: Mapping[str, str]) -> tuple[str, list[str]]:
    """The command with each value quoted for the command's language, and a warning for each
    value that could not be (it is shown as a placeholder instead). Raises `_Missing` when a
    value is not known at all."""
    allowed = LANGUAGE_QUOTING[template.language]
    bare = LANGUAGE_BARE[template.language]
    parts: list[str] = []
    warnings: list[str] = []
    for literal, field, spec, conversion in Formatter().parse(template.text):
        parts.append(literal)
        if field is None:
            continue
        if conversion or (spec and spec not in allowed) or (not spec and field not in bare):
            raise ValueError(
                f"'{{{field}:{spec or ''}}}' in '{template.label}': {template.language} "
                f"takes {sorted(allowed)} (bare: {sorted(bare)})"
            )
        value = known.get(field)
        if value is None:
            raise _Missing(field)
        check = QUOTERS[spec] if spec else VALIDATED[field]
        try:
            parts.append(check(value))
        except UnsafeValue as error:
            parts.append(placeholder(field))
            warnings.append(
                f"{placeholder(field)} stands for the {field.replace('_', ' ')} "
                f"'{visible(value, NAME)}', which cannot be put safely into this "
                f"{LANGUAGE_NAMES[template.language]} ({error}): check it, then type it in "
                "by hand."
            )
    return "".join(parts), warnings


def render_fix(fix_id: str, values: FixValues) -> Fix:
    """The fix with this target's values, each quoted for its command's language: commands
    missing a value are left out; a value no quoting can carry becomes a placeholder with a
    warning, never a silently altered command."""
    fix = _BY_ID[fix_id]
    known = _Strict(values.known())
    commands: list[Command] = []
    warnings: list[str] = []
    for command in fix.commands:
        try:
            text, said = fill_command(command, known)
        except _Missing:
            continue  # a value this target does not have: leave the command out
        commands.append(Command(command.platform, command.label, text))
        warnings += [w for w in said if w not in warnings]
    return Fix(
        id=fix.id,
        title=_say(fix.title, fix.title_unknown, known),
        why=_say(fix.why, fix.why_unknown, known),
        commands=tuple(commands),
        risk=fix.risk,
        warnings=tuple(warnings),
    )


def _say(text: str, fallback: str | None, known: _Strict) -> str:
    try:
        return text.format_map(known)
    except KeyError:
        if fallback is None:  # the catalog test proves every such text has a fallback
            raise
        return fallback


def render_fixes(fix_ids: tuple[str, ...], values: FixValues) -> tuple[Fix, ...]:
    return tuple(render_fix(fix_id, values) for fix_id in fix_ids)
