"""OS socket errors told the way Windows people know them: Winsock number, name and meaning.

A DBA has "10061", "0x274D" or "WSAECONNREFUSED" in a ticket, while Linux and macOS say
`ECONNREFUSED` (111 on Linux, 61 on macOS). Mapping goes through `errno` *names*, never Linux
numbers, so it holds on every platform; on Windows `OSError.winerror` already is the Winsock code.
Numbers and names: Microsoft, "Windows Sockets Error Codes" (winsock2.h: WSABASEERR 10000 plus the
BSD errno); 258 is the Win32 WAIT_TIMEOUT that drivers print as "TCP Provider: Error code 0x102".
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class WinsockCode:
    """One error as Windows would number it; `number` is None for errors Winsock has no name for."""

    number: int | None
    name: str
    meaning: str

    @property
    def hex(self) -> str | None:
        """The form drivers print: `TCP Provider: Error code 0x274D`."""
        return None if self.number is None else f"0x{self.number:X}"

    def label(self) -> str:
        """`10061 WSAECONNREFUSED`, or just the OS name when Winsock has no number for it."""
        return self.name if self.number is None else f"{self.number} {self.name}"


# (Winsock number, name, meaning in plain words, errno / EAI names that mean the same).
_TABLE: Final[tuple[tuple[int, str, str, tuple[str, ...]], ...]] = (
    (258, "WAIT_TIMEOUT", "the driver gave up waiting (its own timeout expired)", ()),
    (10004, "WSAEINTR", "the call was interrupted", ("EINTR",)),
    (
        10013,
        "WSAEACCES",
        "permission denied: a local firewall or security policy blocked the attempt",
        ("EACCES", "EPERM"),
    ),
    (10022, "WSAEINVAL", "invalid argument", ("EINVAL",)),
    (10024, "WSAEMFILE", "too many open sockets on this machine", ("EMFILE", "ENFILE")),
    (10035, "WSAEWOULDBLOCK", "the operation would block", ("EWOULDBLOCK", "EAGAIN")),
    (10036, "WSAEINPROGRESS", "an operation is already in progress", ("EINPROGRESS",)),
    (10037, "WSAEALREADY", "an operation is already in progress on this socket", ("EALREADY",)),
    (
        10047,
        "WSAEAFNOSUPPORT",
        "this machine has no support for that address family (often: IPv6 is turned off)",
        ("EAFNOSUPPORT",),
    ),
    (10048, "WSAEADDRINUSE", "the address and port are already in use", ("EADDRINUSE",)),
    (
        10049,
        "WSAEADDRNOTAVAIL",
        "the address is not valid here (not a usable destination or local address)",
        ("EADDRNOTAVAIL",),
    ),
    (10050, "WSAENETDOWN", "the network is down on this machine", ("ENETDOWN",)),
    (
        10051,
        "WSAENETUNREACH",
        "network unreachable: this machine has no route to that network",
        ("ENETUNREACH",),
    ),
    (10052, "WSAENETRESET", "the network dropped the connection", ("ENETRESET",)),
    (
        10053,
        "WSAECONNABORTED",
        "the connection was aborted on this machine (a local timeout or security software)",
        ("ECONNABORTED",),
    ),
    (
        10054,
        "WSAECONNRESET",
        "forcibly closed by the remote host: the other side (or a device between) sent a reset",
        ("ECONNRESET",),
    ),
    (
        10055,
        "WSAENOBUFS",
        "no buffer space: this machine ran out of socket resources",
        ("ENOBUFS",),
    ),
    (10056, "WSAEISCONN", "the socket is already connected", ("EISCONN",)),
    (
        10057,
        "WSAENOTCONN",
        "not connected: the connection was never made or is gone (drivers report refused "
        "and unreachable this way)",
        ("ENOTCONN",),
    ),
    (10058, "WSAESHUTDOWN", "the connection was already shut down", ("ESHUTDOWN", "EPIPE")),
    (
        10060,
        "WSAETIMEDOUT",
        "timed out: no answer at all, usually a firewall dropping packets or a wrong address",
        ("ETIMEDOUT",),
    ),
    (
        10061,
        "WSAECONNREFUSED",
        "actively refused: nothing listens on that address and port",
        ("ECONNREFUSED",),
    ),
    (10064, "WSAEHOSTDOWN", "the host is down", ("EHOSTDOWN",)),
    (
        10065,
        "WSAEHOSTUNREACH",
        "no route to host: a router or firewall said the host cannot be reached",
        ("EHOSTUNREACH",),
    ),
    (
        11001,
        "WSAHOST_NOT_FOUND",
        "no such host is known: the name does not resolve",
        ("EAI_NONAME",),
    ),
    (
        11002,
        "WSATRY_AGAIN",
        "the DNS server did not answer in time or failed temporarily",
        ("EAI_AGAIN",),
    ),
    (11003, "WSANO_RECOVERY", "the DNS server failed for good (refused or broken)", ("EAI_FAIL",)),
    (
        11004,
        "WSANO_DATA",
        "the name exists but has no address of the requested kind",
        ("EAI_NODATA", "EAI_ADDRFAMILY"),
    ),
)

BY_NUMBER: Final = MappingProxyType(
    {number: WinsockCode(number, name, meaning) for number, name, meaning, _ in _TABLE}
)
_BY_NAME: Final = MappingProxyType(
    {
        alias: BY_NUMBER[number]
        for number, name, _, aliases in _TABLE
        for alias in (name, *aliases)
        if not alias.startswith("EAI_")
    }
)


def _platform_map(module: object, prefix: str) -> dict[int, WinsockCode]:
    """This platform's numbers for the names in the table (errno or socket EAI_* constants)."""
    found: dict[int, WinsockCode] = {}
    for number, _, _, aliases in _TABLE:
        for alias in aliases:
            value = getattr(module, alias, None) if alias.startswith(prefix) else None
            if isinstance(value, int):
                found.setdefault(value, BY_NUMBER[number])
    return found


_BY_ERRNO: Final = MappingProxyType(_platform_map(errno, "E"))
_BY_EAI: Final = MappingProxyType(_platform_map(socket, "EAI_"))
TIMED_OUT: Final = BY_NUMBER[10060]


def describe_os_error(exc: BaseException) -> WinsockCode:
    """The Winsock view of a socket error raised on this platform."""
    winerror = getattr(exc, "winerror", None)
    if isinstance(winerror, int) and winerror in BY_NUMBER:
        return BY_NUMBER[winerror]
    if not isinstance(exc, OSError):
        return WinsockCode(None, type(exc).__name__, str(exc) or type(exc).__name__)
    code = exc.errno
    if isinstance(exc, socket.gaierror):
        if isinstance(code, int) and code in BY_NUMBER:  # Windows: already a WSA code
            return BY_NUMBER[code]
        if isinstance(code, int) and code in _BY_EAI:
            return _BY_EAI[code]
        return WinsockCode(None, _eai_name(code), str(exc.strerror or exc))
    if isinstance(code, int) and code in _BY_ERRNO:
        return _BY_ERRNO[code]
    if isinstance(exc, TimeoutError):  # asyncio and socket timeouts carry no errno
        return TIMED_OUT
    if isinstance(code, int):
        name = errno.errorcode.get(code, f"errno {code}")
        return WinsockCode(None, name, _strerror(exc, code))
    return WinsockCode(None, type(exc).__name__, str(exc) or type(exc).__name__)


def _strerror(exc: OSError, code: int) -> str:
    if exc.strerror:
        return str(exc.strerror)
    try:
        return os.strerror(code)
    except (ValueError, OverflowError):
        return f"error {code}"


def lookup(text: str | int) -> WinsockCode | None:
    """Find a code as people paste it: `10061`, `0x274D`, `WSAECONNREFUSED`, `ECONNREFUSED`."""
    if isinstance(text, int):
        return BY_NUMBER.get(text)
    cleaned = text.strip()
    try:
        number = int(cleaned, 16) if cleaned.lower().startswith("0x") else int(cleaned)
    except ValueError:
        return _BY_NAME.get(cleaned.upper())
    return BY_NUMBER.get(number)


def _eai_name(code: int | None) -> str:
    for name in dir(socket):
        if name.startswith("EAI_") and getattr(socket, name) == code:
            return name
    return "getaddrinfo error" if code is None else f"getaddrinfo error {code}"
