"""The transcript fallback in the shared temporary directory (`/tmp/sqlreach-$USER`): used only
when it is this user's own, closed directory. Someone else could have made it first, to read the
connection details written there or to point it elsewhere with a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.target import parse_target
from tui.transcript.journal import Journal, TranscriptError
from tui.transcript.store import list_sessions, private_root_problem, start_session

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")


def _unwritable_primary(tmp_path: Path) -> Path:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the sessions directory should be")
    return blocker / "sessions"


def _fallback_under(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fallback = root / "sessions"
    monkeypatch.setattr("tui.transcript.store.fallback_directory", lambda: fallback)
    return fallback


def test_a_new_fallback_is_made_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "sqlreach-someone"
    fallback = _fallback_under(root, monkeypatch)
    opened = start_session(parse_target("db1"), directory=_unwritable_primary(tmp_path))
    opened.journal.close()
    assert opened.journal.path.parent == fallback
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert private_root_problem(root) is None


def test_a_fallback_open_to_others_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "sqlreach-someone"
    root.mkdir()
    root.chmod(0o755)
    _fallback_under(root, monkeypatch)
    with pytest.raises(TranscriptError, match=r"open to other users \(mode 755"):
        start_session(parse_target("db1"), directory=_unwritable_primary(tmp_path))
    assert not (root / "sessions").exists()


def test_a_link_in_its_place_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    root = tmp_path / "sqlreach-someone"
    root.symlink_to(elsewhere)
    _fallback_under(root, monkeypatch)
    with pytest.raises(TranscriptError, match="not a directory of its own"):
        start_session(parse_target("db1"), directory=_unwritable_primary(tmp_path))
    assert list(elsewhere.iterdir()) == []


def test_a_fallback_owned_by_another_user_is_refused_and_not_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.getuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    root = tmp_path / "sqlreach-someone"
    (root / "sessions").mkdir(parents=True)
    Journal.create(parse_target("db1"), root / "sessions" / "20261123-010101-aaaaaa.jsonl").close()
    root.chmod(0o700)
    _fallback_under(root, monkeypatch)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert [s.id for s in list_sessions()] == ["20261123-010101-aaaaaa"]  # while it is ours
    os.chown(root, 65534, 65534)  # nobody
    with pytest.raises(TranscriptError, match=r"belongs to another user \(uid 65534"):
        start_session(parse_target("db1"), directory=_unwritable_primary(tmp_path))
    assert list_sessions() == []
