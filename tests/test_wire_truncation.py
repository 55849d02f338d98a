"""Every prefix and every single-byte corruption of real-shaped messages: WireError or a result,
never another exception."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from tui.wire import login7, prelogin, ssrp, tokens
from tui.wire.errors import WireError

SAMPLES: dict[str, tuple[Callable[[bytes], object], bytes]] = {
    "prelogin": (prelogin.parse_prelogin, prelogin.build_client_prelogin(instance="SQLEXPRESS")),
    "prelogin answer": (
        prelogin.parse_prelogin,
        prelogin.build_server_answer(
            prelogin.Prelogin(options=(0, 1, 2, 3, 4, 5)),
            version=(15, 0, 2000, 5),
            encryption=prelogin.Encryption.REQ,
        ),
    ),
    "login7": (
        login7.parse_login7,
        login7.build_login7(
            user="sa",
            password="pw",
            database="db",
            host_name="h",
            server_name="s",
            sspi=b"NTLMSSP\x00",
        ),
    ),
    "tokens": (
        tokens.parse_tokens,
        tokens.env_database("master")
        + tokens.error(18456, "Login failed for user 'sa'.")
        + tokens.login_ack()
        + tokens.result_set(["a", "b"], [["1", None], ["x", "y"]])
        + tokens.done(tokens.DONE_COUNT, 2),
    ),
    "ssrp": (
        ssrp.parse_response,
        ssrp.build_response(
            [
                ssrp.Instance("H", "A", False, "16.0", 1433, "\\\\H\\pipe\\q"),
                ssrp.Instance("H", "B", True, "15.0", None, None, (("via", "H,0:1"),)),
            ]
        ),
    ),
    "ssrp dac": (ssrp.parse_dac_response, ssrp.build_dac_response(1434)),
    "ssrp request": (ssrp.parse_request, ssrp.build_ucast_dac("SQLEXPRESS")),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_prefix(name: str) -> None:
    parse, data = SAMPLES[name]
    parse(data)  # the whole sample parses
    for cut in range(len(data)):
        with contextlib.suppress(WireError):
            parse(data[:cut])


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_single_byte_corruption(name: str) -> None:
    parse, data = SAMPLES[name]
    for position in range(len(data)):
        for value in (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, data[position] ^ 0x55):
            corrupted = data[:position] + bytes([value]) + data[position + 1 :]
            with contextlib.suppress(WireError):
                parse(corrupted)
