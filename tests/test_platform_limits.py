"""The descriptor limit a scan raises before it decides how many diagnoses run at once.

Linux is tested for real (a child process with a low soft limit). macOS never ran here: its rule
(soft 256 and an infinite hard limit by default; a soft limit above OPEN_MAX refused with
EINVAL, Apple's getrlimit(2) COMPATIBILITY section) is modelled by `MacLimits` below."""

from __future__ import annotations

import errno
import resource
import subprocess
import sys

import pytest

from tui.probes.limits import OPEN_MAX_MACOS, UNBOUNDED, raise_descriptor_limit

INFINITY = resource.RLIM_INFINITY


class MacLimits:
    """RLIMIT_NOFILE as macOS documents it: setrlimit refuses rlim_cur above OPEN_MAX (10240)
    or RLIM_INFINITY, whatever the hard limit."""

    RLIMIT_NOFILE = resource.RLIMIT_NOFILE
    RLIM_INFINITY = INFINITY

    def __init__(self, soft: int = 256, hard: int = INFINITY) -> None:
        self.soft, self.hard = soft, hard
        self.calls: list[tuple[int, int]] = []

    def getrlimit(self, which: int, /) -> tuple[int, int]:
        assert which == self.RLIMIT_NOFILE
        return self.soft, self.hard

    def setrlimit(self, which: int, limits: tuple[int, int], /) -> None:
        self.calls.append(limits)
        soft, hard = limits
        if soft == INFINITY or soft > OPEN_MAX_MACOS or (hard != INFINITY and soft > hard):
            raise OSError(errno.EINVAL, "Invalid argument")
        self.soft, self.hard = soft, hard


def test_macos_default_is_raised_to_open_max() -> None:
    limits = MacLimits()
    assert raise_descriptor_limit(limits, platform="darwin") == OPEN_MAX_MACOS
    assert (limits.soft, limits.hard) == (OPEN_MAX_MACOS, INFINITY)


def test_macos_with_a_finite_hard_limit_goes_to_it() -> None:
    limits = MacLimits(256, 4096)
    assert raise_descriptor_limit(limits, platform="darwin") == 4096


def test_a_refusal_keeps_the_limit_and_never_lowers_it() -> None:
    high = MacLimits(OPEN_MAX_MACOS, INFINITY)
    assert raise_descriptor_limit(high, platform="darwin") == OPEN_MAX_MACOS
    assert high.calls == []
    stubborn = MacLimits(256, INFINITY)
    assert raise_descriptor_limit(stubborn, platform="linux") == 256  # UNBOUNDED refused
    assert stubborn.calls == [(UNBOUNDED, INFINITY)]


@pytest.mark.skipif(sys.platform != "linux", reason="the real limit is tested on Linux")
def test_linux_soft_limit_is_raised_to_the_hard_limit() -> None:
    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096))

    code = (
        "import resource; from tui.probes.limits import raise_descriptor_limit; "
        "print(raise_descriptor_limit(resource), *resource.getrlimit(resource.RLIMIT_NOFILE))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lower,
        check=True,
    )
    assert done.stdout.split() == ["4096", "4096", "4096"]
