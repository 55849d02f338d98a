"""A lab scenario on a thread, with the `LabServer` itself at hand (its test CA, its material),
for tests that must trust the scenario's CA through SSL_CERT_FILE as a real client would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator

from tests.netutil import random_loopback
from tui.lab.scenarios import Scenario, scenario
from tui.lab.server import LabServer


@contextlib.contextmanager
def serving(name: str | Scenario, address: str | None = None) -> Iterator[LabServer]:
    item = scenario(name) if isinstance(name, str) else name
    server = LabServer(item, address or random_loopback())
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: dict[str, asyncio.Event] = {}
    failure: list[BaseException] = []

    async def main() -> None:
        stop["event"] = asyncio.Event()
        try:
            await server.start()
        except BaseException as error:
            failure.append(error)
            ready.set()
            return
        ready.set()
        await stop["event"].wait()
        await server.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(timeout=30)
    if failure:
        raise failure[0]
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(stop["event"].set)
        thread.join(timeout=10)
        loop.close()


def client_env(server: LabServer) -> dict[str, str]:
    """This process's environment, plus SSL_CERT_FILE when the scenario's client trusts its CA."""
    env = dict(os.environ)
    if server.scenario.trust_ca and server.ca_file is not None:
        env["SSL_CERT_FILE"] = str(server.ca_file)
    return env
