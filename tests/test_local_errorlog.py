"""ERRORLOG parsing against real logs (Windows UTF-16LE with BOM, Linux ASCII) and doc excerpts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.localenv import make_env
from tui.probes.local.errorlog import (
    HEAD_BYTES,
    ErrorLog,
    parse_errorlog,
    read_errorlog,
)
from tui.probes.local.system import decode_text

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def load(name: str) -> ErrorLog:
    return parse_errorlog(decode_text((FIXTURES / name).read_bytes()).text, name)


def listening(log: ErrorLog) -> list[tuple[str, str, int, bool]]:
    return [(item.address, item.family, item.port, item.dac) for item in log.listeners]


def test_windows_default_instance_with_tcp_off_listens_only_for_the_dac() -> None:
    log = load("errorlog-windows-sql2022-default-instance-tcp-off-mixed.utf16le.log")
    assert log.instance == "MSSQLSERVER" and log.auth_mode == "MIXED"
    assert listening(log) == [("::1", "ipv6", 1434, True), ("127.0.0.1", "ipv4", 1434, True)]
    assert log.listeners[0].accept_sockets == 1  # the 2022 "accept sockets 1." suffix
    assert log.dac_port == 1434
    assert log.client_ports == () and not log.tcp_listening
    assert log.pipes == ("\\\\.\\pipe\\SQLLocal\\MSSQLSERVER", "\\\\.\\pipe\\sql\\query")
    assert log.ready and not log.stopped
    assert log.spn_failures == ("MSSQLSvc/SQLHOST01",)
    assert "does not listen on TCP" in log.summary()


def test_windows_named_instance_dac_on_a_dynamic_port_is_not_a_client_port() -> None:
    log = load("errorlog-windows-sql2022-named-instance-windows-only.utf16le.log")
    assert log.instance == "MSSQLSERVER03"
    assert log.dac_port == 51848
    assert all(item.dac and item.loopback for item in log.listeners)
    assert log.client_ports == ()
    assert log.pipes[-1] == "\\\\.\\pipe\\MSSQL$MSSQLSERVER03\\sql\\query"
    assert log.errors == ()  # backup errors 3041/18204 are not startup errors


def test_windows_login_failures_state_58_with_client() -> None:
    log = load("errorlog-windows-sql2019-windows-only-login-failed-state58.utf16le.log")
    assert log.auth_mode == "WINDOWS-ONLY"
    first = log.login_failures[0]
    assert (first.user, first.state, first.client) == ("User1", 58, "<local machine>")
    assert first.reason is not None and first.reason.startswith("An attempt to login using SQL")
    assert "Windows authentication only" in first.meaning
    assert log.stopped  # "SQL Server is terminating in response to a 'stop' request"


def test_windows_express_without_tcp_or_dac() -> None:
    log = load("errorlog-windows-sql2019-express-named-instance.utf16le.log")
    assert log.listeners == () and log.dac_disabled
    assert log.ready and log.instance == "SQLEXPRESS"


def test_windows_startup_crash_in_russian_never_gets_ready() -> None:
    log = load("errorlog-windows-sql2016-named-instance-startup-crash-ru.utf16le.log")
    assert log.startups == 1 and log.instance == "MSSQLSERGO"
    assert not log.ready and log.listeners == ()
    assert "reported no listener" in log.summary()


@pytest.mark.parametrize(
    ("name", "ports", "local_only"),
    [
        ("errorlog-linux-sql2019-container-volume-utf8.log", (1433,), (1431,)),
        ("errorlog-linux-sql2019-docker-login-failed-state8.log", (1433,), (1431,)),
        ("errorlog-linux-sql2025-accept-sockets-login-failed-state7.log", (1433,), (1431,)),
        ("errorlog-windows-docs-listening-tcp-np-named-instance.txt", (1433,), ()),
    ],
)
def test_any_address_listeners(
    name: str, ports: tuple[int, ...], local_only: tuple[int, ...]
) -> None:
    log = load(name)
    assert log.client_ports == ports
    assert log.local_only_ports == local_only
    assert any(item.any_address and item.family == "ipv6" for item in log.listeners)
    assert any(item.any_address and item.family == "ipv4" for item in log.listeners)


def test_linux_login_failures_with_remote_clients() -> None:
    state8 = load("errorlog-linux-sql2019-docker-login-failed-state8.log")
    assert [(f.user, f.state, f.client) for f in state8.login_failures] == [("sa", 8, "172.20.0.1")]
    assert state8.login_failures[0].meaning == "the password is wrong"
    assert state8.stopped
    state7 = load("errorlog-linux-sql2025-accept-sockets-login-failed-state7.log")
    assert [(f.user, f.state, f.client) for f in state7.login_failures] == [("SA", 7, "172.25.0.2")]
    assert state7.listeners[0].accept_sockets == 1


def test_doc_excerpt_all_protocols_disabled() -> None:
    log = load("errorlog-windows-docs-17182-all-protocols-disabled.txt")
    assert [error.number for error in log.errors] == [17182, 17182, 17826, 17120]
    assert log.errors[0].meaning.startswith("every network protocol")
    assert log.errors[0].state == 1


def test_doc_excerpt_certificate_errors() -> None:
    missing = load("errorlog-windows-docs-17182-ssl-cert-not-found.txt")
    assert missing.errors[0].number == 26014
    assert "certificate" in missing.errors[0].meaning
    assert "certificate" in missing.errors[1].meaning  # 17182 ... Unable to initialize SSL
    thumbprint = load("errorlog-windows-docs-17182-ssl-thumbprint-invalid.txt")
    assert "(0xd, status 0x38)" in thumbprint.errors[0].meaning


def test_doc_excerpt_port_in_use_with_the_docs_spacing() -> None:
    log = load("errorlog-windows-docs-26023-tcp-port-in-use.txt")
    assert log.ports_in_use == (1963,)
    assert log.errors[0].meaning == "the TCP port 1963 is already in use by another program"
    assert log.login_failures[0].state == 11 and log.login_failures[0].client is None


def test_only_the_last_start_counts() -> None:
    # Minimal input built from the real lines above: two starts, the port changed between them.
    first = "2024-01-01 10:00:00.00 Server      Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64)"
    text = "\n".join(
        [
            first,
            "2024-01-01 10:00:01.00 spid30s     Server is listening on [ 'any' <ipv4> 1433].",
            "2024-01-01 10:00:02.00 spid30s     SQL Server is now ready for client connections.",
            first.replace("10:00:00", "11:00:00"),
            "2024-01-01 11:00:01.00 spid30s     Server is listening on [ 'any' <ipv4> 1533].",
        ]
    )
    log = parse_errorlog(text)
    assert log.startups == 2 and log.started_at == "2024-01-01 11:00:00.00"
    assert log.client_ports == (1533,) and not log.ready


def test_read_huge_utf16_log_reads_head_and_tail(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path, platform="win32")
    real = FIXTURES / "errorlog-windows-sql2022-default-instance-tcp-off-mixed.utf16le.log"
    head = real.read_bytes()
    filler = ("2025-06-01 09:30:00.00 spid60      Filler line.\r\n" * 120_000).encode("utf-16-le")
    tail = (
        "2025-06-01 10:00:00.00 Logon       Error: 18456, Severity: 14, State: 8.\r\n"
        "2025-06-01 10:00:00.00 Logon       Login failed for user 'app'. Reason: Password did "
        "not match that for the login provided. [CLIENT: 10.1.2.3]\r\n"
    ).encode("utf-16-le")
    path = "C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Log\\ERRORLOG"
    files.place(path, head + filler + tail)
    log = read_errorlog(environment, path)
    assert len(head + filler + tail) > HEAD_BYTES
    assert log.truncated and log.encoding == "utf-16-le"
    assert log.ready and log.dac_port == 1434
    assert [(f.user, f.state, f.client) for f in log.login_failures] == [("app", 8, "10.1.2.3")]
    assert "read its first" in log.problems[0]


def test_read_missing_and_junk_logs(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    missing = read_errorlog(environment, "/var/opt/mssql/log/errorlog")
    assert "cannot be read: not found" in missing.problems[0]
    files.place("/var/opt/mssql/log/errorlog", bytes(range(256)) * 50)
    junk = read_errorlog(environment, "/var/opt/mssql/log/errorlog")
    assert any("not look like" in problem for problem in junk.problems)
    assert junk.listeners == ()


line_parts = st.sampled_from(
    [
        "2024-01-01 10:00:00.00 Server      Microsoft SQL Server 2022 (RTM)",
        "Server is listening on [ 'any' <ipv4> 1433].",
        "Server is listening on [ ::1 <ipv6> 99999999] accept sockets 1.",
        "Dedicated admin connection support was established for listening locally on port 1434.",
        "Error: 18456, Severity: 14, State: 8.",
        "Error: 17182, Severity: 16, State: 1.",
        "Login failed for user ''. [CLIENT: ",
        "SQL Server is now ready for client connections.",
        '\t -s "X"',
    ]
)


@given(st.lists(st.one_of(line_parts, st.text(max_size=80)), max_size=40))
def test_parser_never_raises_and_ports_are_valid(lines: list[str]) -> None:
    log = parse_errorlog("\n".join(lines))
    assert all(0 < item.port <= 65535 for item in log.listeners)
    assert isinstance(log.summary(), str)
    assert isinstance(log.evidence(), dict)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=5000))
def test_reader_never_raises_on_bytes(tmp_path: Path, data: bytes) -> None:
    environment, files = make_env(tmp_path)
    files.place("/log", data)
    log = read_errorlog(environment, "/log")
    assert log.path == "/log"
