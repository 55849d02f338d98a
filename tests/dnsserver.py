"""A small real DNS server for tests: dnspython messages over UDP on a loopback address.

It answers from a dictionary of records, and can misbehave on purpose per name: never answer,
answer garbage, answer with the truncation bit, answer SERVFAIL, or hand the raw query to a
function that returns whatever bytes a test wants (hostile answers for Hypothesis). It runs in a
thread, so the probe under test (in the event loop) and the server never share a loop; a
subprocess test can start one inside its own namespace the same way.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.reversename
import dns.rrset

GARBAGE = b"\x00\x00\xff\xffnot a DNS message at all"


class Behaviour(StrEnum):
    ANSWER = "answer"
    SILENT = "silent"
    GARBAGE = "garbage"
    TRUNCATED = "truncated"
    SERVFAIL = "servfail"


Responder = Callable[[bytes], bytes | None]


@dataclass
class DnsServer:
    """Records are keyed (name, type): `("db.corp.test", "A"): ["127.0.0.7"]`."""

    address: str
    records: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    default: Behaviour = Behaviour.ANSWER
    responder: Responder | None = None  # when set, it answers every query
    port: int = 0
    queries: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, rdtype: str, *values: str) -> None:
        self.records.setdefault((_key(name), rdtype), []).extend(values)

    def add_ptr(self, address: str, name: str) -> None:
        self.add(dns.reversename.from_address(address).to_text(), "PTR", _absolute(name))

    def reply(self, wire: bytes) -> bytes | None:
        """The bytes to send back for one query, or None for silence."""
        if self.responder is not None:
            return self.responder(wire)
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None  # a real server ignores what it cannot parse
        if not query.question:
            return None
        question = query.question[0]
        name, rdtype = _key(question.name.to_text()), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        behaviour = self.behaviours.get(name, self.default)
        if behaviour is Behaviour.SILENT:
            return None
        if behaviour is Behaviour.GARBAGE:
            return GARBAGE
        response = dns.message.make_response(query)
        if behaviour is Behaviour.TRUNCATED:
            response.flags |= dns.flags.TC
            return response.to_wire()
        if behaviour is Behaviour.SERVFAIL:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        self._answer(response, name, rdtype)
        return response.to_wire()

    def _answer(self, response: dns.message.Message, name: str, rdtype: str) -> None:
        if not any(key[0] == name for key in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
            return
        cname = self.records.get((name, "CNAME"))
        if cname and rdtype != "CNAME":
            response.answer.append(dns.rrset.from_text_list(name + ".", 60, "IN", "CNAME", cname))
            target = _key(cname[0])
            values, name = self.records.get((target, rdtype), []), target
        else:
            values = self.records.get((name, rdtype), [])
        if values:
            response.answer.append(dns.rrset.from_text_list(name + ".", 60, "IN", rdtype, values))

    @contextlib.contextmanager
    def running(self) -> Iterator[DnsServer]:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((self.address, self.port))
        sock.settimeout(0.05)
        self.port = sock.getsockname()[1]
        stop = threading.Event()
        thread = threading.Thread(target=self._serve, args=(sock, stop), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=2)
            sock.close()

    def _serve(self, sock: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            answer = self.reply(wire)
            if answer is not None:
                with contextlib.suppress(OSError):
                    sock.sendto(answer, peer)


def _key(name: str) -> str:
    return name.rstrip(".").lower()


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."
