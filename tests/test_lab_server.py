"""The lab's own behaviour: the Browser by the specification, hostile clients, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from tests.lab_fixtures import running
from tests.netutil import random_loopback
from tui.lab.scenarios import DYNAMIC_PORT, NAMED_DAC_PORT, SCENARIOS, scenario
from tui.probes.browser import BrowserStatus, probe_browser
from tui.wire import prelogin, tds


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_browser_answers_by_the_specification() -> None:
    async with running("healthy-named") as lab:
        ex = await probe_browser(lab.address, request="ex", timeout=1)
        inst = await probe_browser(lab.address, request="inst", instance="sales", timeout=1)
        no_dac = await probe_browser(lab.address, request="dac", instance="SALES", timeout=0.3)
        unknown = await probe_browser(lab.address, request="inst", instance="HR", timeout=0.3)
        loop = asyncio.get_running_loop()
        garbage_answers: list[bytes] = []

        class Listener(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: object) -> None:
                garbage_answers.append(data)

        transport, _ = await loop.create_datagram_endpoint(
            Listener, remote_addr=(lab.address, 1434)
        )
        for junk in (b"", b"\x05", b"\x04" + b"A" * 200, os.urandom(64), b"\xff" * 1000):
            transport.sendto(junk)
        await asyncio.sleep(0.2)
        transport.close()
    assert ex.status is BrowserStatus.ANSWERED and ex.find("SALES") is not None
    assert ex.find("SALES").tcp_port == DYNAMIC_PORT  # type: ignore[union-attr]
    assert inst.status is BrowserStatus.ANSWERED
    # The DAC port only where a DAC listens (this lab's SALES has none): silence, never 1434
    assert no_dac.status is BrowserStatus.SILENT
    async with running("dac-named") as lab:
        dac = await probe_browser(lab.address, request="dac", instance="SALES", timeout=1)
        _, writer = await asyncio.open_connection(lab.address, NAMED_DAC_PORT)
        writer.close()
    assert dac.dac_port == NAMED_DAC_PORT  # and something listens there
    assert unknown.status is BrowserStatus.SILENT  # the specification: unknown means silence
    assert garbage_answers == []


async def test_browser_stopped_and_dropped() -> None:
    async with running("browser-stopped") as lab:
        stopped = await probe_browser(lab.address, timeout=1)
    async with running("udp-blocked") as lab:
        dropped = await probe_browser(lab.address, timeout=0.3)
    assert stopped.status is BrowserStatus.REFUSED
    assert dropped.status is BrowserStatus.SILENT


async def test_every_scenario_starts_and_stops_without_leaks() -> None:
    before_fds = _fds()
    before_tasks = len(asyncio.all_tasks())
    for item in SCENARIOS:
        async with running(item) as lab:
            assert lab.address.startswith("127.")
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before_tasks
    assert _fds() <= before_fds + 1


async def _prelogin_roundtrip(address: str) -> prelogin.Prelogin:
    reader, writer = await asyncio.open_connection(address, 1433)
    writer.write(tds.encode_message(tds.PacketType.PRELOGIN, prelogin.build_client_prelogin()))
    await writer.drain()
    message = await tds.read_message(reader, timeout=2)
    writer.close()
    return prelogin.parse_prelogin(message.payload)


async def test_survives_hostile_clients() -> None:
    async with running("healthy-default") as lab:
        address = lab.address
        # garbage, half packets, lying lengths
        for junk in (
            os.urandom(300),
            b"\x12\x01\x00",
            b"\x12\x01\xff\xff" + b"\x00" * 20,
            b"\x10\x01\x00\x20" + b"\x00" * 28,
        ):
            _reader, writer = await asyncio.open_connection(address, 1433)
            writer.write(junk)
            await writer.drain()
            writer.close()
        # a client that sends a PRELOGIN and never reads the answer
        lazy = socket.create_connection((address, 1433))
        lazy.sendall(tds.encode_message(tds.PacketType.PRELOGIN, prelogin.build_client_prelogin()))
        # still serving
        answer = await _prelogin_roundtrip(address)
        lazy.close()
    assert answer.version is not None and answer.version[0] == 16


@pytest.mark.slow
async def test_ten_thousand_rapid_connections() -> None:
    before = _fds()
    async with running("healthy-default") as lab:
        semaphore = asyncio.Semaphore(200)

        async def touch() -> None:
            async with semaphore:
                _, writer = await asyncio.open_connection(lab.address, 1433)
                writer.close()
                await writer.wait_closed()

        await asyncio.gather(*(touch() for _ in range(10_000)))
        answer = await _prelogin_roundtrip(lab.address)
    assert answer.version is not None
    await asyncio.sleep(0.1)
    assert _fds() <= before + 2


async def test_http_stall_reset_listeners() -> None:
    async with running("http-on-1433") as lab:
        reader, writer = await asyncio.open_connection(lab.address, 1433)
        writer.write(b"\x12\x01\x00\x08\x00\x00\x01\x00")
        await writer.drain()
        data = await asyncio.wait_for(reader.read(100), 2)
        writer.close()
    assert data.startswith(b"HTTP/1.1 400")
    async with running("server-resets") as lab:
        reader, writer = await asyncio.open_connection(lab.address, 1433)
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(100), 2)
        writer.close()


def test_scenarios_are_documented() -> None:
    for item in SCENARIOS:
        assert item.title and item.imitates and item.lesson
        # the target leads to the lab: its address, or a name the lab's own DNS gives it
        names = {name for name, values in item.names if "{address}" in values}
        assert "{address}" in item.target or any(name in item.target for name in names)
    assert scenario("moved-port").instances[0].port == 1500
    with pytest.raises(KeyError, match="healthy-default"):
        scenario("nope")
    assert random_loopback().startswith("127.")


def test_a_busy_address_gets_a_plain_message() -> None:
    import subprocess
    import sys

    from tests.lab_fixtures import running

    with running("healthy-default") as lab:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "lab",
                "start",
                "healthy-default",
                "--address",
                lab.address,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert "cannot listen" in done.stdout and "Traceback" not in done.stderr


def test_a_missing_loopback_address_says_how_to_add_it() -> None:
    import errno

    from tui.commands.lab import cannot_listen

    error = OSError(errno.EADDRNOTAVAIL, "Can't assign requested address")
    text = cannot_listen(error, [(scenario("moved-port"), "127.0.0.13")])
    assert "sudo ifconfig lo0 alias 127.0.0.13 up" in text
    assert "--address 127.0.0.1" in text


async def test_session_ids_and_program_name_as_real_servers_send_them() -> None:
    """Real servers answer the pre-login as session 0 and the login with the session's own id
    (pytds's and the honeypot's captures in tests/corpus/wire_bytes.toml), and pad LOGINACK's
    program name with two NULs. The scenario without TLS keeps the login readable here."""
    from tui.wire import login7, tokens

    async with running("encryption-unsupported") as lab:
        reader, writer = await asyncio.open_connection(lab.address, 1433)
        writer.write(
            tds.encode_message(
                tds.PacketType.PRELOGIN,
                prelogin.build_client_prelogin(encryption=prelogin.Encryption.NOT_SUP),
            )
        )
        first = await reader.readexactly(8)
        await reader.readexactly(int.from_bytes(first[2:4], "big") - 8)
        login = login7.build_login7(
            user="sa", password="Lab-Passw0rd!", host_name="t", server_name=lab.address
        )
        writer.write(tds.encode_message(tds.PacketType.LOGIN7, login))
        header = await reader.readexactly(8)
        payload = await reader.readexactly(int.from_bytes(header[2:4], "big") - 8)
        writer.close()
    assert first[4:6] == b"\x00\x00"  # the pre-login answer: session 0
    assert int.from_bytes(header[4:6], "big") >= 51  # the login answer: the session's id
    assert bytes([22]) + "Microsoft SQL Server\x00\x00".encode("utf-16-le") in payload
    ack = next(t for t in tokens.parse_tokens(payload) if isinstance(t, tokens.LoginAck))
    assert ack.prog_name == "Microsoft SQL Server"
