"""The error text the person saw, joined with the live diagnosis.

The text already rules things in and out; the live walk says what is true now. When they agree,
the verdict says so; when they do not (the text says refused, the port answers now), it says
what that usually means, because that difference is itself a finding.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.knowledge.causes import LAYER_TITLES, Layer, RootCause
from tui.steps.facts import ErrorRead

if TYPE_CHECKING:
    from tui.knowledge.explain.model import ErrorReading

_LOGIN_LAYERS: Final = frozenset({Layer.LOGIN, Layer.DATABASE, Layer.KERBEROS})

_WORKS_NOW: Final = (
    "it works from here now. Either the situation changed since (the service came back, a "
    "firewall rule or the Browser changed), or the client that failed takes another path: "
    "another connection string or driver, an alias (check the 32-bit one too), another address "
    "family (IPv6 against IPv4), a stale DNS answer cached on that client, or another network "
    "location with other firewalls on the way"
)


class ErrorOutcome(StrEnum):
    NONE = "none"
    READ = "read"


async def read_error(context: Context) -> Observation:
    """Read the pasted error first: which layer it says failed, and what it rules out."""
    text = context.settings.error_text
    if not text:
        return Observation(ErrorOutcome.NONE, Status.SKIP, "no error text was given")
    from tui.knowledge.explain.reader import explain  # the catalog loads only for a text

    explanation = explain(str(text))
    evidence: dict[str, Any] = {"explanation": explanation.to_json()}
    if not explanation.found:
        return Observation(
            ErrorOutcome.READ,
            Status.WARN,
            "nothing in the error text was recognised; diagnosing from the start",
            evidence,
        )
    codes = ", ".join(dict.fromkeys(item.code for item in explanation.recognised))
    layer = explanation.layer
    where = LAYER_TITLES[layer] if layer is not None else "no single layer"
    likely = ", ".join(c.cause.value for c in explanation.candidates[:3]) or "none"
    summary = f"the error text ({codes}) says it failed at {where}; most likely {likely}"
    return Observation(
        ErrorOutcome.READ, Status.PASS, summary, evidence, facts=(ErrorRead(explanation),)
    )


def about_the_login(context: Context) -> bool:
    read = context.facts.maybe(ErrorRead)
    return read is not None and read.explanation.layer in _LOGIN_LAYERS


def reading(root_cause: RootCause, context: Context) -> tuple[str | None, ErrorReading | None]:
    """The verdict's closing sentence (does what was found agree with the text?) and what the
    verdict keeps of the text."""
    read = context.facts.maybe(ErrorRead)
    if read is None:
        return None, None
    from tui.knowledge.explain.model import Agreement, ErrorReading

    explanation = read.explanation
    agreement = explanation.hint.compare(root_cause) if explanation.found else None
    kept = ErrorReading(explanation.to_json(), agreement)
    if not explanation.found:
        return None, kept
    codes = ", ".join(dict.fromkeys(item.code for item in explanation.recognised))
    layer = explanation.layer
    where = LAYER_TITLES[layer] if layer is not None else "the connection"
    said = f"The error text you saw ({codes}) points to {where}"
    if agreement is Agreement.AGREES:
        return f"{said}; the live check agrees: {root_cause.value}.", kept
    if root_cause is RootCause.OK:
        return f"{said}, but {_WORKS_NOW}.", kept
    if agreement is Agreement.DISAGREES:
        return (
            f"{said}, but the live check finds {root_cause.value}, which that text rules "
            f"out: the client that failed takes another path than this check (another "
            f"driver, alias, address or network location), or the situation changed since."
        ), kept
    return (
        f"{said}; the live check stops at {root_cause.value}, which the text neither "
        f"confirms nor rules out: fix this first, then compare again."
    ), kept
