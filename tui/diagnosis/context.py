"""What one diagnosis run knows while it walks the tree.

Probe calls go through `Context.probe`, which memoises them by key: a step that needs a result
another step already asked for (or started speculatively with `Context.start`) gets it without a
second round trip, and the engine cancels whatever is still running when the verdict is reached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Mapping
from typing import Any, Protocol, TypeVar

from tui.diagnosis.model import Event, ProbeFinished, ProbeStarted, Question, Step
from tui.target import Target

T = TypeVar("T")


class HasSummary(Protocol):
    def summary(self) -> str: ...


class Asker(Protocol):
    """Puts a question step to a person (the wizard) and returns the chosen value."""

    async def __call__(self, step: Step, question: Question, default: str) -> str: ...


class Context:
    def __init__(
        self,
        target: Target,
        *,
        timeout: float,
        answers: Mapping[str, str] | None = None,
        asker: Asker | None = None,
        emit: Callable[[Event], None] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.answers = dict(answers or {})
        self.asker = asker
        self.settings = dict(settings or {})
        self.facts: dict[str, Any] = {}
        self.step_id = ""
        self._emit = emit or (lambda event: None)
        self._tasks: dict[Hashable, asyncio.Task[Any]] = {}

    def emit(self, event: Event) -> None:
        self._emit(event)

    def start(
        self, key: Hashable, factory: Callable[[], Coroutine[Any, Any, T]]
    ) -> asyncio.Task[T]:
        """Start a probe now (or return the one already started under `key`)."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._tasks[key] = task
        return task

    async def probe(
        self,
        key: Hashable,
        detail: str,
        factory: Callable[[], Coroutine[Any, Any, T]],
    ) -> T:
        """Run (or join) a memoised probe, telling the live view when it starts and ends."""
        name = key[0] if isinstance(key, tuple) and key else str(key)
        step = self.step_id
        self.emit(ProbeStarted(step=step, probe=str(name), detail=detail))
        started = time.perf_counter()
        try:
            # shielded: a step that stops waiting leaves the probe to others who may want it
            result = await asyncio.shield(self.start(key, factory))
        except asyncio.CancelledError:
            elapsed = (time.perf_counter() - started) * 1000
            self.emit(
                ProbeFinished(
                    step=step, probe=str(name), summary="not needed any more", elapsed_ms=elapsed
                )
            )
            raise
        summary = result.summary() if hasattr(result, "summary") else str(result)
        elapsed = (time.perf_counter() - started) * 1000
        self.emit(ProbeFinished(step=step, probe=str(name), summary=summary, elapsed_ms=elapsed))
        return result

    async def gather(self, *awaitables: Awaitable[Any]) -> list[Any]:
        """Run probes side by side: a step is as slow as its slowest probe, not their sum."""
        return list(await asyncio.gather(*awaitables))

    async def close(self) -> None:
        """Cancel speculative probes nobody waited for."""
        pending = [task for task in self._tasks.values() if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for task in self._tasks.values():
            if task.done() and not task.cancelled():
                task.exception()  # mark retrieved: a failed speculative probe is not an error
