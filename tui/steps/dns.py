"""The name-resolution step: the host name to addresses, as the client's resolver sees it."""

from __future__ import annotations

from enum import StrEnum

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.probes import dns
from tui.probes.dns import DnsStatus
from tui.steps.browser import start_browser
from tui.steps.facts import DnsFailure, Endpoint


class DnsOutcome(StrEnum):
    RESOLVED = "resolved"
    RESOLVED_NAMED = "resolved-named"  # a named instance without a port: the Browser is next
    NOT_RESOLVED = "not-resolved"


async def resolve(context: Context) -> Observation:
    target = context.target
    endpoint = context.facts.get(Endpoint)
    host = endpoint.host
    result = await context.probe(
        ("dns", host),
        f"resolving {host}",
        lambda: dns.probe_dns(host, timeout=context.timeout, **context.settings.get("dns", {})),
    )
    evidence = result.evidence()
    if result.addresses:
        moved = endpoint.moved(addresses=tuple(result.addresses), address=result.addresses[0])
        # several addresses are judged by the TCP step, as the person's client connects
        notes = [
            dns.FINDING_TEXT[finding]
            for finding in result.findings
            if finding is not dns.Finding.MULTIPLE_ADDRESSES
        ]
        status = Status.WARN if result.findings else Status.PASS
        outcome = DnsOutcome.RESOLVED_NAMED if target.needs_browser else DnsOutcome.RESOLVED
        if target.needs_browser:
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
        )
    return Observation(
        DnsOutcome.NOT_RESOLVED,
        Status.FAIL,
        result.summary(),
        evidence,
        facts=(DnsFailure(dns_failure(result)),),
    )


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
