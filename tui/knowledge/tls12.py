"""Which SQL Server builds speak TLS 1.2: Microsoft's KB 3135244 ('TLS 1.2 support for Microsoft
SQL Server'), read from MicrosoftDocs/SupportArticles-docs
support/sql/database-engine/connect/tls-1-2-support-microsoft-sql-server.md (commit fef32b26).

'Builds that are later than those listed in this table also support TLS 1.2'; SQL Server 2016
and later support it without an update; 'TLS 1.2 support is offered only for SQL Server 2008
and later versions'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

# (major, minor) -> (the first builds with TLS 1.2, as the KB's table lists them, oldest first)
FIRST_BUILDS: Final[Mapping[tuple[int, int], tuple[tuple[str, str], ...]]] = {
    (12, 0): (
        ("RTM GDR", "12.0.2271.0"),
        ("RTM CU12", "12.0.2564.0"),
        ("SP1 GDR", "12.0.4219.0"),
        ("SP1 CU5", "12.0.4439.1"),
    ),
    (11, 0): (
        ("SP2 GDR", "11.0.5352.0"),
        ("SP2 CU10", "11.0.5644.2"),
        ("SP3 GDR", "11.0.6216.27"),
        ("SP3 CU1", "11.0.6518.0"),
    ),
    (10, 50): (
        ("SP2 GDR, IA-64 only", "10.50.4047.0"),
        ("SP2 CU, IA-64 only", "10.50.4344.0"),
        ("SP3 (x86/x64)", "10.50.6542.0"),
    ),
    (10, 0): (
        ("SP3 GDR, IA-64 only", "10.0.5545.0"),
        ("SP3 CU, IA-64 only", "10.0.5896.0"),
        ("SP4 (x86/x64)", "10.0.6547.0"),
    ),
}
_LATER_PACKS: Final = {(12, 0): "SP2", (11, 0): "SP4"}


def _tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def builds_text(version: Sequence[int] | None) -> str | None:
    """For a server's version, what KB 3135244 says about TLS 1.2 on it; None when unknown."""
    if not version or len(version) < 3:
        return None
    major, minor = version[0], version[1]
    if major >= 13:
        return "SQL Server 2016 and later speak TLS 1.2 in every build (KB 3135244)"
    if major < 10:
        return "no build of SQL Server 2005 or earlier speaks TLS 1.2 (KB 3135244): upgrade"
    rows = FIRST_BUILDS.get((major, minor))
    if rows is None:
        return None
    listed = ", ".join(f"{name} {build}" for name, build in rows)
    later = _LATER_PACKS.get((major, minor))
    tail = f", and every build of {later} and later" if later else ""
    seen = tuple(version[:3])
    # only where no doubt is left: at or past the newest build listed (a GDR or CU branch
    # below it may or may not have the update)
    has = seen >= _tuple(rows[-1][1])[:3]
    state = "this build should already speak it; " if has else ""
    return f"{state}TLS 1.2 came with {listed}{tail} (KB 3135244)"
