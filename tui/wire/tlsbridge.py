"""TLS the way TDS carries it, over asyncio streams, with `ssl.MemoryBIO` and `SSLObject`.

TDS 7.x: after PRELOGIN, the TLS handshake records travel as the payload of PRELOGIN (0x12)
packets; once it is done, TLS records run directly on the socket. When both sides said
ENCRYPT_OFF, only the LOGIN7 is encrypted and both sides fall back to plain TDS right after it
(`TlsChannel.downgrade`). SQL Server speaks at most TLS 1.2 in this mode; with TLS 1.3 the
server's session tickets arrive after the client finished, which breaks login-only encryption,
so a lab context for 7.x should cap the version at TLS 1.2 (or set `num_tickets = 0`).

TDS 8.0 (`Encrypt=strict`): TLS first, directly on TCP, with ALPN `tds/8.0`; PRELOGIN and
everything after it travel inside TLS.

TLS records are read one whole record at a time (5-byte header, then its length), so nothing
past the last record is taken from the socket: after a downgrade the next bytes are plain TDS.
Every operation has a timeout (`TimeoutError`); a peer that closes gives
`asyncio.IncompleteReadError`; TLS failures are `ssl.SSLError` (certificate problems
`ssl.SSLCertVerificationError`); bytes that are neither TLS nor TDS give `WireError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Final

from tui.wire import tds
from tui.wire.errors import WireError

ALPN_TDS8: Final = "tds/8.0"
RECORD_HEADER: Final = 5
MAX_RECORD: Final = 16_384 + 2_048  # TLSCiphertext.length limit (RFC 5246 6.2.3)
_CONTENT_TYPES: Final = frozenset({20, 21, 22, 23, 24})
_READ_CHUNK: Final = 65_536
HANDSHAKE_PACKET_SIZE: Final = 4096


class TlsChannel:
    """TDS messages over TLS (or over plain TDS again after `downgrade`)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        tls: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        *,
        timeout: float,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._tls = tls
        self._incoming = incoming
        self._outgoing = outgoing
        self._timeout = timeout
        self._plain = False
        self._buffer = bytearray()

    # -- what was negotiated --------------------------------------------------------------

    @property
    def peer_certificate_der(self) -> bytes | None:
        """The peer's certificate, also when it was not verified (CERT_NONE)."""
        return self._tls.getpeercert(binary_form=True)

    @property
    def version(self) -> str | None:
        return self._tls.version()

    @property
    def cipher(self) -> tuple[str, str, int] | None:
        return self._tls.cipher()

    @property
    def alpn(self) -> str | None:
        return self._tls.selected_alpn_protocol()

    @property
    def encrypted(self) -> bool:
        """False once `downgrade` went back to plain TDS."""
        return not self._plain

    # -- traffic --------------------------------------------------------------------------

    async def send(self, data: bytes, *, timeout: float | None = None) -> None:
        """Write bytes (usually whole encoded TDS messages) through the channel."""
        async with asyncio.timeout(self._timeout if timeout is None else timeout):
            if self._plain:
                self._writer.write(data)
            else:
                self._tls.write(data)
                self._flush_raw()
            await self._writer.drain()

    async def send_message(
        self,
        ptype: tds.PacketType,
        payload: bytes,
        *,
        packet_size: int = 4096,
        timeout: float | None = None,
    ) -> None:
        await self.send(
            tds.encode_message(ptype, payload, packet_size=packet_size), timeout=timeout
        )

    async def receive(
        self, *, timeout: float | None = None, max_bytes: int = tds.DEFAULT_MAX_MESSAGE
    ) -> tds.Message:
        """One whole TDS message, within `timeout` for all of it."""
        async with asyncio.timeout(self._timeout if timeout is None else timeout):
            return await tds.read_message_with(self._read_exactly, max_bytes=max_bytes)

    def downgrade(self) -> None:
        """Back to plain TDS on the same socket (login-only encryption, ENCRYPT_OFF)."""
        self._plain = True

    async def close(self, *, timeout: float | None = None) -> None:
        """Say close_notify when still encrypted, then close the socket; never raises."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._timeout if timeout is None else timeout):
                if not self._plain:
                    with contextlib.suppress(ssl.SSLError):
                        self._tls.unwrap()
                    self._flush_raw()
                    await self._writer.drain()
                self._writer.close()
                await self._writer.wait_closed()

    # -- internals ------------------------------------------------------------------------

    def _flush_raw(self) -> None:
        pending = self._outgoing.read()
        if pending:
            self._writer.write(pending)

    async def read_some(self) -> bytes:
        """The next bytes that came through the channel, however many (b"" once closed)."""
        try:
            if not self._buffer:
                await self._fill()
        except asyncio.IncompleteReadError:
            return b""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    async def _read_exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            await self._fill()
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    async def _fill(self) -> None:
        if self._plain:
            chunk = await self._reader.read(_READ_CHUNK)
            if not chunk:
                raise asyncio.IncompleteReadError(bytes(self._buffer), None)
            self._buffer += chunk
            return
        while True:
            try:
                data = self._tls.read(_READ_CHUNK)
            except ssl.SSLWantReadError:
                self._flush_raw()  # post-handshake messages may want an answer
                self._incoming.write(await read_record(self._reader))
                await asyncio.sleep(0)  # records that carry no data must not hog the loop
                continue
            except ssl.SSLZeroReturnError:
                raise asyncio.IncompleteReadError(bytes(self._buffer), None) from None
            if not data:
                raise asyncio.IncompleteReadError(bytes(self._buffer), None)
            self._buffer += data
            return


async def read_record(reader: asyncio.StreamReader) -> bytes:
    """Exactly one TLS record from the socket (WireError when the bytes are not TLS)."""
    header = await reader.readexactly(RECORD_HEADER)
    length = _check_record_header(header, 0)
    return header + await reader.readexactly(length)


def _check_record_header(header: bytes, offset: int) -> int:
    content, major, length = header[0], header[1], int.from_bytes(header[3:5], "big")
    if content not in _CONTENT_TYPES or major != 3:
        raise WireError(f"expected a TLS record, got {tds.classify_first_bytes(header)}", offset)
    if length > MAX_RECORD:
        raise WireError(f"TLS record length {length} is over {MAX_RECORD}", offset + 3)
    return length


def _missing(data: bytes) -> int:
    """How many more bytes complete the last TLS record in `data` (0 at a record boundary)."""
    position = 0
    while position < len(data):
        if len(data) - position < RECORD_HEADER:
            return RECORD_HEADER - (len(data) - position)
        end = position + RECORD_HEADER + _check_record_header(data[position:], position)
        if end > len(data):
            return end - len(data)
        position = end
    return 0


def _wrap(
    context: ssl.SSLContext, *, server_side: bool, server_hostname: str | None
) -> tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
    incoming = ssl.MemoryBIO()
    outgoing = ssl.MemoryBIO()
    tls = context.wrap_bio(
        incoming, outgoing, server_side=server_side, server_hostname=server_hostname
    )
    return tls, incoming, outgoing


async def _step(
    tls: ssl.SSLObject,
    outgoing: ssl.MemoryBIO,
    writer: asyncio.StreamWriter,
    frame: Callable[[bytes], bytes],
    *,
    raw_after_tls13: bool = False,
) -> bool:
    """One handshake step, and send what it produced (an alert too, before a failure is
    raised): True when the handshake is complete."""
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        done = False
    except ssl.SSLError:
        alert = outgoing.read()
        if alert:
            with contextlib.suppress(OSError):
                await _send(writer, frame(alert))
        raise
    else:
        done = True
    pending = outgoing.read()
    if pending:
        # A TLS 1.3 server finishes last: the client is already reading the bare socket.
        raw = done and raw_after_tls13 and tls.version() == "TLSv1.3"
        await _send(writer, pending if raw else frame(pending))
    return done


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    if data:
        writer.write(data)
        await writer.drain()


# ------------------------------------------------------------------------------------------
# TDS 7.x: the handshake inside PRELOGIN packets


async def client_tls(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    context: ssl.SSLContext,
    server_hostname: str | None,
    timeout: float,
) -> TlsChannel:
    """The client's TLS handshake after the PRELOGIN exchange, wrapped in PRELOGIN packets."""
    tls, incoming, outgoing = _wrap(context, server_side=False, server_hostname=server_hostname)
    async with asyncio.timeout(timeout):
        while True:
            # Until the handshake is over on both sides (with TLS 1.3 the client finishes
            # first), the client's records go wrapped, an alert about a bad certificate too.
            done = await _step(tls, outgoing, writer, _prelogin_packets)
            if done:
                break
            incoming.write((await _handshake_message(reader)).payload)
            await asyncio.sleep(0)
    return TlsChannel(reader, writer, tls, incoming, outgoing, timeout=timeout)


async def server_tls(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    context: ssl.SSLContext,
    timeout: float,
) -> TlsChannel:
    """The server's side of `client_tls`, for the lab: call it after answering the PRELOGIN."""
    tls, incoming, outgoing = _wrap(context, server_side=True, server_hostname=None)
    async with asyncio.timeout(timeout):
        while True:
            incoming.write((await _handshake_message(reader)).payload)
            if await _step(tls, outgoing, writer, _prelogin_packets, raw_after_tls13=True):
                break
    return TlsChannel(reader, writer, tls, incoming, outgoing, timeout=timeout)


def _prelogin_packets(records: bytes) -> bytes:
    return tds.encode_message(tds.PacketType.PRELOGIN, records, packet_size=HANDSHAKE_PACKET_SIZE)


async def _handshake_message(reader: asyncio.StreamReader) -> tds.Message:
    message = await tds.read_message_with(reader.readexactly, max_bytes=tds.DEFAULT_MAX_MESSAGE)
    if message.type not in (tds.PacketType.PRELOGIN, tds.PacketType.REPLY):
        raise WireError(f"a {message.type.name} message arrived during the TLS handshake")
    return message


# ------------------------------------------------------------------------------------------
# TDS 8.0 strict: TLS first


async def client_strict(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    context: ssl.SSLContext,
    server_hostname: str | None,
    timeout: float,
) -> TlsChannel:
    """TLS straight on the socket with ALPN tds/8.0 (set on `context`); PRELOGIN comes after,
    through the channel."""
    context.set_alpn_protocols([ALPN_TDS8])
    tls, incoming, outgoing = _wrap(context, server_side=False, server_hostname=server_hostname)
    async with asyncio.timeout(timeout):
        await _raw_handshake(reader, writer, tls, incoming, outgoing)
    return TlsChannel(reader, writer, tls, incoming, outgoing, timeout=timeout)


async def server_strict(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    context: ssl.SSLContext,
    timeout: float,
    initial: bytes = b"",
) -> TlsChannel:
    """The server's side of `client_strict`. `initial` is what the lab already read to see the
    0x16 of a ClientHello; the rest of that record is read here. ALPN tds/8.0 is offered (set on
    `context`); `TlsChannel.alpn` says whether the client asked for it."""
    context.set_alpn_protocols([ALPN_TDS8])
    tls, incoming, outgoing = _wrap(context, server_side=True, server_hostname=None)
    async with asyncio.timeout(timeout):
        data = bytes(initial)
        while missing := _missing(data):
            data += await reader.readexactly(missing)
        incoming.write(data)
        await _raw_handshake(reader, writer, tls, incoming, outgoing)
    return TlsChannel(reader, writer, tls, incoming, outgoing, timeout=timeout)


async def _raw_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    tls: ssl.SSLObject,
    incoming: ssl.MemoryBIO,
    outgoing: ssl.MemoryBIO,
) -> None:
    while not await _step(tls, outgoing, writer, bytes):
        incoming.write(await read_record(reader))
        await asyncio.sleep(0)  # a stream of tiny records must not hog the event loop
