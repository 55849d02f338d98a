"""Opening and closing the TCP connection a TDS probe talks over, shared by the pre-login and
the native login probes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Final

from tui.probes.base import Stopwatch

MAX_REPLY: Final = 1_048_576


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
