"""The diagnostic query run after a successful login, and what its one row says.

A login that works still hides things: a host renamed without `sp_dropserver` / `sp_addserver`
(`@@SERVERNAME` keeps the old name), the transport and authentication scheme this session really
got, whether it is encrypted, and where the instance listens. One batch asks for all of it, both
through the person's ODBC driver and through the native TDS login, with the same column names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Final

from tui.probes.base import Evidence
from tui.wire.prelogin import product_name

# The query's column aliases; the lab answers any batch naming @@SERVERNAME with one row of them.
COLUMNS: Final = (
    "server_name",
    "machine_name",
    "product_version",
    "edition",
    "net_transport",
    "auth_scheme",
    "encrypt_option",
    "listening_ports",
    "sys_servers_name",
    "local_net_address",
    "local_tcp_port",
    "client_net_address",
    "remote_access",
)

# CONNECTIONPROPERTY needs no permission; sys.dm_exec_connections and the listener DMV need VIEW
# SERVER STATE. Each DMV read runs in sp_executesql inside TRY, so a missing permission (or a
# DMV an old version lacks) leaves its column NULL instead of failing the batch.
QUERY: Final = """SET NOCOUNT ON;
DECLARE @net_transport nvarchar(40) = CONVERT(nvarchar(40), CONNECTIONPROPERTY('net_transport'));
DECLARE @auth_scheme nvarchar(40) = CONVERT(nvarchar(40), CONNECTIONPROPERTY('auth_scheme'));
DECLARE @encrypt_option nvarchar(40) = NULL;
DECLARE @listening nvarchar(1000) = NULL;
BEGIN TRY
    EXEC sys.sp_executesql
        N'SELECT @n = net_transport, @a = auth_scheme, @e = encrypt_option
          FROM sys.dm_exec_connections WHERE session_id = @@SPID;',
        N'@n nvarchar(40) OUTPUT, @a nvarchar(40) OUTPUT, @e nvarchar(40) OUTPUT',
        @n = @net_transport OUTPUT, @a = @auth_scheme OUTPUT, @e = @encrypt_option OUTPUT;
END TRY
BEGIN CATCH
    SET @encrypt_option = NULL;
END CATCH;
BEGIN TRY
    EXEC sys.sp_executesql
        N'SELECT @p = COALESCE(@p + N'', '', N'''') + CONVERT(nvarchar(48), ip_address)
              + N'' port '' + CONVERT(nvarchar(10), port)
          FROM sys.dm_tcp_listener_states
          WHERE type_desc = N''TSQL'' AND state_desc = N''ONLINE'';',
        N'@p nvarchar(1000) OUTPUT',
        @p = @listening OUTPUT;
END TRY
BEGIN CATCH
    SET @listening = NULL;
END CATCH;
SELECT @@SERVERNAME AS server_name,
    CONVERT(nvarchar(128), SERVERPROPERTY('MachineName')) AS machine_name,
    CONVERT(nvarchar(128), SERVERPROPERTY('ProductVersion')) AS product_version,
    CONVERT(nvarchar(128), SERVERPROPERTY('Edition')) AS edition,
    @net_transport AS net_transport,
    @auth_scheme AS auth_scheme,
    @encrypt_option AS encrypt_option,
    @listening AS listening_ports,
    CONVERT(nvarchar(128), (SELECT name FROM sys.servers WHERE server_id = 0)) AS sys_servers_name,
    CONVERT(nvarchar(48), CONNECTIONPROPERTY('local_net_address')) AS local_net_address,
    CONVERT(nvarchar(10), CONNECTIONPROPERTY('local_tcp_port')) AS local_tcp_port,
    CONVERT(nvarchar(48), CONNECTIONPROPERTY('client_net_address')) AS client_net_address,
    CONVERT(nvarchar(10), (SELECT value_in_use FROM sys.configurations
        WHERE name = N'remote access')) AS remote_access;"""

_AUTH_WORDS: Final = {
    "SQL": "SQL Server authentication",
    "NTLM": "Windows authentication through NTLM (Kerberos was not used)",
    "KERBEROS": "Windows authentication through Kerberos",
}


@dataclass(frozen=True)
class ServerInfo:
    """One row of the diagnostic query; a column the server did not give is None."""

    server_name: str | None = None
    machine_name: str | None = None
    product_version: str | None = None
    edition: str | None = None
    net_transport: str | None = None
    auth_scheme: str | None = None
    encrypt_option: str | None = None
    listening_ports: str | None = None
    sys_servers_name: str | None = None  # sys.servers, server_id 0: what sp_addserver set
    local_net_address: str | None = None  # where this session arrived, as the server sees it
    local_tcp_port: str | None = None
    client_net_address: str | None = None
    remote_access: str | None = None  # sp_configure 'remote access' (server-to-server RPC)

    @classmethod
    def from_row(cls, columns: Sequence[str], values: Sequence[object]) -> ServerInfo:
        """Match by column name (case-insensitive); values become trimmed text, NULL None."""
        known = {f.name for f in fields(cls)}
        found: dict[str, str | None] = {}
        for name, value in zip(columns, values, strict=False):
            key = str(name).strip().lower()
            if key in known and key not in found:
                found[key] = _text(value)
        return cls(**found)

    @property
    def renamed(self) -> bool:
        """@@SERVERNAME names another machine than the one the instance runs on."""
        recorded = self.recorded_machine
        return bool(
            recorded and self.machine_name and recorded.casefold() != self.machine_name.casefold()
        )

    @property
    def recorded_machine(self) -> str | None:
        """The machine part of @@SERVERNAME (before the backslash of a named instance)."""
        if not self.server_name:
            return None
        return self.server_name.split("\\", 1)[0]

    @property
    def instance_part(self) -> str | None:
        if not self.server_name or "\\" not in self.server_name:
            return None
        return self.server_name.split("\\", 1)[1]

    @property
    def restart_pending(self) -> bool:
        """sp_dropserver / sp_addserver already ran (sys.servers names this machine) but the
        service was not restarted: @@SERVERNAME still reads the old name until it is."""
        registered = (self.sys_servers_name or "").split("\\", 1)[0]
        return bool(
            self.renamed
            and registered
            and self.machine_name
            and registered.casefold() == self.machine_name.casefold()
        )

    def forwarded(self, address: str | None, port: int | None) -> str | None:
        """A sentence when this session arrived at another address or port than the one
        connected to: a NAT router or a port forward sits on the way."""
        seen_port = self.local_tcp_port
        local = (self.local_net_address or "").strip()
        if not local or not address:
            return None
        other_port = bool(port and seen_port and seen_port.strip() != str(port))
        other_address = _plain(local) != _plain(address)
        if not (other_port or other_address):
            return None
        inside = f"{local} port {seen_port}" if seen_port else local
        return (
            f"You connect to {address} port {port}, but the server sees this session arrive at "
            f"{inside}: a NAT router or a port forward sits between. Clients, SPNs and "
            "certificates see the outside address and port; the forward is one more thing "
            "that must stay in place."
        )

    def registered_name(self) -> str | None:
        """What `sp_addserver` should register: the machine, plus the instance if named."""
        if not self.machine_name:
            return None
        instance = self.instance_part
        return f"{self.machine_name}\\{instance}" if instance else self.machine_name

    @property
    def product(self) -> str | None:
        version = _version(self.product_version)
        if version is None:
            return None
        text = f"{product_name(version)} {self.product_version}"
        return f"{text} {self.edition}" if self.edition else text

    @property
    def encrypted(self) -> bool | None:
        if self.encrypt_option is None:
            return None
        return self.encrypt_option.strip().upper() == "TRUE"

    def host_note(self, host_used: str | None) -> str | None:
        """A name that is not the machine's own: a DNS alias, a CNAME or a listener."""
        if not host_used or not self.machine_name:
            return None
        try:
            ipaddress.ip_address(host_used.strip("[]").split("%")[0])
            return None
        except ValueError:
            pass
        first = host_used.split(".", 1)[0]
        if first.casefold() in {self.machine_name.casefold(), "localhost"}:
            return None
        return (
            f"You connect with the name {host_used}, but the machine calls itself "
            f"{self.machine_name}: a DNS alias (CNAME), a hosts-file entry or an availability "
            "group listener. Windows authentication needs an SPN for the name clients use."
        )

    def sentence(self) -> str:
        """One sentence for the verdict: who answered, and what this session got."""
        parts: list[str] = []
        if self.server_name:
            where = f"@@SERVERNAME is {self.server_name}"
            if self.machine_name:
                where += f", on machine {self.machine_name}"
            parts.append(where)
        if self.product:
            parts.append(self.product)
        session: list[str] = []
        if self.net_transport:
            session.append(f"over {self.net_transport}")
        if self.auth_scheme:
            session.append(_AUTH_WORDS.get(self.auth_scheme.upper(), self.auth_scheme))
        if self.encrypted is not None:
            session.append("encrypted" if self.encrypted else "not encrypted")
        if session:
            parts.append("this session: " + ", ".join(session))
        if self.listening_ports:
            parts.append(f"listening on {self.listening_ports}")
        return "; ".join(parts)

    def evidence(self) -> Evidence:
        document: Evidence = {f.name: getattr(self, f.name) for f in fields(self)}
        document["renamed"] = self.renamed
        document["listening_ports_note"] = (
            None
            if self.listening_ports
            else "not reported (needs VIEW SERVER STATE, and SQL Server 2012 or later)"
        )
        if self.encrypt_option is None:
            document["encrypt_option_note"] = "not reported (needs VIEW SERVER STATE)"
        return document


def _plain(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.strip("[]").split("%")[0]))
    except ValueError:
        return address.strip().casefold()


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    text = str(value).strip()
    return text or None


def _version(text: str | None) -> tuple[int, int, int, int] | None:
    if not text:
        return None
    try:
        parts = [int(part) for part in text.split(".")[:4]]
    except ValueError:
        return None
    parts += [0] * (4 - len(parts))
    return parts[0], parts[1], parts[2], parts[3]
