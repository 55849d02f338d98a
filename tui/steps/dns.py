"""The name-resolution step: the host name to addresses, as the client's resolver sees it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.knowledge import azure
from tui.probes import dns
from tui.probes.dns import DnsStatus
from tui.steps.browser import start_browser
from tui.steps.facts import DnsFailure, Endpoint
from tui.steps.transport import local_transport, remote_pipe


class DnsOutcome(StrEnum):
    RESOLVED = "resolved"
    RESOLVED_NAMED = "resolved-named"  # a named instance without a port: the Browser is next
    RESOLVED_DAC = "resolved-dac"  # admin: without a port: the Browser's DAC answer is next
    RESOLVED_PIPE = "resolved-pipe"  # np: to another machine: SMB on 445 is next
    LOCAL_TRANSPORT = "local-transport"  # LocalDB, shared memory, a local pipe: no network
    NOT_RESOLVED = "not-resolved"


async def resolve(context: Context) -> Observation:
    target = context.target
    endpoint = context.facts.get(Endpoint)
    local = local_transport(target)
    if local is not None:  # nothing to resolve: '(localdb)' is no host name
        return Observation(
            DnsOutcome.LOCAL_TRANSPORT,
            Status.SKIP,
            f"no name to resolve: {local.kind} never leaves this machine",
            {"transport": local.kind},
            facts=(local,),
        )
    host = endpoint.host
    result = await context.probe(
        ("dns", host),
        f"resolving {host}",
        lambda: dns.probe_dns(host, timeout=context.timeout, **dns_server(context)),
    )
    evidence = result.evidence()
    if result.addresses:
        moved = endpoint.moved(
            addresses=tuple(result.addresses), address=result.addresses[0], fqdn=_fqdn(host, result)
        )
        # several addresses are judged by the TCP step, as the person's client connects
        notes = [
            dns.FINDING_TEXT[finding]
            for finding in result.findings
            if finding is not dns.Finding.MULTIPLE_ADDRESSES
        ]
        status = Status.WARN if result.findings else Status.PASS
        fixes: tuple[str, ...] = ()
        found = azure.recognise(host)
        port = endpoint.port or target.port
        if found is not None and found.port != (port or 1433):
            notes.append(
                f"{host} is {found.describe()}, which listens on port {found.port}, not "
                f"{port or 1433}: give the port (host,{found.port})"
            )
            status = Status.WARN
        private = _private_endpoint_public(host, result)
        if private:
            notes.append(private)
            fixes = ("azure-private-endpoint",)
            status = Status.WARN
        pipe = remote_pipe(target)
        if pipe is not None:
            return Observation(
                DnsOutcome.RESOLVED_PIPE,
                status,
                result.summary(),
                evidence,
                facts=(moved, pipe),
                notes=(f"Name resolution: {'; '.join(notes)}.",) if notes else (),
            )
        if target.dac and not target.port_given:
            outcome = DnsOutcome.RESOLVED_DAC
        elif target.needs_browser:
            outcome = DnsOutcome.RESOLVED_NAMED
        else:
            outcome = DnsOutcome.RESOLVED
        if outcome is DnsOutcome.RESOLVED_NAMED:
            for address in result.addresses:  # speculative: the Browser is next
                start_browser(context, address, "inst")
                start_browser(context, address, "ex")
        return Observation(
            outcome,
            status,
            result.summary(),
            evidence,
            facts=(moved,),
            notes=(f"Name resolution: {'; '.join(notes)}.",) if notes else (),
            fixes=fixes,
        )
    return Observation(
        DnsOutcome.NOT_RESOLVED,
        Status.FAIL,
        result.summary(),
        evidence,
        facts=(DnsFailure(dns_failure(result)),),
    )


def dns_server(context: Context) -> dict[str, Any]:
    """Only the DNS server the person named (`--dns-server`), when they named one."""
    server = context.settings.dns
    if server is None:
        return {}
    return {"nameservers": [server.address], "port": server.port, "system_resolver": False}


def dns_failure(result: dns.DnsResult) -> str:
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


def _fqdn(host: str, result: dns.DnsResult) -> str | None:
    """The host's full name: itself when it has a domain, else the reverse lookup's name that
    starts with it (what an SPN needs: MSSQLSvc/<FQDN>:<port>)."""
    if "." in host.strip(".") and not host.replace(".", "").isdigit():
        return host.strip(".")
    short = host.casefold()
    for reverse in result.reverse:
        for name in reverse.names:
            if name.casefold().rstrip(".").startswith(short + "."):
                return name.rstrip(".")
    return None


def _private_endpoint_public(host: str, result: dns.DnsResult) -> str | None:
    """An Azure SQL name whose CNAME chain goes through privatelink.* (the server has a
    private endpoint) but that resolves here to a public address: this client's DNS lacks the
    private zone and reaches the public gateway instead (refused when public access is off)."""
    found = azure.recognise(host)
    if found is None or found.private_link:
        return None
    cnames = tuple(name for lookup in result.forward for name in lookup.cnames)
    if not azure.private_endpoint_public(cnames, tuple(result.addresses)):
        return None
    return (
        f"{host} leads through a privatelink name ({', '.join(cnames[:2])}): the server has a "
        f"private endpoint, but this machine resolves it to the public address "
        f"{', '.join(result.addresses)}, so it reaches the public gateway, not the private "
        "endpoint (its DNS has no privatelink zone)"
    )
