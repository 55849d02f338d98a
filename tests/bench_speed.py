"""Speed from a cold start, the early filtered call, false calls, and a scan at scale:
`python -m tests.bench_speed [refused|filtered|false-calls|scan]` (all four by default; `make
bench` runs them after the other tables).

Whole processes are timed from outside (CPU from the kernel's accounting of the child, wall
from the clock), interleaved with the line they are compared with, so a ratio holds when the
machine's speed drifts. Each table says the load average it was measured under: on a shared
machine, read ratios and counts before absolute times. Nothing here is asserted.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests import falsecalls, netns, slowlink
from tests.lab_fixtures import running
from tests.labfarm import farm
from tests.netutil import random_loopback

REPO = Path(__file__).resolve().parent.parent
SQLREACH = str(Path(sys.executable).parent / "sqlreach")
BARE = [sys.executable, "-c", "import asyncio, ssl, json"]
RUNS = int(os.environ.get("BENCH_RUNS", "20"))


def environment() -> dict[str, str]:
    """This process's environment as it is now, but with byte code written and reused, as on
    any second run of an installed tool (PYTHONDONTWRITEBYTECODE would time the compiler)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"(load average {one:.1f} / {five:.1f} over 1 / 5 min, {os.cpu_count()} cores)"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def timed(argv: list[str]) -> tuple[float, float, str]:
    """(CPU s, wall s, stdout) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        argv, capture_output=True, text=True, cwd=REPO, timeout=300, env=environment()
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, str(done.stdout)


def refused() -> str:
    """`sqlreach check HOST --json` on a refused port against bare Python importing what any
    network tool needs, in turns (A B A B ...): medians of each and of the pairwise ratios."""
    address = random_loopback()
    check = [SQLREACH, "check", address, "--json", "--remote"]  # a client: no server config
    timed(check)  # byte code compiled and written, as on any second run
    timed(BARE)
    ours: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    for _ in range(RUNS):
        cpu, wall, output = timed(check)
        ours.append((cpu, wall))
        bare.append(timed(BARE)[:2])
    cause = json.loads(output)["root_cause"]
    cpu_ratio = statistics.median(a[0] / b[0] for a, b in zip(ours, bare, strict=True))
    wall_ratio = statistics.median(a[1] / b[1] for a, b in zip(ours, bare, strict=True))

    def ms(samples: list[tuple[float, float]], index: int) -> str:
        return f"{statistics.median(s[index] for s in samples) * 1000:.0f} ms"

    rows = [
        [f"`sqlreach check HOST --json --remote` ({cause})", ms(ours, 0), ms(ours, 1)],
        ["`python -c 'import asyncio, ssl, json'`", ms(bare, 0), ms(bare, 1)],
        [
            "ratio (median of pairs)",
            f"{cpu_ratio:.1f}x (goal 2x or less)",
            f"{wall_ratio:.1f}x (goal 2x or less)",
        ],
    ]
    return f"{load()}, {RUNS} pairs\n\n" + table(["whole process", "CPU", "wall"], rows)


def filtered() -> str:
    """`--timeout 15` on a dropped port: beside a host that answers on other ports (the lab's
    firewall-drop on loopback), and a host that answers nothing (a namespace dropping all)."""
    rows = []
    with running("firewall-drop") as lab:
        address = lab.address
        samples, summary = [], ""
        for _ in range(3):
            _, wall, output = timed([SQLREACH, "check", address, "--json", "--timeout", "15"])
            document = json.loads(output)
            samples.append(wall)
            summary = document["summary"]
        rows.append(
            [
                "answers on other ports (loopback)",
                document["root_cause"],
                f"{statistics.median(samples):.2f} s (goal 2 s or less)",
                summary.split(" (10060)")[0],
            ]
        )
    reason = netns.unavailable_reason()
    if reason is None:
        with netns.pair() as net:
            net.server.nft(
                f"""
                table inet bench {{
                    chain input {{
                        type filter hook input priority 0; policy accept;
                        ip saddr {net.client.ipv4} drop
                    }}
                }}
                """
            )
            started = time.perf_counter()
            done = net.client.run(
                SQLREACH, "check", net.server.ipv4, "--json", "--timeout", "15", check=False
            )
            wall = time.perf_counter() - started
        if not done.stdout.strip():
            raise RuntimeError(f"check in the namespace printed nothing: {done.stderr[-2000:]}")
        document = json.loads(done.stdout)
        rows.append(
            [
                "answers nothing (namespace, all dropped)",
                document["root_cause"],
                f"{wall:.2f} s (the timeout)",
                document["summary"].split(" (10060)")[0],
            ]
        )
    else:
        rows.append(["answers nothing", "not measured", reason, ""])
    return f"{load()}\n\n" + table(["host", "root cause", "whole process", "says"], rows)


def false_calls() -> str:
    """A slow but open port across a 200 ms, 50 ms jitter, 1% loss link: never 'filtered'."""
    reason = slowlink.unavailable_reason()
    if reason is not None:
        return f"not measured: {reason}"
    rows = []
    for label, link, tries in (
        ("200 ms round trip, 50 ms jitter, 1% loss", slowlink.Link(), 200),
        ("the same, and every first SYN lost", slowlink.Link(first_syn_lost=1433), 50),
    ):
        started = time.perf_counter()
        tally = falsecalls.run(link, tries)
        wall = time.perf_counter() - started
        verdicts = ", ".join(f"{cause} {count}" for cause, count in tally.causes.most_common())
        rows.append(
            [
                label,
                str(tally.tries),
                f"{tally.false_filtered} (goal 0)",
                verdicts,
                f"{tally.slowest_tcp_ms:.0f} ms",
                f"{wall:.0f} s",
            ]
        )
    return f"{load()}\n\n" + table(
        ["link", "tries", "false 'filtered'", "verdicts", "slowest TCP step", "bench wall"], rows
    )


@contextlib.contextmanager
def farms(count: int) -> Iterator[list[dict[str, str]]]:
    """`count` lab targets from two farms (one process holds at most ~5,000 lab servers)."""
    half = count // 2
    with farm(half, base=60) as first, farm(count - half, base=80) as second:
        yield first + second


def scan(count: int = 10_000) -> str:
    rows = []
    with farms(count) as targets, contextlib.ExitStack() as stack:
        listing = Path(stack.enter_context(_temporary_dir())) / "targets.txt"
        listing.write_text("\n".join(item["target"] for item in targets))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        for limit, label in ((soft, "this machine's"), (10_240, "a macOS-like 10,240, hard too")):
            for timeout in ("1", "3"):
                rows.append(_scan_row(listing, targets, limit, label, timeout))
    return f"{load()}\n\n" + table(
        [
            "targets",
            "right",
            "per-probe timeout",
            "wall (goal: timeout + 5 s)",
            "CPU",
            "peak RSS (goal 300 MB)",
            "descriptor limit",
        ],
        rows,
    )


def _scan_row(
    listing: Path, targets: list[dict[str, str]], limit: int, label: str, timeout: str
) -> list[str]:
    def lowered() -> None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, min(limit, hard)))

    argv = ["/usr/bin/time", "-f", "%M", SQLREACH, "scan", str(listing), "--format", "jsonl"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*argv, "--timeout", timeout],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
        preexec_fn=lowered,
        env=environment(),
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = [json.loads(line) for line in done.stdout.splitlines()]
    right = sum(
        row["root_cause"] == item["expected"] for row, item in zip(found, targets, strict=False)
    )
    peak_kb = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"
    peak = f"{int(peak_kb) / 1024:.0f} MB" if peak_kb.isdigit() else "?"
    return [
        f"{len(targets):,}",
        f"{right:,}",
        f"{timeout} s",
        f"{wall:.1f} s",
        f"{cpu:.1f} s",
        peak,
        f"{label}" if "macOS" in label else f"{limit:,} ({label})",
    ]


@contextlib.contextmanager
def _temporary_dir() -> Iterator[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as name:
        yield name


SECTIONS: dict[str, tuple[str, Callable[[], str]]] = {
    "refused": ("A refused verdict from a cold start, beside bare Python", refused),
    "filtered": ("A dropped port with --timeout 15", filtered),
    "false-calls": ("False 'filtered' calls on a slow, lossy link", false_calls),
    "scan": ("sqlreach scan over 10,000 lab targets", scan),
}


def main(names: list[str]) -> int:
    for name in names or list(SECTIONS):
        title, run = SECTIONS[name]
        print(f"### {title}\n", flush=True)
        print(run() + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
