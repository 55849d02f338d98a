"""The target parser, table-driven: what people paste, and what must be refused (and where).

Cases borrow their shapes from what drivers document and test (SqlClient's Data Source grammar
and keyword synonyms, the ODBC brace rules, mssql-jdbc's URL form, sqlcmd -S), written anew.
"""

from __future__ import annotations

from typing import Any

import pytest

from tui.target import Form, Source, TargetError, parse_target

# (text, expected fields); `port_from` is the origin of the port: "string" or "default".
GOOD: list[tuple[str, dict[str, Any]]] = [
    # bare names and sqlcmd -S forms
    (
        "db1",
        {
            "host": "db1",
            "instance": None,
            "port": 1433,
            "port_from": "default",
            "form": Form.SERVER,
        },
    ),
    ("db1\\SALES", {"host": "db1", "instance": "SALES", "port": None}),
    ("db1,1433", {"host": "db1", "port": 1433, "port_from": "string"}),
    ("db1, 1500", {"host": "db1", "port": 1500}),
    ("tcp:db1,1433", {"host": "db1", "protocol": "tcp", "port": 1433}),
    (
        "TCP:db1\\SALES,49733",
        {"host": "db1", "instance": "SALES", "port": 49733, "protocol": "tcp"},
    ),
    (
        "np:\\\\db1\\pipe\\sql\\query",
        {"host": "db1", "protocol": "np", "port": None, "pipe": "\\\\db1\\pipe\\sql\\query"},
    ),
    (
        "np:\\\\db1\\pipe\\MSSQL$SALES\\sql\\query",
        {"host": "db1", "instance": "SALES", "protocol": "np"},
    ),
    ("\\\\db1\\pipe\\sql\\query", {"host": "db1", "protocol": "np"}),
    ("np:db1", {"host": "db1", "protocol": "np", "pipe": "\\\\db1\\pipe\\sql\\query"}),
    ("np:db1\\SALES", {"pipe": "\\\\db1\\pipe\\MSSQL$SALES\\sql\\query"}),
    ("lpc:.", {"host": ".", "protocol": "lpc", "port": None, "is_local": True}),
    ("admin:db1", {"host": "db1", "dac": True, "port": 1434, "port_from": "default"}),
    ("admin:db1\\SALES", {"host": "db1", "dac": True, "instance": "SALES", "port": None}),
    (".", {"host": ".", "is_local": True, "connect_host": "localhost"}),
    ("(local)", {"host": "(local)", "is_local": True, "connect_host": "localhost"}),
    ("(local)\\SQLEXPRESS", {"instance": "SQLEXPRESS", "is_local": True}),
    ("localhost", {"host": "localhost", "is_local": True}),
    (
        "(localdb)\\MSSQLLocalDB",
        {"host": "(localdb)", "instance": "MSSQLLocalDB", "port": None, "is_localdb": True},
    ),
    ("10.1.2.3", {"host": "10.1.2.3", "port": 1433}),
    ("10.1.2.3,1500", {"host": "10.1.2.3", "port": 1500}),
    ("10.1.2.3\\SALES", {"host": "10.1.2.3", "instance": "SALES"}),
    ("::1", {"host": "::1", "is_local": True, "port": 1433}),
    ("[::1]", {"host": "::1"}),
    ("[fe80::1],1433", {"host": "fe80::1", "port": 1433, "port_from": "string"}),
    ("fe80::1%eth0", {"host": "fe80::1%eth0"}),
    ("[::1]\\SALES", {"host": "::1", "instance": "SALES"}),
    ("[2001:db8::5]\\SALES,1500", {"host": "2001:db8::5", "instance": "SALES", "port": 1500}),
    ("::1,1500", {"host": "::1", "port": 1500}),
    ("db1.corp.example.com", {"host": "db1.corp.example.com"}),
    ("db1.corp.example.com.", {"host": "db1.corp.example.com"}),  # trailing dot removed
    ("db1.corp.example.com.\\SALES", {"host": "db1.corp.example.com", "instance": "SALES"}),
    ("bücher.example", {"host": "bücher.example"}),  # an international name
    ("db_1-a", {"host": "db_1-a"}),
    ("  db1  ", {"host": "db1"}),
    ("db1:1433", {"host": "db1", "port": 1433}),  # a JDBC habit, read and noted
    ("db1\\SALES,1500", {"instance": "SALES", "port": 1500, "port_from": "string"}),
    # ADO.NET and its synonyms
    (
        "Server=db1;Database=Sales;User ID=app;Password=x",
        {
            "host": "db1",
            "database": "Sales",
            "user": "app",
            "form": Form.ADONET,
            "has_password": True,
        },
    ),
    ("Data Source=db1\\SALES;Initial Catalog=Sales", {"instance": "SALES", "database": "Sales"}),
    ("Address=db1,1500", {"host": "db1", "port": 1500}),
    ("Addr=db1", {"host": "db1"}),
    ("Network Address=db1", {"host": "db1"}),
    ("DataSource=db1", {"host": "db1"}),
    ("SERVER=db1;DATABASE=x", {"host": "db1", "database": "x"}),
    ("server=db1;uid=app;pwd=x", {"user": "app", "has_password": True}),
    ("Server=db1;User=app", {"user": "app"}),
    ("Server=db1;UserID=app", {"user": "app"}),
    ("Server=db1;Integrated Security=SSPI", {"integrated_security": True}),
    ("Server=db1;Integrated Security=true", {"integrated_security": True}),
    ("Server=db1;Trusted_Connection=yes", {"integrated_security": True}),
    ("Server=db1;Trusted_Connection=no", {"integrated_security": False}),
    ("Server=db1;Encrypt=true", {"encrypt": "yes"}),
    ("Server=db1;Encrypt=false", {"encrypt": "no"}),
    ("Server=db1;Encrypt=Mandatory", {"encrypt": "yes"}),
    ("Server=db1;Encrypt=Optional", {"encrypt": "no"}),
    ("Server=db1;Encrypt=Strict", {"encrypt": "strict"}),
    ("Server=db1;TrustServerCertificate=True", {"trust_server_certificate": True}),
    ("Server=db1;Trust Server Certificate=no", {"trust_server_certificate": False}),
    ("Server=db1;HostNameInCertificate=db1.corp", {"host_name_in_certificate": "db1.corp"}),
    ("Server=db1;Connect Timeout=30", {"timeout": 30}),
    ("Server=db1;Connection Timeout=15", {"timeout": 15}),
    ("Server=db1;Timeout=5", {"timeout": 5}),
    ("Server=db1;MultiSubnetFailover=True", {"multi_subnet_failover": True}),
    ("Server=db1;Application Name=payroll", {"application_name": "payroll"}),
    ('Server=db1;Password="a;b"', {"has_password": True, "password": "a;b"}),
    ('Server=db1;Password="say ""hi"""', {"password": 'say "hi"'}),
    ("Server=db1;Password='it''s'", {"password": "it's"}),
    (";;Server=db1;;;Database=x;;", {"host": "db1", "database": "x"}),
    ("  Server = db1 ; Database = x ", {"host": "db1", "database": "x"}),
    ("Server=db1;Pooling=false;Persist Security Info=false", {"host": "db1"}),
    (
        "Server=tcp:db1.database.windows.net,1433;Authentication=ActiveDirectoryPassword",
        {"host": "db1.database.windows.net", "authentication": "ActiveDirectoryPassword"},
    ),
    ("Server=db1;Server=db2", {"host": "db2"}),  # the last one wins, noted
    # ODBC
    (
        "Driver={ODBC Driver 18 for SQL Server};Server=db1;UID=app;PWD={a;b}}c}",
        {"driver": "ODBC Driver 18 for SQL Server", "form": Form.ODBC, "password": "a;b}c"},
    ),
    ("DRIVER={FreeTDS};SERVER=db1;PORT=1500;TDS_Version=7.4", {"driver": "FreeTDS", "port": 1500}),
    ("Driver={FreeTDS};Server=db1,1433;Port=1500", {"port": 1433}),  # Server's port wins
    ("DSN=Payroll;UID=app", {"dsn": "Payroll", "host": None, "form": Form.ODBC}),
    ("Driver={FreeTDS};Servername=MSSQL", {"servername": "MSSQL", "host": None}),
    (
        "Driver={ODBC Driver 17 for SQL Server};Server=db1;Encrypt=yes;TrustServerCertificate=no",
        {"encrypt": "yes", "trust_server_certificate": False},
    ),
    ("Driver={ODBC Driver 18 for SQL Server};Server={db1\\SALES}", {"instance": "SALES"}),
    # OLE DB
    (
        "Provider=MSOLEDBSQL;Data Source=db1;Initial Catalog=x",
        {"provider": "MSOLEDBSQL", "form": Form.OLEDB},
    ),
    (
        "Provider=SQLNCLI11;Server=db1\\SALES;Trusted_Connection=yes",
        {"provider": "SQLNCLI11", "integrated_security": True},
    ),
    # JDBC
    (
        "jdbc:sqlserver://db1\\SALES:1433;databaseName=x;encrypt=true;user=app",
        {
            "host": "db1",
            "instance": "SALES",
            "port": 1433,
            "database": "x",
            "encrypt": "yes",
            "user": "app",
            "form": Form.JDBC,
        },
    ),
    ("jdbc:sqlserver://db1:1500", {"host": "db1", "port": 1500}),
    ("jdbc:sqlserver://db1", {"host": "db1", "port": 1433, "port_from": "default"}),
    ("jdbc:sqlserver://[::1]:1433;databaseName=x", {"host": "::1", "port": 1433}),
    ("jdbc:sqlserver://;serverName=db1;portNumber=1500", {"host": "db1", "port": 1500}),
    ("jdbc:sqlserver://;serverName=db1;instanceName=SALES", {"instance": "SALES"}),
    (
        "jdbc:sqlserver://db1;integratedSecurity=true;trustServerCertificate=true",
        {"integrated_security": True, "trust_server_certificate": True},
    ),
    ("jdbc:sqlserver://db1;password={a;b}", {"password": "a;b"}),
    ("JDBC:SQLSERVER://db1", {"host": "db1"}),
    # sqlcmd command lines
    (
        "sqlcmd -S db1\\SALES -U sa -P secret -d Payroll",
        {
            "host": "db1",
            "instance": "SALES",
            "user": "sa",
            "database": "Payroll",
            "password": "secret",
            "form": Form.SQLCMD,
        },
    ),
    ("sqlcmd -S tcp:db1,1500 -E", {"port": 1500, "integrated_security": True}),
    ("sqlcmd -Sdb1 -Usa", {"host": "db1", "user": "sa"}),
    ("sqlcmd -S db1 -N -C", {"encrypt": "yes", "trust_server_certificate": True}),
    ("-S db1,1500", {"host": "db1", "port": 1500}),
    ('sqlcmd.exe -S "db1\\SALES" -l 30', {"instance": "SALES", "timeout": 30}),
]


def _field(target: Any, name: str) -> Any:
    if name == "port_from":
        return target.origins["port"].source.value if "port" in target.origins else None
    if name == "has_password":
        return target.password is not None
    if name == "password":
        return target.password.reveal() if target.password is not None else None
    return getattr(target, name)


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[text[:50] for text, _ in GOOD])
def test_what_people_paste(text: str, expected: dict[str, Any]) -> None:
    target = parse_target(text)
    for name, value in expected.items():
        assert _field(target, name) == value, (name, _field(target, name))


# (text, fragment of the message, 1-based character position or None)
BAD: list[tuple[str, str | None, int | None]] = [
    ("", "empty", None),
    ("   ", "empty", None),
    ("Server={db1", "unbalanced '{'", 8),
    ("Driver={ODBC Driver 18;Server=db1", "unbalanced '{'", 8),
    ('Server=db1;Password="abc', 'unterminated " quote', 21),
    ("Server=db1;Password='abc", "unterminated ' quote", 21),
    ("=value", "key is empty", 1),
    ("Server=db1;=x", "key is empty", 12),
    ("Server", None, None),  # a bare name: parses, see below
    ("Server=db1;Database", "has no '=' and no value", 12),
    ("Server={db1}x;", "unexpected 'x' after a closing brace", 13),
    ("db1,0", "outside 1 to 65535", 5),
    ("db1,65536", "outside 1 to 65535", 5),
    ("db1,-1", "not a number", 5),
    ("db1,abc", "not a number", 5),
    ("db1,", "port is missing", 5),
    ("db1\\", "instance name after '\\' is empty", 5),
    ("db1\\SALES\\X", "more than one '\\'", 10),
    ("db1\\" + "I" * 40, "longer than SQL Server allows", 5),
    ("db1:1433,1500", "two ports", 4),
    ("db 1", "not allowed in a host name", 3),
    ("db1/x", "not allowed in a host name", 4),
    ("a" * 64 + ".example", "longer than 63 bytes", 1),
    ("db1..example", "empty label", 4),
    ("[::1", "unbalanced '['", 1),
    ("[not-an-ip],1433", "not a valid IPv6 address", 2),
    ("db1\x00", "NUL character", 4),
    ("db\x071", "control character U+0007", 3),
    ("x" * 100_000, "characters long", None),
    ("Server=db1;Encrypt=maybe", "must be yes, no, mandatory, optional or strict", 20),
    ("Server=db1;Trusted_Connection=perhaps", "must be yes or no", 31),
    ("Server=db1;Connect Timeout=soon", "must be a number of seconds", 28),
    ("Server=db1;Port=abc", "not a number", 17),
    ("Database=x", "no server given", None),
    ("jdbc:mysql://db1", "only jdbc:sqlserver://", 1),
    ("jdbc:sqlserver://db1:99999", "outside 1 to 65535", 22),
    ("via:db1", "no longer supported", 1),
    ("tcp:", "no server after", 5),
    ("sqlcmd -U sa", "has no -S server", 1),
    ("sqlcmd -S", "has no value", 8),
    ("\\\\db1\\share\\x", "has no '\\pipe\\' part", 1),
    ("np:db1,1433", "a named pipe has no port", 4),
    (";;;", "not allowed in a host name", 1),
    (";;;=;", "key is empty", 4),
]


@pytest.mark.parametrize(
    ("text", "fragment", "position"), BAD, ids=[repr(text[:40]) for text, _, _ in BAD]
)
def test_what_must_be_refused_says_where(
    text: str, fragment: str | None, position: int | None
) -> None:
    if fragment is None:
        assert parse_target(text).host == text  # a word alone is a host name
        return
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    assert fragment in str(caught.value)
    if position is not None:
        assert caught.value.position == position, str(caught.value)
        assert str(caught.value).endswith(f"at character {position}")


def test_where_each_value_came_from() -> None:
    target = parse_target("Server=db1\\SALES,1500;Database=x")
    assert target.origins["host"].source is Source.STRING
    assert target.origins["host"].detail == "Server="
    assert target.origins["database"].detail == "Database="
    assert parse_target("db1").origins["port"].source is Source.DEFAULT


def test_both_port_and_instance_keep_both_and_say_the_port_wins() -> None:
    target = parse_target("db1\\SALES,1500")
    assert (target.instance, target.port) == ("SALES", 1500)
    assert not target.needs_browser
    assert any("skip the SQL Server Browser" in note for note in target.notes)
    assert parse_target("db1\\SALES").needs_browser


def test_notes_explain_what_was_read() -> None:
    assert any("comma" in n for n in parse_target("db1:1433").notes)
    assert any("trailing dot" in n for n in parse_target("db1.example.").notes)
    assert any("the last one wins" in n for n in parse_target("Server=a;Server=b").notes)
    assert any("xn--" in n for n in parse_target("bücher.example").notes)


def test_data_source_round_trips_through_the_parser() -> None:
    for text in ("db1", "db1\\SALES", "tcp:db1,1500", "admin:db1", "[::1],1500"):
        target = parse_target(text)
        again = parse_target(target.data_source)
        assert (again.host, again.instance, again.port) == (
            target.host,
            target.instance,
            target.port,
        )


def test_json_has_the_contract_keys_and_never_the_password() -> None:
    target = parse_target(
        "Server=db1,1500;UID=app;PWD=Pa55-word;Encrypt=yes;Driver={ODBC Driver 18 for SQL Server}"
    )
    document = target.to_json()
    for key in (
        "host",
        "instance",
        "port",
        "protocol",
        "database",
        "user",
        "integrated_security",
        "encrypt",
        "driver",
    ):
        assert key in document
    assert document["port"] == 1500
    assert "Pa55-word" not in repr(document) + repr(target) + target.text


def test_replace_merges_origins() -> None:
    from tui.target import Origin

    target = parse_target("db1")
    moved = target.replace(origins={"port": Origin(Source.ALIAS, "freetds.conf [X]")}, port=1500)
    assert moved.port == 1500 and moved.origins["port"].source is Source.ALIAS
    assert moved.origins["host"].source is Source.STRING
