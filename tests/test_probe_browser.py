"""The Browser probe on a network that loses datagrams: it asks again, as real clients do."""

from __future__ import annotations

import asyncio

from tui.lab.browser import BrowserProtocol
from tui.lab.scenarios import scenario
from tui.probes.browser import BROWSER_PORT, BrowserStatus, probe_browser


class LosesFirstRequests(BrowserProtocol):
    """The lab's Browser behind a link that loses the first `lost` requests on the way in."""

    def __init__(self, lost: int) -> None:
        named = scenario("healthy-named")
        super().__init__(named.machine_name, named.instances, silent=False)
        self.lost = lost

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.lost > 0:
            self.lost -= 1
            self.requests += 1
            return
        super().datagram_received(data, addr)


async def _serve(address: str, lost: int) -> tuple[asyncio.DatagramTransport, LosesFirstRequests]:
    loop = asyncio.get_running_loop()
    return await loop.create_datagram_endpoint(
        lambda: LosesFirstRequests(lost), local_addr=(address, BROWSER_PORT)
    )


async def test_a_lost_request_is_asked_again_within_a_one_second_timeout(loopback: str) -> None:
    transport, browser = await _serve(loopback, lost=1)
    try:
        result = await probe_browser(loopback, request="inst", instance="SALES", timeout=1.0)
    finally:
        transport.close()
    assert result.status is BrowserStatus.ANSWERED, result.summary()
    assert result.find("SALES") is not None
    assert browser.requests == 2


async def test_a_browser_that_hears_nothing_is_silent_after_the_timeout(loopback: str) -> None:
    transport, browser = await _serve(loopback, lost=1_000)
    try:
        result = await probe_browser(loopback, request="ex", timeout=0.5)
    finally:
        transport.close()
    assert result.status is BrowserStatus.SILENT
    assert result.elapsed_ms >= 500
    assert browser.requests >= 2  # asked again, not once
