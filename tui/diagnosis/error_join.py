"""The error text the person saw, joined with the live diagnosis.

The text already rules things in and out; the live walk says what is true now. When they agree,
the verdict says so; when they do not (the text says refused, the port answers now), it says
what that usually means, because that difference is itself a finding.
"""

from __future__ import annotations

from typing import Any, Final

from tui.diagnosis.context import Context
from tui.diagnosis.explain import Agreement, Explanation, Layer, explain
from tui.diagnosis.explain.model import LAYER_TITLES
from tui.diagnosis.model import Observation, Status
from tui.diagnosis.vocabulary import RootCause

_LOGIN_LAYERS: Final = frozenset({Layer.LOGIN, Layer.DATABASE, Layer.KERBEROS})

_WORKS_NOW: Final = (
    "it works from here now. Either the situation changed since (the service came back, a "
    "firewall rule or the Browser changed), or the client that failed takes another path: "
    "another connection string or driver, an alias (check the 32-bit one too), another address "
    "family (IPv6 against IPv4), a stale DNS answer cached on that client, or another network "
    "location with other firewalls on the way"
)


async def read_error(context: Context) -> Observation:
    """Read the pasted error first: which layer it says failed, and what it rules out."""
    text = context.settings.get("error_text")
    if not text:
        return Observation("none", Status.SKIP, "no error text was given", {}, {})
    explanation = explain(str(text))
    evidence: dict[str, Any] = {"explanation": explanation.to_json()}
    if not explanation.found:
        return Observation(
            "read",
            Status.WARN,
            "nothing in the error text was recognised; diagnosing from the start",
            evidence,
            {},
        )
    codes = ", ".join(dict.fromkeys(item.code for item in explanation.recognised))
    layer = explanation.layer
    where = LAYER_TITLES[layer] if layer is not None else "no single layer"
    likely = ", ".join(c.cause.value for c in explanation.candidates[:3]) or "none"
    summary = f"the error text ({codes}) says it failed at {where}; most likely {likely}"
    facts = {"error_explanation": explanation}
    return Observation("read", Status.PASS, summary, evidence, facts)


def about_the_login(context: Context) -> bool:
    explanation = context.facts.get("error_explanation")
    return isinstance(explanation, Explanation) and explanation.layer in _LOGIN_LAYERS


def agreement_note(root_cause: RootCause, facts: dict[str, Any]) -> str | None:
    """One sentence for the verdict: does what we found agree with the text?"""
    explanation = facts.get("error_explanation")
    if not isinstance(explanation, Explanation) or not explanation.found:
        return None
    codes = ", ".join(dict.fromkeys(item.code for item in explanation.recognised))
    layer = explanation.layer
    where = LAYER_TITLES[layer] if layer is not None else "the connection"
    said = f"The error text you saw ({codes}) points to {where}"
    agreement = explanation.hint.compare(root_cause)
    if agreement is Agreement.AGREES:
        return f"{said}; the live check agrees: {root_cause.value}."
    if root_cause is RootCause.OK:
        return f"{said}, but {_WORKS_NOW}."
    if agreement is Agreement.DISAGREES:
        return (
            f"{said}, but the live check finds {root_cause.value}, which that text rules "
            f"out: the client that failed takes another path than this check (another "
            f"driver, alias, address or network location), or the situation changed since."
        )
    return (
        f"{said}; the live check stops at {root_cause.value}, which the text neither "
        f"confirms nor rules out: fix this first, then compare again."
    )


def agreement_json(root_cause: RootCause, facts: dict[str, Any]) -> dict[str, Any] | None:
    explanation = facts.get("error_explanation")
    if not isinstance(explanation, Explanation):
        return None
    document = explanation.to_json()
    document["agreement"] = (
        explanation.hint.compare(root_cause).value if explanation.found else None
    )
    return document
