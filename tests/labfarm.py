"""Many lab scenarios on many loopback addresses, in a process of their own.

`python -m tests.labfarm COUNT` serves COUNT targets, a quarter each of: a healthy default
instance, a refused port (nothing listens), a firewall drop (full accept queue), and a named
instance (half with a Browser, half without). It prints one JSON line, the targets with their
expected root causes, then serves until standard input closes. Used by the scan tests and
`make bench`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tui.lab.scenarios import scenario
from tui.lab.server import LabServer

KINDS = ("healthy", "refused", "filtered", "named")


def plan(count: int, base: int = 30) -> list[dict[str, str]]:
    """Addresses 127.<base>.x.y: a block random test addresses are unlikely to hit."""
    targets = []
    for index in range(count):
        address = f"127.{base}.{index // 250}.{index % 250 + 2}"
        kind = KINDS[index % 4]
        if kind == "healthy":
            targets.append({"target": address, "expected": "OK", "serve": "healthy-default"})
        elif kind == "refused":
            targets.append({"target": address, "expected": "PORT_REFUSED", "serve": ""})
        elif kind == "filtered":
            targets.append(
                {"target": address, "expected": "PORT_FILTERED", "serve": "firewall-drop"}
            )
        elif (index // 4) % 2 == 0:
            targets.append(
                {"target": f"{address}\\SALES", "expected": "OK", "serve": "healthy-named"}
            )
        else:
            targets.append(
                {"target": f"{address}\\SALES", "expected": "BROWSER_UNAVAILABLE", "serve": ""}
            )
    return targets


async def serve(count: int, base: int) -> None:
    targets = plan(count, base)
    servers = []
    for item in targets:
        if item["serve"]:
            address = item["target"].split("\\")[0]
            servers.append(await LabServer(scenario(item["serve"]), address).start())
    print(json.dumps(targets), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    for server in servers:
        await server.stop()


@contextmanager
def farm(count: int, base: int = 30) -> Iterator[list[dict[str, str]]]:
    """Start the farm in a subprocess; yield its targets; stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.labfarm", str(count), str(base)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the lab farm did not start")
        yield json.loads(line)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 30))
