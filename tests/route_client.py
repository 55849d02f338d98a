"""A lab scenario and mssql-python (ODBC Driver 18) in one process, run inside a network
namespace of its own (tests/netns.py `alone`): the lab on the namespace's loopback, its DNS on
port 53 there, the namespace's resolv.conf pointing at it, so the driver resolves the scenario's
names (a gateway, a redirect target, a listener) through the lab and nothing else.

    python -m tests.route_client SCENARIO ADDRESS CONNECTION_STRING
    python -m tests.route_client SCENARIO ADDRESS --check TARGET [CHECK OPTIONS...]

prints one JSON line: {"ok": true, "server": ..., "port": ...} (the port the session runs on)
or {"ok": false, "error": ..., "seconds": ...}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from tests.lab_fixtures import running


def main() -> None:
    name, address, connection = sys.argv[1:4]
    with running(name, address) as server:
        if server.scenario.trust_ca and server.ca_file is not None:
            os.environ["SSL_CERT_FILE"] = str(server.ca_file)
        if connection == "--check":  # sqlreach itself, in the same namespace as the lab
            done = subprocess.run(
                [sys.executable, "-m", "tui", "check", *sys.argv[4:], "--json"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            print(done.stdout.strip().replace("\n", " "))
            return
        try:
            import mssql_python
        except Exception as error:  # a missing driver library: the test skips with this
            print(json.dumps({"skip": f"mssql_python cannot be imported: {error}"}))
            return
        print(json.dumps(ask(mssql_python, connection)))


def ask(driver: Any, connection: str) -> dict[str, Any]:
    """Connect through the driver (mssql-python), say who answered and on which port the
    session runs, or what the driver said and after how long."""
    started = time.perf_counter()
    try:
        connected = driver.connect(connection, timeout=5)
        cursor = connected.cursor()
        cursor.execute("SELECT @@SERVERNAME, CONNECTIONPROPERTY('local_tcp_port')")
        row = cursor.fetchone()
        connected.close()
        assert row is not None
        return {"ok": True, "server": row[0], "port": int(row[1])}
    except Exception as error:
        seconds = round(time.perf_counter() - started, 2)
        return {"ok": False, "error": str(error), "seconds": seconds}


if __name__ == "__main__":
    main()
