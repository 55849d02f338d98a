"""Linux server-side readers: real samples, temporary files, and the real `ss` and `systemctl`."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.localenv import Replay, make_env, ok
from tui.probes.local.linux import (
    SS,
    SYSTEMCTL,
    parse_mssql_conf,
    parse_ss,
    parse_systemctl_status,
    read_linux,
    read_listeners,
    read_systemd,
)
from tui.probes.local.model import ServiceState, StartType
from tui.probes.local.system import DiskFileReader, Environment, SubprocessRunner

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_real_systemctl_status_active() -> None:
    status = parse_systemctl_status(text("linux-systemctl-status-mssql-server-active.txt"), 0)
    assert status.service.state == ServiceState.RUNNING
    assert status.service.start_type == StartType.AUTOMATIC  # "enabled"
    assert status.main_pid == 11612 and not status.restart_loop
    assert status.service.detail is not None
    assert status.service.detail.startswith("active (running) since Thu 2019-12-05")


def test_real_journal_of_a_restart_loop() -> None:
    status = parse_systemctl_status(text("linux-journal-mssql-server-failed-restart-loop.txt"), 3)
    assert status.restart_loop
    assert status.service.state == ServiceState.STOPPED  # LSB exit status 3: not running
    assert "Start request repeated too quickly" in " ".join(status.journal)


def test_failed_unit_with_journal() -> None:
    # Minimal input: an Active: line in systemd's wording with the real journal lines under it.
    lines = "   Active: failed (Result: exit-code) since Mon 2024-01-01 10:00:00 UTC; 5s ago\n"
    status = parse_systemctl_status(
        lines + text("linux-journal-mssql-server-failed-restart-loop.txt"), 3
    )
    assert status.service.state == ServiceState.FAILED and status.restart_loop


def test_no_such_unit_by_the_lsb_exit_status() -> None:
    assert parse_systemctl_status("", 4).service.state == ServiceState.NOT_INSTALLED


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl not installed")
async def test_real_systemctl_on_this_machine_is_a_finding_not_a_traceback(
    tmp_path: Path,
) -> None:
    environment = Environment("linux", DiskFileReader(), SubprocessRunner())
    status = await read_systemd(environment, timeout=10)
    # Here: no systemd as PID 1 (a container), or systemd without mssql-server.
    assert status.service.state in {ServiceState.UNKNOWN, ServiceState.NOT_INSTALLED}
    if not status.available:
        assert status.problems


async def test_missing_systemctl_is_a_problem(tmp_path: Path) -> None:
    environment, _ = make_env(tmp_path, runner=Replay())
    status = await read_systemd(environment, timeout=5)
    assert not status.available and "not available" in status.problems[0]


def test_real_mssql_conf_all_settings() -> None:
    config = parse_mssql_conf(text("linux-mssql.conf-docs-all-settings-2017.conf"))
    assert config.static_ports == (1401,)
    assert config.listen_addresses == ("10.192.0.0",) and config.listen_all is False
    assert config.force_encryption is False
    assert config.tls_protocols == "1.2,1.1,1.0"
    assert config.certificate == "/etc/ssl/certs/mssql.pem"
    assert config.problems == ()


def test_real_mssql_conf_minimal_and_tls() -> None:
    minimal = parse_mssql_conf(text("linux-mssql.conf-real-minimal.conf"))
    assert minimal.static_ports == (1433,) and minimal.listen_all
    assert minimal.force_encryption is None
    assert minimal.errorlog_path == "/var/opt/mssql/log/errorlog"
    tls = parse_mssql_conf(text("linux-mssql.conf-real-network-tls.conf"))
    assert tls.force_encryption is True and tls.tls_protocols == "1.2"
    assert tls.tls_key == "/etc/mssql/certs/server.key.pem"


def test_bad_mssql_conf_values() -> None:
    config = parse_mssql_conf(
        "[network]\ntcpport = 14x3\nforceencryption = yes\n[filelocation]\nerrorlogfile = /l/e\n"
    )
    assert config.static_ports == (1433,)
    assert len(config.problems) == 2
    assert config.errorlog_path == "/l/e"


def test_real_ss_output() -> None:
    listeners = parse_ss(text("linux-ss-tlnp-grep-1433-sqlservr-UNATTRIBUTED.txt"))
    assert [(x.address, x.port, x.pid, x.process) for x in listeners] == [
        ("0.0.0.0", 1433, 3327, "sqlservr"),
        ("*", 1433, 3327, "sqlservr"),
    ]
    assert all(x.all_addresses for x in listeners)


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss not installed")
async def test_real_ss_sees_our_own_listener(loopback: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((loopback, 0))
        server.listen(1)
        port = server.getsockname()[1]
        environment = Environment("linux", DiskFileReader(), SubprocessRunner())
        listeners, result = await read_listeners(environment, timeout=10)
    assert result.returncode == 0
    ours = [x for x in listeners if (x.address, x.port) == (loopback, port)]
    assert len(ours) == 1
    assert ours[0].loopback
    if ours[0].pid is not None:  # shown only for our own processes or as root
        assert ours[0].pid == os.getpid()


def test_ss_address_forms() -> None:
    # Minimal input: the address forms iproute2 prints (IPv6 in brackets, %interface scopes).
    sample = "\n".join(
        [
            "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
            "LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*",
            "LISTEN 0      128    [::ffff:127.0.0.1]:1433 [::]:*",
            "LISTEN 0      128    [fe80::1]%eth0:22       [::]:*",
            "LISTEN 0      128    [::]:1433               [::]:*",
            "LISTEN 0      128    bogus                   [::]:*",
        ]
    )
    assert [(x.address, x.port) for x in parse_ss(sample)] == [
        ("127.0.0.53", 53),
        ("::ffff:127.0.0.1", 1433),
        ("fe80::1", 22),
        ("::", 1433),
    ]


async def test_read_linux_with_a_server_laid_out_in_files(tmp_path: Path) -> None:
    runner = Replay(
        {
            (SYSTEMCTL,): ok(text("linux-systemctl-status-mssql-server-active.txt")),
            (SS, "-ltnp"): ok(text("linux-ss-tlnp-grep-1433-sqlservr-UNATTRIBUTED.txt")),
        }
    )
    environment, files = make_env(tmp_path, runner=runner)
    files.place("/var/opt/mssql/mssql.conf", text("linux-mssql.conf-real-network-tls.conf"))
    files.place(
        "/var/opt/mssql/log/errorlog",
        (FIXTURES / "errorlog-linux-sql2019-container-volume-utf8.log").read_bytes(),
    )
    view = await read_linux(environment, timeout=5)
    assert view.installed
    assert "/var/opt/mssql/mssql.conf exists" in view.installed_evidence
    assert view.systemd.service.state == ServiceState.RUNNING
    assert view.config is not None and view.config.force_encryption
    assert view.errorlog is not None and view.errorlog.client_ports == (1433,)
    assert [x.process for x in view.listeners] == ["sqlservr", "sqlservr"]


async def test_read_linux_on_this_machine(tmp_path: Path) -> None:
    view = await read_linux(Environment.current(), timeout=10)
    # No SQL Server is installed on the machines these tests run on.
    assert not view.installed or view.installed_evidence
    assert isinstance(view.problems, tuple)


async def test_read_linux_with_nothing_installed_and_no_tools(tmp_path: Path) -> None:
    environment, _ = make_env(tmp_path, runner=Replay())
    view = await read_linux(environment, timeout=5)
    assert not view.installed and view.config is None and view.errorlog is None
    assert any("not available" in problem for problem in view.problems)


@given(st.text(max_size=2000), st.one_of(st.none(), st.integers(-1, 255)))
def test_systemctl_parser_never_raises(data: str, returncode: int | None) -> None:
    status = parse_systemctl_status(data, returncode)
    assert status.service.name == "mssql-server"


@given(st.text(max_size=2000))
def test_ss_and_conf_parsers_never_raise(data: str) -> None:
    assert all(0 < x.port <= 65535 for x in parse_ss(data))
    config = parse_mssql_conf(data)
    assert len(config.static_ports) == 1
