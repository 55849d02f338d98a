"""compare(): the port the client tries against the server's own view, one finding per mismatch.

Server views come from the real SQLCheck report, from real ERRORLOGs, event texts and service
outputs (tests/fixtures/windows), and from configurations built in code where no real sample
exists (the registry; the firewall JSON shape, labelled as minimal input).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.localenv import Replay, make_env, ok
from tui.knowledge.server_findings import FIX_IDS, Finding, Severity, compare
from tui.probes.base import is_json_safe
from tui.probes.local.aliases import resolve_aliases
from tui.probes.local.errorlog import parse_errorlog, read_errorlog
from tui.probes.local.eventlog import parse_event_text
from tui.probes.local.linux import SS, SYSTEMCTL
from tui.probes.local.model import (
    InstanceConfig,
    IpEntry,
    OsListener,
    ServiceInfo,
    ServiceState,
    StartType,
)
from tui.probes.local.server import (
    InstanceView,
    LocalIdentity,
    ServerView,
    detect_this_machine,
    local_identity,
    read_server_view,
    server_view_from_sqlcheck,
)
from tui.probes.local.system import CommandResult, Environment, Hive, MemoryRegistry, decode_text
from tui.probes.local.windows import (
    FirewallState,
    parse_firewall_json,
    parse_sc_query,
)
from tui.target import parse_target

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def text(name: str) -> str:
    return decode_text((FIXTURES / name).read_bytes()).text


def ids(findings: Sequence[Finding]) -> list[str]:
    return [finding.id for finding in findings]


def by_id(findings: Sequence[Finding], wanted: str) -> Finding:
    for finding in findings:
        if finding.id == wanted:
            return finding
    raise AssertionError(f"no finding {wanted!r} among {ids(findings)}")


def sqlcheck_view(instance: str | None = None) -> ServerView:
    return server_view_from_sqlcheck(text("sqlcheck-report-sample.txt"), instance=instance)


def default_config(**changes: object) -> InstanceConfig:
    base = InstanceConfig(
        name="MSSQLSERVER",
        service="MSSQLSERVER",
        config_where=r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Microsoft SQL Server\MSSQL16."
        r"MSSQLSERVER\MSSQLServer\SuperSocketNetLib",
        tcp_enabled=True,
        listen_all=True,
        static_ports=(1433,),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def running(name: str = "MSSQLSERVER") -> ServiceInfo:
    return ServiceInfo(name, ServiceState.RUNNING, StartType.AUTOMATIC)


def windows_view(*instances: InstanceView, **changes: object) -> ServerView:
    view = ServerView("win32", "test", True, instances=instances)
    return dataclasses.replace(view, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The real SQLCheck report


def test_sqlcheck_default_instance_on_its_port_has_no_errors() -> None:
    findings = compare(1433, sqlcheck_view())
    assert [f for f in findings if f.severity == Severity.ERROR] == []


def test_sqlcheck_wrong_port_for_the_default_instance() -> None:
    finding = by_id(compare(1500, sqlcheck_view()), "wrong-port")
    assert finding.severity == Severity.ERROR
    assert finding.fix_ids == ("connect-with-port", "set-ipall-port")
    assert finding.values["found_port"] == 1433 and finding.values["port"] == 1500
    assert "configured for 1433" in finding.detail


def test_sqlcheck_named_instance_ports_and_browser() -> None:
    view = sqlcheck_view("SQL2017")
    assert "wrong-port" not in ids(compare(2433, view))
    assert "wrong-port" not in ids(compare(49974, view))  # static and dynamic both set
    wrong = by_id(compare(1433, view), "wrong-port")
    assert wrong.values["found_port"] == 2433 and wrong.values["service"] == "MSSQL$SQL2017"
    assert "browser-not-running" not in ids(compare(None, view))  # SQLBrowser is running


def test_sqlcheck_unknown_instance() -> None:
    finding = by_id(compare(None, sqlcheck_view("SALES")), "instance-not-found")
    assert "MSSQLSERVER (port 1433), SQL2017 (port 2433, 49974)" in finding.detail


def test_sqlcheck_identity_detects_the_machine() -> None:
    identity = sqlcheck_view().identity
    assert identity is not None
    assert detect_this_machine("con2016", (), identity)
    assert detect_this_machine("CON2016.MEGACORP.TEST.", (), identity)
    assert detect_this_machine("sql.example", ("192.168.2.102",), identity)
    assert detect_this_machine("sql.example", ("fe80::e0e3:a24b:3705:ba35%4",), identity)
    assert not detect_this_machine("con2016.other.test", ("10.1.1.1",), identity)
    assert not detect_this_machine(None, (), identity)


# ---------------------------------------------------------------------------------------------
# Service state and logon failures (real outputs)


def test_tcp_disabled_with_the_real_errorlog() -> None:
    log = parse_errorlog(
        text("errorlog-windows-sql2022-default-instance-tcp-off-mixed.utf16le.log")
    )
    view = windows_view(InstanceView(default_config(tcp_enabled=False), running(), log))
    findings = compare(1433, view)
    finding = by_id(findings, "tcp-disabled")
    assert finding.fix_ids == ("enable-tcp",) and finding.severity == Severity.ERROR
    assert "wrong-port" not in ids(findings)
    assert by_id(findings, "spn-not-registered").fix_ids == ("register-spn",)


def test_stopped_service_with_logon_failure_events() -> None:
    (stopped,) = parse_sc_query(text("sc-query-stopped-service-format-osqueryd.txt"))
    service = dataclasses.replace(stopped, name="MSSQLSERVER")
    events = parse_event_text(text("eventlog-system-7038-wrong-password.txt"))
    view = windows_view(InstanceView(default_config(), service, events=events))
    findings = compare(1433, view)
    assert ids(findings)[:2] == ["service-logon-failure", "service-stopped"]
    logon = findings[0]
    assert logon.fix_ids == ("update-service-password",)
    assert logon.values["account"] == ".\\sqlsrvlogin"
    assert "The user name or password is incorrect." in logon.detail
    assert by_id(findings, "service-stopped").fix_ids == ("start-engine-service",)


def test_old_logon_failure_on_a_running_service_is_a_warning() -> None:
    events = parse_event_text(text("eventlog-system-7041-logon-type.txt"))
    view = windows_view(InstanceView(default_config(), running(), events=events))
    finding = by_id(compare(1433, view), "service-logon-failure")
    assert finding.severity == Severity.WARNING


def test_paused_service_from_get_service() -> None:
    # The real Paused table (powershell-get-service-mssqlserver-paused.txt) as the reader now
    # gets it, by Get-Service's JSON: name, display name, state.
    paused = ServiceInfo(
        "MSSQLSERVER",
        ServiceState.PAUSED,
        display_name="SQL Server (MSSQLSERVER)",
        source="Get-Service",
    )
    finding = by_id(
        compare(1433, windows_view(InstanceView(default_config(), paused))), "service-paused"
    )
    assert "state 13" in finding.detail


def test_disabled_start_type_is_named_in_the_stopped_finding() -> None:
    service = ServiceInfo("MSSQLSERVER", ServiceState.STOPPED, StartType.DISABLED)
    finding = by_id(
        compare(1433, windows_view(InstanceView(default_config(), service))), "service-stopped"
    )
    assert "Disabled" in finding.detail


# ---------------------------------------------------------------------------------------------
# Error log startup failures (real doc excerpts)


@pytest.mark.parametrize(
    ("name", "finding_id", "fixes"),
    [
        (
            "errorlog-windows-docs-17182-all-protocols-disabled.txt",
            "all-protocols-disabled",
            ("enable-tcp",),
        ),
        ("errorlog-windows-docs-17182-ssl-cert-not-found.txt", "certificate-load-failure", ()),
        (
            "errorlog-windows-docs-26023-tcp-port-in-use.txt",
            "port-in-use",
            ("find-listening-port", "set-ipall-port"),
        ),
    ],
)
def test_startup_failures(name: str, finding_id: str, fixes: tuple[str, ...]) -> None:
    log = parse_errorlog(text(name))
    service = ServiceInfo("MSSQLSERVER", ServiceState.STOPPED)
    finding = by_id(
        compare(1433, windows_view(InstanceView(default_config(), service, log))), finding_id
    )
    assert finding.fix_ids == fixes and finding.severity == Severity.ERROR


def test_port_in_use_names_the_port_from_the_log() -> None:
    log = parse_errorlog(text("errorlog-windows-docs-26023-tcp-port-in-use.txt"))
    view = windows_view(InstanceView(default_config(static_ports=(1963,)), running(), log))
    assert by_id(compare(1963, view), "port-in-use").values["port"] == 1963


def test_restart_pending_when_the_log_shows_the_old_port() -> None:
    log = parse_errorlog(text("errorlog-windows-docs-listening-tcp-np-named-instance.txt"))
    view = windows_view(InstanceView(default_config(static_ports=(1500,)), running(), log))
    finding = by_id(compare(1500, view), "restart-pending")
    assert finding.values["found_port"] == 1433
    wrong = by_id(compare(1600, view), "wrong-port")
    assert "at its last start it listened on 1433" in wrong.detail


def test_login_failures_are_summarised() -> None:
    log = parse_errorlog(text("errorlog-linux-sql2019-docker-login-failed-state8.log"))
    view = windows_view(
        InstanceView(default_config(), running(), dataclasses.replace(log, stopped=False))
    )
    finding = by_id(compare(1433, view), "login-failures")
    assert "state 8: the password is wrong, from 172.20.0.1" in finding.detail


# ---------------------------------------------------------------------------------------------
# Named instances: Browser, hidden, dynamic ports, addresses


def named(**changes: object) -> InstanceConfig:
    base = default_config(
        name="SALES", service="MSSQL$SALES", static_ports=(), dynamic_requested=True
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_named_instance_hidden_with_the_browser_disabled() -> None:
    browser = ServiceInfo("SQLBrowser", ServiceState.STOPPED, StartType.DISABLED)
    log = parse_errorlog("Server is listening on [ 'any' <ipv4> 50123].")
    view = windows_view(
        InstanceView(named(hidden=True), running("MSSQL$SALES"), log),
        browser=browser,
        wanted_instance="SALES",
    )
    findings = compare(None, view)
    hidden = by_id(findings, "instance-hidden")
    assert hidden.fix_ids == ("connect-with-port", "unhide-instance")
    assert hidden.values["found_port"] == 50123
    browser_finding = by_id(findings, "browser-not-running")
    assert browser_finding.severity == Severity.ERROR
    assert "start type is Disabled" in browser_finding.title
    assert by_id(findings, "dynamic-port").severity == Severity.INFO
    # with the port given, the Browser does not matter for this client
    assert by_id(compare(50123, view), "browser-not-running").severity == Severity.INFO


def test_listen_on_some_addresses_only() -> None:
    entries = (
        IpEntry("IP1", "10.0.0.5", True, True, (1433,)),
        IpEntry("IP2", "10.0.0.6", False, True, (1433,)),
    )
    view = windows_view(
        InstanceView(default_config(listen_all=False, ip_entries=entries), running())
    )
    finding = by_id(compare(1433, view), "listens-on-some-addresses")
    assert finding.fix_ids == ("listen-on-all-ips",) and "10.0.0.5 (IP1)" in finding.detail
    none = windows_view(
        InstanceView(default_config(listen_all=False, ip_entries=entries[1:]), running())
    )
    assert by_id(compare(1433, none), "no-address-enabled").severity == Severity.ERROR


def test_no_default_instance_only_named_ones() -> None:
    view = windows_view(InstanceView(named(static_ports=(2433,), dynamic_requested=False)))
    finding = by_id(compare(1433, view), "no-default-instance")
    assert finding.values["found_port"] == 2433 and finding.fix_ids == ("connect-with-port",)


# ---------------------------------------------------------------------------------------------
# Aliases and firewall


def test_wrong_port_from_a_client_alias_names_the_alias(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/freetds/freetds.conf", "[PROD]\nhost = db01\nport = 1500\n")
    alias = resolve_aliases(parse_target("PROD"), environment)
    assert alias.target.port == 1500
    finding = by_id(
        compare(
            alias.target.port, windows_view(InstanceView(default_config(), running())), alias=alias
        ),
        "wrong-port",
    )
    assert finding.fix_ids == ("fix-client-alias", "connect-with-port", "set-ipall-port")
    assert (
        finding.values["alias_where"]
        == "/etc/freetds/freetds.conf, section [PROD]: host = db01, port = 1500 (lines 2, 3)"
    )
    assert (
        "The port 1500 comes from /etc/freetds/freetds.conf, section [PROD]: port = 1500"
        in finding.detail
    )


def firewall(rules: list[dict[str, object]]) -> FirewallState:
    """Minimal input in FIREWALL_SCRIPT's JSON shape."""
    profiles = [{"Name": "Domain", "Enabled": "True"}]
    return parse_firewall_json(json.dumps({"Profiles": profiles, "Rules": rules}))


def test_firewall_findings() -> None:
    allow_other: dict[str, object] = {
        "Name": "x",
        "DisplayName": "x",
        "Enabled": "True",
        "Action": "Allow",
        "Protocol": "TCP",
        "LocalPort": ["80"],
        "Program": "Any",
    }
    block: dict[str, object] = dict(
        allow_other, Action="Block", LocalPort=["1433"], Name="b", DisplayName="No SQL"
    )
    closed = windows_view(
        InstanceView(default_config(), running()), firewall=firewall([allow_other])
    )
    assert by_id(compare(1433, closed), "firewall-tcp-not-open").fix_ids == ("open-firewall-tcp",)
    blocked = windows_view(InstanceView(default_config(), running()), firewall=firewall([block]))
    finding = by_id(compare(1433, blocked), "firewall-blocks-tcp")
    assert "'No SQL' (Block TCP 1433" in finding.detail
    named_view = windows_view(
        InstanceView(named(), running("MSSQL$SALES")),
        firewall=firewall([allow_other]),
        browser=running("SQLBrowser"),
        wanted_instance="SALES",
    )
    udp = by_id(compare(None, named_view), "firewall-udp-1434-closed")
    assert udp.fix_ids == ("open-firewall-udp-1434",)
    unread = windows_view(
        InstanceView(default_config(), running()), firewall=parse_firewall_json("x")
    )
    assert "firewall-unknown" in ids(compare(1433, unread))


# ---------------------------------------------------------------------------------------------
# Linux and the operating system's listeners


async def test_linux_view_with_a_moved_port_and_one_address(tmp_path: Path) -> None:
    runner = Replay(
        {
            (SYSTEMCTL,): ok(text("linux-systemctl-status-mssql-server-active.txt")),
            (SS, "-ltnp"): ok(text("linux-ss-tlnp-grep-1433-sqlservr-UNATTRIBUTED.txt")),
        }
    )
    environment, files = make_env(tmp_path, runner=runner)
    files.place("/var/opt/mssql/mssql.conf", text("linux-mssql.conf-docs-all-settings-2017.conf"))
    view = await read_server_view(environment, timeout=5)
    assert view.installed and view.instances[0].config.static_ports == (1401,)
    findings = compare(1401, view)
    assert "listens-on-some-addresses" in ids(findings)
    # ss shows sqlservr on 1433 (the recorded sample), nothing on 1401: not listening now
    assert by_id(findings, "port-not-listening").severity == Severity.ERROR
    wrong = by_id(compare(1433, view), "wrong-port")
    assert wrong.values["found_port"] == 1401


async def test_linux_restart_loop(tmp_path: Path) -> None:
    runner = Replay(
        {(SYSTEMCTL,): ok(text("linux-journal-mssql-server-failed-restart-loop.txt"), 3)}
    )
    environment, files = make_env(tmp_path, runner=runner)
    files.place("/var/opt/mssql/mssql.conf", text("linux-mssql.conf-real-minimal.conf"))
    view = await read_server_view(environment, timeout=5)
    finding = by_id(compare(1433, view), "service-restart-loop")
    assert finding.fix_ids == ("start-engine-service",)
    assert "Start request repeated too quickly" in finding.detail


def test_port_taken_by_another_process() -> None:
    listeners = (OsListener("0.0.0.0", 1433, 77, "nginx"),)
    config = default_config(name="MSSQLSERVER", service="mssql-server", static_ports=(1433,))
    view = ServerView(
        "linux",
        "test",
        True,
        instances=(InstanceView(config, running("mssql-server")),),
        listeners=listeners,
        listeners_read=True,
    )
    assert by_id(compare(1433, view), "port-taken").fix_ids == ("find-listening-port",)


def test_not_installed_is_the_only_finding() -> None:
    view = ServerView("linux", "this machine", False)
    assert ids(compare(1433, view)) == ["not-installed"]


# ---------------------------------------------------------------------------------------------
# read_server_view and this machine


async def test_read_server_view_on_windows_through_the_interfaces(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    root = r"SOFTWARE\Microsoft\Microsoft SQL Server"
    registry.set_key(
        Hive.HKLM,
        root + r"\Instance Names\SQL",
        {"SALES": "MSSQL16.SALES", "MSSQLSERVER": "MSSQL16.MSSQLSERVER"},
    )
    for instance_id, port in (("MSSQL16.SALES", "2433"), ("MSSQL16.MSSQLSERVER", "1433")):
        netlib = root + rf"\{instance_id}\MSSQLServer\SuperSocketNetLib"
        registry.set_key(Hive.HKLM, netlib + r"\Tcp", {"Enabled": 1, "ListenOnAllIPs": 1})
        registry.set_key(Hive.HKLM, netlib + r"\Tcp\IPAll", {"TcpPort": port})
    environment, _ = make_env(tmp_path, platform="win32", registry=registry, runner=Replay())
    view = await read_server_view(environment, instance="SALES", timeout=2)
    assert [item.name for item in view.instances] == ["MSSQLSERVER", "SALES"]
    assert view.wanted_instance == "SALES"
    assert "wrong-port" in ids(compare(1433, view))
    assert "service-state-unknown" in ids(compare(2433, view))  # sc.exe not available here
    assert is_json_safe(view.evidence())


class _Stuck:
    async def run(self, argv: Sequence[str], *, timeout: float) -> CommandResult:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def test_read_server_view_is_bounded_when_commands_hang(tmp_path: Path) -> None:
    environment, _ = make_env(tmp_path, runner=_Stuck())  # type: ignore[arg-type]
    view = await read_server_view(environment, timeout=0.2)
    assert view.installed is None and "took longer" in view.problems[0]
    assert view.elapsed_ms < 10_000


async def test_read_server_view_on_this_machine() -> None:
    view = await read_server_view(Environment.current(), timeout=5)
    assert view.installed is not True or view.installed_evidence
    assert view.identity is not None and socket.gethostname().lower() in view.identity.names
    assert is_json_safe(view.evidence())


async def test_read_server_view_on_macos_says_so(tmp_path: Path) -> None:
    environment, _ = make_env(tmp_path, platform="darwin")
    view = await read_server_view(environment, timeout=1)
    assert view.installed is False and "natively" in view.problems[0]


def test_detect_this_machine_here(loopback: str) -> None:
    identity = local_identity(Environment.current())
    assert detect_this_machine("localhost", ())
    assert detect_this_machine("(local)", ())
    assert detect_this_machine("db", (loopback,))
    assert detect_this_machine("::1", ())
    assert detect_this_machine(socket.gethostname(), (), identity)
    own = [a for a in identity.addresses if not a.startswith("127.") and a != "::1"]
    if own:
        assert detect_this_machine("some-name", (own[0],), identity)
    assert not detect_this_machine("elsewhere.invalid", ("10.255.255.254",), identity)
    assert detect_this_machine("x", (), LocalIdentity(frozenset({"x"}), frozenset()))


# ---------------------------------------------------------------------------------------------
# Contract


def test_findings_reject_unknown_fix_ids() -> None:
    with pytest.raises(ValueError):
        Finding("x", Severity.INFO, "t", "d", fix_ids=("reboot-everything",))


states = st.sampled_from(list(ServiceState))
ports = st.one_of(st.none(), st.integers(1, 65535))


@given(
    ports,
    st.booleans(),
    st.one_of(st.none(), st.booleans()),
    st.lists(st.integers(1, 65535), max_size=3),
    states,
    states,
    st.booleans(),
    st.sampled_from(["MSSQLSERVER", "SALES", None]),
)
def test_compare_never_raises_and_findings_are_json_safe(
    port: int | None,
    tcp: bool,
    listen_all: bool | None,
    static: list[int],
    engine: ServiceState,
    browser: ServiceState,
    hidden: bool,
    wanted: str | None,
) -> None:
    config = default_config(
        name=wanted or "MSSQLSERVER",
        service="MSSQLSERVER" if wanted in {None, "MSSQLSERVER"} else f"MSSQL${wanted}",
        tcp_enabled=tcp,
        listen_all=listen_all,
        static_ports=tuple(dict.fromkeys(static)),
        hidden=hidden,
    )
    view = windows_view(
        InstanceView(config, ServiceInfo(config.service, engine)),
        browser=ServiceInfo("SQLBrowser", browser),
        wanted_instance=wanted,
    )
    for finding in compare(port, view):
        assert set(finding.fix_ids) <= FIX_IDS
        assert is_json_safe(finding.to_json())


def test_unreadable_log_and_configuration_are_said_plainly(tmp_path: Path) -> None:
    environment, _ = make_env(tmp_path, platform="win32")
    log = read_errorlog(environment, "C:\\Logs\\ERRORLOG")
    config = default_config(
        problems=("HKEY_LOCAL_MACHINE\\...\\Tcp cannot be read: run as an administrator",)
    )
    findings = compare(1433, windows_view(InstanceView(config, running(), log)))
    assert "cannot be read: not found" in by_id(findings, "errorlog-unreadable").detail
    assert "run as an administrator" in by_id(findings, "config-unreadable").detail
