"""The INI dialects of freetds.conf, odbc.ini and mssql.conf, read the way their owners read them.

FreeTDS (src/tds/config.c, `tds_read_conf_section`): a line whose first non-blank character is
`;` or `#` is a comment; the option name runs to `=`, lowercased, inner blanks collapsed to one
space; the value stops at the first `;` or `#`; section names compare case-insensitively, and a
section that appears twice is read twice (later values win). unixODBC (ini/iniOpen.c,
iniObjectSeek.c): `#` and `;` start comment lines, values are kept whole, names compare
case-insensitively and the first section of a name wins. mssql.conf is read by mssql-conf with
Python's configparser; its files are plain `key = value` lines, which the unixODBC dialect reads
the same way. Nothing here raises: odd lines become `problems`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

MAX_PROBLEMS: Final = 20
FREETDS_LINE_MAX: Final = 255  # fgets(line, 256): longer lines are split by FreeTDS
_BLANKS = re.compile(r"\s+")


class Dialect(StrEnum):
    FREETDS = "freetds"
    ODBC = "odbc"


@dataclass(frozen=True)
class Entry:
    key: str  # as FreeTDS/unixODBC compare it: FreeTDS lowercased, unixODBC as written
    value: str
    line: int  # 1-based


@dataclass(frozen=True)
class Section:
    name: str  # as written between the brackets
    line: int
    entries: tuple[Entry, ...]

    def get(self, key: str) -> Entry | None:
        """The entry for `key` (case-insensitive); the last one wins, as in both readers."""
        wanted = key.lower()
        found: Entry | None = None
        for entry in self.entries:
            if entry.key.lower() == wanted:
                found = entry
        return found


@dataclass(frozen=True)
class IniFile:
    sections: tuple[Section, ...]
    problems: tuple[str, ...] = ()

    def find(self, name: str) -> tuple[Section, ...]:
        """Every section called `name`, compared case-insensitively, in file order."""
        wanted = name.strip().lower()
        return tuple(s for s in self.sections if s.name.strip().lower() == wanted)

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.name for s in self.sections))


def parse(text: str, dialect: Dialect) -> IniFile:
    """Parse INI text in one of the two dialects."""
    sections: list[Section] = []
    problems: list[str] = []
    current_name: str | None = None
    current_line = 0
    entries: list[Entry] = []

    def close() -> None:
        if current_name is not None:
            sections.append(Section(current_name, current_line, tuple(entries)))

    for number, raw in _lines(text):
        if dialect == Dialect.FREETDS and len(raw) > FREETDS_LINE_MAX:
            _note(problems, f"line {number} is longer than FreeTDS reads ({FREETDS_LINE_MAX})")
        stripped = raw.strip()
        if not stripped or stripped[0] in ";#":
            continue
        if stripped.startswith("["):
            close()
            close_at = stripped.find("]")
            if close_at < 0:
                _note(problems, f"line {number}: section name without a closing ']'")
                name = stripped[1:]
            else:
                name = stripped[1:close_at]
            if dialect == Dialect.FREETDS:
                name = _BLANKS.sub(" ", name.split(";")[0].split("#")[0]).strip()
            current_name, current_line, entries = name.strip(), number, []
            continue
        key, equals, value = stripped.partition("=")
        if dialect == Dialect.FREETDS:
            key = _BLANKS.sub(" ", key).strip().lower()
            value = _BLANKS.sub(" ", re.split(r"[;#]", value, maxsplit=1)[0]).strip()
        else:
            key, value = key.strip(), value.strip()
        if not equals:
            _note(problems, f"line {number}: '{_short(stripped)}' has no '='")
        if not key:
            continue
        if current_name is None:
            _note(problems, f"line {number}: '{_short(key)}' is outside any [section] and ignored")
            continue
        entries.append(Entry(key, value, number))
    close()
    seen: set[str] = set()
    for section in sections:
        lowered = section.name.lower()
        if lowered in seen:
            reader = (
                "FreeTDS reads both, the later values win"
                if dialect == Dialect.FREETDS
                else "unixODBC uses the first one only"
            )
            _note(problems, f"section [{section.name}] appears more than once: {reader}")
        seen.add(lowered)
    return IniFile(tuple(sections), tuple(problems))


def merged(sections: tuple[Section, ...]) -> dict[str, Entry]:
    """Entries of several same-named sections (FreeTDS), later ones overriding, keyed lowercase."""
    result: dict[str, Entry] = {}
    for section in sections:
        for entry in section.entries:
            result[entry.key.lower()] = entry
    return result


def _lines(text: str) -> Iterator[tuple[int, str]]:
    yield from enumerate(text.splitlines(), start=1)


def _note(problems: list[str], text: str) -> None:
    if len(problems) < MAX_PROBLEMS:
        problems.append(text)
    elif len(problems) == MAX_PROBLEMS:
        problems.append("more odd lines follow; not listed")


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
