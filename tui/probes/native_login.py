"""The native LOGIN7: does the login work, and what does the server say?

It needs no ODBC driver, and reads every ERROR token the server sends, so a 4060 hidden behind
an 18456 is seen. After a good login it runs the diagnostic query of `serverinfo`.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from dataclasses import dataclass, field
from enum import StrEnum

from tui.probes import serverinfo
from tui.probes.base import Evidence, JsonValue, Stopwatch
from tui.probes.errors import describe_os_error
from tui.probes.serverinfo import ServerInfo
from tui.probes.tdsconn import MAX_REPLY, Received, abort, hex_preview, open_connection, short
from tui.secret import Secret, redact
from tui.wire import login7, prelogin, tds, tokens
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption
from tui.wire.tlsbridge import TlsChannel, client_tls


class LoginStatus(StrEnum):
    OK = "OK"
    FAILED = "FAILED"  # 18456 and relatives
    DATABASE = "DATABASE"  # 4060: the login works, the database cannot be opened
    UNRESPONSIVE = "UNRESPONSIVE"  # no (whole) answer to the login in time
    BROKEN = "BROKEN"  # the server reset or closed the connection instead of answering
    PROTOCOL = "PROTOCOL"  # the server answered the login with bytes that break TDS
    ERROR = "ERROR"  # TLS failed, or the connection failed before the login was sent


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
    answer_bytes: bytes = b""  # the first bytes of the server's answer to the login
    answer_count: int = 0  # how many bytes of it came
    routing: tokens.Routing | None = None  # the login answer sends the client on (type 20)

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
            "answer_first_bytes_hex": self.answer_bytes.hex(),
            "answer_bytes": self.answer_count,
            "routing": (
                {"host": self.routing.host, "port": self.routing.port} if self.routing else None
            ),
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        return self.detail


class _Link:
    """One TDS conversation after the pre-login: plain, or through a TLS channel. What the
    server sent for the latest message is in `received`, whatever went wrong with it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.channel: TlsChannel | None = None
        self.received = Received.from_reader(reader)

    def secure(self, channel: TlsChannel) -> None:
        self.channel = channel
        self.received = Received(channel.read_some)

    async def send(self, message: bytes) -> None:
        if self.channel is not None:
            await self.channel.send(message)
            return
        self.writer.write(message)
        await self.writer.drain()

    async def receive(self) -> bytes:
        self.received.start()
        message = await tds.read_message_with(self.received.read_exactly, max_bytes=MAX_REPLY)
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
    read_only: bool = False,
) -> LoginResult:
    """Log in with TDS 7.4, read every token the server sends back, then (after a good login)
    run the diagnostic query of `serverinfo` on the same connection. `read_only` sets LOGIN7's
    read-only intent (ApplicationIntent=ReadOnly). A login answered with a routing ENVCHANGE is
    not followed here: `routing` says where it was sent, and the diagnosis follows it."""
    clock = Stopwatch(timeout)
    secret = password.reveal() if password is not None else ""

    def result(
        status: LoginStatus,
        detail: str,
        reply: _Reply | None = None,
        info: ServerInfo | None = None,
        query_detail: str | None = None,
        answer: Received | None = None,
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
            answer_bytes=_scrub(bytes(answer.first), secret) if answer else b"",
            answer_count=answer.count if answer else 0,
            routing=got.routing,
        )

    try:
        reader, writer = await open_connection(address, port, clock)
    except (OSError, TimeoutError) as error:
        text = (
            f"no TCP answer within {timeout:g} s"
            if isinstance(error, TimeoutError)
            else describe_os_error(error).label()
        )
        return result(LoginStatus.ERROR, f"could not connect: {text}")
    link = _Link(reader, writer)
    login = _Progress()
    try:
        async with asyncio.timeout(clock.remaining()):  # one deadline for the whole exchange
            status, text, parsed = await _log_in(
                link,
                login,
                user,
                secret,
                database,
                host_name,
                server_name or address,
                clock,
                read_only=read_only,
            )
            if status is LoginStatus.OK and query and parsed.routing is None:
                # a routed login is over here: the client logs in again elsewhere
                info, query_detail = await _diagnostic_query(link, parsed.tds_version)
                return result(status, text, parsed, info, query_detail)
        return result(status, text, parsed)
    except TimeoutError:
        if login.answered is not None:  # the login worked; the query ran out of time
            status, text, parsed = login.answered
            return result(status, text, parsed, None, "the diagnostic query got no answer in time")
        if login.sent is None:
            return result(
                LoginStatus.UNRESPONSIVE,
                f"no answer to the pre-login or the TLS handshake within {timeout:g} s",
            )
        came = _came(link.received, login.sent)
        return result(
            LoginStatus.UNRESPONSIVE,
            f"no (whole) answer to the login within {timeout:g} s{came}",
            answer=link.received,
        )
    except (asyncio.IncompleteReadError, ConnectionResetError) as error:
        what = "reset" if isinstance(error, ConnectionResetError) else "closed"
        if login.sent is None:
            return result(
                LoginStatus.UNRESPONSIVE,
                f"the server {what} the connection before the login was sent",
            )
        return result(
            LoginStatus.BROKEN,
            f"the server {what} the connection instead of answering the login"
            f"{_came(link.received, login.sent)}",
            answer=link.received,
        )
    except WireError as error:
        if login.sent is None:
            return result(LoginStatus.ERROR, f"the login could not be completed: {short(error)}")
        return result(
            LoginStatus.PROTOCOL,
            f"the server answered the login with bytes that break the TDS protocol: "
            f"{short(error)}{_came(link.received, login.sent)}",
            answer=link.received,
        )
    except ssl.SSLError as error:
        return result(LoginStatus.ERROR, f"the login could not be completed: {short(error)}")
    except OSError as error:
        return result(LoginStatus.ERROR, describe_os_error(error).label())
    finally:
        abort(writer)


@dataclass
class _Progress:
    """How far the login got: when the LOGIN7 went out, and the answer once it is read."""

    sent: Stopwatch | None = None
    answered: tuple[LoginStatus, str, _Reply] | None = None


async def _log_in(
    link: _Link,
    progress: _Progress,
    user: str,
    secret: str,
    database: str | None,
    host_name: str,
    server_name: str,
    clock: Stopwatch,
    *,
    read_only: bool = False,
) -> tuple[LoginStatus, str, _Reply]:
    """PRELOGIN, TLS when the server offers it, LOGIN7 (with the read-only intent when asked),
    and the server's answer read."""
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
        server_name=server_name,
        read_only=read_only,
    )
    message = tds.encode_message(tds.PacketType.LOGIN7, packet)
    if server is Encryption.NOT_SUP:
        encryption = "none"
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # certificates are judged by the TLS step
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        channel = await client_tls(
            link.reader,
            link.writer,
            context=context,
            server_hostname=None,
            timeout=clock.remaining(),
        )
        link.secure(channel)
        encryption = "login packet only" if server is Encryption.OFF else "whole connection"
    await link.send(message)
    progress.sent = Stopwatch()
    if server is Encryption.OFF and link.channel is not None:
        link.channel.downgrade()  # login-only encryption: the reply comes in the clear
    progress.answered = _read_login_reply(await link.receive(), encryption)
    return progress.answered


def _came(received: Received, sent: Stopwatch) -> str:
    """', 3 ms after the login was sent, 0 bytes of an answer' and the first bytes seen."""
    said = f", {sent.elapsed_ms():.0f} ms after the login was sent; {received.count} byte(s) came"
    if received.count:
        said += f" (first bytes: {hex_preview(received.first)})"
    return said


def _scrub(data: bytes, secret: str) -> bytes:
    """A server that echoes the LOGIN7 back must not put the password into the evidence."""
    if not secret:
        return data
    for form in (secret.encode(), secret.encode("utf-16-le"), login7.obfuscate(secret)):
        data = data.replace(form, b"*" * len(form))
    return data


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
        return None, f"the diagnostic query failed: {short(error)}"
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
    routing: tokens.Routing | None = None


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
    routes = [t.routing for t in parsed if isinstance(t, tokens.EnvChange) and t.routing]
    reply = _Reply(
        messages,
        acks[0].prog_name if acks else None,
        databases[-1] if databases else None,
        encryption,
        acks[0].tds_version if acks else login7.TDS74,
        routes[-1] if routes else None,
    )
    if acks and reply.routing is not None:
        where = reply.routing
        return (
            LoginStatus.OK,
            f"logged in ({acks[0].prog_name}), and sent on: the answer routes the client to "
            f"{where.host} port {where.port}",
            reply,
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
