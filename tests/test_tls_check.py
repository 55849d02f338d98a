"""`sqlreach check` after the port opens, as a person runs it: no credentials needed for a
certificate verdict, `--client NAME`, the per-family table in `--json` (`clients`), Markdown and
the transcript, and servers that stall ending within the timeout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.lab_fixtures import client_env, running
from tests.odbc_drivers import why_no_odbc18
from tests.test_check_scenarios import TIMEOUT, check
from tui.knowledge.fixes.catalog import render_fix, template
from tui.knowledge.fixes.values import FixValues
from tui.target import parse_target

NO_ODBC18 = why_no_odbc18()

ODBC18_LINUX = "certificate verify failed:self-signed certificate"
ODBC18_WINDOWS = "The certificate chain was issued by an authority that is not trusted"


def _candidates(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for row in document["clients"] if row["candidate"]]


def test_encrypt_yes_against_a_self_signed_server_is_tls_failed_without_credentials() -> None:
    with running("tls-self-signed") as server:
        code, document, _ = check(f"Server={server.address};Encrypt=yes")
    assert code == 1 and document["root_cause"] == "TLS_FAILED"
    summary = document["summary"]
    assert "certificate not trusted" in summary
    assert ODBC18_LINUX in summary and ODBC18_WINDOWS in summary
    assert [s["id"] for s in document["steps"]][-1] == "tls"
    assert document["target"]["user"] is None
    ids = [fix["id"] for fix in document["fixes"]]
    assert ids[:2] == ["provision-certificate", "trust-server-certificate"]
    risky = next(fix for fix in document["fixes"] if fix["id"] == "trust-server-certificate")
    assert "pose as the server" in risky["risk"]


def test_unknown_client_gets_the_table_in_the_verdict_and_json() -> None:
    with running("tls-self-signed") as server:
        code, document, _ = check(server.address)
    assert code == 0 and document["root_cause"] == "OK"  # some clients connect, some do not
    assert "depends on the driver" in document["summary"]
    assert "ODBC Driver 17" in document["summary"] and "ODBC Driver 18" in document["summary"]
    outcomes = {row["id"]: row["outcome"] for row in document["clients"]}
    assert outcomes["odbc18"] == "fails" and outcomes["odbc17"] == "connects"
    assert outcomes["freetds"] == "connects" and outcomes["sqlclient4"] == "fails"
    tls_step = next(s for s in document["steps"] if s["id"] == "tls")
    assert tls_step["status"] == "warn" and tls_step["evidence"]["clients"] == document["clients"]


@pytest.mark.slow
def test_client_flag_decides_the_verdict() -> None:
    with running("tls-self-signed") as server:
        code17, as17, _ = check(server.address, "--client", "odbc17", "--no-login")
        code18, as18, _ = check(server.address, "--client", "mssql-python")
        bad, refused, _ = check(server.address, "--client", "netscape")
    assert code17 == 0 and as17["root_cause"] == "OK"
    assert [row["id"] for row in _candidates(as17)] == ["odbc17"]
    assert code18 == 1 and as18["root_cause"] == "TLS_FAILED"
    assert [row["id"] for row in _candidates(as18)] == ["odbc18"]
    assert bad == 2 and refused["root_cause"] == "BAD_INPUT" and "--client" in refused["summary"]


@pytest.mark.skipif(NO_ODBC18 is not None, reason=str(NO_ODBC18))  # the login goes through it
def test_trusted_ca_gives_ok_and_its_absence_names_the_check() -> None:
    with running("tls-trusted") as server:
        trusted_code, trusted, _ = check(server.target, env=client_env(server))
        _, untrusted, _ = check(server.target)  # this machine's own store only
    assert trusted_code == 0 and trusted["root_cause"] == "OK"
    assert _candidates(trusted)[0]["outcome"] == "connects"
    assert untrusted["root_cause"] == "TLS_FAILED"
    assert "unable to get local issuer certificate" in untrusted["summary"]
    assert "trust-issuing-ca" in [fix["id"] for fix in untrusted["fixes"]]


def test_markdown_shows_the_clients_table_and_the_transcript_keeps_it(tmp_path: Path) -> None:
    journal = tmp_path / "session.jsonl"
    with running("tls-self-signed") as server:
        _, _, _ = check(server.target, "--transcript", str(journal))
        markdown = subprocess.run(
            [sys.executable, "-m", "tui", "check", server.target, "--markdown"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    assert "### Clients" in markdown and "| **ODBC Driver 18" in markdown
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    steps = [line["record"] for line in lines if line.get("type") == "step-end"]
    tls_step = next(record for record in steps if record["id"] == "tls")
    assert tls_step["evidence"]["clients"][0]["id"] == "odbc18"
    verdict = next(line for line in lines if line.get("type") == "verdict")
    assert "TLS_FAILED" in json.dumps(verdict) and ODBC18_LINUX in json.dumps(verdict)


def test_stalled_server_ends_within_the_timeout_plus_a_little() -> None:
    with running("server-stalled") as server:
        _, document, _ = check(server.target)
    assert document["root_cause"] == "SERVER_UNRESPONSIVE"
    assert "silence for" in document["summary"] and "0 bytes received" in document["summary"]
    assert document["elapsed_ms"] < TIMEOUT * 1000 + 400
    ids = [fix["id"] for fix in document["fixes"]]
    assert ids == ["check-server-health", "check-proxy-backend", "start-engine-service"]
    health = json.dumps(document["fixes"][0])
    assert "admin:" in health and "sys.dm_os_schedulers" in health and "max_workers" in health


def test_tls_fix_templates_fill_the_targets_values() -> None:
    target = parse_target("Server=db1.corp.test,1533;HostNameInCertificate=sql.corp.test")
    facts = {"cert_name": "OLDHOST", "client_name": "sql.corp.test", "cert_issuer": "CN=Corp CA"}
    fix = render_fix("host-name-in-certificate", FixValues.of(target, **facts))
    texts = [command.text for command in fix.commands]
    assert "Server=OLDHOST,1533" in texts
    assert "Server=db1.corp.test,1533;HostNameInCertificate=OLDHOST" in texts
    provision = render_fix("provision-certificate", FixValues.of(target, **facts))
    joined = "\n".join(c.text for c in provision.commands)
    assert "network.tlscert" in joined and "network.tlskey" in joined
    assert "Set-ItemProperty $net -Name Certificate" in joined
    assert 'icacls $file /grant "NT Service\\MSSQLSERVER:R"' in joined
    assert "sql.corp.test" in provision.title
    trust = render_fix("trust-issuing-ca", FixValues.of(target, **facts))
    joined = "\n".join(c.text for c in trust.commands)
    for tool in ("update-ca-certificates", "update-ca-trust", "Import-Certificate"):
        assert tool in joined
    assert "security add-trusted-cert" in joined and "CN=Corp CA" in trust.title
    assert template("encrypt-optional").risk and template("trust-server-certificate").risk
    assert "does not help when the server forces" in template("encrypt-optional").why
    tls12 = "\n".join(
        c.text for c in render_fix("enable-tls12", FixValues.of(target, **facts)).commands
    )
    assert "SCHANNEL" in tls12 and "network.tlsprotocols 1.2" in tls12
