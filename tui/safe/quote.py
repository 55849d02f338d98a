"""Quoting a value for the language of the command it goes into.

A fix command is copied and run by a person with rights on the server: a value from the network
(a stale @@SERVERNAME, a certificate's name, a login name) must arrive in it as exactly one
value of that language, never as more command. Each function returns the value quoted, or raises
`UnsafeValue` when no quoting can carry it there (a NUL, a newline, a `%` in cmd, a value that
would read as an option): the fix then shows a placeholder and says why, instead of a command
silently altered.

The rules, from each language's own documentation:
- T-SQL: a string literal `N'...'` with `'` doubled; an identifier `[...]` with `]` doubled, at
  most 128 characters (sysname).
- ODBC connection strings: a value in braces `{...}` with `}` doubled (MS-ODBCSTR).
- ADO.NET (SqlClient) and OLE DB: a value in double quotes with `"` doubled.
- JDBC (mssql-jdbc): a value in braces, which may hold `;`, `=` and spaces but no brace at all
  (Microsoft, "Building the connection URL": values with braces go in a Properties object).
- cmd.exe: an argument in double quotes; `"`, `%` and `!` cannot be quoted (cmd expands `%` and
  delayed `!` even inside quotes); backslashes before the closing quote doubled, as
  CommandLineToArgvW reads them.
- PowerShell: a single-quoted string, every single quote doubled; PowerShell also reads the
  typographic quotes U+2018 to U+201B as single quotes, so they are doubled too. Inside a
  double-quoted string: backtick, `$` and every double quote (U+0022, U+201C to U+201E)
  escaped with a backtick.
- POSIX shells: single quotes, a `'` written as `'"'"'` (what `shlex.quote` does).
A value starting with `-` (or `/` for cmd) is refused for shell arguments: quoting does not stop
a program from reading it as an option.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Final

from tui.safe.sanitise import has_unsafe, visible

MAX_VALUE: Final = 512  # no name a fix needs is longer; a longer one is not a name
MAX_IDENTIFIER: Final = 128  # sysname


class UnsafeValue(ValueError):
    """The value cannot be put into this kind of command; the message says why."""


def _plain(value: str, limit: int = MAX_VALUE) -> str:
    """What every language refuses: control and bidi characters, surrogates, a huge value."""
    if has_unsafe(value):
        raise UnsafeValue("it holds control or bidi characters")
    if len(value) > limit:
        raise UnsafeValue(f"it is {len(value):,} characters long")
    return value


# -- T-SQL --------------------------------------------------------------------------------------


def tsql_str(value: str) -> str:
    """A T-SQL Unicode string literal: `N'O''Brien'`."""
    return "N'" + _plain(value).replace("'", "''") + "'"


def tsql_ident(value: str) -> str:
    """A T-SQL delimited identifier: `[dev]]ops]`."""
    _plain(value, MAX_IDENTIFIER)
    if not value:
        raise UnsafeValue("it is empty")
    return "[" + value.replace("]", "]]") + "]"


# -- connection strings -------------------------------------------------------------------------

_CONN_BARE: Final = re.compile(r"[^;{}=\s\"']+")


def odbc_value(value: str) -> str:
    """An ODBC connection-string value: bare when nothing in it is special, else `{...}`."""
    _plain(value)
    if _CONN_BARE.fullmatch(value):
        return value
    return odbc_braced(value)


def odbc_braced(value: str) -> str:
    """Always braced, `}` doubled: for a value that may be anything (a password)."""
    return "{" + value.replace("}", "}}") + "}"


def adonet_value(value: str) -> str:
    """An ADO.NET (SqlClient) or OLE DB value: bare when nothing in it is special, else in
    double quotes with `"` doubled."""
    _plain(value)
    if _CONN_BARE.fullmatch(value):
        return value
    return '"' + value.replace('"', '""') + '"'


_JDBC_BARE: Final = re.compile(r"[^;{}=\[\]\s\"']+")


def jdbc_value(value: str) -> str:
    """A property value in a `jdbc:sqlserver://` URL: bare, or in braces; never a brace."""
    _plain(value)
    if "{" in value or "}" in value:
        raise UnsafeValue("a JDBC URL cannot carry a brace inside a value")
    return value if _JDBC_BARE.fullmatch(value) else "{" + value + "}"


# -- shells -------------------------------------------------------------------------------------

_CMD_BARE: Final = re.compile(r"[\w.:\\$#@+-]+")


def cmd_arg(value: str) -> str:
    """One cmd.exe argument: bare when plain, else in double quotes."""
    _plain(value)
    if not value:
        return '""'
    if value[0] in "-/":
        raise UnsafeValue("it would read as an option")
    for char, why in (('"', "a double quote"), ("%", "a percent sign"), ("!", "an exclamation")):
        if char in value:
            raise UnsafeValue(f"cmd.exe cannot quote {why}")
    if _CMD_BARE.fullmatch(value) and not value.endswith("\\"):
        return value
    trailing = len(value) - len(value.rstrip("\\"))
    return '"' + value + "\\" * trailing + '"'


PS_SINGLE_QUOTES: Final = "'\u2018\u2019\u201a\u201b"
PS_DOUBLE_QUOTES: Final = '"\u201c\u201d\u201e'


def ps_str(value: str) -> str:
    """A PowerShell single-quoted (verbatim) string: `'O''Brien'`."""
    _plain(value)
    return "'" + "".join(c * 2 if c in PS_SINGLE_QUOTES else c for c in value) + "'"


def ps_in_double_quotes(value: str) -> str:
    """Text for inside a PowerShell double-quoted string: `$`, backtick and quotes escaped."""
    _plain(value)
    return "".join("`" + c if c in "`$" + PS_DOUBLE_QUOTES else c for c in value)


_SH_BARE: Final = re.compile(r"[\w@%+=:,./-]+", re.ASCII)


def sh_arg(value: str) -> str:
    """One POSIX shell word: bare when plain, else in single quotes."""
    _plain(value)
    if value.startswith("-"):
        raise UnsafeValue("it would read as an option")
    if not value:
        return "''"
    if _SH_BARE.fullmatch(value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


# -- values validated rather than quoted --------------------------------------------------------


def hostname(value: str) -> str:
    """A host name or IP address, checked rather than quoted, so it can stand inside a larger
    value (`tcp:db1,1433`, `MSSQLSvc/db1:1433`) in any language: letters, digits, `.`, `_`,
    `-`, not starting with `-` or `.`; or an IP address."""
    _plain(value, 253)
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    first_ok = value[:1].isalnum() or value[:1] == "_"
    if first_ok and all(c.isalnum() or c in "._-" for c in value):
        return value
    raise UnsafeValue("it is not a plain host name")


def port(value: str) -> str:
    """A TCP port, 1 to 65535."""
    if value.isascii() and value.isdigit() and 0 < int(value) < 65536:
        return value
    raise UnsafeValue("it is not a port number")


_INSTANCE: Final = re.compile(r"[^\W\d][\w$#]{0,15}|#[\w$#]{0,15}")


def instance(value: str) -> str:
    """A SQL Server instance name as setup allows it: a letter, `_` or `#` first, then
    letters, digits, `$`, `#`, `_`; at most 16 (safe bare in cmd and in plain text)."""
    if _INSTANCE.fullmatch(value) and not has_unsafe(value):
        return value
    raise UnsafeValue("it is not a plain instance name")


def service(value: str) -> str:
    """MSSQLSERVER, or MSSQL$ and a plain instance name."""
    if value == "MSSQLSERVER" or (value.startswith("MSSQL$") and instance(value[6:])):
        return value
    raise UnsafeValue("it is not a SQL Server service name")


def text(value: str) -> str:
    """Words for a person to read (a GUI path, a list of names), never run: shown safely."""
    return visible(value)


Quoter = Callable[[str], str]

# The quoting a fix template can name in a placeholder, `{login:tsql_ident}`.
QUOTERS: Final[Mapping[str, Quoter]] = {
    "tsql_str": tsql_str,
    "tsql_ident": tsql_ident,
    "odbc": odbc_value,
    "adonet": adonet_value,
    "jdbc": jdbc_value,
    "cmd": cmd_arg,
    "ps": ps_str,
    "ps_dq": ps_in_double_quotes,
    "sh": sh_arg,
    "hostname": hostname,
    "text": text,
}

# Checks for values that may stand bare in a template (`{port}`), by the field they fill.
VALIDATED: Final[Mapping[str, Quoter]] = {
    "port": port,
    "good_port": port,
    "instance": instance,
    "service": service,
}
