"""After a refusal: look for SQL Server on other ports of the same host."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.probes.browser import BrowserResult, BrowserStatus
from tui.probes.prelogin import PreloginResult, PreloginStatus
from tui.steps import browser
from tui.steps.facts import Alias, Endpoint, FoundElsewhere, PortAlias, SearchResult
from tui.steps.prelogin import ask_prelogin
from tui.target import DEFAULT_PORT


class SearchOutcome(StrEnum):
    FOUND_ELSEWHERE = "found-elsewhere"
    ALIAS_WRONG_PORT = "alias-wrong-port"
    STALE_PORT = "stale-port"
    NOT_FOUND = "not-found"


async def search_elsewhere(context: Context) -> Observation:
    target = context.target
    endpoint = context.facts.get(Endpoint)
    address = endpoint.address or endpoint.host
    port = endpoint.port or DEFAULT_PORT
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
    results = await context.gather(
        *(ask_prelogin(context, address, candidate) for candidate in candidates)
    )
    found = [r for r in results if r.status is PreloginStatus.SQL_SERVER]
    evidence: dict[str, Any] = {
        "browser": ex.evidence(),
        "tried": [r.evidence() for r in results],
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
    looked = [f"port {p}" for p in candidates]
    detail = (
        f"Also tried: {', '.join(looked)}; none answered as SQL Server. " if looked else ""
    ) + browser.browser_phrase(ex)
    return Observation(
        SearchOutcome.NOT_FOUND,
        Status.FAIL,
        "no SQL Server found on another port",
        evidence,
        facts=(SearchResult(detail),),
    )


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
