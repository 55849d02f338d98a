"""Real error texts from many drivers and platforms, and what `explain` must make of them.

Every text below is copied from the public source named beside it (an issue thread, a
documentation page, a driver's message table); nothing is typed up from memory. Where a source
quotes a message template (`{0}`, `%.*ls`), the template itself is the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tui.knowledge.causes import Layer
from tui.knowledge.causes import RootCause as R
from tui.knowledge.explain.reader import explain

GH = "https://github.com/"
NETWORK = {R.NAME_NOT_RESOLVED, R.HOST_UNREACHABLE, R.PORT_REFUSED, R.PORT_FILTERED}


@dataclass(frozen=True)
class Case:
    source: str
    text: str
    layer: Layer | None
    top: R | None  # the first candidate; None when no candidate is expected
    includes: frozenset[R] = field(default_factory=frozenset)
    excludes: frozenset[R] = field(default_factory=frozenset)
    facts: tuple[tuple[str, str], ...] = ()


def case(
    source: str,
    text: str,
    layer: Layer | None,
    top: R | None,
    includes: set[R] | None = None,
    excludes: set[R] | None = None,
    **facts: str,
) -> Case:
    return Case(
        source,
        text,
        layer,
        top,
        frozenset(includes or ()),
        frozenset(excludes or ()),
        tuple(sorted(facts.items())),
    )


CASES: list[Case] = [
    # --- OLE DB linked servers (the seed) and SSMS ---------------------------------------------
    case(
        "https://blog.sqlauthority.com/2017/12/28/sql-server-linked-server-error-tcp-provider-no-"
        "connection-made-target-machine-actively-refused/",
        "TCP Provider: No connection could be made because the target machine actively refused "
        "it.\nOLE DB provider “SQLNCLI11” for linked server returned message “Login timeout "
        "expired”.\nOLE DB provider “SQLNCLI11” for linked server “” returned message “A "
        "network-related or instance-specific error has occurred while establishing a connection "
        "to SQL Server. Server is not found or not accessible. Check if instance name is correct "
        "and if SQL Server is configured to allow remote connections. For more information see "
        "SQL Server Books Online.”. (Microsoft SQL Server, Error: 10061)",
        Layer.TCP,
        R.PORT_REFUSED,
        excludes={R.NAME_NOT_RESOLVED, R.PORT_FILTERED},
    ),
    case(
        "https://learn.microsoft.com/en-au/troubleshoot/sql/database-engine/connect/"
        "connection-to-linked-server-failed",
        "TCP Provider: An existing connection was forcibly closed by the remote host.\nOLE DB "
        'provider "MSOLEDBSQL" for linked server "<LinkedServerName>" returned message "Client '
        'unable to establish connection". (Microsoft SQL Server, Error: 10054)',
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    case(
        "https://learn.microsoft.com/en-us/previous-versions/sql/sql-server-2008-r2/"
        "ms190181(v=sql.105)",
        '"Timeout expired. The timeout period elapsed prior to completion of the operation or '
        'the server is not responding. (Microsoft SQL Server, Error: -2)"',
        Layer.TCP,
        R.PORT_FILTERED,
        includes={R.BROWSER_UNAVAILABLE},
    ),
    # --- Microsoft ODBC on Windows and Linux -----------------------------------------------------
    case(
        GH + "dbt-msft/dbt-sqlserver/issues/86",
        "Database Error ('08001', '[08001] [Microsoft][ODBC Driver 17 for SQL Server]TCP "
        "Provider: No connection could be made because the target machine actively refused "
        "it.\\r\\n (10061) (SQLDriverConnect); [08001] [Microsoft][ODBC Driver 17 for SQL "
        "Server]Login timeout expired (0); [08001] [Microsoft][ODBC Driver 17 for SQL Server]A "
        "network-related or instance-specific error has occurred while establishing a connection "
        "to SQL Server. Server is not found or not accessible. Check if instance name is correct "
        "and if SQL Server is configured to allow remote connections. For more information see "
        "SQL Server Books Online. (10061)'",
        Layer.TCP,
        R.PORT_REFUSED,
        excludes=NETWORK - {R.PORT_REFUSED},
    ),
    case(
        GH + "dbgate/dbgate/issues/620",
        "Error: Error: [Microsoft][ODBC Driver 17 for SQL Server]TCP Provider: No connection "
        "could be made because the target machine actively refused it.\n,Error: [Microsoft][ODBC "
        "Driver 17 for SQL Server]Login timeout expired,Error: [Microsoft][ODBC Driver 17 for SQL "
        "Server]A network-related or instance-specific error has occurred while establishing a "
        "connection to SQL Server.",
        Layer.TCP,
        R.PORT_REFUSED,
    ),
    case(
        GH + "mkleehammer/pyodbc/issues/1319",
        "('08001', '[08001] [Microsoft][ODBC Driver 18 for SQL Server]TCP Provider: The wait "
        "operation timed out.\\r\\n (258) (SQLDriverConnect); [08001] [Microsoft][ODBC Driver 18 "
        "for SQL Server]Login timeout e",
        Layer.TCP,
        R.PORT_FILTERED,
        includes={R.SERVER_UNRESPONSIVE},
    ),
    case(
        GH + "microsoft/msphpsql/issues/1405",
        "Complete error: Array ( [0] => Array ( [0] => HYT00 [SQLSTATE] => HYT00 [1] => 0 [code] "
        "=> 0 [2] => [Microsoft][ODBC Driver 17 for SQL Server]Login timeout expired [message] => "
        "[Microsoft][ODBC Driver 17 for SQL Server]Login timeout expired ) [1] => Array ( [0] => "
        "08001 [SQLSTATE] => 08001 [1] => 258 [code] => 258 [2] => [Microsoft][ODBC Driver 17 "
        "for SQL Server]TCP Provider: Error code 0x102 [message] => [Microsoft][ODBC Driver 17 "
        "for SQL Server]TCP Provider: Error code 0x102 )",
        Layer.TCP,
        R.PORT_FILTERED,
        includes={R.SERVER_UNRESPONSIVE},
    ),
    case(
        "https://gist.github.com/ovnicraft/ea149d74217b20d6c2ab88b9a7d95068",
        "Sqlcmd: Error: Microsoft ODBC Driver 13 for SQL Server : Login timeout expired. | |\n"
        "Sqlcmd: Error: Microsoft ODBC Driver 13 for SQL Server : TCP Provider: Error code 0x102. "
        "| |",
        Layer.TCP,
        R.PORT_FILTERED,
    ),
    case(
        GH + "microsoft/msphpsql/issues/1023",
        "Sqlcmd: Error: Microsoft ODBC Driver 18 for SQL Server : Login timeout expired.\nSqlcmd: "
        "Error: Microsoft ODBC Driver 18 for SQL Server : TCP Provider: Error code 0x2AF9.",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
    ),
    case(
        GH + "microsoft/homebrew-mssql-release/issues/99",
        "[S1T00][Microsoft][ODBC Driver 18 for SQL Server]Login timeout expired\n[08001]"
        "[Microsoft][ODBC Driver 18 for SQL Server]TCP Provider: Error code 0x2AF9\n[08001]"
        "[Microsoft][ODBC Driver 18 for SQL Server]A network-related or instance-specific error "
        "has occurred while establishing a connection to <sqlpcrmpprd01.database.windows.net>.",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
    ),
    case(
        "https://pastebin.com/WUQsK0XZ",
        "- Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server :\n- Login timeout expired.\n- "
        "Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server :\n- TCP Provider: Error code "
        "0x2749.",
        Layer.TCP,
        R.PORT_REFUSED,
        includes={R.HOST_UNREACHABLE},
        excludes={R.NAME_NOT_RESOLVED},
    ),
    case(
        GH + "microsoft/msphpsql/issues/657",
        "In php:\n[unixODBC][Microsoft][ODBC Driver 13 for SQL Server]TCP Provider: Error code "
        "0x2746\nIn console:\nSqlcmd: Error: Microsoft ODBC Driver 13 for SQL Server : TCP "
        "Provider: Error code 0x2746.\nSqlcmd: Error: Microsoft ODBC Driver 13 for SQL Server : "
        "Client unable to establish connection.",
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "hasura/graphql-engine/issues/7709",
        "[Microsoft][ODBC Driver 17 for SQL Server]TCP Provider: Error code 0x2746[Microsoft]"
        "[ODBC Driver 17 for SQL Server]Client unable to establish connection[Microsoft][ODBC "
        "Driver 17 for SQL Server]Clien",
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        GH + "matt-bertoncello/python-pyodbc-buildpack/issues/4",
        "('08001', '[08001] [Microsoft][ODBC Driver 17 for SQL Server]TCP Provider: Error code "
        "0x2746 (10054) (SQLDriverConnect)')",
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        GH + "MicrosoftDocs/sql-docs/issues/6532",
        "Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server: SSL Provider: [error: 1425F102: "
        "SSL routines: ssl_choose_client_version: unsupported protocol].\nSqlcmd: Error: "
        "Microsoft ODBC Driver 17 for SQL Server: Client unable to establish connection.",
        Layer.TLS,
        R.TLS_FAILED,
        excludes={R.ENCRYPTION_MISMATCH, R.PORT_REFUSED},
    ),
    case(
        GH + "kristijanhusak/vim-dadbod-ui/issues/146",
        "Error connecting to db mssConnection: DB exec error: Sqlcmd: Error: Microsoft\nODBC "
        "Driver 18 for SQL Server : SSL Provider: [error:0A000086:SSL routines::\ncertificate "
        "verify failed:self-signed certificate].^@Sqlcmd: Error:\nMicrosoft ODBC Driver 18 for "
        "SQL Server : Client unable to establish      @@@",
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        GH + "dbt-msft/dbt-sqlserver/issues/219",
        ">Database Error ('08001', '[08001] [Microsoft][ODBC Driver 18 for SQL Server]SSL "
        "Provider: [error:1416F086:SSL routines:tls_process_server_certificate:certificate "
        "verify failed:self signed certificate",
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        GH + "microsoft/mssql-django/issues/233",
        "'The certificate chain was issued by an authority that is not trusted'",
        Layer.TLS,
        R.TLS_FAILED,
        excludes={R.ENCRYPTION_MISMATCH},
    ),
    case(
        GH + "microsoft/msphpsql/issues/1003",
        "Error:SQLSTATE[08001]: [Microsoft][ODBC Driver 17 for SQL Server]Encryption not "
        "supported on the client.",
        Layer.TLS,
        R.ENCRYPTION_MISMATCH,
    ),
    case(
        GH + "microsoft/msphpsql/issues/1509",
        'sqlsrv_connect fails with  "Client unable to establish connection because an error was '
        "encountered during handshakes before login. Common causes include client attempting to "
        "connect to an unsupported version of SQL Server, server too busy to accept new "
        "connections or a resource limitation (memory or maximum allowed connections) on the "
        'server."',
        Layer.TLS,
        R.TLS_FAILED,
        includes={R.SERVER_UNRESPONSIVE},
        excludes=NETWORK,
    ),
    case(
        GH + "microsoft/mssql-docker/issues/440",
        " Client unable to establish connection due to prelogin failure:\nSqlcmd: Error: "
        "Microsoft ODBC Driver 13 for SQL Server : Client unable to establish connection because "
        "an error was encountered during handshakes before login.",
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "mkleehammer/pyodbc/issues/788",
        "('08001', '[08001] [Microsoft][ODBC SQL Server Driver][DBNETLIB]SSL Security error (18) "
        "(SQLDriverConnect); [08001] [Microsoft][ODBC SQL Server Driver][DBNETLIB]ConnectionOpen "
        "(SECDoClientHandshake()). (772)')",
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        GH + "mkleehammer/pyodbc/issues/569",
        "Error: ('HY000', '[HY000] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Cannot "
        'open server "<companyname>.com" requested by the login.  The login failed. (40532) '
        "(SQLDriverConnect); [HY000] [Microsoft][ODBC Driver 17 for SQL Server]Invalid connection "
        "string attribute (0)')",
        Layer.LOGIN,
        R.LOGIN_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "jeancochrane/pytest-flask-sqlalchemy/issues/58",
        "E       sqlalchemy.exc.OperationalError: (pyodbc.OperationalError) ('HYT00', '[HYT00] "
        "[Microsoft][ODBC Driver 17 for SQL Server]Login timeout expired (0) (SQLDriverConnect)')",
        Layer.TCP,
        R.PORT_FILTERED,
    ),
    case(
        GH + "yorek/ssis-dashboard/issues/36",
        "pyodbc.OperationalError: ('HYT00', '[HYT00] [Microsoft][ODBC SQL Server Driver]Login "
        "timeout expired (0) (SQLDriverConnect)')",
        Layer.TCP,
        R.PORT_FILTERED,
        includes={R.BROWSER_UNAVAILABLE},
    ),
    case(
        GH + "albertodonato/query-exporter/issues/141",
        "(pyodbc.OperationalError) ('HYT00', '[HYT00] [unixODBC][Microsoft][ODBC Driver 17 for "
        "SQL Server]Login timeout expired (0) (SQLDriverConnect)')",
        Layer.TCP,
        R.PORT_FILTERED,
    ),
    # --- Logins and databases --------------------------------------------------------------------
    case(
        GH + "yehoshuadimarsky/bcpandas/issues/28",
        "sqlalchemy.exc.InterfaceError: (pyodbc.InterfaceError) ('28000', '[28000] "
        "[Microsoft][ODBC Driver 17 for SQL Server][SQL Server]用户 \\'sa\\' 登录失败。 (18456) "
        "(SQLDriverConnect); [28000] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]"
        '无法打开登录所请求的数据库 "qq"。登录失败。 (4060)',
        Layer.DATABASE,
        R.DATABASE_UNAVAILABLE,
        excludes={R.LOGIN_FAILED, *NETWORK},
    ),
    case(
        GH + "Resgrid/Core/issues/228",
        "web-1         | Error Number:4060,State:1,Class:11\nweb-1         | "
        'System.Data.SqlClient.SqlException (0x80131904): Cannot open database "Resgrid" '
        "requested by the login. The login failed.\nweb-1         | Login failed for user 'sa'.",
        Layer.DATABASE,
        R.DATABASE_UNAVAILABLE,
        excludes={R.LOGIN_FAILED},
        database="Resgrid",
    ),
    case(
        GH + "Resgrid/Core/issues/228",
        "Offline laptop / Failed to open the explicitly specified database 'Resgrid'",
        Layer.DATABASE,
        R.DATABASE_UNAVAILABLE,
        excludes={R.LOGIN_FAILED},
    ),
    case(
        GH + "senzing-garage/docker-compose-demo/issues/105",
        "Reason           : 1006E|Database Connection Failure '(4060:42000[Microsoft][ODBC "
        'Driver 17 for SQL Server][SQL Server]Cannot open database "G2" requested by the login. '
        "The login failed.",
        Layer.DATABASE,
        R.DATABASE_UNAVAILABLE,
        database="G2",
    ),
    case(
        GH + "hhyo/Archery/pull/1060",
        "('42000', '[42000] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Cannot open "
        "user default database. Login failed. (4064) (SQLDriverConnect)')",
        Layer.DATABASE,
        R.DATABASE_UNAVAILABLE,
    ),
    case(
        GH + "davidcomerford/pyodbc-mssql-lambda-layer/issues/4",
        '"errorMessage": "(\'28000\', \\"[28000] [Microsoft][ODBC Driver 18 for SQL Server][SQL '
        "Server]Login failed for user 'admin'. (18456) (SQLDriverConnect)\\\")\",",
        Layer.LOGIN,
        R.LOGIN_FAILED,
        includes={R.DATABASE_UNAVAILABLE},
        excludes={R.TLS_FAILED, R.ENCRYPTION_MISMATCH, *NETWORK},
        user="admin",
    ),
    case(
        GH + "mkleehammer/pyodbc/issues/800",
        "InterfaceError: ('28000', \"[28000] [Microsoft][ODBC Driver 17 for SQL Server][SQL "
        "Server]Login failed for user '<token-identified principal>'. (18456) (SQLDriverConnect)",
        Layer.LOGIN,
        R.LOGIN_FAILED,
    ),
    case(
        GH + "microsoft/mssql-python/issues/532",
        "RuntimeError: [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Login failed for "
        "user ''.",
        Layer.LOGIN,
        R.LOGIN_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "pymssql/pymssql/issues/804",
        "pymssql._pymssql.OperationalError: (18456, b\"Login failed for user 'edpc_posgp'.DB-Lib "
        r"error message 20018, severity 14:\nGeneral SQL Server error: Check messages from the "
        r"SQL Server\nDB-Lib error message 20002, severity 9:\nAdaptive Server connection failed "
        r'(GSSQL009HZ)\n")',
        Layer.LOGIN,
        R.LOGIN_FAILED,
        includes={R.DATABASE_UNAVAILABLE},
        excludes=NETWORK,
    ),
    case(
        GH + "R3dy/capsulecorp-pentest/issues/37",
        "(provider: TCP Provider, error: 40 - Could not open a connection to SQL Server)\nFrom "
        "gohan:\nsqlcmd:Error: Microsoft ODBC Driver 13 for SQL Server : Login failed for user "
        "'sa'..",
        Layer.LOGIN,
        R.LOGIN_FAILED,
        excludes={R.PORT_REFUSED},
    ),
    case(
        GH + "NebrasAlshaghl/DB/blob/c654a26df63b6ddc89e18e1c02097932b84dfbc4/Log/ERRORLOG.6",
        "2022-03-22 02:37:34.70 Logon       Error: 18456, Severity: 14, State: 58.\n2022-03-22 "
        "02:37:34.70 Logon       Login failed for user 'User1'. Reason: An attempt to login using "
        "SQL authentication failed. Server is configured for Integrated authentication only. "
        "[CLIENT: <local machine>]",
        Layer.LOGIN,
        R.LOGIN_FAILED,
        excludes={R.DATABASE_UNAVAILABLE},
    ),
    case(
        GH + "elastic/integrations/blob/a6f7f6f8668fbf9941a984e6d9b6e5b40c5899de/packages/"
        "microsoft_sqlserver/data_stream/log/_dev/test/pipeline/test-sqlserver.log",
        "2022-07-08 05:51:34.07 Logon       Error: 18456, Severity: 14, State: 8.\n2022-07-08 "
        "05:51:34.07 Logon       Login failed for user 'sa'. Reason: Password did not match that "
        "for the login provided. [CLIENT: 172.20.0.1]",
        Layer.LOGIN,
        R.LOGIN_FAILED,
        excludes={R.DATABASE_UNAVAILABLE},
    ),
    case(
        GH + "elastic/integrations/blob/63acc4dc350997579a4ff8cb492c815eccb0248e/packages/"
        "microsoft_sqlserver/data_stream/log/_dev/test/pipeline/test-sqlserver-2025.log",
        "2026-04-08 12:38:29.56 Logon       Error: 18456, Severity: 14, State: 7.\n2026-04-08 "
        "12:38:29.56 Logon       Login failed for user 'SA'. Reason: An error occurred while "
        "evaluating the password. [CLIENT: 172.25.0.2]",
        Layer.LOGIN,
        R.LOGIN_FAILED,
    ),
    case(
        GH + "MicrosoftDocs/SupportArticles-docs/blob/main/support/sql/database-engine/connect/"
        "cannot-connect-remotely.md",
        "Error: 18456, Severity: 14, State: 11.\nLogin failed for user 'MyDomain\\TestAcc'. "
        "Reason: Token-based server access validation failed with an infrastructure error. Check "
        "for previous errors.",
        Layer.LOGIN,
        R.LOGIN_FAILED,
    ),
    *[
        case(
            GH + "MicrosoftDocs/sql-docs/blob/65c1fac6496ba1da0b36784d2151378767c553d0/docs/"
            "relational-databases/errors-events/includes/"
            "database-engine-events-and-errors-18000-18999.md",
            template,
            Layer.LOGIN,
            R.LOGIN_FAILED,
            excludes={R.DATABASE_UNAVAILABLE, *NETWORK},
        )
        for template in (
            "Login failed for user '%.*ls'. Reason: The account is disabled.%.*ls",
            "Login failed for user '%.*ls' because the account is currently locked out. The "
            "system administrator can unlock it. %.*ls",
            "Login failed for user '%.*ls'. Reason: The password of the account has expired.%.*ls",
            "Login failed for user '%.*ls'. Reason: The password of the account must be "
            "changed.%.*ls",
        )
    ],
    # --- Kerberos --------------------------------------------------------------------------------
    case(
        GH + "v2ray/discussion/issues/252",
        "提示：\nThe target principal name is incorrect. Cannot generate SSPI context.",
        Layer.KERBEROS,
        R.LOGIN_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "dataplat/dbatools/issues/7545",
        "Exception             : System.Exception: Failed to generate SSPI context.\n       "
        "---> Microsoft.Data.SqlClient.SqlException (0x80131904): Failed to generate SSPI "
        "context.",
        Layer.KERBEROS,
        R.LOGIN_FAILED,
    ),
    # --- SqlClient (.NET) ------------------------------------------------------------------------
    case(
        GH + "dotnet/SqlClient/issues/2075",
        "Message=A network-related or instance-specific error occurred while establishing a "
        "connection to SQL Server. The server was not found or was not accessible. Verify that "
        "the instance name is correct and that SQL Server is configured to allow remote "
        "connections. (provider: TCP Provider, error: 0 - No connection could be made because "
        "the target machine actively refused it.)",
        Layer.TCP,
        R.PORT_REFUSED,
    ),
    case(
        GH + "dotnet/SqlClient/issues/1522",
        "Microsoft.Data.SqlClient.SqlException (0x80131904): A connection was successfully "
        "established with the server, but then an error occurred during the login process. "
        "(provider: SSL Provider, error: 0 - The target principal name is incorrect.)\n ---> "
        "System.ComponentModel.Win32Exception (0x80090322): The target principal name is "
        "incorrect.",
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "MicrosoftDocs/dynamics-365-unified-operations-public/issues/1397",
        "System.Data.SqlClient.SqlException (0x80131904): A connection was successfully "
        "established with the server, but then an error occurred during the login process. "
        "(provider: SSL Provider, error: 0 - The target principal name is incorrect.) ---> "
        "System.ComponentModel.Win32Exception (0x80004005): The target principal name is "
        "incorrect",
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        GH + "dotnet/SqlClient/issues/1412",
        "A connection was successfully established with the server, but then an error occurred "
        "during the pre-login handshake. (provider: TCP Provider, error: 35 - An internal "
        "exception was caught)",
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "microsoft/azuredatastudio/issues/20192",
        "(provider: TCP Provider, error: 35 - An internal exception was caught)\n ---> "
        "System.Net.Internals.SocketExceptionFactory+ExtendedSocketException (00000005, "
        "0xFFFDFFFF): Name or service not known",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
    ),
    case(
        GH + "Resgrid/Core/issues/168",
        "Microsoft.Data.SqlClient.SqlException (0x80131904): A network-related or "
        "instance-specific error occurred while establishing a connection to SQL Server. The "
        "server was not found or was not accessible. Verify that the instance name is correct "
        "and that SQL Server is configured to allow remote connections. (provider: TCP Provider, "
        "error: 35 - An internal exception was caught)\nworker-1    |        ---> "
        "System.Net.Sockets.SocketException (00000005, 0xFFFDFFFF): Name or service not known",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
    ),
    case(
        GH + "microsoft/azuredatastudio/issues/454",
        "System.Data.SqlClient.SqlException (0x80131904): A connection was successfully "
        "established with the server, but then an error occurred during the login process. "
        "(provider: TCP Provider, error: 35 - An internal exception was caught) ---> "
        "System.IO.IOException: Unable to read data from the transport connection: Connection "
        "reset by peer. ---> System.Net.Sockets.SocketException: Connection reset by peer",
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "microsoft/azuredatastudio/issues/191",
        "System.Data.SqlClient.SqlException (0x80131904): A network-related or instance-specific "
        "error occurred while establishing a connection to SQL Server. The server was not found "
        "or was not accessible. Verify that the instance name is correct and that SQL Server is "
        "configured to allow remote connections. (provider: TCP Provider, error: 35 - An "
        "internal exception was caught) ---> System.AggregateException: One or more errors "
        "occurred. (Connection refused 127.0.0.1:1433) ---> "
        "System.Net.Internals.SocketExceptionFactory+ExtendedSocketException: Connection refused "
        "127.0.0.1:1433",
        Layer.TCP,
        R.PORT_REFUSED,
    ),
    case(
        GH + "microsoft/azuredatastudio/issues/2164",
        "System.Exception: Cannot connect to SQL Server Browser. Ensure SQL Server Browser has "
        "been started. ---> System.Net.Internals.SocketExceptionFactory+ExtendedSocketException: "
        "Resource temporarily unavailable\n   at System.Net.Dns.InternalGetHostByName(String "
        "hostName)",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
        includes={R.BROWSER_UNAVAILABLE},
    ),
    case(
        GH + "dotnet/SqlClient/issues/4418",
        "Connection timeout after upgrading to the latest version: Connection Timeout Expired.  "
        "The timeout period elapsed while attempting to consume the pre-login handshake "
        "acknowledgement.  This could be because the pre-login handshake failed or the server "
        "was unable to respond back in time.  The duration spent while attempting to connect to "
        "this server was - [Pre-Login] initialization=16155; handshake=33; ",
        Layer.SERVER,
        R.SERVER_UNRESPONSIVE,
        excludes=NETWORK,
    ),
    case(
        GH + "dotnet/corefx/issues/9719",
        "System.Data.SqlClient.SqlException: Connection Timeout Expired.  The timeout period "
        "elapsed during the post-login phase.  The connection could have timed out while waiting "
        "for server to complete the login process and respond; Or it could have timed out while "
        "attempting to create multiple active connections.  The duration spent while attempting "
        "to connect to this server was - [Pre-Login] initialization=159; handshake=578; [Login] "
        "initialization=9; authentication=40; [Post-Login] complete=14062;  ---> "
        "System.ComponentModel.Win32Exception: Unknown error 258",
        Layer.SERVER,
        R.SERVER_UNRESPONSIVE,
        excludes={R.LOGIN_FAILED, *NETWORK},
    ),
    case(
        GH + "appveyor/website/issues/786",
        "System.Data.SqlClient.SqlException : A network-related or instance-specific error "
        "occurred while establishing a connection to SQL Server. The server was not found or was "
        "not accessible. Verify that the instance name is correct and that SQL Server is "
        "configured to allow remote connections. (provider: TCP Provider, error: 25 - Connection "
        "string is not valid)",
        Layer.NAME,
        R.BAD_INPUT,
    ),
    case(
        "https://support.microsoft.com/en-us/topic/fix-communication-that-uses-an-md5-hash-"
        "algorithm-fails-when-you-use-tls-1-2-in-sql-server-de67b04f-4f95-bcbb-24a7-575a91af0eb7",
        "Connection handshake failed. An OS call failed: (80090331) 0x80090331(The client and "
        "server cannot communicate, because they do not possess a common algorithm.). State "
        "58.'.",
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        "https://learn.microsoft.com/en-us/troubleshoot/sql/database-engine/connect/"
        "ssl-errors-after-tls-1-2",
        "A connection was successfully established with the server, but then an error occurred "
        "during the login process. (provider: SSL Provider, error: 0 - The connection was "
        "forcibly closed by remote host 10054) Microsoft SQL Server, Error: 233.",
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    # --- JDBC ------------------------------------------------------------------------------------
    case(
        GH + "microsoft/mssql-jdbc/issues/1157",
        "com.microsoft.sqlserver.jdbc.SQLServerException: The TCP/IP connection to the host "
        'localhost, port 1433 has failed. Error: "Connection refused: connect. Verify the '
        "connection properties. Make sure that an instance of SQL Server is running on the host "
        "and accepting TCP/IP connections at the port. Make sure that TCP connections to the "
        'port are not blocked by a firewall.".',
        Layer.TCP,
        R.PORT_REFUSED,
        excludes={R.PORT_FILTERED},
        host="localhost",
        port="1433",
    ),
    case(
        GH + "bezkoder/spring-boot-sql-server/issues/2",
        'The TCP/IP connection to the host localhost, port 1433 has failed. Error: "connect timed '
        "out. Verify the connection properties. Make sure that an instance of SQL Server is "
        "running on the host and accepting TCP/IP connections at the port. Make sure that TCP "
        'connections to the port are not blocked by a firewall.".',
        Layer.TCP,
        R.PORT_FILTERED,
        excludes={R.NAME_NOT_RESOLVED},
    ),
    case(
        GH + "dbeaver/dbeaver/issues/11702",
        'The TCP/IP connection to the host localhost, port 1433 has failed. Error: "Connection '
        "timed out: no further information.. Verify the connection properties.",
        Layer.TCP,
        R.PORT_FILTERED,
    ),
    case(
        GH + "microsoft/mssql-jdbc/issues/1462",
        "The connection to the host localhost, named instance sqlexpress failed. Error: "
        '"java.net.SocketTimeoutException: Receive timed out". Verify the server and instance '
        "names and check that no firewall is blocking UDP traffic to port 1434.  For SQL Server "
        "2005 or later, verify that the SQL Server Browser Service is running on the host.",
        Layer.BROWSER,
        R.BROWSER_UNAVAILABLE,
        host="localhost",
        instance="sqlexpress",
    ),
    case(
        GH + "eventuate-foundation/eventuate-cdc/issues/159",
        'Caused by: com.microsoft.sqlserver.jdbc.SQLServerException: "encrypt" property is set '
        'to "true" and "trustServerCertificate" property is set to "false" but the driver could '
        "not establish a secure connection to SQL Server by using Secure Sockets Layer (SSL) "
        "encryption: Error: PKIX path building failed: "
        "sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid "
        "certification path to requested target. ClientConnectionId:9e7294ea-f8ca-4249-8dff-"
        "46194b49d008",
        Layer.TLS,
        R.TLS_FAILED,
        excludes={R.ENCRYPTION_MISMATCH, *NETWORK},
    ),
    case(
        GH + "microsoft/mssql-jdbc/issues/879",
        "com.microsoft.sqlserver.jdbc.SQLServerException: The driver could not establish a "
        "secure connection to SQL Server by using Secure Sockets Layer (SSL) encryption. Error: "
        '"Unexpected rethrowing".',
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        GH + "metabase/metabase/issues/1854",
        "`Failed to connect to database: java.sql.SQLException: Network error IOException: "
        "Connection refused: connect`",
        Layer.TCP,
        R.PORT_REFUSED,
    ),
    *[
        case(
            GH + "microsoft/mssql-jdbc/blob/609bb36ffe74ff0f474c81a1158c153f59035088/docs/"
            "mssql-jdbc-connection-error-category-mapping.md",
            template,
            layer,
            top,
        )
        for template, layer, top in (
            (
                "The server {0} is not configured to listen with TCP/IP.",
                Layer.BROWSER,
                R.TCP_DISABLED,
            ),
            (
                "The driver received an unexpected pre-login response. Verify the connection "
                "properties and check that an instance of SQL Server is running on the host and "
                "accepting TCP/IP connections at the port. This driver can be used only with SQL "
                "Server 2005 or later.",
                Layer.SERVER,
                R.NOT_SQL_SERVER,
            ),
            (
                "SQL Server did not return a response. The connection has been closed.",
                Layer.SERVER,
                R.SERVER_UNRESPONSIVE,
            ),
            (
                "The driver could not establish a secure connection to SQL Server by using Secure "
                "Sockets Layer (SSL) encryption. The application requested encryption but the "
                "server is not configured to support SSL.",
                Layer.TLS,
                R.ENCRYPTION_MISMATCH,
            ),
            (
                'Failed to validate the server name "{0}"in a certificate during Secure Sockets '
                'Layer (SSL) initialization. Name in certificate "{1}"',
                Layer.TLS,
                R.TLS_FAILED,
            ),
        )
    ],
    # --- tedious / node-mssql --------------------------------------------------------------------
    case(
        GH + "tediousjs/node-mssql/issues/109",
        "errorConnectionError: Failed to connect to LP1721:1433 - connect ECONNREFUSED",
        Layer.TCP,
        R.PORT_REFUSED,
        host="LP1721",
        port="1433",
    ),
    case(
        GH + "cnect/sails-sqlserver/issues/2",
        "{ [ConnectionError: Failed to connect to 10.65.11.135:1433 - connect ECONNREFUSED]\n  "
        "name: 'ConnectionError',\n  message: 'Failed to connect to 10.65.11.135:1433 - connect "
        "ECONNREFUSED',\n  code: 'ESOCKET' }",
        Layer.TCP,
        R.PORT_REFUSED,
    ),
    case(
        GH + "awaragi/prometheus-mssql-exporter/issues/13",
        "Failed to connect to database: Failed to connect to 192.168.0.97:1443 - connect "
        "ECONNREFUSED 192.168.0.97:1443",
        Layer.TCP,
        R.PORT_REFUSED,
        host="192.168.0.97",
        port="1443",
    ),
    case(
        GH + "tediousjs/tedious/issues/786",
        'ConnectionError {message: "Failed to connect to DELETEDSERVERNAME.database.windows.net:'
        '1433 in 15000ms", code: "ETIMEOUT"',
        Layer.TCP,
        R.PORT_FILTERED,
    ),
    case(
        GH + "tediousjs/tedious/issues/655",
        "  message: 'Failed to connect to localhost:undefined in 15000ms',\n  code: 'ETIMEOUT' }",
        Layer.BROWSER,
        R.BROWSER_UNAVAILABLE,
    ),
    case(
        GH + "tediousjs/tedious/issues/1373",
        "Failed to connect to 192.168.122.98:1433 - Could not connect (sequence)",
        Layer.TCP,
        R.PORT_REFUSED,
    ),
    case(
        GH + "tediousjs/node-mssql/issues/1271",
        "  originalError: ConnectionError: Failed to connect to localhost:1433 - self signed "
        "certificate\n      at ConnectionError (F:\\temp\\js\\dbtest\\node_modules\\tedious\\lib"
        "\\errors.js:13:12)\n    code: 'ESOCKET'",
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "TeamSQL/desktop-app/issues/371",
        "Connection failed to the server. Please check your connection settings.**\nServer "
        "requires encryption, set 'encrypt' config option to true.",
        Layer.TLS,
        R.ENCRYPTION_MISMATCH,
    ),
    case(
        GH + "codigoencasa/builderbot/issues/70",
        "error connecting: Error: getaddrinfo ENOTFOUND servidor\n    at "
        "GetAddrInfoReqWrap.onlookup [as oncomplete] (dns.js:67:26)",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
    ),
    case(
        GH + "nodemailer/nodemailer/issues/1527",  # Node's own socket wording (an SMTP client)
        "[0] Error: connect ETIMEDOUT 74.125.133.109:465\n[0]     at "
        "TCPConnectWrap.afterConnect [as oncomplete] (node:net:1284:16) {\n[0]   errno: -4039,\n"
        "[0]   code: 'ESOCKET',\n[0]   syscall: 'connect',",
        Layer.TCP,
        R.PORT_FILTERED,
    ),
    # --- go-mssqldb ------------------------------------------------------------------------------
    case(
        GH + "denisenkom/go-mssqldb/issues/762",
        "2022/07/18 10:15:38 Prepare failed:unable to open tcp connection with host "
        "'my-server:1433': dial tcp 172.16.20.185:1433: connectex: No connection could be made "
        "because the target machine actively refused it.",
        Layer.TCP,
        R.PORT_REFUSED,
        host="my-server",
        port="1433",
    ),
    case(
        GH + "denisenkom/go-mssqldb/issues/796",
        "> unable to open tcp connection with host 'localhost:1443': dial tcp 127.0.0.1:1443: "
        "connect: connection refused",
        Layer.TCP,
        R.PORT_REFUSED,
        port="1443",
    ),
    case(
        GH + "denisenkom/go-mssqldb/issues/137",
        "lookup server=localhost: getaddrinfow: No such host is known",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
    ),
    case(
        GH + "denisenkom/go-mssqldb/issues/176",
        "false Unable to get instances from Sql Server Browser on host ***.55.172.1: read udp "
        "192.168.2.110:54118->***.55.172.1:1434: i/o timeout",
        Layer.BROWSER,
        R.BROWSER_UNAVAILABLE,
    ),
    case(
        "https://github.com/prisma/web/pull/1179",
        "Error: Error in connector: Error querying the database: Error querying the database: "
        "Error querying the database: An error occured during the attempt of performing I/O: No "
        "connection could be made because the target machine actively refused it. (os error "
        "10061)",
        Layer.TCP,
        R.PORT_REFUSED,
    ),
    # --- FreeTDS (tsql, pymssql, tiny_tds, tds_fdw) ----------------------------------------------
    case(
        GH + "tds-fdw/tds_fdw/issues/176",
        "ERROR: DB-Library error: DB #: 20009, DB Msg: Unable to connect: Adaptive Server is "
        "unavailable or does not exist, OS #: 111, OS Msg: Connection refused, Level: 9 SQL "
        "state: HV00L",
        Layer.TCP,
        R.PORT_REFUSED,
        excludes={R.PORT_FILTERED, R.NAME_NOT_RESOLVED},
    ),
    case(
        GH + "tds-fdw/tds_fdw/issues/368",
        "DB-Library error: DB #: 20009, DB Msg: Unable to connect: Adaptive Server is "
        "unavailable or does not exist (VSIS-PMSDB), OS #: 0, OS Msg: Success, Level: 9",
        Layer.TCP,
        R.PORT_REFUSED,
        includes={R.PORT_FILTERED, R.NAME_NOT_RESOLVED, R.BROWSER_UNAVAILABLE},
        host="VSIS-PMSDB",
    ),
    case(
        GH + "rails-sqlserver/tiny_tds/issues/490",
        r"severity 9:\nUnable to connect: Adaptive Server is unavailable or does not exist "
        r"(EFSPC14)\nDB-Lib error message 20009",
        Layer.TCP,
        R.PORT_REFUSED,
        host="EFSPC14",
    ),
    case(
        GH + "hankinsoft/SQLPro/issues/705",
        '"Unable to connect: Host is unavailable or does not exist  (Msg 20009, Level 9)."',
        Layer.TCP,
        R.PORT_REFUSED,
    ),
    case(
        GH + "TablePlus/TablePlus/issues/209",
        "Error: Attempt to set unknown LOGINREC field\nError: Server name not found in "
        "configuration files\nError: Unknown host machine name (192.168.99.100\\HostName:32768)\n"
        "Error: Unable to connect: Adaptive Server is unavailable or does not exist "
        "(192.168.99.100\\HostName:32768)",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
        includes={R.BAD_INPUT},
    ),
    case(
        GH + "FreeTDS/freetds/issues/288",
        'locale charset is "UTF-8"\nusing default charset "UTF-8"\nError 20017 (severity 9):\n'
        "\tUnexpected EOF from the server\nError 20002 (severity 9):\n\tAdaptive Server "
        "connection failed\nThere was a problem connecting to the server",
        Layer.TLS,
        R.TLS_FAILED,
        excludes=NETWORK,
    ),
    case(
        GH + "FreeTDS/freetds/issues/159",
        "<class 'pymssql.OperationalError'> (20017, b'DB-Lib error message 20017, severity "
        r"9:\nUnexpected EOF from the server (x.x.x.x:p)\nDB-Lib error message 20002, severity "
        r"9:\nAdaptive Server connection failed (x.x.x.x:p)\n')",
        Layer.TLS,
        R.TLS_FAILED,
    ),
    case(
        GH + "pymssql/pymssql/issues/707",
        r"pymssql.OperationalError: (20002, b'DB-Lib error message 20002, severity 9:\nAdaptive "
        "Server connection failed ",
        None,
        None,
    ),
    # --- pytds, impacket, sqlserverport ----------------------------------------------------------
    case(
        GH + "denisenkom/pytds/issues/69",
        "pytds.tds.LoginError: (\"Cannot connect to server '132.248.205.170:4101': [Errno 11001] "
        "getaddrinfo failed\", gaierror(11001, 'getaddrinfo failed'))",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
        includes={R.BAD_INPUT},
    ),
    case(
        GH + "denisenkom/pytds/issues/69",
        "and I got this error\n\n`Empty packet doesn make any sense`",
        Layer.SERVER,
        R.NOT_SQL_SERVER,
        excludes=NETWORK,
    ),
    case(
        GH + "ikzelf/zbxdb/issues/25",
        "pytds.tds_base.Error: Client does not have encryption enabled but it is required by "
        "server, enable encryption and try connecting again",
        Layer.TLS,
        R.ENCRYPTION_MISMATCH,
        excludes=NETWORK,
    ),
    case(
        GH + "fortra/impacket/issues/1050",
        'File "/home/jinjer/.local/lib/python3.9/site-packages/impacket/tds.py", line 532, in '
        "connect\nsock.connect(sa)\nOSError: [Errno 113] No route to host",
        Layer.TCP,
        R.HOST_UNREACHABLE,
        excludes={R.NAME_NOT_RESOLVED},
    ),
    case(
        GH + "gordthompson/sqlserverport/issues/2",
        "_sqlserverport.sqlserverport.BrowserError: No response from SQL Browser service.Verify "
        "that the service is available on <<servername>> and \\<<instancename>> is a valid "
        "instance name on it._",
        Layer.BROWSER,
        R.BROWSER_UNAVAILABLE,
    ),
    # --- Driver managers -------------------------------------------------------------------------
    case(
        GH + "lionheart/django-pyodbc/issues/46",
        " Error: ('IM002', '[IM002] [unixODBC][Driver Manager]Data source name not found, and no "
        "default driver specified (0) (SQLDriverConnect)')",
        Layer.DRIVER,
        R.DRIVER_MISSING,
    ),
    case(
        GH + "andreossido/laravel-odbc/issues/4",
        "i get PHP Warning: odbc_connect(): SQL error: [unixODBC][Driver Manager]Data source "
        "name not found, and no default driver specified, SQL state IM002 in SQLConnect",
        Layer.DRIVER,
        R.DRIVER_MISSING,
    ),
    case(
        GH + "mkleehammer/pyodbc/issues/1133",
        '"ImportError: libodbc.so.2: cannot open shared object file: No such file or directory"',
        Layer.DRIVER,
        R.DRIVER_MISSING,
    ),
    case(
        GH + "mkleehammer/pyodbc/issues/87",
        "ImportError: dlopen(/Library/Python/2.7/site-packages/pyodbc.so, 2): Library not "
        "loaded: /usr/local/lib/libodbc.2.dylib\n  Referenced from: "
        "/Library/Python/2.7/site-packages/pyodbc.so\n  Reason: image not found",
        Layer.DRIVER,
        R.DRIVER_MISSING,
    ),
    case(
        GH + "dotnet/SqlClient/blob/c16adb7a11674b66f9e9ca5e5a38e768ce8d5ff3/src/"
        "Microsoft.Data.SqlClient/src/Resources/Strings.resx",
        "Unable to locate a Local Database Runtime installation. Verify that SQL Server Express "
        "is properly installed and that the Local Database Runtime feature is enabled.",
        Layer.DRIVER,
        R.DRIVER_MISSING,
    ),
    # --- Generic socket wording from other programs (same OS texts, not SQL-specific) ------------
    case(
        GH + "kerryjiang/WebSocket4Net/issues/206",
        "System.Net.Sockets.SocketException (11004): The requested name is valid, but no data of "
        "the requested type was found.",
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
    ),
    case(
        GH + "openssl/openssl/issues/20360",
        "Failed to insert document: Error: write EPROTO A8590000:error:0A00014D:SSL routines:"
        "**tls_process_key_exchange:legacy sigalg disallowed or unsupported**:c:\\ws\\deps\\"
        "openssl\\openssl\\ssl\\statem\\statem_clnt.c:2263:",
        Layer.TLS,
        R.TLS_FAILED,
    ),
]


def test_at_least_sixty_cases_from_many_sources() -> None:
    assert len(CASES) >= 60
    assert len({c.source for c in CASES}) >= 50
    assert all(c.source.startswith("https://") for c in CASES)


@pytest.mark.parametrize("item", CASES, ids=[f"{i:02d}" for i in range(len(CASES))])
def test_case(item: Case) -> None:
    explanation = explain(item.text)
    candidates = [c.cause for c in explanation.candidates]
    assert explanation.found, item.source
    assert explanation.layer is item.layer, (item.source, explanation.layer, candidates)
    if item.top is None:
        assert candidates == []
    else:
        assert candidates[0] is item.top, (item.source, candidates)
    assert item.includes <= set(candidates), (item.source, candidates)
    assert not item.excludes & set(candidates), (item.source, candidates)
    assert item.excludes <= {r.cause for r in explanation.ruled_out}, item.source
    for name, value in item.facts:
        assert explanation.facts.get(name) == value, (item.source, explanation.facts)
