"""Real clients are the witnesses: what sqlreach predicts for ODBC Driver 18 must be what
mssql-python (which bundles it) really does against the lab, and what it predicts for FreeTDS
what pyodbc + FreeTDS does: connects, or fails with the very text sqlreach said it would print.

Each client runs in a subprocess of its own, with the scenario's trust (SSL_CERT_FILE set to the
lab's test CA when the scenario's client trusts it). A client that cannot be installed here is
skipped with the reason printed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.check_run import last_json_line
from tests.lab_fixtures import client_env, running
from tui.knowledge.clients import BY_ID, LINUX, Outcome, Prediction, build_table
from tui.lab.scenarios import LAB_PASSWORD, LAB_USER, TLS_SCENARIOS, scenario
from tui.lab.server import LabServer
from tui.probes.tls import probe_tls
from tui.target import parse_target

_LOGIN = f";UID={LAB_USER};PWD={LAB_PASSWORD}"
_ODBC18 = "Driver={{ODBC Driver 18 for SQL Server}};Server={address}"

# (scenario, the connection's settings): every new scenario as it stands, and the settings that
# change the answer (Encrypt, TrustServerCertificate, strict) against the same servers.
CASES: tuple[tuple[str, str | None], ...] = (
    *((item.name, None) for item in TLS_SCENARIOS),
    ("tls-self-signed", ";Encrypt=no"),
    ("tls-self-signed", ";TrustServerCertificate=yes"),
    ("tls-self-signed", ";Encrypt=strict;TrustServerCertificate=yes"),
    ("tls-forced", ";Encrypt=no;TrustServerCertificate=yes"),
    ("tls-1.0-only", ";Encrypt=no"),
    ("tls-wrong-name", ";HostNameInCertificate=OLDHOST"),
    ("tls-trusted", ";Encrypt=strict;HostNameInCertificate=SQLHOST01"),
    ("tls-strict-only", ";Encrypt=strict"),
    ("encryption-unsupported", ""),
)

_MSSQL_PYTHON = """
import json, sys
try:
    import mssql_python
except Exception as error:
    print(json.dumps({"skip": f"mssql_python cannot be imported: {type(error).__name__}: {error}"}))
    raise SystemExit(0)
try:
    connection = mssql_python.connect(sys.argv[1], timeout=5)
    cursor = connection.cursor()
    cursor.execute("SELECT @@SERVERNAME")
    row = cursor.fetchone()
    connection.close()
    print(json.dumps({"ok": True, "server": row[0]}))
except Exception as error:
    print(json.dumps({"ok": False, "error": str(error)}))
"""

_PYODBC_FREETDS = """
import json, sys
try:
    import pyodbc
except Exception as error:
    print(json.dumps({"skip": f"pyodbc cannot be imported: {type(error).__name__}: {error}"}))
    raise SystemExit(0)
if "FreeTDS" not in pyodbc.drivers():
    print(json.dumps({"skip": "the FreeTDS ODBC driver is not registered (apt install tdsodbc)"}))
    raise SystemExit(0)
try:
    connection = pyodbc.connect(sys.argv[1], timeout=5)
    row = connection.cursor().execute("SELECT @@SERVERNAME").fetchone()
    connection.close()
    print(json.dumps({"ok": True, "server": row[0]}))
except Exception as error:
    print(json.dumps({"ok": False, "error": str(error)}))
"""


def _target(name: str, settings: str | None, address: str) -> str:
    item = scenario(name)
    if settings is None:
        return item.target_for(address)
    return _ODBC18.format(address=address) + settings + _LOGIN


def _run(script: str, connection: str, server: LabServer) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, connection],
        capture_output=True,
        text=True,
        timeout=60,
        env=client_env(server),
    )
    return last_json_line(done)


def _predict(server: LabServer, target_text: str, family: str) -> Prediction:
    async def probe() -> Any:
        return await probe_tls(server.address, 1433, timeout=3.0, host=server.address)

    previous = os.environ.get("SSL_CERT_FILE")
    env = client_env(server)
    try:  # the probe judges trust with this process's store: give it the client's
        if "SSL_CERT_FILE" in env:
            os.environ["SSL_CERT_FILE"] = env["SSL_CERT_FILE"]
        result = asyncio.run(probe())
    finally:
        if previous is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = previous
    table = build_table(parse_target(target_text), result, platform=LINUX)
    return next(p for p in table.predictions if p.family.id == family)


def _odbc_connection(target_text: str) -> str:
    """The same settings for mssql-python, which brings its own driver (no Driver= keyword)."""
    parts = [p for p in target_text.split(";") if p and not p.lower().startswith("driver=")]
    return ";".join(parts)


def _freetds_connection(address: str, target_text: str) -> str:
    """FreeTDS with the same keywords (it ignores the ones it does not know, as in the field)."""
    extra = [
        p
        for p in target_text.split(";")
        if p.split("=", 1)[0].strip().lower()
        in {"encrypt", "trustservercertificate", "hostnameincertificate"}
    ]
    return ";".join(
        [
            "Driver={FreeTDS}",
            f"Server={address}",
            "Port=1433",
            "TDS_Version=7.4",
            f"UID={LAB_USER}",
            f"PWD={LAB_PASSWORD}",
            *extra,
        ]
    )


def _agrees(prediction: Prediction, result: dict[str, Any], prefix: str) -> None:
    said = f"{prediction.family.short} predicted {prediction.outcome.value} ({prediction.reason})"
    if prediction.outcome is Outcome.CONNECTS:
        assert result["ok"], f"{said}; the real client failed: {result.get('error')}"
        assert result["server"] == "SQLHOST01"
        return
    assert prediction.outcome is Outcome.FAILS, said
    assert not result["ok"], f"{said}; the real client connected"
    text = prediction.errors.get(LINUX)
    assert text, f"{said}, but named no Linux error text"
    assert text.startswith(prefix)
    assert text[len(prefix) :] in result["error"], (text, result["error"])


@pytest.mark.parametrize(("name", "settings"), CASES, ids=[f"{n}{s or ''}" for n, s in CASES])
def test_odbc18_prediction_is_what_mssql_python_does(name: str, settings: str | None) -> None:
    with running(name) as server:
        target_text = _target(name, settings, server.address)
        prediction = _predict(server, target_text, "odbc18")
        result = _run(_MSSQL_PYTHON, _odbc_connection(target_text), server)
    _agrees(prediction, result, BY_ID["odbc18"].prefix)


@pytest.mark.parametrize(("name", "settings"), CASES, ids=[f"{n}{s or ''}" for n, s in CASES])
def test_freetds_prediction_is_what_pyodbc_freetds_does(name: str, settings: str | None) -> None:
    with running(name) as server:
        target_text = _target(name, settings, server.address)
        prediction = _predict(server, target_text, "freetds")
        result = _run(_PYODBC_FREETDS, _freetds_connection(server.address, target_text), server)
    _agrees(prediction, result, BY_ID["freetds"].prefix)


def test_odbc18_trusts_a_ca_without_key_identifiers_as_predicted() -> None:
    """An in-house CA of the older kind (no Subject/Authority Key Identifier): OpenSSL's strict
    mode, Python 3.13's default, refuses the chain, but ODBC Driver 18 connects, and so the
    prediction (from the probe, on whichever Python runs it) must say it connects."""
    item = scenario("tls-trusted")
    assert item.certificate is not None
    item = dataclasses.replace(
        item, certificate=dataclasses.replace(item.certificate, key_identifiers=False)
    )
    with running(item) as server:
        target_text = item.target_for(server.address)
        prediction = _predict(server, target_text, "odbc18")
        result = _run(_MSSQL_PYTHON, _odbc_connection(target_text), server)
    assert prediction.outcome is Outcome.CONNECTS, prediction.reason
    _agrees(prediction, result, BY_ID["odbc18"].prefix)
