"""PRELOGIN (MS-TDS 2.2.6.5): the first message of every TDS connection, both directions.

The server's answer is the cheapest proof that SQL Server listens on a port: it carries the
product version and the encryption the server wants. `build_server_answer` follows the echo rule
that every client tried accepts (wire-protocols.md §2): the client's option ids in the client's
order, without FEDAUTHREQUIRED and NONCEOPT.

Byte order: offsets, lengths and the VERSION build/sub-build are big-endian; THREADID is read
little-endian, as FreeTDS writes its process id (the value only serves debugging).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Literal

from tui.wire.cursor import Cursor
from tui.wire.errors import WireError

VERSION: Final = 0x00
ENCRYPTION: Final = 0x01
INSTOPT: Final = 0x02
THREADID: Final = 0x03
MARS: Final = 0x04
TRACEID: Final = 0x05
FEDAUTHREQUIRED: Final = 0x06
NONCEOPT: Final = 0x07
TERMINATOR: Final = 0xFF

CLIENT_CERT_BIT: Final = 0x80
TRACEID_SIZE: Final = 36
NONCE_SIZE: Final = 32
_NOT_ECHOED: Final = frozenset({FEDAUTHREQUIRED, NONCEOPT})


class Encryption(IntEnum):
    OFF = 0x00
    ON = 0x01
    NOT_SUP = 0x02
    REQ = 0x03


_LEVELS: Final = frozenset(int(level) for level in Encryption)


@dataclass(frozen=True)
class Prelogin:
    """Either side's PRELOGIN. `instance` is the client's name (text up to its NUL);
    `instopt` the server's one-byte answer (0 match, 1 mismatch). A single 00 byte is both."""

    version: tuple[int, int, int, int] | None = None
    encryption: Encryption | None = None
    client_cert: bool = False
    instance: str | None = None
    instopt: int | None = None
    thread_id: int | None = None
    mars: bool | None = None
    trace_id: bytes | None = None
    fedauth_required: bool | None = None
    nonce: bytes | None = None
    options: tuple[int, ...] = ()


def build_client_prelogin(
    *,
    encryption: Encryption = Encryption.OFF,
    instance: str | None = "MSSQLServer",
    version: tuple[int, int, int, int] = (0x11, 0, 0, 0),
    thread_id: int = 0,
    mars: bool = False,
    client_cert: bool = False,
) -> bytes:
    """A client PRELOGIN payload (not framed): VERSION, ENCRYPTION, INSTOPT, THREADID, MARS."""
    name = b"" if instance is None else instance.encode("ascii", errors="replace")
    if b"\x00" in name:
        raise WireError("the instance name contains a NUL character")
    options = [
        (VERSION, _version_bytes(version)),
        (ENCRYPTION, bytes([int(encryption) | (CLIENT_CERT_BIT if client_cert else 0)])),
        (INSTOPT, name + b"\x00"),
        (THREADID, struct.pack("<I", thread_id & 0xFFFFFFFF)),
        (MARS, b"\x01" if mars else b"\x00"),
    ]
    return _encode(options)


def build_server_answer(
    client: Prelogin,
    *,
    version: tuple[int, int, int, int],
    encryption: Encryption,
    instance_ok: bool = True,
) -> bytes:
    """The server's answer by the echo rule (VERSION and ENCRYPTION are always present)."""
    data = {
        VERSION: _version_bytes(version),
        ENCRYPTION: bytes([int(encryption)]),
        INSTOPT: b"\x00" if instance_ok else b"\x01",
        THREADID: b"",
        MARS: b"\x00",
        TRACEID: b"",
    }
    order = [token for token in client.options if token in data]
    if VERSION not in order:
        order.insert(0, VERSION)
    if ENCRYPTION not in order:
        order.insert(order.index(VERSION) + 1, ENCRYPTION)
    return _encode([(token, data[token]) for token in order])


def _version_bytes(version: tuple[int, int, int, int]) -> bytes:
    major, minor, build, subbuild = version
    try:
        return struct.pack(">BBHH", major, minor, build, subbuild)
    except struct.error:
        raise WireError(f"version {version} does not fit u8.u8.u16.u16") from None


def _encode(options: list[tuple[int, bytes]]) -> bytes:
    table = bytearray()
    data = bytearray()
    start = 5 * len(options) + 1
    for token, value in options:
        table += struct.pack(">BHH", token, start + len(data), len(value))
        data += value
    if start + len(data) > 0xFFFF:
        raise WireError("the PRELOGIN is longer than its u16 offsets can address")
    return bytes(table) + bytes([TERMINATOR]) + bytes(data)


def parse_prelogin(payload: bytes) -> Prelogin:
    """Either side's PRELOGIN payload. Unknown option ids are kept in `options` and skipped."""
    cursor = Cursor(payload, "PRELOGIN")
    entries: list[tuple[int, int, int, int]] = []  # token, offset, length, table position
    while True:
        position = cursor.offset
        token = cursor.u8("option token")
        if token == TERMINATOR:
            break
        offset = cursor.u16be("option offset")
        length = cursor.u16be("option length")
        if offset + length > len(payload):
            raise WireError(
                f"PRELOGIN option 0x{token:02x} points at bytes {offset}..{offset + length} "
                f"of a {len(payload)}-byte payload",
                position,
            )
        if any(token == seen for seen, *_ in entries):
            raise WireError(f"PRELOGIN option 0x{token:02x} appears twice", position)
        entries.append((token, offset, length, position))
    version: tuple[int, int, int, int] | None = None
    encryption: Encryption | None = None
    client_cert = False
    instance: str | None = None
    instopt: int | None = None
    thread_id: int | None = None
    mars: bool | None = None
    trace_id: bytes | None = None
    fedauth: bool | None = None
    nonce: bytes | None = None
    for token, offset, length, position in entries:
        value = payload[offset : offset + length]
        if token == VERSION:
            _need(token, length, (6,), position)
            major, minor, build, subbuild = struct.unpack(">BBHH", value)
            version = (major, minor, build, subbuild)
        elif token == ENCRYPTION:
            _need(token, length, (1,), position)
            level = value[0] & ~CLIENT_CERT_BIT
            if level not in _LEVELS:
                raise WireError(f"encryption value 0x{value[0]:02x} is unknown", offset)
            encryption = Encryption(level)
            client_cert = bool(value[0] & CLIENT_CERT_BIT)
        elif token == INSTOPT:
            if length == 1:
                instopt = value[0]
            if value.endswith(b"\x00"):
                instance = value[: value.index(b"\x00")].decode("ascii", errors="replace")
        elif token == THREADID:
            _need(token, length, (0, 4), position)
            if length == 4:
                thread_id = int.from_bytes(value, "little")
        elif token == MARS:
            _need(token, length, (0, 1), position)
            if length == 1:
                if value[0] > 1:
                    raise WireError(f"MARS value 0x{value[0]:02x} is neither 0 nor 1", offset)
                mars = bool(value[0])
        elif token == TRACEID:
            _need(token, length, (0, TRACEID_SIZE), position)
            trace_id = value or None
        elif token == FEDAUTHREQUIRED:
            _need(token, length, (0, 1), position)
            fedauth = bool(value[0]) if length else None
        elif token == NONCEOPT:
            _need(token, length, (0, NONCE_SIZE), position)
            nonce = value or None
    return Prelogin(
        version=version,
        encryption=encryption,
        client_cert=client_cert,
        instance=instance,
        instopt=instopt,
        thread_id=thread_id,
        mars=mars,
        trace_id=trace_id,
        fedauth_required=fedauth,
        nonce=nonce,
        options=tuple(token for token, *_ in entries),
    )


def parse_server_answer(payload: bytes) -> Prelogin:
    """A server's PRELOGIN answer: as `parse_prelogin`, and VERSION must be there.

    Every SQL Server puts VERSION first in its answer: every real answer in
    tests/corpus/wire_bytes.toml has it (SQL Server 2008 SP1 to 2017, a 2012 capture, tedious's
    2008 SP2 debug output), and the echo rule of wire-protocols.md §2 keeps it. An answer
    without it is not SQL Server's."""
    answer = parse_prelogin(payload)
    if answer.version is None:
        raise WireError("the pre-login answer has no VERSION option, which every SQL Server sends")
    return answer


def _need(token: int, length: int, allowed: tuple[int, ...], position: int) -> None:
    if length not in allowed:
        sizes = " or ".join(str(size) for size in allowed)
        raise WireError(
            f"PRELOGIN option 0x{token:02x} is {length} bytes long; it should be {sizes}",
            position,
        )


# ------------------------------------------------------------------------------------------
# encryption negotiation and product names


Side = Literal["client", "server"]


@dataclass(frozen=True)
class Negotiation:
    """What a server answers to a client's ENCRYPTION, and whether the connection survives."""

    client: Encryption
    server: Encryption
    result: Encryption
    ends: bool
    ended_by: Side | None

    @property
    def login_only(self) -> bool:
        """Only the LOGIN7 packet is encrypted (both sides said OFF)."""
        return self.result is Encryption.OFF and not self.ends

    @property
    def encrypted(self) -> bool:
        return self.result in (Encryption.ON, Encryption.REQ) and not self.ends


_E = Encryption
# (client, server setting) -> (answer, who ends the connection); wire-protocols.md §2.
NEGOTIATION_TABLE: Final[dict[tuple[Encryption, Encryption], tuple[Encryption, Side | None]]] = {
    (_E.OFF, _E.OFF): (_E.OFF, None),
    (_E.OFF, _E.ON): (_E.REQ, None),
    (_E.OFF, _E.NOT_SUP): (_E.NOT_SUP, None),
    (_E.ON, _E.OFF): (_E.ON, None),
    (_E.ON, _E.ON): (_E.ON, None),
    (_E.ON, _E.NOT_SUP): (_E.NOT_SUP, "client"),
    (_E.NOT_SUP, _E.OFF): (_E.NOT_SUP, None),
    (_E.NOT_SUP, _E.ON): (_E.REQ, "server"),
    (_E.NOT_SUP, _E.NOT_SUP): (_E.NOT_SUP, None),
    (_E.REQ, _E.OFF): (_E.ON, None),
    (_E.REQ, _E.ON): (_E.ON, None),
    (_E.REQ, _E.NOT_SUP): (_E.NOT_SUP, "client"),
}


def negotiate(client: Encryption, server: Encryption) -> Negotiation:
    """`server` is the server's setting: OFF (login-only TLS), ON (forced), NOT_SUP (no TLS).
    REQ is taken as ON, since a server that answers REQ is one that forces encryption."""
    column = Encryption.ON if server is Encryption.REQ else server
    result, ended_by = NEGOTIATION_TABLE[(client, column)]
    return Negotiation(
        client=client,
        server=server,
        result=result,
        ends=ended_by is not None,
        ended_by=ended_by,
    )


_PRODUCTS: Final = {
    8: "SQL Server 2000",
    9: "SQL Server 2005",
    11: "SQL Server 2012",
    12: "SQL Server 2014",
    13: "SQL Server 2016",
    14: "SQL Server 2017",
    15: "SQL Server 2019",
    16: "SQL Server 2022",
    17: "SQL Server 2025",
}


def product_name(version: tuple[int, ...]) -> str:
    """'SQL Server 2019' for (15, 0, 2000, 5); 10.0 and 10.50 are 2008 and 2008 R2, other
    10.x were never on-premises products."""
    major = version[0] if version else 0
    minor = version[1] if len(version) > 1 else 0
    if (major, minor) == (10, 0):
        return "SQL Server 2008"
    if (major, minor) == (10, 50):
        return "SQL Server 2008 R2"
    return _PRODUCTS.get(major, f"SQL Server version {major}.{minor}")
