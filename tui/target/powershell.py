"""PowerShell command lines: SqlServer's `Invoke-Sqlcmd -ServerInstance` and its relatives,
dbatools' `-SqlInstance`, and `-ConnectionString "…"`.

Split the way PowerShell splits arguments: `"…"` (with `` ` `` escapes and `""`), `'…'` (with
`''`), and an unquoted comma making a list (dbatools takes the first of several instances).
Parameter names are case-insensitive, and `-Name:value` is the same as `-Name value`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tui.target.core import Builder, Form, Pair, TargetError, apply_pair, parse_key_values

_CMDLET: Final = re.compile(r"^(?:\$[\w:]+\s*=\s*)?(?:&\s*)?[A-Za-z]+-[A-Za-z0-9]+(?=\s|$)")
_SERVER_PARAMETERS: Final = re.compile(
    r"(?i)(?:^|\s)-(?:ServerInstance|SqlInstance|ConnectionString)\b"
)
# parameter (lower case) -> what it sets; "" for a value to skip
_VALUES: Final = {
    "serverinstance": "server",
    "sqlinstance": "server",
    "database": "database",
    "username": "user",
    "password": "password",
    "encrypt": "encrypt",
    "hostnameincertificate": "host_name_in_certificate",
    "connectiontimeout": "timeout",
    "applicationname": "application_name",
    "connectionstring": "connectionstring",
}
_SWITCHES: Final = {
    "trustservercertificate": ("trust_server_certificate", True),
    "encryptconnection": ("encrypt", "yes"),
    "dedicatedadministratorconnection": ("dac", True),
}
_CREDENTIALS: Final = frozenset({"credential", "sqlcredential"})


@dataclass(frozen=True)
class _Token:
    value: str
    start: int  # 0-based, in the command line
    end: int
    quoted: bool
    comma_after: bool = False


def looks_like_powershell(text: str) -> bool:
    """A cmdlet (`Verb-Noun`) given a server: -ServerInstance, -SqlInstance or -ConnectionString."""
    return bool(_CMDLET.match(text)) and bool(_SERVER_PARAMETERS.search(text))


def parse_powershell(text: str, offset: int, builder: Builder) -> None:
    builder.form = Form.POWERSHELL
    try:
        tokens = _tokens(text)
    except TargetError as error:
        raise TargetError(error.reason, offset + (error.position or 1)) from None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.quoted or not re.match(r"-[A-Za-z]", token.value):
            continue
        name, colon, attached = token.value[1:].partition(":")
        key = name.lower()
        if key in _SWITCHES:
            switch, on = _SWITCHES[key]
            if not (colon and attached.strip().lower() in {"$false", "false", "0"}):
                builder.set(switch, on, f"-{name}")
            continue
        value_token: _Token | None
        if colon and attached:
            start = token.start + len(name) + 2
            value_token = _Token(attached, start, token.end, False)
        elif index < len(tokens) and not (
            not tokens[index].quoted and re.match(r"-[A-Za-z]", tokens[index].value)
        ):
            value_token = tokens[index]
            index += 1
        else:
            value_token = None
        if key in _CREDENTIALS:
            builder.notes.append(
                f"-{name} passes a credential object: the user and password are not in the line"
            )
            continue
        wanted = _VALUES.get(key)
        if wanted is None:
            continue
        if value_token is None:
            raise TargetError(f"-{name} has no value", offset + token.start + 1)
        _apply(builder, name, wanted, value_token, tokens, index, offset)
    if "host" not in builder.values and "dsn" not in builder.values:
        raise TargetError(
            "the command line has no -ServerInstance, -SqlInstance or -ConnectionString", offset + 1
        )


def _apply(
    builder: Builder,
    name: str,
    field: str,
    token: _Token,
    tokens: list[_Token],
    index: int,
    offset: int,
) -> None:
    position = offset + token.start + (1 if token.quoted else 0)
    if field == "password":
        builder.hide(offset + token.start, offset + token.end)
    if field == "connectionstring":
        inner = Builder(token.value)
        try:
            parse_key_values(token.value, 0, inner)
        except TargetError as error:
            raise TargetError(
                f"in -{name}: {error.reason}", position + (error.position or 1)
            ) from None
        builder.values.update(inner.values)
        builder.origins.update(inner.origins)
        builder.notes.extend(inner.notes)
        builder.server_keys.extend(inner.server_keys)
        builder.password = inner.password or builder.password
        return
    if field == "server" and token.comma_after and name.lower() == "sqlinstance":
        others = [t.value for t in tokens[index:] if not t.value.startswith("-")][:3]
        builder.notes.append(
            f"-{name} lists several instances; diagnosing the first, {token.value} "
            f"(then: {', '.join(others)})"
        )
    apply_pair(builder, Pair(f"-{name}", token.value, offset + token.start, position), field)


def _tokens(text: str) -> list[_Token]:
    """PowerShell's argument splitting, enough for a command line people paste."""
    tokens: list[_Token] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace() or char == ",":
            if char == "," and tokens:
                last = tokens[-1]
                tokens[-1] = _Token(last.value, last.start, last.end, last.quoted, True)
            index += 1
            continue
        if char == "`" and text.startswith(("`\n", "`\r\n"), index):
            index += 2 if text[index + 1] == "\n" else 3  # a line continuation
            continue
        if char == "#" and (index == 0 or text[index - 1].isspace()):
            break  # a comment to the end
        start = index
        value: list[str] = []
        quoted = False
        while index < length and not text[index].isspace() and text[index] != ",":
            char = text[index]
            if char in "\"'":
                quoted = quoted or index == start
                index = _read_quoted(text, index, value)
                continue
            if char == "`" and index + 1 < length:
                value.append(text[index + 1])
                index += 2
                continue
            value.append(char)
            index += 1
        tokens.append(_Token("".join(value), start, index, quoted))
    return tokens


def _read_quoted(text: str, index: int, out: list[str]) -> int:
    quote, start = text[index], index
    index += 1
    while index < len(text):
        char = text[index]
        if char == quote:
            if text.startswith(quote * 2, index):
                out.append(quote)
                index += 2
                continue
            return index + 1
        if quote == '"' and char == "`" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    raise TargetError(f"unterminated {quote} quote", start + 1)
