"""Reading the error text people bring: `explain(text) -> Explanation`.

The catalog (`catalog.toml`) says what each known message means, which layer failed, which root
causes it points to or excludes, and which checks tell them apart. The `Explanation` carries an
`EntryHint` for the live diagnosis: where to start, and which probe results would agree.
"""

from typing import TYPE_CHECKING

from tui.knowledge.causes import Layer
from tui.knowledge.explain.model import Agreement, EntryHint, Expectation, Explanation

if TYPE_CHECKING:
    from tui.knowledge.explain.reader import explain


def __getattr__(name: str) -> object:
    """`explain` loads the reader and its catalog on first use: the model alone stays light."""
    if name == "explain":
        from tui.knowledge.explain.reader import explain

        return explain
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Agreement", "EntryHint", "Expectation", "Explanation", "Layer", "explain"]
