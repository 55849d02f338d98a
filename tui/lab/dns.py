"""The lab's own DNS server: answers A and AAAA questions for the scenario's names (an Azure SQL
gateway, a listener with two addresses) and NXDOMAIN for every other name, so a redirect to a
name nobody registered fails as it does in the field.

It is authoritative for nothing else and forwards nothing: no question ever leaves loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Mapping, Sequence
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

TTL = 30


def _key(name: str) -> str:
    return name.rstrip(".").casefold()


def answer(query_bytes: bytes, names: Mapping[str, Sequence[str]]) -> bytes | None:
    """The reply to one query, or None for what cannot be parsed (a real server drops it)."""
    try:
        query = dns.message.from_wire(query_bytes)
    except dns.exception.DNSException:
        return None
    if not query.question:
        return None
    question = query.question[0]
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    addresses = names.get(_key(question.name.to_text()))
    if addresses is None:
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()
    version = {dns.rdatatype.A: 4, dns.rdatatype.AAAA: 6}.get(question.rdtype)
    matching = [a for a in addresses if ipaddress.ip_address(a).version == version]
    if matching:
        rdtype = dns.rdatatype.to_text(question.rdtype)
        rrset = dns.rrset.from_text_list(question.name, TTL, "IN", rdtype, matching)
        response.answer.append(rrset)
    # in the scenario's order, every time: a real server may rotate them (round robin), and
    # a scenario about the first address must say which one that is
    return response.to_wire(want_shuffle=False)  # the name exists: NODATA for other types


class DnsProtocol(asyncio.DatagramProtocol):
    def __init__(self, names: Mapping[str, Sequence[str]]) -> None:
        self.names = {_key(name): tuple(values) for name, values in names.items()}
        self.transport: asyncio.DatagramTransport | None = None
        self.queries = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.queries += 1
        reply = answer(data[:4096], self.names)
        if reply is not None and self.transport is not None:
            with contextlib.suppress(OSError):
                self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        pass
