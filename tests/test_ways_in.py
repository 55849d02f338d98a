"""The ways in besides plain TCP to a SQL Server: Azure SQL names, ports and errors, a private
endpoint resolved publicly, TLS 1.2 builds, LocalDB, shared memory and pipes, a listener whose
first address refuses, SPNs, and loopback-only listeners seen on the server.

Azure and KB texts are Microsoft's (tests/corpus/azure_facts.md); SqlLocalDB's output is the
documented 'Instance pipe name' line fed through a simulated runner (it never ran here).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import pytest

from tests.check_run import run_check
from tests.dnsserver import DnsServer
from tests.lab_fixtures import running
from tests.netutil import random_loopback
from tui.knowledge import azure, tls12
from tui.knowledge.fixes.catalog import render_fix
from tui.knowledge.fixes.values import FixValues
from tui.knowledge.server_findings import Severity, compare
from tui.lab.scenarios import AZURE_40615, LAB_HOST, scenario
from tui.lab.scenarios import PortMode as Mode
from tui.probes.dns import probe_dns
from tui.probes.local.errorlog import parse_errorlog
from tui.probes.local.localdb import localdb_info
from tui.probes.local.model import InstanceConfig, IpEntry, ServiceInfo, ServiceState, StartType
from tui.probes.local.server import InstanceView, ServerView
from tui.probes.local.system import CommandResult, CommandStatus, Environment
from tui.steps.dns import _private_endpoint_public
from tui.target import parse_target

# -- Azure SQL names ----------------------------------------------------------------------------

NAMES = (
    # the host names of Microsoft's pages (azure_facts.md, "Host names")
    ("mynewserver20170403.database.windows.net", azure.Kind.DATABASE, "mynewserver20170403"),
    ("srv.privatelink.database.windows.net", azure.Kind.DATABASE, "srv"),
    ("srv.database.chinacloudapi.cn", azure.Kind.DATABASE, "srv"),
    ("srv.database.usgovcloudapi.net", azure.Kind.DATABASE, "srv"),
    ("mi1.abc123.database.windows.net", azure.Kind.MANAGED_INSTANCE, "mi1"),
    ("mi1.public.abc123.database.windows.net", azure.Kind.MANAGED_INSTANCE_PUBLIC, "mi1"),
    ("ws1.sql.azuresynapse.net", azure.Kind.SYNAPSE_DEDICATED, "ws1"),
    ("ws1-ondemand.sql.azuresynapse.net", azure.Kind.SYNAPSE_SERVERLESS, "ws1"),
    ("ws1.sql.azuresynapse.azure.cn", azure.Kind.SYNAPSE_DEDICATED, "ws1"),
    # redirect targets seen in the wild (tedious #1075, tiberius #88)
    ("yyy.northcentralus1-a.worker.database.windows.net", azure.Kind.NODE, "yyy"),
    (
        "f02f9939c13c.tr2996.northeurope1-a.worker.database.windows.net",
        azure.Kind.NODE,
        "f02f9939c13c",
    ),
)


@pytest.mark.parametrize(("host", "kind", "server"), NAMES)
def test_azure_host_names(host: str, kind: azure.Kind, server: str) -> None:
    found = azure.recognise(host)
    assert found is not None and found.kind is kind and found.server == server
    assert found.private_link is (".privatelink." in host)


def test_other_names_are_not_azure() -> None:
    for host in ("db1", "db1.corp.test", "database.windows.net.evil.test", "10.0.0.5", None):
        assert azure.recognise(host) is None
    public = azure.recognise("mi1.public.abc123.database.windows.net")
    assert public is not None and public.port == azure.MI_PUBLIC_PORT == 3342
    assert azure.is_redirect_port(11047) and not azure.is_redirect_port(1433)


def test_azure_error_texts_give_their_values() -> None:
    text = AZURE_40615.replace("{server}", "srv1").replace("{client}", "40.68.37.158")
    assert azure.client_ip(text) == "40.68.37.158"
    assert azure.server_named(text) == "srv1"
    assert azure.client_ip("Client with IP address 'not an address' is not allowed") is None
    tracing = (
        "Login failed for user 'app'.This session has been assigned a tracing ID of "
        "'5c3a1e7e-0c5e-4c4e-9d1f-6f0a2b1c3d4e'. Provide this tracing ID to customer support"
    )
    assert azure.tracing_id(tracing) == "5c3a1e7e-0c5e-4c4e-9d1f-6f0a2b1c3d4e"


def test_the_firewall_fix_carries_the_address_and_the_short_name() -> None:
    target = parse_target("Server=tcp:srv1.database.windows.net,1433;User ID=app;Password=x")
    fix = render_fix(
        "azure-firewall-rule", FixValues.of(target, client_ip="40.68.37.158", azure_server="srv1")
    )
    commands = " ".join(command.text for command in fix.commands)
    assert fix.title == "Allow 40.68.37.158 in the Azure SQL server firewall"
    assert "--server srv1 " in commands  # the short name, as the CLI wants it
    assert "--start-ip-address 40.68.37.158 --end-ip-address 40.68.37.158" in commands
    assert "@start_ip_address = N'40.68.37.158'" in commands
    assert "Firewall rules: add 40.68.37.158" in commands


def test_a_private_endpoint_resolved_publicly() -> None:
    """A CNAME through privatelink.database.windows.net, then a public gateway address (one of
    West Europe's, from Microsoft's gateway table): this client misses the private zone."""
    assert azure.private_endpoint_public(
        ("srv.privatelink.database.windows.net",), ("40.68.37.158",)
    )
    assert not azure.private_endpoint_public(
        ("srv.privatelink.database.windows.net",), ("10.1.2.3",)
    )
    assert not azure.private_endpoint_public((), ("40.68.37.158",))


async def test_the_dns_probe_keeps_the_cname_chain_and_the_step_names_it() -> None:
    """Only DNS questions to a server on loopback: nothing is connected to."""
    server = DnsServer(random_loopback())
    server.add("srv1.database.windows.net", "CNAME", "srv1.privatelink.database.windows.net.")
    server.add("srv1.privatelink.database.windows.net", "A", "40.68.37.158")
    with server.running():
        result = await probe_dns(
            "srv1.database.windows.net",
            timeout=2,
            nameservers=[server.address],
            port=server.port,
            system_resolver=False,
        )
    cnames = {name for lookup in result.forward for name in lookup.cnames}
    assert "srv1.privatelink.database.windows.net" in cnames
    said = _private_endpoint_public("srv1.database.windows.net", result)
    assert said is not None and "40.68.37.158" in said and "private endpoint" in said


# -- TLS 1.2: the builds of KB 3135244 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "said"),
    [
        ((11, 0, 2100), "TLS 1.2 came with SP2 GDR 11.0.5352.0, SP2 CU10 11.0.5644.2"),
        ((12, 0, 2000), "RTM GDR 12.0.2271.0, RTM CU12 12.0.2564.0, SP1 GDR 12.0.4219.0"),
        ((10, 50, 1600), "SP3 (x86/x64) 10.50.6542.0"),
        ((10, 0, 1600), "SP4 (x86/x64) 10.0.6547.0"),
        ((16, 0, 1000), "SQL Server 2016 and later speak TLS 1.2 in every build"),
        ((9, 0, 1399), "no build of SQL Server 2005 or earlier speaks TLS 1.2"),
        ((11, 0, 7001), "this build should already speak it"),
    ],
)
def test_tls12_builds(version: tuple[int, int, int], said: str) -> None:
    text = tls12.builds_text(version)
    assert text is not None and said in text


def test_the_tls12_fix_names_the_build_seen_and_asks_no_query() -> None:
    target = parse_target("db1,1433")
    values = FixValues.of(
        target, server_build="11.0.2100", tls12_builds=tls12.builds_text((11, 0, 2100))
    )
    fix = render_fix("enable-tls12", values)
    texts = " ".join(command.text for command in fix.commands)
    assert "Build 11.0.2100: TLS 1.2 came with SP2 GDR 11.0.5352.0" in texts
    assert "SELECT @@VERSION" not in texts


# -- SPNs -----------------------------------------------------------------------------------------


def test_spns_for_the_full_name_port_and_instance() -> None:
    default = render_fix(
        "register-spn",
        FixValues.of(parse_target("db1,1433"), fqdn="db1.corp.test", service_account="CORP\\svc"),
    )
    named = render_fix(
        "register-spn",
        FixValues.of(parse_target("db1\\SALES,1533"), fqdn="db1.corp.test"),
    )
    first = " ".join(command.text for command in default.commands)
    second = " ".join(command.text for command in named.commands)
    # each SPN one cmd.exe argument, quoted (a '/' inside is not among cmd's bare characters)
    assert first.index('setspn -Q "MSSQLSvc/db1.corp.test:1433"') < first.index("setspn -S")
    assert 'setspn -S "MSSQLSvc/db1.corp.test:1433" CORP\\svc' in first
    assert 'setspn -S "MSSQLSvc/db1.corp.test" CORP\\svc' in first
    assert 'setspn -Q "MSSQLSvc/db1.corp.test:SALES"' in second
    assert "sc qc MSSQL$SALES" in second  # how to read the account when it is not known


# -- LocalDB, shared memory, pipes ----------------------------------------------------------------


class _Runner:
    def __init__(self, result: CommandResult) -> None:
        self.result = result
        self.asked: list[Sequence[str]] = []

    async def run(self, argv: Sequence[str], *, timeout: float) -> CommandResult:
        self.asked.append(tuple(argv))
        return self.result


def _windows(result: CommandResult) -> tuple[Environment, _Runner]:
    runner = _Runner(result)
    environment = Environment(platform="win32", files=None, runner=runner)  # type: ignore[arg-type]
    return environment, runner


async def test_sqllocaldb_info_is_read() -> None:
    output = (
        b"Name:               MSSQLLocalDB\r\n"
        b"Instance pipe name: np:\\\\.\\pipe\\LOCALDB#F365A78E\\tsql\\query\r\n"
    )
    environment, runner = _windows(
        CommandResult(("SqlLocalDB",), CommandStatus.OK, returncode=0, stdout=output)
    )
    info = await localdb_info(environment, "MSSQLLocalDB", timeout=2)
    assert runner.asked == [("SqlLocalDB", "info", "MSSQLLocalDB")]
    assert info.exists and info.pipe == "np:\\\\.\\pipe\\LOCALDB#F365A78E\\tsql\\query"
    missing, _ = _windows(CommandResult(("SqlLocalDB",), CommandStatus.NOT_FOUND))
    absent = await localdb_info(missing, "MSSQLLocalDB", timeout=2)
    assert not absent.available and "not available" in absent.sentence()
    linux = Environment(platform="linux", files=None, runner=_Runner(missing.runner.result))  # type: ignore[arg-type, attr-defined]
    assert "Windows only" in (await localdb_info(linux, "X", timeout=1)).detail


@pytest.mark.parametrize(
    ("target", "kind", "fix"),
    [
        ("Server=(localdb)\\MSSQLLocalDB;Integrated Security=true", "LocalDB", "localdb-start"),
        ("lpc:.", "shared memory", "check-shared-memory"),
        ("np:\\\\.\\pipe\\sql\\query", "named pipes", "enable-named-pipes"),
    ],
)
def test_transports_that_never_leave_the_machine_are_untested(
    target: str, kind: str, fix: str
) -> None:
    """No DNS question for '(localdb)', no TCP test passed off as the transport's: UNTESTED,
    with what can be done."""
    code, document, _ = run_check(target, "--remote")
    assert code == 1
    assert document["root_cause"] == "UNTESTED", document["summary"]
    dns = next(step for step in document["steps"] if step["id"] == "dns")
    assert dns["outcome"] == "local-transport" and "no name to resolve" in dns["summary"]
    assert not any(step["id"] == "tcp" for step in document["steps"])
    assert fix in [item["id"] for item in document["fixes"]]
    if kind == "LocalDB":
        assert "SqlLocalDB start MSSQLLocalDB" in json.dumps(document["fixes"])


# -- a listener whose first address refuses: the client moves on -----------------------------


def test_a_first_address_that_refuses_costs_nothing_but_is_said() -> None:
    """Refused comes back at once, so even without MultiSubnetFailover the client reaches the
    second address: OK, with a warning and the fixes for the day the order changes."""
    item = dataclasses.replace(scenario("ag-multi-subnet"), name="ag-first-refuses", extra_ports=())
    with running(item) as server:
        _, document, _ = run_check(server.target, "--dns-server", str(server.dns_server))
    assert document["root_cause"] == "OK", document["summary"]
    tcp = next(step for step in document["steps"] if step["id"] == "tcp")
    assert tcp["status"] == "warn"
    assert "the client tries the addresses in order" in document["summary"]
    assert [f["id"] for f in document["fixes"]][:2] == [
        "multi-subnet-failover",
        "register-all-providers-ip",
    ]
    assert Mode.FILTERED.value == "filtered"


# -- on the server: 'local connections only' -------------------------------------------------------


def test_listeners_on_loopback_only_are_local_connections_only() -> None:
    log = parse_errorlog(
        "2024-01-01 10:00:00.00 spid1s      Server is listening on [ 127.0.0.1 <ipv4> 1433].\n"
        "2024-01-01 10:00:00.00 spid1s      Server is listening on [ ::1 <ipv6> 1433].\n"
    )
    config = InstanceConfig(
        name="MSSQLSERVER",
        service="MSSQLSERVER",
        config_where="test",
        tcp_enabled=True,
        listen_all=False,
        static_ports=(1433,),
        ip_entries=(IpEntry("IP1", "127.0.0.1", True, True, (1433,)),),
    )
    service = ServiceInfo("MSSQLSERVER", ServiceState.RUNNING, StartType.AUTOMATIC)
    view = ServerView("win32", "test", True, instances=(InstanceView(config, service, log),))
    findings = [f for f in compare(1433, view) if f.id == "local-connections-only"]
    assert findings and findings[0].severity is Severity.ERROR
    assert "Local connections only" in findings[0].detail
    assert LAB_HOST == "SQLHOST01"


def test_a_hostile_routing_answer_is_judged_not_followed() -> None:
    """The routed host comes from the network: one that is no host name ends the walk at the
    second hop's name, plainly, with nothing run or resolved."""
    from tui.lab.scenarios import LabInstance, Route

    base = scenario("healthy-default")
    item = dataclasses.replace(
        base,
        name="hostile-route",
        instances=(LabInstance("MSSQLSERVER", 1433, route=Route("x;$(reboot) `y`", 11047)),),
    )
    with running(item) as server:
        _, document, _ = run_check(server.target)
    assert document["root_cause"] == "NAME_NOT_RESOLVED", document["summary"]
    routed = next(step for step in document["steps"] if step["id"] == "routed-dns")
    assert "not a host name" in routed["summary"]


def test_a_managed_instance_public_endpoint_wants_3342() -> None:
    """The name says Managed Instance public endpoint (<mi>.public.<zone>.database.windows.net),
    the connection says 1433: the verdict says the port. DNS and TCP stay on loopback."""
    server = DnsServer(random_loopback())
    address = random_loopback()
    server.add("mi1.public.abc123.database.windows.net", "A", address)
    with server.running():
        _, document, _ = run_check(
            "mi1.public.abc123.database.windows.net",
            "--dns-server",
            f"{server.address}:{server.port}",
            "--remote",
        )
    assert "listens on port 3342, not 1433" in document["summary"], document["summary"]
    assert "Azure SQL Managed Instance (public endpoint) 'mi1'" in document["summary"]


async def test_the_wizard_on_the_lab_resolves_the_lab_names_through_the_lab() -> None:
    """`sqlreach lab NAME` opens the wizard with the lab's DNS server as its only resolver: a
    lab name never goes to the machine's DNS (or to a real server of that name)."""
    import asyncio

    from tui.commands.lab import BackgroundLab, _lab_names
    from tui.engine.context import Context
    from tui.engine.walk import diagnose
    from tui.steps.tree import TREE

    items = [(scenario("ag-multi-subnet-failover"), random_loopback())]
    with BackgroundLab(items) as lab:
        settings = _lab_names(lab.servers)
        assert settings is not None and settings.dns is not None  # the lab's DNS server only
        context = Context(
            parse_target(lab.servers[0].target),
            timeout=2,
            answers={"on-server": "no", "error": "none"},
            settings=settings,
        )
        diagnosis = await asyncio.wait_for(diagnose(TREE, context), 30)
    assert diagnosis.verdict.root_cause.value == "OK", diagnosis.verdict.summary
