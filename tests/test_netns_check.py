"""`sqlreach check` across a real firewall: the lab in one network namespace, the check in
another, nftables rules in between (DROP, REJECT with a reset, ICMP host unreachable, UDP 1434
dropped). No packet leaves the two namespaces the test creates. Needs root, `ip` and `nft`;
otherwise skipped with the reason."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests import netns

pytestmark = pytest.mark.netns
TIMEOUT = 1.0

SERVE = """
import asyncio, sys
from tui.lab.scenarios import scenario
from tui.lab.server import LabServer

async def main():
    servers = [await LabServer(scenario(name), sys.argv[1]).start() for name in sys.argv[2:]]
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def _rules(body: str) -> str:
    return f"""
    table inet sqlreach_check {{
        chain input {{
            type filter hook input priority 0; policy accept;
            {body}
        }}
    }}
    """


@pytest.fixture
def net() -> Iterator[netns.Pair]:
    reason = netns.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with netns.pair() as pair:
        yield pair


def _serve(net: netns.Pair, *scenarios: str) -> None:
    net.spawn(net.server, sys.executable, "-c", SERVE, net.server.ipv4, *scenarios)


def _check(net: netns.Pair, target: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    started = time.perf_counter()
    done = net.client.run(
        sys.executable,
        "-m",
        "tui",
        "check",
        target,
        "--json",
        "--timeout",
        str(timeout),
        "--remote",
        check=False,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    document["_wall_s"] = time.perf_counter() - started
    return document


def test_drop_is_filtered_within_the_timeout(net: netns.Pair) -> None:
    _serve(net, "healthy-default")
    net.server.nft(_rules("tcp dport 1433 drop"))
    document = _check(net, net.server.ipv4)
    assert document["root_cause"] == "PORT_FILTERED"
    assert "did not answer within" in document["summary"]
    assert document["elapsed_ms"] < TIMEOUT * 1000 + 400


def test_reject_with_reset_is_refused(net: netns.Pair) -> None:
    _serve(net, "healthy-default")
    net.server.nft(_rules("tcp dport 1433 reject with tcp reset\n udp dport 1434 drop"))
    document = _check(net, net.server.ipv4)
    assert document["root_cause"] == "PORT_REFUSED"


def test_icmp_host_unreachable(net: netns.Pair) -> None:
    _serve(net, "healthy-default")
    net.server.nft(_rules("meta nfproto ipv4 reject with icmp type host-unreachable"))
    document = _check(net, net.server.ipv4)
    assert document["root_cause"] == "HOST_UNREACHABLE"
    assert "10065" in json.dumps(document["steps"])


def test_no_route_is_host_unreachable(net: netns.Pair) -> None:
    document = _check(net, net.unrouted_v4())
    assert document["root_cause"] == "HOST_UNREACHABLE"


def test_udp_1434_dropped_in_front_of_a_named_instance(net: netns.Pair) -> None:
    _serve(net, "healthy-named")
    net.server.nft(_rules("udp dport 1434 drop"))
    document = _check(net, f"{net.server.ipv4}\\SALES")
    assert document["root_cause"] == "BROWSER_UNAVAILABLE"
    assert "No answer from the SQL Server Browser" in document["summary"]


def test_the_open_path_is_ok_across_namespaces(net: netns.Pair) -> None:
    _serve(net, "healthy-named")
    document = _check(net, f"Server={net.server.ipv4}\\SALES;User ID=sa;Password=Lab-Passw0rd!")
    assert document["root_cause"] == "OK"
