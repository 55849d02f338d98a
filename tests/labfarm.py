"""Many lab scenarios on many loopback addresses, in a process of their own.

`python -m tests.labfarm COUNT` serves COUNT targets, a quarter each of: a healthy default
instance, a refused port (nothing listens), a firewall drop (full accept queue), and a named
instance (half with a Browser, half without). It prints one JSON line, the targets with their
expected root causes, then serves until standard input closes. Used by the scan tests and
`make bench`.

The farm starts its labs itself, not through `tests.lab_fixtures.running`: a thousand of them
in a process of their own, so the scanner under test does not share a CPU with them. They live
in a block 127.B.0.0/16 with B in FARM_BLOCKS, which random test addresses avoid; the farm takes
a block nobody serves on (another farm of a parallel worker, or of another test run on this
machine, may hold one) by trying them in a random order.
"""

from __future__ import annotations

import asyncio
import errno
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tui.lab.scenarios import scenario
from tui.lab.server import LabServer

KINDS = ("healthy", "refused", "filtered", "named")
FARM_BLOCKS = range(30, 40)  # 127.30.0.0 to 127.39.255.255; tests.netutil never hands these out


def plan(count: int, base: int) -> list[dict[str, str]]:
    """Addresses 127.<base>.x.y, in the order the farm serves and the test expects them."""
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


async def start(targets: list[dict[str, str]]) -> list[LabServer]:
    servers: list[LabServer] = []
    try:
        for item in targets:
            if item["serve"]:
                address = item["target"].split("\\")[0]
                servers.append(await LabServer(scenario(item["serve"]), address).start())
    except BaseException:
        for server in servers:
            await server.stop()
        raise
    return servers


async def serve(count: int, base: int | None) -> None:
    """Serve on `base`, or on the first free block of FARM_BLOCKS in a random order."""
    blocks = [base] if base is not None else random.sample(FARM_BLOCKS, len(FARM_BLOCKS))
    for block in blocks:
        targets = plan(count, block)
        try:
            servers = await start(targets)
        except OSError as error:
            if error.errno != errno.EADDRINUSE or block == blocks[-1]:
                raise
            continue
        break
    print(json.dumps(targets), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    for server in servers:
        await server.stop()


@contextmanager
def farm(count: int, base: int | None = None) -> Iterator[list[dict[str, str]]]:
    """Start the farm in a subprocess (on a free block unless `base` is given); yield its
    targets; stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.labfarm", str(count), *([str(base)] if base else [])],
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
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None))
