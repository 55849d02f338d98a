"""The real wizard (its terminal, its exit path) on a tree whose only step has a bug, for the
crash test in tests/test_wizard_process.py: `python -m tests.crashing_wizard TARGET`.

The bug's message carries the target's password, as a careless error message would: the
crash report and the terminal must not."""

from __future__ import annotations

import sys

from tui.app import make_app, run_app
from tui.engine.context import Context
from tui.engine.model import Conclude, Observation, Step
from tui.engine.walk import Tree
from tui.knowledge.causes import Hop, RootCause


async def broken(context: Context) -> Observation:
    password = context.target.password.reveal() if context.target.password else ""
    raise RuntimeError(f"a bug in a step; the connection had Password={password} and {password}")


TREE = Tree(
    {
        "broken": Step(
            "broken",
            "A step with a bug",
            "",
            "",
            Hop.NAME,
            {"done": Conclude(RootCause.OK, "never reached")},
            broken,
        )
    },
    "broken",
)


if __name__ == "__main__":
    run_app(make_app(sys.argv[1], tree=TREE, timeout=1))
