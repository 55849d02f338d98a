"""Windows server-side readers, run here through the small interfaces.

Real samples: `sc query` (tests/fixtures/windows/sc-query-*), `netstat -ano` lines, the SQLCheck
report, ERRORLOGs (every sample a reader runs on is also driven, one row each, by
tests/test_local_windows_fixtures.py, with the `.reg` exports). No real `reg query` output, `sc qc`
or output of the firewall script exists (see tests/fixtures/README.md and windows-more.md): the
registry here is built in memory with the value names Microsoft's SQLCheck reads (Collectors.cs),
the firewall JSON tests are minimal inputs in the shape FIREWALL_SCRIPT prints, with values from
the New-NetFirewallRule documentation, and the Get-Service JSON ones carry the values of the real
Paused table. They are labelled "minimal input" below.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.localenv import Replay, make_env, ok
from tui.probes.local.model import ServiceState, StartType
from tui.probes.local.server import whole_read_bound
from tui.probes.local.sqlcheck import parse_sqlcheck_report
from tui.probes.local.system import (
    POWERSHELL,
    POWERSHELL_TIMEOUT,
    CommandResult,
    CommandStatus,
    Hive,
    MemoryRegistry,
    creation_flags,
)
from tui.probes.local.windows import (
    NETSTAT,
    SC,
    Coverage,
    firewall_script,
    get_service_script,
    parse_firewall_json,
    parse_get_service_json,
    parse_netstat,
    parse_sc_query,
    read_instances,
    read_service,
    read_windows,
    service_registry,
)

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
ROOT = r"SOFTWARE\Microsoft\Microsoft SQL Server"
NETLIB = ROOT + r"\{id}\MSSQLServer\SuperSocketNetLib"
LOG_PATH = r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Log\ERRORLOG"


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def sql_registry() -> MemoryRegistry:
    """Minimal input: three instances in the registry layout SQLCheck reads."""
    registry = MemoryRegistry()
    registry.set_key(
        Hive.HKLM,
        ROOT + r"\Instance Names\SQL",
        {"MSSQLSERVER": "MSSQL16.MSSQLSERVER", "SALES": "MSSQL16.SALES", "OLD": "MSSQL13.OLD"},
    )
    default = NETLIB.format(id="MSSQL16.MSSQLSERVER")
    registry.set_key(Hive.HKLM, default, {"ForceEncryption": 1, "HideInstance": 0})
    registry.set_key(Hive.HKLM, default + r"\Tcp", {"Enabled": 1, "ListenOnAllIPs": 1})
    registry.set_key(Hive.HKLM, default + r"\Tcp\IPAll", {"TcpPort": "1433", "TcpDynamicPorts": ""})
    registry.set_key(
        Hive.HKLM,
        ROOT + r"\MSSQL16.MSSQLSERVER\MSSQLServer\Parameters",
        {
            "SQLArg0": r"-dC:\Data\master.mdf",
            "SQLArg1": "-e" + LOG_PATH,
        },
    )
    sales = NETLIB.format(id="MSSQL16.SALES")
    registry.set_key(Hive.HKLM, sales, {"HideInstance": 1})
    registry.set_key(Hive.HKLM, sales + r"\Tcp", {"Enabled": 1, "ListenOnAllIPs": 0})
    registry.set_key(Hive.HKLM, sales + r"\Tcp\IPAll", {"TcpPort": "", "TcpDynamicPorts": "0"})
    registry.set_key(
        Hive.HKLM,
        sales + r"\Tcp\IP2",
        {"IpAddress": "10.0.0.6", "Enabled": 0, "Active": 1, "TcpPort": "1500"},
    )
    registry.set_key(
        Hive.HKLM,
        sales + r"\Tcp\IP1",
        {"IpAddress": "10.0.0.5", "Enabled": 1, "Active": 1, "TcpPort": "1450, 14x3"},
    )
    old = NETLIB.format(id="MSSQL13.OLD")
    registry.set_key(Hive.HKLM, old, {})
    registry.set_key(Hive.HKLM, old + r"\Tcp", {"Enabled": 0, "ListenOnAllIPs": 1})
    registry.set_key(Hive.HKLM, old + r"\Tcp\IPAll", {"TcpDynamicPorts": "49974", "TcpPort": ""})
    registry.set_key(
        Hive.HKLM,
        r"SYSTEM\CurrentControlSet\Services\MSSQLSERVER",
        {"Start": 2, "DelayedAutostart": 1, "ObjectName": "NT Service\\MSSQLSERVER"},
    )
    registry.set_key(
        Hive.HKLM,
        r"SYSTEM\CurrentControlSet\Services\SQLBrowser",
        {"Start": 4, "ObjectName": "NT AUTHORITY\\LOCALSERVICE"},
    )
    return registry


def test_instances_and_their_network_settings() -> None:
    instances, problems = read_instances(sql_registry())
    assert problems == ()
    by_name = {instance.name: instance for instance in instances}
    default = by_name["MSSQLSERVER"]
    assert (default.tcp_enabled, default.listen_all, default.static_ports) == (True, True, (1433,))
    assert default.force_encryption and default.hidden is False
    assert default.errorlog_path is not None and default.errorlog_path.endswith("Log\\ERRORLOG")
    assert default.configured_ports() == (1433,)
    sales = by_name["SALES"]
    assert sales.service == "MSSQL$SALES" and sales.hidden
    assert sales.dynamic_requested and sales.uses_dynamic_ports
    assert [entry.key for entry in sales.ip_entries] == ["IP1", "IP2"]
    assert sales.ip_entries[0].static_ports == (1450,)
    assert sales.configured_ports() == (1450,)  # only the enabled IPn counts
    assert any("'14x3' is not a TCP port number" in p for p in sales.problems)
    old = by_name["OLD"]
    assert old.tcp_enabled is False and old.dynamic_ports == (49974,)


def test_unreadable_keys_are_problems_that_say_run_as_administrator() -> None:
    registry = sql_registry()
    registry.denied.add((Hive.HKLM, NETLIB.format(id="MSSQL16.MSSQLSERVER") + r"\Tcp"))
    instances, _ = read_instances(registry)
    default = next(i for i in instances if i.name == "MSSQLSERVER")
    assert default.tcp_enabled is None
    assert "run as an administrator" in default.problems[0]
    registry.denied.add((Hive.HKLM, ROOT + r"\Instance Names\SQL"))
    assert "cannot be read" in read_instances(registry)[1][0]


def test_real_sc_query_outputs() -> None:
    running = parse_sc_query(text("sc-query-type-service-mssqlserver-running-UNATTRIBUTED.txt"))
    assert [(s.name, s.state) for s in running] == [
        ("MSDTC", ServiceState.RUNNING),
        ("msftesql", ServiceState.RUNNING),
        ("MSSQLSERVER", ServiceState.RUNNING),
    ]
    assert running[2].display_name == "SQL Server (MSSQLSERVER)"
    (stopped,) = parse_sc_query(text("sc-query-stopped-service-format-osqueryd.txt"))
    assert (stopped.name, stopped.state, stopped.exit_code) == ("osqueryd", ServiceState.STOPPED, 0)


def test_sc_query_stopped_with_an_exit_code_is_failed() -> None:
    # Minimal input: the real STOPPED block with WIN32_EXIT_CODE 1066 (service-specific error).
    block = text("sc-query-stopped-service-format-osqueryd.txt").replace(
        "WIN32_EXIT_CODE    : 0  (0x0)", "WIN32_EXIT_CODE    : 1066  (0x42a)"
    )
    (failed,) = parse_sc_query(block)
    assert failed.state == ServiceState.FAILED and failed.exit_code == 1066


def paused_json(name: str = "MSSQLSERVER", display: str = "SQL Server (MSSQLSERVER)") -> str:
    """Minimal input in get_service_script's shape, with the values of the real Paused table
    (powershell-get-service-mssqlserver-paused.txt); Status 7 is ServiceControllerStatus.Paused."""
    return json.dumps({"Name": name, "DisplayName": display, "Status": 7})


def test_get_service_json_keeps_long_names_whole() -> None:
    """The default table cuts names at 18 characters (real samples: `MSSQLServerOLAP...`,
    and `…` in PowerShell 7); the JSON the reader asks for never does."""
    long_name = "MSSQL$SQLEXPRESS2019"
    (paused,) = parse_get_service_json(paused_json(long_name, "SQL Server (SQLEXPRESS2019)"))
    assert (paused.name, paused.state, paused.display_name, paused.source) == (
        long_name,
        ServiceState.PAUSED,
        "SQL Server (SQLEXPRESS2019)",
        "Get-Service",
    )
    states = [{"Name": f"S{n}", "DisplayName": "", "Status": n} for n in range(1, 8)]
    assert [s.state for s in parse_get_service_json(json.dumps(states))] == [
        ServiceState.STOPPED,
        ServiceState.STARTING,
        ServiceState.STOPPING,
        ServiceState.RUNNING,
        ServiceState.STARTING,
        ServiceState.STOPPING,
        ServiceState.PAUSED,
    ]
    script = get_service_script(long_name)
    assert f"-Name '{long_name}'" in script and "ConvertTo-Json" in script
    assert "[int]$_.Status" in script


def test_start_type_and_account_from_the_services_key() -> None:
    registry = sql_registry()
    assert service_registry(registry, "MSSQLSERVER") == (
        StartType.DELAYED,
        "NT Service\\MSSQLSERVER",
        None,
    )
    assert service_registry(registry, "SQLBrowser")[0] == StartType.DISABLED
    assert service_registry(registry, "Nope") == (StartType.UNKNOWN, None, None)


async def test_read_service_combines_sc_and_the_registry(tmp_path: Path) -> None:
    sc_output = text("sc-query-type-service-mssqlserver-running-UNATTRIBUTED.txt")
    runner = Replay(
        {
            (SC, "query", "MSSQLSERVER"): ok(sc_output),
            (SC, "query", "MSSQL$GONE"): ok(b"", returncode=1060),
        }
    )
    environment, _ = make_env(tmp_path, platform="win32", registry=sql_registry(), runner=runner)
    info = await read_service(environment, "MSSQLSERVER", timeout=5)
    assert (info.state, info.start_type, info.account) == (
        ServiceState.RUNNING,
        StartType.DELAYED,
        "NT Service\\MSSQLSERVER",
    )
    gone = await read_service(environment, "MSSQL$GONE", timeout=5)
    assert gone.state == ServiceState.NOT_INSTALLED


async def test_read_service_falls_back_to_get_service(tmp_path: Path) -> None:
    runner = Replay({(POWERSHELL,): ok(paused_json())})
    environment, _ = make_env(tmp_path, platform="win32", registry=sql_registry(), runner=runner)
    info = await read_service(environment, "MSSQLSERVER", timeout=5)
    assert info.state == ServiceState.PAUSED and info.source == "Get-Service"
    assert runner.calls[-1][:4] == (POWERSHELL, "-NoProfile", "-NonInteractive", "-Command")


def test_real_netstat_lines() -> None:
    both = parse_netstat(text("netstat-ano-findstr-1433-ipv4-ipv6-UNATTRIBUTED.txt"))
    assert [(x.address, x.port, x.pid) for x in both] == [
        ("0.0.0.0", 1433, 4372),
        ("::", 1433, 4372),
    ]
    assert all(x.all_addresses for x in both)
    established = parse_netstat(text("netstat-ano-findstr-1433-established-UNATTRIBUTED.txt"))
    assert [(x.address, x.port, x.pid) for x in established] == [("0.0.0.0", 1433, 12196)]


def firewall_json(rules: list[dict[str, object]], profiles_on: bool = True) -> str:
    """Minimal input in FIREWALL_SCRIPT's shape (values from the New-NetFirewallRule docs)."""
    state = "True" if profiles_on else "False"
    profiles = [{"Name": name, "Enabled": state} for name in ("Domain", "Private", "Public")]
    return json.dumps({"Profiles": profiles, "Rules": rules})


def rule(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Name": "r",
        "DisplayName": "SQL",
        "Enabled": "True",
        "Action": "Allow",
        "Profile": "Any",
        "Protocol": "TCP",
        "LocalPort": ["1433"],
        "Program": "Any",
    }
    base.update(values)
    return base


def test_firewall_coverage() -> None:
    allowed = parse_firewall_json(firewall_json([rule()]))
    assert allowed.check("TCP", 1433).coverage == Coverage.ALLOWED
    assert allowed.check("TCP", 1500).coverage == Coverage.NOT_ALLOWED
    assert allowed.check("UDP", 1434).coverage == Coverage.NOT_ALLOWED
    ranged = parse_firewall_json(firewall_json([rule(LocalPort="1400-1500", Protocol="Any")]))
    assert ranged.check("UDP", 1434).coverage == Coverage.ALLOWED
    blocked = parse_firewall_json(
        firewall_json([rule(), rule(Name="b", Action="Block", LocalPort=["Any"])])
    )
    check = blocked.check("TCP", 1433)
    assert check.coverage == Coverage.BLOCKED and check.rules[0].name == "b"
    disabled = parse_firewall_json(firewall_json([rule(Enabled="False")]))
    assert disabled.check("TCP", 1433).coverage == Coverage.NOT_ALLOWED
    program = parse_firewall_json(
        firewall_json([rule(LocalPort="Any", Program=r"C:\Program Files\x\sqlservr.exe")])
    )
    assert program.check("TCP", 1433, ("sqlservr.exe",)).coverage == Coverage.ALLOWED
    assert program.check("TCP", 1433, ("other.exe",)).coverage == Coverage.NOT_ALLOWED
    off = parse_firewall_json(firewall_json([], profiles_on=False))
    assert off.check("TCP", 1433).coverage == Coverage.FIREWALL_OFF
    junk = parse_firewall_json("<html>")
    assert junk.check("TCP", 1433).coverage == Coverage.UNKNOWN


def test_firewall_script_carries_the_ports() -> None:
    script = firewall_script((1433, 1434, 1433, 70000))
    assert "$want = @(1433,1434)" in script


async def test_read_windows_end_to_end(tmp_path: Path) -> None:
    sc_output = text("sc-query-type-service-mssqlserver-running-UNATTRIBUTED.txt")
    runner = Replay(
        {
            (SC, "query", "MSSQLSERVER"): ok(sc_output),
            (SC, "query", "MSSQL$SALES"): ok(b"", returncode=1060),
            (NETSTAT, "-ano", "-p", "TCP"): ok(
                text("netstat-ano-findstr-1433-ipv4-ipv6-UNATTRIBUTED.txt")
            ),
            (POWERSHELL,): ok(firewall_json([rule()])),
        }
    )
    environment, files = make_env(
        tmp_path, platform="win32", registry=sql_registry(), runner=runner
    )
    log = FIXTURES / "errorlog-windows-sql2022-default-instance-tcp-off-mixed.utf16le.log"
    files.place(LOG_PATH, log.read_bytes())
    view = await read_windows(environment, timeout=5)
    assert {i.name for i in view.instances} == {"MSSQLSERVER", "SALES", "OLD"}
    assert view.services["MSSQLSERVER"].state == ServiceState.RUNNING
    assert view.services["MSSQL$SALES"].state == ServiceState.NOT_INSTALLED
    assert view.services["SQLBROWSER"].state == ServiceState.UNKNOWN  # sc query: no answer
    assert view.errorlogs["MSSQLSERVER"].dac_port == 1434
    assert [x.port for x in view.listeners] == [1433, 1433]
    assert view.firewall is not None and view.firewall.check("TCP", 1433).coverage == (
        Coverage.ALLOWED
    )
    assert any("listening sockets not read" in p for p in view.problems)  # TCPv6 not recorded


async def test_read_windows_with_a_timed_out_command(tmp_path: Path) -> None:
    runner = Replay({(POWERSHELL,): CommandResult((POWERSHELL,), CommandStatus.TIMEOUT)})
    environment, _ = make_env(tmp_path, platform="win32", registry=sql_registry(), runner=runner)
    view = await read_windows(environment, timeout=1)
    assert view.firewall is not None and not view.firewall.read
    assert "did not finish" in view.firewall.problems[0]


def test_real_sqlcheck_report() -> None:
    report = parse_sqlcheck_report(text("sqlcheck-report-sample.txt"))
    assert (report.computer, report.fqdn) == ("CON2016", "CON2016.MEGACORP.TEST")
    assert report.addresses == ("fe80::e0e3:a24b:3705:ba35%4", "192.168.2.102")
    services = {s.name: s for s in report.services}
    assert services["MSSQL$SQL2017"].account == "MEGACORP\\SQL2017SVC"
    assert services["SQLBrowser"].state == ServiceState.RUNNING
    assert services["MsDtsServer130"].start_type == StartType.DISABLED
    instances = {i.name: i for i in report.instances}
    assert instances["MSSQLSERVER"].static_ports == (1433,)
    named = instances["SQL2017"]
    assert (named.static_ports, named.dynamic_ports, named.listen_all) == ((2433,), (49974,), True)
    assert named.service == "MSSQL$SQL2017" and named.hidden is False
    assert report.aliases == () and report.problems == ()


def test_text_that_is_not_a_sqlcheck_report() -> None:
    report = parse_sqlcheck_report("hello\nServices of Interest:\n\nName\n")
    assert report.problems and report.services == ()


reg_values = st.one_of(
    st.text(max_size=20),
    st.integers(-5, 70000),
    st.binary(max_size=8),
    st.lists(st.text(max_size=5), max_size=3).map(tuple),
)


@given(
    st.dictionaries(
        st.sampled_from(
            ["TcpPort", "TcpDynamicPorts", "Enabled", "ListenOnAllIPs", "IpAddress", "HideInstance"]
        ),
        reg_values,
    )
)
def test_registry_reader_never_raises_on_odd_values(values: dict[str, object]) -> None:
    registry = MemoryRegistry()
    registry.set_key(Hive.HKLM, ROOT + r"\Instance Names\SQL", {"X": "MSSQL16.X"})
    for sub in ("", r"\Tcp", r"\Tcp\IPAll", r"\Tcp\IP1"):
        registry.set_key(Hive.HKLM, NETLIB.format(id="MSSQL16.X") + sub, values)  # type: ignore[arg-type]
    (instance,), _ = read_instances(registry)
    assert all(0 < port <= 65535 for port in instance.configured_ports())


@given(st.text(max_size=2000))
def test_text_parsers_never_raise(data: str) -> None:
    parse_sc_query(data)
    parse_get_service_json(data)
    assert all(0 < x.port <= 65535 for x in parse_netstat(data))
    parse_sqlcheck_report(data)
    parse_firewall_json(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Profiles",
                    "Rules",
                    "Name",
                    "Enabled",
                    "Action",
                    "Protocol",
                    "LocalPort",
                    "Program",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@given(json_values)
def test_firewall_parser_never_raises_on_json(value: object) -> None:
    state = parse_firewall_json(json.dumps(value))
    assert state.check("TCP", 1433).coverage in set(Coverage)


async def test_get_service_fallback_refuses_names_that_could_inject(tmp_path: Path) -> None:
    runner = Replay({(POWERSHELL,): ok(paused_json())})
    environment, _ = make_env(tmp_path, platform="win32", registry=sql_registry(), runner=runner)
    info = await read_service(environment, "MSSQL$X'; Remove-Item C:\\ -Recurse; '", timeout=5)
    assert info.state == ServiceState.UNKNOWN
    assert all(call[0] != POWERSHELL for call in runner.calls)


async def test_powershell_calls_get_their_own_longer_time_limit(tmp_path: Path) -> None:
    """A cold powershell.exe loading NetSecurity can outlast a probe's few seconds; sc.exe and
    netstat.exe keep the probe's limit."""
    runner = Replay(
        {
            (SC, "query", "MSSQLSERVER"): ok(
                text("sc-query-type-service-mssqlserver-running-UNATTRIBUTED.txt")
            ),
            (POWERSHELL,): ok(firewall_json([rule()])),
        }
    )
    environment, _ = make_env(tmp_path, platform="win32", registry=sql_registry(), runner=runner)
    await read_windows(environment, timeout=3)
    limits: dict[str, set[float]] = {}
    for call, limit in zip(runner.calls, runner.timeouts, strict=True):
        limits.setdefault(call[0], set()).add(limit)
    assert limits[POWERSHELL] == {POWERSHELL_TIMEOUT}
    assert limits[SC] == {3} and limits[NETSTAT] == {3}
    assert whole_read_bound("win32", 3) > POWERSHELL_TIMEOUT
    assert whole_read_bound("linux", 3) == 7


def test_commands_open_no_window_on_windows() -> None:
    """CREATE_NO_WINDOW (0x08000000) only on Windows: POSIX's Popen refuses any flag."""
    assert creation_flags("win32") == 0x08000000
    assert creation_flags("linux") == 0 == creation_flags("darwin")
