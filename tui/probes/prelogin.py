"""The TDS pre-login: is it SQL Server?

It answers the question drivers cannot: something answers on the port, but is it
SQL Server (and which version, and how does it want to encrypt), a web server, an SSH daemon, or
a server that accepts and then says nothing?
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from tui.probes.base import Evidence, JsonValue, Stopwatch
from tui.probes.errors import describe_os_error
from tui.probes.tdsconn import MAX_REPLY, abort, open_connection, short
from tui.wire import prelogin, tds
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption

FIRST_BYTES_EVIDENCE: Final = 256


class PreloginStatus(StrEnum):
    SQL_SERVER = "SQL_SERVER"
    NOT_TDS = "NOT_TDS"  # something else answered (HTTP, SSH, garbage)
    SILENT = "SILENT"  # connected, no answer within the timeout
    CLOSED = "CLOSED"  # connected, closed before answering
    RESET = "RESET"  # connected, reset before answering
    CONNECT_FAILED = "CONNECT_FAILED"  # refused, timed out or unreachable: see `detail`


@dataclass(frozen=True)
class PreloginResult:
    address: str
    port: int
    status: PreloginStatus
    detail: str
    timeout: float
    elapsed_ms: float
    answer: prelogin.Prelogin | None = None
    first_bytes: bytes = b""
    looks_like: str | None = None
    answer_ms: float | None = None

    @property
    def version(self) -> tuple[int, int, int, int] | None:
        return self.answer.version if self.answer else None

    @property
    def encryption(self) -> Encryption | None:
        return self.answer.encryption if self.answer else None

    @property
    def product(self) -> str:
        if self.answer is None or self.answer.version is None:
            return "unknown version"
        major, minor, build, _ = self.answer.version
        return f"{prelogin.product_name(self.answer.version)}, {major}.{minor}.{build}"

    def evidence(self) -> Evidence:
        answer: JsonValue = None
        if self.answer is not None:
            answer = {
                "version": ".".join(str(part) for part in self.answer.version)
                if self.answer.version
                else None,
                "product": self.product,
                "encryption": self.answer.encryption.name
                if self.answer.encryption is not None
                else None,
                "instopt": self.answer.instopt,
                "mars": self.answer.mars,
            }
        return {
            "address": self.address,
            "port": self.port,
            "status": self.status.value,
            "detail": self.detail,
            "answer": answer,
            "looks_like": self.looks_like,
            "first_bytes_hex": self.first_bytes[:FIRST_BYTES_EVIDENCE].hex(),
            "answer_ms": self.answer_ms,
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        where = f"{self.address} port {self.port}"
        if self.status is PreloginStatus.SQL_SERVER:
            encryption = self.encryption.name if self.encryption is not None else "unknown"
            return f"{where} is SQL Server ({self.product}; encryption {encryption})"
        return f"{where}: {self.detail}"


async def probe_prelogin(
    address: str,
    port: int,
    *,
    timeout: float,
    instance: str | None = None,
    encryption: Encryption = Encryption.OFF,
) -> PreloginResult:
    """Send the PRELOGIN every client sends first, and say what came back."""
    clock = Stopwatch(timeout)

    def result(status: PreloginStatus, detail: str, **extra: object) -> PreloginResult:
        return PreloginResult(address, port, status, detail, timeout, clock.elapsed_ms(), **extra)  # type: ignore[arg-type]

    try:
        reader, writer = await open_connection(address, port, clock)
    except TimeoutError:
        return result(PreloginStatus.CONNECT_FAILED, f"no TCP answer within {timeout:g} s")
    except OSError as error:
        return result(PreloginStatus.CONNECT_FAILED, describe_os_error(error).label())
    sent = Stopwatch()
    try:
        payload = prelogin.build_client_prelogin(
            encryption=encryption, instance=instance or "MSSQLServer"
        )
        writer.write(tds.encode_message(tds.PacketType.PRELOGIN, payload))
        await writer.drain()
        first = await _read_some(reader, clock)
        if not first:
            return result(
                PreloginStatus.CLOSED,
                "the server closed the connection without answering the pre-login",
            )
        if first[0] != tds.PacketType.REPLY:
            data = await _read_more(reader, first, clock)
            looks = tds.classify_first_bytes(data)
            return result(
                PreloginStatus.NOT_TDS,
                f"answered, but not as SQL Server: it looks like {looks}",
                first_bytes=data,
                looks_like=looks,
            )
        received = _Received(len(first))
        try:
            payload = await _read_reply(reader, first, clock, received)
        except TimeoutError:
            return result(
                PreloginStatus.SILENT,
                f"began a TDS reply but sent only {received.count} byte(s) in {timeout:g} s: "
                "far too slow to be a healthy SQL Server (a server under heavy pressure, or "
                "a broken network path that trickles)",
                first_bytes=first,
            )
        answer = prelogin.parse_prelogin(payload)
        return result(
            PreloginStatus.SQL_SERVER,
            "answered the pre-login as SQL Server",
            answer=answer,
            first_bytes=first,
            answer_ms=round(sent.elapsed() * 1000, 3),
        )
    except TimeoutError:
        return result(
            PreloginStatus.SILENT,
            f"the connection opened, but nothing answered the pre-login within "
            f"{timeout:g} s (worker threads exhausted, hung, starting or stopping, "
            "or a proxy with no live backend)",
        )
    except ConnectionResetError:
        return result(
            PreloginStatus.RESET,
            "the server reset the connection before answering the pre-login (10054 WSAECONNRESET)",
        )
    except (WireError, asyncio.IncompleteReadError) as error:
        return result(
            PreloginStatus.NOT_TDS,
            f"answered, but not with a valid TDS pre-login ({short(error)})",
            looks_like="broken TDS",
        )
    except OSError as error:  # a broken pipe: the reset came before our PRELOGIN went out
        return result(
            PreloginStatus.RESET,
            "the server reset the connection before answering the pre-login "
            f"({describe_os_error(error).label()})",
        )
    finally:
        abort(writer)


async def _read_some(reader: asyncio.StreamReader, clock: Stopwatch) -> bytes:
    return await asyncio.wait_for(reader.read(4096), timeout=max(clock.remaining(), 0.001))


async def _read_more(reader: asyncio.StreamReader, first: bytes, clock: Stopwatch) -> bytes:
    """A little more of a non-TDS answer, to recognise it; never past the deadline."""
    data = first
    with contextlib.suppress(TimeoutError, OSError):
        while len(data) < FIRST_BYTES_EVIDENCE:
            more = await asyncio.wait_for(
                reader.read(FIRST_BYTES_EVIDENCE), timeout=min(0.05, max(clock.remaining(), 0.001))
            )
            if not more:
                break
            data += more
    return data


@dataclass
class _Received:
    count: int


async def _read_reply(
    reader: asyncio.StreamReader, buffer: bytes, clock: Stopwatch, received: _Received
) -> bytes:
    """The payload of a whole TDS reply whose first bytes are already in `buffer`."""
    payload = bytearray()
    while True:
        while len(buffer) < 8:
            buffer += await _read_exact_or_more(reader, clock, received)
        header = tds.parse_header(buffer[:8])
        while len(buffer) < header.length:
            buffer += await _read_exact_or_more(reader, clock, received)
        payload += buffer[8 : header.length]
        if len(payload) > MAX_REPLY:
            raise WireError(f"the reply is longer than {MAX_REPLY} bytes")
        buffer = buffer[header.length :]
        if header.status & 0x01:
            return bytes(payload)


async def _read_exact_or_more(
    reader: asyncio.StreamReader, clock: Stopwatch, received: _Received
) -> bytes:
    chunk = await asyncio.wait_for(reader.read(65_536), timeout=max(clock.remaining(), 0.001))
    if not chunk:
        raise asyncio.IncompleteReadError(b"", None)
    received.count += len(chunk)
    return chunk
