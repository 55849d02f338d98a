"""The catalog of known error texts: one TOML file, one entry a pattern, each naming its sources.

`catalog.toml` is the only place a message is taught to sqlreach. Loading checks it strictly
(unknown keys, unknown root causes or layers, examples that their own pattern fails to match), so
a newcomer who adds an entry learns at once, from `CatalogError`, what is wrong with it.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from tui.knowledge.causes import Layer, RootCause
from tui.knowledge.explain.normalise import normalise

CATALOG_FILE: Final = "catalog.toml"
FACT_GROUPS: Final = frozenset({"host", "port", "instance", "database", "user"})
MIN_STRENGTH: Final = 1
MAX_STRENGTH: Final = 3
_ID = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_ENTRY_KEYS: Final = frozenset(
    {
        "id",
        "code",
        "pattern",
        "meaning",
        "layer",
        "strength",
        "causes",
        "rules_out",
        "proves",
        "passed",
        "checks",
        "overrides",
        "sources",
        "examples",
    }
)
_REQUIRED_KEYS: Final = frozenset({"id", "code", "pattern", "meaning", "strength", "sources"})


class CatalogError(ValueError):
    """The catalog file is wrong; the message names the entry and the key."""


@dataclass(frozen=True)
class Entry:
    """One known message: how to find it and what it tells."""

    id: str
    code: str
    pattern: re.Pattern[str]
    meaning: str
    layer: Layer | None
    strength: int
    causes: tuple[RootCause, ...]  # most likely first
    rules_out: tuple[RootCause, ...]
    proves: str  # why the causes in `rules_out` are excluded, in plain words
    passed: tuple[Layer, ...]  # layers this message proves worked
    checks: tuple[str, ...]  # check texts, resolved from the catalog's [checks] table
    overrides: tuple[str, ...]  # ids of vaguer entries this one replaces where both match
    sources: tuple[str, ...]
    examples: tuple[str, ...]  # verbatim snippets from the sources; each must match
    # Case-folded words one of which every match contains (None: unknown). Lets the reader skip
    # a pattern at once on text that cannot match it; never changes what matches.
    anchors: frozenset[str] | None = None


@dataclass(frozen=True)
class Catalog:
    entries: tuple[Entry, ...]
    checks: Mapping[str, str]

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)


@cache
def default_catalog() -> Catalog:
    """The catalog shipped with sqlreach (parsed once per process)."""
    text = resources.files(__package__).joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    return load_catalog(text)


def load_catalog(text: str) -> Catalog:
    """Parse and check catalog TOML. Raises `CatalogError` and only that."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"the catalog is not valid TOML: {error}") from None
    unknown = set(document) - {"checks", "entry"}
    if unknown:
        raise CatalogError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    checks = _checks(document.get("checks", {}))
    raw_entries = document.get("entry", [])
    if not isinstance(raw_entries, list) or not raw_entries:
        raise CatalogError("the catalog has no [[entry]] tables")
    entries = tuple(_entry(raw, checks) for raw in raw_entries)
    ids = [entry.id for entry in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"duplicate entry ids: {', '.join(duplicates)}")
    for entry in entries:
        missing = [o for o in entry.overrides if o not in ids]
        if missing:
            raise CatalogError(f"entry {entry.id}: overrides unknown ids {missing}")
    return Catalog(entries=entries, checks=MappingProxyType(checks))


def _checks(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise CatalogError("[checks] must be a table of id = text")
    checks: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"check {key!r} must be non-empty text")
        checks[key] = " ".join(value.split())
    return checks


def _entry(raw: object, checks: Mapping[str, str]) -> Entry:
    if not isinstance(raw, dict):
        raise CatalogError("each [[entry]] must be a table")
    name = str(raw.get("id", "?"))
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise CatalogError(f"entry {name}: unknown keys {sorted(unknown)}")
    missing = _REQUIRED_KEYS - set(raw)
    if missing:
        raise CatalogError(f"entry {name}: missing keys {sorted(missing)}")
    if not _ID.match(name):
        raise CatalogError(f"entry {name!r}: ids are lower-case words joined by '-'")
    pattern = _pattern(name, _text(name, raw, "pattern"))
    strength = raw["strength"]
    if not isinstance(strength, int) or not MIN_STRENGTH <= strength <= MAX_STRENGTH:
        raise CatalogError(f"entry {name}: strength must be 1, 2 or 3")
    causes = _causes(name, raw, "causes")
    rules_out = _causes(name, raw, "rules_out")
    both = set(causes) & set(rules_out)
    if both:
        raise CatalogError(f"entry {name}: {sorted(both)} both named and ruled out")
    proves = str(raw.get("proves", "")).strip()
    if rules_out and not proves:
        raise CatalogError(f"entry {name}: rules_out needs 'proves' (what the text shows)")
    layer = _layer(name, raw["layer"]) if "layer" in raw else None
    passed = tuple(_layer(name, value) for value in _strings(name, raw, "passed"))
    check_ids = _strings(name, raw, "checks")
    unknown_checks = [c for c in check_ids if c not in checks]
    if unknown_checks:
        raise CatalogError(f"entry {name}: unknown checks {unknown_checks}")
    sources = _strings(name, raw, "sources")
    if not sources or not all(s.startswith("https://") for s in sources):
        raise CatalogError(f"entry {name}: sources must be one or more https:// addresses")
    examples = _strings(name, raw, "examples")
    if not examples:
        raise CatalogError(f"entry {name}: give at least one verbatim example from a source")
    for example in examples:
        if not pattern.search(normalise(example)):
            raise CatalogError(f"entry {name}: the pattern does not match example {example!r}")
    return Entry(
        id=name,
        code=_text(name, raw, "code"),
        pattern=pattern,
        meaning=" ".join(_text(name, raw, "meaning").split()),
        layer=layer,
        strength=strength,
        causes=causes,
        rules_out=rules_out,
        proves=" ".join(proves.split()),
        passed=passed,
        checks=tuple(checks[c] for c in check_ids),
        overrides=_strings(name, raw, "overrides"),
        sources=sources,
        examples=examples,
        anchors=anchors_of(pattern),
    )


MIN_ANCHOR: Final = 3


def anchors_of(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Literal runs one of which every match of `pattern` must contain, from Python's own parse.

    Uses the standard library's regex parser (`re._parser`); if that ever changes shape, the
    answer is None and patterns simply run without the shortcut.
    """
    try:
        parser: Any = importlib.import_module("re._parser")
        parsed = parser.parse(pattern.pattern, pattern.flags)
        return _required(list(parsed))
    except Exception:  # any surprise in a private module only costs speed
        return None


def _required(items: list[Any]) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    run: list[str] = []

    def keep(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if candidate is None or not all(len(word) >= MIN_ANCHOR for word in candidate):
            return
        if best is None or min(map(len, candidate)) > min(map(len, best)):
            best = candidate

    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(av).casefold())
            continue
        keep(frozenset({"".join(run)}) if run else None)
        run = []
        if name == "SUBPATTERN":
            keep(_required(list(av[-1])))
        elif name == "BRANCH":
            branches = [_required(list(branch)) for branch in av[1]]
            if all(branch is not None for branch in branches):
                keep(frozenset().union(*(b for b in branches if b is not None)))
        elif name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"} and av[0] >= 1:
            keep(_required(list(av[2])))
    keep(frozenset({"".join(run)}) if run else None)
    return best


def _pattern(name: str, source: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(source, re.IGNORECASE)
    except re.error as error:
        raise CatalogError(f"entry {name}: the pattern does not compile: {error}") from None
    extra = set(pattern.groupindex) - FACT_GROUPS
    if extra:
        raise CatalogError(f"entry {name}: named groups must be among {sorted(FACT_GROUPS)}")
    return pattern


def _text(name: str, raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"entry {name}: {key} must be non-empty text")
    return value.strip()


def _strings(name: str, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"entry {name}: {key} must be a list of strings")
    return tuple(value)


def _causes(name: str, raw: Mapping[str, Any], key: str) -> tuple[RootCause, ...]:
    causes = []
    for value in _strings(name, raw, key):
        try:
            causes.append(RootCause(value))
        except ValueError:
            raise CatalogError(f"entry {name}: {key}: {value!r} is not a root cause") from None
    return tuple(causes)


def _layer(name: str, value: object) -> Layer:
    try:
        return Layer(str(value))
    except ValueError:
        known = ", ".join(layer.value for layer in Layer)
        raise CatalogError(f"entry {name}: layer {value!r} is not one of {known}") from None
