"""How this tree concludes: the fixes filled with what the walk found, what each client would
do, and whether the error text the person saw agrees with the live result."""

from __future__ import annotations

from tui.engine.context import Context
from tui.engine.model import Conclude, Step, Verdict
from tui.engine.walk import build_verdict
from tui.knowledge.fixes.values import FixValues
from tui.steps.error import reading
from tui.steps.facts import (
    Alias,
    BrowserAnswer,
    Endpoint,
    FoundElsewhere,
    LoginFacts,
    PortAlias,
    Renamed,
    TlsFindings,
)


def fix_values(context: Context) -> FixValues:
    """The values a fix may name, from the typed facts of the walk."""
    facts = context.facts
    endpoint = facts.maybe(Endpoint)
    found = facts.maybe(FoundElsewhere)
    alias = facts.maybe(PortAlias) or facts.maybe(Alias)
    renamed = facts.maybe(Renamed)
    login = facts.maybe(LoginFacts)
    browser = facts.maybe(BrowserAnswer)
    tls = facts.maybe(TlsFindings)
    return FixValues.of(
        context.target,
        host=endpoint.host if endpoint else None,
        port=endpoint.port if endpoint else None,
        address=endpoint.address if endpoint else None,
        good_port=found.port if found else None,
        alias_where=alias.where if alias else None,
        old_server_name=renamed.old if renamed else None,
        new_server_name=renamed.new if renamed else None,
        login=login.user if login else None,
        database=login.database if login else None,
        instances_listed=browser.instances_listed if browser else None,
        cert_name=tls.cert_name if tls else None,
        client_name=tls.client_name if tls else None,
        cert_issuer=tls.cert_issuer if tls else None,
    )


def conclude(outcome: Conclude, step: Step, context: Context) -> Verdict:
    closing, error_reading = reading(outcome.root_cause, context)
    tls = context.facts.maybe(TlsFindings)
    return build_verdict(
        outcome,
        step,
        context,
        fix_values(context),
        closing=closing,
        clients=tls.clients if tls is not None else (),
        error_reading=error_reading,
    )
