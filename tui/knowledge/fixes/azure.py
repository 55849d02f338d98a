"""Fixes for Azure SQL: the server firewall, the Redirect policy's ports, the connection policy,
private endpoints, transient errors. Sources: tests/corpus/azure_facts.md (Microsoft's firewall,
connectivity architecture, connectivity settings and private endpoint DNS pages)."""

from __future__ import annotations

from typing import Final

from tui.knowledge.fixes.template import (
    ADONET,
    CONNECTION,
    GUI,
    LINUX,
    POWERSHELL,
    TSQL,
    WINDOWS_CMD,
    FixTemplate,
    command,
)

_RG = "<resource-group>"

AZURE_FIXES: Final[tuple[FixTemplate, ...]] = (
    FixTemplate(
        "azure-firewall-rule",
        "Allow {client_ip} in the Azure SQL server firewall",
        "Azure SQL refuses every login from an address no firewall rule covers (40615), before "
        "it looks at the user or password. The address is the one the error names: the "
        "client's public address as Azure sees it (a NAT or proxy's, not this machine's own). "
        "A new rule takes up to five minutes to apply.",
        (
            command(
                LINUX,
                "Azure CLI (the server's short name, not its DNS name)",
                f"az sql server firewall-rule create --resource-group {_RG} "
                "--server {azure_server:hostname} --name sqlreach-client "
                "--start-ip-address {client_ip:hostname} --end-ip-address {client_ip:hostname}",
            ),
            command(
                POWERSHELL,
                "Az PowerShell",
                f"New-AzSqlServerFirewallRule -ResourceGroupName '{_RG}' "
                "-ServerName {azure_server:ps} -FirewallRuleName 'sqlreach-client' "
                "-StartIpAddress {client_ip:ps} -EndIpAddress {client_ip:ps}",
            ),
            command(
                TSQL,
                "in the master database (an existing server-level rule must let you in)",
                "EXECUTE sp_set_firewall_rule @name = N'sqlreach-client', "
                "@start_ip_address = {client_ip:tsql_str}, @end_ip_address = {client_ip:tsql_str};",
            ),
            command(
                GUI,
                "Azure portal",
                "SQL servers > {azure_server:text} > Security > Networking > Public access > "
                "Firewall rules: add {client_ip:text} (start and end), Save.",
            ),
        ),
        title_unknown="Allow the client's address in the Azure SQL server firewall",
        why_unknown=(
            "Azure SQL refuses every login from an address no firewall rule covers (40615), "
            "before it looks at the user or password. The address is the client's public "
            "address as Azure sees it. A new rule takes up to five minutes to apply."
        ),
    ),
    FixTemplate(
        "azure-redirect-ports",
        "Allow outbound TCP 11000-11999 to Azure SQL (the Redirect policy)",
        "With the Redirect connection policy the gateway on 1433 only hands the login over: the "
        "client then connects straight to the node that holds the database, on a port from "
        "11000 to 11999. Firewalls on the way out must allow that range to Azure SQL's "
        "addresses in the region, besides 1433 to the gateways.",
        (
            command(
                WINDOWS_CMD,
                "on the client (Windows Firewall, outbound)",
                'netsh advfirewall firewall add rule name="Azure SQL redirect" dir=out '
                "action=allow protocol=TCP remoteport=11000-11999",
            ),
            command(
                POWERSHELL,
                "on the client (Windows Firewall, outbound)",
                'New-NetFirewallRule -DisplayName "Azure SQL redirect" -Direction Outbound '
                "-Protocol TCP -RemotePort 11000-11999 -Action Allow",
            ),
            command(LINUX, "on the client (ufw)", "sudo ufw allow out 11000:11999/tcp"),
            command(
                POWERSHELL,
                "from the client: confirm",
                "Test-NetConnection -ComputerName {host:hostname} -Port {port}",
            ),
            command(
                GUI,
                "network firewalls",
                "Allow outbound TCP 11000-11999 to the Azure SQL addresses of the server's "
                "region (the 'Sql.<region>' service tag in Azure network security groups).",
            ),
        ),
    ),
    FixTemplate(
        "azure-connection-policy-proxy",
        "Or switch the server's connection policy to Proxy",
        "With Proxy every connection stays on the gateway's port 1433: no redirect ports to "
        "open, at the price of an extra hop and some latency. Connections from outside Azure "
        "use Proxy by default; Redirect is chosen explicitly (or applies inside Azure).",
        (
            command(
                LINUX,
                "Azure CLI",
                'az resource update --ids "$(az sql server show --resource-group '
                f"{_RG} --name {{azure_server:hostname}} --query id -o tsv)"
                '/connectionPolicies/Default" '
                "--set properties.connectionType=Proxy",
            ),
            command(
                GUI,
                "Azure portal",
                "SQL servers > {azure_server:text} > Security > Networking > Connectivity > "
                "Connection policy: Proxy, Save.",
            ),
        ),
        title_unknown="Or switch the server's connection policy to Proxy",
    ),
    FixTemplate(
        "azure-vnet-rule",
        "Add a virtual network rule for the client's subnet",
        "The client's subnet has a service endpoint for Azure SQL, so its traffic arrives "
        "from the subnet, not a public address: only a virtual network rule lets it in (40914).",
        (
            command(
                LINUX,
                "Azure CLI",
                f"az sql server vnet-rule create --resource-group {_RG} "
                "--server {azure_server:hostname} "
                "--name sqlreach-subnet --vnet-name <vnet> --subnet <subnet>",
            ),
            command(
                GUI,
                "Azure portal",
                "SQL servers > {azure_server:text} > Security > Networking > Virtual networks: add "
                "the client's subnet.",
            ),
        ),
    ),
    FixTemplate(
        "azure-private-endpoint",
        "Connect through the private endpoint, resolved privately",
        "The server refuses public network access (47073) or has a private endpoint: clients "
        "must reach it from inside the virtual network, and their DNS must give the private "
        "address (the privatelink.database.windows.net zone), not the public gateway's.",
        (
            command(WINDOWS_CMD, "from the client", "nslookup {host:hostname}"),
            command(
                LINUX, "from the client", "getent hosts {host:hostname}\ndig +short {host:hostname}"
            ),
            command(
                LINUX,
                "link the private DNS zone to the client's virtual network",
                f"az network private-dns link vnet create --resource-group {_RG} "
                "--zone-name privatelink.database.windows.net --name sqlreach-link "
                "--virtual-network <vnet> --registration-enabled false",
            ),
            command(
                GUI,
                "on-premises DNS",
                "Forward privatelink.database.windows.net to Azure DNS (168.63.129.16) through "
                "a resolver inside the virtual network.",
            ),
        ),
    ),
    FixTemplate(
        "azure-retry",
        "Retry: this Azure SQL error passes",
        "40613, 40501 and 40197 come from reconfigurations, failovers and throttling: "
        "Microsoft lists them as transient, and applications are expected to retry after a few "
        "seconds (10 for 40501).",
        (
            command(
                CONNECTION,
                "ADO.NET / Microsoft.Data.SqlClient",
                "ConnectRetryCount=3;ConnectRetryInterval=10",
                language=ADONET,
            ),
            command(
                TSQL,
                "when it persists: is the database there and online?",
                "SELECT name, state_desc FROM sys.databases;",
            ),
        ),
    ),
    FixTemplate(
        "check-read-only-routing",
        "Check the availability group's read-only routing",
        "A read-intent login is routed to the replica the routing list names, at the address "
        "and port of its READ_ONLY_ROUTING_URL: a wrong URL, or a port closed between client "
        "and secondary, fails only read-intent connections.",
        (
            command(
                TSQL,
                "on the primary: the routing list and the URLs",
                "SELECT ar.replica_server_name, ar.read_only_routing_url, "
                "ar.secondary_role_allow_connections_desc\n"
                "FROM sys.availability_replicas AS ar;\n"
                "SELECT * FROM sys.availability_read_only_routing_lists;",
            ),
            command(
                TSQL,
                "set a replica's URL (its real name and port)",
                "ALTER AVAILABILITY GROUP [<ag>] MODIFY REPLICA ON N'<replica>' WITH "
                "(SECONDARY_ROLE (READ_ONLY_ROUTING_URL = N'TCP://{host:hostname}:{port}'));",
            ),
        ),
    ),
)
