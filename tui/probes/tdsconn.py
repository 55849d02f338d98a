"""Opening and closing the TCP connection a TDS probe talks over, and reading from it, shared by
the pre-login and the native login probes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from typing import Final

from tui.probes.base import Stopwatch

MAX_REPLY: Final = 1_048_576
EVIDENCE_BYTES: Final = 256  # the first bytes of an answer kept to show what came
READ_CHUNK: Final = 65_536


def endpoint(address: str) -> tuple[str, int]:
    return (address, socket.AF_INET6 if ":" in address else socket.AF_INET)


async def open_connection(
    address: str, port: int, clock: Stopwatch
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(
        asyncio.open_connection(address, port, family=endpoint(address)[1]),
        timeout=max(clock.remaining(), 0.001),
    )


def abort(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.transport.abort()


def short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 160 else text[:157] + "..."


def hex_preview(data: bytes | bytearray, limit: int = 32) -> str:
    """'04 00 00 08 ...' : the first bytes of an answer, for a person to read."""
    shown = " ".join(f"{byte:02x}" for byte in data[:limit])
    return shown + (" ..." if len(data) > limit else "") if data else "(none)"


class Received:
    """What a server sent since `start()`: the bytes `tds.read_message_with` asks for, served
    from chunks (`fill`: a socket's or a TLS channel's next bytes), counted, and the first
    ones kept, so a probe can say what came and how much, whatever went wrong."""

    def __init__(self, fill: Callable[[], Awaitable[bytes]], first: bytes = b"") -> None:
        self._fill = fill
        self._pending = bytearray()
        self.count = 0
        self.first = bytearray()
        self.feed(first)

    @classmethod
    def from_reader(cls, reader: asyncio.StreamReader, first: bytes = b"") -> Received:
        return cls(lambda: reader.read(READ_CHUNK), first)

    def start(self) -> None:
        """Count and keep afresh from here (a new message), with what is already buffered."""
        self.count = len(self._pending)
        self.first = bytearray(self._pending[:EVIDENCE_BYTES])

    def feed(self, chunk: bytes) -> None:
        self.count += len(chunk)
        if len(self.first) < EVIDENCE_BYTES:
            self.first += chunk[: EVIDENCE_BYTES - len(self.first)]
        self._pending += chunk

    async def read_exactly(self, count: int) -> bytes:
        while len(self._pending) < count:
            chunk = await self._fill()
            if not chunk:
                raise asyncio.IncompleteReadError(bytes(self._pending), count)
            self.feed(chunk)
        data = bytes(self._pending[:count])
        del self._pending[:count]  # from the front of a bytearray: no copy of the rest
        return data
