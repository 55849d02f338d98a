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
from tests.lab_fixtures import in_background
from tests.netutil import random_loopback
from tests.odbc_drivers import ODBC18, why_no_odbc18
from tests.tls_lab import client_env, serving
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
    "tls-1.0-only": ("legacy sigalg disallowed or unsupported", "TLS 1.0"),
    "tls-wrong-name": ("OLDHOST", "subject name does not match host name"),
    "tls-expired": ("certificate has expired",),
    "tls-trusted": ("the login as sa works",),
    "tls-strict-only": ("TDS 8 strict", "handshakes before login"),
}


NO_ODBC18 = why_no_odbc18()


def _case(item: Scenario) -> Any:
    """A scenario whose string names ODBC Driver 18 and ends in a login needs that driver here."""
    logs_in_with_odbc18 = ODBC18 in item.target and item.expected is RootCause.OK
    skip = logs_in_with_odbc18 and NO_ODBC18 is not None
    return pytest.param(item, id=item.name, marks=pytest.mark.skipif(skip, reason=str(NO_ODBC18)))


@pytest.mark.parametrize("item", [_case(item) for item in SCENARIOS])
def test_check_reaches_the_scenarios_root_cause(item: Any) -> None:
    with serving(item.name) as server:  # the client trusts the test CA when the scenario says
        code, document, _ = check(server.target, env=client_env(server))
    assert document["root_cause"] == item.expected.value, document["summary"]
    assert code == (0 if item.expected.value == "OK" else 1)
    for fact in EXPECTED[item.name]:
        assert fact in document["summary"] + _fix_text(document), (fact, document["summary"])
    assert "(unknown)" not in document["summary"]
    assert document["_wall_s"] < 8 * TIMEOUT + 5  # bounded by the chain of timeouts


def test_wrong_port_names_both_fixes() -> None:
    with in_background("moved-port") as (scenario, address):
        _, document, _ = check(scenario.target_for(address))
    ids = [fix["id"] for fix in document["fixes"]]
    assert ids[:2] == ["connect-with-port", "set-ipall-port"]
    assert f"tcp:{address},{MOVED_PORT}" in _fix_text(document)


def test_stale_port_says_the_browser_named_it() -> None:
    with in_background("stale-port") as (scenario, address):
        _, document, _ = check(scenario.target_for(address))
    assert "Browser says instance SALES is on port" in document["summary"]
    assert str(NEW_DYNAMIC_PORT) not in document["summary"]


def test_instance_not_found_lists_the_instances() -> None:
    with in_background("unknown-instance") as (scenario, address):
        _, document, _ = check(scenario.target_for(address))
    assert "It reports: SALES" in document["summary"]


def test_filtered_ends_within_the_timeout_plus_a_little() -> None:
    with in_background("firewall-drop") as (scenario, address):
        _, document, _ = check(scenario.target_for(address))
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
    with in_background("healthy-default") as (scenario, address), server.running():
        server.add("sql.lab.test", "A", address)
        server.add_ptr(address, "sql.lab.test")
        where = f"{server.address}:{server.port}"
        code, document, _ = check("no-such-host.invalid", "--dns-server", where)
        good_code, good, _ = check(scenario.target_for("sql.lab.test"), "--dns-server", where)
    assert code == 1
    assert document["root_cause"] == "NAME_NOT_RESOLVED"
    assert "no-such-host.invalid" in document["summary"]
    assert "NXDOMAIN" in document["summary"]
    assert good_code == 0 and good["root_cause"] == "OK"
    dns_step = next(step for step in good["steps"] if step["id"] == "dns")
    assert address in json.dumps(dns_step)


def test_dns_server_flag_is_checked() -> None:
    code, document, _ = check("db1", "--dns-server", "not-an-address")
    assert code == 2 and "--dns-server" in document["summary"]
