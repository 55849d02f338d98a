"""Fixes for what happens after the port opens: certificates, encryption settings, TLS versions,
TDS 8 strict, and servers that accept and then say nothing.

Safest first, as the field's guides order them: a certificate the clients trust carrying the
name they use; trusting the issuing CA on the client; `HostNameInCertificate` for aliases;
`TrustServerCertificate=yes` and `Encrypt=no` last, each with its risk said plainly.
Sources: ../shared/reference/wire-protocols.md §2 ("Who validates the certificate, and when"),
../shared/reference/troubleshooting-knowledge.md (TLS rows), the mssql.conf and SuperSocketNetLib
samples in tests/fixtures/windows.
"""

from __future__ import annotations

from typing import Final

from tui.knowledge.fixes.template import (
    ADONET,
    CONF,
    CONNECTION,
    GUI,
    JDBC,
    LINUX,
    MACOS,
    ODBC,
    POWERSHELL,
    SH,
    TSQL,
    WINDOWS_CMD,
    FixTemplate,
)
from tui.knowledge.fixes.template import command as _c

_REG_ID = (
    "$id = (Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\Instance Names"
    "\\SQL').{instance:ps}\n"
    '$net = "HKLM:\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\$id\\MSSQLServer'
    '\\SuperSocketNetLib"\n'
)
_MSSQL_CONF = "sudo /opt/mssql/bin/mssql-conf"
_TRUST_RISK = (
    "The connection is still encrypted, but the client no longer checks who is at the other "
    "end: anyone who can get between client and server (a compromised router, a spoofed DNS "
    "or ARP answer) can pose as the server and read the login and every result. Use it for a "
    "lab or a one-off test, not as the fix."
)

TLS_FIXES: Final[tuple[FixTemplate, ...]] = (
    FixTemplate(
        "provision-certificate",
        "Give SQL Server a certificate with the name clients use ({client_name})",
        "Without a configured certificate SQL Server signs one itself at start-up, and no "
        "client that checks certificates trusts it. A certificate from a CA your clients "
        "already trust, made out to the name they connect with (CN or DNS name), with "
        "'Server Authentication' usage, makes every driver's check pass. The service account "
        "needs read access to its private key, and the service a restart.",
        (
            _c(
                POWERSHELL,
                "on the server: find a certificate for that name, with its private key",
                "Get-ChildItem Cert:\\LocalMachine\\My | Where-Object {{ $_.HasPrivateKey -and "
                "$_.DnsNameList.Unicode -contains {client_name:ps} }} | "
                "Format-List Subject, DnsNameList, Issuer, NotAfter, Thumbprint",
            ),
            _c(
                POWERSHELL,
                "on the server: give it to the instance, let the service read its key, restart",
                "$thumb = '<Thumbprint from the list above>'\n"
                + _REG_ID
                + "Set-ItemProperty $net -Name Certificate -Value $thumb.ToLower()\n"
                '$cert = Get-Item "Cert:\\LocalMachine\\My\\$thumb"\n'
                "$key = [System.Security.Cryptography.X509Certificates."
                "RSACertificateExtensions]::GetRSAPrivateKey($cert)\n"
                '$file = "$env:ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\" + '
                "$key.Key.UniqueName\n"
                'icacls $file /grant "NT Service\\{service:ps_dq}:R"\n'
                "Restart-Service -Name {service:ps} -Force",
            ),
            _c(
                GUI,
                "on the server",
                "SQL Server Configuration Manager > SQL Server Network Configuration > "
                "Protocols for {instance} > Properties > Certificate: pick the certificate "
                "issued to {client_name:text}. Certificates (MMC, Local Computer) > Personal > the "
                "certificate > All Tasks > Manage Private Keys: give the service account "
                "(NT Service\\{service}) Read. Restart the SQL Server service.",
            ),
            _c(
                LINUX,
                "on a Linux server (PEM files of the new certificate)",
                "sudo chown mssql:mssql /etc/ssl/certs/mssql.pem /etc/ssl/private/mssql.key\n"
                f"{_MSSQL_CONF} set network.tlscert /etc/ssl/certs/mssql.pem\n"
                f"{_MSSQL_CONF} set network.tlskey /etc/ssl/private/mssql.key\n"
                f"{_MSSQL_CONF} set network.tlsprotocols 1.2\n"
                "sudo systemctl restart mssql-server",
            ),
            _c(
                TSQL,
                "after the restart: which certificate was loaded",
                "EXEC xp_readerrorlog 0, 1, N'certificate';",
            ),
        ),
        title_unknown="Give SQL Server a certificate with the name clients use",
    ),
    FixTemplate(
        "trust-issuing-ca",
        "Trust the CA that issued the server's certificate ({cert_issuer}) on the client",
        "The certificate comes from a CA this client does not know (a company CA, a test CA). "
        "Adding that CA's certificate (not the server's) to the client's trust store makes "
        "the chain check pass for every server it issued. Java clients use their own store.",
        (
            _c(
                LINUX,
                "Debian, Ubuntu (issuing-ca.crt: the CA's certificate, PEM)",
                "sudo cp issuing-ca.crt /usr/local/share/ca-certificates/issuing-ca.crt\n"
                "sudo update-ca-certificates",
            ),
            _c(
                LINUX,
                "RHEL, Fedora, SUSE",
                "sudo cp issuing-ca.crt /etc/pki/ca-trust/source/anchors/\nsudo update-ca-trust",
            ),
            _c(
                POWERSHELL,
                "Windows (as administrator)",
                "Import-Certificate -FilePath .\\issuing-ca.crt "
                "-CertStoreLocation Cert:\\LocalMachine\\Root",
            ),
            _c(
                MACOS,
                "macOS",
                "sudo security add-trusted-cert -d -r trustRoot "
                "-k /Library/Keychains/System.keychain issuing-ca.crt",
            ),
            _c(
                CONNECTION,
                "Java clients (mssql-jdbc)",
                "keytool -importcert -cacerts -alias sqlserver-ca -file issuing-ca.crt",
                SH,
            ),
        ),
        title_unknown="Trust the CA that issued the server's certificate on the client",
    ),
    FixTemplate(
        "host-name-in-certificate",
        "Tell the client the name on the certificate (HostNameInCertificate={cert_name})",
        "The certificate is good but made out to {cert_name}, while the client connects as "
        "{client_name} (an alias, an IP address, a short name). Connect by the name on the "
        "certificate, or keep the name you use and say which name to expect: ODBC Driver 18, "
        "OLE DB Driver 19, SqlClient 5+ and mssql-jdbc read HostNameInCertificate.",
        (
            _c(
                CONNECTION,
                "connect by the name on the certificate",
                "Server={cert_name:hostname},{port}",
                ODBC,
            ),
            _c(
                CONNECTION,
                "ODBC Driver 18",
                "Server={host:hostname},{port};HostNameInCertificate={cert_name:odbc}",
                ODBC,
            ),
            _c(
                CONNECTION,
                "SqlClient 5+, OLE DB Driver 19",
                "Server={host:hostname},{port};HostNameInCertificate={cert_name:adonet}",
                ADONET,
            ),
            _c(
                CONNECTION,
                "JDBC",
                "jdbc:sqlserver://{host:hostname}:{port};hostNameInCertificate={cert_name:jdbc}",
                JDBC,
            ),
        ),
        title_unknown="Tell the client the name on the certificate (HostNameInCertificate)",
        why_unknown=(
            "The certificate is good but made out to another name than the one the client connects "
            "with (an alias, an IP address, a short name). Connect by the name on the certificate, "
            "or keep the name you use and say which name to expect: ODBC Driver 18, OLE DB Driver "
            "19, SqlClient 5+ and mssql-jdbc read HostNameInCertificate."
        ),
    ),
    FixTemplate(
        "trust-server-certificate",
        "Skip the certificate check: TrustServerCertificate=yes (knowingly)",
        "The client then accepts whatever certificate the server shows, self-signed, expired "
        "or for another name. The connection stays encrypted. It does not help with TDS 8 "
        "(Encrypt=strict), which always checks.",
        (
            _c(CONNECTION, "ODBC, OLE DB", "TrustServerCertificate=yes", ODBC),
            _c(CONNECTION, "ADO.NET (SqlClient)", "TrustServerCertificate=True", ADONET),
            _c(CONNECTION, "JDBC", "trustServerCertificate=true", JDBC),
            _c(WINDOWS_CMD, "sqlcmd", "sqlcmd -S tcp:{host:hostname},{port} -C"),
        ),
        risk=_TRUST_RISK,
    ),
    FixTemplate(
        "encrypt-optional",
        "Do not ask for encryption: Encrypt=no (knowingly)",
        "With Encrypt=no (Optional) a driver encrypts only the login packet and does not check "
        "the certificate, so a server that does not force encryption lets it in. It does not "
        "help when the server forces encryption: ODBC Driver 18 then encrypts anyway and checks "
        "the certificate.",
        (
            _c(CONNECTION, "ODBC, OLE DB", "Encrypt=no", ODBC),
            _c(CONNECTION, "ADO.NET (SqlClient 4+)", "Encrypt=False", ADONET),
            _c(CONNECTION, "JDBC", "encrypt=false", JDBC),
        ),
        risk="Only the login packet is encrypted: every query and every result crosses the "
        "network in clear text, readable by anyone on the path.",
    ),
    FixTemplate(
        "encrypt-no-forced",
        "Encrypt=no does not help here: the server forces encryption",
        "With Force Encryption on, the server encrypts every connection whatever the client "
        "asks. ODBC Driver 18, OLE DB Driver 19 and SqlClient 2+ then check the certificate "
        "even with Encrypt=no; only a certificate the client trusts, or "
        "TrustServerCertificate=yes, gets through. Turning Force Encryption off is a decision "
        "for the whole server, not for one client.",
        (
            _c(
                POWERSHELL,
                "on the server: is Force Encryption on?",
                _REG_ID + "Get-ItemProperty $net | Select-Object ForceEncryption, Certificate",
            ),
            _c(
                LINUX, "on a Linux server", "grep -i -A6 '^\\[network\\]' /var/opt/mssql/mssql.conf"
            ),
            _c(
                TSQL,
                "how this session is encrypted",
                "SELECT net_transport, encrypt_option FROM sys.dm_exec_connections "
                "WHERE session_id = @@SPID;",
            ),
        ),
    ),
    FixTemplate(
        "enable-tls12",
        "Enable TLS 1.2 on both sides",
        "Unpatched servers and clients that only speak TLS 1.0 or 1.1 cannot talk to systems "
        "where those versions are turned off: the handshake ends with 'forcibly closed' "
        "(10054), 'unsupported protocol' or, with OpenSSL 3 on Linux, 'legacy sigalg "
        "disallowed or unsupported', even with TrustServerCertificate=yes.",
        (
            _c(
                POWERSHELL,
                "on the Windows server and client (SCHANNEL), then reboot",
                "$p = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL"
                "\\Protocols\\TLS 1.2'\nforeach ($side in 'Server','Client') {{\n"
                '  New-Item "$p\\$side" -Force | Out-Null\n'
                '  Set-ItemProperty "$p\\$side" -Name Enabled -Value 1 -Type DWord\n'
                '  Set-ItemProperty "$p\\$side" -Name DisabledByDefault -Value 0 -Type DWord\n}}',
            ),
            _c(
                GUI,
                "this server (its pre-login gave the build)",
                "Build {server_build:text}: {tls12_builds:text}. Install that update or a later "
                "service "
                "pack, and the matching client drivers.",
            ),
            _c(
                GUI,
                "SQL Server 2008 to 2014",
                "Install the SQL Server update that brings TLS 1.2 "
                "(KB3135244 lists the builds), and the matching client drivers.",
            ),
            _c(
                LINUX,
                "on a Linux server",
                f"{_MSSQL_CONF} set network.tlsprotocols 1.2\nsudo systemctl restart mssql-server",
            ),
            _c(
                LINUX,
                "a Linux client that must reach an old server meanwhile (knowingly)",
                "# OPENSSL_CONF pointing at a file with, under [system_default_sect]:\n"
                "#   MinProtocol = TLSv1\n#   CipherString = DEFAULT@SECLEVEL=0\n"
                "# this re-enables broken protocols for every program using that file",
            ),
        ),
    ),
    FixTemplate(
        "use-strict",
        "Connect with TDS 8 (Encrypt=strict)",
        "This server accepts only TDS 8 strict connections: TLS first, before any TDS. Only "
        "drivers that know Encrypt=strict get in: ODBC Driver 18, OLE DB Driver 19, "
        "SqlClient 5+, mssql-jdbc 11.2+. Strict always checks the certificate, so it must be "
        "trusted and carry the name the client uses.",
        (
            _c(
                CONNECTION,
                "ODBC Driver 18",
                "Driver={{ODBC Driver 18 for SQL Server}};"
                "Server={host:hostname},{port};Encrypt=strict",
                ODBC,
            ),
            _c(
                CONNECTION,
                "ADO.NET (SqlClient 5+)",
                "Server={host:hostname},{port};Encrypt=Strict",
                ADONET,
            ),
            _c(
                CONNECTION,
                "JDBC (11.2+)",
                "jdbc:sqlserver://{host:hostname}:{port};encrypt=strict",
                JDBC,
            ),
        ),
    ),
    FixTemplate(
        "use-encrypt-mandatory",
        "Use Encrypt=yes instead of strict with this server",
        "Encrypt=strict opens with TLS before any TDS (TDS 8), which only SQL Server 2022 and "
        "later answer. Encrypt=yes (Mandatory) encrypts the whole connection with TDS 7.x and "
        "works with every version.",
        (
            _c(CONNECTION, "ODBC, OLE DB", "Encrypt=yes", ODBC),
            _c(CONNECTION, "ADO.NET (SqlClient)", "Encrypt=Mandatory", ADONET),
            _c(CONNECTION, "JDBC", "encrypt=true", JDBC),
        ),
    ),
    FixTemplate(
        "enable-client-encryption",
        "Let the client encrypt",
        "The server forces encryption and this client is set never to encrypt. FreeTDS "
        "encrypts with Encryption=request (its default) or require.",
        (
            _c(CONNECTION, "FreeTDS ODBC", "Encryption=require", ODBC),
            _c(
                LINUX,
                "freetds.conf",
                "[{host:hostname}]\n\thost = {host:hostname}\n"
                "\tport = {port}\n\tencryption = require",
                CONF,
            ),
        ),
    ),
    FixTemplate(
        "check-proxy-backend",
        "Check the proxy or load balancer in front of SQL Server",
        "Something accepts the connection but nothing behind it answers: a load balancer, a "
        "proxy or a port forward whose backend SQL Server is down, starting, stopping or not "
        "reachable from it. Its health probe and backend pool tell which.",
        (
            _c(
                GUI,
                "the load balancer or proxy",
                "Look at the backend pool and health probe for {host:text}:{port}: at least one "
                "SQL Server behind it must be up and answer on its own port.",
            ),
            _c(
                LINUX,
                "on a Linux proxy host: who holds the port, and where it forwards",
                "sudo ss -ltnp 'sport = :{port}'\nsudo ss -tnp state established '( sport = "
                ":{port} )'",
            ),
            _c(
                WINDOWS_CMD,
                "on a Windows host: port forwards (netsh portproxy)",
                "netsh interface portproxy show all",
            ),
        ),
    ),
)
