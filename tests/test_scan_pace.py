"""`scan` starts diagnoses at the pace its event loop keeps: a probe's timeout counts the time
the loop spends elsewhere, so a loop held up by its own work must not start more."""

from __future__ import annotations

import asyncio
import time

from tui.commands.scan import Pace


async def test_nothing_starts_while_the_loop_turns_slowly() -> None:
    slow_turns = 5
    done = 0

    async def busy() -> None:  # work in flight that holds each loop turn for 30 ms
        nonlocal done
        for _ in range(slow_turns):
            time.sleep(0.03)  # noqa: ASYNC251 - blocking the loop is the point
            done += 1
            await asyncio.sleep(0)

    work = asyncio.ensure_future(busy())
    await asyncio.sleep(0)
    await Pace(limit=0.01).admit()
    assert done == slow_turns  # admitted only once the turns were quick again
    await work


async def test_one_start_per_turn() -> None:
    pace = Pace(limit=1.0)
    turns = 0
    admitted: list[int] = []

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(count_turns())

    async def start() -> None:
        await pace.admit()
        admitted.append(turns)

    await asyncio.gather(*(start() for _ in range(5)))
    counter.cancel()
    assert len(set(admitted)) == 5  # never two in the same turn
