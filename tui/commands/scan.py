"""`sqlreach scan`: many targets at once, the same engine, a table at the end.

Concurrency is bounded by what the process may open: each diagnosis in flight holds a few
sockets, so the number in flight is kept under the file-descriptor limit with headroom. When
the limit is low, targets wait their turn; none fails for lack of descriptors. Below that
ceiling, `scan_pace.Pace` lets in only as many as the process keeps up with, so that no probe's
deadline is spent waiting for the CPU.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import BinaryIO, Final, TextIO

from tui.commands.scan_pace import Pace
from tui.engine.settings import DnsServer, Settings
from tui.exitcodes import ExitCode
from tui.knowledge.causes import RootCause
from tui.probes.limits import held_descriptors, raise_descriptor_limit
from tui.render.rows import ScanRow as Row
from tui.run import RunOptions, start_run
from tui.secret import redact
from tui.steps.tree import Answers
from tui.target import Target, TargetError, parse_target

# At the most, per diagnosis: two SYNs to the port and six knocks on the host's other ports
# while it is silent (probes/tcp.py), the Browser's INST and EX, a few pre-logins after.
SOCKETS_PER_DIAGNOSIS: Final = 12
HEADROOM: Final = 64
MAX_LINES: Final = 100_000
MAX_BYTES: Final = 64 * 1024 * 1024
_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class ScanInputError(ValueError):
    pass


def decode_file(stream: BinaryIO) -> str:
    """A targets file or standard input as text: UTF-8, or UTF-16 when a BOM says so (a file
    saved by Notepad or PowerShell); bytes that do not decode become U+FFFD, never a crash."""
    data = stream.read(MAX_BYTES)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace")
    return data.decode("utf-8", "replace")


def read_targets(text: str) -> list[tuple[int, str]]:
    """Targets one a line (blank lines and # comments skipped), or a CSV with a target column."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ScanInputError(f"{len(lines):,} lines: at most {MAX_LINES:,} targets a scan")
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    try:
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
    except csv.Error as error:  # a field over the csv module's limit, a stray NUL
        raise ScanInputError(f"the file cannot be read as CSV: {error}") from None
    return [
        (number, line.strip())
        for number, line in enumerate(lines, 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def fd_budget() -> int:
    """How many diagnoses may be in flight: the descriptor limit (raised when allowed), minus
    what is open, minus headroom."""
    try:
        import resource
    except ImportError:  # Windows: sockets are not bounded by a small descriptor table
        return 4096
    limit = raise_descriptor_limit(resource)
    return max(1, (limit - held_descriptors(unknown=32) - HEADROOM) // SOCKETS_PER_DIAGNOSIS)


async def scan(
    targets: Sequence[tuple[int, str]],
    *,
    timeout: float,
    concurrency: int,
    dns: DnsServer | None = None,
    progress: Progress | None = None,
    pace: Pace | None = None,
) -> list[Row]:
    """Diagnose every target, as many at once as the descriptors and the CPU allow (`Pace`);
    a diagnosis is started only when there is room for it, so memory stays flat."""
    options = RunOptions(timeout=timeout, settings=Settings(dns=dns))
    pace = pace or Pace(min(concurrency, fd_budget(), len(targets) or 1))
    rows: list[Row] = []

    async def one(line: int, target: Target) -> None:
        try:
            answers = Answers(on_server=False, login=None if _has_credentials(target) else False)
            diagnosis = await start_run(target, replace(options, answers=answers))
        finally:
            await pace.leave()
        if progress is not None:
            progress.advance()
        rows.append(
            Row(
                line,
                target.text,
                diagnosis.verdict.root_cause.value,
                diagnosis.verdict.summary,
                diagnosis.elapsed_ms,
                target.to_json(),
            )
        )

    follower = asyncio.ensure_future(pace.follow_lag())
    running: set[asyncio.Task[None]] = set()
    try:
        for line, text in targets:
            started = time.perf_counter()
            try:
                target = parse_target(text)
            except TargetError as error:
                elapsed = (time.perf_counter() - started) * 1000
                rows.append(Row(line, redact(text), RootCause.BAD_INPUT.value, str(error), elapsed))
                continue
            await pace.enter()
            task = asyncio.ensure_future(one(line, target))
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)
    finally:
        follower.cancel()
        for task in running:
            task.cancel()
        await asyncio.gather(follower, *running, return_exceptions=True)
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
    from tui.render import jsonout, markdown, text

    rows = list(rows)
    if fmt == "jsonl":
        return jsonout.scan_lines(rows)
    if fmt == "md":
        return markdown.scan_table(rows)
    return text.scan_table(rows)


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
            targets = read_targets(decode_file(sys.stdin.buffer))
        else:
            with open(source, "rb") as handle:
                targets = read_targets(decode_file(handle))
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
