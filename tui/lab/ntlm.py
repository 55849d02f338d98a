"""NTLM for the lab's Windows authentication: the CHALLENGE a real server answers a client's
NEGOTIATE with, and the names read back from the client's AUTHENTICATE (MS-NLMP 2.2.1).

The lab belongs to no domain, so it verifies nothing: after the AUTHENTICATE it refuses the login
the way a server refuses a user of a domain it does not trust (18452). What matters is that a real
client (impacket, FreeTDS) gets as far as it would against a real server: through the whole
three-message exchange.
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass
from typing import Final

from tui.wire.cursor import Cursor
from tui.wire.errors import WireError

SIGNATURE: Final = b"NTLMSSP\x00"
NEGOTIATE: Final = 1
CHALLENGE: Final = 2
AUTHENTICATE: Final = 3

_UNICODE: Final = 0x00000001
_REQUEST_TARGET: Final = 0x00000004
_NTLM: Final = 0x00000200
_ALWAYS_SIGN: Final = 0x00008000
_TARGET_TYPE_DOMAIN: Final = 0x00010000
_EXTENDED_SESSION_SECURITY: Final = 0x00080000
_TARGET_INFO: Final = 0x00800000
_VERSION: Final = 0x02000000
_128: Final = 0x20000000
_KEY_EXCH: Final = 0x40000000
_56: Final = 0x80000000
FLAGS: Final = (
    _UNICODE
    | _REQUEST_TARGET
    | _NTLM
    | _ALWAYS_SIGN
    | _TARGET_TYPE_DOMAIN
    | _EXTENDED_SESSION_SECURITY
    | _TARGET_INFO
    | _VERSION
    | _128
    | _KEY_EXCH
    | _56
)
# Windows Server 2022 (10.0.20348), NTLM revision 15, as the VERSION field of a real CHALLENGE.
_WINDOWS_VERSION: Final = struct.pack("<BBH3xB", 10, 0, 20348, 15)
_EPOCH_OFFSET: Final = 11_644_473_600  # seconds between 1601-01-01 and 1970-01-01


def is_ntlm(blob: bytes, kind: int) -> bool:
    """Whether `blob` is a raw NTLMSSP message of that type (not Kerberos, not SPNEGO)."""
    return (
        len(blob) >= 12 and blob[:8] == SIGNATURE and struct.unpack_from("<I", blob, 8)[0] == kind
    )


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def challenge(*, domain: str, computer: str, dns_domain: str) -> bytes:
    """A CHALLENGE_MESSAGE with the target information NTLMv2 clients need."""
    dns_computer = f"{computer}.{dns_domain}".lower()
    filetime = int((time.time() + _EPOCH_OFFSET) * 10_000_000)
    pairs = [
        (2, _utf16(domain)),  # MsvAvNbDomainName
        (1, _utf16(computer)),  # MsvAvNbComputerName
        (4, _utf16(dns_domain)),  # MsvAvDnsDomainName
        (3, _utf16(dns_computer)),  # MsvAvDnsComputerName
        (7, struct.pack("<Q", filetime)),  # MsvAvTimestamp
    ]
    info = b"".join(struct.pack("<HH", pid, len(value)) + value for pid, value in pairs)
    info += struct.pack("<HH", 0, 0)  # MsvAvEOL
    target = _utf16(domain)
    head = 8 + 4 + 8 + 4 + 8 + 8 + 8 + 8  # up to and including Version
    target_at = head
    info_at = target_at + len(target)
    return (
        SIGNATURE
        + struct.pack("<I", CHALLENGE)
        + struct.pack("<HHI", len(target), len(target), target_at)
        + struct.pack("<I", FLAGS)
        + os.urandom(8)  # ServerChallenge
        + bytes(8)  # Reserved
        + struct.pack("<HHI", len(info), len(info), info_at)
        + _WINDOWS_VERSION
        + target
        + info
    )


@dataclass(frozen=True)
class Authenticated:
    """Who the client says it is in its AUTHENTICATE_MESSAGE."""

    domain: str
    user: str
    workstation: str

    @property
    def login(self) -> str:
        return f"{self.domain}\\{self.user}" if self.domain else self.user


def read_authenticate(blob: bytes) -> Authenticated:
    """The domain, user and workstation names of an AUTHENTICATE_MESSAGE."""
    if not is_ntlm(blob, AUTHENTICATE):
        raise WireError("the SSPI message is not an NTLM AUTHENTICATE")
    cursor = Cursor(blob, "NTLM AUTHENTICATE", start=12)
    cursor.skip(16, "LM and NT response fields")
    fields = [(cursor.u16le(f"{n} length"), cursor.u16le(f"{n} max"), cursor.u32le(f"{n} offset"))
              for n in ("domain", "user", "workstation")]  # fmt: skip
    cursor.skip(8, "session key fields")
    flags = cursor.u32le("negotiate flags")

    def text(field: tuple[int, int, int], what: str) -> str:
        length, _, offset = field
        raw = Cursor(blob, "NTLM AUTHENTICATE", start=offset).take(length, what)
        return raw.decode("utf-16-le" if flags & _UNICODE else "latin-1", errors="replace")

    return Authenticated(
        text(fields[0], "domain"), text(fields[1], "user"), text(fields[2], "workstation")
    )
