"""The early "filtered" call across a slow, lossy link (200 ms round trip, 50 ms jitter, 1% loss
each way; `tests.slowlink`): a slow but open port is never called filtered, a dropped one is,
and a host that answers nothing is waited out. IPv4 and IPv6. Needs root, `ip`, `nft` and TUN;
otherwise skipped with the reason. `make bench` runs the false-call count with 200 tries."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests import falsecalls, netns, slowlink
from tests.test_netns_check import _check

pytestmark = [pytest.mark.netns, pytest.mark.slow]


def _skip_unless_possible() -> None:
    reason = slowlink.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


def test_a_slow_open_port_is_never_called_filtered() -> None:
    _skip_unless_possible()
    tally = falsecalls.run(slowlink.Link(), 30)
    assert tally.false_filtered == 0, tally.filtered
    assert tally.causes == {"OK": 30}


def test_when_every_first_syn_is_lost_the_resend_is_waited_for() -> None:
    """Only the kernel's resend (at 1 s) reaches the port; its answer comes ~1.2 s in."""
    _skip_unless_possible()
    tally = falsecalls.run(slowlink.Link(first_syn_lost=1433), 10)
    assert tally.false_filtered == 0, tally.filtered
    assert tally.causes == {"OK": 10}
    assert tally.slowest_tcp_ms >= 1000  # the case was really played: the first SYNs were lost


@pytest.fixture
def net() -> Iterator[netns.Pair]:
    _skip_unless_possible()
    with slowlink.pair(slowlink.Link()) as pair:
        pair.spawn(
            pair.server,
            sys.executable,
            "-c",
            falsecalls.SERVE,
            "healthy-default",
            pair.server.ipv4,
            pair.server.ipv6,
        )
        yield pair


def _drop(net: netns.Pair, rule: str) -> None:
    net.server.nft(
        f"""
        table inet sqlreach_slow {{
            chain input {{
                type filter hook input priority 0; policy accept;
                {rule}
            }}
        }}
        """
    )


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_a_dropped_port_is_called_filtered_long_before_the_timeout(
    net: netns.Pair, family: str
) -> None:
    _drop(net, "tcp dport 1433 drop")
    address = net.server.ipv4 if family == "ipv4" else f"[{net.server.ipv6}]"
    document = _check(net, f"{address},1433", timeout=15)
    assert document["root_cause"] == "PORT_FILTERED"
    assert "ignored" in document["summary"] and "SYNs over" in document["summary"]
    assert "while the host answered on" in document["summary"]
    tcp = next(step for step in document["steps"] if step["id"] == "tcp")
    assert 1000 <= tcp["elapsed_ms"] < 15_000


def test_a_host_that_answers_nothing_is_waited_out(net: netns.Pair) -> None:
    _drop(net, f"ip saddr {net.client.ipv4} drop")
    document = _check(net, f"{net.server.ipv4},1433", timeout=2.5)
    assert document["root_cause"] == "PORT_FILTERED"
    assert "did not answer within 2.5 s" in document["summary"]
    tcp = next(step for step in document["steps"] if step["id"] == "tcp")
    assert tcp["elapsed_ms"] >= 2500 * 0.95


def test_refused_and_open_across_the_slow_link(net: netns.Pair) -> None:
    refused = _check(net, f"{net.server.ipv4},1500", timeout=15)
    assert refused["root_cause"] == "WRONG_PORT"  # 1500 refuses; SQL Server answers on 1433
    opened = _check(net, f"[{net.server.ipv6}],1433", timeout=15)
    assert opened["root_cause"] == "OK"
