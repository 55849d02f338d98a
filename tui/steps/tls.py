"""Which client will connect, and the TLS step: what each client would do against this
server's encryption and certificate (no credentials needed). Which outcome leads where is
decided in `tree.py`."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.knowledge.causes import RootCause
from tui.knowledge.clients import (
    AUTO,
    CHECK_WORDS,
    Agreement,
    Check,
    Prediction,
    Table,
    build_table,
)
from tui.steps.facts import TlsFindings
from tui.steps.ids import S
from tui.steps.prelogin import where
from tui.steps.tlsprobe import tls_result
from tui.wire.prelogin import Encryption

if TYPE_CHECKING:
    from tui.probes.tls import TlsResult

# ------------------------------------------------------------------------------------------
# which client


def default_client(context: Context) -> str:
    """`check` works the client out of the connection string unless `--client` says."""
    return AUTO


# ------------------------------------------------------------------------------------------
# the TLS step


class TlsOutcome(StrEnum):
    OK = "ok"
    DEPENDS = "depends"
    TLS_FAILED = "tls-failed"
    MISMATCH = "mismatch"


async def check_tls(context: Context) -> Observation:
    address, port = where(context)
    result = await tls_result(context, address, port)
    return judge_tls(context, result, TlsFindings)


def judge_tls(context: Context, result: TlsResult, kind: type[TlsFindings]) -> Observation:
    """What each client would do against `result`, as the TLS step's observation; `kind` is
    the record it keeps (the first hop's, or the routed hop's)."""
    stated = context.answer(S.CLIENT)
    table = build_table(context.target, result, stated if stated != AUTO else None)
    evidence: dict[str, Any] = {
        "tls": result.evidence(),
        "client": table.inference.to_json(),
        "clients": table.to_json(),
    }
    findings = _findings(context, result, table, kind)
    agreement = table.agreement
    if agreement is Agreement.ALL_CONNECT:
        summary = f"{result.summary()}. {_who(table)}: connects. By client: {table.line()}"
        return Observation(TlsOutcome.OK, Status.PASS, summary, evidence, facts=(findings,))
    if agreement is Agreement.MIXED:
        note = (
            "Whether a client gets in depends on the driver: "
            f"{table.line()} ({table.inference.how}; say which with --client NAME)."
        )
        summary = f"{result.summary()}. {note}"
        said = any(earlier.text == note for earlier in context.notes)  # the first hop said it
        return Observation(
            TlsOutcome.DEPENDS,
            Status.WARN,
            summary,
            evidence,
            facts=(findings,),
            notes=() if said else (note,),
        )
    deciding = table.deciding
    assert deciding is not None and deciding.check is not None
    detail = _verdict_text(table, deciding, result)
    outcome = (
        TlsOutcome.MISMATCH
        if deciding.root_cause is RootCause.ENCRYPTION_MISMATCH
        else TlsOutcome.TLS_FAILED
    )
    return Observation(
        outcome,
        Status.FAIL,
        detail,
        evidence,
        facts=(replace(findings, detail=detail),),
        fixes=_fixes(deciding, result, context),
    )


def _who(table: Table) -> str:
    if table.inference.known:
        return table.inference.families[0].name
    return "Every client this connection string can be meant for"


def _verdict_text(table: Table, deciding: Prediction, result: TlsResult) -> str:
    check = deciding.check
    assert check is not None
    if table.inference.known:
        lead = f"{deciding.family.name} will not connect ({CHECK_WORDS[check]}): {deciding.reason}."
    else:
        lead = (
            f"Every client this connection string can be meant for will fail "
            f"({CHECK_WORDS[check]}). {deciding.family.short}: {deciding.reason}."
        )
    printed = _printed(deciding)
    parts = [lead]
    if printed:
        parts.append(printed)
    certificate = _certificate_sentence(result) if check in _CERTIFICATE_CHECKS else ""
    if certificate:
        parts.append(certificate)
    if check in (Check.TLS_VERSION, Check.HANDSHAKE):
        accepted = ", ".join(result.accepted_versions()) or "none that could be tested"
        parts.append(f"The server accepts TLS {accepted}.")
    parts.append(f"By client: {table.line()}")
    return " ".join(parts)


_CERTIFICATE_CHECKS = (Check.UNTRUSTED, Check.EXPIRED, Check.NAME)


def _printed(prediction: Prediction) -> str:
    texts = [
        f"on {platform.capitalize()}: `{text}`"
        for platform, text in prediction.errors.items()
        if text
    ]
    if not texts:
        return ""
    return f"{prediction.family.short} prints " + "; ".join(texts) + "."


def _certificate_sentence(result: TlsResult) -> str:
    cert = result.certificate
    if cert is None:
        return ""
    kind = "self-signed" if cert.self_signed else f"issued by {cert.issuer}"
    names = ", ".join(cert.names) or "no name"
    trusted = {
        True: "yes",
        False: f"no ({result.trust_words})",
        None: "could not be checked",
    }[result.trusted]
    return (
        f"The certificate: {cert.subject}, {kind}, for {names}, valid "
        f"{cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}, SHA-1 thumbprint "
        f"{cert.sha1}; trusted by this machine's store ({result.store}): {trusted}."
    )


def _findings(
    context: Context, result: TlsResult, table: Table, kind: type[TlsFindings]
) -> TlsFindings:
    target = context.target
    cert = result.certificate
    name = target.connect_host if kind is TlsFindings else result.host
    return kind(
        summary=result.summary(),
        clients=table.rows(),
        client_name=target.host_name_in_certificate or name or result.host,
        cert_name=cert.names[0] if cert is not None and cert.names else None,
        cert_issuer=cert.issuer if cert is not None else None,
    )


# Every fix the TLS step may name (chosen per failed check below); the tree test checks them.
FIX_IDS = frozenset(
    {
        "provision-certificate",
        "trust-issuing-ca",
        "trust-server-certificate",
        "encrypt-no-forced",
        "encrypt-optional",
        "host-name-in-certificate",
        "enable-tls12",
        "enable-client-encryption",
        "use-strict",
        "use-encrypt-mandatory",
    }
)


def _fixes(prediction: Prediction, result: TlsResult, context: Context) -> tuple[str, ...]:
    check = prediction.check
    cert = result.certificate
    forced = result.encryption in (Encryption.REQ, Encryption.ON)
    said_no = context.target.encrypt == "no"
    if check is Check.UNTRUSTED:
        chain = (
            ("provision-certificate",)
            if cert is None or cert.self_signed
            else (
                "trust-issuing-ca",
                "provision-certificate",
            )
        )
        tail = ("encrypt-no-forced",) if forced and said_no else ()
        optional = (
            () if forced or prediction.encryption == "TDS 8 strict" else ("encrypt-optional",)
        )
        return (*chain, "trust-server-certificate", *tail, *optional)
    if check is Check.EXPIRED:
        return ("provision-certificate", "trust-server-certificate")
    if check is Check.NAME:
        return ("host-name-in-certificate", "provision-certificate", "trust-server-certificate")
    if check in (Check.TLS_VERSION, Check.HANDSHAKE):
        return ("enable-tls12",)
    if check is Check.NO_ENCRYPTION:
        return ("provision-certificate", "encrypt-optional")
    if check is Check.CLIENT_CANNOT:
        return ("enable-client-encryption",)
    if check in (Check.STRICT_REQUIRED, Check.STRICT_NOT_IN_DRIVER):
        return ("use-strict", "provision-certificate")
    if check is Check.STRICT_UNSUPPORTED:
        return ("use-encrypt-mandatory",)
    return ()
