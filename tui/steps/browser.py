"""The SQL Server Browser step: ask UDP 1434 for the port of a named instance."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.probes import browser
from tui.probes.browser import BrowserResult, BrowserStatus
from tui.steps.facts import BrowserAnswer, Endpoint


class BrowserOutcome(StrEnum):
    PORT = "port"
    NO_TCP = "no-tcp"
    UNKNOWN_INSTANCE = "unknown-instance"
    SILENT = "silent"
    REFUSED = "refused"
    UNREADABLE = "unreadable"  # something answered on UDP 1434, but not in SSRP


def _key(context: Context, address: str, request: str) -> tuple[str, str, str, str | None]:
    instance = context.target.instance
    return ("browser", address, request, instance if request != "ex" else None)


def start_browser(context: Context, address: str, request: str) -> asyncio.Task[BrowserResult]:
    """Ask the Browser now, before a step needs it (memoised: the step joins the same probe)."""
    instance = context.target.instance
    return context.start(
        _key(context, address, request),
        lambda: browser.probe_browser(
            address, request=request, instance=instance, timeout=context.timeout
        ),
    )


async def ask(context: Context, address: str, request: str) -> BrowserResult:
    """The Browser's answer to `inst` (this instance) or `ex` (every instance)."""
    instance = context.target.instance
    what = f"instance {instance}" if request == "inst" else "every instance"
    return await context.probe(
        _key(context, address, request),
        f"asking the Browser on {address} (UDP 1434) for {what}",
        lambda: browser.probe_browser(
            address, request=request, instance=instance, timeout=context.timeout
        ),
    )


async def _first_definitive(
    context: Context, addresses: tuple[str, ...], instance: str
) -> list[BrowserResult]:
    """Every answer, but stop waiting once one settles it.

    The Browser must stay silent for an instance it does not know, so an INST request for a
    wrong name only ever times out; an EX answer from the same host already says everything.
    """
    pending = {
        asyncio.ensure_future(ask(context, address, request))
        for address in addresses
        for request in ("inst", "ex")
    }
    results: list[BrowserResult] = []
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            results.extend(task.result() for task in done)
            if any(
                r.status is BrowserStatus.ANSWERED and (r.request == "ex" or r.find(instance))
                for r in results
            ):
                break
    finally:
        for task in pending:
            task.cancel()
    return results


async def ask_browser(context: Context) -> Observation:
    endpoint = context.facts.get(Endpoint)
    instance = context.target.instance or ""
    results = await _first_definitive(context, endpoint.addresses, instance)
    evidence = {"answers": [result.evidence() for result in results]}
    answered = [r for r in results if r.status is BrowserStatus.ANSWERED]
    for result in answered:
        found = result.find(instance)
        if found is None:
            continue
        if found.tcp_port is None:
            return Observation(
                BrowserOutcome.NO_TCP,
                Status.FAIL,
                result.summary(),
                evidence,
                facts=(endpoint.moved(address=result.address), BrowserAnswer()),
                host_answered=True,
            )
        summary = (
            f"the Browser on {result.address} says instance {found.instance} listens on TCP "
            f"{found.tcp_port} (version {found.version})"
        )
        moved = endpoint.moved(address=result.address, port=found.tcp_port, port_from_browser=True)
        return Observation(
            BrowserOutcome.PORT,
            Status.PASS,
            summary,
            evidence,
            facts=(moved, BrowserAnswer()),
            host_answered=True,
        )
    if answered:
        listed = sorted({i.instance for r in answered for i in r.instances})
        return Observation(
            BrowserOutcome.UNKNOWN_INSTANCE,
            Status.FAIL,
            answered[0].summary(),
            evidence,
            facts=(
                endpoint.moved(address=answered[0].address),
                BrowserAnswer(", ".join(listed) if listed else "no instances at all"),
            ),
            host_answered=True,
        )
    refused = [r for r in results if r.status is BrowserStatus.REFUSED]
    if refused:
        return _no_port(BrowserOutcome.REFUSED, refused[0], endpoint, evidence)
    unreadable = [r for r in results if r.status is BrowserStatus.MALFORMED]
    if unreadable:
        return _no_port(
            BrowserOutcome.UNREADABLE,
            unreadable[0],
            endpoint,
            evidence,
            notes=(f"What came: {unreadable_words(unreadable[0])}",),
            host_answered=True,
        )
    return Observation(
        BrowserOutcome.SILENT,
        Status.FAIL,
        results[0].summary(),
        evidence,
        facts=(endpoint.moved(address=endpoint.addresses[0]), BrowserAnswer()),
    )


def _no_port(
    outcome: BrowserOutcome,
    result: BrowserResult,
    endpoint: Endpoint,
    evidence: dict[str, Any],
    **more: Any,
) -> Observation:
    """The Browser at `result.address` gave no port: the walk ends there."""
    facts = (endpoint.moved(address=result.address), BrowserAnswer())
    return Observation(outcome, Status.FAIL, result.summary(), evidence, facts=facts, **more)


def unreadable_words(result: BrowserResult) -> str:
    """'65507 bytes that are not SSRP (...), first bytes 4a 55 4e 4b ...'"""
    preview = " ".join(f"{byte:02x}" for byte in result.raw[:16])
    more = " ..." if len(result.raw) > 16 else ""
    return (
        f"{len(result.raw)} byte(s) that are not SSRP ({result.detail}); first bytes: "
        f"{preview or '(none)'}{more}"
    )


def browser_phrase(result: BrowserResult) -> str:
    if result.status is BrowserStatus.ANSWERED:
        return "The SQL Server Browser answers but names no other port that works."
    if result.status is BrowserStatus.MALFORMED:
        return (
            "Something answered on UDP 1434, but not in the Browser's protocol: "
            f"{unreadable_words(result)}."
        )
    if result.status is BrowserStatus.REFUSED:
        return "No SQL Server Browser runs on the host (UDP 1434 port unreachable)."
    return "The SQL Server Browser (UDP 1434) did not answer."
