"""The diagnosis follows the machine's own configuration: aliases on the client, and on the
server its services, ports and logs (issue 9), end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.lab_fixtures import running
from tests.localenv import Replay, make_env, ok
from tests.test_local_findings import text
from tui.engine.context import Context
from tui.engine.settings import Settings
from tui.engine.walk import diagnose
from tui.knowledge.causes import RootCause
from tui.lab.scenarios import MOVED_PORT
from tui.probes.local.linux import SS, SYSTEMCTL
from tui.steps.tree import TREE
from tui.target import parse_target

REPO = Path(__file__).resolve().parent.parent


def _check(target: str, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "check", target, "--json", "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, **env},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_freetds_alias_to_an_old_port_is_named_as_the_cause(tmp_path: Path) -> None:
    config = tmp_path / "freetds.conf"
    with running("moved-port") as lab:
        config.write_text(
            f"[global]\n\ttds version = 7.4\n\n[PAYROLL]\n\thost = {lab.address}\n\tport = 1433\n"
        )
        code, document = _check("PAYROLL", {"FREETDSCONF": str(config)})
    assert code == 1
    assert document["root_cause"] == "WRONG_PORT"
    summary = document["summary"]
    assert "The alias PAYROLL" in summary or "alias" in summary.lower()
    assert str(MOVED_PORT) in summary
    assert document["fixes"][0]["id"] == "fix-client-alias"
    where = json.dumps(document["fixes"][0])
    assert str(config) in where and "[PAYROLL]" in where
    assert document["steps"][0]["status"] == "warn"  # the target step says an alias applied


def test_unknown_dsn_is_bad_input_with_where_it_looked(tmp_path: Path) -> None:
    ini = tmp_path / "odbc.ini"
    ini.write_text("[Other]\nDriver = FreeTDS\nServer = 127.0.0.1\n")
    code, document = _check(
        "DSN=Payroll;UID=sa", {"ODBCINI": str(ini), "ODBCSYSINI": str(tmp_path)}
    )
    assert code == 2
    assert document["root_cause"] == "BAD_INPUT"
    assert "Payroll" in document["summary"]


async def test_on_the_server_its_configuration_joins_the_verdict(tmp_path: Path) -> None:
    """A Linux server (recorded systemctl and ss output, a real-format mssql.conf) whose
    mssql.conf moved the port: the refused verdict says what this machine's configuration says."""
    runner = Replay(
        {
            (SYSTEMCTL,): ok(text("linux-journal-mssql-server-failed-restart-loop.txt"), 3),
            (SS, "-ltnp"): ok(""),
        }
    )
    environment, files = make_env(tmp_path, runner=runner)
    files.place("/var/opt/mssql/mssql.conf", text("linux-mssql.conf-real-minimal.conf"))
    async with running("service-stopped") as lab:
        target = parse_target(lab.target)
        context = Context(
            target,
            timeout=1.0,
            answers={"on-server": "yes"},
            settings=Settings(environment=environment),
        )
        diagnosis = await diagnose(TREE, context)
    assert diagnosis.verdict.root_cause is RootCause.PORT_REFUSED
    step = next(r for r in diagnosis.steps if r.id == "server-config")
    assert step.status.value == "warn"
    assert "On this machine:" in diagnosis.verdict.summary
    assert "Start request repeated too quickly" in diagnosis.verdict.summary
    assert diagnosis.verdict.fixes[0].id == "start-engine-service"
