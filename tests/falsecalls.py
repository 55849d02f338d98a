"""Is a slow but open port ever called filtered? Whole diagnoses across a slow, lossy link.

The lab's healthy default instance serves in the server namespace of a `tests.slowlink` pair
(on its IPv4 and its IPv6 address); the client namespace runs `tries` diagnoses against it, a
few at a time, alternating the two addresses, with a 15 s timeout (what the drivers wait), so a
verdict of PORT_FILTERED can only come from the early call. Used by tests/test_slowlink.py
(a few tries) and `make bench` (200).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass

from tests import slowlink

SERVE = """
import asyncio, sys
from tui.lab.scenarios import scenario
from tui.lab.server import LabServer

async def main():
    for address in sys.argv[2:]:
        await LabServer(scenario(sys.argv[1]), address).start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

DIAGNOSE = """
import asyncio, json, sys
from tui.run import RunOptions, start_run
from tui.steps.tree import Answers
from tui.target import parse_target

tries, concurrency, timeout, *addresses = sys.argv[1:]

async def one(index, gate):
    address = addresses[index % len(addresses)]
    text = f"[{address}],1433" if ":" in address else f"{address},1433"
    options = RunOptions(timeout=float(timeout), answers=Answers(on_server=False, login=False))
    async with gate:
        diagnosis = await start_run(parse_target(text), options)
    tcp = next((r for r in diagnosis.steps if r.id == "tcp"), None)
    return {
        "address": address,
        "root_cause": diagnosis.verdict.root_cause.value,
        "tcp_ms": None if tcp is None else tcp.elapsed_ms,
        "tcp": None if tcp is None else tcp.summary,
    }

async def main():
    gate = asyncio.Semaphore(int(concurrency))
    return await asyncio.gather(*(one(i, gate) for i in range(int(tries))))

print(json.dumps(asyncio.run(main())))
"""


@dataclass(frozen=True)
class Tally:
    tries: int
    causes: Counter[str]
    filtered: list[dict[str, object]]  # the false calls, with what the TCP step said
    slowest_tcp_ms: float

    @property
    def false_filtered(self) -> int:
        return len(self.filtered)


def run(
    link: slowlink.Link,
    tries: int,
    *,
    concurrency: int = 10,
    timeout: float = 15.0,
    scenario: str = "healthy-default",
) -> Tally:
    with slowlink.pair(link) as net:
        net.spawn(
            net.server, sys.executable, "-c", SERVE, scenario, net.server.ipv4, net.server.ipv6
        )
        output = net.client.python(
            DIAGNOSE,
            str(tries),
            str(concurrency),
            str(timeout),
            net.server.ipv4,
            net.server.ipv6,
            timeout=tries * (timeout + 5) / concurrency + 60,
        )
    rows: list[dict[str, object]] = json.loads(output)
    causes = Counter(str(row["root_cause"]) for row in rows)
    filtered = [row for row in rows if row["root_cause"] == "PORT_FILTERED"]
    slowest = max(float(str(row["tcp_ms"])) for row in rows if row["tcp_ms"] is not None)
    return Tally(len(rows), causes, filtered, slowest)
