"""`sqlreach check --json` as a subprocess, as a person runs it: never a traceback, never the
lab's password in what it prints."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tui.lab.scenarios import LAB_PASSWORD

REPO = Path(__file__).resolve().parent.parent


def run_check(
    target: str,
    *extra: str,
    timeout: float = 1.0,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
) -> tuple[int, dict[str, Any], str]:
    """Exit code, the JSON document (with `_wall_s`, the whole run's seconds) and stderr."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tui", "check", target, "--json", "--timeout", str(timeout), *extra],
        capture_output=True,
        timeout=90,
        cwd=REPO,
        env=env,
        input=stdin,
    )
    elapsed = time.perf_counter() - started
    stdout, stderr = done.stdout.decode(), done.stderr.decode()
    assert "Traceback" not in stderr, stderr
    assert LAB_PASSWORD not in stdout + stderr
    document: dict[str, Any] = json.loads(stdout)
    document["_wall_s"] = elapsed
    return done.returncode, document, stderr


def last_json_line(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON a client script printed last (a witness's result); a script that says why it
    cannot run (`{"skip": ...}`) skips the test."""
    import pytest

    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    result: dict[str, Any] = json.loads(lines[-1])
    if "skip" in result:
        pytest.skip(result["skip"])
    return result
