"""What one diagnosis run knows while it walks the tree.

Steps record what they learn as typed facts (`engine.facts`), and add sentences and fix ids to
the verdict's append-only lists; nothing a step records can be overwritten by a later one.
Probe calls go through `Context.probe`, which memoises them by key: a step that needs a result
another step already asked for (or started speculatively with `Context.start`) gets it without a
second round trip, and the engine cancels whatever is still running when the verdict is reached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from tui.engine.facts import Facts, Run
from tui.engine.model import (
    Event,
    Observation,
    ProbeFinished,
    ProbeStarted,
    Question,
    Step,
)
from tui.engine.settings import Settings
from tui.target import Target

T = TypeVar("T")


@dataclass(frozen=True)
class Note:
    """A sentence or a fix id a step added for the verdict."""

    step: str
    text: str


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
        settings: Settings | None = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.answers = dict(answers or {})
        self.asker = asker
        self.settings = settings or Settings()
        self.facts = Facts()
        self.facts.add(Run(timeout))
        self.notes: list[Note] = []  # sentences for the verdict, in the order found
        self.fixes: list[Note] = []  # fix ids for the verdict, with the step that named them
        self.answered: dict[str, str] = {}  # question step id -> the answer given
        self.step_id = ""
        self._emit = emit or (lambda event: None)
        self._tasks: dict[Hashable, asyncio.Task[Any]] = {}

    def emit(self, event: Event) -> None:
        self._emit(event)

    def record(self, step: str, observation: Observation) -> None:
        """Keep what a step found: its facts, and its notes and fixes after everyone else's."""
        for fact in observation.facts:
            self.facts.add(fact)
        self.notes.extend(Note(step, text) for text in observation.notes)
        self.fixes.extend(Note(step, fix) for fix in observation.fixes)

    def answer(self, step: str) -> str | None:
        """The answer given to a question step, if it was asked."""
        return self.answered.get(step)

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
