"""The pieces every probe shares: the stopwatch budget, the daemon-thread bridge, JSON safety."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tui.probes.base import Stopwatch, in_daemon_thread, is_json_safe


def test_the_stopwatch_budget_runs_down_and_never_below_zero() -> None:
    clock = Stopwatch(0.05)
    first = clock.remaining()
    time.sleep(0.01)
    assert 0 < clock.remaining() < first <= 0.05
    time.sleep(0.05)
    assert clock.remaining() == 0.0
    assert clock.elapsed_ms() >= 60


def test_a_lap_shares_the_deadline() -> None:
    clock = Stopwatch(0.2)
    time.sleep(0.05)
    lap = clock.lap()
    assert lap.elapsed() < clock.elapsed()
    assert abs(lap.remaining() - clock.remaining()) < 0.01


def test_without_a_budget_nothing_runs_out() -> None:
    assert Stopwatch().remaining() == float("inf")


async def test_a_thread_result_and_its_exception_come_back() -> None:
    assert await in_daemon_thread(lambda: threading.current_thread().name) == "sqlreach-probe"

    def fail() -> None:
        raise OSError(5, "broken")

    with pytest.raises(OSError, match="broken"):
        await in_daemon_thread(fail)


async def test_an_abandoned_call_does_not_hold_the_caller() -> None:
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await in_daemon_thread(lambda: time.sleep(1))
    assert time.perf_counter() - started < 0.5


def test_an_abandoned_call_does_not_hold_the_program_at_exit() -> None:
    # asyncio.to_thread would make asyncio.run wait for the sleeping thread at shutdown.
    code = textwrap.dedent(
        """
        import asyncio, time
        from tui.probes.base import in_daemon_thread

        async def main():
            try:
                async with asyncio.timeout(0.05):
                    await in_daemon_thread(lambda: time.sleep(30))
            except TimeoutError:
                print("gave up")

        asyncio.run(main())
        """
    )
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, check=True
    )
    assert completed.stdout.strip() == "gave up"
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ({"a": [1, 2.5, "x", None, True, {"b": []}]}, True),
        ({"a": b"raw"}, False),
        ({1: "key not a string"}, False),
        ({"a": (1, 2)}, False),
        ({"a": object()}, False),
    ],
)
def test_json_safety(value: object, safe: bool) -> None:
    assert is_json_safe(value) is safe
