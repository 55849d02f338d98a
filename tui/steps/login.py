"""The login step: which client logs in, the login itself, and what its answer means.

The person's own ODBC driver logs in (through pyodbc) when the connection string names one or
the person asks for one (`check --driver NAME`): that shows what their application will see,
defaults and error texts included. Otherwise sqlreach's native TDS login does it, which needs no
driver and reads every message the server sends. Whatever comes back is decoded by
`login_errors`; a successful login runs the diagnostic query of `probes.serverinfo`.

What the wizard can use before it asks for credentials: `await plan_login(context)` says which
client will log in and why, which drivers are installed, and whether Windows authentication can
be tried from here. It reads `context.settings.native_login` (force the native login); it may
give the target a driver (`target.replace(driver=NAME)`) before the login step runs.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from tui.engine.context import Context
from tui.engine.facts import Fact
from tui.engine.model import Observation, Status
from tui.knowledge import azure, login_errors
from tui.knowledge.login_errors import Decoded, Outcome, Reply
from tui.probes.base import in_daemon_thread
from tui.steps.facts import AzureRefusal, LoginFacts, Redirect, Renamed, ServerAnswer
from tui.steps.ids import S
from tui.steps.native import CLIENT, native_login_at
from tui.steps.prelogin import where
from tui.steps.routed import redirect_of
from tui.target import Source, Target
from tui.wire.prelogin import Encryption

if TYPE_CHECKING:
    from tui.probes.native_login import LoginResult
    from tui.probes.odbc_login import Drivers, KerberosState, OdbcLoginResult
    from tui.probes.serverinfo import ServerInfo

NATIVE_CLIENT: Final = CLIENT
_NO_KERBEROS: Final[tuple[str, ...]] = ("get-kerberos-ticket", "register-spn")
_NO_DRIVER: Final[tuple[str, ...]] = ("install-odbc-driver-18", "install-freetds")
# Every fix the login step may name (per decoded failure, or after a good login).
FIX_IDS: Final = login_errors.fix_ids() | {
    *_NO_KERBEROS,
    *_NO_DRIVER,
    "restart-after-rename",
    "restart-after-addserver",
    "check-port-forward",
    "check-remote-access",
}


@dataclass(frozen=True)
class LoginPlan:
    """Which client will log in, and why; `client` is odbc, native, or none (cannot)."""

    client: str
    driver: str | None
    why: str
    drivers: Drivers
    kerberos: KerberosState | None = None

    @property
    def label(self) -> str:
        if self.client == "odbc" and self.driver:
            return f"pyodbc with {self.driver}"
        return NATIVE_CLIENT

    def to_json(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "driver": self.driver,
            "why": self.why,
            "drivers": self.drivers.to_json(),
            "kerberos": self.kerberos.to_json() if self.kerberos else None,
        }


async def plan_login(context: Context) -> LoginPlan:
    from tui.probes import odbc_login as odbc

    target = context.target
    drivers: Drivers = await context.probe(
        ("odbc-drivers",), "listing the ODBC drivers installed here", _list_drivers
    )
    kerberos: KerberosState | None = None
    if target.integrated_security:
        kerberos = await context.probe(
            ("kerberos",),
            "looking for a Kerberos ticket (Windows authentication)",
            lambda: odbc.kerberos_state(timeout=context.timeout, platform=_platform(context)),
        )
    if context.settings.native_login:
        if target.integrated_security:
            why = "the native login speaks SQL Server authentication only, and --native was asked"
            return LoginPlan("none", None, why, drivers, kerberos)
        return LoginPlan("native", None, "--native was asked for", drivers, kerberos)
    if target.driver:
        said = "--driver names it" if _asked_by_flag(target) else "the connection string names it"
        return LoginPlan("odbc", target.driver, said, drivers, kerberos)
    stated = _STATED_DRIVERS.get(str(context.answer(S.CLIENT)))
    if stated is not None and stated in drivers.names:
        why = f"you said {stated} will connect, and it is installed here"
        return LoginPlan("odbc", stated, why, drivers, kerberos)
    if target.integrated_security:
        best = drivers.best()
        if best is None:
            problem = drivers.problem or "pyodbc lists no ODBC driver"
            why = (
                "Windows authentication needs an ODBC driver (the native login speaks SQL "
                f"Server authentication only), and none can be used here: {problem}"
            )
            return LoginPlan("none", None, why, drivers, kerberos)
        why = "Windows authentication needs a driver; this is the best one installed"
        return LoginPlan("odbc", best, why, drivers, kerberos)
    why = (
        "the connection string names no driver: sqlreach's own TDS login needs none and reads "
        "every message the server sends"
    )
    if stated is not None:
        why = (
            f"you said {stated} will connect, but it is not installed here: sqlreach's own TDS "
            "login instead (it needs no driver)"
        )
    return LoginPlan("native", None, why, drivers, kerberos)


# The client families (the "Which client will connect?" answer) that are ODBC drivers
# pyodbc can load by name.
_STATED_DRIVERS: Final = {
    "odbc18": "ODBC Driver 18 for SQL Server",
    "odbc17": "ODBC Driver 17 for SQL Server",
    "freetds": "FreeTDS",
}


async def _list_drivers() -> Drivers:
    from tui.probes import odbc_login as odbc

    return await in_daemon_thread(odbc.list_drivers)


def _platform(context: Context) -> str:
    return context.settings.platform or sys.platform


# ------------------------------------------------------------------------------------------
# the step


class LoginOutcome(StrEnum):
    """The login step's outcomes: the decoded failures (`login_errors.Outcome`) and success."""

    OK = "ok"
    ROUTED = "routed"  # a good login, answered with a routing ENVCHANGE: the second hop follows
    LOGIN_FAILED = Outcome.LOGIN_FAILED.value
    KERBEROS = Outcome.KERBEROS.value
    NO_WINDOWS_AUTH = "no-windows-auth"
    DATABASE = Outcome.DATABASE.value
    UNRESPONSIVE = Outcome.UNRESPONSIVE.value
    DRIVER_MISSING = Outcome.DRIVER_MISSING.value
    TLS_FAILED = Outcome.TLS_FAILED.value
    ENCRYPTION_MISMATCH = Outcome.ENCRYPTION_MISMATCH.value
    BROKEN = "broken"  # the server reset or closed the connection instead of answering
    PROTOCOL_ERROR = "protocol-error"  # the server answered the login with bytes that break TDS


@dataclass(frozen=True)
class _Who:
    """The login facts known before the server answers; `detail` comes with the answer."""

    client: str
    label: str
    database_label: str
    user: str | None
    database: str | None

    def failed(
        self,
        outcome: str,
        detail: str,
        evidence: dict[str, Any],
        fixes: tuple[str, ...] = (),
    ) -> Observation:
        return Observation(
            outcome, Status.FAIL, detail, evidence, facts=(self.said(detail),), fixes=fixes
        )

    def said(self, detail: str) -> LoginFacts:
        return LoginFacts(
            client=self.client,
            label=self.label,
            database_label=self.database_label,
            detail=detail,
            user=self.user,
            database=self.database,
        )


async def login(context: Context) -> Observation:
    target = context.target
    plan = await plan_login(context)
    who = _Who(
        client=plan.label,
        label=_who(context),
        database_label=f"'{target.database}'" if target.database else "(the default one)",
        user=target.user if target.user and not target.integrated_security else None,
        database=target.database or None,
    )
    evidence: dict[str, Any] = {"plan": plan.to_json()}
    kerberos = plan.kerberos
    if target.integrated_security and kerberos is not None and not kerberos.possible:
        detail = (
            f"Windows authentication (Integrated Security) was asked for, but it cannot be "
            f"tried from this machine: {kerberos.detail}. SQL Server was not asked; a driver "
            "here fails the same way ('Cannot generate SSPI context')."
        )
        return who.failed(LoginOutcome.NO_WINDOWS_AUTH, detail, evidence, _NO_KERBEROS)
    if plan.client == "none":
        detail = f"No login could be tried: {plan.why}."
        return who.failed(LoginOutcome.DRIVER_MISSING, detail, evidence, _NO_DRIVER)
    if plan.client == "native":
        result = await _native(context)
        evidence["login"] = result.evidence()
        return _from_native(context, result, evidence, who)
    assert plan.driver is not None
    odbc_result = await _odbc(context, plan.driver)
    evidence["login"] = odbc_result.evidence()
    routed = await _routed_behind(context, odbc_result, evidence, who)
    if routed is not None:
        return routed
    return await _from_odbc(context, odbc_result, evidence, who)


async def _routed_behind(
    context: Context, result: OdbcLoginResult, evidence: dict[str, Any], who: _Who
) -> Observation | None:
    """A driver follows a redirect on its own and reports only how the routed hop ended. When
    its login worked, or failed before the server said a word (a timeout, a name), the native
    login asks the first hop itself: a routing answer there makes the second hop the place to
    look, with the driver's own words kept for the verdict."""
    from tui.probes.native_login import LoginStatus
    from tui.probes.odbc_login import OdbcStatus

    target = context.target
    if target.integrated_security or not target.user or target.password is None:
        return None
    answered = bool(result.numbers) or result.status is OdbcStatus.NO_ODBC
    if result.status is not OdbcStatus.OK and answered:
        return None  # the server answered with an error of its own: no redirect to look for
    native = await _native(context)
    evidence["routing_check"] = native.evidence()
    if native.status is not LoginStatus.OK or native.routing is None:
        return None
    redirect = redirect_of(context, native.routing)
    said = (
        f"{result.driver} logged in"
        if result.status is OdbcStatus.OK
        else f"{result.driver} said: {result.detail}"
    )
    summary = (
        f"the login answer redirects the client to {redirect.host} port {redirect.port} "
        f"({redirect.by}); {said}"
    )
    return _routed(summary, redirect, evidence, who, f"{said} (drivers follow it on their own)")


def _routed(
    summary: str, redirect: Redirect, evidence: dict[str, Any], who: _Who, note: str = ""
) -> Observation:
    """A good login whose answer sends the client on: the second hop is next."""
    return Observation(
        LoginOutcome.ROUTED,
        Status.PASS,
        summary,
        evidence,
        facts=(who.said(summary), redirect),
        notes=(note,) if note else (),
    )


def _who(context: Context) -> str:
    target = context.target
    if target.integrated_security:
        return "the current Windows (Kerberos) user"
    return target.user or "(no user)"


async def _native(context: Context) -> LoginResult:
    address, port = where(context)
    return await native_login_at(context, address, port, context.target.connect_host, NATIVE_CLIENT)


async def _odbc(context: Context, driver: str) -> OdbcLoginResult:
    from tui.probes import odbc_login as odbc

    target = context.target
    address, port = where(context)
    # Kerberos asks for a ticket for the name, not the address: connect as the person would
    server = target.connect_host if target.integrated_security else None
    return await context.probe(
        ("login", "odbc", driver, address, port),
        f"logging in to {address} port {port} through pyodbc with {driver}",
        lambda: odbc.probe_odbc_login(
            address, port, target=target, driver=driver, timeout=context.timeout, server=server
        ),
    )


def _from_native(
    context: Context, result: LoginResult, evidence: dict[str, Any], who: _Who
) -> Observation:
    from tui.probes.native_login import LoginStatus

    if result.status is LoginStatus.OK and result.routing is not None:
        redirect = redirect_of(context, result.routing)
        return _routed(f"{result.summary()} ({redirect.by})", redirect, evidence, who)
    if result.status is LoginStatus.OK:
        return _logged_in(
            context, result.summary(), result.server_info, result.query_detail, evidence, who
        )
    if result.status is LoginStatus.UNRESPONSIVE:
        decoded = login_errors.decode(
            Reply(sqlstate="HYT00"), user=context.target.user, database=context.target.database
        )
        return _failed(context, decoded, f"{decoded.detail} ({result.detail})", evidence, who)
    if result.status is LoginStatus.BROKEN:  # what drivers call a communication link failure
        decoded = login_errors.decode(
            Reply(sqlstate="08S01"), user=context.target.user, database=context.target.database
        )
        detail = f"{decoded.detail} ({result.detail})"
        return _failed(context, decoded, detail, evidence, who, LoginOutcome.BROKEN)
    if result.status is LoginStatus.PROTOCOL:
        detail = f"{result.detail[0].upper()}{result.detail[1:]}."
        return who.failed(LoginOutcome.PROTOCOL_ERROR, detail, evidence)
    reply = login_errors.reply_from_messages(
        [(m.number, m.state, m.message) for m in result.errors]
    )
    if result.status is LoginStatus.ERROR:
        reply = Reply(text=result.detail)
    decoded = _decode(context, reply, None)
    if result.status is LoginStatus.ERROR and decoded.rule is login_errors.UNRECOGNISED:
        decoded = login_errors.decode(
            Reply(sqlstate="08S01"), user=context.target.user, database=context.target.database
        )
        return _failed(context, decoded, f"{decoded.detail} ({result.detail})", evidence, who)
    return _failed(context, decoded, decoded.detail, evidence, who)


async def _from_odbc(
    context: Context, result: OdbcLoginResult, evidence: dict[str, Any], who: _Who
) -> Observation:
    from tui.probes.native_login import LoginStatus
    from tui.probes.odbc_login import OdbcStatus

    target = context.target
    if result.status is OdbcStatus.OK:
        return _logged_in(
            context, result.summary(), result.server_info, result.query_detail, evidence, who
        )
    if result.status is OdbcStatus.HUNG:
        decoded = login_errors.decode(
            Reply(sqlstate="HYT00"), user=target.user, database=target.database
        )
        return _failed(context, decoded, f"{decoded.detail} {result.detail}.", evidence, who)
    if result.status is OdbcStatus.NO_ODBC:
        reply = Reply(text=result.detail)
        decoded = _decode(context, reply, result.driver)
        if decoded.outcome is not Outcome.DRIVER_MISSING:
            decoded = login_errors.decode(
                Reply(text="libodbc.so.2: cannot open shared object file"),
                user=target.user,
                database=target.database,
            )
        detail = f"{result.detail}. {decoded.detail}"
    else:
        reply = Reply(numbers=result.numbers, text=result.text, sqlstate=result.sqlstate)
        decoded = _decode(context, reply, result.driver)
        detail = f"{decoded.detail} {result.driver} said: {result.detail}."
    if decoded.outcome is Outcome.DRIVER_MISSING:
        server_side = await _server_side_failure(context, decoded, evidence, who)
        if server_side is not None:
            return server_side
        detail += await _native_note(context)
        if not _asked_by_flag(target):
            detail += _ELSEWHERE
        return _failed(context, decoded, detail, evidence, who)
    hidden = decoded.rule.key == "18456" and target.database and not target.integrated_security
    if hidden:  # drivers often show only the 18456 that follows a 4060: ask the server itself
        native = await _native(context)
        evidence["native"] = native.evidence()
        if native.status is LoginStatus.DATABASE:
            refined = _decode(
                context,
                login_errors.reply_from_messages(
                    [(m.number, m.state, m.message) for m in native.errors]
                ),
                None,
            )
            detail = (
                f"{refined.detail} {result.driver} showed only the 18456 that follows it "
                f"({result.detail}); {NATIVE_CLIENT} read the 4060 before it."
            )
            return _failed(context, refined, detail, evidence, who)
    return _failed(context, decoded, detail, evidence, who)


_ELSEWHERE: Final = (
    " This is about the drivers of this machine: if the application runs on another one, look "
    "there (odbcinst -q -d on Linux and macOS, Get-OdbcDriver in PowerShell on Windows), or run "
    "sqlreach there."
)


def _asked_by_flag(target: Target) -> bool:
    origin = target.origins.get("driver")
    return origin is not None and origin.source is Source.FLAG


async def _server_side_failure(
    context: Context, missing: Decoded, evidence: dict[str, Any], who: _Who
) -> Observation | None:
    """The named driver is missing here, but sqlreach's own login can still ask the server. If
    the server refuses (a password, a database, TLS), that is the root cause, and the missing
    driver a finding beside it: DRIVER_MISSING is the verdict only when all else works."""
    from tui.probes.native_login import LoginStatus

    target = context.target
    if target.integrated_security or not target.user:
        return None
    native = await _native(context)
    if native.status is LoginStatus.OK:
        return None
    evidence["native"] = native.evidence()
    own = _from_native(context, native, evidence, dataclasses.replace(who, client=NATIVE_CLIENT))
    beside = (
        f"Beside that: {missing.detail} Installing it would not help until the server accepts "
        f"the login; {NATIVE_CLIENT} (which needs no driver) asked the server instead"
    )
    if not _asked_by_flag(target):
        beside += "." + _ELSEWHERE
    return dataclasses.replace(
        own,
        notes=(*own.notes, beside),
        fixes=tuple(dict.fromkeys((*own.fixes, *missing.fixes))),
    )


async def _native_note(context: Context) -> str:
    """Without the driver, the login itself can still be tried (SQL authentication)."""
    from tui.probes.native_login import LoginStatus

    target = context.target
    if target.integrated_security or not target.user:
        return ""
    native = await _native(context)
    if native.status is LoginStatus.OK:
        return f" With {NATIVE_CLIENT} (no driver needed) the login as {target.user} works."
    return f" {NATIVE_CLIENT} (no driver needed) got: {native.detail}."


def _decode(context: Context, reply: Reply, driver: str | None) -> Decoded:
    target = context.target
    return login_errors.decode(
        reply,
        user=None if target.integrated_security else target.user,
        database=target.database,
        driver=driver,
        server_encryption=_server_encryption(context),
        client_encrypt=target.encrypt,
    )


def _server_encryption(context: Context) -> Encryption | None:
    server = context.facts.maybe(ServerAnswer)
    return server.encryption if server is not None else None


def _failed(
    context: Context,
    decoded: Decoded,
    detail: str,
    evidence: dict[str, Any],
    who: _Who,
    outcome: LoginOutcome | None = None,
) -> Observation:
    evidence["decoded"] = {
        "rule": decoded.rule.key,
        "root_cause": decoded.cause.value,
        "recognised": list(decoded.recognised),
        "fixes": list(decoded.fixes),
    }
    facts: list[Fact] = [who.said(detail)]
    if login_errors.azure_rule(decoded.rule) and decoded.reply is not None:
        text = decoded.reply.text
        number = next((n for n in decoded.reply.numbers if n in decoded.rule.numbers), 0)
        facts.append(AzureRefusal(number, azure.client_ip(text), azure.server_named(text) or None))
    return Observation(
        outcome or decoded.outcome.value,
        Status.FAIL,
        detail,
        evidence,
        facts=tuple(facts),
        fixes=decoded.fixes,
    )


def _logged_in(
    context: Context,
    summary: str,
    info: ServerInfo | None,
    query_detail: str | None,
    evidence: dict[str, Any],
    who: _Who,
) -> Observation:
    notes: list[str] = []
    facts: list[Fact] = []
    fixes: tuple[str, ...] = ()
    status = Status.PASS
    if info is not None:
        said = info.sentence()
        if said:
            notes.append(f"The server says: {said}")
        extra: list[str] = []
        if info.restart_pending:
            notes.append(
                f"@@SERVERNAME still says {info.server_name}, but sys.servers already registers "
                f"{info.sys_servers_name} (the machine is {info.machine_name}): sp_dropserver / "
                "sp_addserver were run, the service was not restarted. Restart it; running "
                "them again changes nothing."
            )
            extra.append("restart-after-addserver")
            status = Status.WARN
        elif info.renamed:
            old, new = info.server_name, info.registered_name()
            notes.append(
                f"@@SERVERNAME still says {old}, but the machine is {info.machine_name}: the "
                "host was renamed without sp_dropserver / sp_addserver. Logins work, but "
                "linked servers, replication and anything reading @@SERVERNAME see the old "
                "name until it is registered and the service restarted."
            )
            if old and new:
                facts.append(Renamed(old, new))
            extra.append("restart-after-rename")
            status = Status.WARN
        address, port = where(context)
        forwarded = info.forwarded(address, port)
        if forwarded:
            notes.append(forwarded)
            extra.append("check-port-forward")
        if info.remote_access is not None and info.remote_access.strip() == "0":
            notes.append(
                "'remote access' (SSMS: 'Allow remote connections to this server') is off: it "
                "governs procedures called from other servers, not client connections, which "
                "work."
            )
            extra.append("check-remote-access")
        fixes = tuple(extra)
        host_note = info.host_note(context.target.connect_host)
        if host_note:
            notes.append(host_note)
        summary = f"{summary}; {said}" if said else summary
    elif query_detail:
        notes.append(f"The login works, but {query_detail}.")
    return Observation(
        LoginOutcome.OK,
        status,
        summary,
        evidence,
        facts=(who.said(summary), *facts),
        notes=tuple(notes),
        fixes=fixes,
    )
