"""After a refusal: look for SQL Server on other ports of the same host."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any, Final

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.probes import tcp
from tui.probes.base import Stopwatch
from tui.probes.browser import BrowserResult, BrowserStatus
from tui.probes.limits import descriptor_budget
from tui.probes.prelogin import PreloginResult, PreloginStatus, probe_prelogin
from tui.steps import browser
from tui.steps.facts import Alias, Endpoint, FoundElsewhere, PortAlias, SearchResult
from tui.steps.prelogin import ask_prelogin
from tui.target import DEFAULT_PORT

MIN_TRY: Final = 0.05  # seconds: less than this left is no fair try of a port


class SearchOutcome(StrEnum):
    FOUND_ELSEWHERE = "found-elsewhere"
    ALIAS_WRONG_PORT = "alias-wrong-port"
    STALE_PORT = "stale-port"
    NOT_FOUND = "not-found"
    DAC_REFUSED = "dac-refused"  # admin: the DAC port refuses: never 'use 1433 instead'
    ANALYSIS_SERVICES = "analysis-services"  # 2383 is SSAS's port, not the engine's


SSAS_PORTS = frozenset({2382, 2383})  # the SSAS redirector (Browser for SSAS) and SSAS itself


async def search_elsewhere(context: Context) -> Observation:
    target = context.target
    endpoint = context.facts.get(Endpoint)
    address = endpoint.address or endpoint.host
    port = endpoint.port or DEFAULT_PORT
    if target.dac:
        return await _dac_refused(context, address, port)
    if port in SSAS_PORTS:
        return await _analysis_services(context, address, port)
    tried = {port}
    candidates: dict[int, str] = {}
    if port != DEFAULT_PORT:
        candidates[DEFAULT_PORT] = "the default port 1433"
    ex = await browser.ask(context, address, "ex")
    if ex.status is BrowserStatus.ANSWERED:
        for instance in ex.instances:
            if instance.tcp_port and instance.tcp_port not in tried:
                candidates.setdefault(
                    instance.tcp_port,
                    f"the SQL Server Browser lists instance {instance.instance} on port "
                    f"{instance.tcp_port}",
                )
    order = _priority(candidates, target.instance, ex)
    results, untried = await _knock(context, address, order)
    found = [r for r in results if r.status is PreloginStatus.SQL_SERVER]
    evidence: dict[str, Any] = {
        "browser": ex.evidence(),
        "tried": [r.evidence() for r in results],
        "not_tried_in_time": untried,
    }
    if found:
        best = _best_match(found, candidates, target.instance, ex)
        elsewhere = FoundElsewhere(
            best.port,
            f"{candidates[best.port]}; it answered the TDS pre-login as {best.product}",
        )
        summary = f"SQL Server answers on port {best.port}"
        origin = target.origins.get("port")
        if origin is not None and origin.source.value in {"alias", "dsn"}:
            alias = context.facts.maybe(Alias)
            blamed = (
                PortAlias(alias.name, alias.where)
                if alias is not None
                else PortAlias(origin.detail, origin.detail)  # a DSN the target names
            )
            return Observation(
                SearchOutcome.ALIAS_WRONG_PORT,
                Status.FAIL,
                summary,
                evidence,
                facts=(elsewhere, blamed),
            )
        return Observation(
            SearchOutcome.FOUND_ELSEWHERE, Status.FAIL, summary, evidence, facts=(elsewhere,)
        )
    if endpoint.port_from_browser:
        return Observation(
            SearchOutcome.STALE_PORT,
            Status.FAIL,
            f"the port the Browser named ({port}) refuses",
            evidence,
        )
    looked = [f"port {r.port}" for r in results]
    detail = (
        f"Also tried: {_listed(looked)}; none answered as SQL Server. " if looked else ""
    ) + browser.browser_phrase(ex)
    if untried:
        detail += (
            f" {len(untried)} more port(s) the Browser lists could not be tried within "
            f"{context.timeout:g} s."
        )
    return Observation(
        SearchOutcome.NOT_FOUND,
        Status.FAIL,
        "no SQL Server found on another port",
        evidence,
        facts=(SearchResult(detail),),
    )


def _priority(candidates: dict[int, str], instance: str | None, ex: BrowserResult) -> list[int]:
    """The port of the instance asked for first, then 1433, then the Browser's order."""
    first: list[int] = []
    if instance and ex.status is BrowserStatus.ANSWERED:
        match = ex.find(instance)
        if match is not None and match.tcp_port in candidates:
            first.append(match.tcp_port)
    if DEFAULT_PORT in candidates:
        first.append(DEFAULT_PORT)
    return list(dict.fromkeys([*first, *candidates]))


async def _knock(
    context: Context, address: str, ports: list[int]
) -> tuple[list[PreloginResult], list[int]]:
    """Ask every port whether it is SQL Server, a batch at a time (no more connections at once
    than the descriptor budget allows), all within one probe timeout; the ports whose turn
    came too late are returned apart."""
    clock = Stopwatch(context.timeout)
    gate = asyncio.Semaphore(descriptor_budget())
    instance = context.target.instance

    async def one(port: int) -> PreloginResult | None:
        async with gate:
            left = clock.remaining()
            if left < MIN_TRY:
                return None
            return await context.probe(
                ("prelogin", address, port),
                f"asking {address} port {port} whether it is SQL Server",
                lambda: probe_prelogin(address, port, instance=instance, timeout=left),
            )

    answers = await context.gather(*(one(port) for port in ports))
    results = [answer for answer in answers if answer is not None]
    untried = [port for port, answer in zip(ports, answers, strict=True) if answer is None]
    return results, untried


def _listed(items: list[str], most: int = 12) -> str:
    if len(items) <= most:
        return ", ".join(items)
    return f"{', '.join(items[:most])} and {len(items) - most} more"


def _best_match(
    found: list[PreloginResult],
    candidates: dict[int, str],
    instance: str | None,
    ex: BrowserResult,
) -> PreloginResult:
    """Prefer the port the Browser names for the instance asked for, then 1433."""
    if instance and ex.status is BrowserStatus.ANSWERED:
        match = ex.find(instance)
        if match is not None:
            for result in found:
                if result.port == match.tcp_port:
                    return result
    return sorted(found, key=lambda r: (r.port != DEFAULT_PORT, r.port))[0]


async def _dac_refused(context: Context, address: str, port: int) -> Observation:
    """The DAC port refuses. Whether the engine itself runs is worth saying, but its port is
    no way in for an admin: connection, so it is never offered as one."""
    engine_port = DEFAULT_PORT if port != DEFAULT_PORT else None
    note = ""
    evidence: dict[str, Any] = {}
    if engine_port is not None and not context.target.instance:
        engine = await ask_prelogin(context, address, engine_port)
        evidence["engine"] = engine.evidence()
        if engine.status is PreloginStatus.SQL_SERVER:
            note = (
                f"The database engine itself answers on port {engine_port} ({engine.product}): "
                "the instance runs, only its dedicated admin connection is closed to this client."
            )
    return Observation(
        SearchOutcome.DAC_REFUSED,
        Status.FAIL,
        f"the dedicated admin connection's port {port} refuses",
        evidence,
        notes=(note,) if note else (),
        fixes=("enable-remote-admin-connections", "dac-on-the-server"),
    )


async def _analysis_services(context: Context, address: str, port: int) -> Observation:
    other = 2382 if port == 2383 else 2383
    result = await context.probe(
        ("tcp", (address,), other),
        f"connecting to {address} port {other} (Analysis Services)",
        lambda: tcp.probe_tcp((address,), other, timeout=context.timeout),
    )
    said = f"TCP {other}: {result.summary()}"
    return Observation(
        SearchOutcome.ANALYSIS_SERVICES,
        Status.FAIL,
        f"port {port} is Analysis Services' port; {said}",
        {"other": result.evidence()},
        notes=(f"Port {other} (the other Analysis Services port): {result.summary()}.",),
        fixes=("start-analysis-services",),
    )
