"""The engine: walks a tree of `Step`s from the first one to a verdict.

The same walk serves the wizard (which passes an `Asker` and listens to events), `check` and
`scan` (which answer questions from flags and defaults). The walk's length is bounded by the
tree: steps cannot repeat, so the worst case is the longest chain of probe timeouts, and the
engine holds the walk to it (`Tree.longest_chain`): the time the actions take is one deadline,
and a step still running when it passes ends the walk with a verdict that says so (the time a
person takes to answer is not counted). What the verdict says beyond its template (which fixes,
the clients table, the error text compared) is the tree's own `conclude`: the engine knows
nothing of any particular step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from tui.engine.context import Context
from tui.engine.facts import FactError, fill
from tui.engine.model import (
    Conclude,
    Next,
    Observation,
    Status,
    Step,
    StepFinished,
    StepRecord,
    StepStarted,
    Verdict,
    VerdictReached,
)
from tui.knowledge.causes import REGISTRY, UNANSWERED
from tui.knowledge.fixes.catalog import render_fixes
from tui.knowledge.fixes.values import FixValues
from tui.target import Target

STEP_GRACE: Final = 1.0  # seconds each action step may take beyond its declared share


class TreeError(RuntimeError):
    """The tree itself is wrong (an undeclared outcome, a missing step or fact): a bug, not a
    finding."""


class _OutOfTime(Exception):
    """The walk's deadline passed while a step's action was still running."""


class Concluder(Protocol):
    """Turns the outcome a walk ended on into the verdict."""

    def __call__(self, outcome: Conclude, step: Step, context: Context) -> Verdict: ...


def plain_verdict(outcome: Conclude, step: Step, context: Context) -> Verdict:
    """The summary filled from the facts, the notes after it, the fixes with the target's
    values: what a tree with no conclusion of its own gets."""
    return build_verdict(outcome, step, context, FixValues.of(context.target))


def build_verdict(
    outcome: Conclude,
    step: Step,
    context: Context,
    values: FixValues,
    *,
    closing: str | None = None,
    **extra: Any,
) -> Verdict:
    """The verdict's summary (template, then every note in the order found, then `closing`)
    and its fixes (the outcome's or the cause's own, then the concluding step's, then every
    earlier step's), rendered with `values`."""
    try:
        summary = fill(outcome.summary, context.facts.namespace())
    except FactError as error:
        raise TreeError(f"step '{step.id}': {error}") from None
    sentences = [note.text.strip() for note in context.notes if note.text.strip()]
    if closing:
        sentences.append(closing.strip())
    for sentence in sentences:
        sentence = sentence[0].upper() + sentence[1:]
        summary = f"{summary} {sentence if sentence[-1] in '.!?' else sentence + '.'}"
    return Verdict(
        root_cause=outcome.root_cause,
        summary=summary,
        fixes=render_fixes(fix_ids(outcome, step, context), values),
        step=step.id,
        **extra,
    )


def fix_ids(outcome: Conclude, step: Step, context: Context) -> tuple[str, ...]:
    """Most specific first: the outcome's (or its cause's), the concluding step's, the rest."""
    own = outcome.fixes if outcome.fixes is not None else REGISTRY[outcome.root_cause].fixes
    mine = [note.text for note in context.fixes if note.step == step.id]
    earlier = [note.text for note in context.fixes if note.step != step.id]
    return tuple(dict.fromkeys((*own, *mine, *earlier)))


@dataclass(frozen=True)
class Tree:
    steps: Mapping[str, Step]
    first: str
    conclude: Concluder = plain_verdict

    def __getitem__(self, step_id: str) -> Step:
        try:
            return self.steps[step_id]
        except KeyError:
            raise TreeError(f"no step '{step_id}' in the tree") from None

    def longest_chain(self, timeout: float) -> float:
        """Seconds the actions of the slowest path through the tree may take, each step its
        declared share (`Step.timeouts` probe timeouts plus `Step.seconds`) and a grace;
        questions take none (a person's time is theirs)."""
        known: dict[str, float] = {}

        def worst(step_id: str, path: tuple[str, ...]) -> float:
            if step_id in path:
                raise TreeError(f"step '{step_id}' reached twice: the tree has a cycle")
            if step_id not in known:
                step = self[step_id]
                own = 0.0
                if step.action is not None:
                    own = step.timeouts * timeout + step.seconds + STEP_GRACE
                after = (
                    worst(outcome.step, (*path, step_id))
                    for outcome in step.outcomes.values()
                    if isinstance(outcome, Next)
                )
                known[step_id] = own + max(after, default=0.0)
            return known[step_id]

        return worst(self.first, ())


@dataclass(frozen=True)
class Diagnosis:
    """A finished walk: the path taken and the verdict it reached. Rendered alike live (`check`,
    `scan`, the wizard) and from a transcript (`from_json`)."""

    target: Target
    steps: tuple[StepRecord, ...]
    verdict: Verdict
    elapsed_ms: float
    started: str | None = field(default=None, compare=False)  # a transcript's start time

    def to_json(self) -> dict[str, Any]:
        """The `check --json` contract (design.md): secrets never appear."""
        verdict = self.verdict
        document: dict[str, Any] = {
            "target": self.target.to_json(),
            "root_cause": verdict.root_cause.value,
            "summary": verdict.summary,
            "steps": [record.to_json() for record in self.steps],
            "fixes": [fix.to_json() for fix in verdict.fixes],
            "clients": [row.to_json() for row in verdict.clients],  # what each driver would do
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
        if verdict.error_reading is not None:
            document["error_text"] = verdict.error_reading.to_json()
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Diagnosis:
        """Read back what `to_json` wrote."""
        target = document.get("target")
        steps = document.get("steps")
        verdict = {**document, "step": steps[-1].get("id", "") if steps else ""}
        return cls(
            target=Target.from_json(target if isinstance(target, dict) else {}),
            steps=tuple(StepRecord.from_json(s) for s in steps if isinstance(s, dict))
            if isinstance(steps, list)
            else (),
            verdict=Verdict.from_json(verdict),
            elapsed_ms=float(document.get("elapsed_ms") or 0.0),
        )


async def diagnose(tree: Tree, context: Context) -> Diagnosis:
    """Walk the tree for `context.target` and return the diagnosis."""
    started = time.perf_counter()
    waited = 0.0  # time a person spent answering: not part of the time to verdict
    records: list[StepRecord] = []
    step = tree[tree.first]
    visited: set[str] = set()
    budget = tree.longest_chain(context.timeout)
    spent = 0.0  # seconds the actions took so far: the walk's deadline counts only these
    try:
        while True:
            if step.id in visited:
                raise TreeError(f"step '{step.id}' reached twice: the tree has a cycle")
            visited.add(step.id)
            context.step_id = step.id
            context.emit(StepStarted(step=step.id, title=step.title, why=step.why))
            step_started = time.perf_counter()
            try:
                observation, answer = await _observe(step, context, budget - spent)
            except _OutOfTime:
                return _out_of_time(step, context, records, budget, started, waited)
            if step.question is not None:
                if context.asker is not None:
                    waited += time.perf_counter() - step_started
            else:
                spent += time.perf_counter() - step_started
            elapsed = (time.perf_counter() - step_started) * 1000
            outcome = step.outcomes.get(observation.outcome)
            if outcome is None:
                raise TreeError(
                    f"step '{step.id}' returned outcome '{observation.outcome}', "
                    f"which it does not declare"
                )
            _check_gives(step, observation)
            try:
                context.record(step.id, observation)
            except FactError as error:
                raise TreeError(f"step '{step.id}': {error}") from None
            decision = (
                f"next: {outcome.step}"
                if isinstance(outcome, Next)
                else f"verdict: {outcome.root_cause.value}"
            )
            record = StepRecord(
                id=step.id,
                title=step.title,
                hop=step.hop,
                status=observation.status,
                summary=observation.summary,
                outcome=str(observation.outcome),
                decision=decision,
                evidence=observation.evidence,
                elapsed_ms=elapsed,
                answer=answer,
                host_answered=observation.host_answered,
            )
            records.append(record)
            context.emit(StepFinished(record=record))
            if isinstance(outcome, Next):
                step = tree[outcome.step]
                continue
            verdict = tree.conclude(outcome, step, context)
            return _concluded(context, records, verdict, started, waited)
    finally:
        await context.close()


def _concluded(
    context: Context, records: list[StepRecord], verdict: Verdict, started: float, waited: float
) -> Diagnosis:
    context.emit(VerdictReached(verdict=verdict))
    return Diagnosis(
        target=context.target,
        steps=tuple(records),
        verdict=verdict,
        elapsed_ms=(time.perf_counter() - started - waited) * 1000,
    )


def _out_of_time(
    step: Step,
    context: Context,
    records: list[StepRecord],
    budget: float,
    started: float,
    waited: float,
) -> Diagnosis:
    """The walk's deadline passed during `step`: the verdict says so, and what it means at
    that hop. Every probe ends within its own timeout, so this takes a probe that did not."""
    cause = UNANSWERED.get(step.hop)
    if cause is None:
        raise TreeError(
            f"step '{step.id}' ran past the diagnosis's time limit ({budget:g} s) although it "
            "asks no server: a bug"
        )
    summary = (
        (
            f"sqlreach stopped this diagnosis: step '{step.title}' was still waiting when the "
            f"diagnosis's time limit ran out ({budget:g} s, the longest chain of probe timeouts "
            f"for a {context.timeout:g} s timeout). Read that as: {REGISTRY[cause].meaning}."
        )
        .replace("{", "{{")
        .replace("}", "}}")
    )
    outcome = Conclude(cause, summary)
    record = StepRecord(
        id=step.id,
        title=step.title,
        hop=step.hop,
        status=Status.FAIL,
        summary=f"still waiting when the diagnosis's time limit ({budget:g} s) ran out",
        outcome="out-of-time",
        decision=f"verdict: {cause.value}",
        evidence={"time_limit_s": round(budget, 3), "timeout_s": context.timeout},
        elapsed_ms=0.0,
    )
    records.append(record)
    context.emit(StepFinished(record=record))
    return _concluded(context, records, plain_verdict(outcome, step, context), started, waited)


def _check_gives(step: Step, observation: Observation) -> None:
    """A step records what it declares for the outcome it chose: all of `gives`, and
    nothing beyond `may_give`."""
    must = step.gives.get(observation.outcome, ())
    recorded = [type(fact) for fact in observation.facts]
    missing = [kind.__name__ for kind in must if kind not in recorded]
    extra = [k.__name__ for k in recorded if k not in must and k not in step.may_give]
    if missing or extra:
        raise TreeError(
            f"step '{step.id}', outcome '{observation.outcome}': recorded {extra or 'nothing'} "
            f"it does not declare, missed {missing or 'nothing'} it promises"
        )


async def _observe(step: Step, context: Context, left: float) -> tuple[Observation, str | None]:
    if step.question is not None:
        question = step.question
        default = question.default(context)
        preset = context.answers.get(step.id)
        if preset is not None:
            answer = preset
        elif context.asker is not None:
            answer = await context.asker(step, question, default)
        else:
            answer = default
        labels = {choice.value: choice.label for choice in question.choices}
        if answer not in labels:
            raise TreeError(f"'{answer}' is not an answer to step '{step.id}'")
        context.answered[step.id] = answer
        observation = Observation(
            outcome=answer,
            status=Status.PASS,
            summary=f"{question.prompt} {labels[answer]}",
            evidence={"answer": answer},
            facts=question.facts(context) if question.facts is not None else (),
        )
        return observation, answer
    if step.action is None:
        raise TreeError(f"step '{step.id}' has neither an action nor a question")
    try:
        async with asyncio.timeout(max(left, 0.0)) as limit:
            return await step.action(context), None
    except TimeoutError:
        if limit.expired():
            raise _OutOfTime from None
        raise


__all__ = [
    "Concluder",
    "Diagnosis",
    "Tree",
    "TreeError",
    "build_verdict",
    "diagnose",
    "fill",
    "plain_verdict",
]
