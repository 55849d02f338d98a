"""One root cause in one place, typed facts between steps.

The cause registry is where every root cause is defined: the README's table, the meanings,
`explain`'s layers and the path picture come from it, and a throwaway cause added through it
and one step shows up in `check --json`, the Markdown report and the wizard's verdict. The
tree's verdict templates name typed facts, and every fact they name is proven recorded on every
path that reaches them; every fix placeholder is a field of `FixValues`.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

import pytest

from tests.netutil import closed_port, random_loopback
from tests.wizard_helpers import shown, to_verdict
from tui.app import make_app
from tui.commands.check import CheckOptions, run_check
from tui.engine.context import Context
from tui.engine.facts import Fact, Run, field_names, placeholders
from tui.engine.model import Conclude, Next, Observation, Status, Step
from tui.engine.walk import Tree
from tui.knowledge.causes import (
    CAUSE_LAYERS,
    CAUSES,
    MEANINGS,
    REGISTRY,
    Cause,
    Hop,
    Layer,
    RootCause,
    register,
    unregister,
)
from tui.knowledge.explain.catalog import default_catalog
from tui.knowledge.fixes.catalog import CATALOG
from tui.knowledge.fixes.values import ALWAYS_KNOWN, FixValues
from tui.render.markdown import render as to_markdown
from tui.render.path import HopMark, hop_states
from tui.steps import facts as step_facts
from tui.steps.ids import S
from tui.steps.tcp import TcpOutcome
from tui.steps.tree import STEPS, TREE

README = Path(__file__).resolve().parent.parent / "README.md"

# -- the registry -----------------------------------------------------------------------------


def test_every_root_cause_is_registered_once_with_its_meaning_and_layer() -> None:
    assert [cause.code for cause in CAUSES] == list(RootCause)
    assert set(MEANINGS) == set(RootCause)
    for cause in CAUSES:
        assert cause.meaning and cause.meaning == cause.meaning.strip(), cause.code
        assert MEANINGS[cause.code] == cause.meaning
        if cause.layer is not None:
            assert CAUSE_LAYERS[cause.code] is cause.layer
        if cause.code is not RootCause.OK:
            assert cause.hop is not None, cause.code


def _readme_table() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Root causes") :]
    section = section[: section.index("\n## ", 4)]
    rows = re.findall(r"^\| ([A-Z_]+) \| (.+?) \|$", section, flags=re.MULTILINE)
    return [(code, meaning) for code, meaning in rows]


def test_the_readme_root_cause_table_is_the_registry() -> None:
    assert _readme_table() == [(cause.code.value, cause.meaning) for cause in CAUSES]


def test_explain_names_only_registered_causes() -> None:
    for entry in default_catalog().entries:
        for cause in (*entry.causes, *entry.rules_out):
            assert cause in REGISTRY, (entry.id, cause)
        assert not set(entry.causes) & set(entry.rules_out), entry.id


def test_every_verdict_of_the_tree_fails_at_or_before_the_hop_of_its_step() -> None:
    """The path picture marks the cause's own hop (registry): a step concludes a cause of its
    own hop or of one before it (a login that fails in TLS), never one further on."""
    order = list(Hop)
    for step in TREE.steps.values():
        for outcome in step.outcomes.values():
            if isinstance(outcome, Conclude) and outcome.root_cause is not RootCause.OK:
                hop = REGISTRY[outcome.root_cause].hop
                assert hop is not None
                assert order.index(hop) <= order.index(step.hop) or hop is Hop.HOST, (
                    step.id,
                    outcome.root_cause,
                )


# -- typed facts --------------------------------------------------------------------------------


def _fact_kinds() -> dict[str, type[Fact]]:
    kinds: dict[str, type[Fact]] = {Run.key: Run}
    for _, value in inspect.getmembers(step_facts, inspect.isclass):
        if issubclass(value, Fact) and value is not Fact:
            kind: type[Fact] = value
            assert kind.key not in kinds, kind.key
            kinds[kind.key] = kind
    return kinds


def _entry_facts() -> dict[str, frozenset[type[Fact]]]:
    """For each step, the facts recorded on every path that reaches it (a DAG: each step's set
    is the intersection over the outcomes leading to it)."""
    incoming: dict[str, list[frozenset[type[Fact]]]] = {}
    entry: dict[str, frozenset[type[Fact]]] = {TREE.first: frozenset({Run})}
    order = [step.id for step in STEPS]  # the tree lists its steps in walking order
    for step_id in order:
        if step_id != TREE.first:
            sets = incoming.get(step_id)
            assert sets, f"{step_id} is not reached"
            entry[step_id] = frozenset.intersection(*sets)
        step = TREE[step_id]
        for value, outcome in step.outcomes.items():
            if isinstance(outcome, Next):
                assert order.index(outcome.step) > order.index(step_id), "listed out of order"
                given = frozenset(step.gives.get(value, ()))
                incoming.setdefault(outcome.step, []).append(entry[step_id] | given)
    return entry


def test_every_fact_a_verdict_names_is_recorded_on_every_path_to_it() -> None:
    kinds = _fact_kinds()
    entry = _entry_facts()
    checked = 0
    for step in TREE.steps.values():
        for value, outcome in step.outcomes.items():
            if not isinstance(outcome, Conclude):
                continue
            recorded = entry[step.id] | frozenset(step.gives.get(value, ()))
            for name in placeholders(outcome.summary):
                key, _, attribute = name.partition(".")
                assert key in kinds, (step.id, value, name)
                assert attribute in field_names(kinds[key]), (step.id, value, name)
                assert kinds[key] in recorded, f"{step.id}/{value}: '{{{name}}}' may be missing"
                checked += 1
    assert checked > 40


def test_a_step_records_what_it_declares_for_each_outcome() -> None:
    for step in TREE.steps.values():
        declared = set(step.outcomes)
        assert set(step.gives) <= declared, step.id
        for kinds in step.gives.values():
            assert not set(kinds) & set(step.may_give), step.id


def test_every_fix_placeholder_is_a_field_of_fix_values() -> None:
    fields = {f.name for f in dataclasses.fields(FixValues)}
    for fix in CATALOG:
        for text in (fix.title, fix.why, *(c.text for c in fix.commands)):
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            assert names <= fields, (fix.id, names - fields)


def test_a_title_or_reason_needing_an_unknown_value_has_words_without_it() -> None:
    """No silent '(unknown)': a title naming a value a target may lack says another title."""
    for fix in CATALOG:
        for text, fallback in ((fix.title, fix.title_unknown), (fix.why, fix.why_unknown)):
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            if names - ALWAYS_KNOWN:
                assert fallback, (fix.id, text)
                assert not {n for _, n, _, _ in string.Formatter().parse(fallback) if n}


def test_fix_values_reject_a_name_that_is_not_a_field() -> None:
    from tui.target import parse_target

    with pytest.raises(TypeError, match="no field"):
        FixValues.of(parse_target("db1"), prot=1433)


# -- a throwaway root cause, through the registry and one step ----------------------------------


class Throwaway(StrEnum):
    KNOCKED = "KNOCKED"


@dataclass(frozen=True)
class Knock(Fact):
    key: ClassVar[str] = "knock"
    detail: str


async def _knock(context: Context) -> Observation:
    """The throwaway step: it only says what the TCP step already saw."""
    return Observation(
        "knocked",
        Status.FAIL,
        "knocked",
        {"knocked": True},
        facts=(Knock("nobody opened"),),
    )


@pytest.fixture
def knocked_tree(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tree]:
    register(
        Cause(
            Throwaway.KNOCKED,  # type: ignore[arg-type]
            "a throwaway cause that only tests add",
            hop=Hop.PORT,
            layer=Layer.TCP,
            fixes=("connect-with-port",),
        )
    )
    knock = Step(
        id="knock",
        title="Knock once more",
        why="A throwaway step of a test.",
        source="test_registry",
        hop=Hop.PORT,
        action=_knock,
        outcomes={
            "knocked": Conclude(
                Throwaway.KNOCKED,  # type: ignore[arg-type]
                "{endpoint.address} port {endpoint.port}: {knock.detail}.",
            )
        },
        gives={"knocked": (Knock,)},
    )
    tcp = TREE[S.TCP]
    outcomes = {**tcp.outcomes, TcpOutcome.REFUSED: Next("knock")}
    steps = {**TREE.steps, S.TCP: dataclasses.replace(tcp, outcomes=outcomes), "knock": knock}
    tree = dataclasses.replace(TREE, steps=steps)
    monkeypatch.setattr("tui.run.TREE", tree)
    try:
        yield tree
    finally:
        unregister(Throwaway.KNOCKED)  # type: ignore[arg-type]


async def test_a_throwaway_cause_reaches_json_markdown_and_the_wizard(
    knocked_tree: Tree, tmp_path: Path
) -> None:
    address = random_loopback()
    port = closed_port(address)
    target = f"{address},{port}"
    out = io.StringIO()
    code = await _in_thread(lambda: run_check(CheckOptions(target, output="json"), out))
    document = json.loads(out.getvalue())
    assert code == 1
    assert document["root_cause"] == "KNOCKED"
    assert document["summary"] == f"{address} port {port}: nobody opened."
    assert [fix["id"] for fix in document["fixes"]] == ["connect-with-port"]
    assert document["steps"][-1]["id"] == "knock"

    from tui.engine.walk import Diagnosis

    diagnosis = Diagnosis.from_json(document)
    markdown = to_markdown(diagnosis)
    assert "`KNOCKED`" in markdown and "nobody opened" in markdown
    states = hop_states(diagnosis.steps, diagnosis.verdict.root_cause)
    assert next(s for s in states if s.hop is Hop.PORT).mark is HopMark.FAILED

    app = make_app(target, sessions_dir=tmp_path, show_timings=False, timeout=1, tree=knocked_tree)
    async with app.run_test(size=(100, 30)) as pilot:
        verdict = await to_verdict(pilot, app)
        assert "KNOCKED" in shown(verdict, "#cause")
        assert "nobody opened" in shown(verdict, "#summary")


async def _in_thread(call):  # run_check starts its own event loop
    import asyncio

    return await asyncio.to_thread(call)
