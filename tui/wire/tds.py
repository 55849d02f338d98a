"""TDS packets (MS-TDS 2.2.3): the 8-byte header, splitting a message into packets and
reassembling it, and naming what a port answered when the answer is not TDS at all.

`read_message` lets `asyncio.IncompleteReadError` through when the peer closes before a whole
message arrived (callers tell "closed" from "garbage" that way), raises `TimeoutError` when the
whole message does not arrive within `timeout`, and `WireError` for lying headers.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from tui.wire.errors import WireError

HEADER_SIZE: Final = 8
MAX_PACKET: Final = 32_768
MIN_PACKET_SIZE: Final = 512
MAX_PACKET_SIZE: Final = 32_767
DEFAULT_MAX_MESSAGE: Final = 1_048_576

STATUS_EOM: Final = 0x01
STATUS_IGNORE: Final = 0x02
STATUS_RESET_CONNECTION: Final = 0x08
STATUS_RESET_CONNECTION_SKIP_TRAN: Final = 0x10

_HEADER: Final = struct.Struct(">BBHHBB")


class PacketType(IntEnum):
    SQL_BATCH = 0x01
    RPC = 0x03
    REPLY = 0x04
    ATTENTION = 0x06
    BULK_LOAD = 0x07
    FEDAUTH_TOKEN = 0x08
    TRANSACTION_MANAGER = 0x0E
    LOGIN7 = 0x10
    SSPI = 0x11
    PRELOGIN = 0x12


_TYPES: Final = frozenset(int(t) for t in PacketType)


@dataclass(frozen=True)
class Header:
    type: PacketType
    status: int
    length: int
    spid: int = 0
    packet_id: int = 1
    window: int = 0

    @property
    def end_of_message(self) -> bool:
        return bool(self.status & STATUS_EOM)

    def encode(self) -> bytes:
        return _HEADER.pack(
            self.type, self.status, self.length, self.spid, self.packet_id, self.window
        )


@dataclass(frozen=True)
class Message:
    type: PacketType
    status: int
    payload: bytes


def parse_header(data: bytes) -> Header:
    """The header at the start of `data`; lengths under 8 or over 32,768 are lies."""
    if len(data) < HEADER_SIZE:
        raise WireError(f"a TDS header is 8 bytes, got {len(data)}", 0)
    kind, status, length, spid, packet_id, window = _HEADER.unpack_from(data, 0)
    if kind not in _TYPES:
        raise WireError(f"0x{kind:02x} is not a TDS packet type", 0)
    if length < HEADER_SIZE or length > MAX_PACKET:
        raise WireError(f"packet length {length} is outside 8..{MAX_PACKET}", 2)
    return Header(PacketType(kind), status, length, spid, packet_id, window)


def encode_message(
    ptype: PacketType | int,
    payload: bytes,
    *,
    packet_size: int = 4096,
    status_extra: int = 0,
    spid: int = 0,
) -> bytes:
    """The message as packets of at most `packet_size` bytes, end-of-message on the last."""
    if not MIN_PACKET_SIZE <= packet_size <= MAX_PACKET_SIZE:
        raise ValueError(f"packet size {packet_size} is outside {MIN_PACKET_SIZE}..32767")
    chunk = packet_size - HEADER_SIZE
    pieces = [payload[i : i + chunk] for i in range(0, len(payload), chunk)] or [b""]
    status = status_extra & ~STATUS_EOM
    out = bytearray()
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        out += _HEADER.pack(
            int(ptype),
            status | (STATUS_EOM if last else 0),
            HEADER_SIZE + len(piece),
            spid,
            (index + 1) % 256,
            0,
        )
        out += piece
    return bytes(out)


ReadExactly = Callable[[int], Awaitable[bytes]]

YIELD_EVERY: Final = 16  # packets read between two turns given to the event loop


def packet_limit(max_bytes: int) -> int:
    """How many packets a message of at most `max_bytes` may take.

    Every sender cuts a message into packets of its packet size, at least 512 bytes (504 of
    payload), so more packets than this are no message at all: a stream of header-only
    packets that never sets end-of-message would otherwise never reach the byte cap."""
    return max_bytes // (MIN_PACKET_SIZE - HEADER_SIZE) + 1


async def read_message_with(read_exactly: ReadExactly, *, max_bytes: int) -> Message:
    """Reassemble one message from any byte source (a socket, or TLS over one).

    The work per packet is bounded (no copy of what came before), the number of packets too
    (`packet_limit`), and the event loop gets a turn every few packets even when the bytes
    are already buffered, so the caller's deadline and a cancellation are seen at once."""
    payload = bytearray()
    first: Header | None = None
    offset = 0
    packets = 0
    limit = packet_limit(max_bytes)
    while True:
        packets += 1
        if packets > limit:
            raise WireError(
                f"more than {limit} packets without end-of-message for a message of at most "
                f"{max_bytes} bytes",
                offset,
            )
        if packets % YIELD_EVERY == 0:
            await asyncio.sleep(0)
        raw = await read_exactly(HEADER_SIZE)
        try:
            header = parse_header(raw)
        except WireError as error:
            raise WireError(error.what, offset + (error.offset or 0)) from None
        if first is None:
            first = header
        elif header.type != first.type:
            raise WireError(
                f"packet type changed from {first.type.name} to {header.type.name} "
                "inside one message",
                offset,
            )
        if len(payload) + header.length - HEADER_SIZE > max_bytes:
            raise WireError(f"the message is longer than {max_bytes} bytes", offset)
        payload += await read_exactly(header.length - HEADER_SIZE)
        offset += header.length
        if header.end_of_message:
            return Message(first.type, first.status, bytes(payload))


async def read_message(
    reader: asyncio.StreamReader,
    *,
    max_bytes: int = DEFAULT_MAX_MESSAGE,
    timeout: float,
) -> Message:
    """One whole message from `reader`, within `timeout` seconds for all its packets."""
    async with asyncio.timeout(timeout):
        return await read_message_with(reader.readexactly, max_bytes=max_bytes)


# ------------------------------------------------------------------------------------------
# what answered, when it was not TDS

_PREVIEW_BYTES: Final = 16
_BANNER_CHARS: Final = 60


def classify_first_bytes(data: bytes) -> str:
    """A few words on what a non-TDS answer looks like, for a person to read."""
    if not data:
        return "nothing"
    if data.startswith(b"HTTP/"):
        return f"HTTP server ({_first_line(data)})"
    if data.startswith(b"SSH-"):
        return f"SSH server (banner {_first_line(data)!r})"
    if len(data) >= 3 and data[1] == 0x03 and data[2] <= 0x04:
        if data[0] == 0x16:
            return "TLS record (handshake)"
        if data[0] == 0x15:
            return "TLS record (alert)"
    if len(data) >= 4 and data[:3].isdigit() and data[3:4] in (b" ", b"-"):
        return f"SMTP/FTP banner ({_first_line(data)!r})"
    if data.startswith(b"+OK"):
        return f"POP3 banner ({_first_line(data)!r})"
    if data.startswith(b"* OK"):
        return f"IMAP banner ({_first_line(data)!r})"
    if _looks_like_mysql(data):
        return "MySQL server (greeting)"
    preview = " ".join(f"{b:02x}" for b in data[:_PREVIEW_BYTES])
    more = " ..." if len(data) > _PREVIEW_BYTES else ""
    return f"other bytes: {preview}{more}"


def _first_line(data: bytes) -> str:
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    text = line.decode("ascii", errors="replace")
    return text if len(text) <= _BANNER_CHARS else text[: _BANNER_CHARS - 3] + "..."


def _looks_like_mysql(data: bytes) -> bool:
    """A MySQL greeting: 3-byte length, sequence 0, protocol version 10, a version string."""
    if len(data) < 6 or data[3] != 0 or data[4] != 10:
        return False
    length = int.from_bytes(data[:3], "little")
    return 0 < length < 1024 and data[5:6].isdigit()
