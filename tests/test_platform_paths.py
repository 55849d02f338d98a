"""The README's data paths are the ones platformdirs gives on each system (its Windows and macOS
rules run here with Windows' folder lookup answered by hand; nothing ran on those systems)."""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

import platformdirs.macos
import platformdirs.unix
import platformdirs.windows
import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_windows_data_path(monkeypatch: pytest.MonkeyPatch) -> None:
    local = r"C:\Users\First Last\AppData\Local"
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda _: local)
    found = PureWindowsPath(platformdirs.windows.Windows("sqlreach").user_data_dir)
    assert found == PureWindowsPath(local, "sqlreach", "sqlreach")  # author, then the app
    assert r"%LOCALAPPDATA%\sqlreach\sqlreach\sessions" in README


def test_macos_data_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    found = Path(platformdirs.macos.MacOS("sqlreach").user_data_dir)
    assert found == Path.home() / "Library" / "Application Support" / "sqlreach"
    assert "~/Library/Application Support/sqlreach/sessions" in README


def test_linux_data_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    found = Path(platformdirs.unix.Unix("sqlreach").user_data_dir)
    assert found == Path.home() / ".local" / "share" / "sqlreach"
    assert "~/.local/share/sqlreach/sessions" in README
