"""The second hop: where a redirect sends the login, followed as drivers follow it.

An Azure SQL gateway in Redirect mode, and an availability group's primary for a read-intent
login, answer a good login with a routing ENVCHANGE. Drivers close the connection and do it all
again at the routed host and port: resolve the name, open TCP, pre-login, TLS with the routed
name, log in. So does the diagnosis, step by step, and the application's failure is the routed
hop's own (a dropped redirect port, a name this client cannot resolve).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.knowledge import azure
from tui.probes import dns, prelogin, tcp
from tui.probes.prelogin import PreloginStatus
from tui.probes.tcp import TcpStatus
from tui.steps.dns import dns_failure, dns_server
from tui.steps.facts import (
    Endpoint,
    Redirect,
    Routed,
    RoutedDnsFailure,
    RoutedLogin,
    RoutedPreloginFailure,
    RoutedServer,
    RoutedTcp,
    RoutedTls,
)
from tui.steps.native import CLIENT, native_login_at
from tui.steps.tls import judge_tls
from tui.wire.tokens import Routing

if TYPE_CHECKING:
    from tui.probes.tls import TlsResult


class RoutedDnsOutcome(StrEnum):
    RESOLVED = "resolved"
    NOT_RESOLVED = "not-resolved"


class RoutedTcpOutcome(StrEnum):
    CONNECTED = "connected"
    REFUSED = "refused"
    FILTERED = "filtered"
    UNREACHABLE = "unreachable"


class RoutedPreloginOutcome(StrEnum):
    SQL_SERVER = "sql-server"
    NOT_SQL = "not-sql"
    UNRESPONSIVE = "unresponsive"


class RoutedLoginOutcome(StrEnum):
    OK = "ok"
    LOGIN_FAILED = "login-failed"
    DATABASE = "database"
    UNRESPONSIVE = "unresponsive"
    FAILED = "failed"  # TLS or garbage on the way


# Every fix the second hop's steps may name (the tree test checks they exist).
FIX_IDS = frozenset(
    {
        "azure-redirect-ports",
        "azure-connection-policy-proxy",
        "check-read-only-routing",
        "fix-name-resolution",
        "start-engine-service",
        "find-listening-port",
        "open-firewall-tcp",
        "check-network-path",
        "check-route",
        "read-18456-state",
        "check-login",
        "fix-database-name",
        "check-server-health",
        "provision-certificate",
        "trust-server-certificate",
    }
)


def redirect_of(context: Context, routing: Routing) -> Redirect:
    """Who sent the login on, in words: an Azure gateway, read-only routing, or a server."""
    first = context.facts.get(Endpoint).host
    gateway = azure.recognise(first)
    node = azure.recognise(routing.host)
    host = routing.host[:300]  # from the network: kept short, judged by the next step
    if gateway is not None or (node is not None and node.kind is azure.Kind.NODE):
        by = "the Azure SQL gateway (the server's Redirect connection policy)"
        return Redirect(host, routing.port, by, azure=True)
    if context.target.read_only_intent:
        by = (
            "the availability group's read-only routing (ApplicationIntent=ReadOnly sends the "
            "login to a readable secondary)"
        )
        return Redirect(host, routing.port, by, read_only=True)
    by = "the server's routing answer (an Azure SQL gateway or an availability group listener)"
    return Redirect(host, routing.port, by)


def _fixes(redirect: Redirect, *network: str) -> tuple[str, ...]:
    """The redirect's own fixes first: for Azure, the redirect ports or the Proxy policy."""
    if redirect.azure:
        return ("azure-redirect-ports", "azure-connection-policy-proxy", *network)
    if redirect.read_only:
        return (*network, "check-read-only-routing")
    return network


_HOST = re.compile(r"[A-Za-z0-9_.-]{1,253}|\[?[0-9A-Fa-f:.%]{2,64}\]?")


async def resolve_routed(context: Context) -> Observation:
    redirect = context.facts.get(Redirect)
    host = redirect.host
    if not _HOST.fullmatch(host):  # the routing answer came from the network: hostile
        detail = "the routing answer names something that is not a host name or an address."
        return Observation(
            RoutedDnsOutcome.NOT_RESOLVED,
            Status.FAIL,
            detail,
            {"host": host[:300]},
            facts=(RoutedDnsFailure(detail),),
            fixes=_fixes(redirect, "fix-name-resolution"),
        )
    result = await context.probe(
        ("dns", host),
        f"resolving {host} (where the login was redirected)",
        lambda: dns.probe_dns(host, timeout=context.timeout, **dns_server(context)),
    )
    evidence = result.evidence()
    if result.addresses:
        routed = Routed(host, redirect.port, tuple(result.addresses), result.addresses[0])
        return Observation(
            RoutedDnsOutcome.RESOLVED, Status.PASS, result.summary(), evidence, facts=(routed,)
        )
    detail = dns_failure(result)
    return Observation(
        RoutedDnsOutcome.NOT_RESOLVED,
        Status.FAIL,
        result.summary(),
        evidence,
        facts=(RoutedDnsFailure(detail),),
        fixes=_fixes(redirect, "fix-name-resolution"),
    )


async def connect_routed(context: Context) -> Observation:
    redirect = context.facts.get(Redirect)
    routed = context.facts.get(Routed)
    port = routed.port
    result = await context.probe(
        ("tcp", routed.addresses, port),
        f"connecting to {', '.join(routed.addresses)} port {port} (the redirect)",
        lambda: tcp.probe_tcp(routed.addresses, port, timeout=context.timeout, settle=0),
    )
    best = next((a for a in result.attempts if a.status is result.status), None)
    moved = Routed(routed.host, port, routed.addresses, best.address if best else routed.address)
    facts = (moved, RoutedTcp(result.summary()))
    evidence = result.evidence()
    status = result.status
    if status in {TcpStatus.CONNECTED, TcpStatus.CLOSED, TcpStatus.RESET}:
        return Observation(
            RoutedTcpOutcome.CONNECTED, Status.PASS, result.summary(), evidence, facts=facts
        )
    if status is TcpStatus.REFUSED:
        outcome = RoutedTcpOutcome.REFUSED
        fixes = _fixes(redirect, "start-engine-service", "find-listening-port")
    elif status is TcpStatus.TIMEOUT:
        outcome = RoutedTcpOutcome.FILTERED
        fixes = _fixes(redirect, "open-firewall-tcp", "check-network-path")
    else:
        outcome = RoutedTcpOutcome.UNREACHABLE
        fixes = _fixes(redirect, "check-route")
    return Observation(outcome, Status.FAIL, result.summary(), evidence, facts=facts, fixes=fixes)


async def prelogin_routed(context: Context) -> Observation:
    routed = context.facts.get(Routed)
    address = routed.address or routed.host
    port = routed.port
    tls_key = ("tls", address, port, routed.host)
    context.start(
        tls_key,
        lambda: _probe_tls(address, port, context.timeout, routed.host),
    )
    result = await context.probe(
        ("prelogin", address, port),
        f"asking {address} port {port} whether it is SQL Server (the redirect)",
        lambda: prelogin.probe_prelogin(address, port, timeout=context.timeout),
    )
    evidence = result.evidence()
    if result.status is PreloginStatus.SQL_SERVER:
        server = RoutedServer(result.product, result.encryption)
        return Observation(
            RoutedPreloginOutcome.SQL_SERVER,
            Status.PASS,
            result.summary(),
            evidence,
            facts=(server,),
        )
    outcome = (
        RoutedPreloginOutcome.NOT_SQL
        if result.status is PreloginStatus.NOT_TDS
        else RoutedPreloginOutcome.UNRESPONSIVE
    )
    return Observation(
        outcome,
        Status.FAIL,
        result.summary(),
        evidence,
        facts=(RoutedPreloginFailure(result.summary()),),
    )


async def tls_routed(context: Context) -> Observation:
    routed = context.facts.get(Routed)
    address = routed.address or routed.host
    port = routed.port
    result = await context.probe(
        ("tls", address, port, routed.host),
        f"looking at the encryption of {address} port {port} as {routed.host} (the redirect)",
        lambda: _probe_tls(address, port, context.timeout, routed.host),
    )
    return judge_tls(context, result, RoutedTls)


async def login_routed(context: Context) -> Observation:
    """The login again at the routed host and port, with the routed name in LOGIN7's
    ServerName and the same read-only intent, as drivers send it."""
    target = context.target
    routed = context.facts.get(Routed)
    address = routed.address or routed.host
    port = routed.port
    client = CLIENT
    if target.integrated_security or not target.user:
        detail = (
            "the login was not repeated there: sqlreach's own login speaks SQL Server "
            "authentication only, and this connection uses "
            + ("Windows authentication" if target.integrated_security else "no user name")
        )
        said = RoutedLogin(client, _who(context), _database(context), detail)
        return Observation(
            RoutedLoginOutcome.OK, Status.SKIP, detail, {"skipped": detail}, facts=(said,)
        )
    from tui.probes.native_login import LoginStatus

    result = await native_login_at(context, address, port, routed.host, "the redirect")
    evidence: dict[str, Any] = {"login": result.evidence()}
    said = RoutedLogin(client, _who(context), _database(context), result.detail, target.user)
    if result.status is LoginStatus.OK:
        summary = result.summary()
        if result.server_info is not None and result.server_info.sentence():
            summary = f"{summary}; {result.server_info.sentence()}"
        said = RoutedLogin(client, _who(context), _database(context), summary, target.user)
        return Observation(RoutedLoginOutcome.OK, Status.PASS, summary, evidence, facts=(said,))
    outcome = {
        LoginStatus.FAILED: RoutedLoginOutcome.LOGIN_FAILED,
        LoginStatus.DATABASE: RoutedLoginOutcome.DATABASE,
        LoginStatus.UNRESPONSIVE: RoutedLoginOutcome.UNRESPONSIVE,
    }.get(result.status, RoutedLoginOutcome.FAILED)
    fixes = {
        RoutedLoginOutcome.LOGIN_FAILED: ("read-18456-state", "check-login"),
        RoutedLoginOutcome.DATABASE: ("fix-database-name",),
        RoutedLoginOutcome.UNRESPONSIVE: ("check-server-health",),
        RoutedLoginOutcome.FAILED: ("provision-certificate", "trust-server-certificate"),
    }[outcome]
    return Observation(outcome, Status.FAIL, result.detail, evidence, facts=(said,), fixes=fixes)


def _who(context: Context) -> str:
    target = context.target
    return "the current Windows user" if target.integrated_security else target.user or "no user"


def _database(context: Context) -> str:
    database = context.target.database
    return f"'{database}'" if database else "(the default one)"


async def _probe_tls(address: str, port: int, timeout: float, host: str) -> TlsResult:
    from tui.probes import tls  # loaded when a routed hop's TLS is first looked at

    return await tls.probe_tls(address, port, timeout=timeout, host=host)
