"""The engine: walks a tree of `Step`s from the first one to a verdict.

The same walk serves the wizard (which passes an `Asker` and listens to events) and `check`
(which answers questions from flags and defaults). The walk's length is bounded by the tree:
steps cannot repeat, so the worst case is the longest chain of probe timeouts.
"""

from __future__ import annotations

import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tui.diagnosis.context import Context
from tui.diagnosis.error_join import agreement_json, agreement_note
from tui.diagnosis.fixes import render_fixes
from tui.diagnosis.model import (
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
from tui.target import Target

UNKNOWN = "(unknown)"


class TreeError(RuntimeError):
    """The tree itself is wrong (an undeclared outcome, a missing step): a bug, not a finding."""


@dataclass(frozen=True)
class Tree:
    steps: Mapping[str, Step]
    first: str

    def __getitem__(self, step_id: str) -> Step:
        try:
            return self.steps[step_id]
        except KeyError:
            raise TreeError(f"no step '{step_id}' in the tree") from None


@dataclass(frozen=True)
class Diagnosis:
    """A finished walk: the path taken and the verdict it reached."""

    target: Target
    steps: tuple[StepRecord, ...]
    verdict: Verdict
    elapsed_ms: float
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The `check --json` contract (design.md): secrets never appear."""
        document = {
            "target": self.target.to_json(),
            "root_cause": self.verdict.root_cause.value,
            "summary": self.verdict.summary,
            "steps": [record.to_json() for record in self.steps],
            "fixes": [fix.to_json() for fix in self.verdict.fixes],
            "clients": list(self.facts.get("clients", [])),  # what each driver would do
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
        error = agreement_json(self.verdict.root_cause, dict(self.facts))
        if error is not None:
            document["error_text"] = error
        return document


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return UNKNOWN


def fill(template: str, facts: Mapping[str, Any]) -> str:
    """Fill `{name}` placeholders from facts; a missing fact reads '(unknown)'."""
    return string.Formatter().vformat(template, (), _Facts(facts))


async def diagnose(tree: Tree, context: Context) -> Diagnosis:
    """Walk the tree for `context.target` and return the diagnosis."""
    started = time.perf_counter()
    waited = 0.0  # time a person spent answering: not part of the time to verdict
    records: list[StepRecord] = []
    step = tree[tree.first]
    visited: set[str] = set()
    try:
        while True:
            if step.id in visited:
                raise TreeError(f"step '{step.id}' reached twice: the tree has a cycle")
            visited.add(step.id)
            context.step_id = step.id
            context.emit(StepStarted(step=step.id, title=step.title, why=step.why))
            step_started = time.perf_counter()
            observation, answer = await _observe(step, context)
            if step.question is not None and context.asker is not None:
                waited += time.perf_counter() - step_started
            elapsed = (time.perf_counter() - step_started) * 1000
            outcome = step.outcomes.get(observation.outcome)
            if outcome is None:
                raise TreeError(
                    f"step '{step.id}' returned outcome '{observation.outcome}', "
                    f"which it does not declare"
                )
            context.facts.update(observation.facts)
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
                outcome=observation.outcome,
                decision=decision,
                evidence=observation.evidence,
                elapsed_ms=elapsed,
                answer=answer,
            )
            records.append(record)
            context.emit(StepFinished(record=record))
            if isinstance(outcome, Next):
                step = tree[outcome.step]
                continue
            verdict = conclude(outcome, step.id, context)
            context.emit(VerdictReached(verdict=verdict))
            return Diagnosis(
                target=context.target,
                steps=tuple(records),
                verdict=verdict,
                elapsed_ms=(time.perf_counter() - started - waited) * 1000,
                facts=dict(context.facts),
            )
    finally:
        await context.close()


def conclude(outcome: Conclude, step_id: str, context: Context) -> Verdict:
    facts = context.facts
    summary = fill(outcome.summary, facts)
    extra = facts.get("verdict_notes")
    if extra:
        sentences = [str(note).strip() for note in extra if str(note).strip()]
        sentences = [note[0].upper() + note[1:] for note in sentences]
        summary = " ".join([summary, *(n if n[-1] in ".!?" else n + "." for n in sentences)])
    joined = agreement_note(outcome.root_cause, facts)
    if joined:
        summary = f"{summary} {joined}"
    fix_ids = tuple(dict.fromkeys((*outcome.fixes, *facts.get("extra_fixes", ()))))
    return Verdict(
        root_cause=outcome.root_cause,
        summary=summary,
        fixes=render_fixes(fix_ids, context.target, facts),
        step=step_id,
    )


async def _observe(step: Step, context: Context) -> tuple[Observation, str | None]:
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
        observation = Observation(
            outcome=answer,
            status=Status.PASS,
            summary=f"{question.prompt} {labels[answer]}",
            evidence={"answer": answer},
            facts={f"answer_{step.id}": answer},
        )
        return observation, answer
    if step.action is None:
        raise TreeError(f"step '{step.id}' has neither an action nor a question")
    return await step.action(context), None
