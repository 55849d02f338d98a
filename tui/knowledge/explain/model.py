"""What reading an error text produces: the `Explanation` and the hint the live diagnosis takes.

Everything here is plain data (frozen dataclasses and enums), so that `check --error` and the
wizard can carry an explanation into the engine and the transcript without re-reading the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tui.knowledge.causes import Layer, RootCause


class Expectation(StrEnum):
    """What the text predicts a live probe of one layer will find."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


class Agreement(StrEnum):
    """Whether a live result agrees with what the text says."""

    AGREES = "agrees"
    DISAGREES = "disagrees"
    UNRELATED = "unrelated"


@dataclass(frozen=True)
class Recognised:
    """One part of the text the catalog knows: the words as pasted (redacted) and what they mean."""

    text: str
    code: str
    meaning: str
    entry: str
    layer: Layer | None
    strength: int  # 1 a hint, 2 a clue, 3 strong evidence on its own
    sources: tuple[str, ...]
    count: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "code": self.code,
            "meaning": self.meaning,
            "entry": self.entry,
            "layer": self.layer.value if self.layer else None,
            "count": self.count,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Candidate:
    """A root cause the text points to, with the parts that point there."""

    cause: RootCause
    score: float
    because: tuple[str, ...]  # codes of the recognised parts that name it


@dataclass(frozen=True)
class RuledOut:
    """A root cause the text excludes, and the evidence that excludes it."""

    cause: RootCause
    because: str  # "CODE: what that part proves"


@dataclass(frozen=True)
class EntryHint:
    """Where a live diagnosis should start, and what the text predicts it will find there.

    `expect(layer)` says what a probe of that layer should show if the text still describes the
    situation; `judge` and `compare` turn a live result into agreement or disagreement, so the
    verdict can say "the text says refused, the port answers now: the service came back".
    """

    start_layer: Layer | None
    failed_layer: Layer | None
    passed_layers: tuple[Layer, ...]
    agrees_with: tuple[RootCause, ...]
    disagrees_with: tuple[RootCause, ...]

    def expect(self, layer: Layer) -> Expectation:
        if layer == self.failed_layer:
            return Expectation.FAIL
        if layer in self.passed_layers:
            return Expectation.PASS
        return Expectation.UNKNOWN

    def judge(self, layer: Layer, live_passed: bool) -> Agreement:
        """Compare one live probe result with the text's prediction for that layer."""
        expected = self.expect(layer)
        if expected is Expectation.UNKNOWN:
            return Agreement.UNRELATED
        agrees = (expected is Expectation.PASS) == live_passed
        return Agreement.AGREES if agrees else Agreement.DISAGREES

    def compare(self, live: RootCause) -> Agreement:
        """Compare the live verdict with the text: OK or an excluded cause disagrees."""
        if live in self.agrees_with:
            return Agreement.AGREES
        if live is RootCause.OK or live in self.disagrees_with:
            return Agreement.DISAGREES
        return Agreement.UNRELATED

    def to_json(self) -> dict[str, Any]:
        return {
            "start_layer": self.start_layer.value if self.start_layer else None,
            "failed_layer": self.failed_layer.value if self.failed_layer else None,
            "passed_layers": [layer.value for layer in self.passed_layers],
            "agrees_with": [cause.value for cause in self.agrees_with],
            "disagrees_with": [cause.value for cause in self.disagrees_with],
        }


@dataclass(frozen=True)
class Explanation:
    """Everything one reading of an error text found. Empty `recognised` means nothing known."""

    recognised: tuple[Recognised, ...]
    layer: Layer | None
    candidates: tuple[Candidate, ...]
    ruled_out: tuple[RuledOut, ...]
    next_checks: tuple[str, ...]
    facts: Mapping[str, str] = field(default_factory=dict)  # host, port, instance, database, user
    notes: tuple[str, ...] = ()  # about the input itself: truncated, re-encoded, conflicts
    omitted: int = 0  # recognised parts left out of `recognised` to keep the output short
    passed_layers: tuple[Layer, ...] = ()  # layers the text proves worked

    @property
    def found(self) -> bool:
        return bool(self.recognised)

    @property
    def hint(self) -> EntryHint:
        return EntryHint(
            start_layer=self.layer,
            failed_layer=self.layer,
            passed_layers=tuple(p for p in self.passed_layers if p != self.layer),
            agrees_with=tuple(c.cause for c in self.candidates),
            disagrees_with=tuple(r.cause for r in self.ruled_out),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "recognised": [item.to_json() for item in self.recognised],
            "layer": self.layer.value if self.layer else None,
            "candidates": [c.cause.value for c in self.candidates],
            "ruled_out": [r.cause.value for r in self.ruled_out],
            "next_checks": list(self.next_checks),
            "why": {
                "candidates": {c.cause.value: list(c.because) for c in self.candidates},
                "ruled_out": {r.cause.value: r.because for r in self.ruled_out},
            },
            "facts": dict(self.facts),
            "entry_hint": self.hint.to_json(),
            "notes": list(self.notes),
            "omitted": self.omitted,
        }


@dataclass(frozen=True)
class ErrorReading:
    """The error text the person saw, as the verdict keeps it: what `explain` made of it
    (already scrubbed of secrets) and whether the live diagnosis agrees."""

    explanation: Mapping[str, Any]
    agreement: Agreement | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.explanation,
            "agreement": self.agreement.value if self.agreement is not None else None,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ErrorReading:
        value = document.get("agreement")
        agreements = {a.value: a for a in Agreement}
        return cls(
            explanation={k: v for k, v in document.items() if k != "agreement"},
            agreement=agreements.get(str(value)) if value is not None else None,
        )
