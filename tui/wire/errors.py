"""The one exception every wire parser raises, so callers can catch hostile bytes in one place."""

from __future__ import annotations


class WireError(ValueError):
    """Bytes that do not follow the protocol; the message says what was wrong and where."""

    def __init__(self, what: str, offset: int | None = None) -> None:
        self.what = what
        self.offset = offset
        super().__init__(what if offset is None else f"{what} (at byte {offset})")
