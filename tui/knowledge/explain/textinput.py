"""Turning whatever was pasted or piped into text, or into a clear refusal.

Standard input may be UTF-8, UTF-16 with or without a BOM (a file saved on Windows, a PowerShell
pipe), or a legacy Windows code page; it may also be a binary file by mistake, or endless. Input
is capped, decoded by its BOM or its shape, and refused with `InputError` when it is not text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO, Final

MAX_INPUT_BYTES: Final = 1 << 20  # 1 MiB: far more than any error dialog or stack trace
MAX_CONTROL_SHARE: Final = 0.05
MAX_REPLACEMENT_SHARE: Final = 0.2
_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_ALLOWED_CONTROLS: Final = frozenset("\t\n\r\f\v")
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class InputError(ValueError):
    """The input cannot be read as an error text; the message says why, in plain words."""


@dataclass(frozen=True)
class DecodedInput:
    text: str
    encoding: str
    notes: tuple[str, ...] = ()


def read_capped(stream: BinaryIO, cap: int = MAX_INPUT_BYTES) -> tuple[bytes, bool]:
    """At most `cap` bytes, and whether there was more (the rest is never read)."""
    data = stream.read(cap + 1)
    return data[:cap], len(data) > cap


def decode_argument(argument: str) -> DecodedInput:
    """Text from the command line; undecodable bytes (POSIX) come back as surrogates."""
    try:
        raw = argument.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = argument.encode("utf-8", "replace")
    return decode_bytes(raw)


def decode_bytes(data: bytes, truncated: bool = False) -> DecodedInput:
    """Decode by BOM, then UTF-16 shape, then UTF-8, then Windows-1252; refuse binary."""
    notes: list[str] = []
    if truncated:
        notes.append(f"the input is longer than {MAX_INPUT_BYTES:,} bytes; only that much was read")
    encoding, body = _sniff(data)
    if encoding is None:
        encoding, text = _decode_unmarked(data, truncated, notes)
    else:
        text = _decode(body, encoding, truncated)
        if encoding != "utf-8":
            notes.append(f"the input was read as {encoding.upper()} (it starts with a BOM)")
    text = _ANSI.sub("", text)
    _refuse_binary(text)
    if not text.strip():
        raise InputError(
            "there is nothing to explain: give the error text as an argument, or pipe it in "
            "with 'sqlreach explain -'"
        )
    return DecodedInput(text=text, encoding=encoding, notes=tuple(notes))


def _sniff(data: bytes) -> tuple[str | None, bytes]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, data[len(bom) :]
    return None, data


def _decode_unmarked(data: bytes, truncated: bool, notes: list[str]) -> tuple[str, str]:
    utf16 = _utf16_shape(data)
    if utf16 is not None:
        notes.append(f"the input was read as {utf16.upper()} (it has no BOM, but its shape fits)")
        return utf16, _decode(data, utf16, truncated)
    try:
        return "utf-8", _decode(data, "utf-8", truncated, errors="strict")
    except UnicodeDecodeError:
        notes.append("the input is not UTF-8; it was read as Windows-1252")
        return "cp1252", data.decode("cp1252", "replace")


def _utf16_shape(data: bytes) -> str | None:
    """UTF-16 text of mostly Latin characters has a zero in every other byte."""
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.4 * len(odd) and even.count(0) <= 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.4 * len(even) and odd.count(0) <= 0.05 * len(odd):
        return "utf-16-be"
    return None


def _decode(data: bytes, encoding: str, truncated: bool, errors: str = "replace") -> str:
    if truncated:
        # A cut may split the last character: drop the incomplete tail rather than invent one.
        decoder = codecs.getincrementaldecoder(encoding)(errors)
        return decoder.decode(data, final=False)
    return data.decode(encoding, errors)


def _refuse_binary(text: str) -> None:
    if not text:
        return
    if "\x00" in text:
        raise InputError(
            "the input holds NUL bytes: it looks like a binary file, not an error text "
            "(copy the message itself, or save it as text)"
        )
    controls = sum(
        1
        for char in text
        if char not in _ALLOWED_CONTROLS and unicodedata.category(char) in {"Cc", "Cs", "Co"}
    )
    if controls > MAX_CONTROL_SHARE * len(text):
        raise InputError(
            f"the input looks like binary data ({controls:,} of {len(text):,} characters are "
            "control codes), not an error text"
        )
    if text.count("\ufffd") > MAX_REPLACEMENT_SHARE * len(text):
        raise InputError(
            "the input is oddly encoded: most of it is not valid text in any encoding sqlreach "
            "tried (UTF-8, UTF-16, Windows-1252)"
        )
