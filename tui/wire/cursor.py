"""A bounds-checked reader over bytes: every short read becomes a `WireError` with its offset."""

from __future__ import annotations

import struct
from typing import Final

from tui.wire.errors import WireError

_U16LE: Final = struct.Struct("<H")
_U16BE: Final = struct.Struct(">H")
_U32LE: Final = struct.Struct("<I")
_U32BE: Final = struct.Struct(">I")
_I32LE: Final = struct.Struct("<i")
_U64LE: Final = struct.Struct("<Q")


class Cursor:
    """Reads fields in order from `data[start:end]`; `what` names the structure in errors."""

    __slots__ = ("data", "end", "offset", "what")

    def __init__(self, data: bytes, what: str, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.what = what
        self.offset = start
        self.end = len(data) if end is None else min(end, len(data))

    @property
    def remaining(self) -> int:
        return self.end - self.offset

    def need(self, count: int, field: str) -> None:
        if count < 0 or self.offset + count > self.end:
            raise WireError(
                f"{self.what}: {field} needs {count} bytes but only {self.remaining} remain",
                self.offset,
            )

    def take(self, count: int, field: str) -> bytes:
        self.need(count, field)
        start = self.offset
        self.offset += count
        return self.data[start : self.offset]

    def skip(self, count: int, field: str) -> None:
        self.need(count, field)
        self.offset += count

    def u8(self, field: str) -> int:
        self.need(1, field)
        value = self.data[self.offset]
        self.offset += 1
        return value

    def _unpack(self, layout: struct.Struct, field: str) -> int:
        self.need(layout.size, field)
        (value,) = layout.unpack_from(self.data, self.offset)
        self.offset += layout.size
        return int(value)

    def u16le(self, field: str) -> int:
        return self._unpack(_U16LE, field)

    def u16be(self, field: str) -> int:
        return self._unpack(_U16BE, field)

    def u32le(self, field: str) -> int:
        return self._unpack(_U32LE, field)

    def u32be(self, field: str) -> int:
        return self._unpack(_U32BE, field)

    def i32le(self, field: str) -> int:
        return self._unpack(_I32LE, field)

    def u64le(self, field: str) -> int:
        return self._unpack(_U64LE, field)

    def ucs2(self, chars: int, field: str) -> str:
        """`chars` UTF-16LE code units (lone surrogates are replaced, never raised)."""
        raw = self.take(2 * chars, field)
        return raw.decode("utf-16-le", errors="replace")
