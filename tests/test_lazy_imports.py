"""A refused verdict loads only what its path needs: `sqlreach check HOST --json --remote` on a
refused port, in a fresh interpreter, never imports TLS and cryptography, dnspython, the server's
own inspectors, the logins (pyodbc), the error-text catalog or Textual. A fact read from
`python -X importtime` (every module the process imported), not a timing; `make bench` times it.

`--remote` says this machine is a client: on a loopback target sqlreach would otherwise assume
it runs on the server and read the server's configuration, which is those inspectors' job.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.netutil import closed_port

REPO = Path(__file__).resolve().parent.parent

# Loaded only when a step first needs them (a name to resolve, a server that answers, a login,
# the error text, this machine's SQL Server, the wizard).
HEAVY = (
    "cryptography",
    "dns",  # dnspython
    "pyodbc",
    "keyring",
    "textual",
    "screens",
    "tui.app",
    "tui.credentials",
    "tui.probes.tls",
    "tui.wire.tlsbridge",
    "tui.probes.native_login",
    "tui.probes.odbc_login",
    "tui.probes.local.server",
    "tui.probes.local.windows",
    "tui.probes.local.linux",
    "tui.probes.local.errorlog",
    "tui.probes.local.eventlog",
    "tui.probes.local.sqlcheck",
    "tui.knowledge.server_findings",
    "tui.knowledge.explain",  # the catalog, its reader and model
)
# What the refused path is made of: proof the list above was read from a real run.
NEEDED = (
    "tui.target",
    "tui.probes.tcp",
    "tui.probes.browser",
    "tui.probes.local.aliases",  # the target step follows client aliases on every path
    "tui.render.jsonout",
)


def imported_by(*argv: str) -> tuple[set[str], dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tui", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    names = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", done.stderr, re.M))
    return names, json.loads(done.stdout)


def loaded(names: set[str], package: str) -> list[str]:
    return sorted(name for name in names if name == package or name.startswith(package + "."))


def test_a_refused_check_imports_none_of_the_heavy_parts(loopback: str) -> None:
    port = closed_port(loopback)
    names, document = imported_by("check", f"{loopback},{port}", "--json", "--remote")
    assert document["root_cause"] == "PORT_REFUSED"
    for module in NEEDED:
        assert module in names
    found = {package: loaded(names, package) for package in HEAVY}
    assert {package: modules for package, modules in found.items() if modules} == {}


def test_the_parts_load_when_a_step_needs_them(loopback: str) -> None:
    """The same check with the error text read first: the explain catalog is then loaded."""
    port = closed_port(loopback)
    names, document = imported_by(
        "check",
        f"{loopback},{port}",
        "--json",
        "--remote",
        "--error",
        "TCP Provider: No connection could be made because the target machine actively refused it.",
    )
    assert document["root_cause"] == "PORT_REFUSED"
    assert "tui.knowledge.explain.catalog" in names


def test_the_servers_own_inspectors_load_when_the_target_is_this_machine(loopback: str) -> None:
    """Without --remote a loopback target is this machine: its configuration is read."""
    port = closed_port(loopback)
    names, document = imported_by("check", f"{loopback},{port}", "--json")
    assert document["root_cause"] == "PORT_REFUSED"
    assert {"tui.probes.local.server", "tui.knowledge.server_findings"} <= names
    assert any(step["id"] == "server-config" for step in document["steps"])


def test_the_local_package_names_its_server_side_on_first_use() -> None:
    """In a fresh interpreter, every name the package offers is there when first asked for
    (the server side loads then), and a name it does not have is an AttributeError."""
    code = (
        "import json, sys\n"
        "from tui.probes import local\n"
        "before = 'tui.probes.local.server' in sys.modules\n"
        "found = [name for name in local.__all__ if getattr(local, name) is not None]\n"
        "try:\n"
        "    local.no_such_name\n"
        "    missing = False\n"
        "except AttributeError:\n"
        "    missing = True\n"
        "print(json.dumps([before, found, missing]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr
    from tui.probes import local

    assert json.loads(done.stdout) == [False, list(local.__all__), True]
