"""Connections that do not go over TCP to SQL Server: named pipes, shared memory, LocalDB.

What can be checked from here is checked and said; what cannot is said too, never passed off as
OK from a TCP test the connection did not ask for. Named pipes between machines travel over SMB
(TCP 445): that port is probed, and the instance's TCP port beside it for comparison. Shared
memory and LocalDB work only on the machine itself; LocalDB is asked about through SqlLocalDB
where it exists (Windows).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.probes import tcp
from tui.probes.local.localdb import localdb_info
from tui.probes.tcp import TcpStatus
from tui.steps.facts import Endpoint, Smb, Transport
from tui.steps.target import environment
from tui.target import DEFAULT_PORT, Target

SMB_PORT = 445


class LocalOutcome(StrEnum):
    UNTESTED = "untested"


class SmbOutcome(StrEnum):
    OPEN = "open"
    REFUSED = "refused"
    FILTERED = "filtered"
    UNREACHABLE = "unreachable"


FIX_IDS = frozenset(
    {
        "localdb-start",
        "check-shared-memory",
        "enable-named-pipes",
        "open-firewall-smb",
        "use-tcp-not-pipes",
    }
)


def local_transport(target: Target) -> Transport | None:
    """The transports that never leave this machine, or None for the rest."""
    if target.is_localdb:
        name = target.instance or "MSSQLLocalDB"
        return Transport(
            "LocalDB",
            f"(localdb)\\{name} is a LocalDB instance: it runs only on this machine, for the "
            "user who started it, and speaks named pipes only (a pipe whose name changes at "
            "every start), so no network test applies",
        )
    if target.protocol == "lpc":
        return Transport(
            "shared memory",
            "lpc: (shared memory) connects only to an instance on the same machine, and no "
            "network test can try it",
        )
    if target.protocol == "np" and (target.host or "").casefold() in {".", "(local)"}:
        return Transport(
            "named pipes",
            f"the named pipe {target.pipe or ''} is on this machine: a local pipe opens only "
            "through the SQL Server client libraries of Windows",
        )
    return None


def remote_pipe(target: Target) -> Transport | None:
    if target.protocol != "np":
        return None
    return Transport(
        "named pipes",
        f"the named pipe {target.pipe or ''} travels over SMB (TCP 445); opening the pipe itself "
        "needs the SQL Server client libraries of Windows, which this check does not use",
    )


async def check_local(context: Context) -> Observation:
    transport = context.facts.get(Transport)
    target = context.target
    evidence: dict[str, Any] = {"transport": transport.kind}
    notes: list[str] = []
    fixes: tuple[str, ...]
    if transport.kind == "LocalDB":
        name = target.instance or "MSSQLLocalDB"
        info = await context.probe(
            ("localdb", name),
            f"asking SqlLocalDB about {name}",
            lambda: localdb_info(environment(context), name, timeout=context.timeout),
        )
        evidence["localdb"] = info.evidence()
        notes.append(info.sentence())
        fixes = ("localdb-start",)
    elif transport.kind == "shared memory":
        fixes = ("check-shared-memory",)
    else:
        fixes = ("enable-named-pipes", "use-tcp-not-pipes")
    return Observation(
        LocalOutcome.UNTESTED,
        Status.SKIP,
        transport.detail,
        evidence,
        notes=tuple(notes),
        fixes=fixes,
    )


async def check_smb(context: Context) -> Observation:
    """TCP 445, where remote named pipes go, and the instance's TCP port beside it."""
    endpoint = context.facts.get(Endpoint)
    addresses = endpoint.addresses
    port = endpoint.port or DEFAULT_PORT
    smb, sql = await context.gather(
        context.probe(
            ("tcp", addresses, SMB_PORT),
            f"connecting to {', '.join(addresses)} port 445 (SMB, for named pipes)",
            lambda: tcp.probe_tcp(addresses, SMB_PORT, timeout=context.timeout),
        ),
        context.probe(
            ("tcp", addresses, port),
            f"connecting to {', '.join(addresses)} port {port} (TCP, for comparison)",
            lambda: tcp.probe_tcp(addresses, port, timeout=context.timeout),
        ),
    )
    evidence = {"smb": smb.evidence(), "tcp": sql.evidence()}
    best = next((a for a in smb.attempts if a.status is smb.status), None)
    moved = endpoint.moved(address=best.address if best is not None else None, port=port)
    said = Smb(smb.summary(), f"TCP {port}: {sql.summary()}")
    facts = (moved, said)
    if smb.status in {TcpStatus.CONNECTED, TcpStatus.CLOSED, TcpStatus.RESET}:
        return Observation(
            SmbOutcome.OPEN,
            Status.WARN,
            smb.summary(),
            evidence,
            facts=facts,
            fixes=("enable-named-pipes", "use-tcp-not-pipes"),
            host_answered=True,
        )
    fixes = ("open-firewall-smb", "use-tcp-not-pipes")
    if smb.status is TcpStatus.REFUSED:
        outcome, answered = SmbOutcome.REFUSED, True
    elif smb.status is TcpStatus.TIMEOUT:
        outcome, answered = SmbOutcome.FILTERED, None
    else:
        outcome, answered = SmbOutcome.UNREACHABLE, False
    return Observation(
        outcome,
        Status.FAIL,
        smb.summary(),
        evidence,
        facts=facts,
        fixes=fixes,
        host_answered=answered,
    )
