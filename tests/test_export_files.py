"""Exports and data files (issue 22): an export writes a new regular file, or replaces a regular
file only with --force, atomically; it never writes through a symlink, and a device node, a
named pipe or a directory never becomes a file. Data directories are 0700 whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.credentials import EncryptedFileStore, Index
from tui.safe.files import private_directory
from tui.secret import Secret
from tui.target import parse_target
from tui.transcript.export import export
from tui.transcript.journal import Journal, TranscriptError
from tui.transcript.store import read_session, start_session

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Path]:
    journal = Journal.create(parse_target("db1"), tmp_path / "20261201-000000-abcdef.jsonl")
    journal.note("a note")
    journal.close()
    yield journal.path


def test_a_new_file_is_written_owner_only(tmp_path: Path, session: Path) -> None:
    out = export(read_session(session), "md", tmp_path / "new.md")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "a note" in out.read_text()


def test_an_existing_file_only_with_force(tmp_path: Path, session: Path) -> None:
    destination = tmp_path / "ticket.md"
    destination.write_text("keep me")
    with pytest.raises(TranscriptError, match=r"exists already.*--force"):
        export(read_session(session), "md", destination)
    assert destination.read_text() == "keep me"
    export(read_session(session), "md", destination, force=True)
    assert "a note" in destination.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ticket")] == []


@pytest.mark.parametrize("force", [False, True])
def test_never_through_a_symlink(tmp_path: Path, session: Path, force: bool) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("the person's own file")
    link = tmp_path / "export.md"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "created-through-the-link")
    for path in (link, dangling):
        with pytest.raises(TranscriptError, match="symbolic link"):
            export(read_session(session), "md", path, force=force)
        assert path.is_symlink()
    assert victim.read_text() == "the person's own file"
    assert not (tmp_path / "created-through-the-link").exists()


def test_never_onto_a_pipe_a_directory_or_a_device(tmp_path: Path, session: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    directory = tmp_path / "dir"
    directory.mkdir()
    places = [(fifo, "named pipe"), (directory, "directory")]
    if os.geteuid() == 0:  # a /dev/null of our own: major 1, minor 3
        device = tmp_path / "null"
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))
        places.append((device, "character device"))
    for path, words in places:
        with pytest.raises(TranscriptError, match=words):
            export(read_session(session), "md", path, force=True)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and directory.is_dir()
    if os.geteuid() == 0:
        assert stat.S_ISCHR((tmp_path / "null").lstat().st_mode)


def _sqlreach(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )


def test_the_cli_refuses_then_replaces_with_force(tmp_path: Path, session: Path) -> None:
    env = dict(os.environ)
    destination = tmp_path / "out.html"
    destination.write_text("earlier")
    refused = _sqlreach("transcripts", "export", str(session), "--format", "html", "-o",
                        str(destination), env=env)  # fmt: skip
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert destination.read_text() == "earlier"
    forced = _sqlreach("transcripts", "export", str(session), "--format", "html", "-o",
                       str(destination), "--force", env=env)  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert "<svg" in destination.read_text()


def test_check_transcript_never_through_a_symlink(tmp_path: Path) -> None:
    link = tmp_path / "session.jsonl"
    link.symlink_to(tmp_path / "elsewhere.jsonl")
    done = _sqlreach("check", "Server={broken", "--transcript", str(link), env=dict(os.environ))
    assert done.returncode == 2
    done = _sqlreach("check", "127.0.0.1,1", "--timeout", "1", "--transcript", str(link),
                     env=dict(os.environ))  # fmt: skip
    assert done.returncode == 2 and "exists already" in done.stderr
    assert not (tmp_path / "elsewhere.jsonl").exists() and link.is_symlink()


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_data_directories_are_owner_only_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        sessions = tmp_path / "data" / "sqlreach" / "sessions"
        opened = start_session(parse_target("db1"), directory=sessions)
        opened.journal.close()
        credentials = tmp_path / "config" / "sqlreach" / "credentials.enc"
        store = EncryptedFileStore(Secret("pass phrase"), credentials, Index(tmp_path / "i.json"))
        store.save("db1", "sa", Secret("pw"))
    finally:
        os.umask(previous)
    for directory in (sessions, sessions.parent, sessions.parent.parent, credentials.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(opened.journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600


def test_an_existing_data_directory_is_narrowed(tmp_path: Path) -> None:
    loose = tmp_path / "sessions"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    parent = stat.S_IMODE(tmp_path.stat().st_mode)
    private_directory(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700
    assert stat.S_IMODE(tmp_path.stat().st_mode) == parent  # what existed above is not ours
