"""When sqlreach itself fails: a one-line message, exit code 3, and a report a person can
attach to a bug, with no secret in it.

The report holds the error's type and message and the stack (files, lines, functions and the
source line; never local variables, which is where passwords live), each line redacted with
the secrets the session knew and `tui.secret.redact`'s key=value rules. It is written
owner-only under the user data directory (or the temporary directory when that fails).
"""

from __future__ import annotations

import os
import platform
import stat
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import platformdirs

from tui import __version__
from tui.secret import Secret
from tui.transcript.journal import scrub

DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600


@dataclass(frozen=True)
class CrashReport:
    summary: str  # one line: what failed, secret-free
    path: Path | None  # where the report went, or None when no place would take it
    problem: str = ""  # why it could not be saved

    def message(self) -> str:
        where = (
            f"the report (no secrets in it) is in {self.path}"
            if self.path is not None
            else f"no report could be saved ({self.problem})"
        )
        return f"sqlreach: internal error: {self.summary}; {where}\n"


def directories() -> list[Path]:
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"
    return [
        Path(platformdirs.user_data_dir("sqlreach")) / "crashes",
        Path(tempfile.gettempdir()) / f"sqlreach-{user}" / "crashes",
    ]


def _values(secrets: Iterable[str | Secret | None]) -> list[str]:
    known = (s.reveal() if isinstance(s, Secret) else s for s in secrets)
    return [s for s in known if s]


def report_text(error: BaseException, secrets: Iterable[str | Secret | None]) -> str:
    values = _values(secrets)
    frames = traceback.format_exception(type(error), error, error.__traceback__)
    lines = [
        f"sqlreach {__version__} crash report",
        f"time: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        "",
        *"".join(frames).splitlines(),
    ]
    scrubbed = scrub(lines, values)
    return "\n".join(str(line) for line in scrubbed) + "\n"


def summary_of(error: BaseException, secrets: Iterable[str | Secret | None]) -> str:
    known = _values(secrets)
    text = " ".join(str(error).split())[:200]
    said = scrub(f"{type(error).__name__}: {text}" if text else type(error).__name__, known)
    return str(said)


def save_report(
    error: BaseException,
    secrets: Iterable[str | Secret | None] = (),
    places: list[Path] | None = None,
) -> CrashReport:
    kept = list(secrets)
    text = report_text(error, kept).encode("utf-8", "replace")
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    problem = ""
    for directory in places if places is not None else directories():
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            found = os.lstat(directory)
            mine = not hasattr(os, "getuid") or found.st_uid == os.getuid()
            if not stat.S_ISDIR(found.st_mode) or not mine:
                problem = f"{directory} is not a directory of this user's"
                continue
            os.chmod(directory, DIR_MODE)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(directory / name, flags, FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                out.write(text)
            return CrashReport(summary_of(error, kept), directory / name)
        except OSError as failure:
            problem = f"{directory}: {failure.strerror or failure}"
    return CrashReport(summary_of(error, kept), None, problem)
