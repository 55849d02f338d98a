"""The TLS probe as the steps share it: started beside the pre-login, read by the TLS step."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from tui.engine.context import Context

if TYPE_CHECKING:
    from tui.probes.tls import TlsResult


def _factory(
    context: Context, address: str, port: int
) -> Callable[[], Coroutine[Any, Any, TlsResult]]:
    from tui.probes import tls

    target = context.target
    return lambda: tls.probe_tls(
        address,
        port,
        timeout=context.timeout,
        host=target.connect_host,
        instance=target.instance,
    )


def start_tls(context: Context, address: str, port: int) -> asyncio.Task[TlsResult]:
    """Start the TLS probe now (memoised): it runs beside the pre-login, in the same budget."""
    return context.start(("tls", address, port), _factory(context, address, port))


async def tls_result(context: Context, address: str, port: int) -> TlsResult:
    return await context.probe(
        ("tls", address, port),
        f"looking at the encryption of {address} port {port} (TLS, certificate, TDS 8)",
        _factory(context, address, port),
    )
