"""The actions of the steps after the port opens: the pre-login (with TDS 8 beside it), which
client, and the TLS step that says what each client would do against this server.

The TLS probe starts together with the pre-login, so a server that speaks only TDS 8 strict
(and so never answers a plain pre-login) is recognised in the same time budget, and the TLS
step usually finds its evidence ready. Which outcome leads where is decided in `tree.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from tui.diagnosis import actions
from tui.diagnosis.clients import (
    AUTO,
    CHECK_WORDS,
    Agreement,
    Check,
    Prediction,
    Table,
    build_table,
)
from tui.diagnosis.context import Context
from tui.diagnosis.model import Observation, Status
from tui.diagnosis.vocabulary import RootCause
from tui.probes import tls
from tui.probes.tds import PreloginResult, PreloginStatus
from tui.probes.tls import TlsResult
from tui.wire.prelogin import Encryption, product_name


def _probe_factory(
    context: Context, address: str, port: int
) -> Callable[[], Coroutine[Any, Any, TlsResult]]:
    target = context.target
    return lambda: tls.probe_tls(
        address,
        port,
        timeout=context.timeout,
        host=target.connect_host,
        instance=target.instance,
    )


def _tls_probe(context: Context, address: str, port: int) -> asyncio.Task[TlsResult]:
    """Start the TLS probe now (memoised): it runs beside the pre-login, in the same budget."""
    return context.start(("tls", address, port), _probe_factory(context, address, port))


async def _tls(context: Context, address: str, port: int) -> TlsResult:
    return await context.probe(
        ("tls", address, port),
        f"looking at the encryption of {address} port {port} (TLS, certificate, TDS 8)",
        _probe_factory(context, address, port),
    )


# ------------------------------------------------------------------------------------------
# pre-login, with TDS 8 strict beside it


async def prelogin(context: Context) -> Observation:
    address: str = context.facts["address"]
    port: int = context.facts["port"]
    _tls_probe(context, address, port)  # beside the pre-login: same budget, and TDS 8 too
    observation = await actions.prelogin(context)
    if observation.outcome != "unresponsive":
        return observation
    result = await _tls(context, address, port)
    if result.strict_only:
        version = result.strict.server_version
        product = (
            f"{product_name(version)}, {version[0]}.{version[1]}.{version[2]}"
            if version
            else "unknown version"
        )
        summary = (
            f"{address} port {port} is SQL Server ({product}) speaking only TDS 8 strict: it "
            "answers a TLS handshake with ALPN tds/8.0 and drops a plain pre-login"
        )
        facts: dict[str, Any] = {
            "server_version": product,
            "server_encryption": None,
            "strict_only": True,
            "prelogin_detail": summary,
        }
        evidence = {**observation.evidence, "tds8": result.strict.evidence()}
        return Observation("sql-server-strict", Status.PASS, summary, evidence, facts)
    detail = _unresponsive_detail(context, address, port, result)
    facts = {"prelogin_detail": detail}
    return Observation("unresponsive", Status.FAIL, detail, observation.evidence, facts)


def _unresponsive_detail(context: Context, address: str, port: int, result: TlsResult) -> str:
    """What was seen, in the words the issue asks for: silence for N ms, closed, reset."""
    prelogin_result = _memoised_prelogin(context, address, port)
    tds8 = (
        "a TDS 8 (TLS first) attempt got no answer either"
        if not result.strict.ok
        else "TDS 8 answered"
    )
    if prelogin_result is None:
        return f"nothing answered the pre-login; {tds8}"
    elapsed = prelogin_result.elapsed_ms
    if prelogin_result.status is PreloginStatus.SILENT:
        return (
            f"the connection opened, but nothing answered the pre-login: silence for "
            f"{elapsed:.0f} ms, 0 bytes received; {tds8}. The instance is hung, out of worker "
            "threads, starting or stopping, or a proxy in front of it has no live backend."
        )
    reset = prelogin_result.status is PreloginStatus.RESET or (
        prelogin_result.status is PreloginStatus.CONNECT_FAILED
        and "WSAECONNRESET" in prelogin_result.detail
    )
    if reset:
        return (
            f"the server reset the connection {elapsed:.0f} ms after it opened, before "
            f"answering the pre-login (10054 WSAECONNRESET), 0 bytes received; {tds8}. A proxy "
            "or load balancer without a live backend, or an instance stopping, does that."
        )
    if prelogin_result.status is PreloginStatus.CLOSED:
        return (
            f"the server closed the connection {elapsed:.0f} ms after it opened without "
            f"answering the pre-login, 0 bytes received; {tds8}. A proxy without a live "
            "backend, or an instance starting or stopping, does that."
        )
    return f"{prelogin_result.detail}; {tds8}"


def _memoised_prelogin(context: Context, address: str, port: int) -> PreloginResult | None:
    """The pre-login step's own result (memoised under its key; never a second round trip)."""
    task = context.start(("prelogin", address, port), _never)
    if task.done() and not task.cancelled() and task.exception() is None:
        result = task.result()
        return result if isinstance(result, PreloginResult) else None
    return None


async def _never() -> None:
    return None  # only if the pre-login step had not run: nothing to report


# ------------------------------------------------------------------------------------------
# which client


def default_client(context: Context) -> str:
    """`check` works the client out of the connection string unless `--client` says."""
    return AUTO


# ------------------------------------------------------------------------------------------
# the TLS step


async def check_tls(context: Context) -> Observation:
    address: str = context.facts["address"]
    port: int = context.facts["port"]
    result = await _tls(context, address, port)
    stated = context.facts.get("answer_client")
    table = build_table(context.target, result, stated if stated != AUTO else None)
    evidence: dict[str, Any] = {
        "tls": result.evidence(),
        "client": table.inference.to_json(),
        "clients": table.to_json(),
    }
    facts: dict[str, Any] = {"clients": table.to_json(), "tls_summary": result.summary()}
    facts.update(_fix_facts(context, result))
    agreement = table.agreement
    if agreement is Agreement.ALL_CONNECT:
        summary = f"{result.summary()}. {_who(table)}: connects. By client: {table.line()}"
        return Observation("ok", Status.PASS, summary, evidence, facts)
    if agreement is Agreement.MIXED:
        note = (
            "Whether a client gets in depends on the driver: "
            f"{table.line()} ({table.inference.how}; say which with --client NAME)."
        )
        facts["verdict_notes"] = [*context.facts.get("verdict_notes", ()), note]
        summary = f"{result.summary()}. {note}"
        return Observation("depends", Status.WARN, summary, evidence, facts)
    deciding = table.deciding
    assert deciding is not None and deciding.check is not None
    detail = _verdict_text(table, deciding, result)
    facts["extra_fixes"] = _fixes(deciding, result, context)
    if deciding.root_cause is RootCause.ENCRYPTION_MISMATCH:
        facts["encryption_detail"] = detail
        return Observation("mismatch", Status.FAIL, detail, evidence, facts)
    facts["tls_detail"] = detail
    return Observation("tls-failed", Status.FAIL, detail, evidence, facts)


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


def _fix_facts(context: Context, result: TlsResult) -> dict[str, Any]:
    target = context.target
    facts: dict[str, Any] = {
        "client_name": target.host_name_in_certificate or target.connect_host or result.host
    }
    cert = result.certificate
    if cert is not None:
        if cert.names:
            facts["cert_name"] = cert.names[0]
        facts["cert_issuer"] = cert.issuer
    return facts


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
