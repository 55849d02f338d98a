"""`sqlreach --serve`: the command textual-serve starts, quoted for the shell it goes through, and
a plain message when the 'serve' extra is not installed.

textual-serve starts each visitor's app with `asyncio.create_subprocess_shell(command)`
(textual_serve/app_service.py), so the command is one string read by /bin/sh, or by cmd.exe on
Windows through subprocess's `list2cmdline` rules. cmd.exe never ran here: its case is the
string Python's own quoting gives."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tui import __version__
from tui.app import SERVE_MISSING, serve_command


async def test_an_interpreter_under_a_path_with_a_space_starts(tmp_path: Path) -> None:
    """A venv under "/home/First Last" (or "C:\\Users\\First Last"): the shell gets one path."""
    folder = tmp_path / "First Last" / "it's here"
    folder.mkdir(parents=True)
    python = folder / "python"
    python.symlink_to(sys.executable)
    command = serve_command(str(python), platform="linux")
    assert command.startswith("'") or command.startswith('"')
    process = await asyncio.create_subprocess_shell(
        command + " --version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert __version__ in out.decode()
    unquoted = await asyncio.create_subprocess_shell(
        f"{python} -m tui --version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    await asyncio.wait_for(unquoted.communicate(), 30)
    assert unquoted.returncode != 0  # what the unquoted command did before


def test_windows_paths_are_quoted_for_cmd() -> None:
    executable = r"C:\Users\First Last\sqlreach\.venv\Scripts\python.exe"
    assert serve_command(executable, platform="win32") == f'"{executable}" -m tui'
    plain = r"C:\venv\Scripts\python.exe"
    assert serve_command(plain, platform="win32") == f"{plain} -m tui"


def test_without_the_serve_extra_the_message_says_what_to_install() -> None:
    """textual-serve hidden from the import system, as on an install without the extra."""
    code = (
        "import sys; sys.modules['textual_serve'] = None; "
        "from tui.cli import main; sys.exit(main(['--serve']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert SERVE_MISSING in done.stderr and "Traceback" not in done.stderr
    assert "pip install 'sqlreach[serve]'" in SERVE_MISSING
