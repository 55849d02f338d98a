"""LOGIN7 (MS-TDS 2.2.6.4): the client's login, built by the probes and read by the lab.

The fixed part is 86 bytes up to TDS 7.1 and 94 from 7.2 on (ChangePassword and cbSSPILong were
added); impacket sends 7.1 with the 94-byte layout, so a 7.1 login whose data starts at byte 94
or later is read with it too. The password is de-obfuscated straight into a `Secret`.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Final

from tui.secret import Secret
from tui.wire.cursor import Cursor
from tui.wire.errors import WireError

TDS70: Final = 0x70000000
TDS71: Final = 0x71000000  # what impacket sends (bytes 00 00 00 71)
TDS71_REV1: Final = 0x71000001
TDS72: Final = 0x72090002
TDS73A: Final = 0x730A0003
TDS73B: Final = 0x730B0003
TDS74: Final = 0x74000004
TDS80: Final = 0x08000000

FIXED_71: Final = 86
FIXED_72: Final = 94

# OptionFlags1..3 and TypeFlags bits that matter here.
USE_DB_ON: Final = 0x20
INIT_DB_FATAL: Final = 0x40
SET_LANG_ON: Final = 0x80
INIT_LANG_FATAL: Final = 0x01
ODBC_ON: Final = 0x02
INTEGRATED_SECURITY: Final = 0x80
READ_ONLY_INTENT: Final = 0x20
CHANGE_PASSWORD: Final = 0x01
EXTENSION: Final = 0x10

MAX_CHARS: Final = 128
MAX_ATTACH_CHARS: Final = 260
FEATURE_TERMINATOR: Final = 0xFF

_NAMES: Final = {
    TDS70: "7.0",
    TDS71: "7.1",
    TDS71_REV1: "7.1 Rev 1",
    TDS72: "7.2",
    TDS73A: "7.3A",
    TDS73B: "7.3B",
    TDS74: "7.4",
    TDS80: "8.0",
}


def version_name(value: int) -> str:
    """'7.4' for 0x74000004; the number in hex for versions no client is known to send."""
    return _NAMES.get(value, f"0x{value:08x}")


def at_least_72(value: int) -> bool:
    """Whether a TDS version has the 7.2 field widths (TDS 8.0 is numbered 0x08000000)."""
    return value >= 0x72000000 or value >> 24 == 0x08


def obfuscate(password: str) -> bytes:
    """UTF-16LE, then per byte: swap the nibbles, XOR 0xA5."""
    raw = password.encode("utf-16-le", errors="surrogatepass")
    return bytes((((b << 4) & 0xF0) | (b >> 4)) ^ 0xA5 for b in raw)


def deobfuscate(data: bytes) -> str:
    """Undo `obfuscate`: XOR 0xA5, swap the nibbles, decode UTF-16LE."""
    if len(data) % 2:
        raise WireError(f"an obfuscated password has an even length, this one {len(data)}")
    raw = bytes((((b ^ 0xA5) << 4) & 0xF0) | ((b ^ 0xA5) >> 4) for b in data)
    return raw.decode("utf-16-le", errors="surrogatepass")


@dataclass(frozen=True)
class Login7:
    tds_version: int
    packet_size: int
    client_prog_version: int
    client_pid: int
    connection_id: int
    option_flags1: int
    option_flags2: int
    type_flags: int
    option_flags3: int
    client_timezone: int
    client_lcid: int
    host_name: str
    user: str
    password: Secret
    app_name: str
    server_name: str
    library: str
    language: str
    database: str
    client_id: bytes
    sspi: bytes
    attach_db_file: str
    change_password: Secret
    features: tuple[int, ...] = ()

    @property
    def integrated(self) -> bool:
        return bool(self.option_flags2 & INTEGRATED_SECURITY)

    @property
    def read_only_intent(self) -> bool:
        return bool(self.type_flags & READ_ONLY_INTENT)

    @property
    def version_name(self) -> str:
        return version_name(self.tds_version)


def build_login7(
    *,
    user: str,
    password: str,
    database: str | None = None,
    host_name: str,
    app_name: str = "sqlreach",
    server_name: str,
    library: str = "sqlreach",
    language: str = "",
    tds_version: int = TDS74,
    packet_size: int = 4096,
    integrated: bool = False,
    sspi: bytes = b"",
    read_only: bool = False,
    client_pid: int | None = None,
    client_prog_version: int = 0x07000000,
) -> bytes:
    """A LOGIN7 payload (not framed). Field limits are checked without naming the password."""
    wide = at_least_72(tds_version)
    fixed = FIXED_72 if wide else FIXED_71
    texts = [
        ("host name", host_name, MAX_CHARS),
        ("user name", user, MAX_CHARS),
        ("password", password, MAX_CHARS),
        ("application name", app_name, MAX_CHARS),
        ("server name", server_name, MAX_CHARS),
    ]
    for what, value, limit in texts:
        if len(value) > limit:
            raise WireError(f"the {what} is {len(value)} characters; LOGIN7 allows {limit}")
    tail = [("library name", library), ("language", language), ("database", database or "")]
    for what, value in tail:
        if len(value) > MAX_CHARS:
            raise WireError(f"the {what} is {len(value)} characters; LOGIN7 allows {MAX_CHARS}")
    if len(sspi) > 0xFFFF and not wide:
        raise WireError("an SSPI blob over 65,535 bytes needs TDS 7.2 or later")

    data = bytearray()
    pairs: list[tuple[int, int]] = []

    def put(raw: bytes, count: int) -> None:
        pairs.append((fixed + len(data), count))
        data.extend(raw)

    def put_text(text: str) -> None:
        raw = text.encode("utf-16-le", errors="surrogatepass")
        put(raw, len(raw) // 2)

    put_text(host_name)
    put_text(user)
    hidden = obfuscate(password)
    put(hidden, len(hidden) // 2)
    put_text(app_name)
    put_text(server_name)
    put(b"", 0)  # extension (FeatureExt): none
    put_text(library)
    put_text(language)
    put_text(database or "")
    client_id = b"\x00" * 6
    sspi_at = fixed + len(data)
    data.extend(sspi)
    put_text("")  # attach DB file
    if wide:
        put_text("")  # change password
    total = fixed + len(data)
    if total > 0xFFFF:
        raise WireError(f"the LOGIN7 would be {total} bytes; its u16 offsets reach 65,535")

    flags2 = INIT_LANG_FATAL | ODBC_ON | (INTEGRATED_SECURITY if integrated else 0)
    out = bytearray()
    out += struct.pack(
        "<IIIIIIBBBBiI",
        total,
        0,  # TDSVersion is written below, little-endian as 4 bytes
        packet_size,
        client_prog_version,
        os.getpid() if client_pid is None else client_pid,
        0,
        USE_DB_ON | INIT_DB_FATAL | SET_LANG_ON,
        flags2,
        READ_ONLY_INTENT if read_only else 0,
        0,
        0,
        0x0409,
    )
    struct.pack_into("<I", out, 4, tds_version)
    for offset, count in pairs[:9]:
        out += struct.pack("<HH", offset, count)
    out += client_id
    out += struct.pack("<HH", sspi_at, min(len(sspi), 0xFFFF))
    for offset, count in pairs[9:]:
        out += struct.pack("<HH", offset, count)
    if wide:
        out += struct.pack("<I", len(sspi) if len(sspi) >= 0xFFFF else 0)
    assert len(out) == fixed
    return bytes(out + data)


_FIELDS: Final = (
    "host_name",
    "user",
    "password",
    "app_name",
    "server_name",
    "extension",
    "library",
    "language",
    "database",
)


def parse_login7(payload: bytes) -> Login7:
    """A client's LOGIN7 payload. Offsets and lengths that point outside it are lies."""
    head = Cursor(payload, "LOGIN7")
    length = head.u32le("Length")
    if length != len(payload):
        raise WireError(f"LOGIN7 Length says {length} but the message is {len(payload)} bytes", 0)
    tds_version = head.u32le("TDSVersion")
    if not (0x70 <= tds_version >> 24 <= 0x74 or tds_version >> 24 == 0x08):
        raise WireError(f"TDS version 0x{tds_version:08x} is not 7.0 to 8.0", 4)
    packet_size = head.u32le("PacketSize")
    prog_version = head.u32le("ClientProgVer")
    pid = head.u32le("ClientPID")
    connection_id = head.u32le("ConnectionID")
    flags1, flags2, type_flags, flags3 = (head.u8(name) for name in ("OF1", "OF2", "TF", "OF3"))
    timezone = head.i32le("ClientTimeZone")
    lcid = head.u32le("ClientLCID")
    pairs = [(head.u16le(f"ib{name}"), head.u16le(f"cch{name}")) for name in _FIELDS]
    client_id = head.take(6, "ClientID")
    sspi_at, sspi_len = head.u16le("ibSSPI"), head.u16le("cbSSPI")
    attach = (head.u16le("ibAtchDBFile"), head.u16le("cchAtchDBFile"))
    sizes = [(at, 2 * count) for at, count in pairs if count] + [(attach[0], 2 * attach[1])]
    if sspi_len:
        sizes.append((sspi_at, sspi_len))
    starts = [at for at, size in sizes if size]
    wide = at_least_72(tds_version) or (len(payload) >= FIXED_72 and min(starts or [0]) >= 94)
    change = (0, 0)
    sspi_long = 0
    if wide:
        change = (head.u16le("ibChangePassword"), head.u16le("cchChangePassword"))
        sspi_long = head.u32le("cbSSPILong")
    fixed = head.offset
    if sspi_len == 0xFFFF and sspi_long:
        sspi_len = sspi_long

    def field(at: int, size: int, what: str) -> bytes:
        if size == 0:
            return b""
        if at < fixed or at + size > len(payload):
            raise WireError(
                f"LOGIN7 {what} claims bytes {at}..{at + size} of a {len(payload)}-byte login "
                f"whose data starts at {fixed}",
                at,
            )
        return payload[at : at + size]

    def text(at: int, count: int, what: str) -> str:
        return field(at, 2 * count, what).decode("utf-16-le", errors="replace")

    values = {name: pair for name, pair in zip(_FIELDS, pairs, strict=True)}
    password = deobfuscate(field(*_bytes(values["password"]), "password"))
    new_password = deobfuscate(field(change[0], 2 * change[1], "new password"))
    features = _features(payload, values["extension"], flags3, fixed, tds_version)
    return Login7(
        tds_version=tds_version,
        packet_size=packet_size,
        client_prog_version=prog_version,
        client_pid=pid,
        connection_id=connection_id,
        option_flags1=flags1,
        option_flags2=flags2,
        type_flags=type_flags,
        option_flags3=flags3,
        client_timezone=timezone,
        client_lcid=lcid,
        host_name=text(*values["host_name"], "host name"),
        user=text(*values["user"], "user name"),
        password=Secret(password),
        app_name=text(*values["app_name"], "application name"),
        server_name=text(*values["server_name"], "server name"),
        library=text(*values["library"], "library name"),
        language=text(*values["language"], "language"),
        database=text(*values["database"], "database"),
        client_id=client_id,
        sspi=field(sspi_at, sspi_len, "SSPI"),
        attach_db_file=text(*attach, "attach file"),
        change_password=Secret(new_password),
        features=features,
    )


def _bytes(pair: tuple[int, int]) -> tuple[int, int]:
    return pair[0], 2 * pair[1]


def _features(
    payload: bytes, extension: tuple[int, int], flags3: int, fixed: int, tds_version: int
) -> tuple[int, ...]:
    """Feature ids of a TDS 7.4 FeatureExt block (ibExtension points at its u32 offset)."""
    at, size = extension
    if not flags3 & EXTENSION or size == 0 or tds_version < TDS74:
        return ()
    if size != 4 or at < fixed or at + 4 > len(payload):
        raise WireError("LOGIN7 extension pointer lies outside the login", at)
    (start,) = struct.unpack_from("<I", payload, at)
    cursor = Cursor(payload, "LOGIN7 FeatureExt", start=start)
    if start < fixed or start >= len(payload):
        raise WireError(f"FeatureExt offset {start} lies outside the login", at)
    ids: list[int] = []
    while True:
        feature = cursor.u8("feature id")
        if feature == FEATURE_TERMINATOR:
            return tuple(ids)
        cursor.skip(cursor.u32le("feature data length"), f"feature 0x{feature:02x} data")
        ids.append(feature)
