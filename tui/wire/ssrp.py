"""SQL Server Browser messages (MC-SQLR / SSRP over UDP 1434), both directions.

Answers are parsed the tolerant way nmap does: instances are split where `;ServerName;` starts
(a `;;` can occur inside the data), keys are matched without regard to case, protocols may come
in any order, and a RESP_SIZE that disagrees with the datagram is reported as a note rather than
refused, because the clients people use accept it.

Text is MBCS on the wire; these codecs take it as Windows-1252, the ANSI code page of Western
Windows installs (the code page actually used cannot be learnt from the bytes).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, TypeAlias

from tui.wire.errors import WireError

SVR_RESP: Final = 0x05
MAX_NAME_BYTES: Final = 32
MAX_RESP_DATA: Final = 65_535
MAX_INST_RESP_DATA: Final = 1_024
DAC_VERSION: Final = 0x01
DAC_RESPONSE_SIZE: Final = 6
ENCODING: Final = "cp1252"

# The same shape as the probes' JSON evidence (this layer cannot import theirs).
JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None

_INSTANCE_START: Final = re.compile(r"(?:^|(?<=;))servername;", re.IGNORECASE)
_KNOWN_KEYS: Final = ("servername", "instancename", "isclustered", "version", "tcp", "np")


class RequestKind(IntEnum):
    BCAST_EX = 0x02
    UCAST_EX = 0x03
    UCAST_INST = 0x04
    UCAST_DAC = 0x0F


@dataclass(frozen=True)
class Request:
    kind: RequestKind
    instance: str | None = None


@dataclass(frozen=True)
class Instance:
    server_name: str
    instance: str
    clustered: bool
    version: str
    tcp_port: int | None = None
    pipe: str | None = None
    other: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "server_name": self.server_name,
            "instance": self.instance,
            "clustered": self.clustered,
            "version": self.version,
            "tcp_port": self.tcp_port,
            "pipe": self.pipe,
            "other": [[key, value] for key, value in self.other],
        }


@dataclass(frozen=True)
class Response:
    instances: tuple[Instance, ...]
    note: str | None = None


# ------------------------------------------------------------------------------------------
# client requests


def build_bcast_ex() -> bytes:
    return bytes([RequestKind.BCAST_EX])


def build_ucast_ex() -> bytes:
    return bytes([RequestKind.UCAST_EX])


def build_ucast_inst(name: str) -> bytes:
    return bytes([RequestKind.UCAST_INST]) + _encode_name(name) + b"\x00"


def build_ucast_dac(name: str) -> bytes:
    return bytes([RequestKind.UCAST_DAC, DAC_VERSION]) + _encode_name(name) + b"\x00"


def _encode_name(name: str) -> bytes:
    if not name:
        raise WireError("the instance name is empty")
    if "\x00" in name:
        raise WireError("the instance name contains a NUL character")
    try:
        raw = name.encode(ENCODING)
    except UnicodeEncodeError as error:
        raise WireError(
            f"the instance name cannot be written in the ANSI code page ({ENCODING})",
            error.start,
        ) from None
    if len(raw) > MAX_NAME_BYTES:
        raise WireError(f"the instance name is {len(raw)} bytes; SSRP allows {MAX_NAME_BYTES}")
    return raw


# ------------------------------------------------------------------------------------------
# server side: requests in, answers out


def parse_request(data: bytes) -> Request:
    """What a client asked; a server answers nothing to what this refuses (MC-SQLR says so)."""
    if not data:
        raise WireError("empty request", 0)
    kind = data[0]
    if kind in (RequestKind.BCAST_EX, RequestKind.UCAST_EX):
        if len(data) != 1:
            raise WireError(f"request 0x{kind:02x} has {len(data) - 1} unexpected bytes", 1)
        return Request(RequestKind(kind))
    if kind == RequestKind.UCAST_INST:
        return Request(RequestKind.UCAST_INST, _decode_request_name(data, 1))
    if kind == RequestKind.UCAST_DAC:
        if len(data) < 2 or data[1] != DAC_VERSION:
            raise WireError("CLNT_UCAST_DAC without protocol version 0x01", 1)
        return Request(RequestKind.UCAST_DAC, _decode_request_name(data, 2))
    raise WireError(f"0x{kind:02x} is not an SSRP request type", 0)


def _decode_request_name(data: bytes, start: int) -> str:
    """The instance name up to its NUL. A real SQL Server 2008 SP1 answered a request whose
    name had no NUL at all (ESF.pl's traffic dump, tests/corpus/wire_bytes.toml): the name then
    runs to the end of the datagram."""
    end = data.find(b"\x00", start)
    if end < 0:
        end = len(data)
    elif end != len(data) - 1:
        raise WireError("bytes follow the instance name's NUL terminator", end + 1)
    if end == start:
        raise WireError("the instance name is empty", start)
    if end - start > MAX_NAME_BYTES:
        raise WireError(f"the instance name is {end - start} bytes; at most 32 are allowed", start)
    return data[start:end].decode(ENCODING, errors="replace")


def build_response(instances: Sequence[Instance]) -> bytes:
    """SVR_RESP for CLNT_(B|U)CAST_EX and CLNT_UCAST_INST: tcp right after Version, as SQL
    Server does (dbatools' regex expects it there)."""
    text = "".join(_instance_text(instance) for instance in instances)
    try:
        body = text.encode(ENCODING)
    except UnicodeEncodeError as error:
        raise WireError(f"the answer cannot be written in {ENCODING}", error.start) from None
    if len(body) > MAX_RESP_DATA:
        raise WireError(f"RESP_DATA would be {len(body)} bytes; SSRP allows {MAX_RESP_DATA}")
    return bytes([SVR_RESP]) + struct.pack("<H", len(body)) + body


def _instance_text(instance: Instance) -> str:
    fields: list[tuple[str, str]] = [
        ("ServerName", instance.server_name),
        ("InstanceName", instance.instance),
        ("IsClustered", "Yes" if instance.clustered else "No"),
        ("Version", instance.version),
    ]
    if instance.tcp_port is not None:
        if not 0 < instance.tcp_port < 65_536:
            raise WireError(f"tcp port {instance.tcp_port} is out of range")
        fields.append(("tcp", str(instance.tcp_port)))
    if instance.pipe is not None:
        fields.append(("np", instance.pipe))
    fields.extend(instance.other)
    for key, value in fields:
        if ";" in key or ";" in value or not key:
            raise WireError(f"field {key!r} cannot be written in SSRP (empty or contains ';')")
    return ";".join(f"{key};{value}" for key, value in fields) + ";;"


def build_dac_response(port: int) -> bytes:
    if not 0 < port < 65_536:
        raise WireError(f"DAC port {port} is out of range")
    return bytes([SVR_RESP]) + struct.pack("<HBH", DAC_RESPONSE_SIZE, DAC_VERSION, port)


# ------------------------------------------------------------------------------------------
# client side: answers in


def parse_dac_response(data: bytes) -> int:
    """The port of the dedicated admin connection from `05 06 00 01 port-LE`."""
    if len(data) < 1 or data[0] != SVR_RESP:
        raise WireError("a DAC answer starts with 0x05", 0)
    if len(data) != DAC_RESPONSE_SIZE:
        raise WireError(f"a DAC answer is 6 bytes, this one is {len(data)}", 0)
    size, version, port = struct.unpack_from("<HBH", data, 1)
    if size != DAC_RESPONSE_SIZE:
        raise WireError(f"a DAC answer's RESP_SIZE is 6, this one says {size}", 1)
    if version != DAC_VERSION:
        raise WireError(f"DAC protocol version {version}, expected 1", 3)
    if port == 0:
        raise WireError("the DAC answer gives port 0", 4)
    return int(port)


def parse_response(data: bytes) -> Response:
    """Instances from an SVR_RESP answer to an EX or INST request."""
    if len(data) < 3:
        raise WireError(f"an SSRP answer has a 3-byte header; got {len(data)} bytes", 0)
    if data[0] != SVR_RESP:
        raise WireError(f"type 0x{data[0]:02x} is not SVR_RESP (0x05)", 0)
    notes: list[str] = []
    (size,) = struct.unpack_from("<H", data, 1)
    body = data[3:]
    if size != len(body):
        notes.append(f"RESP_SIZE says {size} but {len(body)} bytes followed")
    text = body.decode(ENCODING, errors="replace")
    if text.endswith("\x00"):
        text = text.rstrip("\x00")
        notes.append("NUL bytes after RESP_DATA ignored")
    starts = [match.start() for match in _INSTANCE_START.finditer(text)]
    if not starts:
        raise WireError("RESP_DATA holds no 'ServerName;' entry", 3)
    if starts[0] > 0:
        notes.append(f"{starts[0]} characters before the first ServerName ignored")
    instances: list[Instance] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        instance = _parse_instance(text[start:end], notes)
        if instance is not None:
            instances.append(instance)
    if not instances:
        raise WireError("RESP_DATA names no instance", 3)
    return Response(tuple(instances), "; ".join(notes) if notes else None)


def _parse_instance(chunk: str, notes: list[str]) -> Instance | None:
    fields = chunk.rstrip(";").split(";")
    if len(fields) % 2:
        fields.append("")
    known: dict[str, str] = {}
    other: list[tuple[str, str]] = []
    for key, value in zip(fields[0::2], fields[1::2], strict=True):
        folded = key.casefold()
        if folded in _KNOWN_KEYS:
            if folded in known:
                notes.append(f"'{key}' given twice; the first value kept")
            else:
                known[folded] = value
        elif key or value:
            other.append((key, value))
    name = known.get("instancename")
    if name is None:
        notes.append(f"an entry without InstanceName skipped (server {known['servername']!r})")
        return None
    clustered_text = known.get("isclustered", "No")
    if clustered_text.casefold() not in ("yes", "no"):
        notes.append(f"IsClustered {clustered_text!r} of {name} read as No")
    port: int | None = None
    if "tcp" in known:
        raw = known["tcp"]
        if 0 < len(raw) <= 5 and raw.isascii() and raw.isdigit() and 0 < int(raw) < 65_536:
            port = int(raw)
        else:
            notes.append(f"tcp value {raw!r} of {name} is not a port")
            other.append(("tcp", raw))
    return Instance(
        server_name=known["servername"],
        instance=name,
        clustered=clustered_text.casefold() == "yes",
        version=known.get("version", ""),
        tcp_port=port,
        pipe=known.get("np"),
        other=tuple(other),
    )
