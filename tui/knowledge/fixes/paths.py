"""Fixes for the other ways in: listeners with several addresses, the dedicated admin connection,
named pipes, shared memory, LocalDB, Analysis Services, NAT and port forwards.

Sources: tests/corpus/azure_facts.md (Microsoft's listener, DAC, remote admin connections, LocalDB
and named pipes pages, each quoted there), ../shared/reference/troubleshooting-knowledge.md.
"""

from __future__ import annotations

from typing import Final

from tui.knowledge.fixes.template import (
    ADONET,
    CONNECTION,
    GUI,
    JDBC,
    LINUX,
    ODBC,
    POWERSHELL,
    TEXT,
    TSQL,
    WINDOWS_CMD,
    FixTemplate,
    command,
)

PATH_FIXES: Final[tuple[FixTemplate, ...]] = (
    FixTemplate(
        "multi-subnet-failover",
        "Set MultiSubnetFailover=True in the connection string",
        "A listener registered in every subnet has one address per subnet, and only the "
        "primary's answers. With MultiSubnetFailover the driver tries them all at once and "
        "takes the one that answers; without it, it tries them in order and waits out its login "
        "timeout on a dead one. It works over TCP only.",
        (
            command(
                CONNECTION,
                "ADO.NET / SqlClient",
                "Server=tcp:{host:hostname},{port};MultiSubnetFailover=True",
                language=ADONET,
            ),
            command(
                CONNECTION,
                "ODBC Driver 17/18",
                "Server=tcp:{host:hostname},{port};MultiSubnetFailover=Yes",
                language=ODBC,
            ),
            command(
                CONNECTION,
                "JDBC",
                "jdbc:sqlserver://{host:hostname}:{port};multiSubnetFailover=true",
                language=JDBC,
            ),
            command(WINDOWS_CMD, "sqlcmd", "sqlcmd -S tcp:{host:hostname},{port} -M"),
        ),
    ),
    FixTemplate(
        "register-all-providers-ip",
        "Or register only the live address for the listener (RegisterAllProvidersIP=0)",
        "For clients that cannot set MultiSubnetFailover: with RegisterAllProvidersIP=0 the "
        "cluster registers only the online address in DNS, and a short HostRecordTTL makes "
        "clients see the new one soon after a failover (clients cache the record 20 minutes "
        "by default).",
        (
            command(
                POWERSHELL,
                "on a cluster node (the listener's network name resource)",
                "Import-Module FailoverClusters\n"
                "Get-ClusterResource | Where-Object ResourceType -eq 'Network Name'\n"
                "Get-ClusterResource '<listener resource>' | Set-ClusterParameter "
                "RegisterAllProvidersIP 0\n"
                "Get-ClusterResource '<listener resource>' | Set-ClusterParameter "
                "HostRecordTTL 300\n"
                "Stop-ClusterResource '<listener resource>'\n"
                "Start-ClusterResource '<listener resource>'",
            ),
            command(WINDOWS_CMD, "from the client: what DNS gives now", "nslookup {host:hostname}"),
        ),
    ),
    FixTemplate(
        "enable-remote-admin-connections",
        "Allow the dedicated admin connection from other machines",
        "By default the DAC listens only on the server's own loopback address: a remote "
        "admin: connection is refused. 'remote admin connections' opens it to the network "
        "(only one DAC at a time; open the DAC port in the firewall too).",
        (
            command(
                TSQL,
                "on the server",
                "EXEC sp_configure 'remote admin connections', 1;\nRECONFIGURE;",
            ),
            command(
                TSQL,
                "then: where the DAC listens",
                "EXEC xp_readerrorlog 0, 1, N'Dedicated admin connection';",
            ),
            command(
                WINDOWS_CMD,
                "open the DAC port in Windows Firewall",
                'netsh advfirewall firewall add rule name="SQL Server DAC {port}" dir=in '
                "action=allow protocol=TCP localport={port}",
            ),
        ),
    ),
    FixTemplate(
        "dac-on-the-server",
        "Or use the dedicated admin connection on the server itself",
        "The DAC is meant for a server that takes no other connection; from the server's own "
        "console it needs no network setting at all.",
        (
            command(
                WINDOWS_CMD, "on the server (default instance)", "sqlcmd -S admin:localhost -E"
            ),
            command(
                WINDOWS_CMD,
                "on the server (named instance)",
                "sqlcmd -S admin:localhost\\{instance} -E",
            ),
        ),
    ),
    FixTemplate(
        "open-firewall-smb",
        "Let named pipes through: SMB on TCP 445",
        "Named pipes between machines travel over SMB, TCP 445: the Server service "
        "(LanmanServer) must run on the server and the firewall must let 445 in.",
        (
            command(
                POWERSHELL,
                "on the server",
                "Get-Service LanmanServer\n"
                "Enable-NetFirewallRule -DisplayGroup 'File and Printer Sharing'",
            ),
            command(
                POWERSHELL,
                "from the client: confirm",
                "Test-NetConnection -ComputerName {host:hostname} -Port 445",
            ),
            command(LINUX, "from the client: confirm", "nc -vz -w 3 {host:hostname} 445"),
        ),
    ),
    FixTemplate(
        "use-tcp-not-pipes",
        "Or connect over TCP instead of named pipes",
        "TCP needs only the SQL Server port, not SMB; `tcp:` forces it.",
        (
            command(CONNECTION, "server name", "tcp:{host:hostname},{good_port}", language=TEXT),
            command(
                WINDOWS_CMD,
                "test it",
                'sqlcmd -S tcp:{host:hostname},{good_port} -Q "SELECT @@SERVERNAME"',
            ),
        ),
    ),
    FixTemplate(
        "enable-named-pipes",
        "Enable Named Pipes for the instance, if pipes are meant",
        "An instance listens on named pipes only when the protocol is enabled (and the service "
        "restarted).",
        (
            command(
                GUI,
                "on the server",
                "SQL Server Configuration Manager > SQL Server Network Configuration > "
                "Protocols for {instance:text} > Named Pipes > Enable. Restart the service.",
            ),
            command(
                TSQL,
                "after the restart",
                "EXEC xp_readerrorlog 0, 1, N'Server named pipe provider is ready';",
            ),
        ),
    ),
    FixTemplate(
        "localdb-start",
        "Check, start or create the LocalDB instance (SqlLocalDB)",
        "LocalDB runs on the developer's own machine, for the user who started it, and speaks "
        "only named pipes whose name changes at every start. SqlLocalDB says whether the "
        "instance exists and runs; the first connection to a stopped one must start it, "
        "which can exceed the login timeout.",
        (
            command(
                WINDOWS_CMD,
                "on the machine that runs the program",
                "SqlLocalDB info\nSqlLocalDB info {instance}",
            ),
            command(WINDOWS_CMD, "start it", "SqlLocalDB start {instance}"),
            command(
                WINDOWS_CMD, "create it when it does not exist", "SqlLocalDB create {instance}"
            ),
            command(
                CONNECTION,
                "the connection string",
                "Server=(localdb)\\{instance};Integrated Security=true",
                language=ADONET,
            ),
        ),
    ),
    FixTemplate(
        "check-shared-memory",
        "Shared memory: test it on the server itself",
        "Shared memory (lpc:) works only between a client and an instance on the same "
        "machine; from anywhere else it cannot be tried at all.",
        (
            command(WINDOWS_CMD, "on the server", 'sqlcmd -S lpc:. -Q "SELECT @@SERVERNAME"'),
            command(
                GUI,
                "on the server",
                "SQL Server Configuration Manager > SQL Server Network Configuration > "
                "Protocols for {instance:text} > Shared Memory: Enabled.",
            ),
        ),
    ),
    FixTemplate(
        "start-analysis-services",
        "Start SQL Server Analysis Services",
        "Port 2383 belongs to Analysis Services (SSAS), a separate service and protocol from "
        "the database engine: SQL Server drivers do not speak to it, and the engine's port "
        "does not replace it. A named SSAS instance is found through the SQL Server Browser "
        "on TCP 2382.",
        (
            command(
                POWERSHELL,
                "on the server",
                "Get-Service -Name 'MSSQLServerOLAPService', 'MSOLAP$*' -ErrorAction "
                "SilentlyContinue\nStart-Service -Name 'MSSQLServerOLAPService'",
            ),
            command(
                WINDOWS_CMD,
                "open its ports in Windows Firewall",
                'netsh advfirewall firewall add rule name="SQL Server Analysis Services" '
                "dir=in action=allow protocol=TCP localport=2383\n"
                'netsh advfirewall firewall add rule name="SQL Server Browser for SSAS" '
                "dir=in action=allow protocol=TCP localport=2382",
            ),
        ),
    ),
    FixTemplate(
        "check-port-forward",
        "Check the NAT router's port forward",
        "Between this client and the server a router translates the address (NAT): the "
        "connection works only while a rule forwards the outside port to the server's inside "
        "address and port. The outside name and port are what clients, SPNs and certificates "
        "must carry.",
        (
            command(
                WINDOWS_CMD,
                "a Windows machine doing the forwarding (portproxy)",
                "netsh interface portproxy show all\n"
                "netsh interface portproxy add v4tov4 listenport={port} listenaddress=0.0.0.0 "
                "connectport=<inside port> connectaddress=<inside address>",
            ),
            command(
                LINUX,
                "a Linux router (nftables / iptables)",
                "sudo nft list ruleset | grep -n 'dport {port}'\n"
                "sudo iptables -t nat -A PREROUTING -p tcp --dport {port} -j DNAT "
                "--to-destination <inside address>:<inside port>",
            ),
            command(
                POWERSHELL,
                "from the client: confirm",
                "Test-NetConnection -ComputerName {host:hostname} -Port {port}",
            ),
        ),
    ),
    FixTemplate(
        "restart-after-addserver",
        "Restart the SQL Server service (the new name is already registered)",
        "sp_addserver has already registered the machine's new name (sys.servers says it), but "
        "@@SERVERNAME reads it only at start-up: a restart is all that is left. Running "
        "sp_dropserver / sp_addserver again changes nothing.",
        (
            command(
                TSQL,
                "what is registered, and what is in use",
                "SELECT name FROM sys.servers WHERE server_id = 0;\nSELECT @@SERVERNAME;",
            ),
            command(WINDOWS_CMD, "restart", "net stop {service} && net start {service}"),
            command(LINUX, "restart (Linux)", "sudo systemctl restart mssql-server"),
        ),
    ),
    FixTemplate(
        "check-remote-access",
        "'Allow remote connections' (remote access) is not about client connections",
        "The SSMS box 'Allow remote connections to this server' is the 'remote access' "
        "option: it governs stored procedures called from other servers (linked and remote "
        "servers), not whether clients may connect. Clients from other machines need TCP/IP "
        "enabled, a listening address and an open firewall port.",
        (
            command(
                TSQL,
                "what it is set to",
                "SELECT name, value_in_use FROM sys.configurations\n"
                "WHERE name IN ('remote access', 'remote admin connections');",
            ),
        ),
    ),
)
