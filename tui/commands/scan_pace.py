"""How many diagnoses a scan runs at once: never more than the descriptors allow, and fewer
while this process cannot keep up.

Every probe's deadline is wall-clock time. When thousands of diagnoses share one event loop and
the loop falls behind (each waiting its turn for the CPU), that wait is charged to the probes:
a refusal noticed 2 s late is a "timeout", a Browser answer read too late is "silence". So the
pace follows the loop's lag, measured every 10 ms: while it stays small, more diagnoses are let
in (an eighth more at each look); when it grows, a quarter fewer are let in until it falls.
Diagnoses already running are never stopped; the scan only waits before starting the next.
"""

from __future__ import annotations

import asyncio
from typing import Final

TICK: Final = 0.01  # s between looks at the loop's lag
LAG_HIGH: Final = 0.05  # s late: too much, admit fewer
LAG_LOW: Final = 0.02  # s late: room for more
START: Final = 32  # diagnoses let in at first
FLOOR: Final = 8  # never fewer allowed than this (a slow machine still makes progress)


class Pace:
    """A gate whose width follows the event loop's lag, up to `ceiling`."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = min(self.ceiling, START)
        self.running = 0
        self.peak = 0  # the most diagnoses that ran at once (for the benchmark)
        self.worst_lag = 0.0
        self._room = asyncio.Condition()

    async def enter(self) -> None:
        async with self._room:
            await self._room.wait_for(lambda: self.running < self.limit)
            self.running += 1
            self.peak = max(self.peak, self.running)

    async def leave(self) -> None:
        async with self._room:
            self.running -= 1
            self._room.notify()

    async def follow_lag(self) -> None:
        """Widen or narrow the gate from the loop's lag, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK)
            lag = loop.time() - before - TICK
            self.worst_lag = max(self.worst_lag, lag)
            async with self._room:
                if lag > LAG_HIGH:
                    self.limit = max(min(FLOOR, self.ceiling), self.limit * 3 // 4)
                elif lag < LAG_LOW and self.running >= self.limit:
                    wider = min(self.ceiling, self.limit + max(1, self.limit // 8))
                    self._room.notify(wider - self.limit)
                    self.limit = wider
