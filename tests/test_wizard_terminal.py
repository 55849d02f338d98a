"""The real program, as people meet it: in tmux (driven with send-keys, read with capture-pane)
and served to a real headless Chromium (textual-serve)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab_fixtures import running
from tests.netutil import free_port

REPO = Path(__file__).resolve().parent.parent
SQLREACH = str(Path(sys.executable).parent / "sqlreach")


@contextlib.contextmanager
def tmux(command: str, env: dict[str, str], size: tuple[int, int] = (80, 24)) -> Iterator[str]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt install tmux)")
    socket_name = f"sqlreach-test-{secrets.token_hex(4)}"
    base = ["tmux", "-L", socket_name]
    exports = " ".join(f"{key}={value}" for key, value in env.items())
    subprocess.run(
        [
            *base,
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            str(size[0]),
            "-y",
            str(size[1]),
            f"env {exports} {command}",
        ],
        check=True,
        cwd=REPO,
    )
    try:
        yield socket_name
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True, check=False)


def screen(socket_name: str) -> str:
    return subprocess.run(
        ["tmux", "-L", socket_name, "capture-pane", "-p", "-t", "t"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def still_shown(socket_name: str, text: str) -> bool:
    """`text` is on the pane; False once the program and with it the tmux session ended."""
    try:
        return text in screen(socket_name)
    except subprocess.CalledProcessError:
        return False


def send(socket_name: str, *keys: str) -> None:
    subprocess.run(["tmux", "-L", socket_name, "send-keys", "-t", "t", *keys], check=True)


def wait_screen(socket_name: str, text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen(socket_name)
        if text in shown:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen shows:\n{shown}")


@pytest.mark.slow
def test_the_real_program_in_tmux(tmp_path: Path) -> None:
    env = {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "TERM": "xterm-256color",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    with (
        running("moved-port") as lab,
        tmux(f"{SQLREACH} --timeout 1", env) as session,
    ):
        wait_screen(session, "Server name or connection string")
        send(session, "-l", lab.address)
        wait_screen(session, "the default instance's port")  # the live parse
        send(session, "Enter")
        wait_screen(session, "Are you on the SQL Server machine itself?")
        send(session, "Down", "Enter")  # no, on a client
        shown = wait_screen(session, "Root cause: WRONG_PORT")
        assert "1500" in shown
        send(session, "t")
        wait_screen(session, "This session is written")
        send(session, "Escape")
        send(session, "C-q")
        deadline = time.monotonic() + 10
        while still_shown(session, "Root cause") and time.monotonic() < deadline:
            time.sleep(0.1)
    journals = list((tmp_path / "data" / "sqlreach" / "sessions").glob("*.jsonl"))
    assert len(journals) == 1 and b'"WRONG_PORT"' in journals[0].read_bytes()


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


@pytest.mark.slow
async def test_the_served_app_in_headless_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (apt install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError as error:
        pytest.skip(f"playwright (the Python package) is missing: {error}")
    port = free_port("127.0.0.1")
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    server = subprocess.Popen(
        [SQLREACH, "--serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    frames: list[str] = []
    try:
        _wait_port(port)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium,
                # nothing but localhost resolves: the page's web font link never leaves
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
                ],
            )
            page = await browser.new_page(viewport={"width": 1100, "height": 700})
            page.on(
                "websocket",
                lambda ws: ws.on(
                    "framereceived",
                    lambda frame: frames.append(
                        frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                    ),
                ),
            )
            await page.goto(f"http://localhost:{port}/")
            title = await page.locator(".intro-dialog .intro div").first.inner_text()
            deadline = time.monotonic() + 20
            while "Server name or connection string" not in "".join(frames):
                assert time.monotonic() < deadline, "the app never drew its first screen"
                await page.wait_for_timeout(100)
            shot = tmp_path / "served.png"
            await page.screenshot(path=str(shot))
            await browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert title == "sqlreach"
    drawn = "".join(frames)
    assert "sqlreach" in drawn and "from 'actively refused' to the root cause" in drawn
    assert shot.stat().st_size > 20_000  # a drawn terminal, not a blank page
