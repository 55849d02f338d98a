"""The codecs against clients written by others, on a random loopback address.

A tiny recording server answers each client's PRELOGIN with `build_server_answer` (encryption
by the negotiation table, TLS through `tlsbridge.server_tls`), reads its LOGIN7 with
`parse_login7`, and answers with the token builders: either 18456 as SQL Server sends it, or a
LOGINACK. The clients: FreeTDS `tsql`, pyodbc + FreeTDS ODBC, python-tds, impacket, and
mssql-python (Microsoft ODBC Driver 18). Each connect has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.wirecert import Certificate, make_certificate, server_context
from tui.wire import login7, prelogin, tds, tlsbridge, tokens
from tui.wire.prelogin import Encryption, Negotiation, Prelogin
from tui.wire.tds import PacketType

TIMEOUT = 10.0
SERVER_VERSION = (16, 0, 1000, 6)
# The FreeTDS PRELOGIN of wire-protocols.md, without its THREADID (the client's process id).
FREETDS_PRELOGIN = (
    bytes.fromhex(
        "00 00 1a 00 06 01 00 20 00 01 02 00 21 00 0c 03 00 2d 00 04 04 00 31 00 01 ff"
        "09 00 00 00 00 00 00"
    )
    + b"MSSQLServer\x00"
)


@dataclass
class Recording:
    prelogin_payload: bytes = b""
    prelogin: Prelogin | None = None
    negotiation: Negotiation | None = None
    tls_version: str | None = None
    login_payload: bytes = b""
    login: login7.Login7 | None = None
    after_login: list[PacketType] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)


class Recorder:
    """One server, many connections; `recordings` in arrival order."""

    def __init__(self, setting: Encryption, certificate: Certificate, *, accept: bool) -> None:
        self.setting = setting
        self.certificate = certificate
        self.accept = accept
        self.recordings: list[Recording] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record = Recording()
        self.recordings.append(record)
        try:
            await self._converse(reader, writer, record)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client hung up: normal at the end of every conversation
        except Exception as error:
            record.errors.append(error)
        finally:
            writer.transport.abort()

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: Recording
    ) -> None:
        message = await tds.read_message(reader, timeout=TIMEOUT)
        assert message.type is PacketType.PRELOGIN
        record.prelogin_payload = message.payload
        client = record.prelogin = prelogin.parse_prelogin(message.payload)
        negotiation = record.negotiation = prelogin.negotiate(
            client.encryption if client.encryption is not None else Encryption.OFF, self.setting
        )
        answer = prelogin.build_server_answer(
            client, version=SERVER_VERSION, encryption=negotiation.result
        )
        writer.write(tds.encode_message(PacketType.REPLY, answer))
        await writer.drain()
        if negotiation.ends:
            return
        channel: tlsbridge.TlsChannel | None = None
        if negotiation.result is Encryption.NOT_SUP:
            message = await tds.read_message(reader, timeout=TIMEOUT)
        else:
            channel = await tlsbridge.server_tls(
                reader, writer, context=server_context(self.certificate), timeout=TIMEOUT
            )
            record.tls_version = channel.version
            message = await channel.receive()
            if negotiation.login_only:
                channel.downgrade()
        assert message.type is PacketType.LOGIN7
        record.login_payload = message.payload
        login = record.login = login7.parse_login7(message.payload)
        version = min(login.tds_version, login7.TDS74)

        async def send(payload: bytes) -> None:
            data = tds.encode_message(PacketType.REPLY, payload)
            if channel is not None:
                await channel.send(data)  # plain again after a downgrade
            else:
                writer.write(data)
                await writer.drain()

        async def receive() -> tds.Message:
            if channel is not None:
                return await channel.receive()
            return await tds.read_message(reader, timeout=TIMEOUT)

        if not self.accept:
            await send(
                tokens.error(
                    18456,
                    f"Login failed for user '{login.user}'.",
                    server="LAB",
                    tds_version=version,
                )
                + tokens.done(tokens.DONE_ERROR, tds_version=version)
            )
            return
        await send(
            tokens.env_database(login.database or "master", "master")
            + tokens.env_language("us_english")
            + tokens.env_packet_size(4096, 4096)
            + tokens.env_collation()
            + tokens.login_ack(tds_version=max(version, login7.TDS71_REV1))
            + tokens.done(0, tds_version=version)
        )
        while True:
            message = await receive()
            record.after_login.append(message.type)
            if message.type is PacketType.TRANSACTION_MANAGER:
                reply = tokens.env_begin_transaction(bytes(range(1, 9)))
            elif message.type is PacketType.SQL_BATCH:
                reply = tokens.result_set(["answer"], [["42"]])
                reply += tokens.done(tokens.DONE_COUNT, 1, 0xC1, tds_version=version)
                await send(reply)
                continue
            elif message.type is PacketType.ATTENTION:
                await send(tokens.done(tokens.DONE_ATTN, tds_version=version))
                continue
            else:
                reply = b""
            await send(reply + tokens.done(0, tds_version=version))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@contextlib.asynccontextmanager
async def recording_server(
    address: str, certificate: Certificate, *, setting: Encryption, accept: bool
) -> AsyncIterator[tuple[int, Recorder]]:
    recorder = Recorder(setting, certificate, accept=accept)
    server = await asyncio.start_server(recorder.handle, address, 0)
    try:
        yield server.sockets[0].getsockname()[1], recorder
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)


def only(recorder: Recorder) -> Recording:
    """The recording of the client's (last) connection, checked for server-side errors."""
    assert recorder.recordings, "the client never connected"
    record = recorder.recordings[-1]
    assert not record.errors, record.errors
    return record


# ------------------------------------------------------------------------------------------
# FreeTDS tsql

needs_tsql = pytest.mark.skipif(shutil.which("tsql") is None, reason="FreeTDS tsql missing")


async def run_tsql(
    tmp_path: Path, address: str, port: int, *, encryption: str = "off", password: str = "x"
) -> tuple[int, str]:
    """`tsql -S lab` with a freetds.conf of our own (tsql -H/-p cannot set the encryption)."""
    conf = tmp_path / "freetds.conf"
    conf.write_text(
        f"[lab]\n\thost = {address}\n\tport = {port}\n\tencryption = {encryption}\n"
        "\tconnect timeout = 5\n\ttimeout = 5\n"
    )
    process = await asyncio.create_subprocess_exec(
        "tsql",
        "-S",
        "lab",
        "-U",
        "sa",
        "-P",
        password,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "FREETDSCONF": str(conf), "TDSVER": "auto"},
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), TIMEOUT * 2)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


@needs_tsql
async def test_tsql_login_is_read_and_18456_is_shown(
    loopback: str, certificate: Certificate, tmp_path: Path
) -> None:
    async with recording_server(
        loopback, certificate, setting=Encryption.NOT_SUP, accept=False
    ) as (port, recorder):
        # "request" (FreeTDS's default) sends ENCRYPT_OFF; the server has no TLS: plain login.
        code, output = await run_tsql(tmp_path, loopback, port, encryption="request")
    record = only(recorder)
    assert code != 0
    assert "Msg 18456 (severity 14, state 1) from LAB" in output
    assert "Login failed for user 'sa'." in output
    # The PRELOGIN is the one wire-protocols.md shows, byte for byte but the process id.
    assert record.prelogin_payload[: len(FREETDS_PRELOGIN)] == FREETDS_PRELOGIN
    assert record.prelogin is not None and record.prelogin.thread_id is not None
    assert record.login is not None
    assert (record.login.user, record.login.password.reveal()) == ("sa", "x")
    assert record.login.tds_version == login7.TDS74
    assert (record.login.app_name, record.login.library) == ("TSQL", "TDS-Library")
    assert "x" not in repr(record.login.password)


@needs_tsql
@pytest.mark.parametrize(
    ("encryption", "setting", "login_only"),
    [
        ("off", Encryption.NOT_SUP, None),
        ("request", Encryption.OFF, True),
        ("require", Encryption.ON, False),
    ],
)
async def test_tsql_logs_in(
    loopback: str,
    certificate: Certificate,
    tmp_path: Path,
    encryption: str,
    setting: Encryption,
    login_only: bool | None,
) -> None:
    async with recording_server(loopback, certificate, setting=setting, accept=True) as (
        port,
        recorder,
    ):
        code, output = await run_tsql(
            tmp_path, loopback, port, encryption=encryption, password="Pa55;word"
        )
    record = only(recorder)
    assert code == 0, output
    assert "1>" in output  # the prompt: logged in
    assert record.login is not None and record.login.password.reveal() == "Pa55;word"
    assert record.negotiation is not None
    if login_only is None:
        assert record.tls_version is None
    else:
        assert record.tls_version == "TLSv1.2"  # GnuTLS against server_tls
        assert record.negotiation.login_only is login_only


# ------------------------------------------------------------------------------------------
# pyodbc + FreeTDS ODBC


def _freetds_odbc() -> bool:
    try:
        import pyodbc
    except ImportError:
        return False
    return "FreeTDS" in pyodbc.drivers()


needs_freetds_odbc = pytest.mark.skipif(not _freetds_odbc(), reason="FreeTDS ODBC missing")


@needs_freetds_odbc
@pytest.mark.parametrize(
    ("encryption", "setting"), [("off", Encryption.NOT_SUP), ("require", Encryption.ON)]
)
async def test_pyodbc_freetds_login_is_read(
    loopback: str, certificate: Certificate, encryption: str, setting: Encryption
) -> None:
    import pyodbc

    def connect(port: int) -> None:
        pyodbc.connect(
            f"DRIVER={{FreeTDS}};SERVER={loopback};PORT={port};UID=sa;PWD={{s3cr;et}};"
            f"DATABASE=inventory;TDS_Version=7.4;Encryption={encryption}",
            timeout=5,
        )

    async with recording_server(loopback, certificate, setting=setting, accept=False) as (
        port,
        recorder,
    ):
        with pytest.raises(pyodbc.Error, match=r"Login failed for user 'sa'\. \(18456\)"):
            await asyncio.to_thread(connect, port)
    record = only(recorder)
    assert record.login is not None
    assert (record.login.user, record.login.password.reveal(), record.login.database) == (
        "sa",
        "s3cr;et",
        "inventory",
    )
    assert record.login.tds_version == login7.TDS74
    assert record.tls_version == (None if setting is Encryption.NOT_SUP else "TLSv1.2")


# ------------------------------------------------------------------------------------------
# python-tds


async def test_pytds_login_is_read(loopback: str, certificate: Certificate) -> None:
    pytds = pytest.importorskip("pytds")

    def connect(port: int) -> None:
        pytds.connect(
            server=loopback,
            port=port,
            user="app_user",
            password="pw-ü-€",
            database="orders",
            login_timeout=5,
            timeout=5,
            autocommit=True,
        )

    async with recording_server(
        loopback, certificate, setting=Encryption.NOT_SUP, accept=False
    ) as (port, recorder):
        with pytest.raises(pytds.OperationalError) as caught:
            await asyncio.to_thread(connect, port)
    assert caught.value.msg_no == 18456
    record = only(recorder)
    assert record.login is not None
    assert (record.login.user, record.login.password.reveal(), record.login.database) == (
        "app_user",
        "pw-ü-€",
        "orders",
    )
    assert record.login.tds_version == login7.TDS74
    assert record.prelogin is not None and record.prelogin.encryption is Encryption.NOT_SUP


async def test_pytds_logs_in(loopback: str, certificate: Certificate) -> None:
    pytds = pytest.importorskip("pytds")

    def connect_and_query(port: int) -> list[Any]:
        with (
            pytds.connect(
                server=loopback,
                port=port,
                user="sa",
                password="pw",
                database="orders",
                login_timeout=5,
                timeout=5,
                autocommit=True,
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT 42 AS answer")
            return list(cursor.fetchall())

    async with recording_server(loopback, certificate, setting=Encryption.NOT_SUP, accept=True) as (
        port,
        recorder,
    ):
        rows = await asyncio.to_thread(connect_and_query, port)
    assert [tuple(row) for row in rows] == [("42",)]
    assert PacketType.SQL_BATCH in only(recorder).after_login


# ------------------------------------------------------------------------------------------
# impacket (TDS 7.1 with the 94-byte layout, its own TLS)


@pytest.mark.parametrize(
    "setting", [Encryption.NOT_SUP, Encryption.OFF], ids=["plain", "login-only-tls"]
)
async def test_impacket_login_is_read(
    loopback: str, certificate: Certificate, setting: Encryption
) -> None:
    impacket_tds = pytest.importorskip("impacket.tds")

    def login(port: int) -> bool:
        client = impacket_tds.MSSQL(loopback, port)
        client.connect()
        try:
            return bool(client.login("orders", "sa", "pw"))
        finally:
            client.disconnect()

    async with recording_server(loopback, certificate, setting=setting, accept=False) as (
        port,
        recorder,
    ):
        assert await asyncio.to_thread(login, port) is False
    record = only(recorder)
    assert record.login is not None
    assert record.login.tds_version == login7.TDS71
    assert (record.login.user, record.login.password.reveal(), record.login.database) == (
        "sa",
        "pw",
        "orders",
    )
    assert record.prelogin is not None and record.prelogin.options == (0, 1, 2, 3)
    assert record.tls_version == (None if setting is Encryption.NOT_SUP else "TLSv1.2")


# ------------------------------------------------------------------------------------------
# mssql-python (Microsoft ODBC Driver 18)


@pytest.mark.parametrize(
    ("options", "setting", "accept"),
    [
        ("Encrypt=no", Encryption.OFF, False),
        ("Encrypt=yes;TrustServerCertificate=yes", Encryption.ON, True),
    ],
)
async def test_mssql_python_through_server_tls(
    loopback: str, certificate: Certificate, options: str, setting: Encryption, accept: bool
) -> None:
    mssql_python = pytest.importorskip("mssql_python")

    def connect(port: int) -> None:
        connection = mssql_python.connect(
            f"Server={loopback},{port};UID=sa;PWD=pw;Database=orders;{options}", timeout=5
        )
        connection.close()

    async with recording_server(loopback, certificate, setting=setting, accept=accept) as (
        port,
        recorder,
    ):
        if accept:
            await asyncio.to_thread(connect, port)
        else:
            with pytest.raises(mssql_python.Error, match="Login failed for user 'sa'"):
                await asyncio.to_thread(connect, port)
    record = only(recorder)
    assert record.login is not None
    assert (record.login.user, record.login.password.reveal(), record.login.database) == (
        "sa",
        "pw",
        "orders",
    )
    assert record.tls_version == "TLSv1.2"
    # ODBC 18 sends a one-byte INSTOPT 00 and a TRACEID.
    assert record.prelogin is not None and record.prelogin.trace_id is not None
