"""The TLS probe against the lab: encryption answer, certificate, trust, versions, TDS 8, and
servers that stall or speak something else. No credentials anywhere."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ssl
import sys
import threading
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.lab_fixtures import running
from tui.lab.certs import CertSpec, make_material
from tui.lab.scenarios import Scenario, scenario
from tui.probes import tls
from tui.probes.base import Stopwatch, is_json_safe
from tui.probes.tls import Certificate, Failure, TlsStatus, VersionState, probe_tls
from tui.wire.prelogin import Encryption

TIMEOUT = 2.0


def _states(result: tls.TlsResult) -> dict[str, VersionState]:
    return {check.version: check.state for check in result.versions}


async def test_self_signed_login_only_server_is_read_completely() -> None:
    async with running("tls-self-signed") as lab:
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    assert result.status is TlsStatus.TLS
    assert result.encryption is Encryption.OFF
    cert = result.certificate
    assert cert is not None
    assert cert.common_name == "SQLHOST01" and cert.dns_names == ("SQLHOST01",)
    assert cert.self_signed and cert.issuer == cert.subject == "CN=SQLHOST01"
    now = dt.datetime.now(dt.UTC)
    assert cert.not_before < now < cert.not_after
    assert len(cert.sha1) == 40 and cert.key == "RSA 2048"
    assert result.trusted is False and result.trust_words == "self-signed certificate"
    assert result.verified is not None
    assert result.verified.openssl_error == (
        "error:0A000086:SSL routines::certificate verify failed:self-signed certificate"
    )
    assert _states(result) == {
        "1.0": VersionState.REFUSED,
        "1.1": VersionState.REFUSED,
        "1.2": VersionState.ACCEPTED,
        "1.3": VersionState.REFUSED,
    }
    assert not result.strict_supported and not result.strict_only
    assert result.local_default is not None and result.local_default.ok
    assert is_json_safe(result.evidence())
    assert "self-signed" in result.summary() and "TDS 8 strict: no" in result.summary()
    assert result.elapsed_ms < TIMEOUT * 1000


async def test_forced_encryption_answers_req() -> None:
    async with running("tls-forced") as lab:
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    assert result.encryption is Encryption.REQ
    assert result.status is TlsStatus.TLS and result.main.version == "1.2"


async def test_tls_1_0_server_is_seen_and_openssl_says_why_it_refuses() -> None:
    async with running("tls-1.0-only") as lab:
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    states = _states(result)
    assert states["1.2"] is VersionState.REFUSED and states["1.3"] is VersionState.REFUSED
    # offered through a SECLEVEL=0 context of its own; 'untestable' where OpenSSL cannot
    assert states["1.0"] in (VersionState.ACCEPTED, VersionState.UNTESTABLE)
    if states["1.0"] is VersionState.ACCEPTED:
        assert result.main.version == "1.0" and result.certificate is not None
        local = result.local_default
        assert local is not None and not local.ok and local.failure is Failure.LOCAL
        assert local.openssl_error == (
            "error:0A00014D:SSL routines::legacy sigalg disallowed or unsupported"
        )


async def test_a_version_this_openssl_cannot_offer_is_untestable(monkeypatch: Any) -> None:
    real = tls._looking_context

    def refusing(versions: tuple[str, str] | None = None) -> ssl.SSLContext:
        if versions == ("1.1", "1.1"):
            raise ssl.SSLError("no protocols available")
        return real(versions)

    monkeypatch.setattr(tls, "_looking_context", refusing)
    async with running("tls-self-signed") as lab:
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    check = result.version("1.1")
    assert check is not None and check.state is VersionState.UNTESTABLE
    assert "cannot offer TLS 1.1" in check.detail


async def test_trust_follows_ssl_cert_file(monkeypatch: Any) -> None:
    async with running("tls-trusted") as lab:
        ca_file = lab.ca_file
        assert ca_file is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        trusted = await probe_tls(lab.address, 1433, timeout=TIMEOUT, host="SQLHOST01")
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file.parent / "nothing.pem"))
        unknown = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    assert trusted.trusted is True and f"SSL_CERT_FILE={ca_file}" in trusted.store
    assert not ca_file.exists()  # the lab removes its test CA when it stops
    assert trusted.certificate is not None and not trusted.certificate.self_signed
    assert trusted.certificate.issuer == "CN=sqlreach lab test CA"
    assert trusted.host == "SQLHOST01" and trusted.certificate.matches("sqlhost01")
    assert unknown.trusted is False
    assert unknown.trust_words == "unable to get local issuer certificate"


async def test_expired_certificate_is_named_by_openssl(monkeypatch: Any) -> None:
    async with running("tls-expired") as lab:
        assert lab.ca_file is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(lab.ca_file))
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    assert result.trusted is False and result.trust_words == "certificate has expired"
    assert result.certificate is not None and result.certificate.expired(result.checked_at)


async def test_strict_only_server_answers_tds8_with_alpn() -> None:
    async with running("tls-strict-only") as lab:
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    assert result.strict_only and result.strict_supported
    assert result.strict.alpn == "tds/8.0"
    assert result.strict.server_version is not None and result.strict.server_version[0] == 16
    assert result.tds7.failure in (Failure.CLOSED, Failure.NOT_TLS)
    assert result.main is result.strict and result.certificate is not None
    assert "TDS 8 strict: only" in result.summary()


async def test_server_without_tls_says_not_sup() -> None:
    # the scenario that says why it has no TLS (healthy ones encrypt the login, as real ones)
    async with running("encryption-unsupported") as lab:
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    assert result.status is TlsStatus.NO_TLS and result.encryption is Encryption.NOT_SUP
    assert result.certificate is None and result.trusted is None
    assert "offers no encryption" in result.summary()


@pytest.mark.parametrize("name", ["server-stalled", "server-resets", "http-on-1433"])
async def test_servers_that_do_not_speak_tls_end_within_the_budget(name: str) -> None:
    async with running(name) as lab:
        result = await probe_tls(lab.address, 1433, timeout=1.0)
    assert result.status in (TlsStatus.UNREACHABLE, TlsStatus.FAILED)
    assert result.elapsed_ms < 1000 + 300
    assert not result.strict_supported and result.certificate is None
    assert is_json_safe(result.evidence())


def _certificate(spec: CertSpec) -> Certificate:
    pem = make_material(spec).cert_pem
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return Certificate.from_der(der)


def test_name_match_is_the_drivers_rule() -> None:
    cert = _certificate(CertSpec(name="*.corp.test", san_addresses=("127.0.0.1",)))
    assert cert.matches("db1.corp.test") and cert.matches("DB1.Corp.Test.")
    assert not cert.matches("corp.test") and not cert.matches("a.b.corp.test")
    assert cert.ip_addresses == ("127.0.0.1",)
    assert not cert.matches("127.0.0.1")  # ODBC Driver 18 ignores IP addresses in SANs
    plain = _certificate(CertSpec(name="SQLHOST01"))
    assert plain.names == ("SQLHOST01",) and plain.matches("sqlhost01")
    assert not plain.matches("SQLHOST02")


# -- trust as the drivers judge it, on every Python; the system's verifier beside OpenSSL ------


def _without_key_identifiers() -> Scenario:
    """tls-trusted, but issued by a CA of the older kind: no Subject or Authority Key Identifier."""
    item = scenario("tls-trusted")
    assert item.certificate is not None
    return dataclasses.replace(
        item, certificate=dataclasses.replace(item.certificate, key_identifiers=False)
    )


def test_the_verifying_contexts_drop_what_the_drivers_do_not_apply() -> None:
    """Python 3.13 turns VERIFY_X509_STRICT and PARTIAL_CHAIN on; the probe's contexts never
    have them, whatever the Python."""
    contexts = [tls._verifying_context()]
    system = tls._system_context()
    assert system is not None, "truststore is a dependency"
    contexts.append(system)
    for context in contexts:
        assert context.verify_flags & tls.DRIVERS_DO_NOT_APPLY == 0
        assert context.verify_mode is ssl.CERT_REQUIRED and not context.check_hostname
    if sys.version_info >= (3, 13):
        assert ssl.create_default_context().verify_flags & ssl.VERIFY_X509_STRICT


async def test_a_ca_without_key_identifiers_is_trusted_as_the_drivers_trust_it(
    monkeypatch: Any,
) -> None:
    """OpenSSL's strict mode (Python 3.13's default) refuses this chain with 'Missing Authority
    Key Identifier'; ODBC Driver 18 connects (tests/test_tls_witnesses.py), so the probe trusts it
    on 3.11, 3.12 and 3.13 alike."""
    monkeypatch.setattr(tls, "_asks_the_system", lambda: True)
    item = _without_key_identifiers()
    async with running(item) as lab:
        assert lab.ca_file is not None and lab.material is not None
        leaf = x509.load_pem_x509_certificate(lab.material.cert_pem)
        with pytest.raises(x509.ExtensionNotFound):
            leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        monkeypatch.setenv("SSL_CERT_FILE", str(lab.ca_file))
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT, host="SQLHOST01")
        strict = ssl.create_default_context(cafile=str(lab.ca_file))
        strict.check_hostname = False
        strict.verify_flags |= ssl.VERIFY_X509_STRICT
        refused = await _handshake_words(lab.address, strict)
    assert result.trusted is True and result.openssl_trusted is True
    assert result.system_trusted is True and result.trust_disagreement is None
    assert refused is not None and "Missing Authority Key Identifier" in refused


async def _handshake_words(address: str, context: ssl.SSLContext) -> str | None:
    """A TDS 7.x TLS handshake with `context`: None when it completes, else OpenSSL's words."""
    handshake = await tls._handshake(
        address,
        1433,
        transport=tls.Transport.TDS7,
        context=context,
        offered="1.0-1.3",
        sni=None,
        instance=None,
        clock=Stopwatch(TIMEOUT),
    )
    return None if handshake.ok else (handshake.verify_message or handshake.message)


async def test_the_lab_ca_carries_key_identifiers_and_python_3_13_trusts_its_chain() -> None:
    """Like a real CA: the default context, strict mode and all, trusts the lab's chain."""
    async with running("tls-trusted") as lab:
        assert lab.ca_file is not None and lab.material is not None
        leaf = x509.load_pem_x509_certificate(lab.material.cert_pem)
        assert lab.material.ca_pem is not None
        root = x509.load_pem_x509_certificate(lab.material.ca_pem)
        ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == ski.digest
        strict = ssl.create_default_context(cafile=str(lab.ca_file))
        strict.check_hostname = False
        strict.verify_flags |= ssl.VERIFY_X509_STRICT
        assert await _handshake_words(lab.address, strict) is None


async def test_the_system_verifier_answers_beside_openssl(monkeypatch: Any) -> None:
    """On Linux truststore is OpenSSL with the same store: asked anyway here, both answers
    agree, and the evidence keeps both. (Windows' Schannel and macOS' Keychain never ran.)"""
    monkeypatch.setattr(tls, "_asks_the_system", lambda: True)
    async with running("tls-self-signed") as lab:
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    assert result.system_verified is not None and result.verified is not None
    assert result.system_trusted is False and result.openssl_trusted is False
    assert result.trust_words == "self-signed certificate"
    assert result.store == result.openssl_store == tls.describe_store()
    evidence = result.evidence()
    assert evidence["system_trusted"] is False and evidence["openssl_trusted"] is False
    assert is_json_safe(evidence)


async def test_when_the_system_and_openssl_disagree_both_are_shown(monkeypatch: Any) -> None:
    """Real handshakes from two runs (one trusting the lab CA, one not) stand for a machine
    whose system verifier trusts what Python's CA file does not (a Windows root fetched by
    auto-update, a Keychain root), and the reverse."""
    monkeypatch.setattr(tls, "_asks_the_system", lambda: True)
    async with running("tls-trusted") as lab:
        assert lab.ca_file is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(lab.ca_file))
        trusting = await probe_tls(lab.address, 1433, timeout=TIMEOUT, host="SQLHOST01")
        monkeypatch.setenv("SSL_CERT_FILE", str(lab.ca_file.parent / "nothing.pem"))
        not_trusting = await probe_tls(lab.address, 1433, timeout=TIMEOUT, host="SQLHOST01")
    system_only = dataclasses.replace(
        not_trusting,
        system_verified=trusting.system_verified,
        store=tls.describe_system_store("win32"),
    )
    assert system_only.trusted is True and system_only.openssl_trusted is False
    assert system_only.trust_disagreement == (
        f"Python's OpenSSL with {not_trusting.openssl_store} says: not trusted "
        "(unable to get local issuer certificate)"
    )
    assert system_only.trust_disagreement in system_only.summary()
    openssl_only = dataclasses.replace(trusting, system_verified=not_trusting.system_verified)
    assert openssl_only.trusted is False
    assert openssl_only.trust_words == "unable to get local issuer certificate"
    assert openssl_only.trust_disagreement is not None
    assert openssl_only.trust_disagreement.endswith("says: trusted")


async def test_without_truststore_openssl_decides(monkeypatch: Any) -> None:
    monkeypatch.setattr(tls, "_system_context", lambda: None)
    async with running("tls-self-signed") as lab:
        result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
    assert result.system_verified is None and result.system_trusted is None
    assert result.trusted is False and result.trust_words == "self-signed certificate"


async def test_a_system_verifier_that_hangs_is_abandoned_within_the_budget(
    monkeypatch: Any,
) -> None:
    """Windows' chain engine may fetch roots over the network: a verifier that never returns
    costs the probe its budget, not more."""
    monkeypatch.setattr(tls, "_asks_the_system", lambda: True)
    release = threading.Event()

    class Hanging(ssl.SSLContext):
        def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
            release.wait(30)
            return super().wrap_bio(*args, **kwargs)

    def hanging() -> ssl.SSLContext:
        context = Hanging(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    monkeypatch.setattr(tls, "_system_context", hanging)
    try:
        async with running("tls-self-signed") as lab:
            watch = Stopwatch()
            result = await probe_tls(lab.address, 1433, timeout=1.0)
            elapsed = watch.elapsed()
    finally:
        release.set()
    assert result.system_verified is not None
    assert result.system_verified.failure is Failure.TIMEOUT
    assert result.system_trusted is None and result.trusted is False  # OpenSSL decided
    assert elapsed < 1.0 + 0.5


async def test_cas_named_by_ssl_cert_file_join_the_system_verifier(monkeypatch: Any) -> None:
    """On Windows and macOS truststore ignores SSL_CERT_FILE unless handed it; the lab's test CA
    (and a person's own) is handed over when the context is made. Linux's truststore reads the
    variable itself at each handshake. Shown by real handshakes, with the variable gone by then:
    the CA handed over still counts, nothing else does. (The Windows and macOS verifiers never
    ran here: this checks what they are given.)"""
    async with running("tls-trusted") as lab:
        assert lab.ca_file is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(lab.ca_file))
        assert str(lab.ca_file) in tls.describe_system_store("win32")
        made = {p: tls._system_context(p) for p in ("win32", "darwin", "linux")}
        monkeypatch.delenv("SSL_CERT_FILE")
        words = {}
        for platform, context in made.items():
            assert context is not None
            words[platform] = await _handshake_words(lab.address, context)
    assert words["win32"] is None and words["darwin"] is None
    assert words["linux"] == "unable to get local issuer certificate"
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert tls.describe_system_store("win32") == (
        "the Windows certificate store, through the system's verifier (Schannel)"
    )


async def test_on_linux_the_system_verifier_is_not_asked_twice() -> None:
    """Linux's system verifier is OpenSSL with the same store: one answer, no second handshake."""
    assert tls._asks_the_system("win32") and tls._asks_the_system("darwin")
    assert not tls._asks_the_system("linux")
    if sys.platform == "linux":
        async with running("tls-self-signed") as lab:
            result = await probe_tls(lab.address, 1433, timeout=TIMEOUT)
        assert result.system_verified is None and result.trusted is False
        assert result.store == tls.describe_store()
