"""`sqlreach scan`: many targets at once, the same engine, a table at the end.

Concurrency is bounded by what the process may open: each diagnosis in flight holds a few
sockets, so the number in flight is kept under the file-descriptor limit with headroom. When
the limit is low, targets wait their turn; none fails for lack of descriptors.

It is bounded by time as well: every diagnosis shares one event loop, and a probe's timeout
counts the time the loop spends on the others. A thousand diagnoses started at once kept the
loop from reading answers for over a second on a busy machine, so answers that had arrived
were called timeouts (a healthy port "filtered", a Browser "silent"). `Pace` admits new
diagnoses only while the loop keeps turning quickly.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, TextIO

from tui.engine.settings import DnsServer, Settings
from tui.exitcodes import ExitCode
from tui.knowledge.causes import RootCause
from tui.run import RunOptions, start_run
from tui.secret import redact
from tui.steps.tree import Answers
from tui.target import Target, TargetError, parse_target

SOCKETS_PER_DIAGNOSIS: Final = 8  # TCP to each address, Browser INST+EX, a few pre-logins
HEADROOM: Final = 64
SLOW_TURN: Final = 0.05  # of the timeout: a loop turn longer than this holds new diagnoses back
MAX_LINES: Final = 100_000


@dataclass(frozen=True)
class Row:
    line: int
    text: str  # redacted
    root_cause: str
    summary: str
    elapsed_ms: float
    target: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "target_text": self.text,
            "root_cause": self.root_cause,
            "summary": self.summary,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "target": self.target,
        }


class ScanInputError(ValueError):
    pass


def read_targets(stream: TextIO) -> list[tuple[int, str]]:
    """Targets one a line (blank lines and # comments skipped), or a CSV with a target column."""
    text = stream.read(64 * 1024 * 1024)
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ScanInputError(f"{len(lines):,} lines: at most {MAX_LINES:,} targets a scan")
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    header = next(csv.reader([first]), []) if first else []
    columns = [column.strip().lower() for column in header]
    if "target" in columns:
        reader = csv.DictReader(io.StringIO(text))
        found = []
        for row in reader:
            key = next(k for k in row if k and k.strip().lower() == "target")
            value = (row.get(key) or "").strip()
            if value and not value.startswith("#"):
                found.append((reader.line_num, value))
        return found
    return [
        (number, line.strip())
        for number, line in enumerate(lines, 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def fd_budget() -> int:
    """How many diagnoses may be in flight: the descriptor limit (raised to the hard limit
    when allowed), minus what is open, minus headroom."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and soft < hard:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
                soft = hard
            except (ValueError, OSError):
                pass
        limit = soft if soft != resource.RLIM_INFINITY else 65_536
    except ImportError:  # Windows: sockets are not bounded by a small descriptor table
        return 4096
    try:
        open_now = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_now = 32
    return max(1, (limit - open_now - HEADROOM) // SOCKETS_PER_DIAGNOSIS)


class Pace:
    """Starts one diagnosis per turn of the event loop, and none while a turn takes longer than
    `limit` seconds: the work in flight then stays small enough that every probe's answer is
    read soon after it arrives, whatever else the machine is doing."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._one_at_a_time = asyncio.Lock()

    async def admit(self) -> None:
        async with self._one_at_a_time:
            loop = asyncio.get_running_loop()
            while True:
                started = loop.time()
                await asyncio.sleep(0)  # one turn: the diagnoses in flight run their callbacks
                if loop.time() - started <= self.limit:
                    return


async def scan(
    targets: Sequence[tuple[int, str]],
    *,
    timeout: float,
    concurrency: int,
    dns: DnsServer | None = None,
    progress: Progress | None = None,
) -> list[Row]:
    options = RunOptions(timeout=timeout, settings=Settings(dns=dns))
    gate = asyncio.Semaphore(max(1, min(concurrency, fd_budget(), len(targets) or 1)))
    pace = Pace(timeout * SLOW_TURN)

    async def one(line: int, text: str) -> Row:
        started = time.perf_counter()
        try:
            target = parse_target(text)
        except TargetError as error:
            return Row(
                line,
                redact(text),
                RootCause.BAD_INPUT.value,
                str(error),
                (time.perf_counter() - started) * 1000,
            )
        async with gate:
            await pace.admit()
            answers = Answers(on_server=False, login=None if _has_credentials(target) else False)
            diagnosis = await start_run(target, replace(options, answers=answers))
        if progress is not None:
            progress.advance()
        return Row(
            line,
            target.text,
            diagnosis.verdict.root_cause.value,
            diagnosis.verdict.summary,
            diagnosis.elapsed_ms,
            target.to_json(),
        )

    rows = await asyncio.gather(*(one(line, text) for line, text in targets))
    return sorted(rows, key=lambda row: row.line)


def _has_credentials(target: Target) -> bool:
    return target.integrated_security or (bool(target.user) and target.password is not None)


class Progress:
    """A progress bar on standard error, only when it is a terminal."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.last = 0.0

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last < 0.1 and self.done < self.total:
            return
        self.last = now
        width = 30
        filled = width * self.done // max(self.total, 1)
        self.stream.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {self.done}/{self.total}")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def render(rows: Iterable[Row], fmt: str) -> str:
    rows = list(rows)
    if fmt == "jsonl":
        return "".join(json.dumps(row.to_json(), ensure_ascii=False) + "\n" for row in rows)
    if fmt == "md":
        lines = ["| line | target | root cause | time | summary |", "|---|---|---|---|---|"]
        lines += [
            f"| {r.line} | `{_cell(r.text)}` | {r.root_cause} | {r.elapsed_ms:.0f} ms | "
            f"{_cell(r.summary)} |"
            for r in rows
        ]
        return "\n".join(lines) + "\n"
    width = min(48, max((len(r.text) for r in rows), default=6))
    out = [f"{'TARGET':<{width}}  {'ROOT CAUSE':<20}  {'TIME':>8}  SUMMARY"]
    for r in rows:
        text = r.text if len(r.text) <= width else r.text[: width - 1] + "…"
        summary = r.summary if len(r.summary) <= 100 else r.summary[:99] + "…"
        out.append(f"{text:<{width}}  {r.root_cause:<20}  {r.elapsed_ms:>6.0f}ms  {summary}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.root_cause] = counts.get(r.root_cause, 0) + 1
    out.append("")
    out.append("Total: " + ", ".join(f"{cause} {n}" for cause, n in sorted(counts.items())))
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def run_scan(
    source: str,
    *,
    fmt: str,
    timeout: float,
    concurrency: int,
    dns_server: str | None,
    out: TextIO,
    err: TextIO,
) -> int:
    from tui.commands.check import UsageError, dns_settings

    try:
        if source == "-":
            targets = read_targets(sys.stdin)
        else:
            with open(source, encoding="utf-8-sig", errors="replace") as handle:
                targets = read_targets(handle)
        dns = dns_settings(dns_server) if dns_server else None
    except OSError as error:
        err.write(f"sqlreach: cannot read {source}: {error.strerror}\n")
        return ExitCode.USAGE
    except (ScanInputError, UsageError) as error:
        err.write(f"sqlreach: {error}\n")
        return ExitCode.USAGE
    if not targets:
        err.write("sqlreach: no targets to scan (one a line, or a CSV with a target column)\n")
        return ExitCode.USAGE
    progress = Progress(len(targets), err) if err.isatty() else None
    rows = asyncio.run(
        scan(targets, timeout=timeout, concurrency=concurrency, dns=dns, progress=progress)
    )
    out.write(render(rows, fmt))
    ok = all(row.root_cause == RootCause.OK.value for row in rows)
    return ExitCode.OK if ok else ExitCode.PROBLEM
