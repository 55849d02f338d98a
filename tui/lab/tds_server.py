"""The lab's SQL Server on TCP: one TDS session per connection.

PRELOGIN is answered by the echo rule every listed client accepts, in a packet whose session id
is 0 as real servers send it; TLS runs inside PRELOGIN packets when the negotiation asks for it
(login packet only for OFF/OFF, the whole connection otherwise), or first on the socket for TDS 8
strict. LOGIN7 is decoded and answered with the token sequence a real server sends (SQL Server
2022's order, the program name padded with two NULs); a good login here may be routed on (an Azure
SQL gateway, an availability group's primary for read-intent logins); Windows authentication gets
an NTLM challenge and, after the client's AUTHENTICATE, the refusal a server outside the client's
domain gives (18452). Simple queries (`SELECT @@VERSION`, `SELECT 1`, `SELECT @@SERVERNAME`),
the diagnostic query, transaction requests and attention are answered enough for real clients
(FreeTDS, pyodbc, pytds, impacket, mssql-python) to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import ssl
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from tui.lab import ntlm
from tui.lab.scenarios import LabInstance, Scenario
from tui.wire import login7, prelogin, tds, tokens
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption
from tui.wire.tlsbridge import TlsChannel, server_strict, server_tls

IDLE_TIMEOUT: Final = 120.0
HANDSHAKE_TIMEOUT: Final = 10.0
MAX_MESSAGE: Final = 1_048_576
TDS_74: Final = 0x74000004
TDS_71: Final = login7.TDS71_REV1  # what SQL Server 2000 SP1 and later answer
_SPIDS: Final = itertools.count(51)  # session ids, as real servers number user sessions
_UNTRUSTED: Final = (
    "Login failed. The login is from an untrusted domain and cannot be used with Integrated "
    "authentication."
)


@dataclass(frozen=True)
class Placement:
    """Where the scenario is served: its address, and the second node's (for routes)."""

    address: str
    sibling: str | None = None


def _version_tuple(text: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in text.split(".")[:3]] + [0, 0, 0]
    return parts[0], parts[1], parts[2], 0


@dataclass
class Session:
    """One client's connection: plain streams, or a TLS channel once one is up."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    channel: TlsChannel | None = None
    encrypted: bool = False
    logged_in: bool = False
    database: str = "master"
    tds_version: int = TDS_74  # the client's: DONE and ERROR widths differ before 7.2
    spid: int = 0  # 0 until the login: real servers answer the pre-login with session id 0

    def error(self, number: int, state: int, severity: int, message: str, server: str) -> bytes:
        return tokens.error(
            number,
            message,
            state=state,
            severity=severity,
            server=server,
            tds_version=self.tds_version,
        )

    def info(self, number: int, state: int, severity: int, message: str, server: str) -> bytes:
        return tokens.info(
            number,
            message,
            state=state,
            severity=severity,
            server=server,
            tds_version=self.tds_version,
        )

    def done(self, status: int, rowcount: int = 0, curcmd: int = 0) -> bytes:
        return tokens.done(status, rowcount, curcmd, tds_version=self.tds_version)

    def result_set(self, columns: Sequence[str], rows: list[tuple[str | int | None, ...]]) -> bytes:
        return tokens.result_set(columns, rows, tds_version=self.tds_version) + self.done(
            tokens.DONE_COUNT, rowcount=len(rows), curcmd=tokens.CURCMD_SELECT
        )

    @property
    def peer(self) -> str:
        where = self.writer.get_extra_info("peername")
        return str(where[0]) if isinstance(where, tuple) and where else "unknown"

    async def receive(self) -> tds.Message:
        if self.channel is not None:
            return await self.channel.receive(timeout=IDLE_TIMEOUT)
        return await tds.read_message(self.reader, max_bytes=MAX_MESSAGE, timeout=IDLE_TIMEOUT)

    async def send(self, ptype: tds.PacketType, payload: bytes) -> None:
        message = tds.encode_message(ptype, payload, spid=self.spid)
        if self.channel is not None:
            await self.channel.send(message)
            return
        self.writer.write(message)
        await self.writer.drain()


class TdsServer:
    """Serves one scenario's instance on one port."""

    def __init__(
        self,
        scenario: Scenario,
        instance: LabInstance,
        tls_context: ssl.SSLContext | None,
        strict_context: ssl.SSLContext | None,
        placement: Placement | None = None,
    ) -> None:
        self.scenario = scenario
        self.instance = instance
        self.tls_context = tls_context
        self.strict_context = strict_context
        self.placement = placement or Placement("127.0.0.1")
        self.version = _version_tuple(instance.version)
        # SQL Server 2000 speaks TDS 7.1 at most
        self.max_tds = TDS_71 if self.version[0] < 9 else TDS_74
        self.server_name = instance.server_name or scenario.server_name
        # a second node (a secondary replica) is another machine: its own name
        self.machine_name = (instance.server_name or scenario.machine_name).split("\\")[0]
        self.windows_logins: list[ntlm.Authenticated] = []  # who completed the NTLM exchange

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(reader, writer)
        try:
            await self._serve(session)
        except (
            WireError,
            asyncio.IncompleteReadError,
            ConnectionError,
            TimeoutError,
            ssl.SSLError,
            OSError,
        ):
            pass  # a hostile, broken or vanished client: drop it, keep serving others
        finally:
            if session.channel is not None:
                await session.channel.close(timeout=1.0)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), timeout=1.0)

    async def _serve(self, session: Session) -> None:
        if self.scenario.strict_only:
            if self.strict_context is None:
                return
            session.channel = await server_strict(
                session.reader,
                session.writer,
                context=self.strict_context,
                timeout=HANDSHAKE_TIMEOUT,
            )
            session.encrypted = True
        first = await session.receive()
        if first.type != tds.PacketType.PRELOGIN:
            return  # clients always start with PRELOGIN (pre-7.0 clients are not served)
        login_only = await self._prelogin(session, first.payload)
        while True:
            message = await session.receive()
            if message.type == tds.PacketType.LOGIN7 and self.scenario.login_stalls:
                await _say_nothing(session)
                return
            if message.type == tds.PacketType.LOGIN7:
                if login_only and session.channel is not None:
                    # login-only TLS: the reply and all that follows travel in plain TDS, and
                    # sys.dm_exec_connections says encrypt_option FALSE
                    session.channel.downgrade()
                    session.encrypted = False
                ok = await self._login(session, message.payload)
                if not ok:
                    return
            elif not session.logged_in:
                return  # anything but LOGIN7 before a login: a real server drops it
            elif message.type == tds.PacketType.SQL_BATCH:
                await self._batch(session, message.payload)
            elif message.type == tds.PacketType.TRANSACTION_MANAGER:
                await session.send(
                    tds.PacketType.REPLY,
                    tokens.env_begin_transaction(b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    + session.done(0),
                )
            elif message.type == tds.PacketType.ATTENTION:
                await session.send(tds.PacketType.REPLY, session.done(tokens.DONE_ATTN))
            elif message.type == tds.PacketType.RPC:
                await session.send(
                    tds.PacketType.REPLY,
                    session.error(
                        2812,
                        62,
                        16,
                        "Could not find stored procedure (the sqlreach lab serves no RPC).",
                        self.scenario.server_name,
                    )
                    + session.done(tokens.DONE_ERROR),
                )
            else:
                return

    async def _prelogin(self, session: Session, payload: bytes) -> bool:
        """Answer the PRELOGIN; bring TLS up when the negotiation wants it. True: login only."""
        client = prelogin.parse_prelogin(payload)
        instance_ok = (
            client.instance in {None, "", "MSSQLServer"}
            or (client.instance or "").casefold() == self.instance.name.casefold()
        )
        if session.encrypted:  # strict: TLS is already up, the server answers NOT_SUP-free
            answer = prelogin.build_server_answer(
                client, version=self.version, encryption=Encryption.NOT_SUP, instance_ok=instance_ok
            )
            await session.send(tds.PacketType.REPLY, answer)
            return False
        server = self.scenario.encryption
        if server is not Encryption.NOT_SUP and self.tls_context is None:
            server = Encryption.NOT_SUP
        wanted = client.encryption if client.encryption is not None else Encryption.NOT_SUP
        negotiation = prelogin.negotiate(wanted, server)
        answer = prelogin.build_server_answer(
            client, version=self.version, encryption=negotiation.result, instance_ok=instance_ok
        )
        await session.send(tds.PacketType.REPLY, answer)
        if negotiation.ends or negotiation.result is Encryption.NOT_SUP:
            if negotiation.ends:
                raise ConnectionError("encryption negotiation ends the connection")
            return False
        assert self.tls_context is not None
        session.channel = await server_tls(
            session.reader, session.writer, context=self.tls_context, timeout=HANDSHAKE_TIMEOUT
        )
        session.encrypted = True
        return negotiation.result is Encryption.OFF

    async def _login(self, session: Session, payload: bytes) -> bool:
        scenario = self.scenario
        login = login7.parse_login7(payload)
        session.tds_version = min(login.tds_version, self.max_tds)
        session.spid = next(_SPIDS)
        server = self.server_name
        refusal = self.instance.refusal
        if refusal is not None:  # a firewall in front of every credential (Azure's 40615)
            text = refusal.message.replace("{client}", session.peer)
            reply = session.error(
                refusal.number, refusal.state, refusal.severity, text, server
            ) + session.done(tokens.DONE_ERROR)
            await session.send(tds.PacketType.REPLY, reply)
            return False
        if login.integrated:
            await self._windows_login(session, login)
            return False
        logins = dict(scenario.logins)
        database = login.database or "master"
        if logins.get(login.user) != login.password.reveal():
            reply = session.error(
                18456, 1, 14, f"Login failed for user '{login.user}'.", server
            ) + session.done(tokens.DONE_ERROR)
            await session.send(tds.PacketType.REPLY, reply)
            return False
        known = {name.casefold(): name for name in scenario.databases}
        if database.casefold() not in known:
            reply = (
                session.error(
                    4060,
                    1,
                    11,
                    f'Cannot open database "{database}" requested by the login. The login failed.',
                    server,
                )
                + session.error(18456, 1, 14, f"Login failed for user '{login.user}'.", server)
                + session.done(tokens.DONE_ERROR)
            )
            await session.send(tds.PacketType.REPLY, reply)
            return False
        database = known[database.casefold()]
        session.database = database
        session.logged_in = True
        version = self.version
        # SQL Server 2022's order (a FreeTDS TDSDUMP in tests/corpus/wire_bytes.toml)
        reply = (
            tokens.env_database(database, "master")
            + session.info(5701, 2, 0, f"Changed database context to '{database}'.", server)
            + tokens.env_collation()
            + tokens.env_language("us_english", "")
            + session.info(5703, 1, 0, "Changed language setting to us_english.", server)
            + tokens.login_ack(
                tds_version=session.tds_version,
                prog_version=(version[0], version[1], version[2]),
            )
            + tokens.env_packet_size(4096, 4096)
            + self._routing(login)
            + session.done(0)
        )
        await session.send(tds.PacketType.REPLY, reply)
        return True

    def _routing(self, login: login7.Login7) -> bytes:
        """The routing ENVCHANGE, just before the DONE (SqlClient's RoutingTDSServer places it
        there), when this node sends this login on."""
        route = self.instance.route
        if route is None or (route.read_only and not login.read_only_intent):
            return b""
        host = route.host_for(self.placement.address, self.placement.sibling)
        return tokens.env_routing(host, route.port)

    async def _windows_login(self, session: Session, login: login7.Login7) -> None:
        """NTLM as a real server runs it (NEGOTIATE in the login, CHALLENGE back, AUTHENTICATE in
        an SSPI message), then the refusal of a server outside the client's domain. Kerberos
        and SPNEGO blobs get the refusal at once: the lab has no key to read them with."""
        server = self.server_name
        refusal = session.error(18452, 1, 14, _UNTRUSTED, server) + session.done(tokens.DONE_ERROR)
        if not ntlm.is_ntlm(login.sspi, ntlm.NEGOTIATE):
            await session.send(tds.PacketType.REPLY, refusal)
            return
        challenge = ntlm.challenge(
            domain="LAB", computer=self.scenario.machine_name, dns_domain="lab.sqlreach.test"
        )
        await session.send(tds.PacketType.REPLY, tokens.sspi(challenge))
        message = await session.receive()
        if message.type != tds.PacketType.SSPI:
            return
        # a malformed AUTHENTICATE ends the connection (WireError), as a real server ends it
        self.windows_logins.append(ntlm.read_authenticate(message.payload))
        await session.send(tds.PacketType.REPLY, refusal)

    async def _batch(self, session: Session, payload: bytes) -> None:
        text = _batch_text(payload)
        names = _column_names(text)
        answered = self._simple_select(session, text)
        if answered is not None:
            columns, values = answered
            reply = session.result_set(columns, [values])
        elif names and "@@servername" in text.casefold():  # the diagnostic query
            row = tuple(self._known(session).get(name.casefold()) for name in names)
            reply = session.result_set(names, [row])
        else:
            reply = session.done(0)
        await session.send(tds.PacketType.REPLY, reply)

    def _known(self, session: Session) -> dict[str, str | int | None]:
        """What the diagnostic query's columns say about this server and session."""
        scenario = self.scenario
        # where the session arrived: the listener itself, or the NAT's inside address
        inside = self.instance.inside or _local(session)
        return {
            "server_name": self.server_name,
            "machine_name": self.machine_name,
            "sys_servers_name": scenario.registered_name or self.server_name,
            "remote_access": "1",
            "product_version": self.instance.version,
            "edition": scenario.edition,
            "net_transport": "TCP",
            "auth_scheme": "SQL",
            "encrypt_option": "TRUE" if session.encrypted else "FALSE",
            "listening_ports": f"{inside[0]} port {inside[1]}" if inside else None,
            "local_net_address": inside[0] if inside else None,
            "local_tcp_port": str(inside[1]) if inside else None,
            "client_net_address": session.peer,
        }

    def _simple_select(
        self, session: Session, text: str
    ) -> tuple[tuple[str, ...], tuple[str | int | None, ...]] | None:
        """`SELECT expr [AS name], ...` of the expressions people type to see a server answer:
        @@VERSION, @@SERVERNAME, @@SPID, SERVERPROPERTY('...'), numbers and strings."""
        match = re.fullmatch(r"\s*select\s+(.+?)\s*;?\s*", text, flags=re.IGNORECASE | re.DOTALL)
        if match is None:
            return None
        columns: list[str] = []
        values: list[str | int | None] = []
        for part in _split_select_list(match.group(1)):
            aliased = re.fullmatch(r"(.+?)\s+(?:as\s+)?\[?(\w+)\]?", part, flags=re.IGNORECASE)
            expression, name = (aliased.group(1), aliased.group(2)) if aliased else (part, "")
            value = self._value(session, expression.strip())
            if value is _UNKNOWN:
                return None
            columns.append(name)
            values.append(value)  # type: ignore[arg-type]
        return tuple(columns), tuple(values)

    def _value(self, session: Session, expression: str) -> object:
        lowered = expression.casefold()
        if re.fullmatch(r"-?\d{1,9}", expression):
            return int(expression)
        quoted = re.fullmatch(r"N?'((?:[^']|'')*)'", expression, flags=re.IGNORECASE)
        if quoted:
            return quoted.group(1).replace("''", "'")
        if lowered == "@@version":
            return self._version_text()
        if lowered == "@@servername":
            return self.server_name
        if lowered == "@@spid":
            return session.spid
        connection = re.fullmatch(r"connectionproperty\s*\(\s*n?'(\w+)'\s*\)", lowered)
        if connection:
            return self._known(session).get(connection.group(1))
        prop = re.fullmatch(r"serverproperty\s*\(\s*N?'(\w+)'\s*\)", lowered)
        if prop:
            return {
                "productversion": self.instance.version,
                "machinename": self.machine_name,
                "servername": self.server_name,
                "edition": self.scenario.edition,
                "instancename": None if self.instance.name == "MSSQLSERVER" else self.instance.name,
            }.get(prop.group(1))
        return _UNKNOWN

    def _version_text(self) -> str:
        version = self.instance.version
        product = prelogin.product_name(self.version)
        return (
            f"Microsoft {product} - {version} (X64) \n\tCopyright (C) Microsoft Corporation\n"
            f"\t{self.scenario.edition} on the sqlreach lab <X64>\n"
        )


_UNKNOWN: Final = object()


def _split_select_list(text: str) -> list[str]:
    """The comma-separated parts of a select list, commas inside quotes and parentheses kept."""
    parts: list[str] = []
    depth = 0
    quoted = False
    current = ""
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(current.strip())
            current = ""
            continue
        current += char
    parts.append(current.strip())
    return [part for part in parts if part]


def _column_names(text: str) -> tuple[str, ...]:
    """The names a real server gives the columns: the aliases of the batch's last SELECT."""
    lowered = text.casefold()
    main = lowered.rfind("select @@servername")  # the diagnostic query's own select list
    last = text[main if main >= 0 else lowered.rfind("select") :]
    return tuple(re.findall(r"\bAS\s+\[?(\w+)\]?\s*(?:,|;|$)", last, flags=re.IGNORECASE))


async def _say_nothing(session: Session) -> None:
    """A login that never completes: read whatever comes until the client gives up."""
    while await asyncio.wait_for(session.reader.read(65_536), timeout=IDLE_TIMEOUT):
        pass


def _local(session: Session) -> tuple[str, int] | None:
    """This listener's own address and port (what sys.dm_exec_connections calls local)."""
    where = session.writer.get_extra_info("sockname")
    if not isinstance(where, tuple) or len(where) < 2:
        return None
    return str(where[0]), int(where[1])


def _batch_text(payload: bytes) -> str:
    """The batch's SQL: skip ALL_HEADERS (TDS 7.2+) when present, then UTF-16LE."""
    body = payload
    if len(payload) >= 4:
        (total,) = struct.unpack_from("<I", payload)
        if 4 <= total <= len(payload) and total < 1024:
            body = payload[total:]
    return body.decode("utf-16-le", errors="replace")
