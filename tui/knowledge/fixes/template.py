"""The shape of a fix template, shared by the fix catalog's modules (`fixes`, `fixes_tls`).

Each command is written in one language (cmd, PowerShell, a POSIX shell, T-SQL, a connection
string, words for a GUI), and each placeholder in it names the quoting of that language the
value gets: `{login:tsql_ident}`, `{host:sh}`. Bare `{port}` only for values checked rather
than quoted (a port, an instance or service name matching setup's rules). `LANGUAGE_QUOTING`
says which quoting fits which language; the renderer and a test hold every template to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

WINDOWS_CMD: Final = "windows-cmd"
POWERSHELL: Final = "powershell"
LINUX: Final = "linux"
MACOS: Final = "macos"
TSQL: Final = "tsql"
GUI: Final = "gui"
CONNECTION: Final = "connection"

PLATFORMS: Final = (WINDOWS_CMD, POWERSHELL, LINUX, MACOS, TSQL, GUI, CONNECTION)

# The languages a command is written in.
CMD: Final = "cmd"
PS: Final = "powershell"
SH: Final = "sh"
SQL: Final = "tsql"
TEXT: Final = "text"  # read by a person (a GUI path, names to compare), never run
ODBC: Final = "odbc"
ADONET: Final = "adonet"  # SqlClient and OLE DB
JDBC: Final = "jdbc"
CONF: Final = "conf"  # a configuration file's lines (freetds.conf)

_BY_PLATFORM: Final[Mapping[str, str]] = {
    WINDOWS_CMD: CMD,
    POWERSHELL: PS,
    LINUX: SH,
    MACOS: SH,
    TSQL: SQL,
    GUI: TEXT,
}

# Which quoting (tui.safe.quote.QUOTERS) may fill a placeholder in each language, and which
# checked fields (tui.safe.quote.VALIDATED) may stand bare. `hostname` is checked rather than
# quoted, so it fits everywhere a host stands inside a larger value (`tcp:{host},{port}`).
LANGUAGE_QUOTING: Final[Mapping[str, frozenset[str]]] = {
    CMD: frozenset({"cmd", "hostname"}),
    PS: frozenset({"ps", "ps_dq", "hostname"}),
    SH: frozenset({"sh", "hostname"}),
    SQL: frozenset({"tsql_str", "tsql_ident", "hostname"}),
    TEXT: frozenset({"text", "hostname"}),
    ODBC: frozenset({"odbc", "hostname"}),
    ADONET: frozenset({"adonet", "hostname"}),
    JDBC: frozenset({"jdbc", "hostname"}),
    CONF: frozenset({"hostname"}),
}
LANGUAGE_NAMES: Final[Mapping[str, str]] = {
    CMD: "cmd.exe command",
    PS: "PowerShell command",
    SH: "shell command",
    SQL: "T-SQL statement",
    TEXT: "text",
    ODBC: "ODBC connection string",
    ADONET: "ADO.NET connection string",
    JDBC: "JDBC URL",
    CONF: "configuration file",
}
LANGUAGE_BARE: Final[Mapping[str, frozenset[str]]] = {
    language: frozenset({"port", "good_port"})
    | (frozenset({"instance", "service"}) if language in (CMD, TEXT) else frozenset())
    | (frozenset({"instance"}) if language in (ODBC, ADONET, JDBC) else frozenset())
    for language in LANGUAGE_QUOTING
}


@dataclass(frozen=True)
class CommandTemplate:
    platform: str
    label: str
    text: str
    language: str


@dataclass(frozen=True)
class FixTemplate:
    id: str
    title: str
    why: str
    commands: tuple[CommandTemplate, ...]
    risk: str | None = None
    # said instead of `title` / `why` when a value they name is not known for this target
    title_unknown: str | None = None
    why_unknown: str | None = None


def command(platform: str, label: str, text: str, language: str | None = None) -> CommandTemplate:
    """A command for `platform`; its language is the platform's own unless said (a connection
    string must say which kind it is)."""
    chosen = language or _BY_PLATFORM.get(platform)
    if chosen is None or chosen not in LANGUAGE_QUOTING:
        raise ValueError(f"the command '{label}' ({platform}) must name its language")
    return CommandTemplate(platform, label, text, chosen)
