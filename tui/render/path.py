"""The connection's path as a picture: each hop passed, failed, skipped or not reached.

People would rather look than read. The same `HopState` list is drawn as text in the terminal
and Markdown, and as SVG in the HTML export. A walk that followed a redirect (an Azure SQL
gateway, read-only routing) draws the second hop's name, port, server, TLS and login after the
first hop's; a walk without one draws only the first hop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tui.engine.model import Status, StepRecord
from tui.engine.walk import Diagnosis
from tui.knowledge.causes import (
    FIRST_HOPS,
    HOPS,
    REGISTRY,
    ROUTED_HOPS,
    ROUTED_TWIN,
    Hop,
    RootCause,
)
from tui.safe.sanitise import visible

ORDER: tuple[Hop, ...] = HOPS  # left to right, as the cause registry lists them


class HopMark(StrEnum):
    PASSED = "passed"
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_REACHED = "not reached"


MARK_TEXT: dict[HopMark, str] = {
    HopMark.PASSED: "ok",
    HopMark.WARNING: "warn",
    HopMark.FAILED: "FAIL",
    HopMark.SKIPPED: "--",
    HopMark.NOT_REACHED: "  ",
}

_RANK = {Status.FAIL: 3, Status.WARN: 2, Status.PASS: 1, Status.SKIP: 0}


@dataclass(frozen=True)
class HopState:
    hop: Hop
    mark: HopMark
    detail: str


def _host(records: Sequence[StepRecord]) -> tuple[HopMark, str] | None:
    """No step probes the host alone: what the Browser and TCP steps heard says whether it is
    up. A refusal (TCP reset or ICMP port unreachable) comes from the host itself."""
    for record in reversed(records):
        if record.host_answered is None:
            continue
        if not record.host_answered:
            return HopMark.FAILED, "no route to the host"
        if record.hop is Hop.BROWSER:
            return HopMark.PASSED, "the host answered (its Browser did)"
        if record.status is Status.FAIL:
            return HopMark.PASSED, "the host answered (with a refusal)"
        return HopMark.PASSED, "the host answered"
    return None


def hop_states(records: Sequence[StepRecord], cause: RootCause | None = None) -> list[HopState]:
    """One state per hop: the worst step status at that hop; hops after a failure not reached.
    With the verdict's root cause, the hop the cause registry says it fails at is marked
    failed even when a later step found it (a login that fails in TLS fails at TLS)."""
    by_hop: dict[Hop, list[StepRecord]] = {}
    for record in records:
        by_hop.setdefault(record.hop, []).append(record)
    routed = any(record.hop in ROUTED_HOPS for record in records)
    order = HOPS if routed else FIRST_HOPS
    reached = max((order.index(record.hop) for record in records), default=-1)
    failing = REGISTRY[cause].hop if cause is not None and cause in REGISTRY else None
    if failing is not None and records and records[-1].hop in ROUTED_HOPS:
        failing = ROUTED_TWIN.get(failing, records[-1].hop)  # the routed hop's own failure
    states: list[HopState] = []
    host = _host([record for record in records if record.hop not in ROUTED_HOPS])
    for index, hop in enumerate(order):
        hop_records = by_hop.get(hop, [])
        if hop is Hop.HOST and not hop_records and host is not None:
            states.append(HopState(hop, host[0], host[1]))
            continue
        if hop_records:
            worst = max(hop_records, key=lambda record: _RANK[record.status])
            mark = {
                Status.FAIL: HopMark.FAILED,
                Status.WARN: HopMark.WARNING,
                Status.PASS: HopMark.PASSED,
                Status.SKIP: HopMark.SKIPPED,
            }[worst.status]
            states.append(HopState(hop, mark, worst.summary))
        elif index < reached:
            states.append(HopState(hop, HopMark.SKIPPED, "not needed"))
        else:
            states.append(HopState(hop, HopMark.NOT_REACHED, "not reached"))
    if failing is not None and failing is not Hop.CLIENT and failing in order:
        at = order.index(failing)
        if states[at].mark is not HopMark.FAILED:
            detail = records[-1].summary if records else states[at].detail
            states[at] = HopState(failing, HopMark.FAILED, detail)
    return states


def states_of(diagnosis: Diagnosis) -> list[HopState]:
    """The hops of a finished diagnosis, its root cause's hop marked failed."""
    return hop_states(diagnosis.steps, diagnosis.verdict.root_cause)


def path_line(states: Sequence[HopState]) -> str:
    """One line: `client ok > name resolution ok > … > TCP port FAIL > SQL Server …`."""
    parts = []
    for state in states:
        mark = MARK_TEXT[state.mark].strip() or "…"
        parts.append(f"{state.hop.value} [{mark}]")
    return " > ".join(parts)


def path_table(states: Sequence[HopState], width: int = 100) -> list[str]:
    """One row per hop, each detail cut to the row (the verdict says it in full)."""
    rows = []
    name_width = max(len(state.hop.value) for state in states)
    for state in states:
        mark = MARK_TEXT[state.mark]
        detail = visible(state.detail)
        room = max(20, width - name_width - 10)
        if len(detail) > room:  # the verdict above says it in full
            detail = detail[: room - 1] + "…"
        rows.append(f"[{mark:<4}] {state.hop.value:<{name_width}}  {detail}")
    return rows
