"""The older spelling of `tests.lab_fixtures.running` for TLS tests, kept for tests written on
other branches meanwhile; new tests use `running` and `client_env` from `tests.lab_fixtures`."""

from __future__ import annotations

from tests.lab_fixtures import client_env, running

serving = running

__all__ = ["client_env", "serving"]
