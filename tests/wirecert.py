"""A self-signed certificate made at test time (as SQL Server makes one when none is
provisioned), and the server-side TLS context the wire tests use.

Like SQL Server's own fallback certificate it has no extensions: no SAN, no key identifiers (see
tui/lab/certs.py for what the real one holds). A lone self-signed certificate needs none, even
under Python 3.13's VERIFY_X509_STRICT."""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    der: bytes


def make_certificate(folder: Path, common_name: str = "SSL_Self_Signed_Fallback") -> Certificate:
    # RSA: every client tried (GnuTLS in FreeTDS, OpenSSL in ODBC 18, impacket) accepts it.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(
        folder / "cert.pem", folder / "key.pem", cert.public_bytes(serialization.Encoding.DER)
    )


def server_context(certificate: Certificate, *, tls13: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    if not tls13:
        context.maximum_version = ssl.TLSVersion.TLSv1_2  # as SQL Server under TDS 7.x
    return context
