"""`make bench`: how fast sqlreach reaches a verdict, beside the drivers people use.

Everything runs against the lab on loopback. Figures are medians; the machine is shared and
noisy, so read ratios rather than single times. Prints Markdown tables (pasted into the README's
Performance section).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests import bench_speed
from tests.lab_fixtures import client_env, running
from tests.odbc_drivers import FREETDS, ODBC18, register_drivers
from tui.commands.check import dns_settings
from tui.engine.settings import Settings
from tui.knowledge.explain import explain
from tui.lab.scenarios import LAB_PASSWORD, LAB_USER, SCENARIOS
from tui.run import RunOptions, start_run
from tui.steps.tree import Answers
from tui.target import parse_target

REPO = Path(__file__).resolve().parent.parent
SQLREACH = str(Path(sys.executable).parent / "sqlreach")
TIMEOUT = 3.0
RUNS = int(os.environ.get("BENCH_RUNS", "20"))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


@contextlib.contextmanager
def trusting(env: dict[str, str]) -> Iterator[None]:
    """The scenario's test CA trusted (SSL_CERT_FILE) in this process and its children, as the
    person's machine trusts its company CA; nothing changes for the other scenarios."""
    before = os.environ.get("SSL_CERT_FILE")
    if "SSL_CERT_FILE" in env:
        os.environ["SSL_CERT_FILE"] = env["SSL_CERT_FILE"]
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = before


async def verdict_in_process(
    target: str, timeout: float, dns_server: str | None = None
) -> tuple[str, float]:
    options = RunOptions(
        timeout=timeout,
        answers=Answers(on_server=False),
        settings=Settings(dns=dns_settings(dns_server) if dns_server else None),
    )
    started = time.perf_counter()
    diagnosis = await start_run(parse_target(target), options)
    return diagnosis.verdict.root_cause.value, time.perf_counter() - started


def whole_process(argv: list[str], runs: int) -> tuple[float, str]:
    samples, last = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
            env=bench_speed.environment(),
        )
        samples.append(time.perf_counter() - started)
        last = done.stdout
    return median_ms(samples), last


def time_to_verdict() -> str:
    rows = []
    for item in SCENARIOS:
        slow = item.expected.value in {"PORT_FILTERED", "SERVER_UNRESPONSIVE"} or item.name in {
            "udp-blocked",
            "unknown-instance",
        }
        runs = 3 if slow else RUNS
        with running(item.name) as server, trusting(client_env(server)):
            target = server.target
            samples, cause = [], ""
            names = server.dns_server  # the scenario's names resolve through the lab's DNS
            for _ in range(runs):
                cause, elapsed = asyncio.run(verdict_in_process(target, TIMEOUT, names))
                samples.append(elapsed)
            argv = [SQLREACH, "check", target, "--json", "--timeout", str(TIMEOUT), "--remote"]
            process_ms, output = whole_process(
                argv + (["--dns-server", names] if names else []), 3 if slow else 5
            )
        got = json.loads(output)["root_cause"]
        rows.append(
            [
                item.name,
                cause,
                f"{median_ms(samples):.1f} ms",
                f"{process_ms:.0f} ms",
                "yes" if got == item.expected.value else "NO",
            ]
        )
    return table(
        ["scenario", "root cause", "in-process (median)", "whole process (median)", "right"], rows
    )


async def first_frame() -> float:
    from tui.app import make_app

    app = make_app(record=False)
    started = time.perf_counter()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0)
    return time.perf_counter() - started


def start_up() -> str:
    version, _ = whole_process([SQLREACH, "--version"], 10)
    frames = [asyncio.run(first_frame()) for _ in range(10)]
    rows = [
        ["sqlreach --version", f"{version:.0f} ms", ""],
        ["wizard: first frame under the pilot", f"{median_ms(frames):.0f} ms", "target 1000 ms"],
    ]
    return table(["what", "median", "target"], rows)


# -- the drivers people use, on the same scenarios ------------------------------------------


def _timed(call: Callable[[], str]) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        message = call()
    except Exception as error:  # what the driver reports is the result being measured
        message = f"{type(error).__name__}: {error}"
    return time.perf_counter() - started, " ".join(message.split())


def pyodbc_freetds(address: str, port: int) -> str:
    import pyodbc

    pyodbc.connect(
        f"Driver={{FreeTDS}};Server={address};Port={port};UID={LAB_USER};"
        f"PWD={LAB_PASSWORD};TDS_Version=7.4",
        timeout=int(TIMEOUT),
    )
    return "connected"


def mssql_python(address: str, port: int, timeout: int | None) -> str:
    import mssql_python as driver

    text = f"Server={address},{port};UID={LAB_USER};PWD={LAB_PASSWORD};Encrypt=no"
    if timeout is None:
        driver.connect(text)
    else:
        driver.connect(text, timeout=timeout)
    return "connected"


def tsql(address: str, port: int) -> str:
    done = subprocess.run(
        ["tsql", "-H", address, "-p", str(port), "-U", LAB_USER, "-P", LAB_PASSWORD],
        input="exit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    return (
        (done.stdout + done.stderr).strip().splitlines()[-1]
        if done.stdout + done.stderr
        else "(no output)"
    )


def nmap(address: str, port: int) -> str:
    done = subprocess.run(
        ["nmap", "-Pn", "-sU", "-sT", "-p", f"T:{port},U:1434", "--script", "ms-sql-info", address],
        capture_output=True,
        text=True,
        timeout=120,
    )
    keep = [line for line in done.stdout.splitlines() if "/tcp" in line or "/udp" in line]
    return "; ".join(keep) or done.stdout.strip()[-200:]


def names_the_cause(message: str, expected: str) -> str:
    explanation = explain(message)
    if not explanation.found:
        return "no"
    top = explanation.candidates[0].cause.value if explanation.candidates else ""
    return "yes" if top == expected else "no"


CASES = [
    ("service-stopped", "refused", "PORT_REFUSED"),
    ("firewall-drop", "filtered", "PORT_FILTERED"),
    ("http-on-1433", "HTTP on the port", "NOT_SQL_SERVER"),
]


def side_by_side() -> str:
    rows = []
    for name, label, expected in CASES:
        with running(name) as lab:
            ours: list[float] = []
            for _ in range(3):
                cause, elapsed = asyncio.run(verdict_in_process(lab.address, TIMEOUT))
                ours.append(elapsed)
            rows.append(
                [
                    label,
                    "sqlreach check",
                    f"{median_ms(ours):.0f} ms",
                    cause,
                    "yes" if cause == expected else "no",
                    "1.0",
                ]
            )
            clients: list[tuple[str, Callable[[], str]]] = [
                ("pyodbc + FreeTDS (timeout=3)", lambda: pyodbc_freetds(lab.address, 1433)),
                ("mssql-python, timeout=3", lambda: mssql_python(lab.address, 1433, 3)),
                ("mssql-python, defaults", lambda: mssql_python(lab.address, 1433, None)),
            ]
            if shutil.which("tsql"):
                clients.append(("tsql", lambda: tsql(lab.address, 1433)))
            if shutil.which("nmap") and os.geteuid() == 0:
                clients.append(("nmap ms-sql-info", lambda: nmap(lab.address, 1433)))
            for client, call in clients:
                elapsed, message = _timed(call)
                ratio = elapsed / max(statistics.median(ours), 1e-6)
                rows.append(
                    [
                        label,
                        client,
                        f"{elapsed * 1000:.0f} ms",
                        message[:90],
                        names_the_cause(message, expected),
                        f"{ratio:.0f}x",
                    ]
                )
    return table(
        ["case", "client", "time to report", "what it says", "names the cause", "vs sqlreach"], rows
    )


def login_by_client() -> str:
    """The same good login through each client: what a driver costs over the native login."""
    rows = []
    with running("renamed-host") as lab:
        base = f"{lab.target};Encrypt=no"
        for label, extra in (
            ("sqlreach's own TDS login", {"native": True}),
            ("pyodbc + FreeTDS", {"driver": FREETDS}),
            ("pyodbc + ODBC Driver 18", {"driver": ODBC18}),
        ):
            driver = extra.get("driver")
            target = parse_target(base if driver is None else f"Driver={{{driver}}};{base}")
            samples, cause = [], ""
            for _ in range(RUNS):
                options = RunOptions(
                    timeout=TIMEOUT,
                    answers=Answers(on_server=False),
                    settings=Settings(native_login=bool(extra.get("native"))),
                )
                started = time.perf_counter()
                diagnosis = asyncio.run(start_run(target, options))
                samples.append(time.perf_counter() - started)
                cause = diagnosis.verdict.root_cause.value
            rows.append([label, cause, f"{median_ms(samples):.1f} ms"])
    return table(
        ["client", "root cause (renamed-host)", "whole diagnosis in-process (median)"], rows
    )


def hostile_servers() -> str:
    """`sqlreach check --timeout 2` against tests/hostile.py's servers: wall time and the CPU
    the process used (user + system), one run each (the point is the bound, not the median)."""
    from tests import hostile

    rows = []
    for name in ("flood", "slowloris", "lying-length", "no-version", "oversized-certificate"):
        with hostile.SCENARIOS[name]() as (address, port):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(
                [SQLREACH, "check", f"{address},{port}", "--json", "--timeout", "2"],
                capture_output=True,
                timeout=300,
            )
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cause = json.loads(done.stdout)["root_cause"] if done.stdout else "(no output)"
        rows.append([name, f"{wall:.2f} s", f"{cpu:.2f} s", cause])
    return table(["hostile server", "wall", "CPU", "root cause"], rows)


def main() -> int:
    register_drivers()  # FreeTDS and the ODBC Driver 18 mssql-python bundles, by name
    sections: list[tuple[str, Callable[[], str]]] = [
        ("Time to verdict per lab scenario (per-probe timeout 3 s)", time_to_verdict),
        ("Start-up", start_up),
        ("A good login, by client", login_by_client),
        ("Side by side with the drivers (same lab, same run)", side_by_side),
        ("Against hostile servers (tests/hostile.py), check --timeout 2", hostile_servers),
        *bench_speed.SECTIONS.values(),  # cold start, early filtered call, false calls, scan
    ]
    for title, run in sections:
        print(f"### {title}\n", flush=True)
        print(run() + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
