"""Shared fixtures: isolated user directories and loopback addresses."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.netutil import random_loopback
from tests.odbc_drivers import register_drivers


def pytest_configure(config: pytest.Config) -> None:
    """FreeTDS and ODBC Driver 18 registered by name for the whole run (see odbc_drivers)."""
    config.stash[_ODBC_DIR] = register_drivers()


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_ODBC_DIR, None) or "/nonexistent", ignore_errors=True)


_ODBC_DIR = pytest.StashKey[Path]()


@pytest.fixture(autouse=True)
def isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Keep the developer's own data, config and keyring out of every test."""
    home = tmp_path_factory.mktemp("home")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        (home / name.lower()).mkdir()
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    yield home


@pytest.fixture
def loopback() -> str:
    """A fresh random 127.x.y.z address for this test."""
    return random_loopback()
