"""The lab's dropped port on each system. On Linux the stand-in (a full listen queue) is tested
for real: a connection times out (tests/test_check_scenarios.py: PORT_FILTERED). macOS (a full
queue, which XNU drops) and Windows (a listener that never accepts, SO_CONDITIONAL_ACCEPT, since
Windows refuses a full queue) never ran: `sqlreach lab` says so there."""

from __future__ import annotations

import asyncio
import io
import sys

import pytest

from tests.netutil import random_loopback
from tui.commands.lab import _describe
from tui.lab.scenarios import scenario
from tui.lab.server import LabServer, drop_caveat


def test_the_caveat_names_the_stand_in_where_it_never_ran() -> None:
    windows, mac = drop_caveat("win32"), drop_caveat("darwin")
    assert windows is not None and "SO_CONDITIONAL_ACCEPT" in windows
    assert mac is not None and "full listen queue" in mac
    for text in (windows, mac):
        assert "never ran" in text and "PORT_REFUSED" in text and "10060" in text
    assert drop_caveat("linux") is None


def test_lab_start_prints_the_caveat_with_the_scenario() -> None:
    server = LabServer(scenario("firewall-drop"), "127.0.0.9")
    out = io.StringIO()
    _describe(server, out)
    assert "note:" not in out.getvalue()
    server.caveats.append(drop_caveat("win32") or "")
    out = io.StringIO()
    _describe(server, out)
    assert f"  note: {drop_caveat('win32')}" in out.getvalue()


@pytest.mark.skipif(drop_caveat(sys.platform) is not None, reason="Linux only")
async def test_the_dropped_port_times_out_here() -> None:
    async with LabServer(scenario("firewall-drop"), random_loopback()) as server:
        assert server.caveats == []
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.open_connection(server.address, 1433), 0.5)
