"""The early "filtered" call: a silent port is called filtered once the kernel's resend went
unanswered and the host has answered elsewhere, and never otherwise.

On loopback (random addresses): a full accept queue drops SYNs as a DROP rule does, while the
host's other ports answer with resets. Windows cannot run here: its documented behaviour (a
refusal reported after about 2 s of SYN retries, KB 175523; the first resend of an unanswered
SYN after 3 s, TcpInitialRtt) is played by stand-in connects that raise Windows' own errors
after Windows' delays. None of the Windows cases ever ran on Windows.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Awaitable, Callable

import pytest

from tests.netutil import full_backlog_listener, random_loopback
from tests.test_probe_tcp import ipv6_loopback_works
from tui.probes.tcp import Connector, HostAnswer, Silence, TcpResult, TcpStatus, probe_tcp

LONG = 30.0  # a timeout the early call must beat


def assert_called_early(silence: Silence | None, elapsed_ms: float) -> Silence:
    assert silence is not None
    # The kernel resent the first SYN (1 s on Linux) and the second SYN went unanswered too.
    assert silence.syns >= 3
    assert silence.waited_ms >= 1000
    assert elapsed_ms < LONG * 1000
    assert silence.host.what.startswith("TCP port ")
    assert silence.host.how == "a reset"
    return silence


async def test_a_dropped_port_is_called_filtered_after_the_resend(loopback: str) -> None:
    with full_backlog_listener(loopback) as port:
        result = await probe_tcp([loopback], port, timeout=LONG)
    assert result.status is TcpStatus.TIMEOUT
    (attempt,) = result.attempts
    silence = assert_called_early(attempt.silence, result.elapsed_ms)
    assert attempt.error is not None and attempt.error.number == 10060
    assert result.summary().startswith(
        f"{loopback}:{port} ignored {silence.syns} SYNs over {silence.waited_ms / 1000:.1f} s "
        f"while the host answered on {silence.host.what} in "
    )
    assert result.silence() == silence.words()
    evidence = attempt.evidence()["silence"]
    assert isinstance(evidence, dict) and evidence["syns_unanswered"] == silence.syns


@pytest.mark.skipif(not ipv6_loopback_works(), reason="no IPv6 loopback here")
async def test_a_dropped_port_is_called_filtered_early_over_ipv6() -> None:
    with full_backlog_listener("::1") as port:
        result = await probe_tcp(["::1"], port, timeout=LONG)
    assert result.status is TcpStatus.TIMEOUT
    assert_called_early(result.attempts[0].silence, result.elapsed_ms)


async def test_without_adaptive_calls_the_timeout_is_waited_out(loopback: str) -> None:
    with full_backlog_listener(loopback) as port:
        result = await probe_tcp([loopback], port, timeout=1.5, adaptive=False)
    assert result.status is TcpStatus.TIMEOUT
    assert result.attempts[0].silence is None
    assert result.elapsed_ms >= 1500 * 0.9
    assert result.silence() == "did not answer within 1.5 s"


async def test_a_short_timeout_ends_before_any_early_call(loopback: str) -> None:
    with full_backlog_listener(loopback) as port:
        result = await probe_tcp([loopback], port, timeout=0.6)
    assert result.status is TcpStatus.TIMEOUT
    assert result.attempts[0].silence is None  # the resend is due at 1 s: nothing proven yet
    assert "did not answer within 0.6 s" in result.summary()


# -- stand-in connects: another machine's behaviour, played with delays and its errors ----------


class WinRefused(ConnectionRefusedError):
    """What Python on Windows raises for a refused connect: ECONNREFUSED, winerror 10061."""

    winerror = 10061


def stand_in(behaviour: Callable[[int], tuple[float, BaseException | None]]) -> Connector:
    """A connect that waits, then raises or succeeds, by destination port; never sends a byte."""

    async def connect(sock: socket.socket, sockaddr: tuple[object, ...]) -> None:
        delay, error = behaviour(int(str(sockaddr[1])))
        await asyncio.sleep(delay)
        if error is not None:
            raise error

    return connect


SILENT = (3600.0, None)


async def against(
    behaviour: Callable[[int], tuple[float, BaseException | None]],
    *,
    timeout: float,
    platform: str = "linux",
    witness: Callable[[str], Awaitable[HostAnswer | None]] | None = None,
) -> TcpResult:
    """The probe as it runs on `platform`, against a host that behaves as `behaviour` says
    (settle 0: a stand-in connection has no peer to watch)."""
    return await probe_tcp(
        [random_loopback()],
        1433,
        timeout=timeout,
        settle=0,
        platform=platform,
        witness=witness,
        connect=stand_in(behaviour),
    )


async def on_windows(
    behaviour: Callable[[int], tuple[float, BaseException | None]], timeout: float
) -> TcpResult:
    return await against(behaviour, timeout=timeout, platform="win32")


def windows_refusal() -> tuple[float, BaseException]:
    return 2.0, WinRefused(errno.ECONNREFUSED, "No connection could be made")


async def test_windows_a_refusal_that_took_2_s_is_refused_under_a_1_s_timeout() -> None:
    """KB 175523: Windows retries a SYN that met a reset, so 'refused' arrives after ~2 s."""
    result = await on_windows(lambda port: windows_refusal(), timeout=1.0)
    assert result.status is TcpStatus.REFUSED
    (attempt,) = result.attempts
    assert attempt.error is not None and attempt.error.label() == "10061 WSAECONNREFUSED"
    assert attempt.elapsed_ms >= 2000
    assert result.timeout == 3.0  # raised: under 3 s a refusal could not be told on Windows


async def test_windows_a_refusal_is_not_called_filtered_though_the_host_answered_fast() -> None:
    """Port 445 accepts at once; 1433's refusal takes 2 s: it is refused, never 'filtered'."""

    def host(port: int) -> tuple[float, BaseException | None]:
        return (0.001, None) if port == 445 else windows_refusal()

    result = await on_windows(host, timeout=LONG)
    assert result.status is TcpStatus.REFUSED
    assert result.attempts[0].silence is None


async def test_windows_a_silent_port_is_called_filtered_only_after_its_3_s_resend() -> None:
    def host(port: int) -> tuple[float, BaseException | None]:
        return (0.001, None) if port == 445 else SILENT

    result = await on_windows(host, timeout=LONG)
    assert result.status is TcpStatus.TIMEOUT
    silence = result.attempts[0].silence
    assert silence is not None
    assert silence.waited_ms >= 3000
    assert (silence.host.what, silence.host.how) == ("TCP port 445", "accepted")
    assert silence.syns == 3  # the first SYN, its resend at 3 s, and the second SYN


async def test_windows_a_short_timeout_still_waits_3_s_for_a_silent_port() -> None:
    result = await on_windows(lambda port: SILENT, timeout=1.0)
    assert result.status is TcpStatus.TIMEOUT
    assert result.elapsed_ms >= 3000 * 0.95
    assert "did not answer within 3 s" in result.summary()


async def test_macos_and_linux_keep_the_timeout_given() -> None:
    for platform in ("darwin", "linux"):
        result = await against(lambda port: SILENT, timeout=0.3, platform=platform)
        assert result.timeout == 0.3
        assert result.status is TcpStatus.TIMEOUT


async def test_nothing_else_answering_means_the_timeout_is_waited_out() -> None:
    """A host that answers nothing (every port silent, no Browser): no evidence, no early call."""

    async def nobody(address: str) -> HostAnswer | None:
        return None

    result = await against(lambda port: SILENT, timeout=1.6, witness=nobody)
    assert result.status is TcpStatus.TIMEOUT
    assert result.attempts[0].silence is None
    assert result.elapsed_ms >= 1600 * 0.95


async def test_the_browser_answer_is_enough_evidence() -> None:
    """The step passes the Browser's answer (its ICMP or its reply) as the host's round trip."""

    async def browser(address: str) -> HostAnswer:
        return HostAnswer(address, "UDP port 1434", "ICMP port unreachable", 0.3)

    result = await against(lambda port: SILENT, timeout=LONG, witness=browser)
    silence = result.attempts[0].silence
    assert silence is not None and silence.host.what == "UDP port 1434"
    assert "answered on UDP port 1434 in 0.3 ms (ICMP port unreachable)" in result.summary()


async def test_a_late_answer_from_a_slow_host_is_waited_for() -> None:
    """The host answers elsewhere in 300 ms; the port's SYN-ACK comes at 1.9 s (its resend at
    1 s plus a slow round trip): 4 round trips after the resend is 2.2 s, so it is connected."""

    def host(port: int) -> tuple[float, BaseException | None]:
        return (0.3, WinRefused(errno.ECONNREFUSED, "refused")) if port == 445 else (1.9, None)

    result = await against(host, timeout=LONG)
    assert result.status is TcpStatus.CONNECTED


def recording_silence() -> tuple[list[int], Connector]:
    """A host where nothing answers, and the ports it was asked for."""
    asked: list[int] = []

    def host(port: int) -> tuple[float, BaseException | None]:
        asked.append(port)
        return SILENT

    return asked, stand_in(host)


async def test_nothing_is_knocked_on_when_the_timeout_ends_before_the_resend() -> None:
    asked, connect = recording_silence()
    result = await probe_tcp([random_loopback()], 1433, timeout=1.0, connect=connect)
    assert result.status is TcpStatus.TIMEOUT
    assert asked == [1433]  # one SYN: no second one, no other port


async def test_the_knocks_and_the_second_syn_when_an_early_call_is_possible() -> None:
    asked, connect = recording_silence()
    await probe_tcp([random_loopback()], 1433, timeout=1.5, connect=connect)
    assert sorted(asked) == sorted([1433, 1433, 445, 135, 22, 80, 443, 3389])
