"""One way to start a run: `check`, `scan` and the wizard build their walk here.

What differs between them is only what they pass: `check` answers the questions from its
flags, `scan` says "a client, no login unless the line has credentials", the wizard asks a
person (an `Asker`) and shows every event. The tree, the context and the settings the steps
read are put together once, below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tui.engine.context import Asker, Context
from tui.engine.model import Event
from tui.engine.walk import Diagnosis, Tree, diagnose
from tui.steps.login import NATIVE
from tui.steps.tree import TREE, Answers
from tui.target import Target


@dataclass(frozen=True)
class RunOptions:
    """Everything a walk needs besides the target."""

    timeout: float = 3.0  # per probe, seconds
    answers: Answers = field(default_factory=Answers)
    preset: Mapping[str, str] = field(default_factory=dict)  # answers kept from a walk before
    error_text: str | None = None  # the error the person saw, read first
    native_login: bool = False  # log in with sqlreach's own TDS login, whatever the driver
    dns: Mapping[str, Any] | None = None  # ask only this DNS server (`--dns-server`)
    extra: Mapping[str, Any] = field(default_factory=dict)  # tests: another machine to read

    def settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {**self.extra, "error_text": self.error_text}
        if self.native_login:
            settings[NATIVE] = True
        if self.dns is not None:
            settings["dns"] = dict(self.dns)
        return settings


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
        settings=options.settings(),
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
