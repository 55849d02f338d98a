"""Where sessions live, and reading them back (a half-written last line included).

Sessions go to the platform's user data directory; when that cannot be written, to an
owner-only directory under the system's temporary directory, and the person is told which.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import platformdirs

from tui.engine.model import StepRecord, Verdict
from tui.engine.walk import Diagnosis
from tui.safe.files import DIR_MODE, private_directory
from tui.target import Target
from tui.transcript.journal import Environment, Journal, TranscriptError, new_session_id

MAX_JOURNAL_BYTES: Final = 64 * 1024 * 1024
INTERRUPTED: Final = frozenset({"terminal-gone", "crashed"})  # session-end statuses to resume


def default_directory() -> Path:
    return Path(platformdirs.user_data_dir("sqlreach")) / "sessions"


def fallback_directory() -> Path:
    """`sqlreach-$USER/sessions` under the temporary directory (the name kept to one path part)."""
    user = (
        os.environ.get("USER")
        or os.environ.get("USERNAME")
        or str(os.getuid() if hasattr(os, "getuid") else "user")
    )
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", user).lstrip(".") or "user"
    return Path(tempfile.gettempdir()) / f"sqlreach-{safe}" / "sessions"


def private_root_problem(root: Path) -> str | None:
    """Why `root`, the fallback's own directory in a shared /tmp, must not be used: anyone can
    make /tmp/sqlreach-<you> first, to read what is written there or to point it elsewhere. It
    must be a real directory (not a link), owned by this user, closed to everyone else. None
    when it is fine. Windows' temporary directory is already the user's own (%LOCALAPPDATA%)."""
    if os.name != "posix":
        return None
    try:
        info = os.lstat(root)
    except OSError as error:
        return f"{root} cannot be examined ({error.strerror or error})"
    if not stat.S_ISDIR(info.st_mode):
        return f"{root} is not a directory of its own (a link or a file stands there)"
    if info.st_uid != os.getuid():
        return f"{root} belongs to another user (uid {info.st_uid})"
    if stat.S_IMODE(info.st_mode) & 0o077:
        return f"{root} is open to other users (mode {stat.S_IMODE(info.st_mode):o}, not 700)"
    return None


def ensure_private_root(root: Path) -> None:
    """Make the fallback's own directory owner-only, or accept an existing one only when
    `private_root_problem` finds nothing wrong with it."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(root, DIR_MODE)
    problem = private_root_problem(root)
    if problem is not None:
        raise TranscriptError(problem)


def ensure_directory(path: Path) -> None:
    """Create the directory (and its missing parents) owner-only whatever the umask; refuse
    one that is not ours to write."""
    private_directory(path)
    probe = path / f".write-test-{os.getpid()}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    probe.unlink()


@dataclass(frozen=True)
class Opened:
    journal: Journal
    message: str | None  # set when the fallback was used: say where the file went and why


def start_session(
    target: Target,
    *,
    directory: Path | None = None,
    origin: str = "wizard",
    environment: Environment | None = None,
) -> Opened:
    """A new journal in the sessions directory, or in the fallback one when that fails."""
    primary = directory or default_directory()
    session_id = new_session_id()
    try:
        ensure_directory(primary)
        return Opened(
            Journal.create(
                target,
                primary / f"{session_id}.jsonl",
                session_id=session_id,
                environment=environment,
                origin=origin,
            ),
            None,
        )
    except (OSError, TranscriptError) as error:
        reason = getattr(error, "strerror", None) or str(error)
    fallback = fallback_directory()
    try:
        ensure_private_root(fallback.parent)
        ensure_directory(fallback)
        journal = Journal.create(
            target,
            fallback / f"{session_id}.jsonl",
            session_id=session_id,
            environment=environment,
            origin=origin,
        )
    except (OSError, TranscriptError) as error:
        raise TranscriptError(
            f"cannot write transcripts to {primary} ({reason}) nor to {fallback} "
            f"({getattr(error, 'strerror', None) or error}); the session goes on unrecorded"
        ) from None
    return Opened(
        journal,
        f"{primary} is not writable ({reason}); this session's transcript is in {journal.path}",
    )


@dataclass
class Session:
    """A journal read back."""

    id: str
    path: Path
    events: list[dict[str, Any]]
    damaged_lines: int = 0
    start: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> dict[str, Any]:
        value = self.start.get("target")
        return value if isinstance(value, dict) else {}

    @property
    def target_text(self) -> str:
        return str(self.start.get("target_text") or self.target.get("text") or "?")

    @property
    def environment(self) -> dict[str, Any]:
        value = self.start.get("environment")
        return value if isinstance(value, dict) else {}

    @property
    def started(self) -> str:
        return str(self.start.get("t", ""))

    @property
    def steps(self) -> list[StepRecord]:
        return _records(self.events)

    @property
    def last_run_steps(self) -> tuple[StepRecord, ...]:
        """The steps of the run that reached the last verdict (a re-run after a fix starts
        again)."""
        runs: list[list[dict[str, Any]]] = [[]]
        for event in self.events:
            if event.get("type") == "verdict":
                runs.append([])
            else:
                runs[-1].append(event)
        finished = runs[-2] if len(runs) > 1 else runs[-1]
        return tuple(_records(finished))

    @property
    def verdicts(self) -> list[dict[str, Any]]:
        return [
            e["verdict"]
            for e in self.events
            if e.get("type") == "verdict" and isinstance(e.get("verdict"), dict)
        ]

    @property
    def verdict(self) -> dict[str, Any] | None:
        found = self.verdicts
        return found[-1] if found else None

    @property
    def verdict_record(self) -> Verdict | None:
        """The last verdict as the engine gave it (fixes, clients, the error text compared)."""
        found = self.verdict
        return Verdict.from_json(found) if found is not None else None

    @property
    def diagnosis(self) -> Diagnosis | None:
        """The session's last run as a `Diagnosis`, rendered by the same renderers as live
        output; None before a verdict. The journal keeps no time to verdict: 0 here."""
        verdict = self.verdict_record
        if verdict is None:
            return None
        return Diagnosis(
            target=Target.from_json(self.target),
            steps=self.last_run_steps,
            verdict=verdict,
            elapsed_ms=0.0,
            started=self.started or None,
        )

    @property
    def finished(self) -> bool:
        return any(e.get("type") == "session-end" for e in self.events)

    @property
    def interrupted(self) -> bool:
        """Stopped before its verdict, and not by the person: never closed (killed), or
        closed because the terminal went away or sqlreach failed."""
        ends = self.of_type("session-end")
        return self.verdict is None and (not ends or ends[-1].get("status") in INTERRUPTED)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]


def _records(events: list[dict[str, Any]]) -> list[StepRecord]:
    records = []
    for event in events:
        if event.get("type") == "step-end" and isinstance(event.get("record"), dict):
            try:
                records.append(StepRecord.from_json(event["record"]))
            except (TypeError, ValueError):
                continue
    return records


def read_session(path: Path) -> Session:
    """Read a journal; lines that do not parse (a write cut short by SIGKILL) are counted."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_JOURNAL_BYTES)
    except OSError as error:
        raise TranscriptError(f"cannot read {path}: {error.strerror}") from None
    events: list[dict[str, Any]] = []
    damaged = 0
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            damaged += 1
            continue
        if isinstance(event, dict):
            events.append(event)
        else:
            damaged += 1
    start = next((e for e in events if e.get("type") == "session-start"), {})
    return Session(path.stem, path, events, damaged, start)


def session_paths(directories: list[Path] | None = None) -> list[Path]:
    found: list[Path] = []
    if not directories:
        fallback = fallback_directory()
        private = private_root_problem(fallback.parent) is None
        directories = [default_directory(), *([fallback] if private else [])]
    for directory in directories:
        if directory.is_dir():
            found.extend(p for p in directory.glob("*.jsonl") if p.is_file())
    return sorted(found, key=lambda p: p.name)


def list_sessions(directories: list[Path] | None = None) -> list[Session]:
    sessions = []
    for path in session_paths(directories):
        try:
            sessions.append(read_session(path))
        except TranscriptError:
            continue
    return sessions


def find_session(session_id: str, directories: list[Path] | None = None) -> Session:
    """A session by its id or a unique prefix of it; a path works too."""
    candidate = Path(session_id)
    if candidate.suffix == ".jsonl" and candidate.is_file():
        return read_session(candidate)
    matches = [p for p in session_paths(directories) if p.stem.startswith(session_id)]
    if not matches:
        raise TranscriptError(f"no session '{session_id}' (see 'sqlreach transcripts list')")
    exact = [p for p in matches if p.stem == session_id]
    if len(matches) > 1 and not exact:
        raise TranscriptError(
            f"'{session_id}' matches {len(matches)} sessions; give more of the id"
        )
    return read_session(exact[0] if exact else matches[0])


def find_unfinished(directories: list[Path] | None = None) -> list[Session]:
    """Sessions that never reached their end: the wizard offers to resume the newest."""
    return [s for s in list_sessions(directories) if s.interrupted and s.start]


@dataclass(frozen=True)
class ResumeInfo:
    session: str
    target_text: str
    steps_done: tuple[str, ...]
    last_step: str | None


def resume_info(session: Session) -> ResumeInfo:
    steps = session.steps
    return ResumeInfo(
        session=session.id,
        target_text=session.target_text,
        steps_done=tuple(record.title for record in steps),
        last_step=steps[-1].title if steps else None,
    )
