"""Bounded memory: lengths that claim gigabytes allocate nothing; memory follows the input."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from tui.wire import login7, prelogin, ssrp, tds, tokens
from tui.wire.errors import WireError


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def peak_of(function: Callable[[], object]) -> int:
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    with contextlib.suppress(WireError):
        function()
    _, peak = tracemalloc.get_traced_memory()
    return peak - before


LIES = {
    "65535 columns announced, none sent": b"\x81\xfe\xff",
    "a PLP value of 2**62 bytes": (
        b"\x81\x01\x00"
        + struct.pack("<IH", 0, 1)
        + b"\xe7\xff\xff"
        + tokens.DEFAULT_COLLATION
        + b"\x00"
        + b"\xd1"
        + struct.pack("<Q", 2**62)
        + struct.pack("<I", 2**31)
    ),
    "a 4 GB FEATUREEXTACK": b"\xae\x01" + struct.pack("<I", 2**32 - 1),
    "a 4 GB SESSIONSTATE": b"\xe4" + struct.pack("<I", 2**32 - 1),
}


@pytest.mark.parametrize("stream", list(LIES.values()), ids=list(LIES))
def test_lying_token_lengths_allocate_nothing(traced: None, stream: bytes) -> None:
    with pytest.raises(WireError):
        tokens.parse_tokens(stream)
    assert peak_of(lambda: tokens.parse_tokens(stream)) < 64_000


def test_lying_login_and_prelogin_lengths_allocate_nothing(traced: None) -> None:
    login = bytearray(login7.build_login7(user="sa", password="x", host_name="h", server_name="s"))
    struct.pack_into("<HH", login, 40, 94, 0xFFFF)  # a user name of 65,535 characters
    assert peak_of(lambda: login7.parse_login7(bytes(login))) < 64_000
    claim = struct.pack(">BHH", 0, 6, 0xFFFF) + b"\xff"
    assert peak_of(lambda: prelogin.parse_prelogin(claim)) < 64_000


def test_a_full_browser_answer_costs_a_few_times_its_size(traced: None) -> None:
    instances = [ssrp.Instance("S", f"I{i}", False, "16.0", tcp_port=1000 + i) for i in range(950)]
    data = ssrp.build_response(instances)
    assert len(data) > 60_000
    assert peak_of(lambda: ssrp.parse_response(data)) < 40 * len(data)


async def test_read_message_stops_at_max_bytes_while_a_peer_streams(traced: None) -> None:
    reader = asyncio.StreamReader()
    packet = tds.encode_message(tds.PacketType.REPLY, b"x" * 40_000, packet_size=32_767)
    first = packet[:32_767]  # a packet without end-of-message, sent again and again

    async def stream() -> None:
        for _ in range(2_000):  # 64 MB if anyone kept it
            reader.feed_data(first)
            await asyncio.sleep(0)

    feeder = asyncio.create_task(stream())
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    with pytest.raises(WireError, match="longer than 262144"):
        await tds.read_message(reader, max_bytes=262_144, timeout=5)
    _, peak = tracemalloc.get_traced_memory()
    feeder.cancel()
    assert peak - before < 4_000_000
