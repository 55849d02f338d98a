"""Client aliases: FreeTDS, unixODBC and Windows DSNs, ConnectTo, protocol order, hosts file.

Real files (tests/fixtures/windows/linux-freetds.conf-*, linux-odbc.ini-*, linux-odbcinst.ini-*)
wherever a real sample exists. The Windows registry has no real sample (no citable `reg query`
output or .reg export of ConnectTo exists, see tests/fixtures/README.md); those tests build the
registry in memory from the value formats Microsoft's SQLCheck parses (Collectors.cs
`CollectSQLAlias`, `CollectClientSNI`) and label the values as minimal inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.localenv import make_env
from tui.probes.local.aliases import (
    AliasKind,
    DriverKind,
    driver_kind,
    find_freetds_server,
    freetds_conf_paths,
    parse_connectto,
    parse_freetds_conf,
    parse_odbc_ini,
    resolve_aliases,
)
from tui.probes.local.system import Hive, MemoryRegistry
from tui.secret import Secret
from tui.target import Form, Source, Target, parse_target

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def odbc_target(
    dsn: str | None = None, servername: str | None = None, password: str | None = None
) -> Target:
    """A DSN/Servername target built directly: `parse_target("DSN=x")` raises TypeError in
    tui/target.py today (no host given), a bug reported rather than fixed here."""
    text = f"DSN={dsn}" if dsn else f"Driver=FreeTDS;Servername={servername}"
    secret = Secret(password) if password else None
    return Target(
        form=Form.ODBC, text=text, host=None, dsn=dsn, servername=servername, password=secret
    )


# ---------------------------------------------------------------------------------------------
# freetds.conf


def test_real_freetds_conf_mssql_entry() -> None:
    text = fixture("linux-freetds.conf-real-mssql-entry.conf")
    server, parsed = parse_freetds_conf(text, "/etc/freetds/freetds.conf", "mssql")
    assert server is not None
    assert (server.name, server.host, server.port, server.instance) == (
        "MSSQL",
        "192.168.10.1",
        1433,
        None,
    )
    assert server.lines["text size"][2] == "global"
    assert server.where("host", "port") == (
        "/etc/freetds/freetds.conf, section [MSSQL]: host = 192.168.10.1, port = 1433 "
        "(lines 42, 43)"
    )
    # commented-out sections are not sections
    assert parsed.names() == ("global", "MSSQL")


def test_real_default_freetds_conf_section_overrides_global() -> None:
    text = fixture("linux-freetds.conf-freetds-default.conf")
    server, _ = parse_freetds_conf(text, "/etc/freetds/freetds.conf", "EGSERVER73")
    assert server is not None and server.name == "egServer73"
    assert server.tds_version == "7.3" and server.port == 1433
    sybase, _ = parse_freetds_conf(text, "/etc/freetds/freetds.conf", "egServer50")
    assert sybase is not None and sybase.port == 5000
    assert parse_freetds_conf(text, "/x", "nosuch")[0] is None
    # ";\tdump file = ..." is a comment in FreeTDS's reader
    assert "dump file" not in server.lines


def test_userguide_instance_example_has_no_port() -> None:
    text = fixture("linux-freetds.conf-userguide-instance-example.conf")
    server, _ = parse_freetds_conf(text, "/etc/freetds.conf", "myserver3")
    assert server is not None
    assert (server.host, server.instance, server.port, server.tds_version) == (
        "instancebox.mydomain.com",
        "foo",
        None,
        "auto",
    )
    assert server.problems == ()


def test_freetds_reader_rules_inline_comments_blanks_and_errors() -> None:
    # Minimal input derived from FreeTDS src/tds/config.c tds_read_conf_section.
    text = (
        "[ PROD ]\n"
        "\tHost   =   db01.example.com  # the new box\n"
        "  TDS    Version = 7.4 ; comment\n"
        "port = 1500\n"
        "instance = SALES\n"
        "encryption = maybe\n"
        "connect timeout = abc\n"
    )
    server, _ = parse_freetds_conf(text, "/f", "prod")
    assert server is not None
    assert server.host == "db01.example.com"
    assert server.tds_version == "7.4"
    assert server.port == 1500 and server.instance == "SALES"
    joined = " ".join(server.problems)
    assert "both port = 1500 and instance = SALES" in joined
    assert "encryption = maybe" in joined
    assert "connect timeout = abc" in joined


def test_freetds_search_order_first_file_with_the_section_wins(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path, env={"FREETDSCONF": "/opt/app/freetds.conf"})
    files.place("/opt/app/freetds.conf", "[OTHER]\nhost = a\n")
    files.place("/home/user1/.freetds.conf", "[PROD]\nhost = home-box\nport = 2000\n")
    files.place("/etc/freetds/freetds.conf", "[PROD]\nhost = system-box\n")
    lookup = find_freetds_server(environment, "prod")
    assert lookup.server is not None and lookup.server.host == "home-box"
    assert lookup.looked_in[0] == "/opt/app/freetds.conf"
    assert "/etc/freetds/freetds.conf" not in lookup.looked_in
    paths = [path for path, _ in freetds_conf_paths(environment)]
    assert paths[:3] == [
        "/opt/app/freetds.conf",
        "/home/user1/.config/freetds.conf",
        "/home/user1/.freetds.conf",
    ]


def test_freetds_huge_and_binary_files_are_problems_not_tracebacks(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    junk = b"[PROD]\nhost = x\x00y\xff\n" + os.urandom(3000) + b"\n" * 10
    files.place("/home/user1/.freetds.conf", junk + b"#" * (3 << 20))
    lookup = find_freetds_server(environment, "PROD")
    assert lookup.server is not None
    assert any("larger than" in problem for problem in lookup.problems)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_freetdsconf_naming_a_fifo_does_not_block(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path, env={"FREETDSCONF": "/tmp/fifo"})
    target = files.map("/tmp/fifo")
    target.parent.mkdir(parents=True)
    os.mkfifo(target)
    lookup = find_freetds_server(environment, "PROD")
    assert lookup.server is None
    assert any("not a regular file" in problem for problem in lookup.problems)


# ---------------------------------------------------------------------------------------------
# odbc.ini / odbcinst.ini


def test_real_freetds_dsn_follows_servername_into_freetds_conf(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/odbc.ini", fixture("linux-odbc.ini-freetds-servername-dsn.ini"))
    files.place("/etc/freetds/freetds.conf", fixture("linux-freetds.conf-real-mssql-entry.conf"))
    target = odbc_target(dsn="MSSQL", password="s3cret-pw")
    result = resolve_aliases(target, environment)
    assert result.kind == AliasKind.ODBC_DSN and result.alias_name == "MSSQL"
    assert (result.target.host, result.target.port) == ("192.168.10.1", 1433)
    host_origin = result.target.origins["host"]
    assert host_origin.source == Source.ALIAS
    assert (
        host_origin.detail
        == "/etc/freetds/freetds.conf, section [MSSQL]: host = 192.168.10.1 (line 42)"
    )
    port_origin = result.target.origins["port"]
    assert port_origin.source == Source.DSN  # the DSN's Port overrides the section's
    assert port_origin.detail == "/etc/odbc.ini, [MSSQL]: Port = 1433 (line 7)"
    assert "/etc/odbc.ini, [MSSQL]: Servername = MSSQL (line 5)" in (result.alias_where or "")
    assert result.chain[0] == "DSN [MSSQL] in /etc/odbc.ini"
    assert "s3cret-pw" not in repr(result.evidence()) + result.summary()


def test_missing_dsn_is_a_plain_words_problem(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path, env={"ODBCSYSINI": "/srv/odbc"})
    files.place("/srv/odbc/odbc.ini", "[Other]\nDriver = FreeTDS\nServer = x\n")
    result = resolve_aliases(odbc_target(dsn="Sales"), environment)
    assert not result.applied
    assert result.problems[0].startswith("there is no DSN named 'Sales'")
    assert "/srv/odbc/odbc.ini" in result.problems[0]
    assert "/home/user1/.odbc.ini (not found)" in result.problems[0]
    assert result.summary() == result.problems[0]


def test_missing_servername_section(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/freetds/freetds.conf", fixture("linux-freetds.conf-freetds-default.conf"))
    result = resolve_aliases(odbc_target(servername="NOSUCH"), environment)
    assert "there is no section [NOSUCH]" in result.problems[0]
    assert result.target.host == "NOSUCH" and result.target.port == 1433
    assert result.target.origins["port"].source == Source.DEFAULT


def test_real_microsoft_dsn_with_ignored_port_key(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path, env={"ODBCINI": "/home/user1/my.ini"})
    files.place("/home/user1/my.ini", fixture("linux-odbc.ini-msodbcsql18-driver-path-dsn.ini"))
    result = resolve_aliases(odbc_target(dsn="mssqlconn"), environment)
    assert result.kind == AliasKind.ODBC_DSN
    assert (result.target.host, result.target.port) == ("mssql", 1433)
    assert result.target.origins["host"].source == Source.DSN
    assert result.target.origins["port"].source == Source.DEFAULT
    assert any("takes the port from Server=host,port" in note for note in result.notes)


def test_real_qgis_dsn_and_driver_name_resolved_through_real_odbcinst(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/odbc.ini", fixture("linux-odbc.ini-msodbcsql17-qgis-ci.ini"))
    files.place("/etc/odbcinst.ini", fixture("linux-odbcinst.ini-msodbcsql18-and-17.ini"))
    dsn, parsed = parse_odbc_ini(
        fixture("linux-odbc.ini-msodbcsql17-qgis-ci.ini"), "/e", "TESTSQLSERVER"
    )
    assert dsn is not None and dsn.kind == DriverKind.MICROSOFT
    assert parsed.names() == ("ODBC Data Sources", "testsqlserver")
    result = resolve_aliases(odbc_target(dsn="testsqlserver"), environment)
    assert result.target.host == "mssql"


def test_driver_kinds() -> None:
    assert driver_kind("FreeTDS") == DriverKind.FREETDS
    assert driver_kind("/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so") == DriverKind.FREETDS
    assert driver_kind("{ODBC Driver 18 for SQL Server}") == DriverKind.MICROSOFT
    assert driver_kind("/opt/microsoft/msodbcsql18/lib64/libmsodbcsql-18.5.so.1.1") == (
        DriverKind.MICROSOFT
    )
    assert driver_kind("/usr/lib/snowflake/odbc/lib/libSnowflake.so") == DriverKind.OTHER
    assert driver_kind(None) == DriverKind.UNKNOWN


def test_custom_driver_name_looked_up_in_odbcinst(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/odbc.ini", "[Sales]\nDriver = TDS\nServer = sales01\nPort = 1600\n")
    files.place("/etc/odbcinst.ini", "[TDS]\nDriver = /usr/lib/odbc/libtdsodbc.so\n")
    result = resolve_aliases(odbc_target(dsn="Sales"), environment)
    assert (result.target.host, result.target.port) == ("sales01", 1600)
    assert result.target.origins["port"].detail == "/etc/odbc.ini, [Sales]: Port = 1600 (line 4)"


# ---------------------------------------------------------------------------------------------
# bare names that are aliases


def test_bare_name_that_is_a_freetds_section(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    files.place("/home/user1/.freetds.conf", "[global]\nport = 1500\n[PROD]\nhost = db01.example\n")
    result = resolve_aliases(parse_target("prod"), environment)
    assert result.kind == AliasKind.FREETDS and result.alias_name == "PROD"
    assert (result.target.host, result.target.port) == ("db01.example", 1500)
    assert result.target.origins["port"].detail == (
        "/home/user1/.freetds.conf, section [PROD]: port = 1500 (from [global]) (line 2)"
    )
    assert any("is a FreeTDS alias, not a host name" in note for note in result.notes)
    assert result.correct_where == "edit /home/user1/.freetds.conf, section [PROD]"
    assert result.original.host == "prod"


def test_bare_name_with_instance_uses_the_hosts_section_and_keeps_the_instance(
    tmp_path: Path,
) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/freetds/freetds.conf", "[PROD]\nhost = db01\nport = 1500\n")
    result = resolve_aliases(parse_target("PROD\\SALES"), environment)
    assert result.target.host == "db01"
    assert result.target.instance == "SALES" and result.target.port is None


def test_freetds_section_is_ignored_for_the_microsoft_driver_and_with_a_port(
    tmp_path: Path,
) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/freetds/freetds.conf", "[PROD]\nhost = db01\n")
    microsoft = resolve_aliases(
        parse_target("Driver={ODBC Driver 18 for SQL Server};Server=PROD"), environment
    )
    assert not microsoft.applied and microsoft.target.host == "PROD"
    assert any("does not read freetds.conf" in note for note in microsoft.notes)
    with_port = resolve_aliases(parse_target("PROD,1433"), environment)
    assert not with_port.applied


def test_hosts_file_entry_for_the_resolved_host(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/freetds/freetds.conf", "[PROD]\nhost = db01.example\nport = 1500\n")
    files.place("/etc/hosts", "127.0.0.1 localhost\n10.9.8.7  db01.example db01 # moved\n")
    result = resolve_aliases(parse_target("PROD"), environment)
    assert result.hosts_addresses == ("10.9.8.7",)
    assert "sends db01.example to 10.9.8.7" in result.summary()


# ---------------------------------------------------------------------------------------------
# Windows (registry in memory; values are minimal inputs in the formats SQLCheck parses)


def windows_registry(**values: object) -> MemoryRegistry:
    registry = MemoryRegistry()
    for path, key_values in values.items():
        hive, _, rest = path.partition(":")
        registry.set_key(Hive[hive], rest, key_values)  # type: ignore[arg-type]
    return registry


CONNECTTO = r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo"
CONNECTTO32 = r"SOFTWARE\WOW6432Node\Microsoft\MSSQLServer\Client\ConnectTo"


def test_connectto_values() -> None:
    tcp = parse_connectto("PROD", "DBMSSOCN,db01.corp,1500", CONNECTTO, "64-bit")
    assert (tcp.protocol, tcp.host, tcp.port, tcp.instance) == ("tcp", "db01.corp", 1500, None)
    named = parse_connectto("PROD", "DBMSSOCN,db01\\SALES", CONNECTTO, "64-bit")
    assert (named.host, named.instance, named.port) == ("db01", "SALES", None)
    pipe = parse_connectto("P", "DBNMPNTW,\\\\db02\\pipe\\MSSQL$X\\sql\\query", CONNECTTO, "32-bit")
    assert (pipe.protocol, pipe.host, pipe.instance) == ("np", "db02", "X")
    bad_port = parse_connectto("B", "DBMSSOCN,db01,14x3", CONNECTTO, "64-bit")
    assert bad_port.port is None and "not a TCP port number" in bad_port.problems[0]
    assert parse_connectto("E", "", CONNECTTO, "64-bit").problems
    assert parse_connectto("E", b"\x00", CONNECTTO, "64-bit").problems
    assert "network library" in parse_connectto("V", "DBMSVINN,x", CONNECTTO, "64-bit").problems[0]


def test_windows_alias_replaces_the_bare_name_and_the_32_bit_twin_differs(tmp_path: Path) -> None:
    registry = windows_registry(
        **{
            f"HKLM:{CONNECTTO}": {"PROD": "DBMSSOCN,db01.corp,1500"},
            f"HKLM:{CONNECTTO32}": {"prod": "DBMSSOCN,db01.corp,1433"},
        }
    )
    environment, _ = make_env(tmp_path, platform="win32", registry=registry)
    result = resolve_aliases(parse_target("Server=prod;Integrated Security=SSPI"), environment)
    assert result.kind == AliasKind.CONNECTTO
    assert (result.target.host, result.target.port, result.target.protocol) == (
        "db01.corp",
        1500,
        "tcp",
    )
    where = (
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo, "
        'value "PROD" = "DBMSSOCN,db01.corp,1500" (used by 64-bit programs)'
    )
    assert result.alias_where == where
    assert result.target.origins["port"].detail == where
    assert result.correct_where == f"edit or delete {where}"
    assert any("differ" in problem for problem in result.problems)
    assert len(result.other_aliases) == 1


def test_windows_alias_not_used_with_explicit_port(tmp_path: Path) -> None:
    registry = windows_registry(**{f"HKLM:{CONNECTTO}": {"PROD": "DBMSSOCN,db01,1500"}})
    environment, _ = make_env(tmp_path, platform="win32", registry=registry)
    result = resolve_aliases(parse_target("tcp:PROD,1433"), environment)
    assert not result.applied and result.target.port == 1433
    assert any("may bypass it" in note for note in result.notes)


def test_windows_protocol_order_named_pipes_first(tmp_path: Path) -> None:
    registry = windows_registry(
        **{
            r"HKLM:SOFTWARE\Microsoft\MSSQLServer\Client\SNI11.0": {
                "ProtocolOrder": ("sm", "np", "tcp")
            },
            r"HKLM:SOFTWARE\WOW6432Node\Microsoft\MSSQLServer\Client\SNI18.0": {
                "ProtocolOrder": ("sm", "tcp", "np")
            },
        }
    )
    environment, _ = make_env(tmp_path, platform="win32", registry=registry)
    result = resolve_aliases(parse_target("db01"), environment)
    assert [order.order for order in result.protocol_orders] == [
        ("sm", "np", "tcp"),
        ("sm", "tcp", "np"),
    ]
    assert len([note for note in result.notes if "Named Pipes before TCP" in note]) == 1


def test_windows_dsn_in_the_registry(tmp_path: Path) -> None:
    registry = windows_registry(
        **{
            r"HKCU:Software\ODBC\ODBC.INI\Payroll": {
                "Driver": r"C:\Windows\system32\msodbcsql17.dll",
                "Server": "db03,1444",
            }
        }
    )
    environment, _ = make_env(tmp_path, platform="win32", registry=registry)
    result = resolve_aliases(odbc_target(dsn="payroll"), environment)
    assert (result.target.host, result.target.port) == ("db03", 1444)
    assert result.target.origins["port"].detail == (
        r"HKEY_CURRENT_USER\Software\ODBC\ODBC.INI\Payroll, [payroll]: Server = db03,1444"
    )


def test_unreadable_registry_key_is_a_problem(tmp_path: Path) -> None:
    registry = windows_registry(**{f"HKLM:{CONNECTTO}": {"PROD": "DBMSSOCN,db01,1500"}})
    registry.denied.add((Hive.HKLM, CONNECTTO))
    environment, _ = make_env(tmp_path, platform="win32", registry=registry)
    result = resolve_aliases(parse_target("PROD"), environment)
    assert not result.applied
    assert any("cannot be read" in problem for problem in result.problems)


# ---------------------------------------------------------------------------------------------
# hostile input


names = st.text(alphabet=st.characters(blacklist_characters="[]\n\r"), min_size=1, max_size=12)


@given(st.text(max_size=3000), names)
def test_freetds_parser_never_raises(text: str, name: str) -> None:
    server, parsed = parse_freetds_conf(text, "/f", name)
    assert server is None or server.path == "/f"
    assert len(parsed.problems) <= 21


@given(st.text(max_size=3000), names)
def test_odbc_parser_never_raises(text: str, name: str) -> None:
    dsn, _ = parse_odbc_ini(text, "/f", name)
    assert dsn is None or dsn.name.strip().lower() == name.strip().lower()


@given(st.text(max_size=200), st.one_of(st.text(max_size=200), st.integers(), st.binary()))
def test_connectto_parser_never_raises(name: str, data: object) -> None:
    alias = parse_connectto(name, data, CONNECTTO, "64-bit")
    assert alias.port is None or 0 < alias.port <= 65535


keys = st.sampled_from(["host", "port", "instance", "tds version", "encryption"])
values = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N"), max_codepoint=0x24F),
    min_size=1,
    max_size=10,
)


@given(st.dictionaries(keys, values, min_size=1))
def test_freetds_round_trip(entries: dict[str, str]) -> None:
    text = "[global]\n\ttext size = 64512\n[S1]\n" + "".join(
        f"\t{key.upper()}  =  {value}\n" for key, value in entries.items()
    )
    server, _ = parse_freetds_conf(text, "/f", "s1")
    assert server is not None
    for key, value in entries.items():
        assert server.lines[key][0] == value


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4000))
def test_resolution_with_junk_files_never_raises(tmp_path: Path, junk: bytes) -> None:
    environment, files = make_env(tmp_path)
    files.place("/etc/odbc.ini", junk)
    files.place("/etc/freetds/freetds.conf", junk)
    files.place("/etc/hosts", junk)
    targets = [odbc_target(dsn="x"), odbc_target(servername="x")]
    targets += [parse_target(text) for text in ("x", "x\\i", "x,1")]
    for target in targets:
        result = resolve_aliases(target, environment)
        assert isinstance(result.summary(), str)


def test_passwords_in_odbc_ini_never_leave_the_parser(tmp_path: Path) -> None:
    environment, files = make_env(tmp_path)
    files.place(
        "/etc/odbc.ini",
        "[Sales]\nDriver = FreeTDS\nServer = sales01\nUID = app\nPWD = hunter2-Secret\n"
        "Password = hunter2-Secret\n",
    )
    dsn, _ = parse_odbc_ini("[S]\nPWD = hunter2-Secret\n", "/f", "s")
    assert dsn is not None and "hunter2" not in repr(dsn)
    result = resolve_aliases(odbc_target(dsn="Sales"), environment)
    assert result.target.host == "sales01"
    assert "hunter2" not in repr(result) + repr(result.evidence()) + result.summary()
