"""One shape for pasted text before matching, whatever layout the driver printed it in.

Drivers print the same words as dialogs, Python reprs (`\\r\\n` as two characters), wrapped
console lines and bulleted pastes. Matching runs on one line with single spaces and plain quotes,
so a catalog pattern is written once.
"""

from __future__ import annotations

import re
from typing import Final

# A printed escape (backslash + r/n/t) not followed by a lower-case letter: `C:\new` survives.
_PRINTED_ESCAPE: Final = re.compile(r"\\[rnt](?![a-z])")
# A quote printed with its escapes, once or twice over (a repr of a repr: `Can\\\'t`).
_ESCAPED_QUOTE: Final = re.compile(r"\\+(['\"])")
_SPACES: Final = re.compile(r"\s+")
_QUOTES: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)


def normalise(text: str) -> str:
    """Single spaces, plain quotes (escapes before them dropped), printed escapes turned into
    spaces."""
    text = _PRINTED_ESCAPE.sub(" ", text.translate(_QUOTES))
    text = _ESCAPED_QUOTE.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()
