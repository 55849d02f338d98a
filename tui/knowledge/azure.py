"""Azure SQL, recognised: its host names, its ports and connection policies, and its errors.

Sources (tests/corpus/azure_facts.md has each with its exact words): Microsoft's connectivity
architecture page (gateway on 1433; Redirect needs outbound 11000-11999 to the region; Proxy
only 1433; private endpoints only Proxy), the Managed Instance public endpoint page (port 3342,
`<mi>.public.<dns_zone>.database.windows.net`), the private endpoint DNS page (a CNAME to
`privatelink.database.windows.net`), the Synapse connection pages, and the error pages (40615,
40613, 40532, 40501, 40197, 40544, 40914, 47072, 47073). The real bytes of a routing ENVCHANGE
from an Azure gateway were not found in public sources; its layout comes from MS-TDS.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

GATEWAY_PORT: Final = 1433
REDIRECT_PORTS: Final = range(11000, 12000)
MI_PUBLIC_PORT: Final = 3342

# (suffix, cloud): the zones Azure SQL Database servers live in
_SQL_ZONES: Final = (
    ("database.windows.net", "Azure"),
    ("database.chinacloudapi.cn", "Azure China"),
    ("database.usgovcloudapi.net", "Azure Government"),
)
_SYNAPSE_ZONES: Final = (
    ("sql.azuresynapse.net", "Azure"),
    ("sql.azuresynapse.azure.cn", "Azure China"),
)


class Kind(StrEnum):
    DATABASE = "Azure SQL Database"
    MANAGED_INSTANCE = "Azure SQL Managed Instance"
    MANAGED_INSTANCE_PUBLIC = "Azure SQL Managed Instance (public endpoint)"
    SYNAPSE_DEDICATED = "Azure Synapse Analytics (dedicated SQL pool)"
    SYNAPSE_SERVERLESS = "Azure Synapse Analytics (serverless SQL pool)"
    NODE = "an Azure SQL node (where the gateway redirects)"


@dataclass(frozen=True)
class AzureHost:
    kind: Kind
    server: str  # the logical server's (or instance's, or workspace's) short name
    cloud: str
    zone: str
    private_link: bool = False  # the privatelink name itself

    @property
    def port(self) -> int:
        """The port clients connect to: 3342 for a Managed Instance's public endpoint."""
        return MI_PUBLIC_PORT if self.kind is Kind.MANAGED_INSTANCE_PUBLIC else GATEWAY_PORT

    def describe(self) -> str:
        where = "" if self.cloud == "Azure" else f" in {self.cloud}"
        link = " through its private endpoint name" if self.private_link else ""
        return f"{self.kind.value} '{self.server}'{where}{link}"


def recognise(host: str | None) -> AzureHost | None:
    """What kind of Azure SQL endpoint a host name is, or None for any other name."""
    if not host:
        return None
    name = host.strip().rstrip(".").casefold()
    for zone, cloud in _SQL_ZONES:
        if not name.endswith("." + zone):
            continue
        labels = name[: -len(zone) - 1].split(".")
        if ".worker." in f".{'.'.join(labels)}." or (labels and labels[-1] == "worker"):
            return AzureHost(Kind.NODE, labels[0], cloud, zone)
        if labels[-1] == "privatelink":
            return AzureHost(Kind.DATABASE, labels[0], cloud, zone, private_link=True)
        if len(labels) == 1:
            return AzureHost(Kind.DATABASE, labels[0], cloud, zone)
        if len(labels) == 3 and labels[1] == "public":
            return AzureHost(Kind.MANAGED_INSTANCE_PUBLIC, labels[0], cloud, zone)
        if len(labels) == 2:
            return AzureHost(Kind.MANAGED_INSTANCE, labels[0], cloud, zone)
        return None
    for zone, cloud in _SYNAPSE_ZONES:
        if not name.endswith("." + zone):
            continue
        labels = name[: -len(zone) - 1].split(".")
        private = labels[-1] == "privatelink"
        first = labels[0]
        if first.endswith("-ondemand"):
            return AzureHost(
                Kind.SYNAPSE_SERVERLESS, first[: -len("-ondemand")], cloud, zone, private
            )
        return AzureHost(Kind.SYNAPSE_DEDICATED, first, cloud, zone, private)
    return None


def is_redirect_port(port: int | None) -> bool:
    return port is not None and port in REDIRECT_PORTS


def private_endpoint_public(cnames: tuple[str, ...], addresses: tuple[str, ...]) -> bool:
    """A name whose CNAME chain leads through privatelink.* (a private endpoint exists) but
    which resolves to a public address here: this client gets the public gateway, not the
    private endpoint (its DNS has no privatelink zone)."""
    through = any(".privatelink." in f".{c.casefold().rstrip('.')}" for c in cnames)
    if not through or not addresses:
        return False
    return all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)


# ------------------------------------------------------------------------------------------
# errors at login


@dataclass(frozen=True)
class AzureError:
    number: int
    meaning: str  # what it says, for the verdict; {ip} is the client address the text names
    fixes: tuple[str, ...]


ERRORS: Final[Mapping[int, AzureError]] = {
    40615: AzureError(
        40615,
        "the Azure SQL server firewall does not allow the address {ip}: no server-level (or "
        "database-level) firewall rule covers it. A rule takes up to five minutes to apply.",
        ("azure-firewall-rule",),
    ),
    40914: AzureError(
        40914,
        "the client is in a subnet with a virtual network service endpoint, but the server has "
        "no virtual network rule for that subnet.",
        ("azure-vnet-rule",),
    ),
    47073: AzureError(
        47073,
        "public network access is denied on this server: only its private endpoint, from "
        "inside the virtual network, gets in.",
        ("azure-private-endpoint",),
    ),
    47072: AzureError(
        47072,
        "the login used a TLS version below the server's minimal TLS version.",
        ("enable-tls12",),
    ),
    40532: AzureError(
        40532,
        "the gateway cannot open the server the login names: a misspelt server name, or a "
        "login written as user@server for another server.",
        ("check-login",),
    ),
    40613: AzureError(
        40613,
        "the database is not available right now (a failover, a reconfiguration, or an "
        "existing dedicated admin connection): retry after a few seconds.",
        ("azure-retry",),
    ),
    40501: AzureError(
        40501,
        "the service is busy: retry after 10 seconds.",
        ("azure-retry",),
    ),
    40197: AzureError(
        40197,
        "the service hit an error processing the request (a reconfiguration): retry.",
        ("azure-retry",),
    ),
}

_CLIENT_IP: Final = re.compile(r"Client with IP address '([0-9A-Fa-f.:]{2,45})'")
_SERVER: Final = re.compile(r"Cannot open server '([A-Za-z0-9-]{1,63})'")
_TRACING: Final = re.compile(r"tracing ID of '([0-9A-Fa-f-]{8,40})'")


def client_ip(text: str) -> str | None:
    """The client address a 40615 names, when it is an IP address."""
    match = _CLIENT_IP.search(text)
    if match is None:
        return None
    try:
        return str(ipaddress.ip_address(match.group(1)))
    except ValueError:
        return None


def server_named(text: str) -> str | None:
    match = _SERVER.search(text)
    return match.group(1) if match else None


def tracing_id(text: str) -> str | None:
    """Azure's 18456 and 40613 carry a session tracing ID for Microsoft support."""
    match = _TRACING.search(text)
    return match.group(1) if match else None
