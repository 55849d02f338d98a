"""`sqlreach check` against every lab scenario, as a subprocess, as a person would run it.

Each test asserts the root cause, the exit code, and the key fact in the summary or the fixes.
The lab runs on a thread of this test process, on a random loopback address.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.check_run import run_check
from tests.dnsserver import DnsServer
from tests.lab_fixtures import client_env, running
from tests.netutil import random_loopback
from tests.odbc_drivers import ODBC18, why_no_odbc18
from tui.knowledge.causes import RootCause
from tui.lab.scenarios import DYNAMIC_PORT, MOVED_PORT, NEW_DYNAMIC_PORT, SCENARIOS, Scenario

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 1.0


def check(
    target: str, *extra: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    return run_check(target, *extra, timeout=TIMEOUT, env=env)


def _fix_text(document: dict[str, Any]) -> str:
    return json.dumps(document["fixes"])


EXPECTED: dict[str, tuple[str, ...]] = {
    "healthy-default": ("SQL Server 2022",),
    "healthy-named": (str(DYNAMIC_PORT),),
    "service-stopped": ("refuses TCP port 1433",),
    "moved-port": (f"port {MOVED_PORT}",),
    "browser-stopped": ("no SQL Server Browser runs",),
    "udp-blocked": ("No answer from the SQL Server Browser",),
    "unknown-instance": ("SALES",),
    "tcp-disabled": ("no TCP endpoint",),
    "stale-port": (f"port {DYNAMIC_PORT}",),
    "firewall-drop": ("did not answer within",),
    "http-on-1433": ("HTTP",),
    "wrong-password": ("18456",),
    "missing-database": ("Payroll", "4060"),
    "encryption-unsupported": ("does not support encryption",),
    "renamed-host": ("SQL Server 2022",),
    "server-stalled": ("nothing answered the pre-login",),
    "login-stalled": ("answered the pre-login", "but not the login within"),
    "server-resets": ("reset",),
    "tls-self-signed": (
        "certificate verify failed:self-signed certificate",
        "The certificate chain was issued by an authority that is not trusted",
    ),
    "tls-forced": ("the server forces encryption", "Encrypt=no does not"),
    "tls-1.0-only": (
        "legacy sigalg disallowed or unsupported",
        "TLS 1.0",
        "Build 11.0.2100: TLS 1.2 came with SP2 GDR 11.0.5352.0",  # the pre-login gave it
    ),
    "tls-wrong-name": ("OLDHOST", "subject name does not match host name"),
    "tls-expired": ("certificate has expired",),
    "tls-trusted": ("the login as sa works",),
    "tls-strict-only": ("TDS 8 strict", "handshakes before login"),
    "azure-redirect": (
        "Azure SQL gateway (the server's Redirect connection policy) sends the login on to "
        "tr1.lab-region1-a.worker.database.windows.net port 11047",
        "Azure SQL Database, reporting 12.0.2000",
        "@@SERVERNAME is sqlreach-lab",
    ),
    "azure-redirect-dropped": (
        "sends it on to tr1.lab-region1-a.worker.database.windows.net port 11047",
        "TCP 11047 on",
        "Error code 0x102",
        "azure-redirect-ports",
        "properties.connectionType=Proxy",
    ),
    "azure-redirect-unresolved": (
        "sends it on to tr9.lab-region1-a.worker.database.windows.net port 11047, and that name "
        "does not resolve here",
        "Error code 0x2AF9",
    ),
    "azure-firewall": (
        "Azure SQL error 40615",
        "az sql server firewall-rule create --resource-group <resource-group> --server "
        "sqlreach-lab --name sqlreach-client --start-ip-address 127.0.0.1 "
        "--end-ip-address 127.0.0.1",
    ),
    "ag-read-only-routing": ("read-only routing", "@@SERVERNAME is SQLHOST02"),
    "ag-multi-subnet": (
        "has several addresses",
        "Without MultiSubnetFailover the client tries the addresses in order",
        "MultiSubnetFailover=Yes",
        "RegisterAllProvidersIP 0",
    ),
    "ag-multi-subnet-failover": ("With MultiSubnetFailover=True the client tries them all",),
    "dac-remote-off": (
        "the dedicated admin connection's port (10061)",
        "gave it (CLNT_UCAST_DAC)",
        "sp_configure 'remote admin connections', 1",
    ),
    "dac-named": ("port 49734", "CLNT_UCAST_DAC"),
    "named-pipes-no-smb": ("SMB (TCP 445)", "refuses port 445", "accepted the connection"),
    "analysis-services-stopped": ("Analysis Services", "MSSQLServerOLAPService"),
    "nat-port-forward": ("arrive at 10.20.30.40 port 1433", "NAT router"),
    "renamed-not-restarted": ("sys.servers already registers SQLHOST01", "net stop MSSQLSERVER"),
}

# Never in these verdicts, whatever else they say.
NEVER: dict[str, tuple[str, ...]] = {
    "tls-1.0-only": ("SELECT @@VERSION",),  # the pre-login already gave the build
    "ag-multi-subnet-failover": ("Use MultiSubnetFailover", "multi-subnet-failover"),
    "dac-remote-off": ("tcp:", "set-ipall-port", "connect-with-port"),
    "dac-named": ("set-ipall-port", "connect-with-port"),
    "analysis-services-stopped": ("connect-with-port", "start-engine-service"),
}


NO_ODBC18 = why_no_odbc18()


def _case(item: Scenario) -> Any:
    """A scenario whose string names ODBC Driver 18 and ends in a login needs that driver here."""
    logs_in_with_odbc18 = ODBC18 in item.target and item.expected is RootCause.OK
    skip = logs_in_with_odbc18 and NO_ODBC18 is not None
    return pytest.param(item, id=item.name, marks=pytest.mark.skipif(skip, reason=str(NO_ODBC18)))


@pytest.mark.parametrize("item", [_case(item) for item in SCENARIOS])
def test_check_reaches_the_scenarios_root_cause(item: Any) -> None:
    with running(item.name) as server:  # the client trusts the test CA when the scenario says
        names = ("--dns-server", server.dns_server) if server.dns_server else ()
        code, document, _ = check(server.target, *names, env=client_env(server))
    assert document["root_cause"] == item.expected.value, document["summary"]
    assert code == (0 if item.expected.value == "OK" else 1)
    for fact in EXPECTED[item.name]:
        assert fact in document["summary"] + _fix_text(document), (fact, document["summary"])
    for wrong in NEVER.get(item.name, ()):
        assert wrong not in document["summary"] + _fix_text(document), wrong
    assert "(unknown)" not in document["summary"]
    assert document["_wall_s"] < 8 * TIMEOUT + 5  # bounded by the chain of timeouts


def test_wrong_port_names_both_fixes() -> None:
    with running("moved-port") as lab:
        _, document, _ = check(lab.target)
    ids = [fix["id"] for fix in document["fixes"]]
    assert ids[:2] == ["connect-with-port", "set-ipall-port"]
    assert f"tcp:{lab.address},{MOVED_PORT}" in _fix_text(document)


def test_stale_port_says_the_browser_named_it() -> None:
    with running("stale-port") as lab:
        _, document, _ = check(lab.target)
    assert "Browser says instance SALES is on port" in document["summary"]
    assert str(NEW_DYNAMIC_PORT) not in document["summary"]


def test_instance_not_found_lists_the_instances() -> None:
    with running("unknown-instance") as lab:
        _, document, _ = check(lab.target)
    assert "It reports: SALES" in document["summary"]


def test_filtered_ends_within_the_timeout_plus_a_little() -> None:
    with running("firewall-drop") as lab:
        _, document, _ = check(lab.target)
    assert document["root_cause"] == "PORT_FILTERED"
    assert document["elapsed_ms"] < TIMEOUT * 1000 + 400


def test_bad_input_is_exit_2_with_the_message() -> None:
    code, document, _ = check("Server={db1")
    assert code == 2
    assert document["root_cause"] == "BAD_INPUT"
    assert "unbalanced '{'" in document["summary"]


def test_name_not_resolved_and_a_name_that_resolves() -> None:
    """DNS goes to an in-process server on loopback (`--dns-server`), never to the machine's."""
    server = DnsServer(random_loopback())
    with running("healthy-default") as lab, server.running():
        server.add("sql.lab.test", "A", lab.address)
        server.add_ptr(lab.address, "sql.lab.test")
        where = f"{server.address}:{server.port}"
        code, document, _ = check("no-such-host.invalid", "--dns-server", where)
        good_code, good, _ = check(lab.scenario.target_for("sql.lab.test"), "--dns-server", where)
    assert code == 1
    assert document["root_cause"] == "NAME_NOT_RESOLVED"
    assert "no-such-host.invalid" in document["summary"]
    assert "NXDOMAIN" in document["summary"]
    assert good_code == 0 and good["root_cause"] == "OK"
    dns_step = next(step for step in good["steps"] if step["id"] == "dns")
    assert lab.address in json.dumps(dns_step)


def test_dns_server_flag_is_checked() -> None:
    code, document, _ = check("db1", "--dns-server", "not-an-address")
    assert code == 2 and "--dns-server" in document["summary"]


def test_read_only_routing_only_for_read_intent() -> None:
    """The same listener without ApplicationIntent=ReadOnly: the login stays on the primary,
    no redirect is followed, and LOGIN7 carries no read-only intent."""
    with running("ag-read-only-routing") as server:
        plain = server.target.replace(";ApplicationIntent=ReadOnly", "")
        _, document, _ = check(plain)
        _, routed, _ = check(server.target)
    assert document["root_cause"] == "OK", document["summary"]
    assert "@@SERVERNAME is SQLHOST01" in document["summary"]
    assert "read-only routing" not in document["summary"]
    assert not any(step["id"].startswith("routed-") for step in document["steps"])
    assert [s["id"] for s in routed["steps"]][-5:] == [
        "routed-dns",
        "routed-tcp",
        "routed-prelogin",
        "routed-tls",
        "routed-login",
    ]
    assert "@@SERVERNAME is SQLHOST02" in routed["summary"]


def test_a_routed_failure_draws_the_second_hop() -> None:
    """The path picture: the first hop passes, the redirect's TCP port fails (not the first
    hop's), and the Markdown report says so."""
    from tui.engine.walk import Diagnosis
    from tui.render.markdown import render as to_markdown
    from tui.render.path import HopMark, states_of

    with running("azure-redirect-dropped") as server:
        _, document, _ = check(
            server.target, "--dns-server", str(server.dns_server), env=client_env(server)
        )
    diagnosis = Diagnosis.from_json(document)
    marks = {state.hop.value: state.mark for state in states_of(diagnosis)}
    assert marks["TCP port"] is HopMark.PASSED
    assert marks["login"] is HopMark.PASSED
    assert marks["redirect: name"] is HopMark.PASSED
    assert marks["redirect: TCP port"] is HopMark.FAILED
    assert marks["redirect: SQL Server"] is HopMark.NOT_REACHED
    markdown = to_markdown(diagnosis)
    assert "redirect: TCP port" in markdown and "11047" in markdown
