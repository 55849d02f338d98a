"""Certificates for the lab, made at start: self-signed like a default SQL Server, or issued by a
test CA, for the right name or another one, current or expired.

SQL Server with no certificate provisioned makes a self-signed one at start-up; the lab does
the same, so clients meet exactly what they meet in the field.

Key identifiers are what real certificates carry. A CA's certificate has a Subject Key
Identifier, and what it issues names it in an Authority Key Identifier (RFC 5280 4.2.1.1-2:
"MUST" for conforming CAs); OpenSSL's strict mode, on by default in Python 3.13, refuses a chain
without them ("Missing Authority Key Identifier"). SQL Server's own self-signed fallback
certificate (CN=SSL_Self_Signed_Fallback; signed with SHA-256 since SQL Server 2017, SHA-1
before, per Microsoft's SQL Server Support blog "Changes to hashing algorithm for self-signed
certificate in SQL Server 2017") has no extensions at all: two public notes (unattributed,
code-index ids 71150308760 and 70895975127) read one as "Extensions: None", RSA 1024, 30 years'
validity, and another, from a SQL Server container, as "an X.509 v1 certificate". The lab's
self-signed certificate keeps its name and SAN (the lessons are about names); a self-signed
certificate alone is exempt from the strict rules, as it is from RFC 5280's (checked on 3.13).
`CertSpec.key_identifiers=False` makes the older, non-conforming kind some in-house CAs
still issue, to show the drivers trust it all the same.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertSpec:
    """What certificate a scenario's server presents."""

    name: str = "SQLHOST01"  # CN and DNS SAN; the lab's default instance name
    issuer: str = "self"  # self, or ca: issued by the lab's test CA
    expired: bool = False
    san_addresses: tuple[str, ...] = ()
    san_names: tuple[str, ...] = ()  # more DNS names (an Azure node's own worker name)
    key_identifiers: bool = True  # SKI on the CA, AKI (and SKI) on what it issues


@dataclass(frozen=True)
class Material:
    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes | None  # the CA a client must trust when issuer == "ca"

    def write(self, directory: Path) -> tuple[Path, Path, Path | None]:
        cert, key = directory / "server.crt", directory / "server.key"
        cert.write_bytes(self.cert_pem)
        key.write_bytes(self.key_pem)
        key.chmod(0o600)
        ca = None
        if self.ca_pem is not None:
            ca = directory / "ca.crt"
            ca.write_bytes(self.ca_pem)
        return cert, key, ca


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_ca(
    common_name: str = "sqlreach lab test CA", *, key_identifiers: bool = True
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if key_identifiers:
        identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = builder.add_extension(identifier, critical=False).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier),
            critical=False,
        )
    return builder.sign(key, hashes.SHA256()), key


@functools.cache
def make_material(spec: CertSpec) -> Material:
    """The key and certificate for `spec`, made once per process (as SQL Server makes its
    self-signed one once per start): most scenarios present one, and RSA keys are slow to make."""
    key = _key()
    now = dt.datetime.now(dt.UTC)
    if spec.expired:
        not_before, not_after = now - dt.timedelta(days=400), now - dt.timedelta(days=30)
    else:
        not_before, not_after = now - dt.timedelta(days=1), now + dt.timedelta(days=365)
    alternative: list[x509.GeneralName] = [x509.DNSName(spec.name)]
    alternative += [x509.DNSName(name) for name in spec.san_names]
    alternative += [x509.IPAddress(ipaddress.ip_address(a)) for a in spec.san_addresses]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(spec.name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    ca_pem: bytes | None = None
    if spec.issuer == "ca":
        ca_cert, ca_key = make_ca(key_identifiers=spec.key_identifiers)
        if spec.key_identifiers:
            issuer_id = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_id.value),
                critical=False,
            )
        cert = builder.issuer_name(ca_cert.subject).sign(ca_key, hashes.SHA256())
        ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    else:
        cert = builder.issuer_name(_name(spec.name)).sign(key, hashes.SHA256())
    return Material(cert.public_bytes(serialization.Encoding.PEM), _pem(key), ca_pem)


def server_context(
    material: Material,
    *,
    max_version: ssl.TLSVersion | None = None,
    min_version: ssl.TLSVersion | None = None,
    alpn: tuple[str, ...] = (),
) -> ssl.SSLContext:
    """A server-side context; SQL Server under TDS 7.x speaks at most TLS 1.2."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="sqlreach-lab-") as directory:
        cert, key, _ = material.write(Path(directory))
        context.load_cert_chain(cert, key)
    if min_version is not None:
        if min_version < ssl.TLSVersion.TLSv1_2:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = min_version
    if max_version is not None:
        context.maximum_version = max_version
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context
