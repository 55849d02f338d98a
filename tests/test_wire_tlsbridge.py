"""TLS carried by TDS, both sides of this module talking over a real loopback socket:
inside PRELOGIN packets (full and login-only), TDS 8 strict with ALPN, and the failures."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.wirecert import Certificate, make_certificate, server_context
from tui.wire import login7, prelogin, tds, tlsbridge, tokens
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption
from tui.wire.tds import PacketType

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def trusting_nothing() -> ssl.SSLContext:
    """What a probe uses to look at any certificate: no verification."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def serve(address: str, handler: Handler) -> AsyncIterator[tuple[int, list[Exception]]]:
    """A one-connection-at-a-time server on `address`; handler errors are collected."""
    errors: list[Exception] = []
    handlers: set[asyncio.Task[object]] = set()

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.add(task)
        try:
            await handler(reader, writer)
        except Exception as error:  # reported to the test
            errors.append(error)
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(guarded, address, 0)
    try:
        yield server.sockets[0].getsockname()[1], errors
    finally:
        server.close()
        for task in handlers:  # Python 3.12+ wait_closed waits for the handlers too
            task.cancel()
        await server.wait_closed()


async def answer_prelogin(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, encryption: Encryption
) -> prelogin.Prelogin:
    message = await tds.read_message(reader, timeout=TIMEOUT)
    client = prelogin.parse_prelogin(message.payload)
    writer.write(
        tds.encode_message(
            PacketType.REPLY,
            prelogin.build_server_answer(client, version=(16, 0, 1000, 6), encryption=encryption),
        )
    )
    await writer.drain()
    return client


LOGIN7_PAYLOAD = login7.build_login7(
    user="sa", password="Pa55w0rd!", database="master", host_name="ws", server_name="lab"
)
REPLY = tokens.env_database("master") + tokens.login_ack() + tokens.done(0)


async def client_prelogin(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, encryption: Encryption
) -> prelogin.Prelogin:
    writer.write(
        tds.encode_message(
            PacketType.PRELOGIN, prelogin.build_client_prelogin(encryption=encryption)
        )
    )
    await writer.drain()
    return prelogin.parse_prelogin((await tds.read_message(reader, timeout=TIMEOUT)).payload)


async def test_inside_prelogin_whole_connection(loopback: str, certificate: Certificate) -> None:
    seen: dict[str, object] = {}

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_prelogin(reader, writer, Encryption.ON)
        channel = await tlsbridge.server_tls(
            reader, writer, context=server_context(certificate), timeout=TIMEOUT
        )
        login = login7.parse_login7((await channel.receive()).payload)
        seen["user"], seen["password"] = login.user, login.password.reveal()
        await channel.send_message(PacketType.REPLY, REPLY)
        batch = await channel.receive()
        seen["batch"] = batch.payload
        await channel.send_message(
            PacketType.REPLY,
            tokens.result_set(["v"], [["16.0"]]) + tokens.done(tokens.DONE_COUNT, 1),
        )

    async with serve(loopback, server) as (port, errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        answer = await client_prelogin(reader, writer, Encryption.ON)
        assert answer.encryption is Encryption.ON
        channel = await tlsbridge.client_tls(
            reader, writer, context=trusting_nothing(), server_hostname=None, timeout=TIMEOUT
        )
        assert channel.peer_certificate_der == certificate.der
        assert channel.version == "TLSv1.2"
        assert channel.cipher is not None
        await channel.send(tds.encode_message(PacketType.LOGIN7, LOGIN7_PAYLOAD))
        reply = tokens.parse_tokens((await channel.receive()).payload)
        assert any(isinstance(t, tokens.LoginAck) for t in reply)
        await channel.send_message(PacketType.SQL_BATCH, "SELECT 1".encode("utf-16-le"))
        rows = tokens.parse_tokens((await channel.receive()).payload)
        assert rows[1] == tokens.Row(("16.0",))
        await channel.close()
    assert not errors
    assert seen == {"user": "sa", "password": "Pa55w0rd!", "batch": "SELECT 1".encode("utf-16-le")}


async def test_login_only_encryption_downgrades(loopback: str, certificate: Certificate) -> None:
    seen: dict[str, object] = {}

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_prelogin(reader, writer, Encryption.OFF)
        channel = await tlsbridge.server_tls(
            reader, writer, context=server_context(certificate), timeout=TIMEOUT
        )
        seen["password"] = login7.parse_login7((await channel.receive()).payload).password
        channel.downgrade()
        # After the login, plain TDS straight on the socket (not through the channel).
        writer.write(tds.encode_message(PacketType.REPLY, REPLY))
        await writer.drain()
        seen["batch"] = (await tds.read_message(reader, timeout=TIMEOUT)).payload

    async with serve(loopback, server) as (port, errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        assert (await client_prelogin(reader, writer, Encryption.OFF)).encryption is Encryption.OFF
        assert prelogin.negotiate(Encryption.OFF, Encryption.OFF).login_only
        channel = await tlsbridge.client_tls(
            reader, writer, context=trusting_nothing(), server_hostname=None, timeout=TIMEOUT
        )
        await channel.send_message(PacketType.LOGIN7, LOGIN7_PAYLOAD)
        channel.downgrade()
        assert not channel.encrypted
        reply = tokens.parse_tokens((await channel.receive()).payload)
        assert any(isinstance(t, tokens.LoginAck) for t in reply)
        await channel.send_message(PacketType.SQL_BATCH, b"plain")
        await asyncio.sleep(0.05)
    assert not errors
    assert seen["batch"] == b"plain"
    assert str(seen["password"]) == "********"


async def test_tls13_inside_prelogin_full_encryption(
    loopback: str, certificate: Certificate
) -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_prelogin(reader, writer, Encryption.ON)
        channel = await tlsbridge.server_tls(
            reader, writer, context=server_context(certificate, tls13=True), timeout=TIMEOUT
        )
        await channel.receive()
        await channel.send_message(PacketType.REPLY, REPLY)

    async with serve(loopback, server) as (port, errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        await client_prelogin(reader, writer, Encryption.ON)
        channel = await tlsbridge.client_tls(
            reader, writer, context=trusting_nothing(), server_hostname=None, timeout=TIMEOUT
        )
        assert channel.version == "TLSv1.3"
        await channel.send_message(PacketType.LOGIN7, LOGIN7_PAYLOAD)
        assert (await channel.receive()).payload == REPLY  # session tickets read on the way
    assert not errors


async def test_strict_mode_with_alpn(loopback: str, certificate: Certificate) -> None:
    seen: dict[str, object] = {}

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.readexactly(3)  # a lab sniffs 0x16 0x03 to tell TDS 8 from 7.x
        seen["first"] = first
        channel = await tlsbridge.server_strict(
            reader,
            writer,
            context=server_context(certificate, tls13=True),
            timeout=TIMEOUT,
            initial=first,
        )
        seen["alpn"] = channel.alpn
        client = prelogin.parse_prelogin((await channel.receive()).payload)
        await channel.send_message(
            PacketType.REPLY,
            prelogin.build_server_answer(
                client, version=(16, 0, 1000, 6), encryption=Encryption.NOT_SUP
            ),
        )
        seen["user"] = login7.parse_login7((await channel.receive()).payload).user
        await channel.send_message(PacketType.REPLY, REPLY)

    async with serve(loopback, server) as (port, errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        channel = await tlsbridge.client_strict(
            reader, writer, context=trusting_nothing(), server_hostname="lab", timeout=TIMEOUT
        )
        assert channel.alpn == "tds/8.0"
        assert channel.version == "TLSv1.3"
        assert channel.peer_certificate_der == certificate.der
        await channel.send_message(PacketType.PRELOGIN, prelogin.build_client_prelogin())
        answer = prelogin.parse_prelogin((await channel.receive()).payload)
        assert answer.version == (16, 0, 1000, 6)
        await channel.send_message(PacketType.LOGIN7, LOGIN7_PAYLOAD)
        assert (await channel.receive()).payload == REPLY
        await channel.close()
    assert not errors
    assert seen == {"first": b"\x16\x03\x01", "alpn": "tds/8.0", "user": "sa"}


async def test_untrusted_certificate_fails_verification(
    loopback: str, certificate: Certificate
) -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_prelogin(reader, writer, Encryption.ON)
        await tlsbridge.server_tls(
            reader, writer, context=server_context(certificate), timeout=TIMEOUT
        )

    async with serve(loopback, server) as (port, errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        await client_prelogin(reader, writer, Encryption.ON)
        checking = ssl.create_default_context()  # the system's CAs: a self-signed one fails
        with pytest.raises(ssl.SSLCertVerificationError, match="self-signed"):
            await tlsbridge.client_tls(
                reader, writer, context=checking, server_hostname="lab", timeout=TIMEOUT
            )
        writer.close()
        await asyncio.sleep(0.1)
    # The server heard the client's alert (it was sent inside a PRELOGIN packet).
    assert len(errors) == 1
    assert isinstance(errors[0], ssl.SSLError)
    assert "ALERT" in str(errors[0]).upper()


async def test_handshake_times_out_against_a_silent_server(loopback: str) -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_prelogin(reader, writer, Encryption.ON)
        await asyncio.sleep(10)

    async with serve(loopback, server) as (port, _errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        await client_prelogin(reader, writer, Encryption.ON)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            await tlsbridge.client_tls(
                reader, writer, context=trusting_nothing(), server_hostname=None, timeout=0.3
            )
        assert loop.time() - started < 2
        writer.close()


async def test_receive_times_out(loopback: str, certificate: Certificate) -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_prelogin(reader, writer, Encryption.ON)
        await tlsbridge.server_tls(
            reader, writer, context=server_context(certificate), timeout=TIMEOUT
        )
        await asyncio.sleep(10)

    async with serve(loopback, server) as (port, _errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        await client_prelogin(reader, writer, Encryption.ON)
        channel = await tlsbridge.client_tls(
            reader, writer, context=trusting_nothing(), server_hostname=None, timeout=TIMEOUT
        )
        with pytest.raises(TimeoutError):
            await channel.receive(timeout=0.2)
        writer.close()


async def test_a_server_that_closes_mid_handshake(loopback: str) -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_prelogin(reader, writer, Encryption.ON)
        await tds.read_message(reader, timeout=TIMEOUT)  # the ClientHello, then hang up

    async with serve(loopback, server) as (port, _errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        await client_prelogin(reader, writer, Encryption.ON)
        with pytest.raises(asyncio.IncompleteReadError):
            await tlsbridge.client_tls(
                reader, writer, context=trusting_nothing(), server_hostname=None, timeout=TIMEOUT
            )
        writer.close()


async def test_strict_client_against_plain_tds_gets_wire_error(loopback: str) -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.write(tds.encode_message(PacketType.REPLY, b"\x00" * 20))  # a 7.x server's reply
        await writer.drain()
        await asyncio.sleep(1)

    async with serve(loopback, server) as (port, _errors):
        reader, writer = await asyncio.open_connection(loopback, port)
        with pytest.raises(WireError, match="expected a TLS record"):
            await tlsbridge.client_strict(
                reader, writer, context=trusting_nothing(), server_hostname=None, timeout=TIMEOUT
            )
        writer.close()


async def test_strict_server_refuses_plain_tds(loopback: str, certificate: Certificate) -> None:
    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.readexactly(8)
        await tlsbridge.server_strict(
            reader, writer, context=server_context(certificate), timeout=TIMEOUT, initial=first
        )

    async with serve(loopback, server) as (port, errors):
        _reader, writer = await asyncio.open_connection(loopback, port)
        writer.write(tds.encode_message(PacketType.PRELOGIN, prelogin.build_client_prelogin()))
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
    assert len(errors) == 1 and isinstance(errors[0], WireError)


def test_missing_bytes_of_partial_records() -> None:
    record = b"\x16\x03\x01\x00\x05" + b"hello"
    assert tlsbridge._missing(b"") == 0
    assert tlsbridge._missing(record) == 0
    assert tlsbridge._missing(record[:3]) == 2
    assert tlsbridge._missing(record[:7]) == 3
    assert tlsbridge._missing(record + record[:1]) == 4
    with pytest.raises(WireError):
        tlsbridge._missing(b"GET / HTTP/1.1")
    with pytest.raises(WireError, match="over"):
        tlsbridge._missing(b"\x17\x03\x03\xff\xff")
