"""The scan's pace: never more diagnoses at once than the ceiling (the descriptor budget), fewer
while the event loop lags, more again once it keeps up."""

from __future__ import annotations

import asyncio
import time

from tui.commands.scan_pace import FLOOR, START, Pace


async def test_never_more_at_once_than_the_ceiling_and_everyone_gets_in() -> None:
    pace = Pace(ceiling=5)
    follower = asyncio.ensure_future(pace.follow_lag())
    done = 0

    async def one() -> None:
        nonlocal done
        await pace.enter()
        try:
            assert pace.running <= 5
            await asyncio.sleep(0.01)
            done += 1
        finally:
            await pace.leave()

    await asyncio.gather(*(one() for _ in range(60)))
    follower.cancel()
    assert done == 60
    assert pace.peak == 5
    assert pace.running == 0


async def test_the_gate_widens_while_the_loop_keeps_up() -> None:
    pace = Pace(ceiling=1000)
    follower = asyncio.ensure_future(pace.follow_lag())
    held = [asyncio.ensure_future(pace.enter()) for _ in range(400)]
    await asyncio.sleep(0.5)  # an idle loop: the gate widens at every look while it binds
    follower.cancel()
    assert pace.limit > START
    assert pace.running == pace.limit or pace.running == 400
    for task in held:
        task.cancel()


def busy(seconds: float) -> None:
    """CPU work that holds the event loop, as a crowd of diagnoses does."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_the_gate_narrows_when_the_loop_lags() -> None:
    pace = Pace(ceiling=1000)
    pace.limit = 400
    follower = asyncio.ensure_future(pace.follow_lag())
    await asyncio.sleep(0.02)
    for _ in range(5):
        busy(0.1)  # this process cannot keep up: each look finds the loop 0.1 s late
        await asyncio.sleep(0)
    follower.cancel()
    assert FLOOR <= pace.limit < 400
    assert pace.worst_lag >= 0.05
