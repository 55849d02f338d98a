"""Whatever people paste, turned into one `Target`.

Every form of every ecosystem: ADO.NET, ODBC and OLE DB strings, JDBC URLs, sqlcmd and
PowerShell command lines, SQLAlchemy, go-mssqldb, node-mssql and Prisma URLs, bare server names,
and any of them still wrapped in the quotes, escapes or JSON they were copied from. Each value
remembers where it came from; bad input raises `TargetError` pointing at the offending character,
and nothing else.
"""

from __future__ import annotations

from tui.target.core import (
    DAC_DEFAULT_PORT,
    DEFAULT_PORT,
    LOCAL_NAMES,
    MAX_LENGTH,
    Builder,
    Form,
    Origin,
    Source,
    Target,
    TargetError,
    check_text,
    iter_pairs,
    looks_like_sqlcmd,
    parse_data_source,
    parse_jdbc,
    parse_key_values,
    parse_port,
    parse_sqlcmd,
)
from tui.target.powershell import looks_like_powershell, parse_powershell
from tui.target.urls import URL_SCHEME, parse_url
from tui.target.wrapped import MAX_DEPTH, Unwrapped, find_literal, unwrap

__all__ = [
    "DAC_DEFAULT_PORT",
    "DEFAULT_PORT",
    "LOCAL_NAMES",
    "MAX_LENGTH",
    "Form",
    "Origin",
    "Source",
    "Target",
    "TargetError",
    "iter_pairs",
    "parse_data_source",
    "parse_port",
    "parse_target",
]


def parse_target(text: str) -> Target:
    """Parse any form people paste. Raises `TargetError` and only that."""
    stripped = check_text(text)
    offset = len(text) - len(text.lstrip())
    return _parse(text, stripped, offset, depth=0)


def _parse(text: str, stripped: str, offset: int, depth: int) -> Target:
    inner = unwrap(stripped) if depth < MAX_DEPTH else None
    if inner is not None:
        return _parse_inner(inner, offset, depth)
    try:
        return _parse_form(text, stripped, offset)
    except TargetError:
        literal = find_literal(stripped) if depth < MAX_DEPTH else None
        if literal is None:
            raise
        return _parse_inner(literal, offset, depth)


def _parse_inner(inner: Unwrapped, offset: int, depth: int) -> Target:
    """The string inside a wrapper, parsed on its own; errors point into the pasted text."""
    shift = offset + inner.start
    try:
        stripped = inner.text.strip()
        if not stripped:
            raise TargetError("the quotes hold nothing", 1)
        lead = len(inner.text) - len(inner.text.lstrip())
        target = _parse(inner.text, stripped, lead, depth + 1)
    except TargetError as error:
        raise TargetError(error.reason, shift + (error.position or 1)) from None
    return target.replace(notes=(inner.note, *target.notes))


def _parse_form(text: str, stripped: str, offset: int) -> Target:
    builder = Builder(text)
    lowered = stripped.lower()
    if lowered.startswith("jdbc:"):
        parse_jdbc(stripped, offset, builder)
    elif URL_SCHEME.match(stripped):
        parse_url(stripped, offset, builder)
    elif looks_like_powershell(stripped):
        parse_powershell(stripped, offset, builder)
    elif looks_like_sqlcmd(stripped):
        parse_sqlcmd(stripped, offset, builder)
    elif "=" in stripped:
        parse_key_values(stripped, offset, builder)
    else:
        builder.form = Form.SERVER
        builder.set_server(stripped, offset, "the server name")
    return builder.build()
