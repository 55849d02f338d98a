"""The actions of the tree's steps: run probes, read their results, pick an outcome.

Each action returns an `Observation` naming one of its step's declared outcomes, the evidence
for the transcript, and facts (host, address, port, what answered) that later steps and the
verdict's summary use. Which outcome leads where is decided in `tree.py`, not here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tui.diagnosis.context import Context
from tui.diagnosis.model import Observation, Status
from tui.probes import browser, dns, tcp, tds
from tui.probes.browser import BrowserResult, BrowserStatus
from tui.probes.dns import DnsStatus
from tui.probes.tcp import TcpStatus
from tui.probes.tds import LoginStatus, PreloginResult, PreloginStatus
from tui.target import DEFAULT_PORT

# ------------------------------------------------------------------------------------------
# target, on-server


async def read_target(context: Context) -> Observation:
    target = context.target
    facts: dict[str, Any] = {
        "host": target.connect_host,
        "instance": target.instance or "MSSQLSERVER",
        "timeout_s": f"{context.timeout:g} s",
    }
    if target.port is not None:
        facts["port"] = target.port
    if target.host is None:
        name = target.dsn or target.servername
        facts["alias_problem"] = (
            f"The connection names the DSN or FreeTDS server '{name}', but no host could be "
            "found for it on this machine."
        )
        return Observation("unresolved-alias", Status.FAIL, facts["alias_problem"], {}, facts)
    evidence = {
        "form": target.form.value,
        "data_source": target.data_source,
        "origins": {name: origin.to_json() for name, origin in target.origins.items()},
        "notes": list(target.notes),
    }
    where = ", ".join(
        f"{name} from {origin.source.value}"
        for name, origin in target.origins.items()
        if name in {"host", "port", "instance"}
    )
    summary = f"{target.form.value}: {target.data_source} ({where})"
    return Observation("ok", Status.PASS, summary, evidence, facts)


def default_on_server(context: Context) -> str:
    """`check` assumes a client unless told: reading a server's configuration is opt-in."""
    return "no"


async def read_server_config(context: Context) -> Observation:
    return Observation("done", Status.SKIP, "no server configuration was read", {}, {})


def default_login_wanted(context: Context) -> str:
    target = context.target
    if target.integrated_security or (target.user and target.password is not None):
        return "login"
    return "skip"


# ------------------------------------------------------------------------------------------
# dns


async def resolve(context: Context) -> Observation:
    target = context.target
    host = target.connect_host or ""
    result = await context.probe(
        ("dns", host),
        f"resolving {host}",
        lambda: dns.probe_dns(host, timeout=context.timeout, **context.settings.get("dns", {})),
    )
    evidence = result.evidence()
    if result.addresses:
        facts: dict[str, Any] = {"addresses": result.addresses, "address": result.addresses[0]}
        notes = [dns.FINDING_TEXT[finding] for finding in result.findings]
        if notes:
            facts["verdict_notes"] = [f"Name resolution: {'; '.join(notes)}."]
        status = Status.WARN if result.findings else Status.PASS
        outcome = "resolved-named" if target.needs_browser else "resolved"
        if target.needs_browser:
            for address in result.addresses:  # speculative: the Browser is next
                _start_browser(context, address, "inst")
                _start_browser(context, address, "ex")
        return Observation(outcome, status, result.summary(), evidence, facts)
    detail = _dns_failure(result)
    return Observation(
        "not-resolved", Status.FAIL, result.summary(), evidence, {"dns_detail": detail}
    )


def _dns_failure(result: dns.DnsResult) -> str:
    words = {
        DnsStatus.NXDOMAIN: "the DNS server answered that the name does not exist (NXDOMAIN, "
        "what Windows reports as 11001 WSAHOST_NOT_FOUND)",
        DnsStatus.NO_ANSWER: "the name exists in DNS but has no address record (11004 WSANO_DATA)",
        DnsStatus.TIMEOUT: "no DNS server answered in time",
        DnsStatus.NO_NAMESERVER: "this machine has no DNS server configured",
        DnsStatus.ERROR: "the DNS lookup failed",
    }
    text = words.get(result.status, result.summary())
    hosts = (
        f"The hosts file ({result.hosts_path}) has no entry for it."
        if result.hosts_path and not result.hosts_addresses
        else ""
    )
    return f"{text}. {hosts}".strip()


# ------------------------------------------------------------------------------------------
# browser


def _start_browser(context: Context, address: str, request: str) -> None:
    instance = context.target.instance
    context.start(
        ("browser", address, request, instance if request != "ex" else None),
        lambda: browser.probe_browser(
            address, request=request, instance=instance, timeout=context.timeout
        ),
    )


async def _browser(context: Context, address: str, request: str) -> BrowserResult:
    instance = context.target.instance
    key = ("browser", address, request, instance if request != "ex" else None)
    what = f"instance {instance}" if request == "inst" else "every instance"
    return await context.probe(
        key,
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
        asyncio.ensure_future(_browser(context, address, request))
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
    target = context.target
    instance = target.instance or ""
    addresses: tuple[str, ...] = context.facts["addresses"]
    results = await _first_definitive(context, addresses, instance)
    evidence = {"answers": [result.evidence() for result in results]}
    answered = [r for r in results if r.status is BrowserStatus.ANSWERED]
    for result in answered:
        found = result.find(instance)
        if found is None:
            continue
        facts: dict[str, Any] = {"address": result.address, "browser_instance": found.to_json()}
        if found.tcp_port is None:
            return Observation("no-tcp", Status.FAIL, result.summary(), evidence, facts)
        facts.update(port=found.tcp_port, port_from_browser=True)
        summary = (
            f"the Browser on {result.address} says instance {found.instance} listens on TCP "
            f"{found.tcp_port} (version {found.version})"
        )
        return Observation("port", Status.PASS, summary, evidence, facts)
    if answered:
        listed = sorted({i.instance for r in answered for i in r.instances})
        facts = {
            "address": answered[0].address,
            "instances_listed": ", ".join(listed) if listed else "no instances at all",
        }
        return Observation("unknown-instance", Status.FAIL, answered[0].summary(), evidence, facts)
    refused = [r for r in results if r.status is BrowserStatus.REFUSED]
    if refused:
        facts = {"address": refused[0].address}
        return Observation("refused", Status.FAIL, refused[0].summary(), evidence, facts)
    facts = {"address": addresses[0]}
    return Observation("silent", Status.FAIL, results[0].summary(), evidence, facts)


# ------------------------------------------------------------------------------------------
# tcp


async def connect_tcp(context: Context) -> Observation:
    addresses: tuple[str, ...] = (
        (context.facts["address"],)
        if context.facts.get("port_from_browser")
        else context.facts["addresses"]
    )
    port = int(context.facts.get("port") or DEFAULT_PORT)
    label = ", ".join(addresses)
    if not context.target.needs_browser:
        for address in addresses:  # speculative: wanted if the port turns out closed
            _start_browser(context, address, "ex")
    result = await context.probe(
        ("tcp", addresses, port),
        f"connecting to {label} port {port}",
        # settle=0: the pre-login that follows sees a reset or a close itself
        lambda: tcp.probe_tcp(addresses, port, timeout=context.timeout, settle=0),
    )
    evidence = result.evidence()
    facts: dict[str, Any] = {"port": port, "tcp_detail": result.summary()}
    best = next((a for a in result.attempts if a.status is result.status), None)
    if best is not None:
        facts["address"] = best.address
    status = result.status
    if status in {TcpStatus.CONNECTED, TcpStatus.CLOSED, TcpStatus.RESET}:
        outcome = "connected"
        return Observation(
            outcome,
            Status.PASS if status is TcpStatus.CONNECTED else Status.WARN,
            result.summary(),
            evidence,
            facts,
        )
    if status is TcpStatus.REFUSED:
        return Observation("refused", Status.FAIL, result.summary(), evidence, facts)
    if status is TcpStatus.TIMEOUT:
        return Observation("filtered", Status.FAIL, result.summary(), evidence, facts)
    return Observation("unreachable", Status.FAIL, result.summary(), evidence, facts)


# ------------------------------------------------------------------------------------------
# search elsewhere after a refusal


async def _prelogin(context: Context, address: str, port: int) -> PreloginResult:
    instance = context.target.instance
    return await context.probe(
        ("prelogin", address, port),
        f"asking {address} port {port} whether it is SQL Server",
        lambda: tds.probe_prelogin(address, port, instance=instance, timeout=context.timeout),
    )


async def search_elsewhere(context: Context) -> Observation:
    target = context.target
    address: str = context.facts["address"]
    port: int = context.facts["port"]
    tried = {port}
    candidates: dict[int, str] = {}
    if port != DEFAULT_PORT:
        candidates[DEFAULT_PORT] = "the default port 1433"
    ex = await _browser(context, address, "ex")
    if ex.status is BrowserStatus.ANSWERED:
        for instance in ex.instances:
            if instance.tcp_port and instance.tcp_port not in tried:
                candidates.setdefault(
                    instance.tcp_port,
                    f"the SQL Server Browser lists instance {instance.instance} on port "
                    f"{instance.tcp_port}",
                )
    results = await context.gather(
        *(_prelogin(context, address, candidate) for candidate in candidates)
    )
    found = [r for r in results if r.status is PreloginStatus.SQL_SERVER]
    evidence: dict[str, Any] = {
        "browser": ex.evidence(),
        "tried": [r.evidence() for r in results],
    }
    if found:
        best = _best_match(found, candidates, target.instance, ex)
        facts: dict[str, Any] = {
            "found_port": best.port,
            "found_how": f"{candidates[best.port]}; it answered the TDS pre-login as "
            f"{best.product}",
        }
        alias = target.origins.get("port")
        if alias is not None and alias.source.value in {"alias", "dsn"}:
            facts.update(
                alias_name=target.origins["port"].detail,
                alias_where=context.facts.get("alias_where", alias.detail),
            )
            return Observation(
                "alias-wrong-port",
                Status.FAIL,
                f"SQL Server answers on port {best.port}",
                evidence,
                facts,
            )
        return Observation(
            "found-elsewhere",
            Status.FAIL,
            f"SQL Server answers on port {best.port}",
            evidence,
            facts,
        )
    if context.facts.get("port_from_browser"):
        return Observation(
            "stale-port", Status.FAIL, f"the port the Browser named ({port}) refuses", evidence, {}
        )
    looked = [f"port {p}" for p in candidates]
    detail = (
        f"Also tried: {', '.join(looked)}; none answered as SQL Server. " if looked else ""
    ) + _browser_phrase(ex)
    return Observation(
        "not-found",
        Status.FAIL,
        "no SQL Server found on another port",
        evidence,
        {"search_detail": detail},
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


def _browser_phrase(result: BrowserResult) -> str:
    if result.status is BrowserStatus.ANSWERED:
        return "The SQL Server Browser answers but names no other port that works."
    if result.status is BrowserStatus.REFUSED:
        return "No SQL Server Browser runs on the host (UDP 1434 port unreachable)."
    return "The SQL Server Browser (UDP 1434) did not answer."


# ------------------------------------------------------------------------------------------
# pre-login, login (encryption and TLS: actions_tls.py)


async def prelogin(context: Context) -> Observation:
    address: str = context.facts["address"]
    port: int = context.facts["port"]
    result = await _prelogin(context, address, port)
    evidence = result.evidence()
    facts: dict[str, Any] = {"prelogin_detail": result.summary()}
    if result.status is PreloginStatus.SQL_SERVER:
        facts.update(server_version=result.product, server_encryption=result.encryption)
        return Observation("sql-server", Status.PASS, result.summary(), evidence, facts)
    if result.status is PreloginStatus.NOT_TDS:
        return Observation("not-sql", Status.FAIL, result.summary(), evidence, facts)
    return Observation("unresponsive", Status.FAIL, result.summary(), evidence, facts)


async def login(context: Context) -> Observation:
    target = context.target
    address: str = context.facts["address"]
    port: int = context.facts["port"]
    result = await context.probe(
        ("login", address, port),
        f"logging in to {address} port {port} as {target.user}",
        lambda: tds.probe_login(
            address,
            port,
            user=target.user or "",
            password=target.password,
            database=target.database,
            timeout=context.timeout,
        ),
    )
    evidence = result.evidence()
    facts: dict[str, Any] = {"login": target.user, "login_detail": result.summary()}
    if result.status is LoginStatus.OK:
        return Observation("ok", Status.PASS, result.summary(), evidence, facts)
    if result.status is LoginStatus.DATABASE:
        facts["database"] = target.database
        return Observation("database", Status.FAIL, result.summary(), evidence, facts)
    if result.status is LoginStatus.FAILED:
        return Observation("login-failed", Status.FAIL, result.summary(), evidence, facts)
    return Observation("unresponsive", Status.FAIL, result.summary(), evidence, facts)
