"""The TDS pre-login: is it SQL Server?

It answers the question drivers cannot: something answers on the port, but is it
SQL Server (and which version, and how does it want to encrypt), a web server, an SSH daemon, or
a server that accepts and then says nothing?
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from tui.probes.base import Evidence, JsonValue, Stopwatch
from tui.probes.errors import describe_os_error
from tui.probes.tdsconn import READ_CHUNK, Received, abort, hex_preview, open_connection, short
from tui.wire import prelogin, tds
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption

FIRST_BYTES_EVIDENCE: Final = 256
MAX_ANSWER: Final = 32_768  # a real pre-login answer is under 100 bytes


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
    """Send the PRELOGIN every client sends first, and say what came back.

    One deadline covers the whole exchange (connect, send, every packet of the answer): no
    stream of packets, slow or fast, keeps the probe past `timeout`."""
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
    received = Received.from_reader(reader)
    try:
        async with asyncio.timeout(clock.remaining()):
            return await _exchange(reader, writer, received, instance, encryption, result, sent)
    except TimeoutError:
        if received.count == 0:
            return result(
                PreloginStatus.SILENT,
                f"the connection opened, but nothing answered the pre-login within "
                f"{timeout:g} s (worker threads exhausted, hung, starting or stopping, "
                "or a proxy with no live backend)",
            )
        return result(
            PreloginStatus.SILENT,
            f"began a TDS reply but sent only {received.count} byte(s) in {timeout:g} s "
            f"(first bytes: {hex_preview(received.first)}): far too slow to be a healthy SQL "
            "Server (a server under heavy pressure, or a broken network path that trickles)",
            first_bytes=bytes(received.first),
        )
    except ConnectionResetError:
        return result(
            PreloginStatus.RESET,
            "the server reset the connection before answering the pre-login "
            f"(10054 WSAECONNRESET){_after(received)}",
            first_bytes=bytes(received.first),
        )
    except asyncio.IncompleteReadError:
        if received.count == 0:
            return result(
                PreloginStatus.CLOSED,
                "the server closed the connection without answering the pre-login",
            )
        return result(
            PreloginStatus.CLOSED,
            f"the server closed the connection in the middle of its pre-login answer"
            f"{_after(received)}",
            first_bytes=bytes(received.first),
        )
    except WireError as error:
        return result(
            PreloginStatus.NOT_TDS,
            f"answered, but its pre-login answer breaks the TDS protocol: {short(error)} "
            f"(first bytes: {hex_preview(received.first)})",
            first_bytes=bytes(received.first),
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


Result = Callable[..., PreloginResult]


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    received: Received,
    instance: str | None,
    encryption: Encryption,
    result: Result,
    sent: Stopwatch,
) -> PreloginResult:
    payload = prelogin.build_client_prelogin(
        encryption=encryption, instance=instance or "MSSQLServer"
    )
    writer.write(tds.encode_message(tds.PacketType.PRELOGIN, payload))
    await writer.drain()
    first = await reader.read(READ_CHUNK)
    if not first:
        raise asyncio.IncompleteReadError(b"", None)
    if first[0] != tds.PacketType.REPLY:
        data = await _read_more(reader, first)
        looks = tds.classify_first_bytes(data)
        return result(
            PreloginStatus.NOT_TDS,
            f"answered, but not as SQL Server: it looks like {looks}",
            first_bytes=data,
            looks_like=looks,
        )
    received.feed(first)
    reply = await tds.read_message_with(received.read_exactly, max_bytes=MAX_ANSWER)
    answer = prelogin.parse_server_answer(reply.payload)
    return result(
        PreloginStatus.SQL_SERVER,
        "answered the pre-login as SQL Server",
        answer=answer,
        first_bytes=bytes(received.first),
        answer_ms=round(sent.elapsed() * 1000, 3),
    )


def _after(received: Received) -> str:
    if received.count == 0:
        return ""
    return f", after {received.count} byte(s) of it (first bytes: {hex_preview(received.first)})"


async def _read_more(reader: asyncio.StreamReader, first: bytes) -> bytes:
    """A little more of a non-TDS answer, to recognise it; never past the deadline."""
    data = first
    with contextlib.suppress(TimeoutError, OSError):
        while len(data) < FIRST_BYTES_EVIDENCE:
            more = await asyncio.wait_for(reader.read(FIRST_BYTES_EVIDENCE), timeout=0.05)
            if not more:
                break
            data += more
    return data[:FIRST_BYTES_EVIDENCE]
