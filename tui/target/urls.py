"""URL forms of other ecosystems, read the way each library reads them.

- SQLAlchemy (`mssql+pyodbc://`, `mssql+pymssql://`): its own URL pattern; user and password are
  percent-decoded, the host is not (`%5C` reaches the driver as `%5C`); `mssql+pyodbc` without a
  database is an ODBC DSN name, without a user it is Windows authentication, `odbc_connect=` is a
  whole ODBC string (sqlalchemy/engine/url.py, sqlalchemy/connectors/pyodbc.py).
- go-mssqldb (`sqlserver://user:pw@host:port/INSTANCE?database=…`): Go's net/url, which refuses
  a backslash or a percent-encoded ASCII byte in the host; the path is the instance
  (msdsn/conn_str.go, splitConnectionStringURL).
- node-mssql, knex, TypeORM (`mssql://user:pw@host:port/database?…`, or
  `/INSTANCE/database`): node-mssql's README, "Connection String URI".
- Prisma (`sqlserver://host[\\INSTANCE][:port];database=…;user=…`): the JDBC grammar with
  Prisma's argument names and `{}` escapes (Prisma's SQL Server connector page).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, unquote_plus

from tui.secret import Secret
from tui.target.core import (
    JDBC_KEYS,
    KV_KEYS,
    Builder,
    Form,
    Pair,
    TargetError,
    apply_pair,
    normalise_key,
    parse_key_values,
    parse_port,
    parse_server_then_pairs,
)

URL_SCHEME: Final = re.compile(r"(?i)^(mssql(?:\+[a-z0-9_]+)?|sqlserver)://")


@dataclass(frozen=True)
class _Part:
    """One component of a URL: its text as written and where it starts (0-based)."""

    text: str
    start: int


@dataclass(frozen=True)
class _Url:
    user: _Part | None
    password: _Part | None
    host: _Part | None
    port: _Part | None
    path: _Part | None
    query: _Part | None


def parse_url(text: str, offset: int, builder: Builder) -> None:
    """Any SQL Server URL that is not JDBC: dispatch on the scheme."""
    match = URL_SCHEME.match(text)
    if match is None:
        raise TargetError("not a SQL Server URL", offset + 1)
    scheme = match.group(1).lower()
    if scheme.startswith("mssql+"):
        _sqlalchemy(text, offset, builder, scheme)
    elif scheme == "mssql":
        _node(text, offset, builder)
    elif _is_prisma(text[match.end() :]):
        _prisma(text, offset, builder, match.end())
    else:
        _go(text, offset, builder, match.end())


# ---------------------------------------------------------------------------------------------
# SQLAlchemy

# The same shape as SQLAlchemy's own `_parse_url` pattern: a user may hold '@' and ':' ends it,
# a password ends at the first '@', a host ends at ':', '/' or '?'.
_SQLALCHEMY: Final = re.compile(
    r"""(?P<name>[\w+]+)://
        (?:(?P<user>[^:/]*)(?::(?P<password>[^@]*))?@)?
        (?:(?:\[(?P<ipv6>[^/?]+)\]|(?P<host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
        (?:/(?P<database>[^?]*))?
        (?:\?(?P<query>.*))?""",
    re.X | re.S,
)


def _sqlalchemy(text: str, offset: int, builder: Builder, scheme: str) -> None:
    builder.form = Form.SQLALCHEMY
    match = _SQLALCHEMY.fullmatch(text)
    if match is None:  # the pattern matches any text after the scheme; kept for safety
        raise TargetError("SQLAlchemy cannot read this URL", offset + 1)
    dialect = scheme.split("+", 1)[1]
    detail = f"the {scheme} URL"
    query = _query_pairs(match, "query", offset, plus=True)
    if dialect == "pyodbc" and any(key.lower() == "odbc_connect" for key, _, _ in query):
        _odbc_connect(query, builder)
        _secret_part(builder, match, "password", offset)
        return
    user = _decoded(match, "user")
    password = _decoded(match, "password")
    database = _decoded(match, "database")
    host = match.group("ipv6") or match.group("host")
    _secret_part(builder, match, "password", offset)
    if host and "%" in host:
        at = offset + match.start("ipv6" if match.group("ipv6") else "host") + host.find("%")
        raise TargetError(
            "SQLAlchemy hands the host to the driver as written, so a "
            "percent-encoded character stays encoded (%5C is not a backslash there); write "
            "host\\INSTANCE with the backslash itself",
            at + 1,
        )
    keys = {key.lower() for key, _, _ in query}
    dsn = dialect == "pyodbc" and ("dsn" in keys or (bool(host) and not database))
    if dsn and host:
        builder.set("dsn", host, detail)
        builder.notes.append(
            f"SQLAlchemy reads a mssql+pyodbc URL without a /database as the name of an ODBC "
            f"data source (DSN={host}), not as a host: add /DATABASE (and ?driver=…) to "
            f"connect to the host {host} itself"
        )
    elif host:
        server = f"[{host}]" if match.group("ipv6") else host
        builder.set_server(
            server, offset + match.start("ipv6" if match.group("ipv6") else "host"), detail
        )
    if match.group("port") and not dsn:
        builder.set(
            "port", parse_port(match.group("port"), offset + match.start("port") + 1), detail
        )
    if database and not dsn:
        builder.set("database", database, detail)
    if user:
        builder.set("user", user, detail)
        if password:
            builder.password = Secret(password)
    elif dialect == "pyodbc" and "authentication" not in keys:
        builder.set("integrated_security", True, f"{detail} (no user: Trusted_Connection=Yes)")
    if dialect == "pyodbc" and not dsn and "driver" not in keys:
        builder.notes.append(
            "the URL names no ?driver=: SQLAlchemy passes no DRIVER to pyodbc, which then fails "
            "with IM002 (data source name not found and no default driver specified)"
        )
    _apply_query(builder, query, KV_KEYS, detail, skip={"odbc_connect", "dsn"})
    if dialect == "pyodbc" and "dsn" in keys:
        dsn_value = next(value for key, value, _ in query if key.lower() == "dsn")
        builder.set("dsn", dsn_value, f"{detail} ?dsn=")


def _odbc_connect(query: list[tuple[str, str, int]], builder: Builder) -> None:
    """`?odbc_connect=` is a whole ODBC string, URL-encoded; SQLAlchemy passes it on decoded."""
    key, value, position = next(item for item in query if item[0].lower() == "odbc_connect")
    inner = Builder(value)
    try:
        parse_key_values(value, 0, inner)
    except TargetError as error:
        raise TargetError(f"in {key}= (decoded): {error.reason}", position + 1) from None
    builder.values.update(inner.values)
    builder.origins.update(inner.origins)
    builder.notes.extend(inner.notes)
    builder.server_keys.extend(inner.server_keys)
    builder.password = inner.password or builder.password
    builder.notes.append("read from odbc_connect=, the ODBC string SQLAlchemy passes on as it is")


# ---------------------------------------------------------------------------------------------
# go-mssqldb

_AUTHORITY_END: Final = re.compile(r"[/?#]")


def _split_authority(text: str, start: int) -> _Url:
    """scheme://[user[:password]@]host[:port][/path][?query], as Go's net/url and the WHATWG
    URL parser split it: user info ends at the last '@' of the authority."""
    end_match = _AUTHORITY_END.search(text, start)
    end = end_match.start() if end_match else len(text)
    authority = text[start:end]
    user = password = None
    at = authority.rfind("@")
    host_start = start
    if at >= 0:
        info = authority[:at]
        colon = info.find(":")
        if colon >= 0:
            user = _Part(info[:colon], start)
            password = _Part(info[colon + 1 :], start + colon + 1)
        else:
            user = _Part(info, start)
        host_start = start + at + 1
    host_text = text[host_start:end]
    port = None
    if host_text.startswith("["):
        close = host_text.find("]")
        if close >= 0 and host_text[close + 1 : close + 2] == ":":
            port = _Part(host_text[close + 2 :], host_start + close + 2)
            host_text = host_text[: close + 1]
    elif host_text.count(":") == 1:
        colon = host_text.find(":")
        port = _Part(host_text[colon + 1 :], host_start + colon + 1)
        host_text = host_text[:colon]
    path = query = None
    if text.startswith("/", end):
        q = text.find("?", end)
        path_end = len(text) if q < 0 else q
        path = _Part(text[end + 1 : path_end], end + 1)
        end = path_end
    if text.startswith("?", end):
        query = _Part(text[end + 1 :].split("#", 1)[0], end + 1)
    return _Url(user, password, _Part(host_text, host_start), port, path, query)


_GO_KEYS: Final[Mapping[str, str]] = {
    **{key: value for key, value in KV_KEYS.items()},
    "user id": "user",
    "trusted_connection": "integrated_security",
    "instance": "instance",
    "dial timeout": "timeout",
    "app name": "application_name",
}


def _go(text: str, offset: int, builder: Builder, start: int) -> None:
    builder.form = Form.GO
    detail = "the sqlserver:// URL"
    url = _split_authority(text, start)
    _hide_password(builder, url, offset)
    host = url.host.text if url.host else ""
    for index, char in enumerate(host):
        bad = char == "\\" or (
            char == "%" and re.match(r"%[0-7][0-9a-fA-F]", host[index : index + 3]) is not None
        )
        if bad:
            raise TargetError(
                "Go's URL parser refuses this host (a backslash or a percent-encoded character "
                "in it): give the instance as the path, sqlserver://host/INSTANCE?database=…",
                offset + (url.host.start if url.host else 0) + index + 1,
            )
    server = unquote(host)
    if url.path is not None and url.path.text:
        server = f"{server}\\{unquote(url.path.text)}"
    if server:
        builder.set_server(server, offset + (url.host.start if url.host else start), detail)
    if url.port is not None and url.port.text:
        builder.set("port", parse_port(url.port.text, offset + url.port.start + 1), detail)
    _user_and_password(builder, url, detail)
    query = _query_from(url.query, offset, plus=True)
    for key, value, _position in query:
        if key.lower() == "encrypt" and value.lower() == "disable":
            builder.set("encrypt", "no", f"{detail} encrypt=disable")
            builder.notes.append("encrypt=disable: go-mssqldb does not even encrypt the login")
    _apply_query(
        builder,
        [
            item
            for item in query
            if not (item[0].lower() == "encrypt" and item[1].lower() == "disable")
        ],
        _GO_KEYS,
        detail,
    )


def _is_prisma(rest: str) -> bool:
    """Prisma writes `sqlserver://host:port;key=value`: a ';' before any '?' and no '@'."""
    semicolon = rest.find(";")
    if semicolon < 0:
        return "\\" in rest.split("?", 1)[0] and "@" not in rest
    head = rest[:semicolon]
    return "@" not in head and "?" not in head and "/" not in head


# ---------------------------------------------------------------------------------------------
# Prisma

_PRISMA_KEYS: Final[Mapping[str, str]] = {
    **JDBC_KEYS,
    "initial catalog": "database",
    "uid": "user",
    "userid": "user",
    "pwd": "password",
    "connecttimeout": "timeout",
    "connectiontimeout": "timeout",
}


def _prisma(text: str, offset: int, builder: Builder, start: int) -> None:
    builder.form = Form.PRISMA
    parse_server_then_pairs(text, offset, start, builder, _PRISMA_KEYS)


# ---------------------------------------------------------------------------------------------
# node-mssql, knex, TypeORM

_NODE_KEYS: Final[Mapping[str, str]] = {
    "encrypt": "encrypt",
    "trustservercertificate": "trust_server_certificate",
    "multisubnetfailover": "multi_subnet_failover",
    "appname": "application_name",
    "instancename": "instance",
    "database": "database",
}


def _node(text: str, offset: int, builder: Builder) -> None:
    builder.form = Form.NODE
    detail = "the mssql:// URL"
    url = _split_authority(text, len("mssql://"))
    _hide_password(builder, url, offset)
    host = unquote(url.host.text) if url.host else ""
    segments = url.path.text.split("/") if url.path is not None and url.path.text else []
    instance = unquote(segments[0]) if len(segments) >= 2 else None
    database = unquote(segments[-1]) if segments else None
    if host:
        server = f"{host}\\{instance}" if instance else host
        builder.set_server(server, offset + (url.host.start if url.host else 0), detail)
    if url.port is not None and url.port.text:
        builder.set("port", parse_port(url.port.text, offset + url.port.start + 1), detail)
    if database:
        builder.set("database", database, detail)
    _user_and_password(builder, url, detail)
    query = _query_from(url.query, offset, plus=False)
    for key, value, _position in query:
        lowered = key.lower()
        if lowered == "domain" and builder.values.get("user"):
            builder.values["user"] = f"{value}\\{builder.values['user']}"
        elif lowered == "driver":
            builder.notes.append(
                f"driver={value} is node-mssql's driver (tedious or msnodesqlv8), not an ODBC "
                "driver name"
            )
        elif lowered == "connectiontimeout" and value.isdigit():
            builder.set("timeout", max(1, int(value) // 1000), f"{detail} ?connectionTimeout= (ms)")
    _apply_query(builder, query, _NODE_KEYS, detail)


# ---------------------------------------------------------------------------------------------
# shared


def _decoded(match: re.Match[str], group: str) -> str | None:
    value = match.group(group)
    return unquote(value) if value else value


def _secret_part(builder: Builder, match: re.Match[str], group: str, offset: int) -> None:
    if match.group(group) is not None:
        builder.hide(offset + match.start(group), offset + match.end(group))


def _hide_password(builder: Builder, url: _Url, offset: int) -> None:
    if url.password is not None:
        start = offset + url.password.start
        builder.hide(start, start + len(url.password.text))


def _user_and_password(builder: Builder, url: _Url, detail: str) -> None:
    if url.user is not None and url.user.text:
        builder.set("user", unquote(url.user.text), detail)
    if url.password is not None:
        builder.password = Secret(unquote(url.password.text))


def _query_pairs(
    match: re.Match[str], group: str, offset: int, plus: bool
) -> list[tuple[str, str, int]]:
    if match.group(group) is None:
        return []
    return _query_from(_Part(match.group(group), match.start(group)), offset, plus)


def _query_from(part: _Part | None, offset: int, plus: bool) -> list[tuple[str, str, int]]:
    """(key, decoded value, 0-based position of the value) for each `key=value` of a query."""
    if part is None:
        return []
    decode = unquote_plus if plus else unquote
    items: list[tuple[str, str, int]] = []
    position = part.start
    for raw in part.text.split("&"):
        key, _, value = raw.partition("=")
        if key:
            items.append((decode(key), decode(value), offset + position + len(key) + 1))
        position += len(raw) + 1
    return items


def _apply_query(
    builder: Builder,
    query: list[tuple[str, str, int]],
    keys: Mapping[str, str],
    detail: str,
    skip: frozenset[str] | set[str] = frozenset(),
) -> None:
    for key, value, position in query:
        lowered = key.lower()
        if lowered in skip:
            continue
        name = keys.get(normalise_key(key)) or keys.get(lowered)
        if name is None or (name == "timeout" and "timeout" in builder.values):
            continue
        if name == "password":
            builder.password = Secret(value)
            builder.hide(position, position + len(value))
            continue
        if name == "server":
            continue  # the URL's host is the server; a server= in the query is ignored
        apply_pair(
            builder, Pair(f"{detail} ?{key}", value, position - len(key) - 1, position), name
        )
