"""Every real Windows sample in tests/fixtures/windows whose format a reader runs on, driven
through that reader, one row each (see tests/fixtures/windows-more.md for where each came from).

- `sc query` text (sc.exe is what `read_service` runs): four samples, one of them localised
  (es-ES) and one a fragment.
- `netstat -ano` text (`read_windows` runs `netstat -ano -p TCP` and `-p TCPv6`): three samples.
- Event Viewer text (`parse_event_text`; the Get-WinEvent JSON carries the same message text):
  every eventlog-* sample, including the older 7024 wording.
- Registry exports (`.reg`): the readers use `winreg`, not text, so the exports are loaded into
  the in-memory registry with their values as winreg gives them (tests/regfile.py), and the
  instance, alias and certificate readers run on those values.

Not a format any reader runs, so not here: the `Get-Service` tables (the reader asks for JSON:
the table cuts names at 18 characters, as two of the samples show), `netsh advfirewall` and the
`Get-NetFirewallRule` Format-List samples (the firewall reader reads its own script's JSON, of
which no public output can exist), `Test-NetConnection`, `portqry`, `setspn`, `sqllocaldb`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.localenv import Replay, make_env, ok
from tests.regfile import read_reg
from tui.probes.local.aliases import read_connectto
from tui.probes.local.eventlog import parse_event_text
from tui.probes.local.model import ServiceState
from tui.probes.local.system import Hive, decode_text
from tui.probes.local.windows import (
    SC,
    parse_netstat,
    parse_sc_query,
    read_instance_config,
    read_instances,
    read_service,
)

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def without_hash_prefixes(sample: str) -> str:
    """The Spanish sc sample was pasted into notes as comments: its author's `# ` prefixes go."""
    return "\n".join(line[2:] if line.startswith("# ") else line for line in sample.splitlines())


# -- sc query ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sc:
    name: str
    state: ServiceState
    exit_code: int | None
    service_exit_code: int | None
    display_name: str | None = None


SC_SAMPLES: dict[str, tuple[Sc, ...]] = {
    "sc-query-type-service-mssqlserver-running-UNATTRIBUTED.txt": (
        Sc("MSDTC", ServiceState.RUNNING, 0, 0, "Distributed Transaction Coordinator"),
        Sc("msftesql", ServiceState.RUNNING, 0, 0, "SQL Server FullText Search (MSSQLSERVER)"),
        Sc("MSSQLSERVER", ServiceState.RUNNING, 0, 0, "SQL Server (MSSQLSERVER)"),
    ),
    "sc-query-stopped-service-format-osqueryd.txt": (Sc("osqueryd", ServiceState.STOPPED, 0, 0),),
    # es-ES: NOMBRE_SERVICIO / ESTADO / CÓD_SALIDA_WIN32 ...; the values are sc's own.
    "sc-query-localised-es-remote-stop-start-pending-1066-UNATTRIBUTED.txt": (
        Sc("remoteregistry", ServiceState.STOPPING, 1066, 0),
        Sc("remoteregistry", ServiceState.STARTING, 0, 0),
    ),
    # Three lines without their SERVICE_NAME line: a fragment names no service.
    "sc-query-fragment-stopped-1066-service-specific-exit-flamingo-agent.txt": (),
}


@pytest.mark.parametrize("name", sorted(SC_SAMPLES))
def test_sc_query_samples(name: str) -> None:
    found = parse_sc_query(without_hash_prefixes(text(name)))
    assert (
        tuple(Sc(s.name, s.state, s.exit_code, s.service_exit_code, s.display_name) for s in found)
        == SC_SAMPLES[name]
    )


def test_spanish_sc_in_the_oem_code_page_reads_the_same() -> None:
    """sc.exe writes to a pipe in the console's OEM code page (850 for Spanish), which the
    runner's decoder does not know: the accented field names come out mangled, the values not."""
    sample = without_hash_prefixes(
        text("sc-query-localised-es-remote-stop-start-pending-1066-UNATTRIBUTED.txt")
    )
    decoded = decode_text(sample.encode("cp850")).text
    assert "CÓD_SALIDA_WIN32" not in decoded
    assert parse_sc_query(decoded) == parse_sc_query(sample)


def test_the_fragment_with_its_name_line_is_a_failed_start() -> None:
    """The fragment's three real lines under a SERVICE_NAME line (added here, as sc prints it
    first): STOPPED with WIN32_EXIT_CODE 1066 is a start that failed with a service-specific
    code, 1 here."""
    block = "SERVICE_NAME: MSSQLSERVER\n" + text(
        "sc-query-fragment-stopped-1066-service-specific-exit-flamingo-agent.txt"
    )
    (failed,) = parse_sc_query(block)
    assert (failed.state, failed.exit_code, failed.service_exit_code) == (
        ServiceState.FAILED,
        1066,
        1,
    )


async def test_read_service_on_the_localised_sample(tmp_path: Path) -> None:
    """What the reader makes of a non-English Windows: it asked for the name, sc answered."""
    sample = without_hash_prefixes(
        text("sc-query-localised-es-remote-stop-start-pending-1066-UNATTRIBUTED.txt")
    )
    runner = Replay({(SC, "query", "remoteregistry"): ok(sample.encode("cp850"))})
    environment, _ = make_env(tmp_path, platform="win32", runner=runner)
    info = await read_service(environment, "remoteregistry", timeout=5)
    assert (info.state, info.exit_code, info.source) == (ServiceState.STOPPING, 1066, "sc query")


# -- netstat -ano -----------------------------------------------------------------------------

NETSTAT_SAMPLES: dict[str, tuple[tuple[str, int, int | None], ...]] = {
    "netstat-ano-findstr-1433-ipv4-ipv6-UNATTRIBUTED.txt": (
        ("0.0.0.0", 1433, 4372),
        ("::", 1433, 4372),
    ),
    "netstat-ano-findstr-1433-established-UNATTRIBUTED.txt": (("0.0.0.0", 1433, 12196),),
    # SQL Server 2017: 1433 on all addresses, the DAC on loopback 1434 (same PID), 29 listeners.
    "netstat-ano-sql2017-1433-dac-1434-loopback-established-UNATTRIBUTED.txt": (
        ("0.0.0.0", 1433, 3528),
        ("127.0.0.1", 1434, 3528),
        ("::", 1433, 3528),
        ("::1", 1434, 3528),
    ),
}


@pytest.mark.parametrize("name", sorted(NETSTAT_SAMPLES))
def test_netstat_samples(name: str) -> None:
    listeners = parse_netstat(text(name))
    sql = tuple((x.address, x.port, x.pid) for x in listeners if x.port in {1433, 1434})
    assert sql == NETSTAT_SAMPLES[name]
    assert all(x.port != 40860 for x in listeners)  # ESTABLISHED rows are not listeners


def test_netstat_counts_every_listener_of_the_full_sample() -> None:
    listeners = parse_netstat(
        text("netstat-ano-sql2017-1433-dac-1434-loopback-established-UNATTRIBUTED.txt")
    )
    assert len(listeners) == 29  # 15 TCP and 14 TCPv6 LISTENING rows; UDP rows are not TCP


# -- Event Viewer text ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ev:
    event_id: int
    service: str | None
    account: str | None
    reason: str | None


EVENT_SAMPLES: dict[str, tuple[Ev, ...]] = {
    "eventlog-application-18456-password-mismatch-remote-client.txt": (
        Ev(18456, "MSSQLSERVER", None, None),
    ),
    "eventlog-system-7000-access-denied.txt": (Ev(7000, "MSSQLSERVER", None, "Access is denied."),),
    "eventlog-system-7000-file-not-found.txt": (
        Ev(7000, "MSSQLSERVER", None, "The system cannot find the file specified."),
    ),
    "eventlog-system-7024-data-invalid.txt": (
        Ev(7024, "MSSQLSERVER", None, "The data is invalid."),
    ),
    "eventlog-system-7024-older-wording-netlogon-docs.txt": (Ev(7024, None, None, "2114"),),
    "eventlog-system-7038-account-disabled.txt": (
        Ev(
            7038,
            "MSSQLSERVER",
            ".\\sqlsrvlogin",
            "This user can't sign in because this account is currently disabled.",
        ),
    ),
    "eventlog-system-7038-locked-out.txt": (
        Ev(
            7038,
            "MSSQLSERVER",
            ".\\sqlsrvlogin",
            "The referenced account is currently locked out and may not be logged on to.",
        ),
    ),
    "eventlog-system-7038-password-must-change.txt": (
        Ev(
            7038,
            "MSSQLSERVER",
            ".\\sqlsrvlogin",
            "The user's password must be changed before signing in.",
        ),
    ),
    "eventlog-system-7038-wrong-password.txt": (
        Ev(7038, "MSSQLSERVER", ".\\sqlsrvlogin", "The user name or password is incorrect."),
    ),
    "eventlog-system-7041-logon-type.txt": (
        Ev(
            7041,
            "MSSQLSERVER",
            "NT Service\\MSSQLSERVER",
            "Logon failure: the user has not been granted the requested logon type at this "
            "computer.",
        ),
    ),
    "eventlog-system-kdc-11-duplicate-spn.txt": (Ev(11, None, None, None),),
}


def test_every_event_sample_is_in_the_table() -> None:
    assert {p.name for p in FIXTURES.glob("eventlog-*")} == set(EVENT_SAMPLES)


@pytest.mark.parametrize("name", sorted(EVENT_SAMPLES))
def test_event_samples(name: str) -> None:
    found = tuple(
        Ev(e.event_id, e.service, e.account, e.reason) for e in parse_event_text(text(name))
    )
    assert found == EVENT_SAMPLES[name]


def test_the_older_7024_wording_is_a_service_specific_stop() -> None:
    (event,) = parse_event_text(text("eventlog-system-7024-older-wording-netlogon-docs.txt"))
    assert event.display_name == "Netlogon"
    assert event.meaning == (
        "Netlogon stopped with a service-specific error (2114); see the ERRORLOG"
    )


# -- registry exports, as values ----------------------------------------------------------------


def test_sql2008r2_named_instance_export() -> None:
    registry = read_reg(
        text("reg-export-sql2008r2-named-instance-supersocketnetlib-tcp-ipall-UNATTRIBUTED.reg.txt")
    )
    (instance,), problems = read_instances(registry)
    assert problems == () and instance.problems == ()
    assert (instance.name, instance.instance_id, instance.service) == (
        "XSQL2008",
        "MSSQL10_50.XSQL2008",
        "MSSQL$XSQL2008",
    )
    assert (instance.tcp_enabled, instance.listen_all) == (True, True)
    assert (instance.static_ports, instance.dynamic_ports) == ((), (59157,))
    assert instance.dynamic_requested is False
    assert instance.configured_ports() == (59157,)
    assert [
        (e.key, e.address, e.enabled, e.active, e.dynamic_requested) for e in instance.ip_entries
    ] == [
        ("IP1", "127.0.0.1", False, True, True),
        ("IP2", "::1", False, True, True),
    ]
    assert (instance.hidden, instance.force_encryption, instance.certificate) == (
        False,
        False,
        None,
    )
    assert instance.named_pipes_enabled is False


def test_connectto_alias_export_both_views(tmp_path: Path) -> None:
    registry = read_reg(
        text("reg-export-client-connectto-dbmssocn-aliases-32-64-UNATTRIBUTED.reg.txt")
    )
    environment, _ = make_env(tmp_path, platform="win32", registry=registry)
    aliases, problems = read_connectto(environment)
    assert problems == ()
    found = [(a.view, a.name, a.protocol, a.host, a.port, a.problems) for a in aliases]
    expected_one_view = [
        ("SQLHOST01", "tcp", "192.168.60.127", 7000, ()),
        ("SQLHOST02", "tcp", "172.31.84.39", 7500, ()),
        ("SQLHOST03", "tcp", "192.168.60.127", 1433, ()),
        ("SQLHOST04", "tcp", "172.31.84.39", 7410, ()),
    ]
    # The export's comments call the plain key "32 BITS" and WOW6432Node "64 BITS": the reverse
    # of the real registry views, which the reader names by the key, not by the comment.
    assert found == [("64-bit", *row) for row in expected_one_view] + [
        ("32-bit", *row) for row in expected_one_view
    ]


def test_certificate_value_with_its_stray_leading_character() -> None:
    """The doc's export: a thumbprint pasted with an invisible character before it (shown as
    `?`), which stops SQL Server at start (17182, status 0x38). The reader keeps it verbatim."""
    registry = read_reg(text("reg-export-supersocketnetlib-certificate.reg.txt"))
    config = read_instance_config(
        registry, r"SOFTWARE\Microsoft\Microsoft SQL Server", "MSSQLSERVER", "MSSQL.1"
    )
    assert config.certificate == "?b009d02038431da332f095b4ea6a126f4f5c7d18"
    assert registry.open(Hive.HKLM, config.config_where.split("\\", 1)[1]) is not None
