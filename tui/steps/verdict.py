"""How this tree concludes: the fixes filled with what the walk found, what each client would
do, and whether the error text the person saw agrees with the live result."""

from __future__ import annotations

from tui.engine.context import Context
from tui.engine.model import Conclude, Step, Verdict
from tui.engine.walk import build_verdict
from tui.knowledge import azure, tls12
from tui.knowledge.causes import ROUTED_HOPS
from tui.knowledge.fixes.values import FixValues
from tui.steps.error import reading
from tui.steps.facts import (
    Alias,
    AzureRefusal,
    BrowserAnswer,
    Endpoint,
    FoundElsewhere,
    LoginFacts,
    PortAlias,
    Redirect,
    Renamed,
    Routed,
    ServerAnswer,
    ServiceAccount,
    TlsFindings,
)


def fix_values(context: Context, step: Step | None = None) -> FixValues:
    """The values a fix may name, from the typed facts of the walk: the routed hop's host and
    port when the walk ended on the second hop of a redirect."""
    facts = context.facts
    endpoint = facts.maybe(Endpoint)
    redirect = facts.maybe(Redirect)
    routed = facts.maybe(Routed)
    on_routed = step is not None and step.hop in ROUTED_HOPS and redirect is not None
    host = endpoint.host if endpoint else None
    port = endpoint.port if endpoint else None
    address = endpoint.address if endpoint else None
    if on_routed and redirect is not None:
        host, port = redirect.host, redirect.port
        address = routed.address if routed is not None else None
    azure_host = azure.recognise(endpoint.host if endpoint else None)
    refusal = facts.maybe(AzureRefusal)
    account = facts.maybe(ServiceAccount)
    server = facts.maybe(ServerAnswer)
    found = facts.maybe(FoundElsewhere)
    alias = facts.maybe(PortAlias) or facts.maybe(Alias)
    renamed = facts.maybe(Renamed)
    login = facts.maybe(LoginFacts)
    browser = facts.maybe(BrowserAnswer)
    tls = facts.maybe(TlsFindings)
    return FixValues.of(
        context.target,
        host=host,
        port=port,
        address=address,
        good_port=found.port if found else None,
        alias_where=alias.where if alias else None,
        old_server_name=renamed.old if renamed else None,
        new_server_name=renamed.new if renamed else None,
        login=login.user if login else None,
        database=login.database if login else None,
        instances_listed=browser.instances_listed if browser else None,
        cert_name=tls.cert_name if tls else None,
        client_name=tls.client_name if tls else None,
        cert_issuer=tls.cert_issuer if tls else None,
        fqdn=_full_name(host, endpoint.fqdn if endpoint else None),
        service_account=account.account
        if account
        else f"<DOMAIN\\account: sc qc {_service(context)}>",
        server_build=".".join(map(str, server.build[:3])) if server and server.build else None,
        tls12_builds=tls12.builds_text(server.build) if server else None,
        client_ip=refusal.client_ip if refusal else None,
        azure_server=(refusal.server if refusal and refusal.server else None)
        or (azure_host.server if azure_host else None),
    )


def _full_name(host: str | None, found: str | None) -> str | None:
    """The server's full name for an SPN: as typed when it has a domain, as the reverse lookup
    gave it, or the short name with the domain left for the person to write."""
    if found:
        return found
    if not host:
        return None
    if ":" in host or host.replace(".", "").isdigit():
        return "<the server's FQDN>"  # an address: Kerberos needs the name
    return host.strip(".") if "." in host.strip(".") else f"{host}.<domain>"


def _service(context: Context) -> str:
    instance = context.target.instance
    return "MSSQLSERVER" if not instance else f"MSSQL${instance}"


def conclude(outcome: Conclude, step: Step, context: Context) -> Verdict:
    closing, error_reading = reading(outcome.root_cause, context)
    tls = context.facts.maybe(TlsFindings)
    return build_verdict(
        outcome,
        step,
        context,
        fix_values(context, step),
        closing=closing,
        clients=tls.clients if tls is not None else (),
        error_reading=error_reading,
    )
