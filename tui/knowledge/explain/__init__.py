"""Reading the error text people bring: `explain(text) -> Explanation`.

The catalog (`catalog.toml`) says what each known message means, which layer failed, which root
causes it points to or excludes, and which checks tell them apart. The `Explanation` carries an
`EntryHint` for the live diagnosis: where to start, and which probe results would agree.
"""

from tui.knowledge.causes import Layer
from tui.knowledge.explain.model import Agreement, EntryHint, Expectation, Explanation
from tui.knowledge.explain.reader import explain

__all__ = ["Agreement", "EntryHint", "Expectation", "Explanation", "Layer", "explain"]
