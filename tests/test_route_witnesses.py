"""Microsoft's ODBC Driver 18 (the one mssql-python bundles) is the witness for every way in this
branch added: a gateway redirect (reachable, dropped, a name nobody resolves), read-only
routing, a listener with two addresses, the dedicated admin connection, Azure's firewall. The
driver must fail (or connect) exactly where `sqlreach check` says the application will, with
the driver's own words, quoted here, matching what the verdict says it prints.

Scenarios reached by name run the driver inside a network namespace of its own
(tests/netns.py `alone`) whose resolv.conf points at the lab's own DNS server: the system
resolver asks the lab and nothing else, and no packet leaves that namespace. The others run on
a random loopback address. sqlreach itself runs outside, on the same scenario, with
`--dns-server` pointing at the lab's DNS.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from tests import netns
from tests.check_run import last_json_line, run_check
from tests.lab_fixtures import client_env, running
from tests.odbc_drivers import why_no_odbc18
from tests.route_client import ask
from tui.lab.scenarios import LAB_PASSWORD, LAB_USER, REDIRECT_PORT, scenario
from tui.target import parse_target

NO_ODBC18 = why_no_odbc18()
NO_NETNS = netns.unavailable_reason()
LOGIN = f";UID={LAB_USER};PWD={LAB_PASSWORD}"
# what ODBC Driver 18 (mssql-python 1.16, msodbcsql 18.6) prints, observed against the lab
DROPPED = "TCP Provider: Error code 0x102"
UNRESOLVED = "TCP Provider: Error code 0x2AF9"
NO_DAC = (
    "Could not establish dedicated administrator connection (DAC) on default port. "
    "Make sure that DAC is enabled"
)

pytestmark = pytest.mark.skipif(NO_ODBC18 is not None, reason=str(NO_ODBC18))


def _sqlreach(name: str, target: str | None = None) -> dict[str, Any]:
    with running(name) as server:
        names = ("--dns-server", str(server.dns_server)) if server.dns_server else ()
        _, document, _ = run_check(
            target or server.target, *names, timeout=1.0, env=client_env(server)
        )
    return document


def _odbc(target_text: str) -> str:
    """The scenario's connection for mssql-python: its server, database and intent."""
    target = parse_target(target_text)
    parts = [f"Server={target.data_source}", f"Database={target.database or 'master'}"]
    if target.application_intent:
        parts.append(f"ApplicationIntent={target.application_intent}")
    if target.multi_subnet_failover:
        parts.append("MultiSubnetFailover=Yes")
    if not scenario_trusts(target_text):
        parts.append("TrustServerCertificate=yes")  # the lab's self-signed certificate
    return ";".join(parts) + LOGIN


def scenario_trusts(target_text: str) -> bool:
    return "database.windows.net" in target_text  # the Azure scenarios' certificate is trusted


def _in_namespace(name: str, connection: str) -> dict[str, Any]:
    address = "127.10.0.10"
    with netns.alone(resolv=f"nameserver {address}\n") as space:
        done = space.run(
            sys.executable, "-m", "tests.route_client", name, address, connection,
            timeout=60, check=False,
        )  # fmt: skip
    return last_json_line(done)


def _on_loopback(name: str, extra: str = "") -> dict[str, Any]:
    import mssql_python

    with running(name) as server:
        return ask(mssql_python, _odbc(server.target) + extra)


# -- Azure SQL: the gateway redirects (Redirect policy) --------------------------------------


@pytest.mark.skipif(NO_NETNS is not None, reason=str(NO_NETNS))
def test_redirect_followed_by_both() -> None:
    document = _sqlreach("azure-redirect")
    driver = _in_namespace("azure-redirect", _odbc(scenario("azure-redirect").target))
    assert document["root_cause"] == "OK", document["summary"]
    assert f"port {REDIRECT_PORT}" in document["summary"]  # where the connection was sent
    assert driver["ok"], driver
    assert driver["port"] == REDIRECT_PORT  # the driver's session runs on the node, not 1433
    assert driver["server"] == "sqlreach-lab"


@pytest.mark.skipif(NO_NETNS is not None, reason=str(NO_NETNS))
def test_redirect_to_a_dropped_port_fails_both_at_the_second_hop() -> None:
    document = _sqlreach("azure-redirect-dropped")
    driver = _in_namespace("azure-redirect-dropped", _odbc(scenario("azure-redirect").target))
    assert document["root_cause"] == "PORT_FILTERED"
    assert document["steps"][-1]["id"] == "routed-tcp"  # the redirect's hop, not the first
    assert DROPPED in document["summary"]
    assert not driver["ok"] and DROPPED in driver["error"], driver


@pytest.mark.skipif(NO_NETNS is not None, reason=str(NO_NETNS))
def test_redirect_to_a_name_nobody_resolves() -> None:
    document = _sqlreach("azure-redirect-unresolved")
    driver = _in_namespace("azure-redirect-unresolved", _odbc(scenario("azure-redirect").target))
    assert document["root_cause"] == "NAME_NOT_RESOLVED"
    assert document["steps"][-1]["id"] == "routed-dns"
    assert UNRESOLVED in document["summary"]
    assert not driver["ok"] and UNRESOLVED in driver["error"], driver


@pytest.mark.skipif(NO_NETNS is not None, reason=str(NO_NETNS))
def test_azure_firewall_names_the_same_address_for_both() -> None:
    document = _sqlreach("azure-firewall")
    driver = _in_namespace("azure-firewall", _odbc(scenario("azure-firewall").target))
    said = "Client with IP address '127.0.0.1' is not allowed to access the server."
    assert document["root_cause"] == "LOGIN_FAILED"
    assert not driver["ok"] and said in driver["error"], driver
    rule = json.dumps(document["fixes"])
    assert "--start-ip-address 127.0.0.1 --end-ip-address 127.0.0.1" in rule
    assert "sp_set_firewall_rule" in rule


# -- an availability group: read-only routing, and a listener in two subnets -----------------


def test_read_only_routing_only_with_read_intent() -> None:
    import mssql_python

    routed = _on_loopback("ag-read-only-routing")
    plain = scenario("ag-read-only-routing").target.replace(";ApplicationIntent=ReadOnly", "")
    with running("ag-read-only-routing") as server:
        connected = mssql_python.connect(
            _odbc(
                server.scenario.target_for(server.address).replace(
                    ";ApplicationIntent=ReadOnly", ""
                )
            ),
            timeout=5,
        )
        cursor = connected.cursor()
        cursor.execute("SELECT @@SERVERNAME")
        row = cursor.fetchone()
        assert row is not None
        staying = {"ok": True, "server": row[0]}
        connected.close()
    assert "ApplicationIntent" not in plain
    document = _sqlreach("ag-read-only-routing")
    assert routed["ok"] and routed["server"] == "SQLHOST02", routed  # the readable secondary
    assert staying["server"] == "SQLHOST01"  # no intent: the primary
    assert document["root_cause"] == "OK"
    assert "@@SERVERNAME is SQLHOST02" in document["summary"]


@pytest.mark.skipif(NO_NETNS is not None, reason=str(NO_NETNS))
def test_a_listener_whose_first_address_drops() -> None:
    without = _sqlreach("ag-multi-subnet")
    driver = _in_namespace("ag-multi-subnet", _odbc(scenario("ag-multi-subnet").target))
    assert without["root_cause"] == "PORT_FILTERED"
    assert DROPPED in without["summary"]
    assert not driver["ok"] and DROPPED in driver["error"], driver
    with_msf = _sqlreach("ag-multi-subnet-failover")
    target = scenario("ag-multi-subnet-failover").target
    connected = _in_namespace("ag-multi-subnet", _odbc(target))
    assert with_msf["root_cause"] == "OK", with_msf["summary"]
    assert "multi-subnet-failover" not in json.dumps(with_msf["fixes"])
    assert connected["ok"] and connected["server"] == "SQLHOST01", connected


# -- the dedicated admin connection ----------------------------------------------------------


def test_dac_refused_on_the_remote_address() -> None:
    document = _sqlreach("dac-remote-off")
    driver = _on_loopback("dac-remote-off")
    assert document["root_cause"] == "PORT_REFUSED"
    assert "remote admin connections" in document["summary"]
    assert not driver["ok"] and NO_DAC in driver["error"], driver
    assert NO_DAC.split(". ")[0] in document["summary"]


def test_dac_of_a_named_instance_comes_from_the_browser() -> None:
    document = _sqlreach("dac-named")
    driver = _on_loopback("dac-named")
    assert document["root_cause"] == "OK"
    assert driver["ok"] and driver["port"] == 49734, driver
    assert "port 49734" in document["summary"]


@pytest.mark.skipif(NO_NETNS is not None, reason=str(NO_NETNS))
def test_through_the_persons_own_driver_the_second_hop_is_still_found() -> None:
    """With Driver= in the string, sqlreach logs in through ODBC Driver 18, which follows the
    redirect itself and fails at the routed port; sqlreach's own login then shows the routing
    answer, walks the second hop, and quotes the driver's words. All inside the namespace, so
    the driver's name lookups go to the lab's DNS only."""
    address = "127.10.0.10"
    target = "Driver={ODBC Driver 18 for SQL Server};" + _odbc(
        scenario("azure-redirect-dropped").target
    )
    with netns.alone(resolv=f"nameserver {address}\n") as space:
        done = space.run(
            sys.executable, "-m", "tests.route_client", "azure-redirect-dropped", address,
            "--check", target, "--dns-server", f"{address}:53", "--timeout", "2",
            timeout=120, check=False,
        )  # fmt: skip
    document = last_json_line(done)
    assert document["root_cause"] == "PORT_FILTERED", document["summary"]
    assert document["steps"][-1]["id"] == "routed-tcp"
    login = next(step for step in document["steps"] if step["id"] == "login")
    assert login["outcome"] == "routed"
    assert "ODBC Driver 18 for SQL Server said:" in document["summary"]
    assert DROPPED in document["summary"]  # the driver's own words, and the verdict's
