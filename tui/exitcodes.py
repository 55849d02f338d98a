"""The process's exit codes, for every command (README, "Three ways in")."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # reachable (and the login works, when credentials were given)
    PROBLEM = 1  # a problem was found: the verdict says which
    USAGE = 2  # bad input or usage: the message says what to change
    CRASH = 3  # sqlreach itself failed: a bug; the message says where the report is
