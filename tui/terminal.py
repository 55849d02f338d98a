"""The wizard's terminal: is there one, and has it gone away.

With no terminal to read keys from (stdin) or to draw on (Textual draws on stderr, so that
stdout can be redirected) the wizard would draw escape codes into a file or wait for keys
that never come (a pipe, cron, a CI log): it says so and exits 2 instead.

When the terminal goes away (an SSH session drops, a tmux session is killed) the kernel sends
SIGHUP to the session leader only; a parent that does not pass it on (make, under `make demo`)
left the wizard running on a dead terminal, where Textual's input thread reads end-of-file in
a loop (58-94% of a CPU, measured). So the wizard watches for both: SIGHUP, and the terminal
itself, which poll() reports as hung up (POLLHUP, POLLERR or POLLNVAL) without reading a byte
of the person's input.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Final

GONE_EXIT: Final = 128 + signal.SIGHUP  # the shell's code for "ended by a hangup"
GRACE: Final = 0.6  # seconds the wizard gets to close its journal and exit on its own
POLL_MS: Final = 100
_BROKEN: Final = select.POLLHUP | select.POLLERR | select.POLLNVAL
WEB_DRIVER: Final = "TEXTUAL_DRIVER"  # set by textual-serve: the browser is the terminal


def served() -> bool:
    """Running under textual-serve (`sqlreach --serve`): stdin and stdout are its pipes."""
    return bool(os.environ.get(WEB_DRIVER))


def no_terminal_reason() -> str | None:
    """Why the wizard cannot run here, or None when stdin and stdout are a terminal."""
    if served():
        return None
    streams = (
        ("standard input (its keys)", sys.__stdin__),
        ("standard error (where it draws)", sys.__stderr__),
    )
    missing = [name for name, stream in streams if stream is None or not stream.isatty()]
    if not missing:
        return None
    return (
        f"the wizard needs a terminal, and {' and '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not one. For scripts and logs use "
        "'sqlreach check TARGET' (or 'scan FILE'); over SSH use 'ssh -t'."
    )


class TerminalWatch:
    """Calls `on_gone(reason)` once, from its own thread, when SIGHUP arrives or the terminal
    hangs up; if the process is still alive GRACE seconds later, `on_stuck(reason)` (which
    should save what it can and end the process)."""

    def __init__(
        self,
        on_gone: Callable[[str], None],
        on_stuck: Callable[[str], None],
        fds: Sequence[int] = (0, 2),
        grace: float = GRACE,
    ) -> None:
        self.on_gone = on_gone
        self.on_stuck = on_stuck
        self.fds = tuple(fds)
        self.grace = grace
        self.hangup = threading.Event()
        self.stopped = threading.Event()
        self.gone: str | None = None
        self._thread = threading.Thread(target=self._run, name="sqlreach-terminal", daemon=True)
        self._previous: signal.Handlers | Callable[[int, FrameType | None], object] | int | None
        self._previous = None

    def start(self) -> TerminalWatch:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGHUP, self._on_signal)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self._previous is not None:
            signal.signal(signal.SIGHUP, self._previous)
            self._previous = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.hangup.set()  # nothing else in a signal handler: the thread does the rest

    def _run(self) -> None:
        poller = select.poll()
        for fd in self.fds:
            poller.register(fd, 0)  # no input events asked: only hang-ups and errors report
        reason = None
        while reason is None and not self.stopped.is_set():
            if self.hangup.is_set():
                reason = "the terminal hung up (SIGHUP)"
                break
            try:
                ready = poller.poll(POLL_MS)
            except OSError:
                continue
            if any(mask & _BROKEN for _, mask in ready):
                reason = "the terminal is gone (it hung up)"
        if reason is None:
            return
        self.gone = reason
        self.on_gone(reason)
        if not self.stopped.wait(self.grace):
            self.on_stuck(reason)
