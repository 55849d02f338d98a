"""Tree sanity: every step reachable, every outcome leads somewhere, every root cause reachable,
every fix referenced exists, every catalog fix used, and the texts a junior reads are there."""

from __future__ import annotations

import string

from tui.engine.model import Conclude, Next
from tui.knowledge import server_findings
from tui.knowledge.causes import MEANINGS, REGISTRY, RootCause
from tui.knowledge.fixes.catalog import CATALOG, catalog_ids
from tui.steps import login as actions_login
from tui.steps import routed as actions_routed
from tui.steps import tls as actions_tls
from tui.steps import transport as actions_transport
from tui.steps.tree import TREE

# Root causes a verdict of the tree reaches; BAD_INPUT is also reached before the tree, by the
# parser. Causes the tree does not reach yet are listed with the issue that brings them.
NOT_YET_IN_TREE: dict[RootCause, str] = {}


def _reachable() -> set[str]:
    seen: set[str] = set()
    todo = [TREE.first]
    while todo:
        step = TREE[todo.pop()]
        if step.id in seen:
            continue
        seen.add(step.id)
        todo.extend(o.step for o in step.outcomes.values() if isinstance(o, Next))
    return seen


def test_every_step_is_reachable_and_every_outcome_leads_somewhere() -> None:
    assert _reachable() == set(TREE.steps)
    for step in TREE.steps.values():
        assert step.outcomes, step.id
        for outcome in step.outcomes.values():
            if isinstance(outcome, Next):
                assert outcome.step in TREE.steps, (step.id, outcome.step)
        assert (step.action is None) != (step.question is None), step.id
        if step.question is not None:
            assert {c.value for c in step.question.choices} == set(step.outcomes), step.id


def test_the_tree_has_no_cycle() -> None:
    def walk(step_id: str, path: tuple[str, ...]) -> None:
        assert step_id not in path, (*path, step_id)
        for outcome in TREE[step_id].outcomes.values():
            if isinstance(outcome, Next):
                walk(outcome.step, (*path, step_id))

    walk(TREE.first, ())


def test_every_root_cause_is_reachable() -> None:
    concluded = {
        o.root_cause
        for s in TREE.steps.values()
        for o in s.outcomes.values()
        if isinstance(o, Conclude)
    }
    missing = set(RootCause) - concluded - set(NOT_YET_IN_TREE)
    assert not missing, missing
    assert set(MEANINGS) == set(RootCause)


def test_fixes_referenced_exist_and_every_catalog_fix_is_used() -> None:
    referenced = {
        f
        for s in TREE.steps.values()
        for o in s.outcomes.values()
        if isinstance(o, Conclude)
        for f in (o.fixes if o.fixes is not None else REGISTRY[o.root_cause].fixes)
    }
    assert referenced <= catalog_ids()
    assert {f for cause in REGISTRY.values() for f in cause.fixes} <= catalog_ids()
    assert catalog_ids() >= server_findings.FIX_IDS  # this machine's own findings
    referenced |= server_findings.FIX_IDS
    assert catalog_ids() >= actions_tls.FIX_IDS  # the TLS step names its fixes per failed check
    referenced |= actions_tls.FIX_IDS
    assert catalog_ids() >= actions_login.FIX_IDS  # the login step names its fixes per failure
    referenced |= actions_login.FIX_IDS
    assert catalog_ids() >= actions_routed.FIX_IDS  # the second hop names its fixes per failure
    referenced |= actions_routed.FIX_IDS
    assert catalog_ids() >= actions_transport.FIX_IDS  # pipes, shared memory, LocalDB
    referenced |= actions_transport.FIX_IDS
    unused = (
        catalog_ids()
        - referenced
        - {
            "update-service-password",
        }
    )
    assert not unused, f"catalog fixes no verdict uses: {unused}"


def test_steps_explain_themselves_for_a_junior() -> None:
    for step in TREE.steps.values():
        assert len(step.why) > 120, step.id
        assert step.source, step.id
        assert step.title[0].isupper(), step.id


def test_fix_templates_name_only_known_values() -> None:
    known = {
        "host",
        "port",
        "good_port",
        "instance",
        "service",
        "address",
        "alias_where",
        "old_server_name",
        "new_server_name",
        "database",
        "login",
        "instances_listed",
        "cert_name",
        "client_name",
        "cert_issuer",
        "client_ip",
        "azure_server",
        "fqdn",
        "spn_port",
        "spn_name",
        "service_account",
        "server_build",
        "tls12_builds",
    }
    for fix in CATALOG:
        assert fix.commands, fix.id
        for command in fix.commands:
            names = {name for _, name, _, _ in string.Formatter().parse(command.text) if name}
            assert names <= known, (fix.id, names - known)
