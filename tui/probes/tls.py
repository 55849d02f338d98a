"""The TLS probe: what a driver meets after the pre-login, seen without any credentials.

The server's encryption answer; the certificate (subject, names, issuer, self-signed or not,
validity dates, trusted by this machine's store or not); which TLS versions the server accepts;
whether it speaks TDS 8 strict (TLS first, ALPN `tds/8.0`); and what this machine's OpenSSL
says at its default security level, which is what ODBC drivers on Linux say too.

Every handshake goes through `tui.wire.tlsbridge` on a connection of its own. Phase one looks
(TDS 7.x inside PRELOGIN packets, and TDS 8 strict, side by side, certificate not checked);
phase two asks the questions over the transport that worked (verified against the default
store, one TLS version at a time, the default security level). The whole probe spends one
budget: it ends within `timeout`.

Trust is judged twice, each time during a real handshake. Python's OpenSSL with this machine's
CA file (`create_default_context`, which honours `SSL_CERT_FILE` / `SSL_CERT_DIR` and the default
verify paths) gives the words ODBC on Linux prints ("self-signed certificate", "certificate has
expired"). The operating system's own verifier, through `truststore`, gives what "trusted by this
machine" means to Schannel on Windows and to the Keychain on macOS (root auto-update, enterprise
roots, distrust the CA file knows nothing of); on Linux it would be OpenSSL again, with the same
store, so it is not asked there.
`trusted` is the system's answer when it reached one, and the OpenSSL answer is shown beside it
when the two differ (macOS's ODBC Driver 18 links OpenSSL, not the Keychain).

Both judge the chain as the drivers do, on every Python: 3.13 added VERIFY_X509_STRICT and
VERIFY_X509_PARTIAL_CHAIN to `create_default_context` (CPython gh-107361), and no SQL Server
driver applies them, so they are cleared (see `DRIVERS_DO_NOT_APPLY`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import ipaddress
import os
import socket
import ssl
import sys
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from tui.probes.base import Evidence, JsonValue, Stopwatch, in_daemon_thread
from tui.probes.errors import describe_os_error
from tui.wire import prelogin, tds
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption
from tui.wire.tlsbridge import TlsChannel, client_strict, client_tls

TLS_VERSIONS: Final = ("1.0", "1.1", "1.2", "1.3")
_VERSION_ENUM: Final = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
_VERSION_NAME: Final = {"TLSv1": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3"}
_LENIENT_CIPHERS: Final = "DEFAULT:@SECLEVEL=0"  # to see what the server does, not to judge it
# Python 3.13's create_default_context turns these on (gh-107361); the drivers do not, so a
# CA-issued certificate without an Authority Key Identifier, which OpenSSL's strict mode refuses
# ("Missing Authority Key Identifier"), is trusted by them and must be trusted here:
# - ODBC Driver 18 on Linux (OpenSSL): connects to such a server once its CA is trusted
#   (tests/test_tls_witnesses.py, mssql-python's bundled 18.6 driver);
# - FreeTDS: src/tds/tls.c sets only the CRL flags on its OpenSSL store, and its GnuTLS build calls
#   gnutls_certificate_verify_peers2 without strict flags (FreeTDS/freetds@7cce67e1);
# - PARTIAL_CHAIN (a non-root certificate in the store ends the chain) is cleared too, keeping the
#   answer Python 3.11 and 3.12 give, which is what the drivers above were checked against.
# Windows (CryptoAPI), macOS (Security framework), JDBC and .NET were not checked for either rule.
DRIVERS_DO_NOT_APPLY: Final = ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
# OpenSSL 3 error codes (ERR_LIB_SSL << 23 | reason) of the reasons drivers were seen printing.
_OPENSSL_CODES: Final = {
    "CERTIFICATE_VERIFY_FAILED": 0x0A000086,
    "LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED": 0x0A00014D,
    "UNSUPPORTED_PROTOCOL": 0x0A000102,
}


class Transport(StrEnum):
    TDS7 = "TDS 7.x (TLS inside PRELOGIN packets)"
    STRICT = "TDS 8 strict (TLS first, ALPN tds/8.0)"


class Failure(StrEnum):
    """Why a handshake did not complete."""

    NO_TLS = "no-tls"  # the server answered the pre-login with NOT_SUP: it offers no TLS
    REFUSED = "refused"  # the server sent a TLS alert (a version or cipher it will not take)
    LOCAL = "local"  # this machine's OpenSSL refused (a version, a signature, a cipher)
    VERIFY = "verify"  # the certificate failed verification
    CLOSED = "closed"  # the server closed or reset the connection during the handshake
    NOT_TLS = "not-tls"  # the answer was not TLS (or not TDS)
    OVERSIZED = "oversized"  # a certificate or handshake message too large: a protocol violation
    TIMEOUT = "timeout"
    CONNECT = "connect"  # no TCP connection


@dataclass(frozen=True)
class Handshake:
    """One TLS handshake attempt on a connection of its own."""

    transport: Transport
    offered: str  # "1.0-1.3", "1.2 only"
    ok: bool
    elapsed_ms: float
    server_encryption: Encryption | None = None  # the pre-login answer (TDS 7.x)
    version: str | None = None  # "1.2"
    cipher: str | None = None
    alpn: str | None = None
    certificate_der: bytes | None = None
    failure: Failure | None = None
    reason: str | None = None  # OpenSSL's reason name: CERTIFICATE_VERIFY_FAILED
    message: str = ""  # plain words: "legacy sigalg disallowed or unsupported"
    verify_message: str | None = None  # OpenSSL's verify words: "self-signed certificate"
    verify_code: int | None = None
    server_version: tuple[int, int, int, int] | None = None  # from a PRELOGIN inside TDS 8

    @property
    def openssl_error(self) -> str | None:
        """OpenSSL's error as ODBC drivers print it inside `SSL Provider: [...]`."""
        if self.reason is None:
            return None
        code = _OPENSSL_CODES.get(self.reason)
        words = self.message
        if self.verify_message:
            words = f"{words}:{self.verify_message}"
        return f"error:{code:08X}:SSL routines::{words}" if code else words

    def evidence(self) -> Evidence:
        return {
            "transport": self.transport.name,
            "offered": self.offered,
            "ok": self.ok,
            "server_encryption": self.server_encryption.name
            if self.server_encryption is not None
            else None,
            "version": self.version,
            "cipher": self.cipher,
            "alpn": self.alpn,
            "failure": self.failure.value if self.failure else None,
            "reason": self.reason,
            "message": self.message,
            "verify_message": self.verify_message,
            "elapsed_ms": self.elapsed_ms,
        }


@dataclass(frozen=True)
class Certificate:
    """The server's certificate, read with `cryptography`; nothing here is judged yet."""

    subject: str
    common_name: str | None
    issuer: str
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    self_signed: bool
    sha1: str  # the thumbprint Windows shows, and what SuperSocketNetLib `Certificate` holds
    sha256: str
    key: str
    signature_hash: str | None

    @classmethod
    def from_der(cls, der: bytes) -> Certificate:
        cert = x509.load_der_x509_certificate(der)
        common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = tuple(names.get_values_for_type(x509.DNSName))
            ips = tuple(str(a) for a in names.get_values_for_type(x509.IPAddress))
        except (x509.ExtensionNotFound, ValueError):
            dns, ips = (), ()
        self_signed = cert.issuer == cert.subject
        if self_signed:
            try:
                cert.verify_directly_issued_by(cert)
            except (ValueError, TypeError, InvalidSignature):  # signed by another key
                self_signed = False
        algorithm = cert.signature_hash_algorithm
        return cls(
            subject=cert.subject.rfc4514_string(),
            common_name=str(common[0].value) if common else None,
            issuer=cert.issuer.rfc4514_string(),
            dns_names=dns,
            ip_addresses=ips,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            self_signed=self_signed,
            sha1=hashlib.sha1(der, usedforsecurity=False).hexdigest().upper(),
            sha256=hashlib.sha256(der).hexdigest().upper(),
            key=_key_words(cert),
            signature_hash=algorithm.name if algorithm is not None else None,
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The names a driver compares with the server name: the DNS names, then the CN."""
        found = list(self.dns_names)
        if self.common_name and self.common_name not in found:
            found.append(self.common_name)
        return tuple(found)

    def matches(self, name: str) -> bool:
        """Does `name` match a DNS name or the CN (case-insensitive, `*.` for one label)?

        IP addresses in the certificate are not consulted: ODBC Driver 18 refused a connection
        by IP address to a certificate that listed that address (observed on Linux, 18.6)."""
        wanted = name.rstrip(".").casefold()
        for candidate in self.names:
            pattern = candidate.rstrip(".").casefold()
            if pattern == wanted:
                return True
            if pattern.startswith("*.") and "." in wanted:
                head, _, rest = wanted.partition(".")
                if head and rest == pattern[2:]:
                    return True
        return False

    def expired(self, now: dt.datetime) -> bool:
        return now > self.not_after

    def not_yet_valid(self, now: dt.datetime) -> bool:
        return now < self.not_before

    def evidence(self) -> Evidence:
        return {
            "subject": self.subject,
            "common_name": self.common_name,
            "issuer": self.issuer,
            "dns_names": list(self.dns_names),
            "ip_addresses": list(self.ip_addresses),
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "self_signed": self.self_signed,
            "sha1_thumbprint": self.sha1,
            "sha256": self.sha256,
            "key": self.key,
            "signature_hash": self.signature_hash,
        }


def _verdict(handshake: Handshake | None) -> bool | None:
    """True or False once a verifier reached the certificate; None when it never did."""
    if handshake is None:
        return None
    if handshake.ok:
        return True
    return False if handshake.failure is Failure.VERIFY else None


def _key_words(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return type(key).__name__.removesuffix("PublicKey")
    return type(key).__name__


class VersionState(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNTESTABLE = "untestable"  # this machine's OpenSSL cannot offer that version
    UNKNOWN = "unknown"  # timed out or failed for another reason


@dataclass(frozen=True)
class VersionCheck:
    version: str
    state: VersionState
    detail: str

    def evidence(self) -> Evidence:
        return {"version": self.version, "state": self.state.value, "detail": self.detail}


class TlsStatus(StrEnum):
    TLS = "TLS"  # a handshake completed and the certificate was read
    NO_TLS = "NO_TLS"  # the server offers no TLS (NOT_SUP) and no TDS 8
    FAILED = "FAILED"  # TLS was offered but no handshake completed (see `main.failure`)
    UNREACHABLE = "UNREACHABLE"  # neither transport got an answer


@dataclass(frozen=True)
class TlsResult:
    address: str
    port: int
    host: str  # the name the client uses (what the certificate's name is compared with)
    status: TlsStatus
    timeout: float
    elapsed_ms: float
    tds7: Handshake
    strict: Handshake
    verified: Handshake | None = None  # Python's OpenSSL against this machine's CA file
    local_default: Handshake | None = None  # this machine's OpenSSL at its default level
    versions: tuple[VersionCheck, ...] = ()
    certificate: Certificate | None = None
    store: str = ""  # where `trusted` was decided
    checked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    system_verified: Handshake | None = None  # the operating system's verifier (truststore)
    openssl_store: str = ""  # the CA file or directory Python's OpenSSL used

    # -- what was found ----------------------------------------------------------------

    @property
    def encryption(self) -> Encryption | None:
        """The server's answer to a pre-login that offered ENCRYPT_OFF."""
        return self.tds7.server_encryption

    @property
    def strict_supported(self) -> bool:
        return self.strict.ok

    @property
    def strict_only(self) -> bool:
        """TDS 8 works and a TDS 7.x pre-login gets no answer."""
        return self.strict.ok and self.tds7.server_encryption is None

    @property
    def main(self) -> Handshake:
        """The handshake that showed the certificate (TDS 7.x when it worked)."""
        return self.tds7 if self.tds7.ok or not self.strict.ok else self.strict

    @property
    def openssl_trusted(self) -> bool | None:
        """Python's OpenSSL with the CA file; None when it did not reach the certificate."""
        return _verdict(self.verified)

    @property
    def system_trusted(self) -> bool | None:
        """The operating system's verifier; None when it did not run or reached no answer."""
        return _verdict(self.system_verified)

    @property
    def trusted(self) -> bool | None:
        """Trusted by this machine: the system's answer when there is one, else OpenSSL's."""
        system = self.system_trusted
        return system if system is not None else self.openssl_trusted

    @property
    def trust_words(self) -> str | None:
        """The verifier's words: 'self-signed certificate', 'certificate has expired' (OpenSSL),
        or the system's own ('A certificate chain processed, but terminated in a root
        certificate which is not trusted by the trust provider.' on Windows)."""
        handshake = self.system_verified if self.system_trusted is not None else self.verified
        if handshake is None or handshake.ok:
            return None
        return handshake.verify_message or handshake.message or None

    @property
    def trust_disagreement(self) -> str | None:
        """What Python's OpenSSL says, when it differs from the system's verifier."""
        system, openssl = self.system_trusted, self.openssl_trusted
        if system is None or openssl is None or system == openssl or self.verified is None:
            return None
        words = "trusted" if openssl else f"not trusted ({self.verified.verify_message})"
        return f"Python's OpenSSL with {self.openssl_store or 'its CA file'} says: {words}"

    def accepted_versions(self) -> tuple[str, ...]:
        found = tuple(v.version for v in self.versions if v.state is VersionState.ACCEPTED)
        if not found and self.main.ok and self.main.version:
            return (self.main.version,)
        return found

    def version(self, name: str) -> VersionCheck | None:
        return next((v for v in self.versions if v.version == name), None)

    # -- the probe result protocol -------------------------------------------------------

    def evidence(self) -> Evidence:
        versions: list[JsonValue] = [v.evidence() for v in self.versions]
        return {
            "address": self.address,
            "port": self.port,
            "host": self.host,
            "status": self.status.value,
            "encryption": self.encryption.name if self.encryption is not None else None,
            "strict_supported": self.strict_supported,
            "strict_only": self.strict_only,
            "tds7": self.tds7.evidence(),
            "strict": self.strict.evidence(),
            "verified": self.verified.evidence() if self.verified else None,
            "system_verified": self.system_verified.evidence() if self.system_verified else None,
            "local_default": self.local_default.evidence() if self.local_default else None,
            "versions": versions,
            "certificate": self.certificate.evidence() if self.certificate else None,
            "trusted": self.trusted,
            "trust_words": self.trust_words,
            "openssl_trusted": self.openssl_trusted,
            "system_trusted": self.system_trusted,
            "store": self.store,
            "openssl_store": self.openssl_store,
            "timeout_s": self.timeout,
            "elapsed_ms": self.elapsed_ms,
        }

    def summary(self) -> str:
        where = f"{self.address} port {self.port}"
        if self.status is TlsStatus.NO_TLS:
            return f"{where} offers no encryption (pre-login answer NOT_SUP) and no TDS 8"
        if self.status is TlsStatus.UNREACHABLE:
            return f"{where}: no TLS handshake could start ({self.tds7.message})"
        if self.status is TlsStatus.FAILED:
            return f"{where}: the TLS handshake fails ({self.main.message})"
        parts = [f"TLS {self.main.version}"]
        if self.certificate is not None:
            cert = self.certificate
            kind = "self-signed" if cert.self_signed else f"issued by {cert.issuer}"
            parts.append(f"certificate {cert.common_name or cert.subject} ({kind})")
            if self.trusted is True:
                parts.append("trusted here")
            elif self.trusted is False:
                parts.append(f"not trusted here: {self.trust_words}")
            if self.trust_disagreement:
                parts.append(self.trust_disagreement)
        accepted = self.accepted_versions()
        parts.append("server accepts TLS " + (", ".join(accepted) if accepted else "(unknown)"))
        parts.append(
            "TDS 8 strict: "
            + ("only" if self.strict_only else "yes" if self.strict_supported else "no")
        )
        return f"{where}: " + "; ".join(parts)


# ------------------------------------------------------------------------------------------
# contexts


def _looking_context(versions: tuple[str, str] | None = None) -> ssl.SSLContext:
    """No verification, every version this OpenSSL can offer, lenient ciphers."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(_LENIENT_CIPHERS)
    low, high = versions or ("1.0", "1.3")
    with warnings.catch_warnings():  # TLS 1.0 and 1.1 are offered on purpose, to test them
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = _VERSION_ENUM[low]
        context.maximum_version = _VERSION_ENUM[high]
    return context


def _verifying_context() -> ssl.SSLContext:
    """This machine's trust store (SSL_CERT_FILE honoured); names are judged per driver later."""
    return _as_drivers_verify(ssl.create_default_context())


def _asks_the_system(platform: str = sys.platform) -> bool:
    """Windows and macOS have verifiers of their own. Linux's is OpenSSL with the same store,
    which would give the same answer again for another handshake (about 20 ms here), so it is
    not asked there (the tests ask it, to run the path)."""
    return platform in ("win32", "darwin")


def _system_context(platform: str = sys.platform) -> ssl.SSLContext | None:
    """The operating system's verifier (Schannel's chain engine, the Keychain; OpenSSL with the
    same default paths on Linux), or None when `truststore` is not installed.

    CAs named by SSL_CERT_FILE / SSL_CERT_DIR are trusted by it too: that is how a person (and
    the lab, for its test CA) says "my client trusts this CA". truststore on Windows and macOS
    tries such CAs after the system's own roots; on Linux it reads them already."""
    try:
        import truststore
    except ImportError:
        return None
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    named = _named_cas()
    if platform in ("win32", "darwin") and named != (None, None):
        with contextlib.suppress(OSError, ssl.SSLError):
            context.load_verify_locations(cafile=named[0], capath=named[1])
    return _as_drivers_verify(context)


def _named_cas() -> tuple[str | None, str | None]:
    """SSL_CERT_FILE and SSL_CERT_DIR, when set."""
    paths = ssl.get_default_verify_paths()
    return (
        os.environ.get(paths.openssl_cafile_env) or None,
        os.environ.get(paths.openssl_capath_env) or None,
    )


def _as_drivers_verify(context: ssl.SSLContext) -> ssl.SSLContext:
    """Chain checked, name left to the drivers' own rules, no rule the drivers do not apply."""
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags &= ~DRIVERS_DO_NOT_APPLY
    context.set_ciphers(_LENIENT_CIPHERS)
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    return context


def _default_context() -> ssl.SSLContext:
    """This machine's OpenSSL at its configured security level, offering TLS 1.0 and up, as
    the ODBC drivers do on Linux (a TLS 1.0 server gets 'legacy sigalg disallowed')."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT")  # OpenSSL's own list, at the context's security level
    with contextlib.suppress(ValueError, ssl.SSLError), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    return context


def describe_store() -> str:
    """Where this machine's trust store is, in the words of `SSL_CERT_FILE` and OpenSSL."""
    paths = ssl.get_default_verify_paths()
    file_env = os.environ.get(paths.openssl_cafile_env)
    dir_env = os.environ.get(paths.openssl_capath_env)
    if file_env or dir_env:
        given = [f"{paths.openssl_cafile_env}={file_env}"] if file_env else []
        given += [f"{paths.openssl_capath_env}={dir_env}"] if dir_env else []
        return ", ".join(given)
    if os.name == "nt":
        return "the Windows certificate store (ROOT and CA)"
    return paths.cafile or paths.openssl_cafile or paths.capath or "OpenSSL's default paths"


def describe_system_store(platform: str = sys.platform) -> str:
    """Where the operating system's verifier looks (on Linux: OpenSSL's own store again)."""
    if platform == "win32":
        where = "the Windows certificate store, through the system's verifier (Schannel)"
    elif platform == "darwin":
        where = "the macOS Keychain, through the system's verifier (Security framework)"
    else:
        return describe_store()
    named = [name for name in _named_cas() if name]
    return where + (f", and {', '.join(named)}" if named else "")


# ------------------------------------------------------------------------------------------
# one handshake


def _offered(versions: tuple[str, str] | None) -> str:
    if versions is None:
        return "1.0-1.3"
    return f"{versions[0]} only" if versions[0] == versions[1] else f"{versions[0]}-{versions[1]}"


def _classify(error: BaseException) -> tuple[Failure, str | None, str]:
    if isinstance(error, ssl.SSLCertVerificationError):
        return Failure.VERIFY, error.reason, _ssl_words(error)
    if isinstance(error, ssl.SSLError):
        reason = error.reason
        if reason and reason.startswith(("TLSV1_ALERT_", "SSLV3_ALERT_", "TLSV13_ALERT_")):
            return Failure.REFUSED, reason, _ssl_words(error)
        if reason in {"UNEXPECTED_EOF_WHILE_READING"}:
            return Failure.CLOSED, reason, _ssl_words(error)
        if reason in _OVERSIZED_REASONS:
            return Failure.OVERSIZED, reason, _oversized_words(error)
        return Failure.LOCAL, reason, _ssl_words(error)
    if isinstance(error, TimeoutError):
        return Failure.TIMEOUT, None, "no answer in time"
    if isinstance(error, asyncio.IncompleteReadError | ConnectionResetError | BrokenPipeError):
        return Failure.CLOSED, None, "the server closed the connection during the handshake"
    if isinstance(error, WireError):
        return Failure.NOT_TLS, None, f"the answer is not TLS: {error}"
    if isinstance(error, OSError):
        return Failure.CLOSED, None, describe_os_error(error).label()
    return Failure.NOT_TLS, None, str(error) or type(error).__name__


# OpenSSL's reasons for a handshake message or record longer than it accepts; a client takes
# at most 100 KB of certificates (SSL_MAX_CERT_LIST_DEFAULT in openssl/ssl.h).
_OVERSIZED_REASONS: Final = frozenset(
    {"EXCESSIVE_MESSAGE_SIZE", "PACKET_LENGTH_TOO_LONG", "DATA_LENGTH_TOO_LONG"}
)


def _oversized_words(error: ssl.SSLError) -> str:
    return (
        "the server's certificate or handshake message is larger than a TLS client accepts "
        "(OpenSSL takes at most 100 KB of certificates): a protocol violation "
        f"({_ssl_words(error)})"
    )


def _ssl_words(error: ssl.SSLError) -> str:
    """'legacy sigalg disallowed or unsupported' from '[SSL: X] legacy sigalg ... (_ssl.c:1006)'."""
    text = str(error.args[1]) if len(error.args) > 1 else str(error)
    if "] " in text:
        text = text.split("] ", 1)[1]
    return text.rsplit(" (_ssl.c", 1)[0].strip()


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


async def _connect(
    address: str, port: int, clock: Stopwatch
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return await asyncio.wait_for(
        asyncio.open_connection(address, port, family=family),
        timeout=max(clock.remaining(), 0.001),
    )


async def _handshake(
    address: str,
    port: int,
    *,
    transport: Transport,
    context: ssl.SSLContext,
    offered: str,
    sni: str | None,
    instance: str | None,
    clock: Stopwatch,
) -> Handshake:
    watch = Stopwatch()
    state: dict[str, object] = {}

    def done(ok: bool, channel: TlsChannel | None = None, **more: object) -> Handshake:
        extra: dict[str, object] = dict(state)
        if channel is not None:
            cipher = channel.cipher
            extra.update(
                version=_VERSION_NAME.get(channel.version or "", channel.version),
                cipher=cipher[0] if cipher else None,
                alpn=channel.alpn,
                certificate_der=channel.peer_certificate_der,
            )
        extra.update(more)
        return Handshake(transport, offered, ok, watch.elapsed_ms(), **extra)  # type: ignore[arg-type]

    try:
        reader, writer = await _connect(address, port, clock)
    except TimeoutError:
        return done(False, failure=Failure.CONNECT, message="no TCP connection in time")
    except OSError as error:
        return done(False, failure=Failure.CONNECT, message=describe_os_error(error).label())
    channel: TlsChannel | None = None
    try:
        async with asyncio.timeout(max(clock.remaining(), 0.001)):
            hello = prelogin.build_client_prelogin(
                encryption=Encryption.OFF, instance=instance or "MSSQLServer"
            )
            if transport is Transport.TDS7:
                writer.write(tds.encode_message(tds.PacketType.PRELOGIN, hello))
                await writer.drain()
                reply = await tds.read_message(
                    reader, max_bytes=65_536, timeout=max(clock.remaining(), 0.001)
                )
                if reply.type != tds.PacketType.REPLY:
                    raise WireError(f"a {reply.type.name} message instead of the pre-login answer")
                answer = prelogin.parse_prelogin(reply.payload)
                state["server_encryption"] = answer.encryption
                state["server_version"] = answer.version
                if answer.encryption in (None, Encryption.NOT_SUP):
                    return done(
                        False,
                        failure=Failure.NO_TLS,
                        message="the server answered the pre-login with NOT_SUP: no TLS offered",
                    )
                channel = await client_tls(
                    reader,
                    writer,
                    context=context,
                    server_hostname=sni,
                    timeout=max(clock.remaining(), 0.001),
                )
            else:
                channel = await client_strict(
                    reader,
                    writer,
                    context=context,
                    server_hostname=sni,
                    timeout=max(clock.remaining(), 0.001),
                )
                await channel.send_message(tds.PacketType.PRELOGIN, hello)
                reply = await channel.receive(timeout=max(clock.remaining(), 0.001))
                answer = prelogin.parse_prelogin(reply.payload)
                state["server_version"] = answer.version
            return done(True, channel)
    except ssl.SSLCertVerificationError as error:
        failure, reason, words = _classify(error)
        return done(
            False,
            failure=failure,
            reason=reason,
            message=words.split(":", 1)[0] if ":" in words else words,
            verify_message=error.verify_message,
            verify_code=error.verify_code,
        )
    except (ssl.SSLError, TimeoutError, WireError, OSError, asyncio.IncompleteReadError) as error:
        failure, reason, words = _classify(error)
        return done(False, failure=failure, reason=reason, message=words)
    finally:
        if channel is not None:
            await channel.close(timeout=min(0.2, max(clock.remaining(), 0.001)))
        else:
            with contextlib.suppress(Exception):
                writer.transport.abort()


# ------------------------------------------------------------------------------------------
# the probe


async def probe_tls(
    address: str,
    port: int,
    *,
    timeout: float,
    host: str | None = None,
    instance: str | None = None,
) -> TlsResult:
    """Look at the server's TLS the way drivers meet it; `host` is the name the client uses."""
    clock = Stopwatch(timeout)
    name = host or address
    sni = None if _ip(name) else name

    def attempt(
        transport: Transport,
        context: Callable[[], ssl.SSLContext],
        versions: tuple[str, str] | None = None,
    ) -> Awaitable[Handshake]:
        return _safe_attempt(address, port, transport, context, versions, sni, instance, clock)

    tds7, strict = await asyncio.gather(
        attempt(Transport.TDS7, _looking_context),
        attempt(Transport.STRICT, _looking_context),
    )
    transport = Transport.TDS7 if tds7.ok or not strict.ok else Transport.STRICT
    if not (tds7.ok or strict.ok):
        status = (
            TlsStatus.NO_TLS
            if tds7.failure is Failure.NO_TLS
            else TlsStatus.UNREACHABLE
            if tds7.failure in (Failure.CONNECT, Failure.TIMEOUT) and tds7.server_encryption is None
            else TlsStatus.FAILED
        )
        local = None
        if status is TlsStatus.FAILED:  # say what this machine's OpenSSL makes of it
            local = await attempt(Transport.TDS7, _default_context)
        return TlsResult(
            address,
            port,
            name,
            status,
            timeout,
            clock.elapsed_ms(),
            tds7,
            strict,
            local_default=local,
            store=describe_store(),
            openssl_store=describe_store(),
        )
    checks = [
        attempt(transport, _verifying_context),
        attempt(transport, _default_context),
        *(attempt(transport, _looking_context, (v, v)) for v in TLS_VERSIONS),
    ]
    (verified, local, *single), system = await asyncio.gather(
        asyncio.gather(*checks), _system_attempt(address, port, transport, sni, instance, clock)
    )
    main = tds7 if transport is Transport.TDS7 else strict
    certificate = None
    if main.certificate_der:
        with contextlib.suppress(ValueError):
            certificate = Certificate.from_der(main.certificate_der)
    return TlsResult(
        address,
        port,
        name,
        TlsStatus.TLS,
        timeout,
        clock.elapsed_ms(),
        tds7,
        strict,
        verified=verified,
        local_default=local,
        versions=tuple(_version_check(v, h) for v, h in zip(TLS_VERSIONS, single, strict=True)),
        certificate=certificate,
        store=describe_system_store() if _verdict(system) is not None else describe_store(),
        system_verified=system,
        openssl_store=describe_store(),
    )


async def _system_attempt(
    address: str,
    port: int,
    transport: Transport,
    sni: str | None,
    instance: str | None,
    clock: Stopwatch,
) -> Handshake | None:
    """The handshake judged by the operating system's verifier, in a thread of its own: on
    Windows the chain engine may go to the network (root auto-update, AIA), which must neither
    hold up the event loop nor stretch the probe's budget."""
    if not _asks_the_system():
        return None
    context = _system_context()
    if context is None:
        return None
    lap = clock.lap()

    def run() -> Handshake:
        made: ssl.SSLContext = context
        return asyncio.run(
            _safe_attempt(address, port, transport, lambda: made, None, sni, instance, lap)
        )

    try:
        async with asyncio.timeout(max(clock.remaining(), 0.001)):
            return await in_daemon_thread(run)
    except TimeoutError:
        return Handshake(
            transport,
            _offered(None),
            False,
            lap.elapsed_ms(),
            failure=Failure.TIMEOUT,
            message="the system's verifier gave no answer in time",
        )


async def _safe_attempt(
    address: str,
    port: int,
    transport: Transport,
    context: Callable[[], ssl.SSLContext],
    versions: tuple[str, str] | None,
    sni: str | None,
    instance: str | None,
    clock: Stopwatch,
) -> Handshake:
    """A context this OpenSSL cannot build (TLS 1.0 compiled out) is 'untestable', not a crash."""
    try:
        built = context() if versions is None else _looking_context(versions)
    except (ValueError, ssl.SSLError) as error:
        return Handshake(
            transport,
            _offered(versions),
            False,
            0.0,
            failure=Failure.LOCAL,
            reason="NO_PROTOCOLS_AVAILABLE",
            message=f"this machine's OpenSSL cannot offer it ({error})",
        )
    return await _handshake(
        address,
        port,
        transport=transport,
        context=built,
        offered=_offered(versions),
        sni=sni,
        instance=instance,
        clock=clock,
    )


def _version_check(version: str, handshake: Handshake) -> VersionCheck:
    if handshake.ok:
        return VersionCheck(
            version, VersionState.ACCEPTED, f"handshake completed ({handshake.cipher})"
        )
    if handshake.failure is Failure.LOCAL and handshake.reason in {
        "NO_PROTOCOLS_AVAILABLE",
        "NO_CIPHERS_AVAILABLE",
    }:
        return VersionCheck(
            version,
            VersionState.UNTESTABLE,
            f"this machine's OpenSSL cannot offer TLS {version} ({handshake.message})",
        )
    if handshake.failure in (Failure.REFUSED, Failure.CLOSED, Failure.LOCAL):
        return VersionCheck(version, VersionState.REFUSED, handshake.message)
    return VersionCheck(version, VersionState.UNKNOWN, handshake.message)
