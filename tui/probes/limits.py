"""How many sockets a probe (or a scan) may hold open at once: a budget from the descriptor
limit, raised first where the system allows it.

A search that opens one connection per port a Browser lists (855 of them, say) under a soft
limit of 128 descriptors would fail with EMFILE on most of them and read as "refused"; within
the budget it tries them a batch at a time instead.
"""

from __future__ import annotations

import os
import sys
from typing import Final, Protocol

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


def held_descriptors(*, unknown: int = 0) -> int:
    """Descriptors open in this process now: /proc/self/fd on Linux, /dev/fd on macOS and the
    BSDs (`unknown` when the system lists neither)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return unknown


# macOS refuses a soft limit above OPEN_MAX for RLIMIT_NOFILE, even under an infinite hard limit
# (its default: soft 256, hard unlimited). Apple's getrlimit(2) man page, COMPATIBILITY: "It no
# longer accepts 'rlim_cur = RLIM_INFINITY' for RLIM_NOFILE. Use 'rlim_cur = min(OPEN_MAX,
# rlim_max)'"; OPEN_MAX is 10240 in <sys/syslimits.h>.
OPEN_MAX_MACOS: Final = 10_240
UNBOUNDED: Final = 65_536  # what an infinite limit counts as here


class Limits(Protocol):
    """The parts of the `resource` module used (a real one, or macOS's rules in a test)."""

    RLIMIT_NOFILE: int
    RLIM_INFINITY: int

    def getrlimit(self, resource: int, /) -> tuple[int, int]: ...

    def setrlimit(self, resource: int, limits: tuple[int, int], /) -> None: ...


def raise_descriptor_limit(limits: Limits, platform: str = sys.platform) -> int:
    """Raise the soft descriptor limit as far as allowed and return it: to the hard limit, or,
    when the hard limit is infinite, to OPEN_MAX on macOS (and as far as the kernel takes it
    elsewhere). Never lowers it; a refusal leaves it where it was."""
    soft, hard = limits.getrlimit(limits.RLIMIT_NOFILE)
    infinite = limits.RLIM_INFINITY
    if hard != infinite:
        wanted = hard
    elif platform == "darwin":
        wanted = OPEN_MAX_MACOS
    else:
        wanted = UNBOUNDED
    if soft != infinite and soft < wanted:
        try:
            limits.setrlimit(limits.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft if soft != infinite else UNBOUNDED
