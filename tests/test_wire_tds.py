"""TDS packet framing: headers, splitting and reassembly, lying lengths, and non-TDS answers."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.wire import tds
from tui.wire.errors import WireError
from tui.wire.tds import PacketType

# The FreeTDS PRELOGIN from wire-protocols.md (observed on the wire).
FREETDS_PRELOGIN = (
    bytes.fromhex(
        "12 01 00 3a 00 00 01 00"
        "00 00 1a 00 06 01 00 20 00 01 02 00 21 00 0c 03 00 2d 00 04 04 00 31 00 01 ff"
        "09 00 00 00 00 00 00"
    )
    + b"MSSQLServer\x00"
    + bytes.fromhex("27 1e 00 00 00")
)


def _reader(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


def test_packet_type_values() -> None:
    assert [
        int(t)
        for t in (
            PacketType.SQL_BATCH,
            PacketType.RPC,
            PacketType.REPLY,
            PacketType.ATTENTION,
            PacketType.TRANSACTION_MANAGER,
            PacketType.LOGIN7,
            PacketType.SSPI,
            PacketType.PRELOGIN,
        )
    ] == [1, 3, 4, 6, 14, 16, 17, 18]


def test_header_of_the_freetds_prelogin() -> None:
    header = tds.parse_header(FREETDS_PRELOGIN)
    assert header == tds.Header(PacketType.PRELOGIN, 0x01, 0x3A, 0, 1, 0)
    assert header.end_of_message
    assert header.encode() == FREETDS_PRELOGIN[:8]
    assert header.length == len(FREETDS_PRELOGIN)


async def test_freetds_prelogin_reads_as_one_message() -> None:
    message = await tds.read_message(_reader(FREETDS_PRELOGIN), timeout=1)
    assert message == tds.Message(PacketType.PRELOGIN, 0x01, FREETDS_PRELOGIN[8:])
    assert tds.encode_message(PacketType.PRELOGIN, message.payload) == FREETDS_PRELOGIN


def test_split_into_packets() -> None:
    payload = bytes(range(256)) * 10
    data = tds.encode_message(PacketType.SQL_BATCH, payload, packet_size=512, status_extra=0x08)
    headers = []
    offset = 0
    while offset < len(data):
        header = tds.parse_header(data[offset:])
        headers.append(header)
        offset += header.length
    assert [h.length for h in headers] == [512] * 5 + [8 + 2560 - 5 * 504]
    assert [h.packet_id for h in headers] == [1, 2, 3, 4, 5, 6]
    assert [h.status for h in headers] == [0x08] * 5 + [0x09]


def test_empty_message_is_one_header() -> None:
    assert tds.encode_message(PacketType.ATTENTION, b"") == bytes.fromhex("06 01 00 08 00 00 01 00")


def test_packet_size_bounds() -> None:
    for size in (511, 32_768):
        with pytest.raises(ValueError):
            tds.encode_message(PacketType.REPLY, b"x", packet_size=size)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x04\x01\x00", "8 bytes"),
        (bytes.fromhex("04 01 00 07 00 00 01 00"), "packet length 7"),
        (bytes.fromhex("04 01 80 01 00 00 01 00"), "packet length 32769"),
        (b"GET / HTTP/1.1\r\n", "0x47 is not a TDS packet type"),
    ],
)
def test_lying_headers(data: bytes, fragment: str) -> None:
    with pytest.raises(WireError, match=fragment):
        tds.parse_header(data)


async def test_reassembles_many_packets() -> None:
    payload = bytes(range(256)) * 40
    data = tds.encode_message(PacketType.REPLY, payload, packet_size=512)
    message = await tds.read_message(_reader(data), timeout=1)
    assert message.payload == payload
    assert message.type is PacketType.REPLY


async def test_oversize_message_is_refused() -> None:
    data = tds.encode_message(PacketType.REPLY, b"x" * 5000, packet_size=512)
    with pytest.raises(WireError, match="longer than 4096"):
        await tds.read_message(_reader(data), max_bytes=4096, timeout=1)


async def test_type_change_inside_a_message_is_refused() -> None:
    first = tds.encode_message(PacketType.REPLY, b"x" * 600, packet_size=512)[:512]
    second = tds.encode_message(PacketType.LOGIN7, b"y")
    with pytest.raises(WireError, match="type changed"):
        await tds.read_message(_reader(first + second), timeout=1)


async def test_lying_length_in_a_later_packet_names_its_offset() -> None:
    first = tds.encode_message(PacketType.REPLY, b"x" * 600, packet_size=512)[:512]
    with pytest.raises(WireError, match="at byte 514"):
        await tds.read_message(_reader(first + bytes.fromhex("04 01 00 02 00 00 02 00")), timeout=1)


async def test_eof_before_a_whole_message_is_incomplete_read() -> None:
    data = tds.encode_message(PacketType.REPLY, b"x" * 100)
    with pytest.raises(asyncio.IncompleteReadError):
        await tds.read_message(_reader(data[:50]), timeout=1)
    with pytest.raises(asyncio.IncompleteReadError):
        await tds.read_message(_reader(b""), timeout=1)


async def test_timeout_covers_the_whole_message() -> None:
    # A server that dribbles packets forever never completes a message: the timeout still ends it.
    reader = asyncio.StreamReader()
    packet = tds.encode_message(PacketType.REPLY, b"x" * 600, packet_size=512)[:512]

    async def dribble() -> None:
        while True:
            reader.feed_data(packet)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(dribble())
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(TimeoutError):
            await tds.read_message(reader, max_bytes=10**9, timeout=0.2)
    finally:
        task.cancel()
    assert loop.time() - started < 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "nothing"),
        (
            b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n",
            "HTTP server (HTTP/1.1 400 Bad Request)",
        ),
        (
            b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
            "SSH server (banner 'SSH-2.0-OpenSSH_9.2p1 Debian-2')",
        ),
        (bytes.fromhex("16 03 03 00 5d 02 00 00 59 03 03"), "TLS record (handshake)"),
        (bytes.fromhex("15 03 01 00 02 02 46"), "TLS record (alert)"),
        (
            b"220 mail.example ESMTP Postfix\r\n",
            "SMTP/FTP banner ('220 mail.example ESMTP Postfix')",
        ),
        (b"220-FileZilla Server\r\n", "SMTP/FTP banner ('220-FileZilla Server')"),
        (b"+OK POP3 ready\r\n", "POP3 banner ('+OK POP3 ready')"),
        (b"* OK IMAP4rev1\r\n", "IMAP banner ('* OK IMAP4rev1')"),
        (bytes.fromhex("4a 00 00 00 0a") + b"8.0.36\x00", "MySQL server (greeting)"),
        (bytes.fromhex("3f 00 01"), "other bytes: 3f 00 01"),
        (bytes(range(20)), "other bytes: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f ..."),
    ],
)
def test_classify_first_bytes(data: bytes, expected: str) -> None:
    assert tds.classify_first_bytes(data) == expected


@given(st.binary(max_size=40))
def test_classify_never_fails(data: bytes) -> None:
    assert tds.classify_first_bytes(data)


@given(
    st.sampled_from(list(PacketType)),
    st.binary(max_size=3000),
    st.integers(512, 2048),
    st.integers(0, 0xFE),
)
async def test_round_trip(ptype: PacketType, payload: bytes, size: int, extra: int) -> None:
    data = tds.encode_message(ptype, payload, packet_size=size, status_extra=extra)
    message = await tds.read_message(_reader(data), timeout=1)
    assert (message.type, message.payload) == (ptype, payload)
    assert message.status & ~0x01 == extra & ~0x01


@settings(max_examples=300)
@given(st.binary(max_size=2000))
async def test_arbitrary_bytes_raise_only_wire_or_incomplete(data: bytes) -> None:
    with contextlib.suppress(WireError):
        tds.parse_header(data)
    try:
        message = await tds.read_message(_reader(data), max_bytes=1000, timeout=1)
    except (WireError, asyncio.IncompleteReadError):
        return
    assert len(message.payload) <= 1000
