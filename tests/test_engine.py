"""The engine's walk, on small trees whose actions are plain coroutines.

These test the walker (outcomes, questions, events, bounds, cancellation), not probes: probe
behaviour is tested against real listeners and the lab elsewhere.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import ClassVar

import pytest

from tui.engine.context import Context
from tui.engine.facts import Fact, FactError, fill
from tui.engine.model import (
    Choice,
    Conclude,
    Event,
    Next,
    Observation,
    ProbeFinished,
    ProbeStarted,
    Question,
    Status,
    Step,
    StepFinished,
    StepStarted,
    Verdict,
    VerdictReached,
)
from tui.engine.walk import Tree, TreeError, build_verdict, diagnose
from tui.knowledge.causes import Hop, RootCause
from tui.knowledge.fixes.values import FixValues
from tui.target import parse_target


@dataclass(frozen=True)
class Seen(Fact):
    """What the first test step saw."""

    key: ClassVar[str] = "seen"
    port: int


@dataclass(frozen=True)
class Where(Fact):
    key: ClassVar[str] = "where"
    host: str


def _observe(outcome: str, status: Status = Status.PASS, *facts: Fact):
    async def action(context: Context) -> Observation:
        return Observation(outcome, status, f"saw {outcome}", {"outcome": outcome}, facts)

    return action


def _conclude(outcome: Conclude, step: Step, context: Context) -> Verdict:
    """The fixes name the port the first step saw (a tree's own conclusion does that)."""
    seen = context.facts.maybe(Seen)
    values = FixValues.of(context.target, port=seen.port if seen else None)
    return build_verdict(outcome, step, context, values)


def _tree(first_outcome: str) -> Tree:
    return Tree(
        steps={
            "one": Step(
                id="one",
                title="First",
                why="because",
                source="checklist 1",
                hop=Hop.NAME,
                action=_observe(first_outcome, Status.PASS, Seen(port=1500)),
                gives={"go": (Seen,), "stop": (Seen,), "sideways": (Seen,)},
                outcomes={
                    "go": Next("two"),
                    "stop": Conclude(
                        RootCause.PORT_REFUSED,
                        "{where.host} refused {seen.port}",
                        ("start-engine-service",),
                    ),
                },
            ),
            "two": Step(
                id="two",
                title="Second",
                why="because",
                source="checklist 2",
                hop=Hop.PORT,
                question=Question(
                    prompt="Are you on the server?",
                    choices=(Choice("yes", "Yes"), Choice("no", "No")),
                    flag="--on-server",
                    default=lambda context: "no",
                ),
                outcomes={
                    "yes": Conclude(RootCause.OK, "fine on {seen.port}"),
                    "no": Conclude(
                        RootCause.PORT_FILTERED, "filtered at {seen.port}", ("open-firewall-tcp",)
                    ),
                },
            ),
        },
        first="one",
        conclude=_conclude,
    )


async def test_walk_reaches_verdict_with_filled_summary_and_fixes() -> None:
    target = parse_target("db1")
    context = Context(target, timeout=1.0)
    context.facts.add(Where("db1"))
    diagnosis = await diagnose(_tree("stop"), context)
    assert diagnosis.verdict.root_cause is RootCause.PORT_REFUSED
    assert diagnosis.verdict.summary == "db1 refused 1500"
    (fix,) = diagnosis.verdict.fixes
    assert fix.id == "start-engine-service"
    assert any(c.text == "net start MSSQLSERVER" for c in fix.commands)
    assert [r.id for r in diagnosis.steps] == ["one"]
    assert diagnosis.steps[0].decision == "verdict: PORT_REFUSED"


async def test_question_uses_default_then_preset_answer_then_asker() -> None:
    target = parse_target(r"db1\SALES")
    default = await diagnose(_tree("go"), Context(target, timeout=1.0))
    assert default.verdict.root_cause is RootCause.PORT_FILTERED
    assert default.steps[1].answer == "no"
    preset = await diagnose(_tree("go"), Context(target, timeout=1.0, answers={"two": "yes"}))
    assert preset.verdict.root_cause is RootCause.OK

    asked: list[str] = []

    async def asker(step: Step, question: Question, default: str) -> str:
        asked.append(f"{step.id}:{default}")
        return "yes"

    interactive = await diagnose(_tree("go"), Context(target, timeout=1.0, asker=asker))
    assert asked == ["two:no"]
    assert interactive.verdict.root_cause is RootCause.OK


async def test_filtered_fix_is_filled_with_the_named_instance_service() -> None:
    target = parse_target(r"db1\SALES")
    diagnosis = await diagnose(_tree("go"), Context(target, timeout=1.0))
    (fix,) = diagnosis.verdict.fixes
    texts = "\n".join(c.text for c in fix.commands)
    assert "localport=1500" in texts
    assert "SQL Server SALES TCP 1500" in texts


async def test_events_come_in_order() -> None:
    events: list[Event] = []
    await diagnose(_tree("go"), Context(parse_target("db1"), timeout=1.0, emit=events.append))
    kinds = [type(event) for event in events]
    assert kinds == [StepStarted, StepFinished, StepStarted, StepFinished, VerdictReached]


async def test_undeclared_outcome_is_a_tree_error() -> None:
    with pytest.raises(TreeError, match="does not declare"):
        await diagnose(_tree("sideways"), Context(parse_target("db1"), timeout=1.0))


async def test_cycle_is_detected() -> None:
    step = Step("loop", "Loop", "", "", Hop.NAME, {"again": Next("loop")}, _observe("again"))
    with pytest.raises(TreeError, match="cycle"):
        await diagnose(Tree({"loop": step}, "loop"), Context(parse_target("db1"), timeout=1.0))


async def test_probes_are_memoised_and_speculative_ones_cancelled() -> None:
    calls: list[str] = []
    cancelled = asyncio.Event()

    async def slow() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    async def quick() -> str:
        calls.append("quick")
        return "answer"

    async def action(context: Context) -> Observation:
        context.start(("slow",), slow)
        first = await context.probe(("quick",), "detail", quick)
        second = await context.probe(("quick",), "detail", quick)
        return Observation("done", Status.PASS, first + second)

    events: list[Event] = []
    tree = Tree(
        {"s": Step("s", "S", "", "", Hop.PORT, {"done": Conclude(RootCause.OK, "ok")}, action)}, "s"
    )
    started = time.perf_counter()
    result = await diagnose(tree, Context(parse_target("db1"), timeout=1.0, emit=events.append))
    assert time.perf_counter() - started < 5
    assert calls == ["quick"]
    assert result.steps[0].summary == "answeranswer"
    assert cancelled.is_set()
    assert sum(isinstance(e, ProbeStarted) for e in events) == 2
    assert sum(isinstance(e, ProbeFinished) for e in events) == 2


def test_fill_refuses_missing_facts() -> None:
    """No silent '(unknown)': a template naming a fact nobody recorded is a bug, and says so."""
    assert fill("{a.port} and {b.host}", {"a": Seen(1), "b": Where("db1")}) == "1 and db1"
    with pytest.raises(FactError, match="no step recorded 'b'"):
        fill("{a.port} and {b.host}", {"a": Seen(1)})
    with pytest.raises(FactError, match="has no 'name'"):
        fill("{a.name}", {"a": Seen(1)})


async def test_notes_and_fixes_of_every_step_reach_the_verdict() -> None:
    """Two steps that both add a note and a fix: the verdict has both, the concluding step's
    fixes first (before, the later step's replaced the earlier's, so a finding on the server
    vanished when the TLS step concluded)."""

    def adding(outcome: str, note: str, fix: str):
        async def action(context: Context) -> Observation:
            return Observation(outcome, Status.WARN, note, notes=(note,), fixes=(fix,))

        return action

    tree = Tree(
        {
            "server": Step(
                "server",
                "Server",
                "",
                "",
                Hop.CLIENT,
                {"done": Next("tls")},
                adding("done", "TCP/IP is disabled on this machine", "enable-tcp"),
            ),
            "tls": Step(
                "tls",
                "TLS",
                "",
                "",
                Hop.TLS,
                {"failed": Conclude(RootCause.TLS_FAILED, "TLS fails.", ())},
                adding("failed", "the certificate is self-signed", "provision-certificate"),
            ),
        },
        "server",
    )
    diagnosis = await diagnose(tree, Context(parse_target("db1"), timeout=1.0))
    verdict = diagnosis.verdict
    assert verdict.summary == (
        "TLS fails. TCP/IP is disabled on this machine. The certificate is self-signed."
    )
    assert [fix.id for fix in verdict.fixes] == ["provision-certificate", "enable-tcp"]


async def test_a_fact_recorded_twice_is_a_tree_error() -> None:
    async def twice(context: Context) -> Observation:
        return Observation("go", Status.PASS, "", facts=(Where("a"),))

    tree = Tree(
        {
            "a": Step("a", "A", "", "", Hop.NAME, {"go": Next("b")}, twice, gives={"go": (Where,)}),
            "b": Step(
                "b",
                "B",
                "",
                "",
                Hop.NAME,
                {"go": Conclude(RootCause.OK, "ok")},
                twice,
                gives={"go": (Where,)},
            ),
        },
        "a",
    )
    with pytest.raises(TreeError, match="recorded twice"):
        await diagnose(tree, Context(parse_target("db1"), timeout=1.0))
