"""Client families as data, and what each would do against the server the TLS probe saw.

The same server works from one client and fails from another: ODBC Driver 18, OLE DB Driver 19
and Microsoft.Data.SqlClient 4+ encrypt by default and check the certificate, ODBC Driver 17
checks it only when asked, FreeTDS never checks it unless given a CA file. This module holds one
table (family, version range, Encrypt default, when the certificate is checked, the text each
prints for each failed check on Linux and Windows), infers the family from a `Target`, and
predicts, family by family, "connects" or "fails, and prints this".

Sources: ../shared/reference/wire-protocols.md §2 "Who validates the certificate, and when"
(sql-docs `encryption-and-certificate-validation.md`, `major-version-differences.md`); error
texts from the sources named beside each, or observed here with mssql-python 1.16 (ODBC Driver
18.6) and pyodbc + FreeTDS 1.3.17 (GnuTLS) against the sqlreach lab on Debian 12. A text nobody
recorded is left out (None) rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Final

from tui import platforms
from tui.knowledge.causes import RootCause
from tui.target import Form, Target
from tui.wire.prelogin import Encryption

if TYPE_CHECKING:
    from tui.probes.tls import TlsResult

LINUX: Final = "linux"
WINDOWS: Final = "windows"
PLATFORMS: Final = (LINUX, WINDOWS)
OBSERVED: Final = (
    "observed: mssql-python 1.16 (ODBC Driver 18.6) against the sqlreach lab, Debian 12"
)
OBSERVED_FREETDS: Final = "observed: pyodbc + FreeTDS 1.3.17 (GnuTLS) against the sqlreach lab"


class Validation(StrEnum):
    """When a family checks the server certificate (TrustServerCertificate=yes always skips it,
    except under TDS 8 strict)."""

    WHEN_ASKED = "when Encrypt=yes and TrustServerCertificate=no"
    WHEN_ENCRYPTED = (
        "whenever it encrypts the whole connection (Encrypt=yes, or the server forces "
        "encryption), unless TrustServerCertificate=yes"
    )
    NEVER = "never (no CA file configured)"


class Stack(StrEnum):
    """Whose TLS code the family uses: that decides which TLS versions it will speak."""

    NATIVE = "OpenSSL on Linux and macOS, SChannel on Windows"
    DOTNET = ".NET SslStream (OpenSSL on Linux, SChannel on Windows)"
    JAVA = "Java JSSE"
    GNUTLS = "GnuTLS (Debian's FreeTDS)"


class Check(StrEnum):
    """The check a client fails."""

    NO_ENCRYPTION = "no-encryption"  # the client requires encryption; the server has none
    CLIENT_CANNOT = "client-cannot-encrypt"  # the server forces encryption; the client refuses
    STRICT_REQUIRED = "strict-required"  # the server speaks only TDS 8 strict
    STRICT_UNSUPPORTED = "strict-unsupported"  # the client asks for TDS 8; the server has none
    STRICT_NOT_IN_DRIVER = "strict-not-in-driver"  # Encrypt=strict, a driver without TDS 8
    TLS_VERSION = "tls-version"  # no TLS version (or signature) both sides accept
    HANDSHAKE = "handshake"  # the TLS handshake fails for another reason
    UNTRUSTED = "untrusted"  # the chain does not lead to a CA this client trusts
    EXPIRED = "expired"  # outside its validity dates
    NAME = "name"  # not made out to the name the client uses


CHECK_WORDS: Final[Mapping[Check, str]] = {
    Check.NO_ENCRYPTION: "the server offers no encryption",
    Check.CLIENT_CANNOT: "the server forces encryption and the client will not encrypt",
    Check.STRICT_REQUIRED: "the server accepts only TDS 8 strict encryption",
    Check.STRICT_UNSUPPORTED: "the server does not speak TDS 8 strict",
    Check.STRICT_NOT_IN_DRIVER: "the driver does not know Encrypt=strict",
    Check.TLS_VERSION: "no TLS version in common",
    Check.HANDSHAKE: "the TLS handshake fails",
    Check.UNTRUSTED: "certificate not trusted",
    Check.EXPIRED: "certificate expired or not yet valid",
    Check.NAME: "certificate made out to another name",
}

ROOT_CAUSE: Final[Mapping[Check, RootCause]] = {
    Check.NO_ENCRYPTION: RootCause.ENCRYPTION_MISMATCH,
    Check.CLIENT_CANNOT: RootCause.ENCRYPTION_MISMATCH,
    Check.STRICT_REQUIRED: RootCause.ENCRYPTION_MISMATCH,
    Check.STRICT_UNSUPPORTED: RootCause.ENCRYPTION_MISMATCH,
    Check.STRICT_NOT_IN_DRIVER: RootCause.ENCRYPTION_MISMATCH,
    Check.TLS_VERSION: RootCause.TLS_FAILED,
    Check.HANDSHAKE: RootCause.TLS_FAILED,
    Check.UNTRUSTED: RootCause.TLS_FAILED,
    Check.EXPIRED: RootCause.TLS_FAILED,
    Check.NAME: RootCause.TLS_FAILED,
}


@dataclass(frozen=True)
class ErrorText:
    """What a family prints for one failed check on one platform, and who saw it.

    `{openssl}` is replaced by OpenSSL's own error for this server, as the probe met it
    (`error:0A000086:SSL routines::certificate verify failed:self-signed certificate`)."""

    text: str
    source: str


@dataclass(frozen=True)
class Family:
    id: str
    name: str
    short: str  # for the one-line table
    versions: str
    encrypt_default: str  # what it does without an Encrypt keyword: yes, no, request
    validation: Validation
    stack: Stack
    strict: bool  # can connect with TDS 8 strict
    host_name_in_certificate: bool
    reads_encrypt: frozenset[str]  # the keyword spellings (lower case) it reads
    reads_trust: bool  # reads TrustServerCertificate
    prefix: str  # what precedes its messages
    errors: Mapping[tuple[Check, str], ErrorText] = field(default_factory=dict)
    common: bool = True  # in the table when the client is unknown
    platforms: tuple[str, ...] = PLATFORMS
    note: str = ""

    def error(self, check: Check, platform: str, openssl: str | None) -> str | None:
        found = self.errors.get((check, platform))
        if found is None:
            return None
        if "{openssl}" in found.text:
            if not openssl:
                return None
            return self.prefix + found.text.replace("{openssl}", openssl)
        return self.prefix + found.text

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "versions": self.versions,
            "encrypt_default": self.encrypt_default,
            "certificate_checked": self.validation.value,
            "tls_stack": self.stack.value,
            "tds8_strict": self.strict,
            "host_name_in_certificate": self.host_name_in_certificate,
        }


_MS_ENCRYPT: Final = frozenset({"encrypt", "use encryption for data"})

# Texts shared by the native drivers (ODBC, OLE DB) built on the same SNI layer.
_OPENSSL_VERIFY = ErrorText("SSL Provider: [{openssl}]", OBSERVED)
_NAME_LINUX = ErrorText(
    "SSL Provider: [error:0A000086:SSL routines::certificate verify failed:subject name does "
    "not match host name]",
    OBSERVED
    + "; ODBC Driver 17 with OpenSSL 1.0: https://github.com/mkleehammer/pyodbc/issues/799",
)
_UNTRUSTED_WINDOWS = ErrorText(
    "SSL Provider: The certificate chain was issued by an authority that is not trusted.",
    "https://github.com/MicrosoftDocs/SupportArticles-docs/blob/0992ba2a2ef8bf94f3b58b2f6a81e6df2acec769/support/sql/database-engine/connect/certificate-chain-not-trusted.md",
)
_NOT_SUPPORTED = ErrorText("Encryption not supported on SQL Server.", OBSERVED)
_STRICT_REQUIRED = ErrorText(
    "Client unable to establish connection because an error was encountered during handshakes "
    "before login. Common causes include client attempting to connect to an unsupported version "
    "of SQL Server, server too busy to accept new connections or a resource limitation (memory "
    "or maximum allowed connections) on the server.",
    OBSERVED + " (a server that accepts only TDS 8 strict)",
)
_NATIVE_TEXTS: Final[Mapping[tuple[Check, str], ErrorText]] = {
    (Check.UNTRUSTED, LINUX): _OPENSSL_VERIFY,
    (Check.EXPIRED, LINUX): _OPENSSL_VERIFY,
    (Check.NAME, LINUX): _NAME_LINUX,
    (Check.TLS_VERSION, LINUX): ErrorText("SSL Provider: [{openssl}]", OBSERVED),
    (Check.HANDSHAKE, LINUX): ErrorText("SSL Provider: [{openssl}]", OBSERVED),
    (Check.UNTRUSTED, WINDOWS): _UNTRUSTED_WINDOWS,
    (Check.NO_ENCRYPTION, LINUX): _NOT_SUPPORTED,
    (Check.NO_ENCRYPTION, WINDOWS): _NOT_SUPPORTED,
}
_ODBC18_TEXTS: Final[Mapping[tuple[Check, str], ErrorText]] = {
    **_NATIVE_TEXTS,
    (Check.STRICT_REQUIRED, LINUX): _STRICT_REQUIRED,
    (Check.STRICT_REQUIRED, WINDOWS): _STRICT_REQUIRED,
    (Check.STRICT_UNSUPPORTED, LINUX): ErrorText(
        "TCP Provider: Error code 0x2746", OBSERVED + " (a server without TDS 8)"
    ),
}
_ODBC17_TEXTS: Final[Mapping[tuple[Check, str], ErrorText]] = {
    **_NATIVE_TEXTS,
    (Check.TLS_VERSION, LINUX): ErrorText(
        "SSL Provider: [{openssl}]",
        "https://github.com/microsoft/msphpsql/issues/1463 (ODBC Driver 17, OpenSSL 3: "
        "'unsupported protocol'); the reason is this machine's OpenSSL's",
    ),
}

_SQLCLIENT_LOGIN = (
    "A connection was successfully established with the server, but then an error occurred "
    "during the login process. (provider: SSL Provider, error: 0 - "
)
_SQLCLIENT_LINUX_REJECTED = ErrorText(
    "A connection was successfully established with the server, but then an error occurred "
    "during the pre-login handshake. (provider: TCP Provider, error: 35 - An internal exception "
    "was caught) ---> System.Security.Authentication.AuthenticationException: The remote "
    "certificate was rejected by the provided RemoteCertificateValidationCallback.",
    "https://github.com/dotnet/SqlClient/issues/1535, https://github.com/dotnet/SqlClient/issues/2032",
)
_SQLCLIENT_TEXTS: Final[Mapping[tuple[Check, str], ErrorText]] = {
    (Check.UNTRUSTED, WINDOWS): ErrorText(
        _SQLCLIENT_LOGIN + "The certificate chain was issued by an authority that is not trusted.)",
        "https://github.com/MicrosoftDocs/SupportArticles-docs/blob/0992ba2a2ef8bf94f3b58b2f6a81e6df2acec769/support/sql/database-engine/connect/certificate-chain-not-trusted.md",
    ),
    (Check.EXPIRED, WINDOWS): ErrorText(
        _SQLCLIENT_LOGIN + "The received certificate has expired.)",
        "https://github.com/MicrosoftDocs/sql-docs/issues/8845",
    ),
    (Check.NAME, WINDOWS): ErrorText(
        _SQLCLIENT_LOGIN + "The target principal name is incorrect.)",
        "https://github.com/dotnet/SqlClient/issues/1522",
    ),
    (Check.TLS_VERSION, WINDOWS): ErrorText(
        _SQLCLIENT_LOGIN + "An existing connection was forcibly closed by the remote host.)",
        "https://github.com/MicrosoftDocs/SupportArticles-docs/blob/16edcd96fdb14ca37ba40e5d89d494240df44777/support/sql/database-engine/connect/tls-exist-connection-closed.md",
    ),
    (Check.UNTRUSTED, LINUX): _SQLCLIENT_LINUX_REJECTED,
    (Check.EXPIRED, LINUX): _SQLCLIENT_LINUX_REJECTED,
    (Check.NAME, LINUX): _SQLCLIENT_LINUX_REJECTED,
    (Check.NO_ENCRYPTION, WINDOWS): ErrorText(
        "The instance of SQL Server you attempted to connect to does not support encryption.",
        "https://github.com/dotnet/SqlClient/blob/c16adb7a11674b66f9e9ca5e5a38e768ce8d5ff3/src/Microsoft.Data.SqlClient/src/Resources/Strings.resx",
    ),
    (Check.NO_ENCRYPTION, LINUX): ErrorText(
        "The instance of SQL Server you attempted to connect to does not support encryption.",
        "https://github.com/dotnet/SqlClient/blob/c16adb7a11674b66f9e9ca5e5a38e768ce8d5ff3/src/Microsoft.Data.SqlClient/src/Resources/Strings.resx",
    ),
}
_JDBC_CATEGORY = "https://github.com/microsoft/mssql-jdbc/blob/609bb36ffe74ff0f474c81a1158c153f59035088/docs/mssql-jdbc-connection-error-category-mapping.md"
_JDBC_UNTRUSTED = ErrorText(
    "The driver could not establish a secure connection to SQL Server by using Secure Sockets "
    'Layer (SSL) encryption. Error: "PKIX path building failed: '
    "sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid "
    'certification path to requested target".',
    "https://github.com/eventuate-foundation/eventuate-cdc/issues/159",
)
_JDBC_TEXTS: Final[Mapping[tuple[Check, str], ErrorText]] = {
    **{(Check.UNTRUSTED, p): _JDBC_UNTRUSTED for p in PLATFORMS},
    **{
        (Check.NAME, p): ErrorText(
            'Failed to validate the server name "{host}"in a certificate during Secure Sockets '
            "Layer (SSL) initialization.",
            _JDBC_CATEGORY,
        )
        for p in PLATFORMS
    },
    **{
        (Check.NO_ENCRYPTION, p): ErrorText(
            "The driver could not establish a secure connection to SQL Server by using Secure "
            "Sockets Layer (SSL) encryption. The application requested encryption but the server "
            "is not configured to support SSL.",
            _JDBC_CATEGORY,
        )
        for p in PLATFORMS
    },
}
_FREETDS_FAILED = ErrorText(
    "Unable to connect to data source (0) (SQLDriverConnect)", OBSERVED_FREETDS
)
_FREETDS_TEXTS: Final[Mapping[tuple[Check, str], ErrorText]] = {
    (check, LINUX): _FREETDS_FAILED
    for check in (Check.NO_ENCRYPTION, Check.CLIENT_CANNOT, Check.STRICT_REQUIRED)
}
_OLEDB19_TEXTS: Final[Mapping[tuple[Check, str], ErrorText]] = {
    (Check.UNTRUSTED, WINDOWS): ErrorText(
        ": SSL Provider: The certificate chain was issued by an authority that is not trusted.",
        "https://github.com/MicrosoftDocs/SupportArticles-docs/blob/0992ba2a2ef8bf94f3b58b2f6a81e6df2acec769/support/sql/database-engine/connect/certificate-chain-not-trusted.md",
    ),
}

FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        "odbc18",
        "ODBC Driver 18 for SQL Server (also mssql-python, sqlcmd 18)",
        "ODBC Driver 18",
        "18.x",
        "yes",
        Validation.WHEN_ENCRYPTED,
        Stack.NATIVE,
        strict=True,
        host_name_in_certificate=True,
        reads_encrypt=_MS_ENCRYPT,
        reads_trust=True,
        prefix="[Microsoft][ODBC Driver 18 for SQL Server]",
        errors=_ODBC18_TEXTS,
        note="Encrypt=Strict always checks the certificate, TrustServerCertificate or not.",
    ),
    Family(
        "odbc17",
        "ODBC Driver 17 for SQL Server (and 11, 13)",
        "ODBC Driver 17",
        "11 to 17.x",
        "no",
        Validation.WHEN_ASKED,
        Stack.NATIVE,
        strict=False,
        host_name_in_certificate=False,
        reads_encrypt=_MS_ENCRYPT,
        reads_trust=True,
        prefix="[Microsoft][ODBC Driver 17 for SQL Server]",
        errors=_ODBC17_TEXTS,
        note="A server that forces encryption alone does not make it check the certificate.",
    ),
    Family(
        "oledb19",
        "Microsoft OLE DB Driver 19 for SQL Server (MSOLEDBSQL19)",
        "OLE DB Driver 19",
        "19.x",
        "yes",
        Validation.WHEN_ENCRYPTED,
        Stack.NATIVE,
        strict=True,
        host_name_in_certificate=True,
        reads_encrypt=_MS_ENCRYPT,
        reads_trust=True,
        prefix="[Microsoft OLE DB Driver 19 for SQL Server]",
        errors=_OLEDB19_TEXTS,
        platforms=(WINDOWS,),
    ),
    Family(
        "oledb18",
        "Microsoft OLE DB Driver 18 for SQL Server (MSOLEDBSQL)",
        "OLE DB Driver 18",
        "18.x",
        "no",
        Validation.WHEN_ASKED,
        Stack.NATIVE,
        strict=False,
        host_name_in_certificate=False,
        reads_encrypt=_MS_ENCRYPT,
        reads_trust=True,
        prefix="[Microsoft OLE DB Driver for SQL Server]",
        common=False,
        platforms=(WINDOWS,),
    ),
    Family(
        "sqlncli11",
        "SQL Server Native Client 11.0 (SQLNCLI11)",
        "Native Client 11",
        "11.0",
        "no",
        Validation.WHEN_ASKED,
        Stack.NATIVE,
        strict=False,
        host_name_in_certificate=False,
        reads_encrypt=_MS_ENCRYPT,
        reads_trust=True,
        prefix="[Microsoft][SQL Server Native Client 11.0]",
        common=False,
        platforms=(WINDOWS,),
        note="Out of support; no TLS 1.2 without its last updates.",
    ),
    Family(
        "sqlclient4",
        "Microsoft.Data.SqlClient 4.0 and later",
        "SqlClient 4+",
        "4.0+",
        "yes",
        Validation.WHEN_ENCRYPTED,
        Stack.DOTNET,
        strict=True,
        host_name_in_certificate=True,
        reads_encrypt=_MS_ENCRYPT,
        reads_trust=True,
        prefix="",
        errors=_SQLCLIENT_TEXTS,
        note="Encrypt=Strict (TDS 8) and HostNameInCertificate need 5.0 or later.",
    ),
    Family(
        "sqlclient2",
        "Microsoft.Data.SqlClient 2.x and 3.x",
        "SqlClient 2-3",
        "2.0 to 3.x",
        "no",
        Validation.WHEN_ENCRYPTED,
        Stack.DOTNET,
        strict=False,
        host_name_in_certificate=False,
        reads_encrypt=_MS_ENCRYPT,
        reads_trust=True,
        prefix="",
        errors=_SQLCLIENT_TEXTS,
    ),
    Family(
        "sqlclient1",
        "System.Data.SqlClient, and Microsoft.Data.SqlClient 1.x",
        "System.Data.SqlClient",
        "all, and 1.x",
        "no",
        Validation.WHEN_ASKED,
        Stack.DOTNET,
        strict=False,
        host_name_in_certificate=False,
        reads_encrypt=_MS_ENCRYPT,
        reads_trust=True,
        prefix="",
        errors=_SQLCLIENT_TEXTS,
    ),
    Family(
        "jdbc",
        "Microsoft JDBC Driver for SQL Server (mssql-jdbc) 10 and later",
        "mssql-jdbc 10+",
        "10.x+",
        "yes",
        Validation.WHEN_ASKED,
        Stack.JAVA,
        strict=True,
        host_name_in_certificate=True,
        reads_encrypt=frozenset({"encrypt"}),
        reads_trust=True,
        prefix="",
        errors=_JDBC_TEXTS,
        note="Java has its own trust store (cacerts), not the operating system's.",
    ),
    Family(
        "freetds",
        "FreeTDS (tsql, pyodbc with the FreeTDS ODBC driver)",
        "FreeTDS",
        "1.3",
        "request",
        Validation.NEVER,
        Stack.GNUTLS,
        strict=False,
        host_name_in_certificate=False,
        reads_encrypt=frozenset({"encryption"}),
        reads_trust=False,
        prefix="[FreeTDS][SQL Server]",
        errors=_FREETDS_TEXTS,
        note="Reads Encryption=off|request|require, ignores Encrypt=; checks the certificate "
        "only with 'ca file' in freetds.conf.",
    ),
)

BY_ID: Final[Mapping[str, Family]] = {family.id: family for family in FAMILIES}
AUTO: Final = "auto"
# SSMS is not a driver: it connects through Microsoft.Data.SqlClient (the SSMS 21 release notes
# in MicrosoftDocs/sql-docs, "Drivers: Updated Microsoft.Data.SqlClient (MDS) to version 5.1.6");
# its connection dialog's Encrypt choice then acts as Encrypt= does.
SSMS: Final = "ssms"
SSMS_LABEL: Final = "SQL Server Management Studio (SSMS): connects with Microsoft.Data.SqlClient"
ALIASES: Final[Mapping[str, str]] = {
    SSMS: "sqlclient4",
    "mssql-python": "odbc18",
    "msodbcsql18": "odbc18",
    "msodbcsql17": "odbc17",
    "odbc13": "odbc17",
    "odbc11": "odbc17",
    "msoledbsql19": "oledb19",
    "msoledbsql": "oledb18",
    "snac": "sqlncli11",
    "system.data.sqlclient": "sqlclient1",
    "sqlclient5": "sqlclient4",
    "sqlclient3": "sqlclient2",
    "mssql-jdbc": "jdbc",
    "tsql": "freetds",
    "pyodbc-freetds": "freetds",
    "tdsodbc": "freetds",
}
_SQLCLIENT_VERSIONS: Final = ("sqlclient4", "sqlclient2", "sqlclient1")
_ADONET_KEYS: Final = frozenset(
    {
        "data source",
        "initial catalog",
        "user id",
        "integrated security",
        "connect timeout",
        "connection timeout",
        "application name",
        "persist security info",
    }
)


def resolve_name(name: str) -> str | None:
    """A family id (or `auto`) from what a person types after `--client`."""
    key = name.strip().casefold()
    if key == AUTO or key in BY_ID:
        return key
    return ALIASES.get(key)


def names_for_help() -> str:
    return ", ".join((AUTO, *BY_ID))


# ------------------------------------------------------------------------------------------
# which client


@dataclass(frozen=True)
class Inference:
    """The families the person may be using, and how sqlreach knows."""

    families: tuple[Family, ...]
    how: str
    known: bool  # one family named, or stated with --client

    def to_json(self) -> dict[str, Any]:
        return {"families": [f.id for f in self.families], "how": self.how, "known": self.known}


def infer(target: Target, stated: str | None = None) -> Inference:
    if stated and stated != AUTO:
        family = BY_ID[ALIASES.get(stated, stated)]
        if stated == SSMS:
            return Inference((family,), "SSMS, which connects with Microsoft.Data.SqlClient", True)
        return Inference((family,), f"stated with --client {stated}", True)
    driver = (target.driver or "").strip("{} ").casefold()
    if driver:
        found = _from_driver(driver)
        if found is not None:
            return Inference((BY_ID[found],), f"Driver={{{target.driver}}}", True)
    provider = (target.provider or "").strip().casefold()
    if provider:
        found = _from_provider(provider)
        if found is not None:
            return Inference((BY_ID[found],), f"Provider={target.provider}", True)
    if target.form is Form.JDBC:
        return Inference((BY_ID["jdbc"],), "a jdbc:sqlserver: URL", True)
    keys = _keys_used(target)
    if target.form is Form.ADONET and keys & _ADONET_KEYS:
        used = ", ".join(sorted(k for k in keys if k in _ADONET_KEYS))
        return Inference(
            tuple(BY_ID[i] for i in _SQLCLIENT_VERSIONS),
            f"ADO.NET keywords ({used}): SqlClient, version unknown",
            False,
        )
    families = tuple(f for f in FAMILIES if f.common and understands(f, target))
    return Inference(families, "nothing in the connection string names the client", False)


def _from_driver(driver: str) -> str | None:
    if "odbc driver 18" in driver:
        return "odbc18"
    if any(f"odbc driver {n}" in driver for n in ("17", "13", "11")):
        return "odbc17"
    if "freetds" in driver or "libtdsodbc" in driver:
        return "freetds"
    if "native client 11" in driver:
        return "sqlncli11"
    return None


def _from_provider(provider: str) -> str | None:
    return {"msoledbsql19": "oledb19", "msoledbsql": "oledb18", "sqlncli11": "sqlncli11"}.get(
        provider.split(".")[0]
    )


def _keys_used(target: Target) -> set[str]:
    """The keywords as the person spelled them ('User ID', 'Encrypt'), lower case."""
    return {
        origin.detail.rstrip("=").strip().casefold()
        for origin in target.origins.values()
        if origin.detail.endswith("=")
    }


def _encrypt_key(target: Target) -> str | None:
    origin = target.origins.get("encrypt")
    if origin is None or not origin.detail.endswith("="):
        return None
    return origin.detail.rstrip("=").strip().casefold()


def understands(family: Family, target: Target) -> bool:
    """False when the string sets encryption with a keyword this family does not read: a
    string written for another driver (FreeTDS ignores Encrypt=; ODBC ignores Encryption=)."""
    key = _encrypt_key(target)
    if key is not None and key not in family.reads_encrypt:
        return False
    return not (target.trust_server_certificate is not None and not family.reads_trust)


# ------------------------------------------------------------------------------------------
# what each would do


class Outcome(StrEnum):
    CONNECTS = "connects"
    FAILS = "fails"
    DEPENDS = "depends"  # on something sqlreach cannot see from here


@dataclass(frozen=True)
class Prediction:
    family: Family
    outcome: Outcome
    check: Check | None
    reason: str  # in plain words
    encryption: str  # none, login packet only, whole connection, TDS 8 strict
    validates: bool
    errors: Mapping[str, str | None] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    @property
    def root_cause(self) -> RootCause | None:
        return ROOT_CAUSE[self.check] if self.check is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.family.to_json(),
            "outcome": self.outcome.value,
            "check": self.check.value if self.check else None,
            "failed_check": CHECK_WORDS[self.check] if self.check else None,
            "reason": self.reason,
            "encryption": self.encryption,
            "checks_certificate": self.validates,
            "error": dict(self.errors),
            "error_sources": list(self.sources),
        }


def current_platform() -> str:
    return WINDOWS if platforms.current() is platforms.Platform.WINDOWS else LINUX


@dataclass(frozen=True)
class _Settings:
    encrypt: str  # yes, no, strict, request, off
    trust: bool
    name: str  # the name the certificate must carry
    said: str  # how the setting came about, for the reason text


def _settings(family: Family, target: Target, host: str) -> _Settings:
    key = _encrypt_key(target)
    if target.encrypt is not None and key in family.reads_encrypt:
        encrypt = target.encrypt
        if family.id == "freetds" and encrypt == "no":
            encrypt = "off"
        said = f"is set to Encrypt={target.encrypt}"
    else:
        encrypt = family.encrypt_default
        said = {
            "yes": "encrypts by default",
            "no": "does not ask for encryption by default",
            "request": "encrypts when the server offers it",
        }[encrypt]
    trust = bool(target.trust_server_certificate) and family.reads_trust
    name = host
    if family.host_name_in_certificate and target.host_name_in_certificate:
        name = target.host_name_in_certificate
    return _Settings(encrypt, trust, name, said)


def predict(
    family: Family, target: Target, tls: TlsResult, platform: str | None = None
) -> Prediction:
    """What `family`, with the settings `target` gives it, would do against this server."""
    platform = platform or current_platform()
    if platform not in family.platforms:  # OLE DB runs on Windows only
        platform = family.platforms[0]
    settings = _settings(family, target, tls.host)
    return _Predictor(family, settings, tls, platform).run()


@dataclass
class _Predictor:
    family: Family
    settings: _Settings
    tls: TlsResult
    platform: str

    def fail(self, check: Check, reason: str, encryption: str, validates: bool) -> Prediction:
        openssl = self._openssl(check)
        errors: dict[str, str | None] = {}
        sources: list[str] = []
        for platform in self.family.platforms:
            text = self.family.error(check, platform, openssl)
            if text is not None and "{host}" in text:
                text = text.replace("{host}", self.settings.name)
            errors[platform] = text
            found = self.family.errors.get((check, platform))
            if text is not None and found is not None and found.source not in sources:
                sources.append(found.source)
        return Prediction(
            self.family,
            Outcome.FAILS,
            check,
            reason,
            encryption,
            validates,
            errors,
            tuple(sources),
        )

    def ok(self, reason: str, encryption: str, validates: bool) -> Prediction:
        return Prediction(self.family, Outcome.CONNECTS, None, reason, encryption, validates)

    def _openssl(self, check: Check) -> str | None:
        if check in (Check.UNTRUSTED, Check.EXPIRED) and self.tls.verified is not None:
            return self.tls.verified.openssl_error
        if check in (Check.TLS_VERSION, Check.HANDSHAKE) and self.tls.local_default is not None:
            return self.tls.local_default.openssl_error
        return None

    def run(self) -> Prediction:
        from tui.probes.tls import TlsStatus  # with the TLS probe's result: it is loaded

        family, settings, tls = self.family, self.settings, self.tls
        if settings.encrypt == "strict":
            return self._strict()
        if tls.strict_only:
            return self.fail(
                Check.STRICT_REQUIRED,
                f"{family.short} {settings.said} with TDS 7.x; this server answers only TDS 8 "
                "strict connections (TLS first)",
                "none",
                False,
            )
        server = tls.encryption
        if tls.status is TlsStatus.UNREACHABLE or server is None:
            return Prediction(
                family,
                Outcome.DEPENDS,
                None,
                "the TLS probe got no answer from the server",
                "unknown",
                False,
            )
        if server is Encryption.NOT_SUP:
            if settings.encrypt == "yes":
                return self.fail(
                    Check.NO_ENCRYPTION,
                    f"{family.short} {settings.said} and insists on it; the server has no "
                    "certificate configured and answers NOT_SUP",
                    "none",
                    False,
                )
            return self.ok("connects without encryption (the server offers none)", "none", False)
        forced = server in (Encryption.REQ, Encryption.ON)
        if settings.encrypt == "off":
            if forced:
                return self.fail(
                    Check.CLIENT_CANNOT,
                    f"{family.short} is set not to encrypt (Encryption=off) and the server "
                    "forces encryption",
                    "none",
                    False,
                )
            return self.ok("connects without encryption (Encryption=off)", "none", False)
        whole = settings.encrypt == "yes" or forced
        encryption = "whole connection" if whole else "login packet only"
        version = self._version(encryption)
        if version is not None:
            return version
        validates = not settings.trust and (
            (settings.encrypt == "yes" and family.validation is not Validation.NEVER)
            or (forced and family.validation is Validation.WHEN_ENCRYPTED)
        )
        why = self._why_validates(forced, validates)
        if not validates:
            return self.ok(why, encryption, False)
        return self._certificate(why, encryption)

    def _why_validates(self, forced: bool, validates: bool) -> str:
        family, settings = self.family, self.settings
        if settings.trust and family.validation is not Validation.NEVER:
            return "TrustServerCertificate=yes: encrypts without checking the certificate"
        if not validates:
            if family.validation is Validation.NEVER:
                return f"{family.short} never checks the certificate (no CA file)"
            if forced:
                return (
                    "encrypts because the server forces it, and does not check the certificate then"
                )
            return f"{family.short} {settings.said}: only the login packet is encrypted, unchecked"
        if forced and settings.encrypt != "yes":
            return (
                f"the server forces encryption, and {family.short} then checks the certificate "
                "(Encrypt=no does not change that)"
            )
        return f"{family.short} {settings.said} and checks the certificate"

    def _strict(self) -> Prediction:
        family, tls = self.family, self.tls
        if not family.strict:
            return self.fail(
                Check.STRICT_NOT_IN_DRIVER,
                f"{family.short} has no TDS 8: Encrypt=strict needs ODBC Driver 18, OLE DB "
                "Driver 19, SqlClient 5 or mssql-jdbc 11.2",
                "none",
                False,
            )
        if not tls.strict_supported:
            return self.fail(
                Check.STRICT_UNSUPPORTED,
                "Encrypt=strict opens with TLS (TDS 8), and this server does not answer it "
                "(TDS 8 needs SQL Server 2022 or later)",
                "none",
                True,
            )
        return self._certificate(
            "Encrypt=strict: TDS 8 always checks the certificate, TrustServerCertificate or not",
            "TDS 8 strict",
        )

    def _version(self, encryption: str) -> Prediction | None:
        """None when the family and the server share a TLS version."""
        family, tls = self.family, self.tls
        accepted = set(tls.accepted_versions())
        modern = bool(accepted & {"1.2", "1.3"})
        listed = ", ".join(sorted(accepted)) or "none that could be tested"
        from tui.probes.tls import Failure  # with the TLS probe's result: it is loaded

        if tls.main.failure is Failure.OVERSIZED:  # no version question: the server broke TLS
            return self.fail(
                Check.HANDSHAKE, f"the TLS handshake fails: {tls.main.message}", encryption, False
            )
        if family.stack is Stack.GNUTLS:
            if tls.main.ok:
                return None
            return self.fail(
                Check.HANDSHAKE,
                f"the TLS handshake fails: {tls.main.message}",
                encryption,
                False,
            )
        if family.stack is Stack.JAVA:
            if modern:
                return None
            return self.fail(
                Check.TLS_VERSION,
                f"the server accepts only TLS {listed}; Java disables TLS 1.0 and 1.1 by default",
                encryption,
                False,
            )
        if self.platform == WINDOWS:
            if modern:
                return None
            return Prediction(
                family,
                Outcome.DEPENDS,
                Check.TLS_VERSION,
                f"the server accepts only TLS {listed}: it works only where SCHANNEL on the "
                "client still enables that version",
                encryption,
                False,
            )
        local = tls.local_default
        if local is None:
            if modern:
                return None
        elif local.ok:
            return None
        return self.fail(
            Check.HANDSHAKE if modern else Check.TLS_VERSION,
            f"the server accepts only TLS {listed}; OpenSSL on this machine refuses it at its "
            f"default security level ({local.message if local else 'no handshake'})",
            encryption,
            False,
        )

    def _certificate(self, why: str, encryption: str) -> Prediction:
        tls, settings = self.tls, self.settings
        certificate = tls.certificate
        trusted = tls.trusted
        if certificate is None or trusted is None:
            return Prediction(
                self.family,
                Outcome.DEPENDS,
                None,
                why + "; the certificate could not be checked from here",
                encryption,
                True,
            )
        if trusted is False:
            words = tls.trust_words or "not trusted"
            dated = certificate.expired(tls.checked_at) or certificate.not_yet_valid(tls.checked_at)
            check = Check.EXPIRED if dated and "self-signed" not in words else Check.UNTRUSTED
            if self.family.stack is Stack.JAVA and check is Check.UNTRUSTED:
                words += "; Java uses its own trust store"
            return self.fail(check, f"{why}: {words}", encryption, True)
        if not certificate.matches(settings.name):
            names = ", ".join(certificate.names) or "no name"
            return self.fail(
                Check.NAME,
                f"{why}: the certificate is made out to {names}, not to {settings.name}",
                encryption,
                True,
            )
        return self.ok(
            f"{why}, and it passes: trusted, in date, made out to {settings.name}", encryption, True
        )


# ------------------------------------------------------------------------------------------
# the table, and what it means for the verdict


@dataclass(frozen=True)
class ClientRow:
    """One row of the clients table as `check --json` and the transcript keep it: what one
    driver family would do against this server, and the error text it would print."""

    id: str
    name: str
    versions: str
    encrypt_default: str
    certificate_checked: str
    outcome: str
    failed_check: str | None
    reason: str
    candidate: bool
    errors: Mapping[str, str | None] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # the rest of the JSON row, kept

    _FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "name",
            "versions",
            "encrypt_default",
            "certificate_checked",
            "outcome",
            "failed_check",
            "reason",
            "candidate",
            "error",
        }
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "versions": self.versions,
            "encrypt_default": self.encrypt_default,
            "certificate_checked": self.certificate_checked,
            **self.extra,
            "outcome": self.outcome,
            "failed_check": self.failed_check,
            "reason": self.reason,
            "error": dict(self.errors),
            "candidate": self.candidate,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ClientRow:
        errors = document.get("error")
        failed = document.get("failed_check")
        return cls(
            id=str(document.get("id", "")),
            name=str(document.get("name", "")),
            versions=str(document.get("versions", "")),
            encrypt_default=str(document.get("encrypt_default", "")),
            certificate_checked=str(document.get("certificate_checked", "")),
            outcome=str(document.get("outcome", "")),
            failed_check=str(failed) if failed else None,
            reason=str(document.get("reason", "")),
            candidate=bool(document.get("candidate")),
            errors={str(k): (str(v) if v else None) for k, v in errors.items()}
            if isinstance(errors, dict)
            else {},
            extra={k: v for k, v in document.items() if k not in cls._FIELDS},
        )


class Agreement(StrEnum):
    ALL_CONNECT = "all-connect"
    ALL_FAIL = "all-fail"
    MIXED = "mixed"


@dataclass(frozen=True)
class Table:
    inference: Inference
    predictions: tuple[Prediction, ...]  # every family, the person's candidates first
    platform: str
    trust_words: str | None = None  # OpenSSL's words about the certificate

    @property
    def candidates(self) -> tuple[Prediction, ...]:
        ids = {f.id for f in self.inference.families}
        return tuple(p for p in self.predictions if p.family.id in ids)

    @property
    def agreement(self) -> Agreement:
        outcomes = {p.outcome for p in self.candidates}
        if outcomes == {Outcome.CONNECTS}:
            return Agreement.ALL_CONNECT
        if outcomes == {Outcome.FAILS}:
            return Agreement.ALL_FAIL
        return Agreement.MIXED

    @property
    def deciding(self) -> Prediction | None:
        """The failing candidate whose check the verdict names (the most common root cause)."""
        failing = [p for p in self.candidates if p.outcome is Outcome.FAILS]
        if not failing:
            return None
        causes = [p.root_cause for p in failing]
        best = max(causes, key=causes.count)
        return next(p for p in failing if p.root_cause is best)

    def line(self, predictions: tuple[Prediction, ...] | None = None) -> str:
        """'ODBC Driver 17, FreeTDS: connect. ODBC Driver 18, SqlClient 4+: fail, certificate
        not trusted (self-signed certificate).'"""
        groups: dict[tuple[Outcome, Check | None, str], list[str]] = {}
        for p in predictions if predictions is not None else self.predictions:
            detail = ""
            if p.check in (Check.UNTRUSTED, Check.EXPIRED) and self.trust_words:
                detail = f" ({self.trust_words})"
            groups.setdefault((p.outcome, p.check, detail), []).append(p.family.short)
        parts = []
        for (outcome, check, detail), names in groups.items():
            plural = len(names) > 1
            if outcome is Outcome.CONNECTS:
                verb = "connect" if plural else "connects"
                parts.append(f"{', '.join(names)}: {verb}.")
            elif outcome is Outcome.FAILS and check is not None:
                verb = "fail" if plural else "fails"
                parts.append(f"{', '.join(names)}: {verb}, {CHECK_WORDS[check]}{detail}.")
            else:
                words = CHECK_WORDS[check] if check else "cannot be told from here"
                parts.append(f"{', '.join(names)}: depends ({words}).")
        return " ".join(parts)

    def to_json(self) -> list[dict[str, Any]]:
        return [row.to_json() for row in self.rows()]

    def rows(self) -> tuple[ClientRow, ...]:
        ids = {f.id for f in self.inference.families}
        return tuple(
            ClientRow.from_json({**p.to_json(), "candidate": p.family.id in ids})
            for p in self.predictions
        )


def build_table(
    target: Target, tls: TlsResult, stated: str | None = None, platform: str | None = None
) -> Table:
    inference = infer(target, stated)
    platform = platform or current_platform()
    ids = [f.id for f in inference.families]
    order = sorted(FAMILIES, key=lambda f: (f.id not in ids, FAMILIES.index(f)))
    shown = [f for f in order if f.common or f.id in ids]
    return Table(
        inference,
        tuple(predict(f, target, tls, platform) for f in shown),
        platform,
        tls.trust_words,
    )
