"""A connection string still wrapped in what it was copied from: quotes, escapes, JSON.

People copy the string out of their code or configuration: a C# literal (`"…"` with `\\"` and
`\\\\`, or verbatim `@"…"` with `""`), JSON (appsettings.json: `"Name": "…"`, or the whole
`"ConnectionStrings": {…}` block), PowerShell (`"…"` with `` `" `` or `""`, `'…'` with `''`), or
a line of code around it (`var cs = "…";`). `unwrap` returns the string inside, decoded as that
language decodes it, and says what it removed; it never guesses when the text is not wrapped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final

from tui.target.core import TargetError

MAX_DEPTH: Final = 3
_KEY_HINT: Final = re.compile(
    r"(?i)(?:^|;)\s*(?:server|data source|address|addr|network address|dsn|driver|provider)\s*="
)
_JSON_PAIR: Final = re.compile(
    r'^"(?P<name>(?:[^"\\]|\\.)*)"\s*:\s*(?P<value>"(?:[^"\\]|\\.)*")\s*,?$', re.S
)
_CONNECTION_STRINGS: Final = re.compile(r'(?i)"connectionstrings"\s*:\s*\{')
# A string literal inside a line of code: C# regular or verbatim, or PowerShell/JSON/XML.
_LITERAL: Final = re.compile(r'@"(?:[^"]|"")*"|"(?:[^"\\`]|\\.|`.)*"')


@dataclass(frozen=True)
class Unwrapped:
    """The string inside the wrapper, where it starts in the wrapped text, and what was done."""

    text: str
    start: int  # 0-based offset of the inner text in the wrapped text
    note: str


def unwrap(text: str) -> Unwrapped | None:
    """The connection string inside quotes or JSON, or None when `text` is not wrapped."""
    if _CONNECTION_STRINGS.search(text):
        return _connection_strings(text)
    pair = _JSON_PAIR.match(text)
    if pair is not None:
        value = _json_string(pair.group("value"), pair.start("value"))
        name = _json_string(f'"{pair.group("name")}"', 0)
        return Unwrapped(value, pair.start("value") + 1, f'read the JSON value of "{name}"')
    body = text.rstrip(";,)").rstrip()
    if body.startswith('@"') and body.endswith('"') and len(body) >= 3:
        return Unwrapped(body[2:-1].replace('""', '"'), 2, 'removed C# verbatim quotes (@"…")')
    if len(body) >= 2 and body[0] == body[-1] and body[0] in "\"'":
        return _quoted(body)
    return None


def find_literal(text: str) -> Unwrapped | None:
    """A line of code around the string (`var cs = "Server=…";`, `connectionString="…"`): the
    first literal that reads as a connection string."""
    for match in _LITERAL.finditer(text):
        if match.start() == 0 and match.end() == len(text):
            return None  # the whole text is one literal: `unwrap` had its chance
        inner = (
            _quoted(match.group(0))
            if not match.group(0).startswith("@")
            else Unwrapped(
                match.group(0)[2:-1].replace('""', '"'), 2, 'removed C# verbatim quotes (@"…")'
            )
        )
        if inner is not None and _KEY_HINT.search(inner.text):
            return Unwrapped(
                inner.text,
                match.start() + inner.start,
                "read the connection string inside the quotes of the code line",
            )
    return None


def _quoted(body: str) -> Unwrapped | None:
    quote, inner = body[0], body[1:-1]
    if quote == "'":
        return Unwrapped(inner.replace("''", "'"), 1, "removed the single quotes ('' is one ')")
    if '\\"' in inner or "\\\\" in inner:
        try:
            value: object = json.loads(body)
        except ValueError:  # `\S` or `\p`: not an escaped string, backslashes are literal
            value = None
        if isinstance(value, str):
            return Unwrapped(value, 1, 'removed the quotes and C#/JSON escapes (\\" and \\\\)')
    if "`" in inner:
        return Unwrapped(
            re.sub(r"`(.)", r"\1", inner), 1, "removed the quotes and PowerShell escapes (`)"
        )
    if '""' in inner:
        return Unwrapped(inner.replace('""', '"'), 1, 'removed the quotes ("" is one ")')
    if '"' in inner:
        return None  # "a" and "b": two strings, not one wrapped string
    return Unwrapped(inner, 1, "removed the surrounding quotes")


def _json_string(literal: str, position: int) -> str:
    try:
        value = json.loads(literal)
    except ValueError as error:
        raise TargetError(f"the JSON string cannot be read: {error}", position + 1) from None
    if not isinstance(value, str):
        raise TargetError("the JSON value is not a string", position + 1)
    return value


def _connection_strings(text: str) -> Unwrapped:
    """appsettings.json's `"ConnectionStrings": {"Name": "…", …}`: the first, naming the others."""
    match = _CONNECTION_STRINGS.search(text)
    assert match is not None
    start = match.end() - 1
    end = _closing_brace(text, start)
    try:
        block = json.loads(text[start : end + 1])
    except ValueError as error:
        raise TargetError(
            f"the ConnectionStrings block is not valid JSON: {getattr(error, 'msg', error)}",
            start + 1,
        ) from None
    strings = [(str(name), value) for name, value in block.items() if isinstance(value, str)]
    if not strings:
        raise TargetError("the ConnectionStrings block holds no connection string", start + 1)
    name, value = strings[0]
    found = f"'{name}', the first of {len(strings)} ({', '.join(n for n, _ in strings)})"
    note = f"read ConnectionStrings {found if len(strings) > 1 else repr(name)}"
    position = text.find(json.dumps(value)[1:-1][:20], start)
    return Unwrapped(value, max(position, start), note)


def _closing_brace(text: str, start: int) -> int:
    depth, index, in_string = 0, start, False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise TargetError("the ConnectionStrings block has no closing '}'", start + 1)
