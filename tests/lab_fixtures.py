"""The one way to start a lab scenario in a test: `running(name)`, on its own random loopback
address, on the real ports (1433, UDP 1434).

    async with running("moved-port") as lab:   # inside the test's own event loop
        ...
    with running("tls-trusted") as lab:        # on a thread of its own: for blocking clients
        ...                                    # (pyodbc, subprocesses, tmux), and beside a
                                               # Textual app, whose drawing would otherwise
                                               # hold the lab's answers past a 1 s timeout

Both give the `LabServer` itself: `lab.address`, `lab.target` (what to type), `lab.scenario`,
and `lab.ca_file` (the test CA, see `client_env`). The thread form is the product's own
`BackgroundLab`, the one `sqlreach lab` runs the wizard beside.

Two tests start the lab their own way, each for a reason written where it does: the scan farm
(`tests/labfarm.py`: a thousand scenarios in a process of their own, so the scanner does not
share a CPU-bound event loop with them) and the network-namespace tests (the lab inside a
namespace, in a process started there).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from tests.netutil import random_loopback
from tui.commands.lab import BackgroundLab
from tui.lab.scenarios import Scenario, scenario
from tui.lab.server import LabServer


class running:  # a class spelled as the function it stands for: `with running(...)`
    """Serve a scenario for the length of a `with` (thread) or `async with` (this loop) block."""

    def __init__(self, name: str | Scenario, address: str | None = None) -> None:
        item = scenario(name) if isinstance(name, str) else name
        self.server = LabServer(item, address or random_loopback())
        self._background: BackgroundLab | None = None

    async def __aenter__(self) -> LabServer:
        return await self.server.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.server.stop()

    def __enter__(self) -> LabServer:
        self._background = BackgroundLab([(self.server.scenario, self.server.address)])
        self._background.__enter__()
        if not self._background.servers:
            self._background.__exit__(None, None, None)
            raise RuntimeError(f"the lab {self.server.scenario.name} did not start within 30 s")
        self.server = self._background.servers[0]
        return self.server

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._background is not None:
            self._background.__exit__(kind, error, trace)


def client_env(server: LabServer) -> dict[str, str]:
    """This process's environment, plus SSL_CERT_FILE when the scenario's client trusts its CA."""
    env = dict(os.environ)
    if server.scenario.trust_ca and server.ca_file is not None:
        env["SSL_CERT_FILE"] = str(server.ca_file)
    return env


@contextlib.contextmanager
def fixed_address(address: str, wait: float = 120.0) -> Iterator[str]:
    """Hold `address` for this test alone, machine-wide: tests whose output shows the address
    (snapshots) cannot take a random one, and another test run on this machine (a parallel
    worker, or another checkout's suite) waits for it instead of failing to bind. A run that
    does not take the lock (an older checkout) is waited out as well, up to `wait` seconds."""
    lock = Path(tempfile.gettempdir()) / f"sqlreach-test-address-{address}.lock"
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            deadline = time.monotonic() + wait
            while not _lab_ports_free(address) and time.monotonic() < deadline:
                time.sleep(0.2)
            yield address
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lab_ports_free(address: str) -> bool:
    """Whether the lab's TCP 1433 and UDP 1434 can be bound on `address` right now."""
    for kind, port in ((socket.SOCK_STREAM, 1433), (socket.SOCK_DGRAM, 1434)):
        with socket.socket(socket.AF_INET, kind) as probe:
            if kind == socket.SOCK_STREAM:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((address, port))
            except OSError:
                return False
    return True


def thread_count() -> int:
    return threading.active_count()


async def settle() -> None:
    await asyncio.sleep(0)
