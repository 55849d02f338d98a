"""Secrets that cannot leak by accident, and redaction of text that may hold them.

A password is wrapped in `Secret` the moment it is parsed, so that `repr`, `str`, f-strings,
logging and JSON all see a placeholder; only `reveal()` hands the value to a driver.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

PLACEHOLDER: Final = "********"
MIN_FREE_TEXT_SECRET: Final = 4

# Connection-string keys whose values are secret, in every syntax people paste.
SECRET_KEYS: Final = (
    "password",
    "pwd",
    "accesstoken",
    "access token",
    "access_token",
    "token",
    "clientsecret",
    "client secret",
    "passphrase",
    "keystoresecret",
    "trustStorePassword",
    "keyStorePassword",
)

_KEYS_ALTERNATION = "|".join(re.escape(k).replace(r"\ ", r"[ _]?") for k in SECRET_KEYS)
# key = {braced value with }} escapes} | "quoted with "" escapes" | 'quoted' | bare up to ; or end
_SECRET_VALUE = re.compile(
    r"(?P<key>(?<![A-Za-z0-9])(?:[A-Za-z0-9]+_)*(?:" + _KEYS_ALTERNATION + r")\s*=\s*)"
    r"(?P<value>\{(?:[^}]|\}\})*\}?|\"(?:[^\"]|\"\")*\"?|'(?:[^']|'')*'?|[^;\r\n]*)",
    re.IGNORECASE,
)
# YAML / environment style: `MSSQL_SA_PASSWORD: value` (one token, the rest of the line is text)
_COLON_VALUE = re.compile(
    r"(?P<key>(?<![A-Za-z0-9])(?:[A-Za-z0-9]+_)*(?:" + _KEYS_ALTERNATION + r"):[ \t]*)"
    r"(?P<value>\"[^\"]*\"?|'[^']*'?|[^\s;,]+)",
    re.IGNORECASE,
)
# PowerShell parameters: -Password value, -Password:value, -SqlCredential is not a value
_DASH_PASSWORD = re.compile(
    r"(?P<key>(?:^|\s)-(?:Password|Pwd|PlainPassword)(?::\s*|\s+))"
    r"(?P<value>\"[^\"]*\"?|'[^']*'?|\S+)",
    re.IGNORECASE,
)
# sqlcmd / bcp style: -P password, -Ppassword (not PowerShell's -Password, read above)
_DASH_P = re.compile(
    r"(?P<key>(?:^|\s)-P(?!(?:assword|wd|lainPassword)\b)\s*)(?P<value>\"[^\"]*\"|'[^']*'|\S+)"
)


class Secret:
    """A value that refuses to be printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('" + PLACEHOLDER + "')"

    def __str__(self) -> str:
        return PLACEHOLDER

    def __format__(self, spec: str) -> str:
        return PLACEHOLDER

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not picklable")


def redact(text: str, *secrets: str | Secret | None) -> str:
    """Remove secret values from free text: `key=` / `key:` secrets (`PWD=`, `SA_PASSWORD=`,
    YAML `password:`), PowerShell's `-Password`, sqlcmd's `-P`, and known secrets."""
    redacted = _SECRET_VALUE.sub(lambda m: m.group("key") + PLACEHOLDER, text)
    redacted = _COLON_VALUE.sub(lambda m: m.group("key") + PLACEHOLDER, redacted)
    redacted = _DASH_PASSWORD.sub(lambda m: m.group("key") + PLACEHOLDER, redacted)
    redacted = _DASH_P.sub(lambda m: m.group("key") + PLACEHOLDER, redacted)
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        # Shorter values occur everywhere by chance; the key-based rules above still catch them.
        if value and len(value) >= MIN_FREE_TEXT_SECRET:
            redacted = redacted.replace(value, PLACEHOLDER)
    return redacted


ARGV_WARNING: Final = (
    "sqlreach: warning: a password is on the command line, where other users of this machine "
    "can read it (ps, /proc/PID/cmdline) and the shell's history keeps it. Leave it out of the "
    "connection string and give it with --password-env VARIABLE instead.\n"
)


def secret_in_argv(arguments: Sequence[str]) -> bool:
    """Does any argument hold a secret value (`Password=...`, `-P ...`), as `redact` sees it?"""
    return any(redact(argument) != argument for argument in arguments)


def disable_core_dumps() -> bool:
    """No core dump of this process (nor of its children): a secret in memory stays there.

    RLIMIT_CORE 0, soft and hard; False where the platform has no `resource` module (Windows,
    whose crash dumps are configured outside the process) or refuses."""
    try:
        import resource
    except ImportError:
        return False
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        return False
    return True
