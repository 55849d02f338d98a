"""The three doors (registry, commands, files) and text decoding."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.probes.local.system import (
    CommandStatus,
    DiskFileReader,
    Environment,
    Hive,
    MemoryRegistry,
    SubprocessRunner,
    WinRegistry,
    decode_text,
)

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def test_memory_registry_reads_values_and_subkeys_case_insensitively() -> None:
    registry = MemoryRegistry(
        {
            (Hive.HKLM, r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo"): {
                "PROD": "DBMSSOCN,db01,1500"
            },
            (Hive.HKLM, r"SOFTWARE\Microsoft\MSSQLServer\Client\SNI11.0"): {
                "ProtocolOrder": ("sm", "tcp", "np")
            },
        }
    )
    key = registry.open(Hive.HKLM, r"software\microsoft\mssqlserver\client\connectto")
    assert key is not None
    assert key.get("prod") == "DBMSSOCN,db01,1500"
    assert key.where == r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo"
    client = registry.open(Hive.HKLM, r"SOFTWARE\Microsoft\MSSQLServer\Client")
    assert client is not None and client.subkeys == ("ConnectTo", "SNI11.0")
    sni = registry.open(Hive.HKLM, r"SOFTWARE\Microsoft\MSSQLServer\Client\SNI11.0")
    assert sni is not None and sni.text("ProtocolOrder") == "sm,tcp,np"
    assert registry.open(Hive.HKCU, r"SOFTWARE\Microsoft\MSSQLServer\Client") is None
    assert registry.open(Hive.HKLM, r"SOFTWARE\Nothing") is None


def test_memory_registry_denied_key_raises_oserror() -> None:
    registry = MemoryRegistry({(Hive.HKLM, r"SOFTWARE\A"): {"x": 1}})
    registry.denied.add((Hive.HKLM, r"SOFTWARE\A"))
    with pytest.raises(OSError):
        registry.open(Hive.HKLM, r"software\a")


def test_registry_key_numbers_from_dword_and_text() -> None:
    registry = MemoryRegistry({(Hive.HKLM, "K"): {"Enabled": 1, "TcpPort": " 1433 ", "X": "a"}})
    key = registry.open(Hive.HKLM, "K")
    assert key is not None
    assert key.number("enabled") == 1
    assert key.number("TcpPort") == 1433
    assert key.number("X") is None
    assert key.number("missing") is None


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows refusal")
def test_win_registry_refuses_off_windows() -> None:
    with pytest.raises(OSError):
        WinRegistry().open(Hive.HKLM, "SOFTWARE")


async def test_runner_runs_a_real_program_and_keeps_its_exit_code() -> None:
    code = "import sys; print('hello'); print('oops', file=sys.stderr); sys.exit(3)"
    result = await SubprocessRunner().run([sys.executable, "-c", code], timeout=20)
    assert result.status == CommandStatus.OK
    assert result.returncode == 3
    assert result.stdout.strip() == b"hello"
    assert result.stderr.strip() == b"oops"
    assert result.describe_failure() is None


async def test_runner_reports_a_missing_program() -> None:
    result = await SubprocessRunner().run(["sqlreach-no-such-program-x"], timeout=5)
    assert result.status == CommandStatus.NOT_FOUND
    assert "not available" in (result.describe_failure() or "")


async def test_runner_kills_a_command_that_runs_past_its_deadline() -> None:
    code = "import time; time.sleep(30)"
    result = await SubprocessRunner().run([sys.executable, "-c", code], timeout=0.5)
    assert result.status == CommandStatus.TIMEOUT
    assert result.elapsed_ms < 15_000


async def test_runner_caps_output_and_says_so() -> None:
    code = "import sys; sys.stdout.write('x' * 300000)"
    result = await SubprocessRunner(max_output=1000).run([sys.executable, "-c", code], timeout=20)
    assert result.status == CommandStatus.OK
    assert len(result.stdout) == 1000
    assert result.truncated


def test_file_reader_caps_reads_offsets_and_reports_missing(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"0123456789" * 100)
    reader = DiskFileReader()
    head = reader.read(str(path), 25)
    assert head.data == b"0123456789012345678901234"
    assert head.size == 1000 and head.truncated
    tail = reader.read(str(path), 100, offset=990)
    assert tail.data == b"0123456789" and not tail.truncated
    missing = reader.read(str(tmp_path / "none"), 10)
    assert not missing.found and missing.error == "not found"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_file_reader_refuses_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "freetds.conf"
    os.mkfifo(fifo)
    result = DiskFileReader().read(str(fifo), 100)
    assert not result.found and result.error == "not a regular file"
    assert DiskFileReader().read(str(tmp_path), 100).error == "not a regular file"


def test_decode_real_utf16le_errorlog_with_bom() -> None:
    data = FIXTURES / "errorlog-windows-sql2016-named-instance-startup-crash-ru.utf16le.log"
    decoded = decode_text(data.read_bytes())
    assert decoded.encoding == "utf-16-le"
    assert "Cyrillic_General_CI_AS (русский 1049)" in decoded.text
    assert decoded.replaced == 0


def test_decode_utf16le_without_bom_as_read_from_the_middle_of_a_file() -> None:
    raw = (FIXTURES / "errorlog-windows-sql2019-express-named-instance.utf16le.log").read_bytes()
    decoded = decode_text(raw[4000:])  # an even offset, past the BOM
    assert decoded.encoding == "utf-16-le"
    assert "SQL Server is now ready for client connections" in decoded.text


def test_decode_utf8_bom_and_latin1_junk() -> None:
    assert decode_text(b"\xef\xbb\xbf[MSSQL]\n").text == "[MSSQL]\n"
    junk = decode_text(b"host = \xff\xfeX\x00\x00\xc3")
    assert junk.replaced > 0


@given(st.binary(max_size=2000))
def test_decode_never_raises(data: bytes) -> None:
    decoded = decode_text(data)
    assert "\x00" not in decoded.text


def test_environment_joins_paths_for_its_own_platform() -> None:
    windows = Environment("win32", DiskFileReader(), SubprocessRunner())
    linux = Environment("linux", DiskFileReader(), SubprocessRunner(), env={"A": "", "B": "x"})
    assert windows.join("C:\\Windows", "System32") == "C:\\Windows\\System32"
    assert linux.join("/etc", "odbc.ini") == "/etc/odbc.ini"
    assert linux.getenv("A") is None and linux.getenv("B") == "x"
    assert Environment.current().files is not None
