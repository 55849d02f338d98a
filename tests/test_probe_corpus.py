"""The probes against real bytes on a real socket: a small server replays what real servers sent
(tests/corpus/wire_bytes.toml), and the pre-login, native login and Browser probes must read it
as the sources say: versions, encryption, instances, the program name without its padding, and a
TDS 7.1 login failure as the 18456 it is (it used to be lost to a token-stream error)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest

from tests.netutil import random_loopback
from tests.test_wire_corpus import MESSAGES, Message, of
from tui.lab.browser import answer as lab_browser_answer
from tui.lab.scenarios import scenario
from tui.probes.browser import BrowserStatus, probe_browser
from tui.probes.native_login import LoginStatus, probe_login
from tui.probes.prelogin import PreloginStatus, probe_prelogin
from tui.secret import Secret
from tui.wire import tds
from tui.wire.prelogin import Encryption


@contextlib.asynccontextmanager
async def replaying(answers: Sequence[bytes]) -> AsyncIterator[tuple[str, int]]:
    """A TCP server answering each message it reads with the next recorded reply, as is."""
    address = random_loopback()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            for reply in answers:
                await tds.read_message(reader, timeout=5)
                writer.write(reply)
                await writer.drain()
            await asyncio.wait_for(reader.read(65_536), timeout=2)
        writer.close()

    server = await asyncio.start_server(handle, address, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield address, port
    finally:
        server.close()
        await server.wait_closed()


def _one(**stated: object) -> Message:
    return next(
        m for m in MESSAGES if all(m.stated.get(key) == value for key, value in stated.items())
    )


@pytest.mark.parametrize(
    "message", [p for p in of("prelogin-response") if p.values[0].framing == "full packet"]
)
async def test_the_prelogin_probe_reads_real_answers(message: Message) -> None:
    async with replaying([message.raw]) as (address, port):
        result = await probe_prelogin(address, port, timeout=3)
    assert result.status is PreloginStatus.SQL_SERVER, result.detail
    assert result.version is not None
    if "version" in message.stated:
        wanted = tuple(int(x) for x in str(message.stated["version"]).split("."))[:3]
        assert result.version[:3] == wanted
    assert result.encryption is not None


async def test_the_native_login_reads_a_real_login_reply_without_the_padding() -> None:
    """pytds's MSSQLHV30 pre-login (NOT_SUP) and login reply: logged in, 'Microsoft SQL Server'
    and database SubmissionPortal, as the source states."""
    prelogin = _one(server_library_version_assert="(0xa001588, 0)")
    reply = _one(server_name="MSSQLHV30")
    async with replaying([prelogin.raw, reply.raw]) as (address, port):
        result = await probe_login(
            address, port, user="sa", password=Secret("x"), timeout=3, query=False
        )
    assert result.status is LoginStatus.OK, result.detail
    assert result.server_program == "Microsoft SQL Server"
    assert result.database == "SubmissionPortal"
    assert result.encryption == "none"
    assert result.detail == "logged in (Microsoft SQL Server); database SubmissionPortal"


async def test_a_tds71_login_failure_reaches_the_login_as_18456() -> None:
    """The honeypot's TDS 7.1 reply (ERROR with a 16-bit line, DONE with a 4-byte count) after
    its NOT_SUP pre-login: FAILED with 18456, not a token-stream error."""
    banner = next(m for m in MESSAGES if m.kind == "prelogin-response" and "honeypot" in m.server)
    failure = next(m for m in MESSAGES if m.kind == "login-failure-reply")
    assert prelogin_encryption(banner) is Encryption.NOT_SUP
    async with replaying([banner.raw, failure.raw]) as (address, port):
        result = await probe_login(
            address, port, user="sa", password=Secret("x"), timeout=3, query=False
        )
    assert result.status is LoginStatus.FAILED, result.detail
    assert [m.number for m in result.errors] == [18456]
    assert result.detail == "error 18456, state 1: Login failed for user 'sa'."


def prelogin_encryption(message: Message) -> Encryption | None:
    from tui.wire import prelogin

    return prelogin.parse_prelogin(message.payload).encryption


@contextlib.asynccontextmanager
async def browser_replaying(reply: bytes) -> AsyncIterator[str]:
    address = random_loopback()
    loop = asyncio.get_running_loop()

    class Replay(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
            self.transport.sendto(reply, addr)  # type: ignore[attr-defined]

    transport, _ = await loop.create_datagram_endpoint(Replay, local_addr=(address, 1434))
    try:
        yield address
    finally:
        transport.close()


@pytest.mark.parametrize("message", of("ssrp-response"))
async def test_the_browser_probe_reads_real_answers(message: Message) -> None:
    async with browser_replaying(message.raw) as address:
        result = await probe_browser(address, request="ex", timeout=2)
    assert result.status is BrowserStatus.ANSWERED, result.detail
    wanted = message.stated.get("instance")
    names = [i.instance for i in result.instances]
    if wanted:
        assert wanted in names
        assert result.find(str(wanted)).server_name == message.stated["server_name"]  # type: ignore[union-attr]


async def test_the_browser_probe_reads_the_real_dac_answer() -> None:
    dac = next(m for m in MESSAGES if m.kind == "ssrp-dac-response")
    async with browser_replaying(dac.raw) as address:
        result = await probe_browser(address, request="dac", instance="YUKONSTD", timeout=2)
    assert result.dac_port == dac.stated["dac_port"]


def test_the_lab_browser_answers_a_real_request_without_its_nul() -> None:
    """ESF.pl's request had no NUL after MSSQLSERVER and SQL Server 2008 SP1 answered it."""
    request = next(
        m
        for m in MESSAGES
        if m.kind == "ssrp-request" and m.stated.get("instance") == "MSSQLSERVER"
    )
    assert not request.raw.endswith(b"\x00")
    item = scenario("healthy-default")
    reply = lab_browser_answer(request.raw, item.machine_name, item.instances)
    assert reply is not None and b"InstanceName;MSSQLSERVER" in reply
