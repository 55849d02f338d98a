"""The target forms of other ecosystems, each from its project's own documentation or tests
(cited beside it), and each round-tripped: parse, render the canonical ADO.NET form
(`Target.to_adonet`), parse again: the same target, and the password never shown.

SQLAlchemy is also asked itself: its `make_url` and the mssql+pyodbc dialect's
`create_connect_args` turn each URL into the ODBC string pyodbc would get, and that string must
parse to the same target as the URL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tui.secret import PLACEHOLDER
from tui.target import Form, Target, TargetError, parse_target

SQLALCHEMY_DOCS = "https://docs.sqlalchemy.org/en/20/dialects/mssql.html"
GO_DOCS = "https://learn.microsoft.com/en-us/sql/connect/golang/connection-strings"
GO_SOURCE = "https://github.com/microsoft/go-mssqldb/blob/HEAD/msdsn/conn_str.go"
NODE_README = "https://github.com/tediousjs/node-mssql#connection-string-uri"
PRISMA_DOCS = "https://www.prisma.io/docs/concepts/database-connectors/sql-server"
INVOKE_SQLCMD = "https://learn.microsoft.com/en-us/powershell/module/sqlserver/invoke-sqlcmd"

# (source, text, expected fields)
FORMS: list[tuple[str, str, dict[str, Any]]] = [
    (
        SQLALCHEMY_DOCS,
        "mssql+pyodbc://scott:tiger@myhost:port/databasename?driver=ODBC+Driver+17+for+SQL+Server".replace(
            ":port", ":49242"
        ),
        {
            "form": Form.SQLALCHEMY,
            "host": "myhost",
            "port": 49242,
            "database": "databasename",
            "user": "scott",
            "driver": "ODBC Driver 17 for SQL Server",
        },
    ),
    (
        SQLALCHEMY_DOCS,
        "mssql+pyodbc://scott:tiger@mydsn",
        {"form": Form.SQLALCHEMY, "host": None, "dsn": "mydsn", "user": "scott"},
    ),
    (
        SQLALCHEMY_DOCS,
        "mssql+pyodbc://myhost/databasename?driver=ODBC+Driver+18+for+SQL+Server"
        "&TrustServerCertificate=yes&authentication=ActiveDirectoryMsi",
        {
            "host": "myhost",
            "authentication": "ActiveDirectoryMsi",
            "trust_server_certificate": True,
            "integrated_security": False,
        },
    ),
    (
        SQLALCHEMY_DOCS,
        "mssql+pyodbc://myhost/db?driver=ODBC+Driver+18+for+SQL+Server",
        {"host": "myhost", "integrated_security": True},  # no user: Trusted_Connection=Yes
    ),
    (
        SQLALCHEMY_DOCS,
        "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC+Driver+18+for+SQL+Server%7D%3B"
        "SERVER%3Ddagger%3BDATABASE%3Dtest%3BUID%3Duser%3BPWD%3Dpassword",
        {
            "host": "dagger",
            "database": "test",
            "user": "user",
            "driver": "ODBC Driver 18 for SQL Server",
        },
    ),
    (
        SQLALCHEMY_DOCS,
        "mssql+pymssql://scott:tiger@hostname:1433/dbname",
        {"form": Form.SQLALCHEMY, "host": "hostname", "port": 1433, "database": "dbname"},
    ),
    (
        SQLALCHEMY_DOCS,
        "mssql+pyodbc://sa:p%40ss%3Aw@db1\\SQLEXPRESS/app?driver=ODBC+Driver+18+for+SQL+Server",
        {"host": "db1", "instance": "SQLEXPRESS", "database": "app", "password": "p@ss:w"},
    ),
    (
        GO_DOCS,
        "sqlserver://app:p%40ssword@db1.example.com/myinstance?database=AdventureWorks2025",
        {
            "form": Form.GO,
            "host": "db1.example.com",
            "instance": "myinstance",
            "database": "AdventureWorks2025",
            "user": "app",
            "password": "p@ssword",
        },
    ),
    (
        GO_DOCS,
        "sqlserver://app:pw@db1.database.windows.net?database=AdventureWorks2025&encrypt=true"
        "&TrustServerCertificate=false",
        {"host": "db1.database.windows.net", "encrypt": "yes", "trust_server_certificate": False},
    ),
    (
        GO_DOCS,
        "sqlserver://db1:1434?database=AdventureWorks2025",
        {"host": "db1", "port": 1434, "port_from": "string"},
    ),
    (
        GO_SOURCE,
        "sqlserver://sa@localhost?database=master&instance=SQLExpress",
        {"host": "localhost", "instance": "SQLExpress", "user": "sa"},
    ),
    (
        NODE_README,
        "mssql://username:password@localhost:1433/database?encrypt=true",
        {
            "form": Form.NODE,
            "host": "localhost",
            "port": 1433,
            "database": "database",
            "encrypt": "yes",
        },
    ),
    (
        NODE_README,
        "mssql://username:password@localhost/INSTANCE/database?encrypt=true&domain=DOMAIN"
        "&driver=msnodesqlv8",
        {
            "host": "localhost",
            "instance": "INSTANCE",
            "database": "database",
            "user": "DOMAIN\\username",
        },
    ),
    (
        PRISMA_DOCS,
        "sqlserver://db1:1433;database=sales;user={MyServer/MyUser};"
        "password={ThisIsA:SecurePassword;};encrypt=true",
        {
            "form": Form.PRISMA,
            "host": "db1",
            "port": 1433,
            "database": "sales",
            "user": "MyServer/MyUser",
            "password": "ThisIsA:SecurePassword;",
        },
    ),
    (
        PRISMA_DOCS,
        "sqlserver://localhost:1433;database=sample;integratedSecurity=true;"
        "trustServerCertificate=true;",
        {"host": "localhost", "integrated_security": True, "trust_server_certificate": True},
    ),
    (
        INVOKE_SQLCMD,
        'Invoke-Sqlcmd -ServerInstance "MyComputer\\MainInstance" -Database "AdventureWorks2022" '
        '-Query "SELECT GETDATE() AS TimeOfQuery" -TrustServerCertificate',
        {
            "form": Form.POWERSHELL,
            "host": "MyComputer",
            "instance": "MainInstance",
            "database": "AdventureWorks2022",
            "trust_server_certificate": True,
        },
    ),
    (
        INVOKE_SQLCMD,
        'Invoke-Sqlcmd -ConnectionString "Data Source=MYSERVER;Initial Catalog=MyDatabase;'
        'Integrated Security=True;ApplicationIntent=ReadOnly" -Query "SELECT 1"',
        {"host": "MYSERVER", "database": "MyDatabase", "integrated_security": True},
    ),
    (
        "https://docs.dbatools.io/Invoke-DbaQuery",
        "Invoke-DbaQuery -SqlInstance server\\instance -Query 'SELECT foo FROM bar' "
        "-SqlCredential $cred",
        {"host": "server", "instance": "instance"},
    ),
    (
        INVOKE_SQLCMD,
        "$r = Invoke-Sqlcmd -ServerInstance 'db1,1500' -Username sa -Password 'it''s' "
        "-Encrypt Optional",
        {"host": "db1", "port": 1500, "user": "sa", "password": "it's", "encrypt": "no"},
    ),
    # wrapped as copied from C#, JSON and PowerShell
    (
        "https://learn.microsoft.com/en-us/dotnet/csharp/programming-guide/strings/",
        '"Server=db1\\\\SALES;Database=x;User ID=app;Password=\\"a;b\\"";',
        {"host": "db1", "instance": "SALES", "password": "a;b", "user": "app"},
    ),
    (
        "https://learn.microsoft.com/en-us/dotnet/csharp/programming-guide/strings/",
        '@"Server=db1\\SALES;Password=""q"";User ID=app"',
        {"host": "db1", "instance": "SALES", "password": "q"},  # ADO.NET's "…" quoting
    ),
    (
        "https://learn.microsoft.com/en-us/aspnet/core/fundamentals/configuration/",
        '{\n  "ConnectionStrings": {\n    "DefaultConnection": "Server=(localdb)\\\\mssqllocaldb;'
        'Database=aspnet-app;Trusted_Connection=True;MultipleActiveResultSets=true",\n'
        '    "Reporting": "Server=rep1;Database=r"\n  }\n}',
        {
            "host": "(localdb)",
            "instance": "mssqllocaldb",
            "localdb": True,
            "database": "aspnet-app",
        },
    ),
    (
        "https://learn.microsoft.com/en-us/aspnet/core/fundamentals/configuration/",
        '"DefaultConnection": "Server=db1;Database=x",',
        {"host": "db1", "database": "x"},
    ),
    (
        "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/about/about_quoting_rules",
        "'Server=db1;Password=it''s'",
        {"host": "db1", "password": "it's"},
    ),
    (
        "https://learn.microsoft.com/en-us/dotnet/api/system.data.sqlclient.sqlconnection.connectionstring",
        'connection.ConnectionString = "Data Source=MSSQL1;Initial Catalog=AdventureWorks;"'
        '+ "Integrated Security=true;";',
        {"host": "MSSQL1", "database": "AdventureWorks"},
    ),
    (
        "https://learn.microsoft.com/en-us/sql/tools/sqllocaldb-utility",
        "(localdb)\\MSSQLLocalDB",
        {"localdb": True, "port": None},
    ),
]

IGNORED = ("form", "text", "notes", "origins", "password")


def _fields(target: Target) -> dict[str, Any]:
    return {
        f.name: getattr(target, f.name) for f in dataclasses.fields(target) if f.name not in IGNORED
    }


@pytest.mark.parametrize(
    ("source", "text", "expected"), FORMS, ids=[f"{i:02d}" for i in range(len(FORMS))]
)
def test_each_form_reads_and_round_trips(source: str, text: str, expected: dict[str, Any]) -> None:
    target = parse_target(text)
    for name, value in expected.items():
        if name == "password":
            assert target.password is not None and target.password.reveal() == value, source
        elif name == "port_from":
            assert target.origins["port"].source.value == value, source
        else:
            assert getattr(target, name) == value, (source, name, getattr(target, name))
    canonical = target.to_adonet()
    again = parse_target(canonical)
    assert _fields(again) == _fields(target), (canonical, source)
    if target.password is not None:
        secret = target.password.reveal()
        assert secret not in canonical and secret not in target.text
        assert secret not in [str(v) for v in target.to_json().values()]
    if target.password is not None:
        assert PLACEHOLDER in target.text


@pytest.mark.parametrize(
    "url",
    [text for _, text, _ in FORMS if text.startswith("mssql+pyodbc://")],
)
def test_sqlalchemy_itself_reads_each_url_the_same(url: str) -> None:
    """What SQLAlchemy hands pyodbc, parsed as the ODBC string it is, is the same target."""
    parsed = make_url(url)
    dialect = parsed.get_dialect()()
    (odbc,), _ = dialect.create_connect_args(parsed)
    ours, theirs = parse_target(url), parse_target(odbc)
    assert _fields(ours) | {"port": None} == _fields(theirs) | {"port": None} or (
        ours.dsn and ours.dsn == theirs.dsn
    ), (odbc, ours.to_adonet())
    if ours.port_given:
        assert f",{ours.port}" in odbc
    if ours.password is not None:
        assert theirs.password == ours.password


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        # SQLAlchemy hands the host on as written: %5C stays %5C (checked against SQLAlchemy below)
        ("mssql+pyodbc://sa:pw@db1%5CSQLEXPRESS/app?driver=x", 25, "%5C is not a backslash"),
        # Go's net/url refuses a backslash in the host; the instance is the path there
        ("sqlserver://sa:pw@db1\\SQLEXPRESS?database=app", 22, "Go's URL parser refuses"),
        ('"ConnectionStrings": {"A": 1}', 22, "holds no connection string"),
        ("Invoke-Sqlcmd -ServerInstance -Query 'x'", 15, "-ServerInstance has no value"),
        ('"Server=db1;Password=\\"x"', 22, "unterminated"),
    ],
)
def test_what_the_libraries_refuse_is_refused_with_a_position(
    text: str, where: int, words: str
) -> None:
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    assert words in str(caught.value)
    assert caught.value.position == where, str(caught.value)


def test_sqlalchemy_really_passes_percent_5c_on_as_written() -> None:
    parsed = make_url("mssql+pyodbc://sa:pw@db1%5CSQLEXPRESS/app?driver=x")
    (odbc,), _ = parsed.get_dialect()().create_connect_args(parsed)
    assert "Server=db1%5CSQLEXPRESS" in odbc


def test_a_url_password_never_shows_however_short() -> None:
    for text in (
        "mssql+pyodbc://sa:pw@db1/app?driver=x",
        "sqlserver://sa:pw@db1?database=app",
        "mssql://sa:pw@db1/app",
        "Invoke-Sqlcmd -ServerInstance db1 -Username sa -Password pw",
    ):
        target = parse_target(text)
        assert ":pw@" not in target.text and " pw" not in target.text, target.text
        assert target.password is not None and target.password.reveal() == "pw"
