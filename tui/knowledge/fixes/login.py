"""Fixes for what the login step finds: a driver that is not installed, a login the server
rejects (each 18456 relative), a database that cannot be opened, Windows authentication that
cannot start.

Driver installs follow Microsoft's "Install the Microsoft ODBC driver for SQL Server (Linux)" and
"(macOS)" pages (the packages-microsoft-prod repository package, ACCEPT_EULA) and the FreeTDS
packages of each platform; the T-SQL follows the sql-docs pages of errors 18456, 18470, 18486 to
18488 and 4060. Sources: ../shared/reference/troubleshooting-knowledge.md (18456 states, 4060,
SSPI), tests/fixtures/windows (odbcinst.ini samples).
"""

from __future__ import annotations

from typing import Final

from tui.knowledge.fixes.template import (
    CONNECTION,
    GUI,
    LINUX,
    MACOS,
    ODBC,
    POWERSHELL,
    TSQL,
    WINDOWS_CMD,
    FixTemplate,
)
from tui.knowledge.fixes.template import command as _c

_OS_MAJOR = "$(. /etc/os-release; echo ${{VERSION_ID%%.*}})"

LOGIN_FIXES: Final[tuple[FixTemplate, ...]] = (
    FixTemplate(
        "install-odbc-driver-18",
        "Install Microsoft ODBC Driver 18 for SQL Server",
        "The connection names an ODBC driver this machine does not have. ODBC Driver 18 is "
        "Microsoft's current driver; it is registered as 'ODBC Driver 18 for SQL Server', so a "
        "connection string naming an older one (17, 13, 'SQL Server') needs its Driver= "
        "changed too, or that older driver installed instead. Driver 18 encrypts by default "
        "and checks the server's certificate.",
        (
            _c(
                LINUX,
                "Debian / Ubuntu",
                "curl -sSL -O https://packages.microsoft.com/config/$(. /etc/os-release; echo $ID)"
                "/$(. /etc/os-release; echo $VERSION_ID)/packages-microsoft-prod.deb\n"
                "sudo dpkg -i packages-microsoft-prod.deb && rm packages-microsoft-prod.deb\n"
                "sudo apt-get update\n"
                "sudo ACCEPT_EULA=Y apt-get install -y msodbcsql18 unixodbc\n"
                "odbcinst -q -d",
            ),
            _c(
                LINUX,
                "RHEL / Rocky / Alma",
                "sudo dnf install -y https://packages.microsoft.com/config/rhel/"
                f"{_OS_MAJOR}/packages-microsoft-prod.rpm\n"
                "sudo ACCEPT_EULA=Y dnf install -y msodbcsql18 unixODBC\n"
                "odbcinst -q -d",
            ),
            _c(
                MACOS,
                "Homebrew",
                "brew tap microsoft/mssql-release https://github.com/Microsoft/homebrew-mssql-release\n"
                "brew update\n"
                "HOMEBREW_ACCEPT_EULA=Y brew install msodbcsql18\n"
                "odbcinst -q -d",
            ),
            _c(
                WINDOWS_CMD,
                "Windows (msodbcsql.msi from Microsoft's 'Download ODBC Driver for SQL Server' "
                "page)",
                "msiexec /i msodbcsql.msi /qn IACCEPTMSODBCSQLLICENSETERMS=YES",
            ),
            _c(
                POWERSHELL,
                "Windows: which drivers are installed (64-bit and 32-bit)",
                "Get-OdbcDriver -Name '*SQL Server*' | Format-Table Name, Platform",
            ),
            _c(
                CONNECTION, "then name it exactly", "Driver={{ODBC Driver 18 for SQL Server}}", ODBC
            ),
        ),
    ),
    FixTemplate(
        "install-freetds",
        "Install the FreeTDS ODBC driver",
        "FreeTDS is the open-source TDS driver most Linux and macOS tools use. Its ODBC driver "
        "must be installed and registered with unixODBC under the name the connection string "
        "gives (Debian's package registers it as 'FreeTDS').",
        (
            _c(
                LINUX,
                "Debian / Ubuntu",
                "sudo apt-get install -y tdsodbc unixodbc\nodbcinst -q -d",
            ),
            _c(
                LINUX,
                "RHEL / Rocky / Alma (EPEL)",
                "sudo dnf install -y epel-release\n"
                "sudo dnf install -y freetds unixODBC\n"
                "printf '[FreeTDS]\\nDriver=/usr/lib64/libtdsodbc.so.0\\n' | "
                "sudo odbcinst -i -d -r\n"
                "odbcinst -q -d",
            ),
            _c(
                MACOS,
                "Homebrew",
                "brew install freetds unixodbc\n"
                'printf "[FreeTDS]\\nDriver=$(brew --prefix freetds)/lib/libtdsodbc.so\\n" | '
                "odbcinst -i -d -r\n"
                "odbcinst -q -d",
            ),
            _c(
                WINDOWS_CMD,
                "Windows: FreeTDS has no installer; MSYS2 builds it",
                "pacman -S mingw-w64-ucrt-x86_64-freetds\n"
                "rem most Windows programs use Microsoft ODBC Driver 18 instead",
            ),
        ),
    ),
    FixTemplate(
        "install-unixodbc",
        "Install the ODBC driver manager (unixODBC)",
        "pyodbc and every ODBC program load the driver manager (libodbc.so.2 on Linux, "
        "libodbc.2.dylib on macOS) before any driver; without it no ODBC driver can be used at "
        "all. Windows has its driver manager built in.",
        (
            _c(LINUX, "Debian / Ubuntu", "sudo apt-get install -y unixodbc\nodbcinst -j"),
            _c(LINUX, "RHEL / Rocky / Alma", "sudo dnf install -y unixODBC\nodbcinst -j"),
            _c(MACOS, "Homebrew", "brew install unixodbc\nodbcinst -j"),
        ),
    ),
    FixTemplate(
        "read-18456-state",
        "Read the real reason for the failed login in the server's ERRORLOG",
        "SQL Server tells the client only 'Login failed' with state 1, on purpose. The ERRORLOG "
        "records the real state next to each 18456: 2 or 5 no such login; 6 a Windows login "
        "name used with SQL authentication; 7 login disabled (and a wrong password); 8 or 9 "
        "wrong password; 11 or 12 valid login without permission to connect; 13 the service "
        "is paused; 18 the password must be changed; 38 or 46 the database could not be "
        "opened; 58 a SQL login on a server that accepts Windows logins only; 102 to 111 and "
        "132 to 133 Microsoft Entra ID; 122 to 124 an empty user name or password; 126 the "
        "database does not exist.",
        (
            _c(
                TSQL,
                "on the server (securityadmin), newest first",
                "EXEC xp_readerrorlog 0, 1, N'18456';",
            ),
            _c(
                POWERSHELL,
                "on a Windows server",
                "Get-ChildItem 'C:\\Program Files\\Microsoft SQL Server\\MSSQL*\\MSSQL\\Log"
                "\\ERRORLOG' | Select-String -Pattern 'Error: 18456' -Context 0,1 | "
                "Select-Object -Last 10",
            ),
            _c(
                LINUX,
                "on a Linux server",
                "sudo grep -a -A1 'Error: 18456' /var/opt/mssql/log/errorlog | tail -n 20",
            ),
        ),
    ),
    FixTemplate(
        "check-login",
        "Check the login {login} on the server: exists, enabled, password",
        "Most 18456 errors are a login that does not exist on this instance, a wrong password, "
        "or a login that is disabled, locked out or expired. An administrator can see all of "
        "it, and set a new password.",
        (
            _c(
                TSQL,
                "on the server",
                "SELECT name, type_desc, is_disabled, default_database_name "
                "FROM sys.server_principals WHERE name = {login:tsql_str};\n"
                "SELECT LOGINPROPERTY({login:tsql_str}, 'IsLocked') AS is_locked, "
                "LOGINPROPERTY({login:tsql_str}, 'IsExpired') AS is_expired, "
                "LOGINPROPERTY({login:tsql_str}, 'IsMustChange') AS must_change;",
            ),
            _c(
                TSQL,
                "set a new password (administrator)",
                "ALTER LOGIN {login:tsql_ident} WITH PASSWORD = N'<new password>';",
            ),
        ),
        title_unknown="Check the login on the server: exists, enabled, password",
    ),
    FixTemplate(
        "enable-mixed-mode",
        "Let the server accept SQL logins (mixed authentication)",
        "A server in Windows-authentication-only mode rejects every SQL login with 18456 "
        "state 58. Switching to 'SQL Server and Windows Authentication mode' takes a restart. "
        "Or log in with a Windows account instead.",
        (
            _c(
                TSQL,
                "on the server: 1 means Windows logins only",
                "SELECT SERVERPROPERTY('IsIntegratedSecurityOnly') AS windows_only;",
            ),
            _c(
                TSQL,
                "switch to mixed mode, then restart the service",
                "EXEC xp_instance_regwrite N'HKEY_LOCAL_MACHINE', "
                "N'Software\\Microsoft\\MSSQLServer\\MSSQLServer', N'LoginMode', REG_DWORD, 2;",
            ),
            _c(
                GUI,
                "SQL Server Management Studio",
                "Object Explorer > the server > Properties > Security > Server authentication: "
                "SQL Server and Windows Authentication mode; then restart the service.",
            ),
            _c(WINDOWS_CMD, "then restart", "net stop {service} && net start {service}"),
        ),
    ),
    FixTemplate(
        "enable-login",
        "Enable the login {login}",
        "Error 18470: the login exists but is disabled, so the server refuses it whatever the "
        "password.",
        (_c(TSQL, "on the server (administrator)", "ALTER LOGIN {login:tsql_ident} ENABLE;"),),
        title_unknown="Enable the login",
    ),
    FixTemplate(
        "unlock-login",
        "Unlock the login {login}",
        "Error 18486: too many wrong passwords locked the login out under the Windows password "
        "policy (CHECK_POLICY). Unlocking it takes a new password set by an administrator.",
        (
            _c(
                TSQL,
                "on the server (administrator)",
                "ALTER LOGIN {login:tsql_ident} WITH PASSWORD = N'<new password>' UNLOCK;",
            ),
        ),
        title_unknown="Unlock the login",
    ),
    FixTemplate(
        "change-login-password",
        "Set a new password for {login}",
        "Errors 18487 and 18488: the password has expired, or must be changed at the next "
        "login (MUST_CHANGE). Most drivers cannot change it while logging in; an administrator "
        "(or SSMS, which asks for a new one) can.",
        (
            _c(
                TSQL,
                "on the server (administrator)",
                "ALTER LOGIN {login:tsql_ident} WITH PASSWORD = N'<new password>';",
            ),
            _c(
                GUI,
                "SQL Server Management Studio",
                "Connect as {login:text}: SSMS asks for a new password when it must change.",
            ),
        ),
        title_unknown="Set a new password for the login",
    ),
    FixTemplate(
        "fix-database-name",
        "Name a database the login can open ({database})",
        "Error 4060: the login itself works, but the database named in the connection does "
        "not exist on this instance, is offline or restoring, or the login has no user in it. "
        "Drivers often show only the 18456 that follows.",
        (
            _c(
                TSQL,
                "on the server: the databases and their state",
                "SELECT name, state_desc, user_access_desc FROM sys.databases ORDER BY name;",
            ),
            _c(
                TSQL,
                "give the login a user in that database",
                "USE {database:tsql_ident};\n"
                "CREATE USER {login:tsql_ident} FOR LOGIN {login:tsql_ident};",
            ),
            _c(
                CONNECTION, "or connect to a database that exists", "Database=<database name>", ODBC
            ),
        ),
        title_unknown="Name a database the login can open",
    ),
    FixTemplate(
        "fix-default-database",
        "Give the login a default database it can open",
        "Error 4064: no database was named, and the login's default database is gone or "
        "offline. Name one in the connection, or change the default.",
        (
            _c(
                TSQL,
                "on the server (administrator)",
                "ALTER LOGIN {login:tsql_ident} WITH DEFAULT_DATABASE = [master];",
            ),
            _c(CONNECTION, "or name a database", "Database=master", ODBC),
        ),
    ),
    FixTemplate(
        "use-sql-login",
        "Log in with a SQL login, or from a machine the domain trusts",
        "Error 18452: the server cannot verify this Windows login: the client is not in a "
        "domain the server trusts, or Kerberos failed and the fallback was refused.",
        (
            _c(CONNECTION, "a SQL login instead", "UID=<login>;PWD=<password>", ODBC),
            _c(
                LINUX,
                "Linux or macOS in the domain: get a ticket first",
                "kinit <user>@<REALM>\nklist",
            ),
        ),
    ),
    FixTemplate(
        "get-kerberos-ticket",
        "Get a Kerberos ticket before using Windows authentication",
        "On Linux and macOS, Windows authentication (Trusted_Connection, Integrated Security) "
        "is Kerberos: the driver needs a ticket for a domain account in the credential cache, "
        "from kinit or a keytab. Without one the driver fails with 'No Kerberos credentials "
        "available' and 'Cannot generate SSPI context'.",
        (
            _c(
                LINUX,
                "Debian / Ubuntu",
                "sudo apt-get install -y krb5-user\nkinit <user>@<REALM>\nklist",
            ),
            _c(
                LINUX,
                "RHEL / Rocky / Alma",
                "sudo dnf install -y krb5-workstation\nkinit <user>@<REALM>\nklist",
            ),
            _c(MACOS, "macOS", "kinit <user>@<REALM>\nklist"),
        ),
    ),
)
