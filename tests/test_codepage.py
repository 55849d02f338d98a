"""Output never crashes on a console code page (issue 20): the real CLI in a subprocess with
PYTHONIOENCODING set as a Windows console with redirected output would have it (cp1252, cp437,
cp65001), its output redirected to a file, and a Cyrillic host name in every format. Before,
`check` and `scan` died with UnicodeEncodeError: a traceback, nothing printed, exit 1."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dnsserver import DnsServer
from tests.netutil import random_loopback

pytestmark = pytest.mark.slow  # a few dozen interpreters started

REPO = Path(__file__).resolve().parent.parent
HOST = "сервер-бд.invalid"  # Cyrillic: no ANSI code page of the West can write it
ENCODINGS = ("cp1252", "cp437", "cp65001")


@pytest.fixture(scope="module")
def dns_server() -> Iterator[str]:
    """Answers NXDOMAIN for everything, at once: the diagnosis ends at name resolution."""
    server = DnsServer(random_loopback())
    with server.running():
        yield f"{server.address}:{server.port}"


def _run(
    tmp_path: Path, encoding: str, *args: str, stdin: bytes | None = None
) -> tuple[int, bytes, str]:
    out = tmp_path / f"out-{encoding}-{len(list(tmp_path.iterdir()))}.txt"
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    with out.open("wb") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "tui", *args],
            stdout=handle,
            stderr=subprocess.PIPE,
            input=stdin,
            timeout=90,
            cwd=REPO,
            env=env,
        )
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "UnicodeEncodeError" not in stderr, stderr
    return done.returncode, out.read_bytes(), stderr


def _readable(encoding: str, data: bytes) -> str:
    text = data.decode(codecs.lookup(encoding).name)
    if encoding == "cp65001":
        assert HOST in text
    else:
        assert HOST not in text and "?????" in text  # replaced, not crashed
    return text


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_check_in_every_format(tmp_path: Path, dns_server: str, encoding: str) -> None:
    base = ("check", HOST, "--dns-server", dns_server, "--timeout", "2")
    code, data, _ = _run(tmp_path, encoding, *base)
    assert code == 1
    assert "Verdict: NAME_NOT_RESOLVED" in _readable(encoding, data)
    code, data, _ = _run(tmp_path, encoding, *base, "--markdown")
    assert code == 1
    assert "## sqlreach: `NAME_NOT_RESOLVED`" in _readable(encoding, data)
    code, data, _ = _run(tmp_path, encoding, *base, "--json")
    assert code == 1 and data.isascii()
    document = json.loads(data)
    assert document["schema"] == 1 and document["target"]["host"] == HOST
    assert HOST in document["summary"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_scan_in_every_format(tmp_path: Path, dns_server: str, encoding: str) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text(f"{HOST}\nServer={{{HOST}\n", encoding="utf-8")
    base = ("scan", str(listing), "--dns-server", dns_server, "--timeout", "2")
    code, data, _ = _run(tmp_path, encoding, *base)
    assert code == 1 and "NAME_NOT_RESOLVED" in _readable(encoding, data)
    code, data, _ = _run(tmp_path, encoding, *base, "--format", "md")
    assert code == 1 and "| line | target |" in _readable(encoding, data)
    code, data, _ = _run(tmp_path, encoding, *base, "--format", "jsonl")
    assert code == 1 and data.isascii()
    rows = [json.loads(line) for line in data.splitlines()]
    assert [row["root_cause"] for row in rows] == ["NAME_NOT_RESOLVED", "BAD_INPUT"]
    assert rows[0]["target_text"] == HOST and all(row["schema"] == 1 for row in rows)


def test_explain_and_transcripts_show(tmp_path: Path, dns_server: str) -> None:
    encoding = "cp1252"
    said = f'Cannot open database "Продажи" requested by the login. Server: {HOST}'
    code, data, _ = _run(tmp_path, encoding, "explain", said)
    assert code == 0 and "4060" in data.decode(encoding)
    code, data, _ = _run(tmp_path, encoding, "explain", "--json", said)
    assert data.isascii() and json.loads(data)["schema"] == 1
    journal = tmp_path / "session.jsonl"
    check = ("check", HOST, "--dns-server", dns_server, "--transcript", str(journal))
    _run(tmp_path, encoding, *check)
    code, data, _ = _run(tmp_path, encoding, "transcripts", "show", str(journal))
    assert code == 0 and "## Summary" in _readable(encoding, data)


@pytest.mark.parametrize(
    "bom", [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE], ids=["8", "16le", "16be"]
)
def test_scan_reads_a_file_or_stdin_by_its_bom(tmp_path: Path, dns_server: str, bom: bytes) -> None:
    encoding = {codecs.BOM_UTF8: "utf-8", codecs.BOM_UTF16_LE: "utf-16-le"}.get(bom, "utf-16-be")
    data = bom + f"# Windows Notepad\r\n{HOST}\r\n".encode(encoding)
    listing = tmp_path / "targets.txt"
    listing.write_bytes(data)
    base = ("--dns-server", dns_server, "--timeout", "2", "--format", "jsonl")
    for source, stdin in ((str(listing), None), ("-", data)):
        code, out, _ = _run(tmp_path, "cp1252", "scan", source, *base, stdin=stdin)
        rows = [json.loads(line) for line in out.splitlines()]
        assert [(row["line"], row["target_text"]) for row in rows] == [(2, HOST)], source
        assert code == 1


def test_a_first_line_longer_than_the_csv_limit_is_bad_input(tmp_path: Path) -> None:
    listing = tmp_path / "huge.csv"
    listing.write_text("target," + "x" * 200_000 + "\n")
    code, _, stderr = _run(tmp_path, "utf-8", "scan", str(listing))
    assert code == 2 and "cannot be read as CSV" in stderr
