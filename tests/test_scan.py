"""`sqlreach scan`: many targets, the same engine; right answers at scale and under a low
file-descriptor limit (correctness is asserted here; speed is measured by `make bench`)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lab_fixtures import running
from tests.labfarm import farm
from tests.netutil import closed_port

REPO = Path(__file__).resolve().parent.parent


def run_scan(
    path: Path, *extra: str, limit: int | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    def lower_limit() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "tui", "scan", str(path), "--timeout", "1", *extra],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        preexec_fn=lower_limit,
        input=stdin,
    )


def test_lines_comments_bad_input_and_formats(tmp_path: Path, loopback: str) -> None:
    with running("moved-port") as lab:
        targets = tmp_path / "targets.txt"
        targets.write_text(
            f"# the payroll servers\n{lab.address}\n\nServer={{broken\n"
            f"{loopback},{closed_port(loopback)}\n"
        )
        table = run_scan(targets)
        jsonl = run_scan(targets, "--format", "jsonl")
        markdown = run_scan(targets, "--format", "md")
    assert table.returncode == 1 and "Traceback" not in table.stderr
    assert "WRONG_PORT" in table.stdout and "BAD_INPUT" in table.stdout
    assert "Total: BAD_INPUT 1, PORT_REFUSED 1, WRONG_PORT 1" in table.stdout
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [row["line"] for row in rows] == [2, 4, 5]
    assert [row["root_cause"] for row in rows] == ["WRONG_PORT", "BAD_INPUT", "PORT_REFUSED"]
    assert markdown.stdout.startswith("| line | target | root cause |")


def test_csv_with_a_target_column_and_standard_input(tmp_path: Path) -> None:
    with running("healthy-default") as lab:
        csv_file = tmp_path / "inventory.csv"
        csv_file.write_text(f'name,target,owner\npayroll,"{lab.address},1433",ops\n')
        done = run_scan(csv_file, "--format", "jsonl")
        piped = run_scan(Path("-"), "--format", "jsonl", stdin=f"{lab.address}\n")
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["root_cause"] == "OK"
    assert json.loads(piped.stdout)["root_cause"] == "OK"


def test_passwords_in_the_input_never_reach_the_output(tmp_path: Path, loopback: str) -> None:
    targets = tmp_path / "t.txt"
    targets.write_text(f"Server={loopback},{closed_port(loopback)};UID=sa;PWD=Scan-Secret-77\n")
    for fmt in ("table", "jsonl", "md"):
        done = run_scan(targets, "--format", fmt)
        assert "Scan-Secret-77" not in done.stdout + done.stderr


def test_bad_usage_is_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    assert run_scan(empty).returncode == 2
    missing = run_scan(tmp_path / "nope.txt")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert run_scan(empty, "--concurrency", "0").returncode == 2


def _check_rows(stdout: str, targets: list[dict[str, str]]) -> None:
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert len(rows) == len(targets)  # nothing lost
    wrong = [
        (row["target_text"], row["root_cause"], item["expected"])
        for row, item in zip(rows, targets, strict=True)
        if row["root_cause"] != item["expected"]
    ]
    assert not wrong, wrong[:5]


@pytest.mark.slow
def test_a_thousand_lab_targets(tmp_path: Path) -> None:
    with farm(1000) as targets:
        listing = tmp_path / "targets.txt"
        listing.write_text("\n".join(item["target"] for item in targets))
        done = run_scan(listing, "--format", "jsonl")
    assert "Traceback" not in done.stderr
    _check_rows(done.stdout, targets)


@pytest.mark.slow
def test_a_low_descriptor_limit_queues_instead_of_failing(tmp_path: Path) -> None:
    with farm(400) as targets:
        listing = tmp_path / "targets.txt"
        listing.write_text("\n".join(item["target"] for item in targets))
        done = run_scan(listing, "--format", "jsonl", limit=256)
    assert "Too many open files" not in done.stdout + done.stderr
    _check_rows(done.stdout, targets)
