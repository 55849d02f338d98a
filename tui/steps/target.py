"""The first steps: what the client will really reach (after aliases and DSNs), and, when on
the server itself, what its own configuration says."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.probes import local
from tui.probes.base import in_daemon_thread
from tui.steps.facts import Alias, AliasProblem, Endpoint, ServiceAccount


class TargetOutcome(StrEnum):
    OK = "ok"
    UNRESOLVED_ALIAS = "unresolved-alias"


class ServerConfigOutcome(StrEnum):
    DONE = "done"


def environment(context: Context) -> local.Environment:
    """The machine the walk reads (registry, commands, files): the real one unless a test or
    the lab gives another."""
    given = context.settings.environment
    return given if isinstance(given, local.Environment) else local.Environment.current()


async def read_target(context: Context) -> Observation:
    """What the client will really reach: the target after DSNs, FreeTDS sections and aliases."""
    original = context.target
    try:
        resolution = await asyncio.wait_for(
            in_daemon_thread(lambda: local.resolve_aliases(original, environment(context))),
            timeout=context.timeout,
        )
    except TimeoutError:
        resolution = None
    facts: list[Any] = []
    notes: tuple[str, ...] = ()
    evidence: dict[str, Any] = {"form": original.form.value, "typed": original.data_source}
    if resolution is not None:
        evidence["aliases"] = resolution.evidence()
        if resolution.applied:
            context.target = resolution.target
            where = (
                f"{resolution.alias_where}. To change it: {resolution.correct_where}"
                if resolution.correct_where
                else resolution.alias_where
            )
            facts.append(Alias(resolution.alias_name or "", where or ""))
        notes = tuple(resolution.notes)
    target = context.target
    facts.append(
        Endpoint(
            host=target.connect_host or "",
            instance=target.instance or "MSSQLSERVER",
            port=target.port,
        )
    )
    if target.host is None:
        name = original.dsn or original.servername
        problem = (
            resolution.problems[0]
            if resolution is not None and resolution.problems
            else f"The connection names '{name}', but no host could be found for it here."
        )
        facts.append(AliasProblem(problem))
        return Observation(
            TargetOutcome.UNRESOLVED_ALIAS,
            Status.FAIL,
            problem,
            evidence,
            facts=tuple(facts),
            notes=notes,
        )
    evidence.update(
        data_source=target.data_source,
        origins={name: origin.to_json() for name, origin in target.origins.items()},
        notes=list(target.notes),
    )
    where = ", ".join(
        f"{name} from {origin.source.value}"
        for name, origin in target.origins.items()
        if name in {"host", "port", "instance"}
    )
    summary = f"{target.form.value}: {target.data_source} ({where})"
    if resolution is not None and resolution.applied:
        summary = resolution.summary()
    status = Status.WARN if resolution is not None and resolution.applied else Status.PASS
    return Observation(TargetOutcome.OK, status, summary, evidence, facts=tuple(facts), notes=notes)


def default_on_server(context: Context) -> str:
    """Assume 'on the server' only when the target names this machine."""
    host = context.target.connect_host
    return "yes" if context.target.is_local or local.detect_this_machine(host, ()) else "no"


async def read_server_config(context: Context) -> Observation:
    """Services, TCP settings, listeners, firewall and the error log of the local SQL Server."""
    from tui.knowledge import server_findings

    target = context.target
    view = await context.probe(
        ("server-view", target.instance),
        "reading this machine's SQL Server configuration",
        lambda: local.read_server_view(
            environment(context),
            instance=target.instance,
            port=target.port if target.port_given else None,
            timeout=context.timeout,
        ),
    )
    evidence: dict[str, Any] = {"view": view.evidence()}
    if view.installed is False:
        return Observation(
            ServerConfigOutcome.DONE,
            Status.SKIP,
            "no SQL Server is installed on this machine: diagnosing over the network",
            evidence,
        )
    findings = server_findings.compare(
        target.port if not target.needs_browser else None, view, instance=target.instance
    )
    evidence["findings"] = [finding.to_json() for finding in findings]
    serious = [f for f in findings if f.severity is not server_findings.Severity.INFO]
    chosen = view.instance(target.instance)
    account = chosen.service.account if chosen is not None and chosen.service else None
    facts = (ServiceAccount(account),) if account else ()
    summary = view.summary()
    if serious:
        summary += f"; {len(serious)} finding(s): " + "; ".join(f.title for f in serious)
    return Observation(
        ServerConfigOutcome.DONE,
        Status.WARN if serious else Status.PASS,
        summary,
        evidence,
        facts=facts,
        notes=tuple(f"On this machine: {f.title}. {f.detail}" for f in serious),
        fixes=tuple(fix for f in serious for fix in f.fix_ids),
    )
