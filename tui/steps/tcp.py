"""The TCP step: refused, filtered or unreachable, told apart at the socket."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.probes import tcp
from tui.probes.browser import BrowserStatus
from tui.probes.tcp import HostAnswer, TcpStatus
from tui.steps.browser import start_browser
from tui.steps.facts import Endpoint, TcpResult
from tui.target import DEFAULT_PORT


class TcpOutcome(StrEnum):
    CONNECTED = "connected"
    REFUSED = "refused"
    FILTERED = "filtered"
    UNREACHABLE = "unreachable"


async def connect_tcp(context: Context) -> Observation:
    endpoint = context.facts.get(Endpoint)
    addresses: tuple[str, ...] = (
        (endpoint.address,)
        if endpoint.port_from_browser and endpoint.address
        else endpoint.addresses
    )
    port = endpoint.port or DEFAULT_PORT
    label = ", ".join(addresses)
    if not context.target.needs_browser:
        for address in addresses:  # speculative: wanted if the port turns out closed
            start_browser(context, address, "ex")
    result = await context.probe(
        ("tcp", addresses, port),
        f"connecting to {label} port {port}",
        # settle=0: the pre-login that follows sees a reset or a close itself
        lambda: tcp.probe_tcp(
            addresses,
            port,
            timeout=context.timeout,
            settle=0,
            witness=_browser_witness(context),
            platform=context.settings.platform or sys.platform,
        ),
    )
    evidence = result.evidence()
    best = next((a for a in result.attempts if a.status is result.status), None)
    moved = endpoint.moved(port=port, address=best.address if best is not None else None)
    facts = (moved, TcpResult(result.summary(), result.silence()))
    status = result.status
    if status in {TcpStatus.CONNECTED, TcpStatus.CLOSED, TcpStatus.RESET}:
        return Observation(
            TcpOutcome.CONNECTED,
            Status.PASS if status is TcpStatus.CONNECTED else Status.WARN,
            result.summary(),
            evidence,
            facts=facts,
            host_answered=True,
        )
    if status is TcpStatus.REFUSED:
        return Observation(
            TcpOutcome.REFUSED,
            Status.FAIL,
            result.summary(),
            evidence,
            facts=facts,
            host_answered=True,
        )
    if status is TcpStatus.TIMEOUT:
        return Observation(
            TcpOutcome.FILTERED, Status.FAIL, result.summary(), evidence, facts=facts
        )
    return Observation(
        TcpOutcome.UNREACHABLE,
        Status.FAIL,
        result.summary(),
        evidence,
        facts=facts,
        host_answered=False,
    )


def _browser_witness(context: Context) -> Callable[[str], Awaitable[HostAnswer | None]]:
    """The Browser's answer on UDP 1434 (or the host's ICMP 'port unreachable') as proof the
    host answers, with its round trip; asked once, shared with the steps that need it."""

    async def heard(address: str) -> HostAnswer | None:
        result = await asyncio.shield(start_browser(context, address, "ex"))
        if result.status in {BrowserStatus.ANSWERED, BrowserStatus.MALFORMED}:
            return HostAnswer(address, "UDP port 1434", "the Browser answered", result.elapsed_ms)
        if result.status is BrowserStatus.REFUSED:
            return HostAnswer(address, "UDP port 1434", "ICMP port unreachable", result.elapsed_ms)
        return None

    return heard
