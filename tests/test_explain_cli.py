"""`sqlreach explain` as people run it: exit codes, JSON shape, odd input, never a traceback."""

from __future__ import annotations

import codecs
import io
import json
import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.commands.explain import ExplainOptions, run_explain

REFUSED = (  # github.com/dotnet/SqlClient/issues/2075
    "A network-related or instance-specific error occurred while establishing a connection to "
    "SQL Server. (provider: TCP Provider, error: 0 - No connection could be made because the "
    "target machine actively refused it.)"
)
TIMEOUT_EXIT = 60


def sqlreach(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT_EXIT,
        check=False,
        env={**os.environ, **(env or {})},
    )


def no_traceback(result: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in result.stderr
    assert b"Traceback" not in result.stdout


def test_a_recognised_text_exits_0_and_explains() -> None:
    result = sqlreach("explain", REFUSED)
    no_traceback(result)
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "Where it failed: the TCP connection to the port." in out
    assert "1. PORT_REFUSED" in out
    assert "Ruled out by the text" in out
    assert result.stderr == b""


def test_words_given_without_quotes_are_joined() -> None:
    result = sqlreach("explain", "Login", "timeout", "expired")
    assert result.returncode == 0
    assert b"Login timeout expired" in result.stdout


def test_json_has_the_documented_shape() -> None:
    result = sqlreach("explain", "--json", REFUSED)
    no_traceback(result)
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert {"recognised", "layer", "candidates", "ruled_out", "next_checks"} <= set(document)
    assert document["layer"] == "tcp"
    assert document["candidates"][0] == "PORT_REFUSED"
    assert "NAME_NOT_RESOLVED" in document["ruled_out"]
    assert all(isinstance(check, str) for check in document["next_checks"])
    for item in document["recognised"]:
        assert {"text", "code", "meaning"} <= set(item)
    assert document["entry_hint"]["start_layer"] == "tcp"


def test_nothing_recognised_exits_1_with_a_suggestion() -> None:
    result = sqlreach("explain", "the printer is out of paper")
    no_traceback(result)
    assert result.returncode == 1
    assert b"sqlreach check" in result.stdout
    document = json.loads(sqlreach("explain", "--json", "paper jam").stdout)
    assert document["recognised"] == [] and "sqlreach check" in document["message"]


def test_stdin_in_utf16_with_a_bom_is_read() -> None:
    result = sqlreach("explain", "-", stdin=codecs.BOM_UTF16_LE + REFUSED.encode("utf-16-le"))
    no_traceback(result)
    assert result.returncode == 0
    assert b"UTF-16-LE" in result.stdout  # the note says how it was read


def test_stdin_without_an_argument_is_read_when_piped() -> None:
    result = sqlreach("explain", stdin=REFUSED.encode())
    assert result.returncode == 0


def test_binary_and_empty_input_exit_2_in_plain_words() -> None:
    for raw in (bytes(range(256)) * 16, b"", b"\x00\x01\x02\x03"):
        result = sqlreach("explain", "-", stdin=raw)
        no_traceback(result)
        assert result.returncode == 2
        assert result.stderr.startswith(b"sqlreach explain: ")
    result = sqlreach("explain", "--json", "-", stdin=bytes(range(256)))
    assert result.returncode == 2
    assert "binary" in json.loads(result.stdout)["error"]


def test_huge_input_is_capped_and_says_so() -> None:
    result = sqlreach("explain", "-", stdin=REFUSED.encode() + b" filler" * 400_000)
    no_traceback(result)
    assert result.returncode == 0
    assert b"only that much was read" in result.stdout


def test_an_ascii_console_gets_no_traceback() -> None:
    text = "Login failed for user 'Jos\u00e9'. (18456)"
    result = sqlreach("explain", text, env={"PYTHONIOENCODING": "ascii"})
    no_traceback(result)
    assert result.returncode == 0
    assert b"Login failed for user 'Jos?'" in result.stdout


def test_a_terminal_with_no_text_is_told_how_to_give_one() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_explain(ExplainOptions(text=None), io.BytesIO(), True, out, err)
    assert code == 2
    assert "sqlreach explain - < error.txt" in err.getvalue()


@settings(max_examples=8, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_on_stdin_never_crash(raw: bytes) -> None:
    result = sqlreach("explain", "--json", "-", stdin=raw)
    no_traceback(result)
    assert result.returncode in {0, 1, 2}
    json.loads(result.stdout)
