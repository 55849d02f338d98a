"""Small readers for the languages fix commands are written in, from each language's documented
rules, to read back what `tui.safe.quote` wrote. They are deliberately independent of the code
under test: each follows the reference, not the quoting functions.

- T-SQL: a string literal is `'...'` (or `N'...'`), `''` inside is one quote; a delimited
  identifier is `[...]`, `]]` inside is one bracket (SQL Server docs, "Database identifiers",
  "Constants (Transact-SQL)").
- cmd.exe arguments as a program receives them: Microsoft's "Parsing C++ command-line arguments"
  (the rules CommandLineToArgvW and the MSVC runtime follow).
- PowerShell: about_Quoting_Rules; the tokenizer also takes U+2018..U+201B as single quotes and
  U+201C..U+201E as double quotes.
"""

from __future__ import annotations

import re

PS_SINGLE = "'\u2018\u2019\u201a\u201b"
PS_DOUBLE = '"\u201c\u201d\u201e'


def read_tsql_literal(text: str) -> str:
    """The value of one T-SQL string literal that is the whole of `text`."""
    body = text[1:] if text[:1] in "Nn" else text
    if len(body) < 2 or body[0] != "'" or body[-1] != "'":
        raise ValueError(f"not a literal: {text!r}")
    return _doubled(body[1:-1], "'", text)


def _doubled(inner: str, quote: str, text: str) -> str:
    out, i = [], 0
    while i < len(inner):
        if inner[i] == quote:
            if inner[i + 1 : i + 2] != quote:
                raise ValueError(f"{quote} ends it early: {text!r}")
            i += 1
        out.append(inner[i])
        i += 1
    return "".join(out)


def read_tsql_identifier(text: str) -> str:
    """The name in one delimited identifier that is the whole of `text`."""
    if len(text) < 2 or text[0] != "[" or text[-1] != "]":
        raise ValueError(f"not a delimited identifier: {text!r}")
    return _doubled(text[1:-1], "]", text)


def tsql_outside_literals(sql: str) -> str:
    """The T-SQL code with every string literal and delimited identifier taken out."""
    out, i = [], 0
    while i < len(sql):
        char = sql[i]
        if char == "'" or (char in "Nn" and sql[i + 1 : i + 2] == "'"):
            i = sql.index("'", i) + 1
            while True:
                end = sql.index("'", i)  # an unterminated literal raises: a broken command
                if sql[end + 1 : end + 2] == "'":
                    i = end + 2
                    continue
                i = end + 1
                break
            out.append(" ")
        elif char == "[":
            i += 1
            while True:
                end = sql.index("]", i)
                if sql[end + 1 : end + 2] == "]":
                    i = end + 2
                    continue
                i = end + 1
                break
            out.append(" ")
        else:
            out.append(char)
            i += 1
    return "".join(out)


def read_cmd_arguments(line: str) -> list[str]:
    """Split a command line into arguments as the MSVC runtime does."""
    args: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\":
            run = len(line[i:]) - len(line[i:].lstrip("\\"))
            if line[i + run : i + run + 1] == '"':
                current.append("\\" * (run // 2))
                if run % 2:
                    current.append('"')
                    i += run + 1
                else:
                    i += run
                started = True
                continue
            current.append("\\" * run)
            i += run
            started = True
            continue
        if char == '"':
            if quoted and line[i + 1 : i + 2] == '"':
                current.append('"')
                i += 2
                continue
            quoted = not quoted
            started = True
            i += 1
            continue
        if char in " \t" and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
            i += 1
            continue
        current.append(char)
        started = True
        i += 1
    if quoted:
        raise ValueError(f"an open quote: {line!r}")
    if started:
        args.append("".join(current))
    return args


def read_ps_single(text: str) -> str:
    """The value of one PowerShell single-quoted string that is the whole of `text`."""
    if len(text) < 2 or text[0] not in PS_SINGLE or text[-1] not in PS_SINGLE:
        raise ValueError(f"not a single-quoted string: {text!r}")
    out, i, inner = [], 0, text[1:-1]
    while i < len(inner):
        if inner[i] in PS_SINGLE:
            if i + 1 < len(inner) and inner[i + 1] in PS_SINGLE:
                out.append(inner[i])
                i += 2
                continue
            raise ValueError(f"a quote ends the string early: {text!r}")
        out.append(inner[i])
        i += 1
    return "".join(out)


def read_ps_double_content(content: str) -> str:
    """The value of the inside of a PowerShell double-quoted string: a backtick escapes the
    next character; an unescaped `$` (expansion) or double quote is refused."""
    out, i = [], 0
    while i < len(content):
        char = content[i]
        if char == "`":
            if i + 1 >= len(content):
                raise ValueError("a backtick at the end escapes the closing quote")
            out.append(content[i + 1])
            i += 2
            continue
        if char == "$" or char in PS_DOUBLE:
            raise ValueError(f"unescaped {char!r} inside a double-quoted string")
        out.append(char)
        i += 1
    return "".join(out)


def ps_outside_strings(script: str) -> tuple[str, list[str]]:
    """PowerShell code with its strings taken out, and the inside of each double-quoted string
    (where `$` still expands)."""
    out: list[str] = []
    doubles: list[str] = []
    i = 0
    while i < len(script):
        char = script[i]
        if char in PS_SINGLE:
            i += 1
            while True:
                if i >= len(script):
                    raise ValueError(f"an open single quote: {script!r}")
                if script[i] in PS_SINGLE:
                    if script[i + 1 : i + 2] and script[i + 1] in PS_SINGLE:
                        i += 2
                        continue
                    i += 1
                    break
                i += 1
            out.append(" ")
        elif char in PS_DOUBLE:
            i += 1
            start = i
            while True:
                if i >= len(script):
                    raise ValueError(f"an open double quote: {script!r}")
                if script[i] == "`":
                    i += 2
                    continue
                if script[i] in PS_DOUBLE:
                    break
                i += 1
            doubles.append(script[start:i])
            i += 1
            out.append(" ")
        else:
            out.append(char)
            i += 1
    return "".join(out), doubles


def sh_outside_quotes(script: str) -> tuple[str, list[str]]:
    """POSIX shell code with its quoted spans taken out, and the inside of each double-quoted
    span (where `$` and backticks still expand). Nothing expands inside single quotes."""
    out: list[str] = []
    doubles: list[str] = []
    i = 0
    while i < len(script):
        char = script[i]
        if char == "\\":
            out.append(" ")
            i += 2
        elif char == "'":
            end = script.index("'", i + 1)  # an open quote raises: a broken command
            out.append(" ")
            i = end + 1
        elif char == '"':
            j = i + 1
            while script[j] != '"':
                j += 2 if script[j] == "\\" else 1
            doubles.append(script[i + 1 : j])
            out.append(" ")
            i = j + 1
        else:
            out.append(char)
            i += 1
    return "".join(out), doubles


def cmd_outside_double_quotes(line: str) -> tuple[str, list[str]]:
    """cmd.exe code outside double quotes, and the inside of each quoted span (where `%` and
    delayed `!` still expand)."""
    spans = re.findall(r'"([^"]*)"', line)
    return re.sub(r'"[^"]*"', " ", line), spans
