"""Name resolution, seen both ways: what DNS says and what this machine's resolver says.

Drivers resolve through the system resolver (`getaddrinfo`), which reads the hosts file first;
DNS servers are what colleagues and other machines see. The probe asks both at once, reads the
hosts file itself, and reverse-resolves every address (the `ping -a` check), so a stale hosts
entry, a name that points at loopback or a listener with several addresses is said out loud.

DNS questions go to the configured nameservers (resolv.conf, or the registry on Windows) or to
the `nameservers` given; tests give an in-process server on a loopback port that way. dnspython
drops malformed or mismatched UDP answers (as a stub resolver must, against spoofing), so a
server that only sends garbage looks silent: TIMEOUT. Two behaviours of glibc worth knowing: an
empty resolv.conf makes it ask 127.0.0.1, and a closed port 53 is not seen by dnspython's
unconnected UDP socket (also TIMEOUT).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tui.probes import hostsfile
from tui.probes.base import Evidence, JsonValue, Stopwatch, in_daemon_thread
from tui.probes.errors import BY_NUMBER, WinsockCode, describe_os_error

if TYPE_CHECKING:  # dnspython loads when a name is asked of DNS, never for an IP address
    import dns.asyncresolver
    import dns.resolver

LOCAL_NAMES: Final = frozenset({"localhost", "localhost.localdomain", ".", "(local)"})
PER_TRY_TIMEOUT: Final = 2.0  # one question to one server; the probe's timeout bounds the rest


class DnsStatus(StrEnum):
    RESOLVED = "RESOLVED"
    LITERAL = "LITERAL"  # an IP address: nothing to resolve
    NXDOMAIN = "NXDOMAIN"  # the name does not exist
    NO_ANSWER = "NO_ANSWER"  # the name exists (NOERROR) but has no record of that type
    TIMEOUT = "TIMEOUT"
    NO_NAMESERVER = "NO_NAMESERVER"  # no DNS server configured at all
    ERROR = "ERROR"  # server failure, garbage answers, a name DNS cannot carry
    SKIPPED = "SKIPPED"


class Finding(StrEnum):
    HOSTS_FILE_ENTRY = "HOSTS_FILE_ENTRY"
    HOSTS_FILE_OVERRIDE = "HOSTS_FILE_OVERRIDE"
    RESOLVERS_DISAGREE = "RESOLVERS_DISAGREE"
    MULTIPLE_ADDRESSES = "MULTIPLE_ADDRESSES"
    LOOPBACK_FOR_REMOTE_NAME = "LOOPBACK_FOR_REMOTE_NAME"
    REVERSE_MISMATCH = "REVERSE_MISMATCH"


FINDING_TEXT: Final = {
    Finding.HOSTS_FILE_ENTRY: "the hosts file names this host (it agrees with DNS today, "
    "but will go stale when the server moves)",
    Finding.HOSTS_FILE_OVERRIDE: "the hosts file overrides DNS for this name",
    Finding.RESOLVERS_DISAGREE: "this machine's resolver and DNS give different answers "
    "(cache, DNS suffix, or another name service)",
    Finding.MULTIPLE_ADDRESSES: "the name has several addresses: an availability group "
    "listener or a multi-subnet cluster, where a client without MultiSubnetFailover=True tries "
    "them one at a time, in order",
    Finding.LOOPBACK_FOR_REMOTE_NAME: "a remote name resolves to a loopback address: "
    "connections stay on this machine",
    Finding.REVERSE_MISMATCH: "the reverse lookup gives another machine's name "
    "(ping -a disagrees): stale DNS records or the wrong address",
}

# Resolution outcomes ranked for the overall answer when no address came back.
_FAILURE_RANK: Final = (
    DnsStatus.NXDOMAIN,
    DnsStatus.NO_NAMESERVER,
    DnsStatus.TIMEOUT,
    DnsStatus.ERROR,
    DnsStatus.NO_ANSWER,
)


@dataclass(frozen=True)
class RecordLookup:
    """One DNS question (A, AAAA or PTR) and what came back."""

    rdtype: str
    status: DnsStatus
    values: tuple[str, ...] = ()
    qname: str | None = None  # the name that answered, after the DNS suffix search
    canonical_name: str | None = None  # after CNAMEs
    detail: str = ""
    elapsed_ms: float = 0.0
    cnames: tuple[str, ...] = ()  # every CNAME target on the way (a privatelink name, say)

    def evidence(self) -> Evidence:
        return {
            "rdtype": self.rdtype,
            "status": self.status.value,
            "values": list(self.values),
            "qname": self.qname,
            "canonical_name": self.canonical_name,
            "cnames": list(self.cnames),
            "detail": self.detail,
            "elapsed_ms": self.elapsed_ms,
        }


@dataclass(frozen=True)
class SystemLookup:
    """What `getaddrinfo` (the resolver drivers use, hosts file included) said."""

    status: DnsStatus
    addresses: tuple[str, ...] = ()
    error: WinsockCode | None = None
    elapsed_ms: float = 0.0

    def evidence(self) -> Evidence:
        return {
            "status": self.status.value,
            "addresses": list(self.addresses),
            "error": None if self.error is None else self.error.label(),
            "elapsed_ms": self.elapsed_ms,
        }


@dataclass(frozen=True)
class ReverseLookup:
    """The PTR names of one address, and whether one of them is the name asked for."""

    address: str
    status: DnsStatus
    names: tuple[str, ...] = ()
    matches: bool = False
    detail: str = ""

    def evidence(self) -> Evidence:
        return {
            "address": self.address,
            "status": self.status.value,
            "names": list(self.names),
            "matches": self.matches,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class DnsResult:
    host: str
    status: DnsStatus
    addresses: tuple[str, ...]  # what a client will try, IPv6 first as Windows orders them
    forward: tuple[RecordLookup, ...]  # A and AAAA from the DNS servers
    system: SystemLookup
    nameservers: tuple[str, ...]
    port: int
    hosts_path: str | None
    hosts_addresses: tuple[str, ...]
    hosts_error: str | None
    reverse: tuple[ReverseLookup, ...]
    findings: tuple[Finding, ...]
    timeout: float
    elapsed_ms: float

    @property
    def dns_status(self) -> DnsStatus:
        return _combine([lookup.status for lookup in self.forward])

    @property
    def dns_addresses(self) -> tuple[str, ...]:
        return tuple(value for lookup in self.forward for value in lookup.values)

    def evidence(self) -> Evidence:
        forward: list[JsonValue] = [lookup.evidence() for lookup in self.forward]
        reverse: list[JsonValue] = [lookup.evidence() for lookup in self.reverse]
        return {
            "host": self.host,
            "status": self.status.value,
            "addresses": list(self.addresses),
            "dns_status": self.dns_status.value,
            "nameservers": list(self.nameservers),
            "port": self.port,
            "forward": forward,
            "system": self.system.evidence(),
            "hosts_file": {
                "path": self.hosts_path,
                "addresses": list(self.hosts_addresses),
                "error": self.hosts_error,
            },
            "reverse": reverse,
            "findings": [finding.value for finding in self.findings],
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        return _summary(self)


async def probe_dns(
    host: str,
    *,
    timeout: float,
    nameservers: Sequence[str] | None = None,
    port: int = 53,
    hosts_file: Path | None = None,
    resolv_conf: Path | None = None,
    system_resolver: bool = True,
) -> DnsResult:
    """Resolve `host` through DNS and the system resolver at once, all within `timeout` seconds.

    `resolv_conf` replaces /etc/resolv.conf when no `nameservers` are given; `system_resolver`
    False leaves getaddrinfo out (its questions go to the machine's own DNS servers).
    """
    clock = Stopwatch(timeout)
    name = host.strip()
    hosts_path = hosts_file if hosts_file is not None else hostsfile.default_path()
    literal = _literal(name)
    if literal is not None:
        return DnsResult(
            host=name,
            status=DnsStatus.LITERAL,
            addresses=(literal,),
            forward=(),
            system=SystemLookup(DnsStatus.SKIPPED),
            nameservers=(),
            port=port,
            hosts_path=None,
            hosts_addresses=(),
            hosts_error=None,
            reverse=(),
            findings=(),
            timeout=timeout,
            elapsed_ms=clock.elapsed_ms(),
        )

    resolver: dns.asyncresolver.Resolver | None
    servers: tuple[str, ...]
    config_error: RecordLookup | None
    if _never_asked_of_dns(name):
        resolver, servers = None, ()
        config_error = RecordLookup(
            "", DnsStatus.SKIPPED, detail="'localhost' names are never sent to DNS (RFC 6761)"
        )
    else:
        resolver, servers, config_error = _make_resolver(nameservers, port, resolv_conf)
    system_task = _system_lookup(name, clock) if system_resolver else _skipped_system_lookup()
    aaaa, a, system, (hosts_addresses, hosts_error) = await asyncio.gather(
        _forward(resolver, config_error, name, "AAAA", clock),
        _forward(resolver, config_error, name, "A", clock),
        system_task,
        _read_hosts(hosts_path, name, clock),
    )
    if _never_asked_of_dns(name):  # RFC 6761: always the loopback address, never asked of DNS
        why = "'localhost' names are the loopback address and never sent to DNS (RFC 6761)"
        aaaa = RecordLookup("AAAA", DnsStatus.RESOLVED, ("::1",), detail=why)
        a = RecordLookup("A", DnsStatus.RESOLVED, ("127.0.0.1",), detail=why)
    forward = (aaaa, a)
    dns_addresses = tuple(value for lookup in forward for value in lookup.values)
    # Every platform's resolver reads the hosts file before asking DNS.
    addresses = _ipv6_first(system.addresses or hosts_addresses or dns_addresses)
    known_names = _known_names(name, forward)
    reverse = await _reverse_all(
        resolver,
        config_error,
        _ipv6_first(_unique(addresses + dns_addresses)),
        known_names,
        clock,
    )
    status = _overall(forward, system, hosts_addresses)
    return DnsResult(
        host=name,
        status=status,
        addresses=addresses,
        forward=forward,
        system=system,
        nameservers=servers,
        port=port,
        hosts_path=str(hosts_path),
        hosts_addresses=hosts_addresses,
        hosts_error=hosts_error,
        reverse=reverse,
        findings=_findings(name, forward, system, hosts_addresses, addresses, reverse),
        timeout=timeout,
        elapsed_ms=clock.elapsed_ms(),
    )


# --- DNS servers ---------------------------------------------------------------------------


def _make_resolver(
    nameservers: Sequence[str] | None, port: int, resolv_conf: Path | None
) -> tuple[dns.asyncresolver.Resolver | None, tuple[str, ...], RecordLookup | None]:
    """A resolver for the given or configured servers, or the reason there is none."""
    import dns.asyncresolver
    import dns.exception
    import dns.resolver

    try:
        if nameservers is not None:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = list(nameservers)
        elif resolv_conf is not None:
            resolver = dns.asyncresolver.Resolver(filename=str(resolv_conf))
        else:
            resolver = dns.asyncresolver.Resolver()
    except dns.resolver.NoResolverConfiguration as error:
        detail = f"no DNS server configured ({error})"
        return None, (), RecordLookup("", DnsStatus.NO_NAMESERVER, detail=detail)
    except (ValueError, OSError, dns.exception.DNSException) as error:
        detail = f"bad DNS server setting: {error}"
        return None, tuple(nameservers or ()), RecordLookup("", DnsStatus.ERROR, detail=detail)
    if not resolver.nameservers:
        detail = "no DNS server configured"
        return None, (), RecordLookup("", DnsStatus.NO_NAMESERVER, detail=detail)
    resolver.port = port
    resolver.timeout = PER_TRY_TIMEOUT
    resolver.cache = None
    return resolver, tuple(str(server) for server in resolver.nameservers), None


async def _forward(
    resolver: dns.asyncresolver.Resolver | None,
    config_error: RecordLookup | None,
    name: str,
    rdtype: str,
    clock: Stopwatch,
) -> RecordLookup:
    if resolver is None:
        assert config_error is not None
        return RecordLookup(rdtype, config_error.status, detail=config_error.detail)
    return await _ask(resolver, name, rdtype, clock)


async def _ask(
    resolver: dns.asyncresolver.Resolver,
    name: str,
    rdtype: str,
    clock: Stopwatch,
) -> RecordLookup:
    """One question (with the DNS suffix search the OS would do), bounded by the budget."""
    import dns.exception
    import dns.resolver

    lap = clock.lap()
    took = lap.elapsed_ms
    remaining = lap.remaining()
    if remaining <= 0:
        return RecordLookup(rdtype, DnsStatus.TIMEOUT, detail="no time left")
    try:
        async with asyncio.timeout(remaining):
            if rdtype == "PTR":
                answer = await resolver.resolve_address(name, lifetime=remaining)
            else:
                answer = await resolver.resolve(name, rdtype, search=True, lifetime=remaining)
    except dns.resolver.NXDOMAIN:
        return RecordLookup(rdtype, DnsStatus.NXDOMAIN, detail="no such name", elapsed_ms=took())
    except dns.resolver.NoAnswer:
        detail = f"the name exists but has no {rdtype} record"
        return RecordLookup(rdtype, DnsStatus.NO_ANSWER, detail=detail, elapsed_ms=took())
    except (TimeoutError, dns.exception.Timeout):
        detail = f"no answer within {clock.budget:g} s"
        return RecordLookup(rdtype, DnsStatus.TIMEOUT, detail=detail, elapsed_ms=took())
    except dns.resolver.NoNameservers as error:
        return RecordLookup(
            rdtype, DnsStatus.ERROR, detail=_servers_failed(error), elapsed_ms=took()
        )
    except (dns.exception.DNSException, ValueError, OSError, UnicodeError) as error:
        detail = f"{type(error).__name__}: {error}"
        return RecordLookup(rdtype, DnsStatus.ERROR, detail=detail, elapsed_ms=took())
    values = tuple(_unique([_rdata_text(rdata, rdtype) for rdata in answer]))
    chain = [
        _text(rdata.target) or ""
        for rrset in (answer.response.answer if answer.response else ())
        if rrset.rdtype == dns.rdatatype.CNAME
        for rdata in rrset
    ]
    return RecordLookup(
        rdtype,
        DnsStatus.RESOLVED,
        values=values,
        qname=_text(answer.qname),
        canonical_name=_text(answer.canonical_name),
        elapsed_ms=took(),
        cnames=tuple(name for name in chain if name)[:16],
    )


def _servers_failed(error: dns.resolver.NoNameservers) -> str:
    """'127.0.0.5@53 answered SERVFAIL', or the error each server gave."""
    import dns.exception
    import dns.message

    parts: list[str] = []
    for entry in error.kwargs.get("errors", []):
        server, tcp, _port, problem, _response = entry
        if isinstance(problem, str):  # dnspython puts the rcode text here
            what = f"answered {problem}"
        elif isinstance(problem, dns.message.Truncated):
            what = "sent a truncated answer"
        elif isinstance(problem, OSError):
            code = describe_os_error(problem)
            what = f"{code.meaning} ({code.label()})"
        elif isinstance(problem, dns.exception.FormError):
            what = f"sent a malformed answer ({problem})"
        else:
            what = f"failed: {type(problem).__name__}: {problem}"
        where = server.split(":", 1)[1] if server.startswith("Do53:") else server
        parts.append(f"{where}{' over TCP' if tcp else ''} {what}")
    return "; ".join(_unique(parts)) or "every DNS server failed"


def _rdata_text(rdata: object, rdtype: str) -> str:
    if rdtype == "PTR":
        return _text(getattr(rdata, "target", "")) or ""
    return str(getattr(rdata, "address", rdata))


def _text(name: object) -> str | None:
    import dns.name

    if name is None:
        return None
    text = name.to_text() if isinstance(name, dns.name.Name) else str(name)
    return text.rstrip(".") or text


# --- the system resolver and the hosts file ------------------------------------------------


async def _system_lookup(name: str, clock: Stopwatch) -> SystemLookup:
    def lookup() -> list[str]:
        infos = socket.getaddrinfo(name, None, socket.AF_UNSPEC, socket.SOCK_STREAM)
        return [str(info[4][0]) for info in infos]

    lap = clock.lap()
    took = lap.elapsed_ms
    try:
        async with asyncio.timeout(lap.remaining()):
            found = await in_daemon_thread(lookup)
    except TimeoutError:
        return SystemLookup(DnsStatus.TIMEOUT, error=BY_NUMBER[11002], elapsed_ms=took())
    except OSError as error:
        code = describe_os_error(error)
        status = _SYSTEM_STATUS.get(code.number or 0, DnsStatus.ERROR)
        return SystemLookup(status, error=code, elapsed_ms=took())
    except (UnicodeError, ValueError) as error:  # a name getaddrinfo cannot even encode
        code = WinsockCode(None, type(error).__name__, str(error))
        return SystemLookup(DnsStatus.ERROR, error=code, elapsed_ms=took())
    return SystemLookup(DnsStatus.RESOLVED, tuple(_unique(found)), elapsed_ms=took())


_SYSTEM_STATUS: Final = {
    11001: DnsStatus.NXDOMAIN,
    11002: DnsStatus.TIMEOUT,
    11004: DnsStatus.NO_ANSWER,
}


async def _skipped_system_lookup() -> SystemLookup:
    return SystemLookup(DnsStatus.SKIPPED)


async def _read_hosts(
    path: Path, name: str, clock: Stopwatch
) -> tuple[tuple[str, ...], str | None]:
    try:
        async with asyncio.timeout(clock.remaining()):
            found = await in_daemon_thread(lambda: hostsfile.read_addresses(path, name))
    except TimeoutError:
        return (), "reading the hosts file took too long"
    except OSError as error:
        return (), f"cannot read the hosts file: {error.strerror or error}"
    return found, None


# --- reverse lookups -------------------------------------------------------------------------


async def _reverse_all(
    resolver: dns.asyncresolver.Resolver | None,
    config_error: RecordLookup | None,
    addresses: tuple[str, ...],
    known_names: frozenset[str],
    clock: Stopwatch,
) -> tuple[ReverseLookup, ...]:
    async def one(address: str) -> ReverseLookup:
        if resolver is None:
            assert config_error is not None
            return ReverseLookup(address, config_error.status, detail=config_error.detail)
        lookup = await _ask(resolver, address.split("%", 1)[0], "PTR", clock)
        matches = any(_same_host(ptr, known_names) for ptr in lookup.values)
        return ReverseLookup(address, lookup.status, lookup.values, matches, lookup.detail)

    return tuple(await asyncio.gather(*(one(address) for address in addresses)))


def _known_names(host: str, forward: tuple[RecordLookup, ...]) -> frozenset[str]:
    names = {hostsfile.normalise_name(host)}
    for lookup in forward:
        for name in (lookup.qname, lookup.canonical_name):
            if name:
                names.add(hostsfile.normalise_name(name))
    return frozenset(names)


def _same_host(ptr: str, known: frozenset[str]) -> bool:
    """A PTR name matches the full name, or the short name someone typed."""
    ptr_name = hostsfile.normalise_name(ptr)
    if ptr_name in known:
        return True
    short = ptr_name.split(".", 1)[0]
    return any("." not in name and name == short for name in known)


# --- judging ---------------------------------------------------------------------------------


def _combine(statuses: Sequence[DnsStatus]) -> DnsStatus:
    if DnsStatus.RESOLVED in statuses:
        return DnsStatus.RESOLVED
    for status in _FAILURE_RANK:
        if status in statuses:
            return status
    return DnsStatus.ERROR


def _overall(
    forward: tuple[RecordLookup, ...], system: SystemLookup, hosts_addresses: tuple[str, ...]
) -> DnsStatus:
    """Resolved if any way gives an address (the system resolver is what drivers use)."""
    if system.status is DnsStatus.RESOLVED or hosts_addresses:
        return DnsStatus.RESOLVED
    return _combine([lookup.status for lookup in forward])


def _findings(
    host: str,
    forward: tuple[RecordLookup, ...],
    system: SystemLookup,
    hosts_addresses: tuple[str, ...],
    addresses: tuple[str, ...],
    reverse: tuple[ReverseLookup, ...],
) -> tuple[Finding, ...]:
    found: list[Finding] = []
    dns_status = _combine([lookup.status for lookup in forward])
    dns_set = {_plain(value) for lookup in forward for value in lookup.values}
    system_set = {_plain(value) for value in system.addresses}
    dns_says_none = dns_status in (DnsStatus.NXDOMAIN, DnsStatus.NO_ANSWER)
    if hosts_addresses and not _is_local_name(host):
        hosts_set = {_plain(value) for value in hosts_addresses}
        if dns_says_none or (dns_set and not hosts_set <= dns_set):
            found.append(Finding.HOSTS_FILE_OVERRIDE)
        else:
            found.append(Finding.HOSTS_FILE_ENTRY)
    elif not hosts_addresses and _disagree(dns_status, dns_set, system.status, system_set):
        found.append(Finding.RESOLVERS_DISAGREE)
    families = [ipaddress.ip_address(_plain(value)).version for value in addresses]
    if families.count(4) > 1 or families.count(6) > 1:
        found.append(Finding.MULTIPLE_ADDRESSES)
    if not _is_local_name(host) and any(_is_loopback(value) for value in addresses):
        found.append(Finding.LOOPBACK_FOR_REMOTE_NAME)
    if any(lookup.names and not lookup.matches for lookup in reverse):
        found.append(Finding.REVERSE_MISMATCH)
    return tuple(found)


def _disagree(
    dns_status: DnsStatus, dns_set: set[str], system_status: DnsStatus, system_set: set[str]
) -> bool:
    """Only when both gave a definite answer: timeouts and errors prove nothing."""
    definite = (DnsStatus.RESOLVED, DnsStatus.NXDOMAIN, DnsStatus.NO_ANSWER)
    if dns_status not in definite or system_status not in definite:
        return False
    if dns_status is DnsStatus.RESOLVED and system_status is DnsStatus.RESOLVED:
        return not system_set <= dns_set
    return (dns_status is DnsStatus.RESOLVED) != (system_status is DnsStatus.RESOLVED)


def _never_asked_of_dns(host: str) -> bool:
    name = hostsfile.normalise_name(host)
    return name in {"localhost", "localhost.localdomain"} or name.endswith(".localhost")


def _is_local_name(host: str) -> bool:
    name = hostsfile.normalise_name(host)
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    own = hostsfile.normalise_name(socket.gethostname())
    return name in (own, own.split(".", 1)[0])


def _is_loopback(address: str) -> bool:
    return ipaddress.ip_address(_plain(address)).is_loopback


def _plain(address: str) -> str:
    return address.split("%", 1)[0]


def _literal(host: str) -> str | None:
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return text if hostsfile.is_ip_literal(text) else None


def _ipv6_first(addresses: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(addresses, key=lambda value: ":" not in value))


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


# --- words -----------------------------------------------------------------------------------


def _summary(result: DnsResult) -> str:
    host, status = result.host, result.status
    if status is DnsStatus.LITERAL:
        return f"{host} is an IP address: no name resolution needed"
    if status is DnsStatus.RESOLVED:
        line = f"{host} resolves to {', '.join(result.addresses)}"
        if result.findings:
            first = result.findings[0]
            line += f"; {FINDING_TEXT[first]}"
            if first in (Finding.HOSTS_FILE_OVERRIDE, Finding.RESOLVERS_DISAGREE):
                said = ", ".join(result.dns_addresses) or result.dns_status.value
                line += f" (DNS says {said})"
        return line
    if status is DnsStatus.NXDOMAIN:
        return f"{host} does not exist in DNS (NXDOMAIN; Windows says 11001 WSAHOST_NOT_FOUND)"
    if status is DnsStatus.NO_ANSWER:
        return f"{host} exists in DNS but has no address record (11004 WSANO_DATA)"
    if status is DnsStatus.TIMEOUT:
        servers = ", ".join(result.nameservers) or "the DNS server"
        return f"{servers} did not answer for {host} within {result.timeout:g} s"
    if status is DnsStatus.NO_NAMESERVER:
        return f"cannot look {host} up: this machine has no DNS server configured"
    details = [lookup.detail for lookup in result.forward if lookup.detail]
    return f"looking {host} up failed: {details[0] if details else 'unknown error'}"
