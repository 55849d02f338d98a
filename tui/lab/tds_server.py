"""The lab's SQL Server on TCP: one TDS session per connection.

PRELOGIN is answered by the echo rule every listed client accepts; TLS runs inside PRELOGIN
packets when the negotiation asks for it (login packet only for OFF/OFF, the whole connection
otherwise), or first on the socket for TDS 8 strict. LOGIN7 is decoded and answered with the
token sequence a real server sends; batches, transaction requests and attention are answered
enough for real clients (FreeTDS, pyodbc, pytds, impacket, mssql-python) to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from tui.lab.scenarios import LabInstance, Scenario
from tui.wire import login7, prelogin, tds, tokens
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption
from tui.wire.tlsbridge import TlsChannel, server_strict, server_tls

IDLE_TIMEOUT: Final = 120.0
HANDSHAKE_TIMEOUT: Final = 10.0
MAX_MESSAGE: Final = 1_048_576
TDS_74: Final = 0x74000004


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

    def done(self, status: int, rowcount: int = 0) -> bytes:
        return tokens.done(status, rowcount, tds_version=self.tds_version)

    def result_set(self, columns: Sequence[str], rows: list[tuple[str | None, ...]]) -> bytes:
        return tokens.result_set(columns, rows, tds_version=self.tds_version)

    async def receive(self) -> tds.Message:
        if self.channel is not None:
            return await self.channel.receive(timeout=IDLE_TIMEOUT)
        return await tds.read_message(self.reader, max_bytes=MAX_MESSAGE, timeout=IDLE_TIMEOUT)

    async def send(self, ptype: tds.PacketType, payload: bytes) -> None:
        message = tds.encode_message(ptype, payload, spid=51)
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
    ) -> None:
        self.scenario = scenario
        self.instance = instance
        self.tls_context = tls_context
        self.strict_context = strict_context
        self.version = _version_tuple(instance.version)

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
                    # login-only TLS: the reply and all that follows travel in plain TDS
                    session.channel.downgrade()
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
        session.tds_version = min(login.tds_version, TDS_74)
        server = scenario.server_name
        logins = dict(scenario.logins)
        database = login.database or "master"
        if login.integrated:
            reply = session.error(
                18452,
                1,
                14,
                "Login failed. The login is from an untrusted "
                "domain and cannot be used with Integrated authentication.",
                server,
            ) + session.done(tokens.DONE_ERROR)
            await session.send(tds.PacketType.REPLY, reply)
            return False
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
        reply = (
            tokens.env_database(database, "master")
            + session.info(5701, 2, 0, f"Changed database context to '{database}'.", server)
            + tokens.env_language("us_english", "")
            + session.info(5703, 1, 0, "Changed language setting to us_english.", server)
            + tokens.env_collation()
            + tokens.env_packet_size(4096, 4096)
            + tokens.login_ack(
                tds_version=session.tds_version,
                prog_name="Microsoft SQL Server",
                prog_version=(version[0], version[1], version[2]),
            )
            + session.done(0)
        )
        await session.send(tds.PacketType.REPLY, reply)
        return True

    async def _batch(self, session: Session, payload: bytes) -> None:
        text = _batch_text(payload)
        if "@@servername" in text.casefold():
            scenario = self.scenario
            known = {
                "server_name": scenario.server_name,
                "machine_name": scenario.machine_name,
                "product_version": self.instance.version,
                "edition": scenario.edition,
                "net_transport": "TCP",
                "auth_scheme": "SQL",
                "encrypt_option": "TRUE" if session.encrypted else "FALSE",
                "listening_ports": _listening(session),
            }
            names = _column_names(text) or ("",)  # SELECT @@SERVERNAME: one unnamed column
            row = tuple(known.get(name.casefold() or "server_name") for name in names)
            reply = session.result_set(names, [row]) + session.done(tokens.DONE_COUNT, rowcount=1)
        else:
            reply = session.done(0)
        await session.send(tds.PacketType.REPLY, reply)


def _column_names(text: str) -> tuple[str, ...]:
    """The names a real server gives the columns: the aliases of the batch's last SELECT."""
    last = text[text.casefold().rfind("select") :]
    return tuple(re.findall(r"\bAS\s+\[?(\w+)\]?\s*(?:,|;|$)", last, flags=re.IGNORECASE))


async def _say_nothing(session: Session) -> None:
    """A login that never completes: read whatever comes until the client gives up."""
    while await asyncio.wait_for(session.reader.read(65_536), timeout=IDLE_TIMEOUT):
        pass


def _listening(session: Session) -> str | None:
    """What sys.dm_tcp_listener_states shows: this listener's address and port."""
    where = session.writer.get_extra_info("sockname")
    if not isinstance(where, tuple) or len(where) < 2:
        return None
    return f"{where[0]} port {where[1]}"


def _batch_text(payload: bytes) -> str:
    """The batch's SQL: skip ALL_HEADERS (TDS 7.2+) when present, then UTF-16LE."""
    body = payload
    if len(payload) >= 4:
        (total,) = struct.unpack_from("<I", payload)
        if 4 <= total <= len(payload) and total < 1024:
            body = payload[total:]
    return body.decode("utf-16-le", errors="replace")
