"""The actions of the tree's steps: run probes, read their results, pick an outcome.

Each action returns an `Observation` naming one of its step's declared outcomes, the evidence
for the transcript, and facts (host, address, port, what answered) that later steps and the
verdict's summary use. Which outcome leads where is decided in `tree.py`, not here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tui.diagnosis import error_join
from tui.diagnosis.context import Context
from tui.diagnosis.model import Observation, Status
from tui.probes import browser, dns, local, tcp, tds
from tui.probes.base import in_daemon_thread
from tui.probes.browser import BrowserResult, BrowserStatus
from tui.probes.dns import DnsStatus
from tui.probes.tcp import TcpStatus
from tui.probes.tds import PreloginResult, PreloginStatus
from tui.target import DEFAULT_PORT

# ------------------------------------------------------------------------------------------
# target, on-server


def _environment(context: Context) -> local.Environment:
    environment = context.settings.get("environment")
    return (
        environment if isinstance(environment, local.Environment) else local.Environment.current()
    )


async def read_target(context: Context) -> Observation:
    """What the client will really reach: the target after DSNs, FreeTDS sections and aliases."""
    original = context.target
    environment = _environment(context)
    try:
        resolution = await asyncio.wait_for(
            in_daemon_thread(lambda: local.resolve_aliases(original, environment)),
            timeout=context.timeout,
        )
    except TimeoutError:
        resolution = None
    facts: dict[str, Any] = {"timeout_s": f"{context.timeout:g} s"}
    evidence: dict[str, Any] = {"form": original.form.value, "typed": original.data_source}
    if resolution is not None:
        evidence["aliases"] = resolution.evidence()
        if resolution.applied:
            context.target = resolution.target
            facts["alias_name"] = resolution.alias_name
            facts["alias_where"] = (
                f"{resolution.alias_where}. To change it: {resolution.correct_where}"
                if resolution.correct_where
                else resolution.alias_where
            )
        if resolution.notes:
            facts["verdict_notes"] = list(resolution.notes)
    target = context.target
    facts.update(host=target.connect_host, instance=target.instance or "MSSQLSERVER")
    if target.port is not None:
        facts["port"] = target.port
    if target.host is None:
        name = original.dsn or original.servername
        problem = (
            resolution.problems[0]
            if resolution is not None and resolution.problems
            else f"The connection names '{name}', but no host could be found for it here."
        )
        facts["alias_problem"] = problem
        return Observation("unresolved-alias", Status.FAIL, problem, evidence, facts)
    evidence.update(
        data_source=target.data_source,
        origins={name: origin.to_json() for name, origin in target.origins.items()},
        notes=list(target.notes),
    )
    where = ", ".join(
        f"{name} from {origin.source.value}"
        for name, origin in target.origins.items()
        if name in {"host", "port", "instance"}
    )
    summary = f"{target.form.value}: {target.data_source} ({where})"
    if resolution is not None and resolution.applied:
        summary = resolution.summary()
    status = Status.WARN if resolution is not None and resolution.applied else Status.PASS
    return Observation("ok", status, summary, evidence, facts)


def default_on_server(context: Context) -> str:
    """Assume 'on the server' only when the target names this machine."""
    host = context.target.connect_host
    return "yes" if context.target.is_local or local.detect_this_machine(host, ()) else "no"


async def read_server_config(context: Context) -> Observation:
    """Services, TCP settings, listeners, firewall and the error log of the local SQL Server."""
    target = context.target
    view = await context.probe(
        ("server-view", target.instance),
        "reading this machine's SQL Server configuration",
        lambda: local.read_server_view(
            _environment(context),
            instance=target.instance,
            port=target.port if target.port_given else None,
            timeout=context.timeout,
        ),
    )
    evidence: dict[str, Any] = {"view": view.evidence()}
    if view.installed is False:
        return Observation(
            "done",
            Status.SKIP,
            "no SQL Server is installed on this machine: diagnosing over the network",
            evidence,
            {},
        )
    findings = local.compare(
        target.port if not target.needs_browser else None, view, instance=target.instance
    )
    evidence["findings"] = [finding.to_json() for finding in findings]
    serious = [f for f in findings if f.severity is not local.Severity.INFO]
    facts: dict[str, Any] = {
        "extra_fixes": [fix for f in serious for fix in f.fix_ids],
        "verdict_notes": [f"On this machine: {f.title}. {f.detail}" for f in serious],
    }
    summary = view.summary()
    if serious:
        summary += f"; {len(serious)} finding(s): " + "; ".join(f.title for f in serious)
    return Observation("done", Status.WARN if serious else Status.PASS, summary, evidence, facts)


def _login_skipped(context: Context) -> str:
    target = context.target
    if target.integrated_security:
        return "Windows authentication was asked for, but the login step was skipped"
    if target.user and target.password is None:
        return (
            f"a user ({target.user}) but no password was given (the password comes from the "
            "connection string, --password-env VAR, credentials saved in the keyring, or in the "
            "encrypted file with --passphrase-env VAR)"
        )
    reason = "no credentials were given (User ID and Password in the connection string, or "
    reason += "--user and --password-env, or --passphrase-env for the encrypted file)"
    if error_join.about_the_login(context):
        reason += "; the error text you saw is about the login, so give them to test it"
    return reason


def default_login_wanted(context: Context) -> str:
    # the skip verdict says why no login was tried: known only now, just before the question
    context.facts["login_skipped"] = _login_skipped(context)
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
                alias_name=context.facts.get("alias_name", alias.detail),
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
