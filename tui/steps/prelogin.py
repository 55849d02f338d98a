"""The pre-login step: is the open port SQL Server? With a TDS 8 (TLS first) attempt beside
it, so a server that speaks only TDS 8 strict (and so never answers a plain pre-login) is
recognised in the same time budget, and the TLS step usually finds its evidence ready."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.knowledge import azure
from tui.probes import prelogin as prelogin_probe
from tui.probes.prelogin import PreloginResult, PreloginStatus
from tui.steps.facts import Endpoint, PreloginFailure, ServerAnswer
from tui.steps.tlsprobe import start_tls, tls_result
from tui.target import DEFAULT_PORT
from tui.wire.prelogin import product_name

if TYPE_CHECKING:
    from tui.probes.tls import TlsResult


class PreloginOutcome(StrEnum):
    SQL_SERVER = "sql-server"
    SQL_SERVER_STRICT = "sql-server-strict"
    NOT_SQL = "not-sql"
    UNRESPONSIVE = "unresponsive"


async def ask_prelogin(context: Context, address: str, port: int) -> PreloginResult:
    instance = context.target.instance
    return await context.probe(
        ("prelogin", address, port),
        f"asking {address} port {port} whether it is SQL Server",
        lambda: prelogin_probe.probe_prelogin(
            address, port, instance=instance, timeout=context.timeout
        ),
    )


def where(context: Context) -> tuple[str, int]:
    endpoint = context.facts.get(Endpoint)
    return endpoint.address or endpoint.host, endpoint.port or DEFAULT_PORT


async def prelogin(context: Context) -> Observation:
    address, port = where(context)
    start_tls(context, address, port)  # beside the pre-login: same budget, and TDS 8 too
    result = await ask_prelogin(context, address, port)
    evidence = result.evidence()
    if result.status is PreloginStatus.SQL_SERVER:
        server = ServerAnswer(_product(context, result), result.encryption, build=result.version)
        return Observation(
            PreloginOutcome.SQL_SERVER, Status.PASS, result.summary(), evidence, facts=(server,)
        )
    if result.status is PreloginStatus.NOT_TDS:
        ssas = port in (2382, 2383)
        return Observation(
            PreloginOutcome.NOT_SQL,
            Status.FAIL,
            result.summary(),
            evidence,
            facts=(PreloginFailure(result.summary()),),
            notes=(
                (
                    f"Port {port} is a port of SQL Server Analysis Services, which speaks its "
                    "own protocol: connect with an Analysis Services client (MSOLAP, "
                    "ADOMD.NET), not a SQL Server driver.",
                )
                if ssas
                else ()
            ),
            fixes=("start-analysis-services",) if ssas else (),
        )
    tls = await tls_result(context, address, port)
    if tls.strict_only:
        version = tls.strict.server_version
        product = (
            f"{product_name(version)}, {version[0]}.{version[1]}.{version[2]}"
            if version
            else "unknown version"
        )
        summary = (
            f"{address} port {port} is SQL Server ({product}) speaking only TDS 8 strict: it "
            "answers a TLS handshake with ALPN tds/8.0 and drops a plain pre-login"
        )
        strict: dict[str, Any] = {**evidence, "tds8": tls.strict.evidence()}
        return Observation(
            PreloginOutcome.SQL_SERVER_STRICT,
            Status.PASS,
            summary,
            strict,
            facts=(ServerAnswer(product, None, strict_only=True),),
        )
    detail = _unresponsive_detail(result, tls)
    return Observation(
        PreloginOutcome.UNRESPONSIVE,
        Status.FAIL,
        detail,
        evidence,
        facts=(PreloginFailure(detail),),
    )


def _unresponsive_detail(result: PreloginResult, tls: TlsResult) -> str:
    """What was seen, in plain words: silence for N ms, closed, reset."""
    tds8 = (
        "a TDS 8 (TLS first) attempt got no answer either"
        if not tls.strict.ok
        else "TDS 8 answered"
    )
    elapsed = result.elapsed_ms
    if result.first_bytes:  # something came, then stopped, trickled or broke off: say what
        return f"{result.detail}; {tds8}"
    if result.status is PreloginStatus.SILENT:
        return (
            f"the connection opened, but nothing answered the pre-login: silence for "
            f"{elapsed:.0f} ms, 0 bytes received; {tds8}. The instance is hung, out of worker "
            "threads, starting or stopping, or a proxy in front of it has no live backend."
        )
    reset = result.status is PreloginStatus.RESET or (
        result.status is PreloginStatus.CONNECT_FAILED and "WSAECONNRESET" in result.detail
    )
    if reset:
        return (
            f"the server reset the connection {elapsed:.0f} ms after it opened, before "
            f"answering the pre-login (10054 WSAECONNRESET), 0 bytes received; {tds8}. A proxy "
            "or load balancer without a live backend, or an instance stopping, does that."
        )
    if result.status is PreloginStatus.CLOSED:
        return (
            f"the server closed the connection {elapsed:.0f} ms after it opened without "
            f"answering the pre-login, 0 bytes received; {tds8}. A proxy without a live "
            "backend, or an instance starting or stopping, does that."
        )
    return f"{result.detail}; {tds8}"


def _product(context: Context, result: PreloginResult) -> str:
    """The product, named as the person knows it: Azure SQL reports 12.0 (2014's number)."""
    host = azure.recognise(context.facts.get(Endpoint).host)
    if host is not None and result.version is not None:
        version = ".".join(str(part) for part in result.version[:3])
        return f"{host.kind.value}, reporting {version}"
    return result.product
