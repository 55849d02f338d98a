"""The session journal: one JSON Lines file per session, append-only, fsynced per step.

A junior hands a diagnosis to a senior, an SSH session drops mid-probe: either way every step
that finished is already on disk. Secrets are scrubbed before a line is written, so the journal
never holds one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tui import __version__
from tui.engine.model import (
    Event,
    ProbeFinished,
    ProbeStarted,
    StepFinished,
    StepStarted,
    VerdictReached,
)
from tui.platforms import current
from tui.safe.files import open_new_private
from tui.secret import Secret, redact
from tui.target import Target

SCHEMA: Final = 1
# Events after which the journal is forced to disk: the ones a reader must never lose.
_DURABLE: Final = frozenset(
    {"session-start", "step-end", "verdict", "session-end", "note", "copied", "answer"}
)


class TranscriptError(OSError):
    """A journal or export cannot be written; the message says where and what to do."""


@dataclass(frozen=True)
class Environment:
    client_os: str
    python: str
    tool_version: str
    drivers: tuple[str, ...]
    drivers_note: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "client_os": self.client_os,
            "python": self.python,
            "tool_version": self.tool_version,
            "drivers": list(self.drivers),
            "drivers_note": self.drivers_note,
        }


def current_environment() -> Environment:
    """What a senior reading the ticket wants to know about the client machine."""
    import platform

    drivers: tuple[str, ...] = ()
    note: str | None = None
    try:
        import pyodbc

        drivers = tuple(str(name) for name in pyodbc.drivers())
    except Exception as error:  # no libodbc.so.2, a broken odbcinst.ini: worth saying, not fatal
        note = f"ODBC drivers could not be listed: {type(error).__name__}: {error}"
    return Environment(
        client_os=f"{platform.system()} {platform.release()} ({platform.machine()})",
        python=platform.python_version(),
        tool_version=__version__,
        drivers=drivers,
        drivers_note=note,
    )


def new_session_id() -> str:
    import secrets as random_tokens

    return time.strftime("%Y%m%d-%H%M%S") + "-" + random_tokens.token_hex(3)


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """Redact every string inside a JSON-safe value."""
    if isinstance(value, str):
        return redact(value, *secrets)
    if isinstance(value, Mapping):
        return {str(key): scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item, secrets) for item in value]
    if isinstance(value, Secret):
        return "********"
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value), *secrets)


def open_private(path: Path) -> int:
    """Create a file readable by its owner only (the mode is set at creation, not after),
    exclusively: never over an existing file, never through a symlink."""
    return open_new_private(path, os.O_APPEND)


class Journal:
    """Appends one event a line; the engine's `emit` and the wizard's actions feed it."""

    def __init__(self, path: Path, session_id: str, fd: int, secrets: tuple[str, ...]) -> None:
        self.path = path
        self.id = session_id
        self._fd = fd
        self._secrets = secrets
        self.closed = False

    @classmethod
    def create(
        cls,
        target: Target,
        path: Path,
        *,
        session_id: str | None = None,
        environment: Environment | None = None,
        extra_secrets: Iterable[str] = (),
        origin: str = "wizard",
    ) -> Journal:
        """Start a session file at `path` (which must not exist yet)."""
        known = [s for s in extra_secrets if s]
        if target.password is not None and target.password.reveal():
            known.append(target.password.reveal())
        try:
            fd = open_private(path)
        except OSError as error:
            raise TranscriptError(
                f"cannot create the transcript {path}: {error.strerror}"
            ) from None
        journal = cls(path, session_id or path.stem, fd, tuple(known))
        journal.write(
            "session-start",
            schema=SCHEMA,
            session=journal.id,
            origin=origin,
            target=target.to_json(),
            target_text=target.text,
            environment=(environment or current_environment()).to_json(),
        )
        return journal

    def add_secret(self, secret: Secret | str | None) -> None:
        """A password typed later (the wizard's credentials) is scrubbed from then on."""
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            self._secrets = (*self._secrets, value)

    def write(self, kind: str, **payload: Any) -> None:
        from datetime import UTC, datetime

        if self.closed:
            return
        line = {"t": datetime.now(UTC).isoformat(timespec="milliseconds"), "type": kind}
        line.update(scrub(payload, self._secrets))
        data = (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        try:
            os.write(self._fd, data)
            if kind in _DURABLE:
                os.fsync(self._fd)
        except OSError as error:
            self.closed = True
            raise TranscriptError(
                f"the transcript {self.path} can no longer be written: {error.strerror}"
            ) from None

    # -- the engine's events -----------------------------------------------------------------

    def record(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self.write("step-start", step=event.step, title=event.title)
        elif isinstance(event, ProbeStarted):
            self.write("probe-start", step=event.step, probe=event.probe, detail=event.detail)
        elif isinstance(event, ProbeFinished):
            self.write(
                "probe-end",
                step=event.step,
                probe=event.probe,
                summary=event.summary,
                elapsed_ms=round(event.elapsed_ms, 1),
            )
        elif isinstance(event, StepFinished):
            self.write("step-end", record=event.record.to_json())
        elif isinstance(event, VerdictReached):
            self.write("verdict", verdict=event.verdict.to_json())

    # -- what the person does ----------------------------------------------------------------

    def note(self, text: str) -> None:
        self.write("note", text=text)

    def copied(self, command: str, fix_id: str | None = None) -> None:
        self.write("copied", command=command, fix=fix_id)

    def fixes_shown(self, fix_ids: Iterable[str], platform_name: str) -> None:
        self.write("fixes-shown", fixes=list(fix_ids), platform=platform_name)

    def error_text(self, text: str) -> None:
        """The error message the person pasted (the explain step), redacted like the rest."""
        self.write("error-text", text=text)

    def verdict_screen(self, svg: str) -> None:
        """The verdict screen as drawn (Textual's SVG export), for the HTML export."""
        self.write("verdict-screen", svg=svg[:2_000_000])

    def rerun(self) -> None:
        self.write("rerun")

    def close(self, status: str = "finished") -> None:
        if self.closed:
            return
        try:
            self.write("session-end", status=status)
        finally:
            self.closed = True
            os.close(self._fd)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close("finished" if exc[0] is None else "aborted")


def platform_name() -> str:
    return current().value
