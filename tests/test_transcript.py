"""Transcripts: journal durability (a real SIGKILL mid-probe), exports, redaction, resume, modes.

The sessions run small trees whose steps do real work against loopback listeners (a closed port,
a full-backlog listener that never answers), so the journal records real probe results.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from tests.netutil import closed_port, full_backlog_listener
from tui.engine.context import Context
from tui.engine.facts import Fact
from tui.engine.model import Conclude, Next, Observation, Status, Step
from tui.engine.walk import Tree, diagnose
from tui.knowledge.causes import Hop, RootCause
from tui.probes.tcp import probe_tcp
from tui.target import parse_target
from tui.transcript.export import export, render, to_json
from tui.transcript.journal import Journal
from tui.transcript.store import (
    find_session,
    find_unfinished,
    list_sessions,
    read_session,
    resume_info,
    start_session,
)

PASSWORD = "Tr4nscript-Secret-9931"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Addr(Fact):
    key: ClassVar[str] = "addr"
    address: str


def _tcp_tree(address: str, port: int) -> Tree:
    async def noted(context: Context) -> Observation:
        return Observation(
            "ok",
            Status.PASS,
            f"target {context.target.data_source}",
            {"text": context.target.text},
            (Addr(address),),
        )

    async def connect(context: Context) -> Observation:
        result = await context.probe(
            ("tcp", address, port),
            f"connecting to {port}",
            lambda: probe_tcp([address], port, timeout=context.timeout),
        )
        return Observation(result.status.value, Status.FAIL, result.summary(), result.evidence())

    return Tree(
        {
            "target": Step(
                "target",
                "Read the target",
                "why",
                "src",
                Hop.CLIENT,
                {"ok": Next("tcp")},
                noted,
                gives={"ok": (Addr,)},
            ),
            "tcp": Step(
                "tcp",
                "Open a TCP connection",
                "why",
                "src",
                Hop.PORT,
                {
                    "REFUSED": Conclude(
                        RootCause.PORT_REFUSED,
                        "refused on {addr.address}",
                        ("start-engine-service",),
                    ),
                    "TIMEOUT": Conclude(
                        RootCause.PORT_FILTERED, "filtered", ("open-firewall-tcp",)
                    ),
                },
                connect,
            ),
        },
        "target",
    )


async def _session(tmp_path: Path, loopback: str) -> Path:
    port = closed_port(loopback)
    target = parse_target(f"Server={loopback},{port};User ID=sa;Password={PASSWORD}")
    opened = start_session(target, directory=tmp_path / "sessions")
    journal = opened.journal
    journal.error_text(f"Login failed; connection string had PWD={PASSWORD};")
    context = Context(target, timeout=2.0, emit=journal.record)
    await diagnose(_tcp_tree(loopback, port), context)
    journal.note(f"tried from the jump host, password was {PASSWORD}")
    journal.copied("net start MSSQLSERVER", "start-engine-service")
    journal.close()
    return journal.path


async def test_journal_records_steps_verdict_and_notes(tmp_path: Path, loopback: str) -> None:
    path = await _session(tmp_path, loopback)
    session = read_session(path)
    kinds = [event["type"] for event in session.events]
    assert kinds[0] == "session-start"
    assert kinds[-1] == "session-end"
    for kind in (
        "step-start",
        "probe-start",
        "probe-end",
        "step-end",
        "verdict",
        "note",
        "copied",
        "error-text",
    ):
        assert kind in kinds
    assert [record.id for record in session.steps] == ["target", "tcp"]
    assert session.verdict is not None and session.verdict["root_cause"] == "PORT_REFUSED"
    assert session.environment["python"]
    assert session.finished


async def test_password_never_written_anywhere(tmp_path: Path, loopback: str) -> None:
    path = await _session(tmp_path, loopback)
    session = read_session(path)
    outputs = [path.read_bytes()]
    for fmt in ("md", "html", "json"):
        out = export(session, fmt, tmp_path / f"export.{fmt}")
        outputs.append(out.read_bytes())
    for data in outputs:
        assert PASSWORD.encode() not in data
        assert "sa" in data.decode("utf-8")  # user names stay


async def test_exports_round_trip_and_read_like_a_ticket(tmp_path: Path, loopback: str) -> None:
    session = read_session(await _session(tmp_path, loopback))
    assert json.loads(to_json(session))["events"] == session.events
    markdown = render(session, "md")
    assert (
        markdown.index("## Summary")
        < markdown.index("## Environment")
        < markdown.index("## Steps")
        < markdown.index("## Fixes")
        < markdown.index("## Notes")
    )
    assert "PORT_REFUSED" in markdown and "net start MSSQLSERVER" in markdown
    page = render(session, "html")
    assert "<svg" in page and "PORT_REFUSED" in page and "http" not in page.split("<svg")[0]


async def test_files_are_owner_only(tmp_path: Path, loopback: str) -> None:
    path = await _session(tmp_path, loopback)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    out = export(read_session(path), "md", tmp_path / "ticket.md")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_export_replaces_atomically(tmp_path: Path) -> None:
    target = parse_target("db1")
    journal = Journal.create(target, tmp_path / "s.jsonl")
    journal.close()
    session = read_session(tmp_path / "s.jsonl")
    destination = tmp_path / "out.md"
    destination.write_text("earlier export")
    export(session, "md", destination, force=True)
    assert "sqlreach session" in destination.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from tests.test_transcript import _tcp_tree
    from tui.engine.context import Context
    from tui.engine.walk import diagnose
    from tui.target import parse_target
    from tui.transcript.journal import Journal

    target = parse_target({text!r})
    journal = Journal.create(target, Path({path!r}))
    print("started", flush=True)
    context = Context(target, timeout=60.0, emit=journal.record)
    asyncio.run(diagnose(_tcp_tree({address!r}, {port}), context))
    """
)


def test_sigkill_mid_probe_leaves_completed_steps(tmp_path: Path, loopback: str) -> None:
    path = tmp_path / "killed.jsonl"
    with full_backlog_listener(loopback) as port:
        script = SCRIPT.format(
            repo=str(REPO), text=f"{loopback},{port}", path=str(path), address=loopback, port=port
        )
        process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == b"started"
            deadline = time.monotonic() + 20
            while b'"probe-start"' not in path.read_bytes():
                assert time.monotonic() < deadline, "the probe never started"
                time.sleep(0.05)
            time.sleep(0.2)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
    session = read_session(path)
    assert [record.id for record in session.steps] == ["target"]
    assert session.of_type("probe-start")[0]["step"] == "tcp"
    assert not session.finished
    unfinished = find_unfinished([tmp_path])
    assert [s.id for s in unfinished] == ["killed"]
    info = resume_info(unfinished[0])
    assert info.target_text == f"{loopback},{port}"
    assert info.steps_done == ("Read the target",)


def test_half_written_last_line_is_tolerated(tmp_path: Path) -> None:
    journal = Journal.create(parse_target("db1"), tmp_path / "cut.jsonl")
    journal.note("before the cut")
    os.write(journal._fd, b'{"type": "step-end", "record": {"id": "tc')
    session = read_session(tmp_path / "cut.jsonl")
    assert session.damaged_lines == 1
    assert session.of_type("note")[0]["text"] == "before the cut"


def test_unwritable_directory_falls_back_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the sessions directory should be")
    fallback = tmp_path / "fallback" / "sessions"
    monkeypatch.setattr("tui.transcript.store.fallback_directory", lambda: fallback)
    opened = start_session(parse_target("db1"), directory=blocker / "sessions")
    opened.journal.close()
    assert opened.message is not None
    assert str(blocker / "sessions") in opened.message and str(fallback) in opened.message
    assert opened.journal.path.parent == fallback


def test_no_writable_place_is_a_plain_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr("tui.transcript.store.fallback_directory", lambda: blocker / "b")
    from tui.transcript.journal import TranscriptError

    with pytest.raises(TranscriptError, match="unrecorded"):
        start_session(parse_target("db1"), directory=blocker / "a")


def test_find_session_by_prefix(tmp_path: Path) -> None:
    for name in ("20261123-010101-aaaaaa", "20261123-010101-abbbbb"):
        Journal.create(parse_target("db1"), tmp_path / f"{name}.jsonl").close()
    assert find_session("20261123-010101-aa", [tmp_path]).id == "20261123-010101-aaaaaa"
    from tui.transcript.journal import TranscriptError

    with pytest.raises(TranscriptError, match="matches 2"):
        find_session("20261123-010101-a", [tmp_path])
    assert len(list_sessions([tmp_path])) == 2


@pytest.mark.slow
def test_cli_lists_and_exports(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    sessions = tmp_path / "data" / "sqlreach" / "sessions"
    sessions.mkdir(parents=True)
    Journal.create(parse_target("db9,1500"), sessions / "20261123-090000-cafe01.jsonl").close()
    run = [sys.executable, "-m", "tui", "transcripts"]
    listed = subprocess.run([*run, "list"], env=env, capture_output=True, text=True, check=True)
    assert "20261123-090000-cafe01" in listed.stdout and "db9,1500" in listed.stdout
    out = tmp_path / "t.html"
    done = subprocess.run(
        [*run, "export", "20261123-09", "--format", "html", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "<svg" in out.read_text()
    missing = subprocess.run([*run, "show", "nope"], env=env, capture_output=True, text=True)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
