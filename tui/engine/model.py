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
from typing import TYPE_CHECKING, Any, Final

from tui.engine.facts import Fact
from tui.knowledge.causes import REGISTRY, Hop, RootCause
from tui.knowledge.fixes.model import Fix

if TYPE_CHECKING:
    from tui.engine.context import Context
    from tui.knowledge.clients import ClientRow
    from tui.knowledge.explain.model import ErrorReading

Json = Any  # JSON-safe values: str, int, float, bool, None, lists and dicts of those


class Status(StrEnum):
    """How a step went, as `check --json` reports it."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Observation:
    """What an action found: the outcome it chose, the evidence behind it, and what it adds.

    `facts` are typed records later steps and the verdict read; `notes` (sentences for the
    verdict) and `fixes` (fix ids) are appended to the walk's lists, never replacing what an
    earlier step added. `host_answered` says whether the host itself answered (a refusal, a
    connection, a Browser answer) or was found unreachable, for the path picture's host hop.
    """

    outcome: str  # a member of the step's own outcome enum
    status: Status
    summary: str
    evidence: Mapping[str, Json] = field(default_factory=dict)
    facts: tuple[Fact, ...] = ()
    notes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    host_answered: bool | None = None


@dataclass(frozen=True)
class Next:
    """Go on with another step."""

    step: str


@dataclass(frozen=True)
class Conclude:
    """Stop with a verdict. `summary` is a template filled from the walk's typed facts
    (`{endpoint.address}`); `fixes` None takes the root cause's own from the cause registry."""

    root_cause: RootCause
    summary: str
    fixes: tuple[str, ...] | None = None


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
    facts: Callable[[Context], tuple[Fact, ...]] | None = None  # what the asking shows
    credentials: bool = False  # the wizard asks with its credentials form, not a list


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
    # The fact records each outcome always records, and those any outcome may record besides:
    # the engine holds every step to them, and a test proves from them that every fact a
    # verdict's template names was recorded on every path that reaches it.
    gives: Mapping[str, tuple[type[Fact], ...]] = field(default_factory=dict)
    may_give: tuple[type[Fact], ...] = ()
    # The most the action can spend, one probe after another: `timeouts` probe timeouts plus
    # `seconds` (drivers round timeouts up to whole seconds, threads get a grace). The walk's
    # deadline is the longest chain of these through the tree (`Tree.longest_chain`).
    timeouts: float = 0.0
    seconds: float = 0.0


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
    host_answered: bool | None = None

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
        if self.host_answered is not None:
            document["host_answered"] = self.host_answered
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
            host_answered=_host_answered(document),
        )


# Journals written before `host_answered` existed: what the Browser and TCP steps' outcomes said.
_LEGACY_HOST: Final[Mapping[str, bool]] = {
    "unreachable": False,
    "refused": True,
    "connected": True,
    "port": True,
    "no-tcp": True,
    "unknown-instance": True,
}


def _host_answered(document: Mapping[str, Json]) -> bool | None:
    value = document.get("host_answered")
    if isinstance(value, bool):
        return value
    if document.get("id") in ("tcp", "browser"):
        return _LEGACY_HOST.get(str(document.get("outcome")))
    return None


@dataclass(frozen=True)
class Verdict:
    """Where the walk ended: the root cause, the summary, the fixes, and what the person reads
    beside them (what each client would do; how the error text they saw compares)."""

    root_cause: RootCause
    summary: str
    fixes: tuple[Fix, ...]
    step: str  # the step that concluded
    clients: tuple[ClientRow, ...] = ()
    error_reading: ErrorReading | None = None

    def to_json(self) -> dict[str, Json]:
        document: dict[str, Json] = {
            "root_cause": self.root_cause.value,
            "summary": self.summary,
            "fixes": [fix.to_json() for fix in self.fixes],
            "step": self.step,
            "clients": [row.to_json() for row in self.clients],
        }
        if self.error_reading is not None:
            document["error_text"] = self.error_reading.to_json()
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Json]) -> Verdict:
        from tui.knowledge.clients import ClientRow
        from tui.knowledge.explain.model import ErrorReading

        code = str(document.get("root_cause", ""))
        fixes = document.get("fixes")
        clients = document.get("clients")
        error = document.get("error_text")
        return cls(
            root_cause=next((c for c in REGISTRY if c == code), RootCause.BAD_INPUT),
            summary=str(document.get("summary", "")),
            fixes=tuple(Fix.from_json(f) for f in fixes if isinstance(f, dict))
            if isinstance(fixes, list)
            else (),
            step=str(document.get("step", "")),
            clients=tuple(ClientRow.from_json(c) for c in clients if isinstance(c, dict))
            if isinstance(clients, list)
            else (),
            error_reading=ErrorReading.from_json(error) if isinstance(error, dict) else None,
        )


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
