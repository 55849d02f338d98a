"""The client-family table: inference from what people paste, and the rule of each family
against servers described as the TLS probe would see them (no network here)."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tui.knowledge.causes import RootCause
from tui.knowledge.clients import (
    BY_ID,
    FAMILIES,
    LINUX,
    WINDOWS,
    Agreement,
    Check,
    Outcome,
    build_table,
    infer,
    predict,
    resolve_name,
    understands,
)
from tui.lab.certs import CertSpec, make_material
from tui.probes.tls import (
    Certificate,
    Failure,
    Handshake,
    TlsResult,
    TlsStatus,
    Transport,
    VersionCheck,
    VersionState,
)
from tui.target import parse_target
from tui.wire.prelogin import Encryption

SELF_SIGNED = "error:0A000086:SSL routines::certificate verify failed:self-signed certificate"


def _cert(spec: CertSpec) -> Certificate:
    pem = make_material(spec).cert_pem
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return Certificate.from_der(der)


def server(
    encryption: Encryption | None = Encryption.OFF,
    *,
    spec: CertSpec | None = None,
    trusted: bool = False,
    words: str = "self-signed certificate",
    versions: tuple[str, ...] = ("1.2",),
    local_ok: bool = True,
    strict: bool = False,
    host: str = "db1",
) -> TlsResult:
    """A server as the probe would describe it."""
    spec = spec if spec is not None else CertSpec(name="db1")
    no_tls = encryption is Encryption.NOT_SUP
    tds7_ok = encryption is not None and not no_tls
    tds7 = Handshake(
        Transport.TDS7,
        "1.0-1.3",
        tds7_ok,
        1.0,
        server_encryption=encryption,
        version=versions[-1] if tds7_ok else None,
        failure=None if tds7_ok else (Failure.NO_TLS if no_tls else Failure.CLOSED),
    )
    strict_handshake = Handshake(
        Transport.STRICT,
        "1.0-1.3",
        strict,
        1.0,
        version="1.3" if strict else None,
        failure=None if strict else Failure.CLOSED,
    )
    if not (tds7_ok or strict):
        status = TlsStatus.NO_TLS if no_tls else TlsStatus.UNREACHABLE
        return TlsResult("127.0.0.9", 1433, host, status, 1.0, 1.0, tds7, strict_handshake)
    verified = Handshake(
        Transport.TDS7,
        "1.0-1.3",
        trusted,
        1.0,
        failure=None if trusted else Failure.VERIFY,
        reason=None if trusted else "CERTIFICATE_VERIFY_FAILED",
        message="" if trusted else "certificate verify failed",
        verify_message=None if trusted else words,
    )
    local = Handshake(
        Transport.TDS7,
        "1.0-1.3",
        local_ok,
        1.0,
        failure=None if local_ok else Failure.LOCAL,
        reason=None if local_ok else "LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED",
        message="" if local_ok else "legacy sigalg disallowed or unsupported",
    )
    checks = tuple(
        VersionCheck(v, VersionState.ACCEPTED if v in versions else VersionState.REFUSED, "")
        for v in ("1.0", "1.1", "1.2", "1.3")
    )
    return TlsResult(
        "127.0.0.9",
        1433,
        host,
        TlsStatus.TLS,
        1.0,
        1.0,
        tds7,
        strict_handshake,
        verified=verified,
        local_default=local,
        versions=checks,
        certificate=_cert(spec),
    )


def _outcome(family: str, target: str, tls: TlsResult, platform: str = LINUX) -> tuple[Any, Any]:
    p = predict(BY_ID[family], parse_target(target), tls, platform)
    return p.outcome, p.check


# -- which client -----------------------------------------------------------------------------


def test_family_is_inferred_from_what_people_paste() -> None:
    cases = {
        "Driver={ODBC Driver 18 for SQL Server};Server=db1": ("odbc18",),
        "Driver={ODBC Driver 17 for SQL Server};Server=db1": ("odbc17",),
        "DRIVER={ODBC Driver 13 for SQL Server};SERVER=db1": ("odbc17",),
        "Driver={FreeTDS};Server=db1;Port=1433": ("freetds",),
        "Provider=MSOLEDBSQL19;Data Source=db1": ("oledb19",),
        "Provider=MSOLEDBSQL;Data Source=db1": ("oledb18",),
        "Provider=SQLNCLI11;Data Source=db1": ("sqlncli11",),
        "jdbc:sqlserver://db1:1433;encrypt=true": ("jdbc",),
        "Data Source=db1;Initial Catalog=Sales;User ID=app": (
            "sqlclient4",
            "sqlclient2",
            "sqlclient1",
        ),
    }
    for text, expected in cases.items():
        inference = infer(parse_target(text))
        assert tuple(f.id for f in inference.families) == expected, text
        assert inference.known == (len(expected) == 1), text
    unknown = infer(parse_target("db1"))
    assert not unknown.known and {f.id for f in unknown.families} == {
        f.id for f in FAMILIES if f.common
    }


def test_stated_client_wins_and_names_resolve() -> None:
    target = parse_target("Driver={ODBC Driver 17 for SQL Server};Server=db1")
    assert infer(target, "odbc18").families == (BY_ID["odbc18"],)
    assert resolve_name("mssql-python") == "odbc18" and resolve_name("ODBC17") == "odbc17"
    assert resolve_name("auto") == "auto" and resolve_name("netscape") is None


def test_a_string_written_for_another_driver_is_not_its_candidate() -> None:
    with_encrypt = parse_target("Server=db1;Encrypt=yes")
    assert not understands(BY_ID["freetds"], with_encrypt)  # FreeTDS reads Encryption=
    assert understands(BY_ID["odbc18"], with_encrypt)
    freetds_style = parse_target("Server=db1;Encryption=require")
    assert understands(BY_ID["freetds"], freetds_style)
    assert not understands(BY_ID["odbc18"], freetds_style)
    assert "freetds" not in {f.id for f in infer(with_encrypt).families}


# -- each family's rule -----------------------------------------------------------------------


def test_self_signed_login_only_server_splits_the_families() -> None:
    tls = server()
    assert _outcome("odbc18", "db1", tls) == (Outcome.FAILS, Check.UNTRUSTED)
    assert _outcome("sqlclient4", "db1", tls) == (Outcome.FAILS, Check.UNTRUSTED)
    assert _outcome("odbc17", "db1", tls) == (Outcome.CONNECTS, None)
    assert _outcome("sqlclient1", "db1", tls) == (Outcome.CONNECTS, None)
    assert _outcome("freetds", "db1", tls) == (Outcome.CONNECTS, None)
    table = build_table(parse_target("db1"), tls, platform=LINUX)
    assert table.agreement is Agreement.MIXED
    line = table.line()
    assert "ODBC Driver 18" in line and "fail, certificate not trusted (self-signed" in line
    assert "ODBC Driver 17" in line and "connect." in line


def test_encrypt_yes_fails_every_driver_that_reads_it_without_credentials() -> None:
    table = build_table(parse_target("Server=db1;Encrypt=yes"), server(), platform=LINUX)
    assert table.agreement is Agreement.ALL_FAIL
    deciding = table.deciding
    assert deciding is not None and deciding.family.id == "odbc18"
    assert deciding.check is Check.UNTRUSTED and deciding.root_cause is RootCause.TLS_FAILED
    assert deciding.errors[LINUX] == (
        f"[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: [{SELF_SIGNED}]"
    )
    assert deciding.errors[WINDOWS] == (
        "[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: The certificate chain was "
        "issued by an authority that is not trusted."
    )


def test_forced_encryption_checks_only_for_the_newer_rule() -> None:
    forced = server(Encryption.REQ)
    odbc_no = "Driver={ODBC Driver 18 for SQL Server};Server=db1;Encrypt=no"
    assert _outcome("odbc18", odbc_no, forced) == (Outcome.FAILS, Check.UNTRUSTED)
    assert _outcome("sqlclient2", "Server=db1;Encrypt=no", forced) == (
        Outcome.FAILS,
        Check.UNTRUSTED,
    )
    assert _outcome("odbc17", "Server=db1;Encrypt=no", forced) == (Outcome.CONNECTS, None)
    assert _outcome("sqlclient1", "Server=db1", forced) == (Outcome.CONNECTS, None)
    trusting = odbc_no + ";TrustServerCertificate=yes"
    assert _outcome("odbc18", trusting, forced) == (Outcome.CONNECTS, None)
    p = predict(BY_ID["odbc18"], parse_target(odbc_no), forced, LINUX)
    assert "Encrypt=no does not change that" in p.reason and p.encryption == "whole connection"
    assert _outcome("freetds", "Server=db1;Encryption=off", forced) == (
        Outcome.FAILS,
        Check.CLIENT_CANNOT,
    )


def test_no_encryption_on_the_server() -> None:
    plain = server(Encryption.NOT_SUP)
    assert _outcome("odbc18", "db1", plain) == (Outcome.FAILS, Check.NO_ENCRYPTION)
    assert _outcome("odbc17", "db1", plain) == (Outcome.CONNECTS, None)
    assert _outcome("odbc17", "Server=db1;Encrypt=yes", plain) == (
        Outcome.FAILS,
        Check.NO_ENCRYPTION,
    )
    p = predict(BY_ID["odbc18"], parse_target("db1"), plain, LINUX)
    assert p.root_cause is RootCause.ENCRYPTION_MISMATCH
    assert p.errors[LINUX] == (
        "[Microsoft][ODBC Driver 18 for SQL Server]Encryption not supported on SQL Server."
    )


def test_name_expiry_and_trust_in_the_drivers_order() -> None:
    trusted_other = server(spec=CertSpec(name="OLDHOST"), trusted=True)
    assert _outcome("odbc18", "db1", trusted_other) == (Outcome.FAILS, Check.NAME)
    hnic = "Server=db1;HostNameInCertificate=OLDHOST"
    assert _outcome("odbc18", hnic, trusted_other) == (Outcome.CONNECTS, None)
    assert _outcome("sqlclient2", hnic + ";Encrypt=yes", trusted_other) == (
        Outcome.FAILS,
        Check.NAME,
    )  # HostNameInCertificate came with SqlClient 5
    expired = server(spec=CertSpec(name="db1", expired=True), words="certificate has expired")
    assert _outcome("odbc18", "db1", expired) == (Outcome.FAILS, Check.EXPIRED)
    p = predict(BY_ID["odbc18"], parse_target("db1"), expired, LINUX)
    assert p.errors[LINUX] is not None and p.errors[LINUX].endswith("certificate has expired]")
    self_signed_expired = server(spec=CertSpec(name="db1", expired=True))
    assert _outcome("odbc18", "db1", self_signed_expired) == (Outcome.FAILS, Check.UNTRUSTED)
    good = server(spec=CertSpec(name="db1"), trusted=True)
    assert _outcome("odbc18", "db1", good) == (Outcome.CONNECTS, None)
    assert _outcome("odbc18", "DB1", good) == (Outcome.CONNECTS, None)


def test_old_tls_versions() -> None:
    old = server(versions=("1.0",), local_ok=False)
    assert _outcome("odbc18", "Server=db1;TrustServerCertificate=yes", old) == (
        Outcome.FAILS,
        Check.TLS_VERSION,
    )
    assert _outcome("odbc17", "db1", old) == (Outcome.FAILS, Check.TLS_VERSION)
    assert _outcome("freetds", "db1", old) == (Outcome.CONNECTS, None)
    assert _outcome("jdbc", "db1", old) == (Outcome.FAILS, Check.TLS_VERSION)
    assert _outcome("odbc18", "db1", old, WINDOWS) == (Outcome.DEPENDS, Check.TLS_VERSION)
    p = predict(BY_ID["odbc18"], parse_target("db1"), old, LINUX)
    assert p.errors[LINUX] == (
        "[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: "
        "[error:0A00014D:SSL routines::legacy sigalg disallowed or unsupported]"
    )


def test_tds8_strict() -> None:
    strict_only = server(None, strict=True, trusted=True)
    assert _outcome("odbc18", "Server=db1;Encrypt=yes", strict_only) == (
        Outcome.FAILS,
        Check.STRICT_REQUIRED,
    )
    assert _outcome("odbc18", "Server=db1;Encrypt=strict", strict_only) == (Outcome.CONNECTS, None)
    assert _outcome("odbc17", "Server=db1;Encrypt=strict", strict_only) == (
        Outcome.FAILS,
        Check.STRICT_NOT_IN_DRIVER,
    )
    untrusted = server(None, strict=True)
    strict_trusting = "Server=db1;Encrypt=strict;TrustServerCertificate=yes"
    assert _outcome("odbc18", strict_trusting, untrusted) == (Outcome.FAILS, Check.UNTRUSTED)
    no_tds8 = server(trusted=True)
    assert _outcome("odbc18", "Server=db1;Encrypt=strict", no_tds8) == (
        Outcome.FAILS,
        Check.STRICT_UNSUPPORTED,
    )


def test_table_json_marks_the_candidates_and_says_the_rule() -> None:
    table = build_table(
        parse_target("Driver={ODBC Driver 18 for SQL Server};Server=db1"), server(), platform=LINUX
    )
    rows = table.to_json()
    assert rows[0]["id"] == "odbc18" and rows[0]["candidate"] is True
    assert sum(1 for row in rows if row["candidate"]) == 1
    assert rows[0]["encrypt_default"] == "yes"
    assert rows[0]["certificate_checked"].startswith("whenever it encrypts")
    assert rows[0]["failed_check"] == "certificate not trusted"
    assert rows[0]["error_sources"]
    assert table.agreement is Agreement.ALL_FAIL
