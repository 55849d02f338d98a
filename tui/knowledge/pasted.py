"""What was pasted where a target belongs: a target, or the error text itself.

People paste the error they saw into the server field. Rather than "unexpected ':' in the host
name", the text is read as `--error` would read it; when it names a server (`Cannot connect to
server 'db1'`, `host 'db1:1433'`), that server is the target, and otherwise the person is asked
for the server too. `check` and the wizard's start screen both decide here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from tui.target import Form, Target, TargetError, parse_target

if TYPE_CHECKING:
    from tui.knowledge.explain.model import Explanation

NOT_A_TARGET: Final = "this is an error text, not a target: give the server too"
# Words of an error in any language the explain catalog does not know yet: a sentence that
# says something failed. Enough to tell "a paste of an error" from a mistyped server name.
_ERROR_WORDS: Final = re.compile(
    r"(?i)\b(?:error|failed|failure|exception|refused|denied|timed? ?out|cannot|could not|"
    r"unable|fehler|erreur|errore|erro|ошибка)\b|错误|エラー|오류"
)
MIN_WORDS: Final = 4


@dataclass(frozen=True)
class PastedError:
    """An error text found where a target was expected; `target` is the server it names."""

    text: str
    explanation: Explanation
    target: Target | None

    @property
    def note(self) -> str:
        if self.target is None:
            return NOT_A_TARGET
        return (
            f"the target field held an error text: it was read as the error you saw, and the "
            f"server it names ({self.target.data_source}) is the target"
        )


def read_pasted(text: str) -> Target | PastedError:
    """A `Target`, or the error text that was pasted instead. Raises `TargetError` for text
    that is neither (with the parser's position)."""
    try:
        return parse_target(text)
    except TargetError:
        pasted = error_text(text)
        if pasted is None:
            raise
        return pasted


def error_text(text: str) -> PastedError | None:
    """The text read as an error, when it is one: something `explain` recognises, or a
    sentence of several words that says something failed."""
    if not isinstance(text, str) or not text.strip():
        return None
    from tui.knowledge.explain import explain  # the catalog loads only for a pasted text

    explanation = explain(text)
    words = len(text.split())
    if not explanation.found and not (words >= MIN_WORDS and _ERROR_WORDS.search(text)):
        return None
    return PastedError(text, explanation, _named_target(explanation))


def _named_target(explanation: Explanation) -> Target | None:
    host = explanation.facts.get("host")
    if not host:
        return None
    server = host
    instance = explanation.facts.get("instance")
    port = explanation.facts.get("port")
    if instance and "\\" not in server:
        server += f"\\{instance}"
    if port and "," not in server and ":" not in server:
        server += f",{port}"
    try:
        target = parse_target(server)
    except TargetError:
        return None
    if target.host is None or target.form is not Form.SERVER:
        return None
    return target
