"""How many sockets a probe may hold open at once: a budget from the descriptor limit.

A search that opens one connection per port a Browser lists (855 of them, say) under a soft
limit of 128 descriptors would fail with EMFILE on most of them and read as "refused"; within
the budget it tries them a batch at a time instead.
"""

from __future__ import annotations

import os
from typing import Final

RESERVE: Final = 32  # descriptors left for everything else (other probes, logs, the terminal)
MOST: Final = 256  # more connections at once would only flood the network
WITHOUT_LIMIT: Final = 64  # where the limit cannot be read (Windows has no RLIMIT_NOFILE)


def descriptor_budget(*, reserve: int = RESERVE) -> int:
    """The soft RLIMIT_NOFILE, minus the descriptors this process holds now, minus `reserve`;
    at least 1, at most `MOST`."""
    try:
        import resource
    except ImportError:  # Windows: sockets are not counted against a C runtime limit
        return WITHOUT_LIMIT
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MOST
    return max(1, min(MOST, soft - held_descriptors() - reserve))


def held_descriptors() -> int:
    """Descriptors open in this process now (0 when the system does not list them)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return 0
