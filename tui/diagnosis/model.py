"""The shapes the engine, the tree, the wizard and the transcript share.

A tree is a set of `Step`s. Each step runs an action (probes, or a question put to the person)
that returns an `Observation` naming one of the step's declared outcomes; the outcome leads to
the next step (`Next`) or to a verdict (`Conclude`). Everything a person sees later (the wizard's
path, `check --json`, the transcript) is built from the `StepRecord`s the engine writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.diagnosis.vocabulary import RootCause

if TYPE_CHECKING:
    from tui.diagnosis.context import Context

Json = Any  # JSON-safe values: str, int, float, bool, None, lists and dicts of those


class Status(StrEnum):
    """How a step went, as `check --json` reports it."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class Hop(StrEnum):
    """The hops of a connection's path, drawn left to right in the path picture."""

    CLIENT = "client"
    NAME = "name resolution"
    HOST = "host"
    BROWSER = "Browser (UDP 1434)"
    PORT = "TCP port"
    SERVER = "SQL Server"
    TLS = "TLS"
    LOGIN = "login"


@dataclass(frozen=True)
class Observation:
    """What an action found: the outcome it chose and the evidence behind it."""

    outcome: str
    status: Status
    summary: str
    evidence: Mapping[str, Json] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)  # merged into the context


@dataclass(frozen=True)
class Next:
    """Go on with another step."""

    step: str


@dataclass(frozen=True)
class Conclude:
    """Stop with a verdict. `summary` is a template filled from the context's facts."""

    root_cause: RootCause
    summary: str
    fixes: tuple[str, ...] = ()


Action = Callable[["Context"], Awaitable[Observation]]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """A step that needs a person. `check` answers from a flag or `default(context)`."""

    prompt: str
    choices: tuple[Choice, ...]
    flag: str  # the `check` option that answers it, for the help text
    default: Callable[[Context], str]


@dataclass(frozen=True)
class Step:
    """One node of the tree."""

    id: str
    title: str
    why: str  # for a junior admin: why this step matters
    source: str  # the checklist item or triage question it comes from
    hop: Hop
    outcomes: Mapping[str, Next | Conclude]
    action: Action | None = None
    question: Question | None = None


@dataclass(frozen=True)
class Command:
    """One exact command of a fix, for one platform."""

    platform: str  # windows-cmd, powershell, linux, macos, tsql, gui, client
    label: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"platform": self.platform, "label": self.label, "text": self.text}


@dataclass(frozen=True)
class Fix:
    """A fix from the catalog with the target's values filled in."""

    id: str
    title: str
    why: str
    commands: tuple[Command, ...]
    risk: str | None = None

    def to_json(self) -> dict[str, Json]:
        document: dict[str, Json] = {
            "id": self.id,
            "title": self.title,
            "why": self.why,
            "commands": [command.to_json() for command in self.commands],
        }
        if self.risk:
            document["risk"] = self.risk
        return document


@dataclass(frozen=True)
class StepRecord:
    """What happened at one step: the transcript's unit."""

    id: str
    title: str
    hop: Hop
    status: Status
    summary: str
    outcome: str
    decision: str  # "next: tcp" or "verdict: PORT_REFUSED"
    evidence: Mapping[str, Json]
    elapsed_ms: float
    answer: str | None = None

    def to_json(self) -> dict[str, Json]:
        document: dict[str, Json] = {
            "id": self.id,
            "title": self.title,
            "hop": self.hop.value,
            "status": self.status.value,
            "summary": self.summary,
            "outcome": self.outcome,
            "decision": self.decision,
            "evidence": dict(self.evidence),
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
        if self.answer is not None:
            document["answer"] = self.answer
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Json]) -> StepRecord:
        """Read back what `to_json` wrote (a transcript's step); unknown hops read as client."""
        hop = str(document.get("hop", Hop.CLIENT.value))
        status = str(document.get("status", Status.SKIP.value))
        evidence = document.get("evidence")
        return cls(
            id=str(document.get("id", "")),
            title=str(document.get("title", "")),
            hop=Hop(hop) if hop in {h.value for h in Hop} else Hop.CLIENT,
            status=Status(status) if status in {s.value for s in Status} else Status.SKIP,
            summary=str(document.get("summary", "")),
            outcome=str(document.get("outcome", "")),
            decision=str(document.get("decision", "")),
            evidence=evidence if isinstance(evidence, dict) else {},
            elapsed_ms=float(document.get("elapsed_ms") or 0.0),
            answer=None if document.get("answer") is None else str(document.get("answer")),
        )


@dataclass(frozen=True)
class Verdict:
    root_cause: RootCause
    summary: str
    fixes: tuple[Fix, ...]
    step: str  # the step that concluded

    def to_json(self) -> dict[str, Json]:
        return {
            "root_cause": self.root_cause.value,
            "summary": self.summary,
            "fixes": [fix.to_json() for fix in self.fixes],
        }


# Events the engine emits as it walks, for the wizard's live view and the transcript journal.


@dataclass(frozen=True)
class StepStarted:
    step: str
    title: str
    why: str


@dataclass(frozen=True)
class ProbeStarted:
    step: str
    probe: str
    detail: str


@dataclass(frozen=True)
class ProbeFinished:
    step: str
    probe: str
    summary: str
    elapsed_ms: float


@dataclass(frozen=True)
class StepFinished:
    record: StepRecord


@dataclass(frozen=True)
class VerdictReached:
    verdict: Verdict


Event = StepStarted | ProbeStarted | ProbeFinished | StepFinished | VerdictReached
