"""The wizard as a process on a real pseudo-terminal: the terminal going away (with and without
a SIGHUP), quitting while a server says nothing, a crash, no terminal at all, bad options.

Bounds on waiting here are liveness bounds (the process ends at all, not after a probe's 30 s
timeout); the times themselves are measured and reported, never asserted."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.netutil import random_loopback
from tui.exitcodes import ExitCode
from tui.terminal import GONE_EXIT
from tui.transcript.store import find_unfinished, resume_info

REPO = Path(__file__).resolve().parent.parent
SQLREACH = str(Path(sys.executable).parent / "sqlreach")
QUESTION = b"Are you on the SQL Server"
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")

# The session leader on the terminal. With MAKE_LIKE it runs the command as its child and, as
# make does, keeps a SIGHUP to itself (a handler, so the child does not inherit an ignore):
# the kernel signals only the session leader, so the wizard never gets the SIGHUP.
LAUNCHER = """
import fcntl, os, signal, subprocess, sys, termios
os.setsid()
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
if os.environ.get("MAKE_LIKE"):
    signal.signal(signal.SIGHUP, lambda *a: None)
    sys.exit(subprocess.call(sys.argv[1:]))
os.execv(sys.argv[1], sys.argv[1:])
"""


@dataclass
class Terminal:
    """A child process on a pseudo-terminal, and everything it drew."""

    process: subprocess.Popen[bytes]
    master: int
    drawn: bytearray = field(default_factory=bytearray)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False

    def drain(self) -> None:
        while not self.closed:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if ready:
                    chunk = os.read(self.master, 65536)
                    if not chunk:
                        return
                    with self.lock:
                        self.drawn += chunk
            except OSError:
                return

    def wait_for(self, text: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if text in self.drawn:
                    return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never drawn; the end: {bytes(self.drawn[-300:])!r}")

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def hang_up(self) -> None:
        self.closed = True
        os.close(self.master)


@contextlib.contextmanager
def terminal(argv: list[str], home: Path, *, make_like: bool = False) -> Iterator[Terminal]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "TERM": "xterm-256color",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    env.pop("TEXTUAL_DRIVER", None)
    if make_like:
        env["MAKE_LIKE"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=REPO,
        env=env,
    )
    os.close(slave)
    term = Terminal(process, master)
    reader = threading.Thread(target=term.drain, daemon=True)
    reader.start()
    try:
        yield term
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        if not term.closed:
            term.hang_up()


def wait_exit(process: subprocess.Popen[bytes], bound: float = 15) -> tuple[int, float]:
    started = time.monotonic()
    code = process.wait(bound)
    return code, time.monotonic() - started


def journals(home: Path) -> list[list[dict[str, object]]]:
    found = sorted((home / "data" / "sqlreach" / "sessions").glob("*.jsonl"))
    return [[json.loads(line) for line in path.read_text().splitlines()] for path in found]


# -- the terminal goes away -------------------------------------------------------------------


@pytest.mark.parametrize("make_like", [True, False], ids=["parent-keeps-sighup", "sighup"])
def test_the_wizard_ends_with_its_journal_closed_when_the_terminal_goes(
    tmp_path: Path, make_like: bool
) -> None:
    argv = [SQLREACH, "lab", "moved-port", "--address", random_loopback()]
    with terminal(argv, tmp_path, make_like=make_like) as term:
        term.wait_for(QUESTION)
        term.hang_up()
        code, _ = wait_exit(term.process)  # before: still running after 10 s, at 26-94% CPU
    assert code == GONE_EXIT
    (journal,) = journals(tmp_path)
    assert journal[-1]["type"] == "session-end"
    assert journal[-1]["status"] == "terminal-gone"
    # closed, and still offered for resuming: it stopped before its verdict
    (stopped,) = find_unfinished([tmp_path / "data" / "sqlreach" / "sessions"])
    assert resume_info(stopped).steps_done[-1] == "Read the error you saw"


# -- quitting while a server says nothing ------------------------------------------------------


@pytest.mark.parametrize("key", [b"\x11", b"\x03"], ids=["ctrl+q", "ctrl+c"])
def test_quit_while_a_server_accepts_and_never_answers(tmp_path: Path, key: bytes) -> None:
    argv = [SQLREACH, "lab", "server-stalled", "--address", random_loopback(), "--timeout", "30"]
    with terminal(argv, tmp_path) as term:
        term.wait_for(QUESTION)
        term.send(b"\x1b[B")  # down: on a client
        time.sleep(0.3)
        term.send(b"\r")
        term.wait_for(b"(escape cancels)", 15)  # a probe has waited 2 s for the server
        term.send(key)
        code, _ = wait_exit(term.process)  # the probes' timeout is 30 s
    assert code == ExitCode.OK
    (journal,) = journals(tmp_path)
    assert journal[-1]["type"] == "session-end"


def test_escape_cancels_while_a_server_accepts_and_never_answers(tmp_path: Path) -> None:
    argv = [SQLREACH, "lab", "server-stalled", "--address", random_loopback(), "--timeout", "30"]
    with terminal(argv, tmp_path) as term:
        term.wait_for(QUESTION)
        term.send(b"\x1b[B")
        time.sleep(0.3)
        term.send(b"\r")
        term.wait_for(b"(escape cancels)", 15)
        term.send(b"\x1b")
        term.wait_for(b"Cancelled", 10)
        term.send(b"\x11")
        code, _ = wait_exit(term.process)
    assert code == ExitCode.OK


# -- a crash -----------------------------------------------------------------------------------


def test_a_crash_exits_3_with_one_line_and_a_secret_free_owner_only_report(
    tmp_path: Path,
) -> None:
    password = "Crash-Passw0rd!"
    argv = [sys.executable, "-m", "tests.crashing_wizard", f"Server=db1;User ID=sa;Pwd={password}"]
    with terminal(argv, tmp_path) as term:
        code, _ = wait_exit(term.process)
        time.sleep(0.3)  # the last bytes drained
        with term.lock:
            screen = bytes(term.drawn)
    assert code == ExitCode.CRASH
    said = ANSI.sub("", screen.decode(errors="replace")).replace("\x07", "")  # and the bell
    assert password not in said and "Traceback" not in said
    lines = [line for line in said.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("sqlreach: internal error: "), said
    report = Path(lines[0].rsplit(" is in ", 1)[1].strip())
    assert report.parent == tmp_path / "data" / "sqlreach" / "crashes"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700
    text = report.read_text()
    assert "RuntimeError: a bug in a step" in text and "tests/crashing_wizard.py" in text
    assert "RuntimeError: a bug in a step" in lines[0]
    assert password not in text
    (journal,) = journals(tmp_path)
    assert journal[-1] == {**journal[-1], "type": "session-end", "status": "crashed"}
    assert password not in json.dumps(journal)


# -- no terminal, bad options ------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["db1"], ["lab", "moved-port"]], ids=["wizard", "lab"])
def test_with_no_terminal_the_wizard_says_so_and_exits_2(argv: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_DRIVER"}
    done = subprocess.run(
        [SQLREACH, *argv], stdin=subprocess.DEVNULL, capture_output=True, timeout=30, env=env
    )
    assert done.returncode == ExitCode.USAGE
    assert done.stdout == b""  # no escape codes drawn into a file
    assert b"the wizard needs a terminal" in done.stderr and b"sqlreach check" in done.stderr
    assert b"\x1b" not in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["--timeout", "-5"],
        ["--timeout", "0"],
        ["--timeout", "nan"],
        ["--timeout", "601"],
        ["lab", "moved-port", "--timeout", "-5"],
        ["check", "db1", "--timeout", "-5"],
        ["scan", "-", "--timeout", "inf"],
        ["--serve", "--port", "0"],
    ],
)
def test_options_are_checked_before_anything_starts(argv: list[str]) -> None:
    done = subprocess.run(
        [SQLREACH, *argv], stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    assert done.returncode == ExitCode.USAGE
    assert b"sqlreach: error: argument --" in done.stderr
