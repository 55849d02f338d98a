"""Nothing below the screens imports Textual: the modules `check` uses, and `check` itself, run
in a fresh interpreter without `textual` in sys.modules."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import tui

REPO = Path(__file__).resolve().parent.parent
TOP = {"tui.app", "tui.cli", "tui.__main__"}


def _modules() -> list[str]:
    found = [m.name for m in pkgutil.walk_packages(tui.__path__, "tui.") if m.name not in TOP]
    assert len(found) > 30
    return sorted(found)


def test_importing_the_lower_layers_leaves_textual_out() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {_modules()!r}:\n"
        "    if name.startswith('tui.commands.lab'):\n"
        "        continue  # opens the wizard on demand, lazily\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert json.loads(done.stdout) == []


def test_check_runs_without_textual(loopback: str) -> None:
    from tests.netutil import closed_port

    code = (
        "import runpy, sys, json\n"
        f"sys.argv = ['sqlreach', 'check', '{loopback},{closed_port(loopback)}', '--json',"
        " '--timeout', '0.5']\n"
        "try:\n"
        "    runpy.run_module('tui', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('TEXTUAL', [m for m in sys.modules if m.split('.')[0] == 'textual'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert '"root_cause": "PORT_REFUSED"' in done.stdout
    assert "TEXTUAL []" in done.stdout
