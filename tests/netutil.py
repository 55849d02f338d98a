"""Network helpers for tests: everything stays on loopback (127.0.0.0/8, ::1).

Each test takes its own random 127.x.y.z address, so test runs in parallel (and the lab's real
ports 1433/1434) never collide, and no test depends on what else listens on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Iterator

_SECOND_OCTETS = [n for n in range(1, 255) if not 30 <= n < 40]  # 127.30-39: tests.labfarm
_RANDOM = random.SystemRandom()  # never the seeded `random`: parallel workers must differ


def random_loopback() -> str:
    """A random address in 127.0.0.0/8, avoiding 127.0.0.0/16 (where other programs and the
    snapshot tests' fixed addresses live) and the lab farm's blocks."""
    pick = _RANDOM.randint
    return f"127.{_RANDOM.choice(_SECOND_OCTETS)}.{pick(0, 255)}.{pick(2, 254)}"


def free_port(address: str, kind: int = socket.SOCK_STREAM) -> int:
    """A port that is free on `address` right now (for a listener the test starts itself)."""
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, kind) as sock:
        sock.bind((address, 0))
        port: int = sock.getsockname()[1]
        return port


def closed_port(address: str) -> int:
    """A TCP port on `address` where nothing listens: connecting is refused."""
    return free_port(address)


@contextlib.contextmanager
def full_backlog_listener(address: str) -> Iterator[int]:
    """A root-free stand-in for a firewall DROP: a listener whose accept queue is full.

    `listen(0)` plus connections that are never accepted: further SYNs go unanswered, so a
    client's connect() times out exactly as it would behind a DROP rule.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        server.bind((address, 0))
        server.listen(0)
        port: int = server.getsockname()[1]
        for _ in range(4):
            filler = socket.socket(family, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect_ex((address, port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()
