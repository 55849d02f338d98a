"""The TCP step: refused, filtered or unreachable, told apart at the socket.

A name with several addresses (an availability group listener registered in every subnet) is
probed on all of them at once, then judged as the person's client connects: without
MultiSubnetFailover drivers try the addresses one at a time, in order, and wait out their whole
login timeout on one that drops the packets; with it they try all at once and the live address
wins (Microsoft: listeners and client connectivity; observed with ODBC Driver 18).
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum

from tui.engine.context import Context
from tui.engine.facts import Fact
from tui.engine.model import Observation, Status
from tui.probes import tcp
from tui.probes.browser import BrowserStatus
from tui.probes.tcp import HostAnswer, TcpAttempt, TcpStatus
from tui.probes.tcp import TcpResult as TcpProbeResult
from tui.steps.browser import start_browser
from tui.steps.facts import Endpoint, Listener, TcpResult
from tui.target import DEFAULT_PORT


class TcpOutcome(StrEnum):
    CONNECTED = "connected"
    REFUSED = "refused"
    FILTERED = "filtered"
    UNREACHABLE = "unreachable"
    FIRST_ADDRESS_DROPPED = "first-address-dropped"  # the client meets a dead address first


_LIVE = frozenset({TcpStatus.CONNECTED, TcpStatus.CLOSED, TcpStatus.RESET})
# Failures a driver gets at once and moves past to the next address; a drop costs the timeout.
_FAST = frozenset({TcpStatus.REFUSED, TcpStatus.HOST_UNREACHABLE, TcpStatus.NET_UNREACHABLE})


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
    facts: tuple[Fact, ...] = (moved, TcpResult(result.summary(), result.silence()))
    status = result.status
    if len(result.attempts) > 1 and any(a.status in _LIVE for a in result.attempts):
        judged = _as_the_client_connects(context, endpoint, result)
        if judged is not None:
            return judged
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
        public = _public(moved.address)
        return Observation(
            TcpOutcome.FILTERED,
            Status.FAIL,
            result.summary(),
            evidence,
            facts=facts,
            notes=(
                (
                    f"{moved.address} is a public address: if the server sits behind a NAT "
                    f"router, it must forward TCP {port} to the server's inside address, and a "
                    "missing or changed forward looks exactly like this.",
                )
                if public
                else ()
            ),
            fixes=("check-port-forward",) if public else (),
        )
    return Observation(
        TcpOutcome.UNREACHABLE,
        Status.FAIL,
        result.summary(),
        evidence,
        facts=facts,
        host_answered=False,
    )


def _as_the_client_connects(
    context: Context, endpoint: Endpoint, result: TcpProbeResult
) -> Observation | None:
    """Several addresses, some alive: where the person's client really ends up."""
    by_address = {attempt.address: attempt for attempt in result.attempts}
    order = [by_address[a] for a in endpoint.addresses if a in by_address] or list(result.attempts)
    live = [a for a in order if a.status in _LIVE]
    dead = [a for a in order if a.status not in _LIVE]
    if not dead:
        return None
    msf = context.target.multi_subnet_failover is True
    listener = Listener(
        addresses=", ".join(a.address for a in order),
        first=order[0].address,
        live=live[0].address,
        dead=", ".join(a.address for a in dead),
    )
    evidence = {**result.evidence(), "client_order": [a.address for a in order], "msf": msf}
    summary = result.summary()
    port = result.port
    if not msf:
        reached = _first_reached(order)
        if reached.status is TcpStatus.TIMEOUT:
            moved = endpoint.moved(port=port, address=reached.address)
            return Observation(
                TcpOutcome.FIRST_ADDRESS_DROPPED,
                Status.FAIL,
                summary,
                evidence,
                facts=(moved, TcpResult(reached.summary(result.timeout)), listener),
                host_answered=None,
                fixes=("multi-subnet-failover", "register-all-providers-ip"),
            )
    chosen = live[0]
    moved = endpoint.moved(port=port, address=chosen.address)
    if msf:
        note = (
            f"{endpoint.host} has several addresses ({listener.addresses}); TCP {port} on "
            f"{listener.dead} does not answer. With MultiSubnetFailover=True the client tries "
            f"them all at once and connects through {chosen.address}: the silent one is the "
            "listener's other subnet (normal while the replica there is secondary), or a "
            "stale DNS record."
        )
        fixes: tuple[str, ...] = ()
    else:
        note = (
            f"{endpoint.host} has several addresses ({listener.addresses}); TCP {port} on "
            f"{listener.dead} does not answer, and the connection string has no "
            "MultiSubnetFailover: the client tries the addresses in order, so it connects "
            f"today through {chosen.address}, and waits out its whole timeout the day a dead "
            "address comes first (after a failover, or another DNS order)."
        )
        fixes = ("multi-subnet-failover", "register-all-providers-ip")
    return Observation(
        TcpOutcome.CONNECTED,
        Status.WARN,
        summary,
        evidence,
        facts=(moved, TcpResult(chosen.summary())),
        notes=(note,),
        fixes=fixes,
        host_answered=True,
    )


def _first_reached(order: list[TcpAttempt]) -> TcpAttempt:
    """The address a client trying them in order ends on: the first that answers, or the
    first that drops (it waits out its timeout there); fast failures are passed over."""
    for attempt in order:
        if attempt.status not in _FAST:
            return attempt
    return order[-1]


def _public(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address.split("%")[0]).is_global
    except ValueError:
        return False


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
