"""Shared fixtures: isolated user directories and loopback addresses.

The suite runs in parallel workers (pytest-xdist, `make test`): everything a test touches is
its own. Addresses are random (tests.netutil) or held by a machine-wide lock
(tests.lab_fixtures.fixed_address); the ODBC registration, temporary and user directories are
per process; network namespaces carry their creator's process id; tmux servers and D-Bus
sessions are private to the test that starts them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from hypothesis import HealthCheck, settings

from tests.netutil import random_loopback
from tests.odbc_drivers import register_drivers

# Speed is measured by `make bench`, never asserted in a test: no per-example deadline, which
# a loaded machine (parallel workers on two cores) would otherwise turn into failures.
settings.register_profile("sqlreach", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sqlreach")

# Modules that mostly wait: a subprocess per test, timeouts run out on purpose, the wizard driven
# through Textual's pilot or tmux. They are marked `slow`, so `make test` runs them on the default
# Python and leaves them out (`-m "not slow and not netns"`) of its runs on the other Pythons.
SLOW_MODULES: Final = frozenset(
    {
        "test_check_error",
        "test_check_local",
        "test_check_scenarios",
        "test_lab_server",
        "test_login_lab",
        "test_scan",
        "test_wizard",
        "test_wizard_cancel",
        "test_wizard_credentials",
        "test_wizard_credentials_file",
        "test_wizard_login",
        "test_wizard_snapshots",
        "test_wizard_steps",
        "test_wizard_terminal",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def pytest_configure(config: pytest.Config) -> None:
    """FreeTDS and ODBC Driver 18 registered by name for the whole run (see odbc_drivers), in a
    directory of this process's own: each parallel worker registers its own."""
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
