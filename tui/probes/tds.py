"""TDS pre-login and a native LOGIN7: is it SQL Server, and does the login work?

The pre-login answers the question drivers cannot: something answers on the port, but is it
SQL Server (and which version, and how does it want to encrypt), a web server, an SSH daemon, or
a server that accepts and then says nothing? The native login needs no ODBC driver, and reads
every ERROR token the server sends, so a 4060 hidden behind an 18456 is seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from tui.probes import serverinfo
from tui.probes.base import Evidence, JsonValue, Stopwatch
from tui.probes.errors import describe_os_error
from tui.probes.serverinfo import ServerInfo
from tui.secret import Secret, redact
from tui.wire import login7, prelogin, tds, tokens
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption
from tui.wire.tlsbridge import TlsChannel, client_tls

FIRST_BYTES_EVIDENCE: Final = 256
MAX_REPLY: Final = 1_048_576


class PreloginStatus(StrEnum):
    SQL_SERVER = "SQL_SERVER"
    NOT_TDS = "NOT_TDS"  # something else answered (HTTP, SSH, garbage)
    SILENT = "SILENT"  # connected, no answer within the timeout
    CLOSED = "CLOSED"  # connected, closed before answering
    RESET = "RESET"  # connected, reset before answering
    CONNECT_FAILED = "CONNECT_FAILED"  # refused, timed out or unreachable: see `detail`


@dataclass(frozen=True)
class PreloginResult:
    address: str
    port: int
    status: PreloginStatus
    detail: str
    timeout: float
    elapsed_ms: float
    answer: prelogin.Prelogin | None = None
    first_bytes: bytes = b""
    looks_like: str | None = None
    answer_ms: float | None = None

    @property
    def version(self) -> tuple[int, int, int, int] | None:
        return self.answer.version if self.answer else None

    @property
    def encryption(self) -> Encryption | None:
        return self.answer.encryption if self.answer else None

    @property
    def product(self) -> str:
        if self.answer is None or self.answer.version is None:
            return "unknown version"
        major, minor, build, _ = self.answer.version
        return f"{prelogin.product_name(self.answer.version)}, {major}.{minor}.{build}"

    def evidence(self) -> Evidence:
        answer: JsonValue = None
        if self.answer is not None:
            answer = {
                "version": ".".join(str(part) for part in self.answer.version)
                if self.answer.version
                else None,
                "product": self.product,
                "encryption": self.answer.encryption.name
                if self.answer.encryption is not None
                else None,
                "instopt": self.answer.instopt,
                "mars": self.answer.mars,
            }
        return {
            "address": self.address,
            "port": self.port,
            "status": self.status.value,
            "detail": self.detail,
            "answer": answer,
            "looks_like": self.looks_like,
            "first_bytes_hex": self.first_bytes[:FIRST_BYTES_EVIDENCE].hex(),
            "answer_ms": self.answer_ms,
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        where = f"{self.address} port {self.port}"
        if self.status is PreloginStatus.SQL_SERVER:
            encryption = self.encryption.name if self.encryption is not None else "unknown"
            return f"{where} is SQL Server ({self.product}; encryption {encryption})"
        return f"{where}: {self.detail}"


def _endpoint(address: str) -> tuple[str, int]:
    return (address, socket.AF_INET6 if ":" in address else socket.AF_INET)


async def _open(
    address: str, port: int, clock: Stopwatch
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(
        asyncio.open_connection(address, port, family=_endpoint(address)[1]),
        timeout=max(clock.remaining(), 0.001),
    )


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.transport.abort()


async def probe_prelogin(
    address: str,
    port: int,
    *,
    timeout: float,
    instance: str | None = None,
    encryption: Encryption = Encryption.OFF,
) -> PreloginResult:
    """Send the PRELOGIN every client sends first, and say what came back."""
    clock = Stopwatch(timeout)

    def result(status: PreloginStatus, detail: str, **extra: object) -> PreloginResult:
        return PreloginResult(address, port, status, detail, timeout, clock.elapsed_ms(), **extra)  # type: ignore[arg-type]

    try:
        reader, writer = await _open(address, port, clock)
    except TimeoutError:
        return result(PreloginStatus.CONNECT_FAILED, f"no TCP answer within {timeout:g} s")
    except OSError as error:
        return result(PreloginStatus.CONNECT_FAILED, describe_os_error(error).label())
    sent = Stopwatch()
    try:
        payload = prelogin.build_client_prelogin(
            encryption=encryption, instance=instance or "MSSQLServer"
        )
        writer.write(tds.encode_message(tds.PacketType.PRELOGIN, payload))
        await writer.drain()
        first = await _read_some(reader, clock)
        if not first:
            return result(
                PreloginStatus.CLOSED,
                "the server closed the connection without answering the pre-login",
            )
        if first[0] != tds.PacketType.REPLY:
            data = await _read_more(reader, first, clock)
            looks = tds.classify_first_bytes(data)
            return result(
                PreloginStatus.NOT_TDS,
                f"answered, but not as SQL Server: it looks like {looks}",
                first_bytes=data,
                looks_like=looks,
            )
        received = _Received(len(first))
        try:
            payload = await _read_reply(reader, first, clock, received)
        except TimeoutError:
            return result(
                PreloginStatus.SILENT,
                f"began a TDS reply but sent only {received.count} byte(s) in {timeout:g} s: "
                "far too slow to be a healthy SQL Server (a server under heavy pressure, or "
                "a broken network path that trickles)",
                first_bytes=first,
            )
        answer = prelogin.parse_prelogin(payload)
        return result(
            PreloginStatus.SQL_SERVER,
            "answered the pre-login as SQL Server",
            answer=answer,
            first_bytes=first,
            answer_ms=round(sent.elapsed() * 1000, 3),
        )
    except TimeoutError:
        return result(
            PreloginStatus.SILENT,
            f"the connection opened, but nothing answered the pre-login within "
            f"{timeout:g} s (worker threads exhausted, hung, starting or stopping, "
            "or a proxy with no live backend)",
        )
    except ConnectionResetError:
        return result(
            PreloginStatus.RESET,
            "the server reset the connection before answering the pre-login (10054 WSAECONNRESET)",
        )
    except (WireError, asyncio.IncompleteReadError) as error:
        return result(
            PreloginStatus.NOT_TDS,
            f"answered, but not with a valid TDS pre-login ({_short(error)})",
            looks_like="broken TDS",
        )
    except OSError as error:  # a broken pipe: the reset came before our PRELOGIN went out
        return result(
            PreloginStatus.RESET,
            "the server reset the connection before answering the pre-login "
            f"({describe_os_error(error).label()})",
        )
    finally:
        _close(writer)


async def _read_some(reader: asyncio.StreamReader, clock: Stopwatch) -> bytes:
    return await asyncio.wait_for(reader.read(4096), timeout=max(clock.remaining(), 0.001))


async def _read_more(reader: asyncio.StreamReader, first: bytes, clock: Stopwatch) -> bytes:
    """A little more of a non-TDS answer, to recognise it; never past the deadline."""
    data = first
    with contextlib.suppress(TimeoutError, OSError):
        while len(data) < FIRST_BYTES_EVIDENCE:
            more = await asyncio.wait_for(
                reader.read(FIRST_BYTES_EVIDENCE), timeout=min(0.05, max(clock.remaining(), 0.001))
            )
            if not more:
                break
            data += more
    return data


@dataclass
class _Received:
    count: int


async def _read_reply(
    reader: asyncio.StreamReader, buffer: bytes, clock: Stopwatch, received: _Received
) -> bytes:
    """The payload of a whole TDS reply whose first bytes are already in `buffer`."""
    payload = bytearray()
    while True:
        while len(buffer) < 8:
            buffer += await _read_exact_or_more(reader, clock, received)
        header = tds.parse_header(buffer[:8])
        while len(buffer) < header.length:
            buffer += await _read_exact_or_more(reader, clock, received)
        payload += buffer[8 : header.length]
        if len(payload) > MAX_REPLY:
            raise WireError(f"the reply is longer than {MAX_REPLY} bytes")
        buffer = buffer[header.length :]
        if header.status & 0x01:
            return bytes(payload)


async def _read_exact_or_more(
    reader: asyncio.StreamReader, clock: Stopwatch, received: _Received
) -> bytes:
    chunk = await asyncio.wait_for(reader.read(65_536), timeout=max(clock.remaining(), 0.001))
    if not chunk:
        raise asyncio.IncompleteReadError(b"", None)
    received.count += len(chunk)
    return chunk


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 160 else text[:157] + "..."


# ------------------------------------------------------------------------------------------
# native LOGIN7


class LoginStatus(StrEnum):
    OK = "OK"
    FAILED = "FAILED"  # 18456 and relatives
    DATABASE = "DATABASE"  # 4060: the login works, the database cannot be opened
    UNRESPONSIVE = "UNRESPONSIVE"  # no answer to the login in time, or closed before it
    ERROR = "ERROR"  # TLS failed, the server spoke garbage, or the connection failed


@dataclass(frozen=True)
class LoginResult:
    address: str
    port: int
    user: str
    status: LoginStatus
    detail: str
    timeout: float
    elapsed_ms: float
    messages: tuple[tokens.ServerMessage, ...] = ()
    server_program: str | None = None
    database: str | None = None
    encryption: str | None = None
    extra: dict[str, JsonValue] = field(default_factory=dict)
    server_info: ServerInfo | None = None  # the diagnostic query's row, after a good login
    query_detail: str | None = None  # why the diagnostic query gave no row

    @property
    def errors(self) -> tuple[tokens.ServerMessage, ...]:
        return tuple(m for m in self.messages if m.kind == "error")

    def evidence(self) -> Evidence:
        messages: list[JsonValue] = [
            {
                "kind": m.kind,
                "number": m.number,
                "state": m.state,
                "severity": m.severity,
                "message": m.message,
                "server": m.server,
            }
            for m in self.messages
        ]
        return {
            "client": "sqlreach native TDS 7.4 login",
            "address": self.address,
            "port": self.port,
            "user": self.user,
            "status": self.status.value,
            "detail": self.detail,
            "messages": messages,
            "server_program": self.server_program,
            "database": self.database,
            "encryption": self.encryption,
            **self.extra,
            "server_info": self.server_info.evidence() if self.server_info else None,
            "query_detail": self.query_detail,
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        return self.detail


class _Link:
    """One TDS conversation after the pre-login: plain, or through a TLS channel."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, clock: Stopwatch
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.clock = clock
        self.channel: TlsChannel | None = None

    def _left(self) -> float:
        return max(self.clock.remaining(), 0.001)

    async def send(self, message: bytes) -> None:
        if self.channel is not None:
            await self.channel.send(message, timeout=self._left())
            return
        self.writer.write(message)
        await asyncio.wait_for(self.writer.drain(), timeout=self._left())

    async def receive(self) -> bytes:
        if self.channel is not None:
            return (await self.channel.receive(timeout=self._left(), max_bytes=MAX_REPLY)).payload
        message = await tds.read_message(self.reader, max_bytes=MAX_REPLY, timeout=self._left())
        return message.payload


async def probe_login(
    address: str,
    port: int,
    *,
    user: str,
    password: Secret | None,
    database: str | None = None,
    timeout: float,
    host_name: str = "sqlreach",
    server_name: str | None = None,
    query: bool = True,
) -> LoginResult:
    """Log in with TDS 7.4, read every token the server sends back, then (after a good login)
    run the diagnostic query of `serverinfo` on the same connection."""
    clock = Stopwatch(timeout)
    secret = password.reveal() if password is not None else ""

    def result(
        status: LoginStatus,
        detail: str,
        reply: _Reply | None = None,
        info: ServerInfo | None = None,
        query_detail: str | None = None,
    ) -> LoginResult:
        got = reply or _Reply()
        return LoginResult(
            address,
            port,
            user,
            status,
            redact(detail, secret),
            timeout,
            clock.elapsed_ms(),
            got.messages,
            got.server_program,
            got.database,
            got.encryption,
            server_info=info,
            query_detail=query_detail,
        )

    try:
        reader, writer = await _open(address, port, clock)
    except (OSError, TimeoutError) as error:
        text = (
            f"no TCP answer within {timeout:g} s"
            if isinstance(error, TimeoutError)
            else describe_os_error(error).label()
        )
        return result(LoginStatus.ERROR, f"could not connect: {text}")
    link = _Link(reader, writer, clock)
    try:
        await link.send(
            tds.encode_message(
                tds.PacketType.PRELOGIN, prelogin.build_client_prelogin(encryption=Encryption.OFF)
            )
        )
        answer = prelogin.parse_prelogin(await link.receive())
        server = answer.encryption if answer.encryption is not None else Encryption.NOT_SUP
        packet = login7.build_login7(
            user=user,
            password=secret,
            database=database,
            host_name=host_name,
            server_name=server_name or address,
        )
        message = tds.encode_message(tds.PacketType.LOGIN7, packet)
        if server is Encryption.NOT_SUP:
            encryption = "none"
        else:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # certificates are judged by the TLS step
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            link.channel = await client_tls(
                reader,
                writer,
                context=context,
                server_hostname=None,
                timeout=max(clock.remaining(), 0.001),
            )
            encryption = "login packet only" if server is Encryption.OFF else "whole connection"
        await link.send(message)
        if server is Encryption.OFF and link.channel is not None:
            link.channel.downgrade()  # login-only encryption: the reply comes in the clear
        status, text, parsed = _read_login_reply(await link.receive(), encryption)
    except TimeoutError:
        _close(writer)
        return result(LoginStatus.UNRESPONSIVE, f"no answer to the login within {timeout:g} s")
    except (asyncio.IncompleteReadError, ConnectionResetError):
        _close(writer)
        return result(LoginStatus.UNRESPONSIVE, "the server closed the connection during the login")
    except (WireError, ssl.SSLError) as error:
        _close(writer)
        return result(LoginStatus.ERROR, f"the login could not be completed: {_short(error)}")
    except OSError as error:
        _close(writer)
        return result(LoginStatus.ERROR, describe_os_error(error).label())
    if status is not LoginStatus.OK or not query:
        _close(writer)
        return result(status, text, parsed)
    try:
        info, query_detail = await _diagnostic_query(link, parsed.tds_version)
    finally:
        _close(writer)
    return result(status, text, parsed, info, query_detail)


def sql_batch(text: str, *, tds_version: int = login7.TDS74) -> bytes:
    """A SQL_BATCH payload: ALL_HEADERS with an auto-commit transaction descriptor (TDS 7.2 and
    later), then the text in UTF-16LE."""
    body = text.encode("utf-16-le")
    if not login7.at_least_72(tds_version):
        return body
    header = struct.pack("<IHQI", 18, 2, 0, 1)  # length, type 2: transaction descriptor
    return struct.pack("<I", 4 + len(header)) + header + body


async def _diagnostic_query(link: _Link, tds_version: int) -> tuple[ServerInfo | None, str | None]:
    """Never fails the login: what went wrong with the query is told, not raised."""
    try:
        await link.send(
            tds.encode_message(
                tds.PacketType.SQL_BATCH, sql_batch(serverinfo.QUERY, tds_version=tds_version)
            )
        )
        reply = tokens.parse_tokens(await link.receive(), tds_version=tds_version)
    except TimeoutError:
        return None, "the diagnostic query got no answer in time"
    except (WireError, ssl.SSLError, OSError, asyncio.IncompleteReadError) as error:
        return None, f"the diagnostic query failed: {_short(error)}"
    columns: tuple[str, ...] = ()
    for token in reply:
        if isinstance(token, tokens.ColMetadata):
            columns = tuple(column.name for column in token.columns)
        elif isinstance(token, tokens.Row) and columns:
            return ServerInfo.from_row(columns, token.values), None
    errors = [t for t in reply if isinstance(t, tokens.ServerMessage) and t.kind == "error"]
    if errors:
        first = errors[0]
        return None, f"the diagnostic query failed: error {first.number}: {first.message}"
    return None, "the diagnostic query returned no row"


@dataclass(frozen=True)
class _Reply:
    messages: tuple[tokens.ServerMessage, ...] = ()
    server_program: str | None = None
    database: str | None = None
    encryption: str | None = None
    tds_version: int = login7.TDS74


def _read_login_reply(payload: bytes, encryption: str) -> tuple[LoginStatus, str, _Reply]:
    parsed = tokens.parse_tokens(payload)
    messages = tuple(t for t in parsed if isinstance(t, tokens.ServerMessage))
    acks = [t for t in parsed if isinstance(t, tokens.LoginAck)]
    errors = [m for m in messages if m.kind == "error"]
    databases = [
        str(t.new)
        for t in parsed
        if isinstance(t, tokens.EnvChange) and t.type == tokens.ENV_DATABASE
    ]
    reply = _Reply(
        messages,
        acks[0].prog_name if acks else None,
        databases[-1] if databases else None,
        encryption,
        acks[0].tds_version if acks else login7.TDS74,
    )
    if acks:
        return (
            LoginStatus.OK,
            f"logged in ({acks[0].prog_name}); database {reply.database or 'default'}",
            reply,
        )
    database_error = next((m for m in errors if m.number == 4060), None)
    if database_error is not None:
        text = f"error 4060: {database_error.message}"
        if any(m.number == 18456 for m in errors):
            text += " (drivers show only the 18456 that follows it)"
        return LoginStatus.DATABASE, text, reply
    if errors:
        first = errors[0]
        return (
            LoginStatus.FAILED,
            f"error {first.number}, state {first.state}: {first.message}",
            reply,
        )
    return (
        LoginStatus.ERROR,
        "the server answered the login with neither LOGINACK nor an error",
        reply,
    )
