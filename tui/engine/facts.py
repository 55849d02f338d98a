"""Typed facts: what the steps of one walk learn, as records instead of a shared dict.

Each record is a frozen dataclass with a `key`, the name a verdict's summary template uses for
it (`{tcp.detail}`). A step adds the records it learned; a record of one kind is added once, so
no later step overwrites what an earlier one found (the endpoint, which the Browser and the TCP
step move on purpose, is the one record that may be replaced). Filling a template with a fact
nobody recorded is a bug and raises: there is no silent "(unknown)".
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, TypeVar


class FactError(RuntimeError):
    """A fact was asked for that no step recorded, or recorded twice: a bug in the tree."""


class Fact:
    """Base of the fact records. Subclasses are frozen dataclasses with a `key`."""

    key: ClassVar[str]
    replaceable: ClassVar[bool] = False  # may a later step replace it (the endpoint)?


F = TypeVar("F", bound=Fact)


@dataclass(frozen=True)
class Run(Fact):
    """What the run itself knows before any step: its per-probe timeout."""

    key: ClassVar[str] = "run"
    timeout: float

    @property
    def timeout_s(self) -> str:
        return f"{self.timeout:g} s"


class Facts:
    """The records of one walk, by kind."""

    def __init__(self) -> None:
        self._records: dict[str, Fact] = {}

    def add(self, record: Fact) -> None:
        key = type(record).key
        if key in self._records and not type(record).replaceable:
            raise FactError(f"the fact '{key}' was recorded twice")
        self._records[key] = record

    def get(self, kind: type[F]) -> F:
        record = self._records.get(kind.key)
        if not isinstance(record, kind):
            raise FactError(f"no step recorded the fact '{kind.key}'")
        return record

    def maybe(self, kind: type[F]) -> F | None:
        record = self._records.get(kind.key)
        return record if isinstance(record, kind) else None

    def namespace(self) -> Mapping[str, Fact]:
        return dict(self._records)


def fill(template: str, namespace: Mapping[str, Any]) -> str:
    """Fill `{kind.field}` placeholders; a missing record, field or value raises `FactError`."""
    parts: list[str] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        parts.append(literal)
        if name is None:
            continue
        value = lookup(name, namespace)
        if conversion == "r":
            value = repr(value)
        elif conversion is not None:
            value = str(value)
        parts.append(format(value, spec or ""))
    return "".join(parts)


def lookup(name: str, namespace: Mapping[str, Any]) -> Any:
    head, *rest = name.split(".")
    if head not in namespace:
        raise FactError(f"the template names '{{{name}}}', but no step recorded '{head}'")
    value = namespace[head]
    for attribute in rest:
        if not hasattr(value, attribute):
            raise FactError(f"the template names '{{{name}}}': '{head}' has no '{attribute}'")
        value = getattr(value, attribute)
    if value is None:
        raise FactError(f"the template names '{{{name}}}', whose value is not known here")
    return value


def placeholders(template: str) -> list[str]:
    """The `{kind.field}` names a template uses (for the tests that prove they exist)."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def field_names(kind: type[Fact]) -> set[str]:
    """A record's fields and properties: what `{key.name}` may name."""
    names = {f.name for f in fields(kind)} if is_dataclass(kind) else set()
    names |= {name for name, value in vars(kind).items() if isinstance(value, property)}
    return names
