"""Reply tokens (MS-TDS 2.2.7): what a server says after the login and after a query.

Parsing covers what a login and a diagnostic query bring back: LOGINACK, ERROR/INFO, ENVCHANGE,
DONE*, and result sets of character, integer, bit, float, GUID and binary columns. ORDER,
RETURNSTATUS, FEATUREEXTACK, TABNAME, COLINFO, SSPI, SESSIONSTATE and FEDAUTHINFO are skipped by
their lengths; any other token is a `WireError`, since its length cannot be known.

Width changes between TDS versions: ERROR/INFO line numbers (u16 before 7.2) are told apart by the
token's own length; DONE row counts (u32 before 7.2) follow `tds_version`, the version a LOGINACK in
the same stream announced, or (a failed login has no LOGINACK) a 16-bit line number in an ERROR or
INFO before them, which only a server speaking TDS 7.1 or older sends.

Real servers pad LOGINACK's program name: 'Microsoft SQL Server' and two NUL characters (MS-TDS
4.4 and every capture in tests/corpus/wire_bytes.toml); the NULs are padding, not a name, and are
dropped when read. A routing ENVCHANGE (type 20) is read with or without the two-byte old value
after it (real Azure gateways send it, r2dbc-mssql issue 116; test tokens often leave it out).

The builders are for the lab: each returns one token's bytes, to be concatenated into a reply.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from tui.wire.cursor import Cursor
from tui.wire.errors import WireError
from tui.wire.login7 import TDS71, TDS74, at_least_72

COLMETADATA: Final = 0x81
TABNAME: Final = 0xA4
COLINFO: Final = 0xA5
ORDER: Final = 0xA9
ERROR: Final = 0xAA
INFO: Final = 0xAB
LOGINACK: Final = 0xAD
FEATUREEXTACK: Final = 0xAE
RETURNSTATUS: Final = 0x79
ROW: Final = 0xD1
NBCROW: Final = 0xD2
ENVCHANGE: Final = 0xE3
SESSIONSTATE: Final = 0xE4
SSPI: Final = 0xED
FEDAUTHINFO: Final = 0xEE
DONE: Final = 0xFD
DONEPROC: Final = 0xFE
DONEINPROC: Final = 0xFF

DONE_FINAL: Final = 0x00
DONE_MORE: Final = 0x01
DONE_ERROR: Final = 0x02
DONE_INXACT: Final = 0x04
DONE_COUNT: Final = 0x10
DONE_ATTN: Final = 0x20
DONE_SRVERROR: Final = 0x100

ENV_DATABASE: Final = 1
ENV_LANGUAGE: Final = 2
ENV_CHARSET: Final = 3
ENV_PACKET_SIZE: Final = 4
ENV_COLLATION: Final = 7
ENV_BEGIN_TRANSACTION: Final = 8
ENV_COMMIT_TRANSACTION: Final = 9
ENV_ROLLBACK_TRANSACTION: Final = 10
ENV_ROUTING: Final = 20
_ENV_TEXT: Final = frozenset({1, 2, 3, 4, 5, 6, 13, 19})
_ENV_BYTES: Final = frozenset({7, 8, 9, 10, 11, 12, 16, 17, 18})

# Type ids (MS-TDS 2.2.5.4)
NULLTYPE: Final = 0x1F
INT1: Final = 0x30
BIT: Final = 0x32
INT2: Final = 0x34
INT4: Final = 0x38
INT8: Final = 0x7F
FLT4: Final = 0x3B
FLT8: Final = 0x3E
GUID: Final = 0x24
INTN: Final = 0x26
BITN: Final = 0x68
FLTN: Final = 0x6D
BIGVARBINARY: Final = 0xA5
BIGVARCHAR: Final = 0xA7
BIGBINARY: Final = 0xAD
BIGCHAR: Final = 0xAF
NVARCHAR: Final = 0xE7
NCHAR: Final = 0xEF

_FIXED: Final = {NULLTYPE: 0, INT1: 1, BIT: 1, INT2: 2, INT4: 4, INT8: 8, FLT4: 4, FLT8: 8}
_BYTE_LEN: Final = frozenset({GUID, INTN, BITN, FLTN})
_SHORT_LEN: Final = frozenset({BIGVARBINARY, BIGVARCHAR, BIGBINARY, BIGCHAR, NVARCHAR, NCHAR})
_COLLATED: Final = frozenset({BIGVARCHAR, BIGCHAR, NVARCHAR, NCHAR})
_UNICODE: Final = frozenset({NVARCHAR, NCHAR})
PLP_MAX: Final = 0xFFFF
_PLP_NULL: Final = 0xFFFFFFFFFFFFFFFF
_NULL_SHORT: Final = 0xFFFF

# SQL_Latin1_General_CP1_CI_AS: LCID 0x0409, ignore case/kana/width, sort id 52.
DEFAULT_COLLATION: Final = bytes.fromhex("09 04 d0 00 34")
_UTF8_FLAG: Final = 1 << 26
# Code pages of the Windows collations by primary language (LCID & 0x3ff); the rest are 1252.
_CODE_PAGES: Final = {
    0x01: "cp1256",
    0x04: "cp936",
    0x05: "cp1250",
    0x08: "cp1253",
    0x0D: "cp1255",
    0x0E: "cp1250",
    0x11: "cp932",
    0x12: "cp949",
    0x15: "cp1250",
    0x19: "cp1251",
    0x1E: "cp874",
    0x1F: "cp1254",
    0x25: "cp1257",
    0x26: "cp1257",
    0x27: "cp1257",
    0x2A: "cp1258",
}

Value: TypeAlias = str | int | float | bool | bytes | None


@dataclass(frozen=True)
class LoginAck:
    interface: int
    tds_version: int
    prog_name: str
    prog_version: tuple[int, int, int]


@dataclass(frozen=True)
class ServerMessage:
    kind: Literal["error", "info"]
    number: int
    state: int
    severity: int
    message: str
    server: str
    procedure: str
    line: int


@dataclass(frozen=True)
class Routing:
    """Where a routing ENVCHANGE sends the client: log in again at `host`, TCP `port`."""

    host: str
    port: int


@dataclass(frozen=True)
class EnvChange:
    type: int
    new: str | bytes
    old: str | bytes
    routing: Routing | None = None  # type 20 only


@dataclass(frozen=True)
class Sspi:
    """An SSPI token: the server's next authentication message (an NTLM challenge)."""

    data: bytes


@dataclass(frozen=True)
class Done:
    kind: Literal["DONE", "DONEPROC", "DONEINPROC"]
    status: int
    curcmd: int
    rowcount: int

    @property
    def error(self) -> bool:
        return bool(self.status & DONE_ERROR)

    @property
    def more(self) -> bool:
        return bool(self.status & DONE_MORE)

    @property
    def attention(self) -> bool:
        return bool(self.status & DONE_ATTN)

    @property
    def has_count(self) -> bool:
        return bool(self.status & DONE_COUNT)


@dataclass(frozen=True)
class Column:
    name: str
    type_id: int
    size: int
    nullable: bool
    collation: bytes | None = None


@dataclass(frozen=True)
class ColMetadata:
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Row:
    values: tuple[Value, ...]


Token: TypeAlias = LoginAck | ServerMessage | EnvChange | Done | ColMetadata | Row | Sspi

_DONE_KINDS: Final[dict[int, Literal["DONE", "DONEPROC", "DONEINPROC"]]] = {
    DONE: "DONE",
    DONEPROC: "DONEPROC",
    DONEINPROC: "DONEINPROC",
}
_SKIP_U16: Final = frozenset({ORDER, TABNAME, COLINFO})
_SKIP_U32: Final = frozenset({SESSIONSTATE, FEDAUTHINFO})


# ------------------------------------------------------------------------------------------
# parsing


def parse_tokens(payload: bytes, *, tds_version: int = TDS74) -> tuple[Token, ...]:
    """Every token of a reply's payload, in order."""
    cursor = Cursor(payload, "token stream")
    out: list[Token] = []
    columns: tuple[Column, ...] | None = None
    version = tds_version
    while cursor.remaining:
        at = cursor.offset
        token = cursor.u8("token type")
        if token == LOGINACK:
            ack = _login_ack(_body(cursor, "LOGINACK"))
            version = ack.tds_version
            out.append(ack)
        elif token in (ERROR, INFO):
            message, wide = _message(_body(cursor, "ERROR" if token == ERROR else "INFO"), token)
            if not wide and not any(isinstance(t, LoginAck) for t in out):
                version = min(version, TDS71)  # only a pre-7.2 server writes a 16-bit line
            out.append(message)
        elif token == ENVCHANGE:
            change = _env_change(_body(cursor, "ENVCHANGE"))
            if change is not None:
                out.append(change)
        elif token in _DONE_KINDS:
            status = cursor.u16le("DONE status")
            curcmd = cursor.u16le("DONE curcmd")
            rows = (
                cursor.u64le("DONE rowcount")
                if at_least_72(version)
                else cursor.u32le("DONE rowcount")
            )
            out.append(Done(_DONE_KINDS[token], status, curcmd, rows))
        elif token == COLMETADATA:
            columns = _col_metadata(cursor, version)
            out.append(ColMetadata(columns))
        elif token in (ROW, NBCROW):
            if not columns:
                raise WireError("ROW without a COLMETADATA before it", at)
            out.append(Row(_row(cursor, columns, nbc=token == NBCROW)))
        elif token == SSPI:
            out.append(Sspi(cursor.take(cursor.u16le("SSPI length"), "SSPI data")))
        elif token in _SKIP_U16:
            cursor.skip(cursor.u16le("token length"), f"token 0x{token:02x}")
        elif token in _SKIP_U32:
            cursor.skip(cursor.u32le("token length"), f"token 0x{token:02x}")
        elif token == RETURNSTATUS:
            cursor.skip(4, "RETURNSTATUS value")
        elif token == FEATUREEXTACK:
            _skip_features(cursor)
        else:
            raise WireError(f"unknown token 0x{token:02x}", at)
    return tuple(out)


def _body(cursor: Cursor, what: str) -> Cursor:
    """A cursor over a u16-length-prefixed token body; the outer cursor moves past it."""
    length = cursor.u16le(f"{what} length")
    start = cursor.offset
    cursor.skip(length, f"{what} body")
    return Cursor(cursor.data, what, start=start, end=start + length)


def _done_with(body: Cursor) -> None:
    if body.remaining:
        raise WireError(f"{body.what}: {body.remaining} bytes left over", body.offset)


def _b_varchar(cursor: Cursor, field: str) -> str:
    return cursor.ucs2(cursor.u8(f"{field} length"), field)


def _login_ack(body: Cursor) -> LoginAck:
    interface = body.u8("interface")
    version = body.u32be("TDS version")
    name = _b_varchar(body, "program name").rstrip("\x00")  # real servers pad it with 2 NULs
    major, minor, hi, lo = body.take(4, "program version")
    _done_with(body)
    return LoginAck(interface, version, name, (major, minor, (hi << 8) | lo))


def _message(body: Cursor, token: int) -> tuple[ServerMessage, bool]:
    """The message, and whether its line number was the 4-byte one of TDS 7.2 and later."""
    number = body.i32le("number")
    state = body.u8("state")
    severity = body.u8("class")
    text = body.ucs2(body.u16le("message length"), "message")
    server = _b_varchar(body, "server name")
    procedure = _b_varchar(body, "procedure name")
    # The line number is u32 from TDS 7.2 on, u16 before: the token's length says which.
    width = body.remaining
    if width == 4:
        line = body.u32le("line number")
    elif width == 2:
        line = body.u16le("line number")
    else:
        raise WireError(
            f"{body.what}: {body.remaining} bytes where a 2- or 4-byte line number belongs",
            body.offset,
        )
    kind: Literal["error", "info"] = "error" if token == ERROR else "info"
    wide = width == 4
    return ServerMessage(kind, number, state, severity, text, server, procedure, line), wide


def _env_change(body: Cursor) -> EnvChange | None:
    kind = body.u8("type")
    if kind in _ENV_TEXT:
        new: str | bytes = _b_varchar(body, "new value")
        old: str | bytes = _b_varchar(body, "old value")
    elif kind in _ENV_BYTES:
        new = body.take(body.u8("new value length"), "new value")
        old = body.take(body.u8("old value length"), "old value")
    elif kind == ENV_ROUTING:
        size = body.u16le("routing data length")
        data = Cursor(body.data, "ENVCHANGE routing", start=body.offset, end=body.offset + size)
        body.skip(size, "routing data")
        if data.u8("protocol") != 0:
            raise WireError("ENVCHANGE routing to a protocol other than TCP", data.offset - 1)
        port = data.u16le("port")
        server = data.ucs2(data.u16le("server length"), "server")
        _done_with(data)
        new = f"{server},{port}"
        # the old value: two zero bytes in real Azure packets, absent in some test tokens
        old = body.take(body.u16le("old value length"), "old value") if body.remaining else b""
        _done_with(body)
        return EnvChange(kind, new, old, Routing(server, port))
    else:
        return None  # a change this tool has no use for; its length was already skipped
    _done_with(body)
    return EnvChange(kind, new, old)


def _skip_features(cursor: Cursor) -> None:
    while True:
        feature = cursor.u8("feature id")
        if feature == 0xFF:
            return
        cursor.skip(cursor.u32le("feature data length"), f"feature 0x{feature:02x} data")


def _col_metadata(cursor: Cursor, version: int) -> tuple[Column, ...]:
    count = cursor.u16le("column count")
    if count == 0xFFFF:
        return ()
    columns = []
    for index in range(count):
        if at_least_72(version):
            cursor.skip(4, f"column {index} user type")
        else:
            cursor.skip(2, f"column {index} user type")
        flags = cursor.u16le(f"column {index} flags")
        type_at = cursor.offset
        type_id = cursor.u8(f"column {index} type")
        collation = None
        if type_id in _FIXED:
            size = _FIXED[type_id]
        elif type_id in _BYTE_LEN:
            size = cursor.u8(f"column {index} size")
            _check_size(type_id, size, type_at)
        elif type_id in _SHORT_LEN:
            size = cursor.u16le(f"column {index} size")
            if type_id in _COLLATED:
                collation = cursor.take(5, f"column {index} collation")
        else:
            raise WireError(f"column {index} has type 0x{type_id:02x}, not supported", type_at)
        name = _b_varchar(cursor, f"column {index} name")
        columns.append(Column(name, type_id, size, bool(flags & 0x01), collation))
    return tuple(columns)


def _check_size(type_id: int, size: int, at: int) -> None:
    allowed = {GUID: (16,), INTN: (1, 2, 4, 8), BITN: (1,), FLTN: (4, 8)}[type_id]
    if size not in allowed:
        raise WireError(f"type 0x{type_id:02x} with size {size}", at)


def _row(cursor: Cursor, columns: tuple[Column, ...], *, nbc: bool) -> tuple[Value, ...]:
    nulls = cursor.take((len(columns) + 7) // 8, "NBCROW null bitmap") if nbc else b""
    values: list[Value] = []
    for index, column in enumerate(columns):
        if nbc and nulls[index // 8] >> (index % 8) & 1:
            values.append(None)
        else:
            values.append(_value(cursor, column))
    return tuple(values)


def _value(cursor: Cursor, column: Column) -> Value:
    kind = column.type_id
    field = f"value of {column.name or 'a column'}"
    at = cursor.offset
    if kind in _FIXED:
        return _scalar(kind, cursor.take(_FIXED[kind], field))
    if kind in _BYTE_LEN:
        size = cursor.u8(f"{field} length")
        if size == 0:
            return None
        _check_size(kind, size, at)
        raw = cursor.take(size, field)
        if kind == GUID:
            return str(uuid.UUID(bytes_le=raw))
        if kind == BITN:
            return bool(raw[0])
        if kind == FLTN:
            return float(struct.unpack("<f" if size == 4 else "<d", raw)[0])
        return int.from_bytes(raw, "little", signed=True)
    if column.size == PLP_MAX:
        raw_or_none = _plp(cursor, field)
        if raw_or_none is None:
            return None
        raw = raw_or_none
    else:
        size = cursor.u16le(f"{field} length")
        if size == _NULL_SHORT:
            return None
        raw = cursor.take(size, field)
    if kind in _UNICODE:
        return raw.decode("utf-16-le", errors="replace")
    if kind in _COLLATED:
        return raw.decode(_code_page(column.collation), errors="replace")
    return raw


def _scalar(kind: int, raw: bytes) -> Value:
    if kind == NULLTYPE:
        return None
    if kind == BIT:
        return bool(raw[0])
    if kind == INT1:
        return raw[0]
    if kind in (FLT4, FLT8):
        return float(struct.unpack("<f" if kind == FLT4 else "<d", raw)[0])
    return int.from_bytes(raw, "little", signed=True)


def _plp(cursor: Cursor, field: str) -> bytes | None:
    total = cursor.u64le(f"{field} PLP length")
    if total == _PLP_NULL:
        return None
    chunks = bytearray()
    while True:
        size = cursor.u32le(f"{field} PLP chunk length")
        if size == 0:
            return bytes(chunks)
        chunks += cursor.take(size, f"{field} PLP chunk")


def _code_page(collation: bytes | None) -> str:
    if not collation or len(collation) != 5:
        return "cp1252"
    info = int.from_bytes(collation[:4], "little")
    if info & _UTF8_FLAG:
        return "utf-8"
    if collation[4]:  # a SQL_ collation (sort id): nearly all in use are Latin1 / CP1252
        return "cp1252"
    return _CODE_PAGES.get(info & 0x3FF, "cp1252")


# ------------------------------------------------------------------------------------------
# builders (server side)


def _ucs2(text: str) -> bytes:
    return text.encode("utf-16-le", errors="surrogatepass")


def _b_varchar_bytes(text: str, field: str) -> bytes:
    raw = _ucs2(text)
    if len(raw) // 2 > 255:
        raise WireError(f"{field} is longer than 255 characters")
    return bytes([len(raw) // 2]) + raw


def _with_length(token: int, body: bytes, what: str) -> bytes:
    if len(body) > 0xFFFF:
        raise WireError(f"{what} would be {len(body)} bytes; its length is a u16")
    return struct.pack("<BH", token, len(body)) + body


PROGRAM_NAME: Final = "Microsoft SQL Server\x00\x00"  # as real servers send it (B_VARCHAR 22)


def login_ack(
    *,
    tds_version: int = TDS74,
    prog_name: str = PROGRAM_NAME,
    prog_version: tuple[int, int, int] = (16, 0, 1000),
    interface: int = 1,
) -> bytes:
    major, minor, build = prog_version
    body = (
        struct.pack(">BI", interface, tds_version)
        + _b_varchar_bytes(prog_name, "program name")
        + struct.pack(">BBH", major, minor, build)
    )
    return _with_length(LOGINACK, body, "LOGINACK")


def _server_message(
    token: int,
    number: int,
    message: str,
    *,
    state: int,
    severity: int,
    server: str,
    procedure: str,
    line: int,
    tds_version: int,
) -> bytes:
    text = _ucs2(message)
    body = (
        struct.pack("<iBBH", number, state, severity, len(text) // 2)
        + text
        + _b_varchar_bytes(server, "server name")
        + _b_varchar_bytes(procedure, "procedure name")
        + (struct.pack("<I", line) if at_least_72(tds_version) else struct.pack("<H", line))
    )
    return _with_length(token, body, "ERROR/INFO")


def error(
    number: int,
    message: str,
    *,
    state: int = 1,
    severity: int = 14,
    server: str = "",
    procedure: str = "",
    line: int = 1,
    tds_version: int = TDS74,
) -> bytes:
    """An ERROR token; the defaults are those of 18456 as clients see it (class 14, state 1)."""
    return _server_message(
        ERROR,
        number,
        message,
        state=state,
        severity=severity,
        server=server,
        procedure=procedure,
        line=line,
        tds_version=tds_version,
    )


def info(
    number: int,
    message: str,
    *,
    state: int = 1,
    severity: int = 0,
    server: str = "",
    procedure: str = "",
    line: int = 1,
    tds_version: int = TDS74,
) -> bytes:
    return _server_message(
        INFO,
        number,
        message,
        state=state,
        severity=severity,
        server=server,
        procedure=procedure,
        line=line,
        tds_version=tds_version,
    )


def _env_text(kind: int, new: str, old: str) -> bytes:
    body = bytes([kind]) + _b_varchar_bytes(new, "new value") + _b_varchar_bytes(old, "old value")
    return _with_length(ENVCHANGE, body, "ENVCHANGE")


def _env_bytes(kind: int, new: bytes, old: bytes) -> bytes:
    if len(new) > 255 or len(old) > 255:
        raise WireError("an ENVCHANGE value is longer than 255 bytes")
    body = bytes([kind, len(new)]) + new + bytes([len(old)]) + old
    return _with_length(ENVCHANGE, body, "ENVCHANGE")


def env_database(new: str, old: str = "") -> bytes:
    return _env_text(ENV_DATABASE, new, old)


def env_language(new: str, old: str = "") -> bytes:
    return _env_text(ENV_LANGUAGE, new, old)


def env_packet_size(new: int | str, old: int | str = "") -> bytes:
    return _env_text(ENV_PACKET_SIZE, str(new), str(old))


def env_collation(new: bytes = DEFAULT_COLLATION, old: bytes = b"") -> bytes:
    return _env_bytes(ENV_COLLATION, new, old)


def env_routing(host: str, port: int, *, old_value: bool = True) -> bytes:
    """ENVCHANGE type 20: log in again at `host`, TCP `port`. Real gateways add the two-byte
    old value (a zero length); `old_value=False` leaves it out, as some test tokens do."""
    if not 0 < port <= 0xFFFF:
        raise WireError(f"a routing port must be 1 to 65535, not {port}")
    name = _ucs2(host)
    if len(name) // 2 > 0xFFFF:
        raise WireError("a routing host name is longer than 65,535 characters")
    data = struct.pack("<BHH", 0, port, len(name) // 2) + name
    body = struct.pack("<BH", ENV_ROUTING, len(data)) + data
    if old_value:
        body += b"\x00\x00"
    return _with_length(ENVCHANGE, body, "ENVCHANGE")


def sspi(data: bytes) -> bytes:
    """An SSPI token: the server's next authentication message (an NTLM CHALLENGE)."""
    return _with_length(SSPI, data, "SSPI")


def env_begin_transaction(descriptor: bytes) -> bytes:
    return _env_bytes(ENV_BEGIN_TRANSACTION, descriptor, b"")


def env_commit_transaction(descriptor: bytes) -> bytes:
    return _env_bytes(ENV_COMMIT_TRANSACTION, b"", descriptor)


def env_rollback_transaction(descriptor: bytes) -> bytes:
    return _env_bytes(ENV_ROLLBACK_TRANSACTION, b"", descriptor)


def done(
    status: int,
    rowcount: int = 0,
    curcmd: int = 0,
    *,
    kind: Literal["DONE", "DONEPROC", "DONEINPROC"] = "DONE",
    tds_version: int = TDS74,
) -> bytes:
    token = {"DONE": DONE, "DONEPROC": DONEPROC, "DONEINPROC": DONEINPROC}[kind]
    count = struct.pack("<Q" if at_least_72(tds_version) else "<I", rowcount)
    return struct.pack("<BHH", token, status, curcmd) + count


NVARCHAR_CHARS: Final = 4000
CURCMD_SELECT: Final = 0xC1  # DONE's curcmd after a SELECT, as real servers send it


def result_set(
    columns: Sequence[str],
    rows: Sequence[Sequence[str | int | None]],
    *,
    tds_version: int = TDS74,
) -> bytes:
    """COLMETADATA and ROWs of named columns (impacket keys rows by name): INT (4 bytes, not
    nullable, as real servers describe `SELECT 1`) where the first row holds an int, else
    NVARCHAR(4000); the caller adds the DONE with DONE_COUNT."""
    if not columns:
        raise WireError("a result set needs at least one column")
    first = rows[0] if rows else ()
    ints = [index < len(first) and isinstance(first[index], int) for index in range(len(columns))]
    meta = bytearray(struct.pack("<BH", COLMETADATA, len(columns)))
    user_type = struct.pack("<I" if at_least_72(tds_version) else "<H", 0)
    for name, is_int in zip(columns, ints, strict=True):
        if is_int:
            meta += user_type + struct.pack("<HB", 0x0020, INT4)
        else:
            meta += user_type + struct.pack("<HBH", 0x0001, NVARCHAR, 2 * NVARCHAR_CHARS)
            meta += DEFAULT_COLLATION
        meta += _b_varchar_bytes(name, "column name")
    out = meta
    for row in rows:
        if len(row) != len(columns):
            raise WireError(f"a row has {len(row)} values for {len(columns)} columns")
        out += bytes([ROW])
        for value, is_int in zip(row, ints, strict=True):
            if is_int:
                if not isinstance(value, int):
                    raise WireError("an INT column holds a value that is not an int")
                out += struct.pack("<i", value)
                continue
            if value is None:
                out += struct.pack("<H", _NULL_SHORT)
                continue
            raw = _ucs2(str(value))
            if len(raw) > 2 * NVARCHAR_CHARS:
                raise WireError(f"a value is longer than {NVARCHAR_CHARS} characters")
            out += struct.pack("<H", len(raw)) + raw
    return bytes(out)
