"""Hostile servers for tests: small asyncio servers on random loopback addresses (not the lab).

Each scenario is a context manager that serves on a thread of its own (its own event loop), so
the same server works for async probe tests, blocking clients, pilot tests of the wizard and
`sqlreach check` in a subprocess:

    with hostile.flood() as (address, port):
        result = await probe_prelogin(address, port, timeout=1.0)

TDS (TCP) scenarios answer the way a real SQL Server would up to the point where they turn
hostile: the pre-login answer is built by the echo rule every real client accepts, and TLS is
the one real SQL Server speaks under TDS 7.x (inside PRELOGIN packets, login packet only), with
a self-signed certificate made at test time. Browser (UDP) scenarios answer every datagram.

`TEXTS` holds the hostile strings (terminal escape sequences, Rich/Textual markup, HTML) the
scenarios carry in every field that reaches output; `python -m tests.hostile NAME` serves one
scenario until interrupted, for measuring by hand (`/usr/bin/time -v sqlreach check ...`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import socket
import ssl
import struct
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.netutil import random_loopback
from tui.wire import prelogin, tds, tokens
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption
from tui.wire.tlsbridge import TlsChannel, server_tls

Address = tuple[str, int]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

BROWSER_PORT: Final = 1434
SERVER_VERSION: Final = (16, 0, 1000, 6)  # SQL Server 2022 RTM, as a real answer carries it
LARGEST_DATAGRAM: Final = 65_507  # the largest UDP payload over IPv4
HEADER_ONLY: Final = tds.Header(tds.PacketType.REPLY, 0, tds.HEADER_SIZE).encode()
_IO_TIMEOUT: Final = 10.0  # how long a hostile server waits for a client that went quiet

# Hostile text: what a server can put in any string field that reaches output.
OSC52: Final = "\x1b]52;c;c3VkbyBybSAtcmYgLw==\x07"  # writes the clipboard ('sudo rm -rf /')
OSC2: Final = "\x1b]2;pwned title\x07"  # sets the terminal window's title
CSI: Final = "\x1b[2J\x1b[31;1m"  # clears the screen, then red bold
MARKUP: Final = "dev[/]ops [link=https://evil.invalid]click[/link] [bold red]x"
HTML: Final = "<script>alert(1)</script><img src=x onerror=alert(2)>"
TEXTS: Final = {"osc52": OSC52, "osc2": OSC2, "csi": CSI, "markup": MARKUP, "html": HTML}
EVERYTHING: Final = f"A{OSC52}B{OSC2}C{CSI}D{MARKUP}E{HTML}F\x9b1mG\x7fH"  # C1 CSI and DEL too


# ------------------------------------------------------------------------------------------
# serving on a thread of its own


@contextlib.contextmanager
def tcp_server(handler: Handler, *, address: str | None = None) -> Iterator[Address]:
    """Run `handler` for every TCP connection to a random loopback address."""
    where = address or random_loopback()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="hostile-tcp", daemon=True)
    thread.start()
    tasks: set[asyncio.Task[None]] = set()

    def spawn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = loop.create_task(_guarded(handler, reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def start() -> asyncio.Server:
        return await asyncio.start_server(spawn, where, 0)

    async def stop(server: asyncio.Server) -> None:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        server = asyncio.run_coroutine_threadsafe(start(), loop).result(_IO_TIMEOUT)
        try:
            yield where, server.sockets[0].getsockname()[1]
        finally:
            asyncio.run_coroutine_threadsafe(stop(server), loop).result(_IO_TIMEOUT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_IO_TIMEOUT)
        loop.close()


async def _guarded(
    handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """A client that goes away is the normal end of a hostile conversation."""
    try:
        await handler(reader, writer)
    except (
        ConnectionError,
        OSError,
        asyncio.IncompleteReadError,
        TimeoutError,
        ssl.SSLError,
        WireError,
    ):
        pass
    finally:
        writer.transport.abort()


@contextlib.contextmanager
def udp_server(
    answer: Callable[[bytes], bytes | None],
    *,
    address: str | None = None,
    port: int = BROWSER_PORT,
) -> Iterator[Address]:
    """Answer every datagram to `address:port` with `answer(request)` (None: stay silent).

    A plain socket, not asyncio: asyncio drops empty datagrams, and an empty answer is one of
    the hostile ones."""
    where = address or random_loopback()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * LARGEST_DATAGRAM)
    sock.bind((where, port))
    sock.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                request, peer = sock.recvfrom(LARGEST_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = answer(request)
            if reply is not None:
                with contextlib.suppress(OSError):
                    sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, name="hostile-udp", daemon=True)
    thread.start()
    try:
        yield where, sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(_IO_TIMEOUT)
        sock.close()


# ------------------------------------------------------------------------------------------
# what a well-behaved SQL Server does first


async def read_client_message(reader: asyncio.StreamReader) -> tds.Message:
    return await tds.read_message(reader, timeout=_IO_TIMEOUT)


async def answer_prelogin(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    encryption: Encryption = Encryption.OFF,
    version: tuple[int, int, int, int] = SERVER_VERSION,
) -> Encryption:
    """Read the client's PRELOGIN and answer it as SQL Server does; the negotiated result."""
    message = await read_client_message(reader)
    client = prelogin.parse_prelogin(message.payload)
    wanted = client.encryption if client.encryption is not None else Encryption.NOT_SUP
    result = prelogin.negotiate(wanted, encryption).result
    answer = prelogin.build_server_answer(client, version=version, encryption=result)
    writer.write(tds.encode_message(tds.PacketType.REPLY, answer))
    await writer.drain()
    return result


@dataclass
class LoginConversation:
    """The conversation after the LOGIN7 arrived: where to write the server's answer."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    channel: TlsChannel | None

    async def reply(self, payload: bytes) -> None:
        self.writer.write(tds.encode_message(tds.PacketType.REPLY, payload, spid=51))
        await self.writer.drain()

    def reset(self) -> None:
        reset(self.writer)


async def take_login(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    certificate: Certificate | None = None,
) -> LoginConversation:
    """Answer the pre-login with ENCRYPT_OFF (a default SQL Server: TLS for the login packet
    only), run TLS, read the LOGIN7, and fall back to plain TDS as SQL Server does."""
    result = await answer_prelogin(reader, writer, encryption=Encryption.OFF)
    channel: TlsChannel | None = None
    if result is not Encryption.NOT_SUP:
        context = (certificate or default_certificate()).server_context()
        channel = await server_tls(reader, writer, context=context, timeout=_IO_TIMEOUT)
        login = await channel.receive(timeout=_IO_TIMEOUT)
        if result is Encryption.OFF:
            channel.downgrade()
    else:
        login = await read_client_message(reader)
    if login.type != tds.PacketType.LOGIN7:
        raise ConnectionError(f"expected LOGIN7, got {login.type.name}")
    return LoginConversation(reader, writer, channel)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashing server or a proxy does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _hold(reader: asyncio.StreamReader) -> None:
    """Keep the connection open, reading and ignoring, until the client leaves."""
    while await reader.read(65_536):
        pass


# ------------------------------------------------------------------------------------------
# certificates


@dataclass(frozen=True)
class Certificate:
    cert_pem: bytes
    key_pem: bytes

    @property
    def der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(
            serialization.Encoding.DER
        )

    def server_context(self) -> ssl.SSLContext:
        """As SQL Server under TDS 7.x: at most TLS 1.2."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory(prefix="sqlreach-hostile-") as folder:
            cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        return context


def make_certificate(
    common_name: str = "SSL_Self_Signed_Fallback",
    *,
    dns_names: tuple[str, ...] = (),
    pad_to: int = 0,
) -> Certificate:
    """A self-signed certificate; `pad_to` grows it past that many bytes with DNS names."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    names = list(dns_names)
    filler = 0
    while pad_to and sum(len(n) + 4 for n in names) < pad_to:
        names.append(f"padding-{filler:06d}.{'x' * 40}.invalid")
        filler += 1
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    cert = builder.sign(key, hashes.SHA256())
    return Certificate(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@functools.cache
def default_certificate() -> Certificate:
    return make_certificate()


# ------------------------------------------------------------------------------------------
# TDS scenarios


def flood() -> contextlib.AbstractContextManager[Address]:
    """Answers the pre-login with header-only TDS packets that never end the message."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        chunk = HEADER_ONLY * 8192
        while True:
            writer.write(chunk)
            await writer.drain()

    return tcp_server(handler)


def slowloris(interval: float = 0.3) -> contextlib.AbstractContextManager[Address]:
    """Answers the pre-login correctly, one byte every `interval` seconds."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        message = await read_client_message(reader)
        client = prelogin.parse_prelogin(message.payload)
        answer = prelogin.build_server_answer(
            client, version=SERVER_VERSION, encryption=Encryption.OFF
        )
        for byte in tds.encode_message(tds.PacketType.REPLY, answer):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(interval)
        await _hold(reader)

    return tcp_server(handler)


def lying_length(
    *, claimed: int = 4096, sent: int = 20
) -> contextlib.AbstractContextManager[Address]:
    """A pre-login answer whose header promises `claimed` bytes; `sent` come, then silence."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_client_message(reader)
        header = tds.Header(tds.PacketType.REPLY, tds.STATUS_EOM, claimed).encode()
        writer.write(header + b"\x00" * (sent - tds.HEADER_SIZE))
        await writer.drain()
        await _hold(reader)

    return tcp_server(handler)


def short_length(*, claimed: int = 12) -> contextlib.AbstractContextManager[Address]:
    """A whole, valid pre-login answer behind a header that says it is only `claimed` bytes."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        message = await read_client_message(reader)
        client = prelogin.parse_prelogin(message.payload)
        answer = prelogin.build_server_answer(
            client, version=SERVER_VERSION, encryption=Encryption.OFF
        )
        header = tds.Header(tds.PacketType.REPLY, tds.STATUS_EOM, claimed).encode()
        writer.write(header + answer)
        await writer.drain()
        await _hold(reader)

    return tcp_server(handler)


def prelogin_answer(payload: bytes) -> contextlib.AbstractContextManager[Address]:
    """Answers the pre-login with `payload` in one well-framed REPLY packet."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_client_message(reader)
        writer.write(tds.encode_message(tds.PacketType.REPLY, payload))
        await writer.drain()
        await _hold(reader)

    return tcp_server(handler)


# ENCRYPTION at offset 11 (1 byte), INSTOPT at 12 (1 byte): a tidy answer, but no VERSION.
NO_VERSION: Final = bytes.fromhex("01 000b 0001 02 000c 0001 ff 02 00".replace(" ", ""))
# VERSION said to be at offset 0xf000, far past the 6-byte payload.
OFFSETS_PAST_END: Final = bytes.fromhex("00 f000 0006 ff".replace(" ", ""))


def prelogin_without_version() -> contextlib.AbstractContextManager[Address]:
    """A pre-login answer with ENCRYPTION and INSTOPT but no VERSION (SQL Server always sends
    VERSION: every real answer in tests/corpus/wire_bytes.toml has it)."""
    return prelogin_answer(NO_VERSION)


def prelogin_offsets_past_end() -> contextlib.AbstractContextManager[Address]:
    return prelogin_answer(OFFSETS_PAST_END)


LoginAnswer = Callable[[LoginConversation], Awaitable[None]]


def login_server(
    answer: LoginAnswer, *, certificate: Certificate | None = None
) -> contextlib.AbstractContextManager[Address]:
    """A SQL Server up to the LOGIN7 (pre-login, TLS for the login packet), then `answer`.
    Any later connection (the TLS probe's, a second login) is served the same way."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conversation = await take_login(reader, writer, certificate=certificate)
        await answer(conversation)
        await _hold(reader)

    return tcp_server(handler)


def reset_after_login7() -> contextlib.AbstractContextManager[Address]:
    """Resets the connection (RST) as soon as the LOGIN7 arrived."""

    async def answer(conversation: LoginConversation) -> None:
        conversation.reset()

    return login_server(answer)


GARBAGE: Final = b"\xde\xad\xbe\xef" + bytes(range(0x20, 0x7F)) * 4  # no TDS packet type


def garbage_after_login7(data: bytes = GARBAGE) -> contextlib.AbstractContextManager[Address]:
    """Answers the LOGIN7 with bytes that are not TDS."""

    async def answer(conversation: LoginConversation) -> None:
        conversation.writer.write(data)
        await conversation.writer.drain()

    return login_server(answer)


def login_error(
    message: str = f"Login failed for user 'sa'.{EVERYTHING}",
    *,
    number: int = 18456,
    server: str = f"SQLHOST01{OSC2}",
) -> contextlib.AbstractContextManager[Address]:
    """Rejects the login with an ERROR token (18456 by default) whose texts are hostile."""

    async def answer(conversation: LoginConversation) -> None:
        await conversation.reply(
            tokens.error(number, message, state=1, severity=14, server=server)
            + tokens.done(tokens.DONE_ERROR)
        )

    return login_server(answer)


def login_ack(
    *,
    prog_name: str = f"Microsoft SQL Server{OSC52}",
    database: str = f"master{CSI}{MARKUP}",
    info: str = f"Changed database context.{HTML}",
) -> contextlib.AbstractContextManager[Address]:
    """Accepts any login with a LOGINACK and ENVCHANGE whose values are hostile; answers the
    diagnostic query with nothing but DONE."""

    async def answer(conversation: LoginConversation) -> None:
        await conversation.reply(
            tokens.env_database(database, "master")
            + tokens.info(5701, info, state=2, severity=0, server=f"SQLHOST01{OSC2}")
            + tokens.login_ack(
                tds_version=0x74000004, prog_name=prog_name, prog_version=(16, 0, 1000)
            )
            + tokens.done(0)
        )
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            await read_client_message(conversation.reader)  # the diagnostic query
            await conversation.reply(tokens.done(0))

    return login_server(answer)


def certificate_server(certificate: Certificate) -> contextlib.AbstractContextManager[Address]:
    """A SQL Server presenting `certificate`; it rejects every login with a plain 18456."""

    async def answer(conversation: LoginConversation) -> None:
        await conversation.reply(
            tokens.error(18456, "Login failed for user 'sa'.", state=1, severity=14)
            + tokens.done(tokens.DONE_ERROR)
        )

    return login_server(answer, certificate=certificate)


def sql_server() -> contextlib.AbstractContextManager[Address]:
    """Not hostile: SQL Server 2022 as a default install answers (self-signed certificate,
    TLS for the login packet), rejecting every login with 18456: the honest one in a crowd."""
    return certificate_server(default_certificate())


def oversized_certificate(size: int = 150_000) -> contextlib.AbstractContextManager[Address]:
    """A certificate of more than `size` bytes (OpenSSL clients accept 100 KB by default)."""
    return certificate_server(make_certificate(pad_to=size))


def hostile_certificate() -> contextlib.AbstractContextManager[Address]:
    """Subject and SANs carrying escape sequences, markup and HTML."""
    return certificate_server(
        make_certificate(
            f"SQL{OSC52}"[:64],
            dns_names=(f"host{OSC2}.example", f"{CSI}x.example", MARKUP, HTML),
        )
    )


# ------------------------------------------------------------------------------------------
# Browser (UDP) scenarios


def browser(answer: bytes | None) -> contextlib.AbstractContextManager[Address]:
    """A Browser on UDP 1434 of a random loopback address that answers every request so."""
    return udp_server(lambda request: answer)


def browser_junk(size: int = LARGEST_DATAGRAM) -> contextlib.AbstractContextManager[Address]:
    """`size` bytes (64 KB by default) that are not SSRP."""
    junk = (b"JUNK" + bytes(range(256))) * (size // 260 + 1)
    return browser(junk[:size])


def svr_resp(text: str | bytes) -> bytes:
    """An SVR_RESP datagram around `text`, written as given (no check of its fields)."""
    body = text.encode("latin-1") if isinstance(text, str) else text
    return b"\x05" + struct.pack("<H", len(body)) + body


def instance_text(
    instance: str, port: int | None, *, server: str = "SQLHOST01", version: str = "16.0.1000.6"
) -> str:
    tcp = f"tcp;{port};" if port is not None else ""
    return f"ServerName;{server};InstanceName;{instance};IsClustered;No;Version;{version};{tcp};"


def browser_listing(
    ports: Iterator[int] | list[int] | tuple[int, ...], *, address: str | None = None
) -> contextlib.AbstractContextManager[Address]:
    """A Browser listing one instance per port (I1, I2, ...) of server H, as one datagram.
    The version is written as SQL Server 2000's Browser wrote it ('8.00.194', quoted in the
    corpus's notes), so that 855 instances fit the largest datagram."""
    text = "".join(
        instance_text(f"I{n}", port, server="H", version="8.00.194")
        for n, port in enumerate(ports, start=1)
    )
    return udp_server(lambda request: svr_resp(text), address=address)


def hostile_browser(port: int = 1433) -> contextlib.AbstractContextManager[Address]:
    """A Browser whose server name, instance name and version carry escapes, markup and HTML.

    SSRP splits fields on ';', so the OSC 52 in the server name spills over into a field of
    its own (as it would from a real hostile Browser); the instance still names `port`."""
    text = instance_text(
        f"SQL\x1b[2J{MARKUP}"[:32],
        port,
        server=f"HOST{OSC52}",
        version=f"16.0\x1b[31m{HTML}",
    )
    return browser(svr_resp(text))


# ------------------------------------------------------------------------------------------
# serving by hand

SCENARIOS: Final[dict[str, Callable[[], contextlib.AbstractContextManager[Address]]]] = {
    "flood": flood,
    "slowloris": slowloris,
    "lying-length": lying_length,
    "short-length": short_length,
    "no-version": prelogin_without_version,
    "offsets-past-end": prelogin_offsets_past_end,
    "reset-after-login7": reset_after_login7,
    "garbage-after-login7": garbage_after_login7,
    "login-error": login_error,
    "login-ack": login_ack,
    "oversized-certificate": oversized_certificate,
    "hostile-certificate": hostile_certificate,
    "browser-junk": browser_junk,
    "hostile-browser": hostile_browser,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in SCENARIOS:
        print(f"usage: python -m tests.hostile {{{','.join(SCENARIOS)}}}", file=sys.stderr)
        return 2
    with SCENARIOS[argv[0]]() as (address, port):
        print(f"{address},{port}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
