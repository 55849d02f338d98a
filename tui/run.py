"""One way to start a run: `check`, `scan` and the wizard build their walk here.

What differs between them is only what they pass: `check` answers the questions from its
flags, `scan` says "a client, no login unless the line has credentials", the wizard asks a
person (an `Asker`) and shows every event. The tree, the context and the settings the steps
read are put together once, below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tui.engine.context import Asker, Context
from tui.engine.model import Event
from tui.engine.settings import Settings
from tui.engine.walk import Diagnosis, Tree, diagnose
from tui.steps.tree import TREE, Answers
from tui.target import Target


@dataclass(frozen=True)
class RunOptions:
    """Everything a walk needs besides the target."""

    timeout: float = 3.0  # per probe, seconds
    answers: Answers = field(default_factory=Answers)
    preset: Mapping[str, str] = field(default_factory=dict)  # answers kept from a walk before
    settings: Settings = field(default_factory=Settings)


def new_context(
    target: Target,
    options: RunOptions,
    *,
    asker: Asker | None = None,
    emit: Callable[[Event], None] | None = None,
) -> Context:
    return Context(
        target,
        timeout=options.timeout,
        answers={**options.preset, **options.answers.by_step()},
        asker=asker,
        emit=emit,
        settings=options.settings,
    )


async def start_run(
    target: Target,
    options: RunOptions,
    *,
    tree: Tree | None = None,
    asker: Asker | None = None,
    emit: Callable[[Event], None] | None = None,
    on_context: Callable[[Context], None] | None = None,
) -> Diagnosis:
    """Walk the tree for `target`; `on_context` sees the context before the first step (the
    wizard keeps it for the credentials form)."""
    context = new_context(target, options, asker=asker, emit=emit)
    if on_context is not None:
        on_context(context)
    return await diagnose(tree or TREE, context)
