"""What every probe shares: the result shape, a stopwatch with a deadline, a thread bridge.

Each probe returns its own frozen dataclass; `ProbeResult` is the part the engine, the transcript
and `check --json` rely on, so they can treat any probe's result alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final, Protocol, TypeAlias, TypeVar

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
Evidence: TypeAlias = dict[str, JsonValue]

T = TypeVar("T")


class ProbeResult(Protocol):
    """The common face of a probe's result (each probe adds `status` and its own fields)."""

    @property
    def elapsed_ms(self) -> float: ...

    def evidence(self) -> Mapping[str, object]:
        """JSON-safe raw evidence: str/int/float/bool/None, lists and dicts; bytes as hex."""
        ...

    def summary(self) -> str:
        """One line in plain words for a junior administrator."""
        ...


class Stopwatch:
    """Monotonic elapsed time, and what is left of the time budget started at the same moment.

    Probes pass one of these down instead of a bare timeout, so every step spends the same
    budget and the probe as a whole never runs past it.
    """

    __slots__ = ("_start", "budget")

    def __init__(self, budget: float = math.inf) -> None:
        self._start = time.perf_counter()
        self.budget = budget

    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def elapsed_ms(self) -> float:
        return round(self.elapsed() * 1000.0, 3)

    def remaining(self) -> float:
        """Seconds left of the budget (never negative)."""
        return max(0.0, self.budget - self.elapsed())

    def lap(self) -> Stopwatch:
        """A stopwatch starting now that shares this one's deadline."""
        return Stopwatch(self.remaining())


async def in_daemon_thread(function: Callable[[], T]) -> T:
    """Run a blocking call (getaddrinfo, a file read) without tying the event loop to it.

    Unlike `asyncio.to_thread`, the worker is a daemon thread outside the default executor: a
    call that hangs (a resolver stuck on a dead DNS server) is abandoned when the caller's
    timeout fires, and `asyncio.run` does not wait for it at shutdown.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(set_outcome: Callable[[], None]) -> None:
        if not future.done():  # the caller may have given up (timeout, cancel)
            set_outcome()

    def work() -> None:
        try:
            outcome = function()
        except BaseException as error:  # handed to the awaiting task, not swallowed
            _post(loop, settle, functools.partial(future.set_exception, error))
        else:
            _post(loop, settle, functools.partial(future.set_result, outcome))

    _WORKERS.run(work)
    return await future


class _Workers:
    """Daemon threads that are kept for the next call once they are done.

    Starting a thread makes the caller wait until the new thread runs, and on a busy machine
    that wait stalls the event loop (a scan starts one per target). An idle worker takes the
    next call at once; a call that hangs keeps its worker, and the others carry on. Workers
    idle for `IDLE` seconds end.
    """

    IDLE: Final = 10.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = 0

    def run(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)
                return
        threading.Thread(
            target=self._serve, args=(job,), name="sqlreach-probe", daemon=True
        ).start()

    def _serve(self, job: Callable[[], None]) -> None:
        while True:
            job()
            with self._lock:
                self._idle += 1
            try:
                job = self._jobs.get(timeout=self.IDLE)
            except queue.Empty:
                with self._lock:
                    try:  # a job handed over just as the wait ended is still this worker's
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        self._idle -= 1
                        return


_WORKERS: Final = _Workers()


def _post(
    loop: asyncio.AbstractEventLoop,
    settle: Callable[[Callable[[], None]], None],
    set_outcome: Callable[[], None],
) -> None:
    # The loop may be closed already when an abandoned call finally returns.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle, set_outcome)


def is_json_safe(value: object) -> bool:
    """True when `value` is made only of what `evidence()` may hold (no bytes, no objects)."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(is_json_safe(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_json_safe(item) for key, item in value.items())
    return False
