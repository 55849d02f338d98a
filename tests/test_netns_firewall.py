"""A real firewall between a real client and a real server: probe_tcp tells each answer apart.

Each test builds its own client and server network namespaces (`tests/netns.py`), loads
nftables rules into the server namespace, and runs `probe_tcp` inside the client namespace in a
subprocess that prints the evidence as JSON. No packet leaves those namespaces. Needs root, `ip`
and `nft`; otherwise every test here is skipped with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests import netns

pytestmark = pytest.mark.netns

TIMEOUT = 1.0
SLACK_S = 0.5  # scheduling and interpreter noise on a busy machine, not a performance claim

OPEN, DROP, RESET, HOST_UNREACHABLE, PROHIBITED, NET_UNREACHABLE, CLOSED = (
    1433, 1500, 1501, 1502, 1503, 1504, 1505,
)  # fmt: skip

RULES = f"""
table inet sqlreach_test {{
    chain input {{
        type filter hook input priority 0; policy accept;
        tcp dport {DROP} drop
        tcp dport {RESET} reject with tcp reset
        meta nfproto ipv4 tcp dport {HOST_UNREACHABLE} reject with icmp type host-unreachable
        meta nfproto ipv4 tcp dport {PROHIBITED} reject with icmp type admin-prohibited
        meta nfproto ipv4 tcp dport {NET_UNREACHABLE} reject with icmp type net-unreachable
        meta nfproto ipv6 tcp dport {PROHIBITED} reject with icmpv6 type admin-prohibited
    }}
}}
"""

# Run inside the client namespace: probe each (address, port) at once, print the evidence.
PROBE = """
import asyncio, json, sys
from tui.probes.tcp import probe_tcp

async def main(timeout, targets):
    pairs = [target.rsplit("|", 1) for target in targets]
    results = await asyncio.gather(
        *(probe_tcp([address], int(port), timeout=timeout) for address, port in pairs)
    )
    print(json.dumps({t: r.evidence()["attempts"][0] for t, r in zip(targets, results)}))

asyncio.run(main(float(sys.argv[1]), sys.argv[2:]))
"""


@pytest.fixture
def net() -> Iterator[netns.Pair]:
    reason = netns.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with netns.pair() as pair:
        yield pair


def probe(net: netns.Pair, timeout: float, *targets: tuple[str, int]) -> dict[str, Any]:
    keys = [f"{address}|{port}" for address, port in targets]
    output = net.client.python(PROBE, str(timeout), *keys, timeout=60)
    results = json.loads(output)
    return {key: results[key] for key in keys}


def test_the_firewall_answers_are_told_apart_over_ipv4(net: netns.Pair) -> None:
    net.listen([OPEN, DROP, RESET, HOST_UNREACHABLE, PROHIBITED, NET_UNREACHABLE])
    net.server.nft(RULES)
    server = net.server.ipv4
    ports = (OPEN, DROP, RESET, HOST_UNREACHABLE, PROHIBITED, NET_UNREACHABLE, CLOSED)
    results = probe(net, TIMEOUT, *((server, port) for port in ports))
    seen = {port: results[f"{server}|{port}"] for port in ports}

    assert seen[OPEN]["status"] == "CONNECTED"
    assert seen[DROP]["status"] == "TIMEOUT"  # the listener is there, the firewall hides it
    assert seen[DROP]["winsock"] == 10060
    assert TIMEOUT * 1000 * 0.9 <= seen[DROP]["elapsed_ms"] <= (TIMEOUT + SLACK_S) * 1000
    assert seen[RESET]["status"] == "REFUSED"
    assert seen[RESET]["winsock_name"] == "WSAECONNREFUSED"
    assert seen[CLOSED]["status"] == "REFUSED"
    assert seen[HOST_UNREACHABLE]["status"] == "HOST_UNREACHABLE"
    assert seen[HOST_UNREACHABLE]["winsock"] == 10065
    assert seen[PROHIBITED]["status"] == "HOST_UNREACHABLE"
    assert seen[NET_UNREACHABLE]["status"] == "NET_UNREACHABLE"
    assert seen[NET_UNREACHABLE]["winsock"] == 10051
    for port in (RESET, HOST_UNREACHABLE, PROHIBITED, NET_UNREACHABLE, CLOSED):
        assert seen[port]["elapsed_ms"] < TIMEOUT * 1000 / 2, seen[port]  # an answer, not a wait


def test_the_firewall_answers_are_told_apart_over_ipv6(net: netns.Pair) -> None:
    net.listen([OPEN, DROP, RESET, PROHIBITED])
    net.server.nft(RULES)
    server = net.server.ipv6
    # Over a veth pair the ICMPv6 answer to the first SYN arrives while connect() still holds
    # the socket, and Linux keeps it only as a soft error (TcpExtLockDroppedIcmps); the answer
    # to the retransmitted SYN, one second later, ends the connect. Hence a timeout above 1 s.
    results = probe(net, 2.5, *((server, port) for port in (OPEN, DROP, RESET, PROHIBITED)))
    seen = {port: results[f"{server}|{port}"] for port in (OPEN, DROP, RESET, PROHIBITED)}

    assert seen[OPEN]["status"] == "CONNECTED"
    assert seen[DROP]["status"] == "TIMEOUT"
    assert seen[RESET]["status"] == "REFUSED"
    # Linux reports ICMPv6 "administratively prohibited" as EACCES, Winsock 10013.
    assert seen[PROHIBITED]["status"] == "HOST_UNREACHABLE"
    assert seen[PROHIBITED]["os_error"] == "EACCES"
    assert seen[PROHIBITED]["winsock"] == 10013


def test_no_route_from_the_client_is_network_unreachable(net: netns.Pair) -> None:
    results = probe(net, TIMEOUT, (net.unrouted_v4(), OPEN), (net.unrouted_v6(), OPEN))
    for evidence in results.values():
        assert evidence["status"] == "NET_UNREACHABLE"
        assert evidence["os_error"] == "ENETUNREACH"


@pytest.mark.slow
def test_a_host_that_never_answers_arp_is_host_unreachable(net: netns.Pair) -> None:
    # Linux gives up after three unanswered ARP requests, one second apart.
    results = probe(net, 6.0, (net.unused_v4(), OPEN))
    (evidence,) = results.values()
    assert evidence["status"] == "HOST_UNREACHABLE"
    assert evidence["os_error"] == "EHOSTUNREACH"
    assert 2000 <= evidence["elapsed_ms"] < 6000


def test_the_client_namespace_sees_only_its_own_link(net: netns.Pair) -> None:
    links = json.loads(net.client.run("ip", "-j", "link", "show").stdout)
    assert sorted(link["ifname"] for link in links) == sorted(["lo", net.client.interface])
    routes = json.loads(net.client.run("ip", "-j", "route", "show").stdout)
    assert all(route.get("dst") != "default" for route in routes)


def test_namespaces_are_removed_even_when_the_test_fails() -> None:
    reason = netns.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with pytest.raises(RuntimeError, match="boom"), netns.pair() as pair:
        names = {pair.client.name, pair.server.name}
        assert names <= set(netns.existing())
        raise RuntimeError("boom")
    assert not names & set(netns.existing())
