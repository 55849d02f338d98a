"""`sqlreach scan`: many targets at once, the same engine, a table at the end.

Concurrency is bounded by what the process may open: each diagnosis in flight holds a few
sockets, so the number in flight is kept under the file-descriptor limit with headroom. When
the limit is low, targets wait their turn; none fails for lack of descriptors.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol, TextIO

from tui.exitcodes import ExitCode
from tui.knowledge.causes import RootCause
from tui.run import RunOptions, start_run
from tui.secret import redact
from tui.steps.tree import Answers
from tui.target import Target, TargetError, parse_target

SOCKETS_PER_DIAGNOSIS: Final = 8  # TCP to each address, Browser INST+EX, a few pre-logins
HEADROOM: Final = 64
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


# macOS refuses a soft limit above OPEN_MAX for RLIMIT_NOFILE, even under an infinite hard limit
# (its default: soft 256, hard unlimited). Apple's getrlimit(2) man page, COMPATIBILITY: "It no
# longer accepts 'rlim_cur = RLIM_INFINITY' for RLIM_NOFILE. Use 'rlim_cur = min(OPEN_MAX,
# rlim_max)'"; OPEN_MAX is 10240 in <sys/syslimits.h>.
OPEN_MAX_MACOS: Final = 10_240
UNBOUNDED: Final = 65_536  # what an infinite limit counts as here


class Limits(Protocol):
    """The parts of the `resource` module used (a real one, or macOS's rules in a test)."""

    RLIMIT_NOFILE: int
    RLIM_INFINITY: int

    def getrlimit(self, resource: int, /) -> tuple[int, int]: ...

    def setrlimit(self, resource: int, limits: tuple[int, int], /) -> None: ...


def raise_descriptor_limit(limits: Limits, platform: str = sys.platform) -> int:
    """Raise the soft descriptor limit as far as allowed and return it: to the hard limit, or,
    when the hard limit is infinite, to OPEN_MAX on macOS (and as far as the kernel takes it
    elsewhere). Never lowers it; a refusal leaves it where it was."""
    soft, hard = limits.getrlimit(limits.RLIMIT_NOFILE)
    infinite = limits.RLIM_INFINITY
    if hard != infinite:
        wanted = hard
    elif platform == "darwin":
        wanted = OPEN_MAX_MACOS
    else:
        wanted = UNBOUNDED
    if soft != infinite and soft < wanted:
        try:
            limits.setrlimit(limits.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft if soft != infinite else UNBOUNDED


def open_descriptors() -> int:
    """Descriptors open now: /proc/self/fd on Linux, /dev/fd on macOS and the BSDs."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return 32


def fd_budget() -> int:
    """How many diagnoses may be in flight: the descriptor limit (raised when allowed), minus
    what is open, minus headroom."""
    try:
        import resource
    except ImportError:  # Windows: sockets are not bounded by a small descriptor table
        return 4096
    limit = raise_descriptor_limit(resource)
    return max(1, (limit - open_descriptors() - HEADROOM) // SOCKETS_PER_DIAGNOSIS)


async def scan(
    targets: Sequence[tuple[int, str]],
    *,
    timeout: float,
    concurrency: int,
    dns: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> list[Row]:
    options = RunOptions(timeout=timeout, dns=dns)
    gate = asyncio.Semaphore(max(1, min(concurrency, fd_budget(), len(targets) or 1)))

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
