"""Whatever arrives on standard input becomes text, or a clear refusal: never a traceback."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.knowledge.explain.textinput import (
    MAX_INPUT_BYTES,
    InputError,
    decode_argument,
    decode_bytes,
    read_capped,
)

MESSAGE = (  # MicrosoftDocs/SupportArticles-docs, network-related-or-instance-specific-error...
    "[Microsoft][SQL Server Native Client 11.0]TCP Provider: No connection could be made because "
    "the target machine actively refused it.\r\n"
)
FIXTURES = Path(__file__).parent / "fixtures" / "windows"


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (codecs.BOM_UTF16_LE + MESSAGE.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + MESSAGE.encode("utf-16-be"), "utf-16-be"),
        (codecs.BOM_UTF8 + MESSAGE.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF32_LE + MESSAGE.encode("utf-32-le"), "utf-32-le"),
        (MESSAGE.encode("utf-16-le"), "utf-16-le"),  # no BOM: a PowerShell pipe
        (MESSAGE.encode("utf-16-be"), "utf-16-be"),
        (MESSAGE.encode("utf-8"), "utf-8"),
    ],
)
def test_encodings_are_recognised(raw: bytes, encoding: str) -> None:
    decoded = decode_bytes(raw)
    assert decoded.encoding == encoding
    assert "actively refused" in decoded.text
    assert not decoded.text.startswith("\ufeff")


def test_a_real_utf16_errorlog_reads_with_its_cyrillic() -> None:
    raw = (
        FIXTURES / "errorlog-windows-sql2016-named-instance-startup-crash-ru.utf16le.log"
    ).read_bytes()
    decoded = decode_bytes(raw)
    assert decoded.encoding == "utf-16-le"
    assert any("\u0400" <= char <= "\u04ff" for char in decoded.text)


def test_windows_1252_falls_back_and_says_so() -> None:
    raw = "Login failed for user 'José'. (18456)".encode("cp1252")
    decoded = decode_bytes(raw)
    assert decoded.encoding == "cp1252"
    assert "José" in decoded.text
    assert "Windows-1252" in decoded.notes[0]


def test_terminal_colours_are_stripped() -> None:
    decoded = decode_bytes(b"\x1b[31mLogin timeout expired\x1b[0m\n")
    assert decoded.text == "Login timeout expired\n"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "nothing to explain"),
        (b" \r\n\t ", "nothing to explain"),
        (bytes(range(256)) * 4, "binary"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "binary"),
        (b"PK\x03\x04" + bytes(range(1, 32)) * 8, "binary"),
        (b"\x01\x02\x03\x04\x05\x06 error", "binary"),
    ],
)
def test_non_text_is_refused_in_plain_words(raw: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decode_bytes(raw)


def test_huge_input_is_capped_and_the_cap_is_said() -> None:
    stream = io.BytesIO(("é" * MAX_INPUT_BYTES).encode("utf-8"))  # two bytes a character
    data, truncated = read_capped(stream)
    assert len(data) == MAX_INPUT_BYTES
    assert truncated
    decoded = decode_bytes(data, truncated=True)
    assert decoded.encoding == "utf-8"
    assert "only that much was read" in decoded.notes[0]


def test_a_cut_in_the_middle_of_a_character_is_not_an_error() -> None:
    raw = "Login failed for user 'é'".encode()
    decoded = decode_bytes(raw[:-2], truncated=True)  # ends with the first byte of é
    assert decoded.encoding == "utf-8"
    assert decoded.text.startswith("Login failed")


def test_arguments_with_undecodable_bytes_are_read() -> None:
    argument = b"Login failed for user '\xe9'".decode("utf-8", "surrogateescape")
    assert "Login failed" in decode_argument(argument).text
    assert "Login failed" in decode_argument("Login failed \ud800").text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.booleans())
def test_arbitrary_bytes_decode_or_are_refused(raw: bytes, truncated: bool) -> None:
    try:
        decoded = decode_bytes(raw, truncated)
    except InputError as error:
        assert str(error)
    else:
        assert decoded.text.strip()
        assert "\x00" not in decoded.text
