"""The client's own hosts file: where it lives and which addresses it gives a name.

A stale hosts entry silently beats DNS on every platform, and no existing SQL Server tool looks
at it during a remote diagnosis. The format is the same on Windows, Linux and macOS: an address,
then names, `#` starts a comment. Lines whose first field is not an IP address are ignored, as
the system resolvers ignore them.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Final

MAX_BYTES: Final = 1 << 20  # a hosts file larger than this is not a hosts file


def default_path() -> Path:
    """This platform's hosts file (on Windows, under %SystemRoot%)."""
    if sys.platform == "win32":
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return Path(root) / "System32" / "drivers" / "etc" / "hosts"
    return Path("/etc/hosts")


def decode(data: bytes) -> str:
    """Hosts files are ASCII in practice; Notepad may have saved one as UTF-16 or with a BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def addresses_for(text: str, host: str) -> tuple[str, ...]:
    """Addresses the hosts file text gives `host`, in file order, without repeats."""
    wanted = normalise_name(host)
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or not is_ip_literal(fields[0]):
            continue
        if any(normalise_name(name) == wanted for name in fields[1:]) and fields[0] not in found:
            found.append(fields[0])
    return tuple(found)


def read_addresses(path: Path, host: str) -> tuple[str, ...]:
    """Read the file and look `host` up; raises OSError when it cannot be read."""
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES)
    return addresses_for(decode(data), host)


def normalise_name(name: str) -> str:
    return name.strip().rstrip(".").lower()


def is_ip_literal(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
