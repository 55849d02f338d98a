"""Running lab scenarios in tests: each on its own random loopback address, on the real ports."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from tests.netutil import random_loopback
from tui.commands.lab import BackgroundLab
from tui.lab.scenarios import Scenario, scenario
from tui.lab.server import LabServer


@contextlib.asynccontextmanager
async def running(name: str | Scenario, address: str | None = None):
    """Serve a scenario inside the test's own event loop."""
    item = scenario(name) if isinstance(name, str) else name
    server = LabServer(item, address or random_loopback())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.contextmanager
def in_background(name: str, address: str | None = None) -> Iterator[tuple[Scenario, str]]:
    """Serve a scenario on a thread of its own, for blocking clients and subprocesses."""
    item = scenario(name)
    where = address or random_loopback()
    with BackgroundLab([(item, where)]):
        yield item, where


def thread_count() -> int:
    return threading.active_count()


async def settle() -> None:
    await asyncio.sleep(0)
