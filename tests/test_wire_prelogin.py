"""PRELOGIN: the observed FreeTDS bytes, the echo-rule answer, negotiation, hostile payloads."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.wire import prelogin, tds
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption

# wire-protocols.md §2: FreeTDS's request (observed) and an answer every client accepted.
FREETDS_REQUEST = (
    bytes.fromhex(
        "12 01 00 3a 00 00 01 00"
        "00 00 1a 00 06 01 00 20 00 01 02 00 21 00 0c 03 00 2d 00 04 04 00 31 00 01 ff"
        "09 00 00 00 00 00 00"
    )
    + b"MSSQLServer\x00"
    + bytes.fromhex("27 1e 00 00 00")
)
ACCEPTED_ANSWER = bytes.fromhex(
    "04 01 00 2b 00 00 01 00"
    "00 00 1a 00 06 01 00 20 00 01 02 00 21 00 01 03 00 22 00 00 04 00 22 00 01 ff"
    "0f 00 07 d0 00 00 02 00 00"
)
# MS-TDS section 4.1, "Pre-Login Request" (a SQL Server 2000-era client).
SPEC_REQUEST = bytes.fromhex(
    "12 01 00 34 00 00 01 00 00 00 15 00 06 01 00 1B"
    "00 01 02 00 1C 00 0C 03 00 28 00 04 FF 08 00 01"
    "55 00 00 00 4D 53 53 51 4C 53 65 72 76 65 72 00"
    "80 19 00 00"
)


def test_freetds_request() -> None:
    parsed = prelogin.parse_prelogin(FREETDS_REQUEST[8:])
    assert parsed == prelogin.Prelogin(
        version=(9, 0, 0, 0),
        encryption=Encryption.OFF,
        instance="MSSQLServer",
        thread_id=0x1E27,
        mars=False,
        options=(0, 1, 2, 3, 4),
    )


def test_spec_request() -> None:
    parsed = prelogin.parse_prelogin(SPEC_REQUEST[8:])
    assert parsed.version == (8, 0, 341, 0)
    assert parsed.encryption is Encryption.OFF
    assert parsed.instance == "MSSQLServer"
    assert parsed.mars is None
    assert parsed.options == (0, 1, 2, 3)


def test_echo_rule_answer_is_the_accepted_bytes() -> None:
    client = prelogin.parse_prelogin(FREETDS_REQUEST[8:])
    answer = prelogin.build_server_answer(
        client, version=(15, 0, 2000, 0), encryption=Encryption.NOT_SUP
    )
    assert tds.encode_message(tds.PacketType.REPLY, answer) == ACCEPTED_ANSWER


def test_accepted_answer_parses() -> None:
    parsed = prelogin.parse_prelogin(ACCEPTED_ANSWER[8:])
    assert parsed.version == (15, 0, 2000, 0)
    assert parsed.encryption is Encryption.NOT_SUP
    assert parsed.instopt == 0
    assert parsed.thread_id is None
    assert parsed.mars is False
    assert prelogin.product_name(parsed.version) == "SQL Server 2019"


def test_client_prelogin_matches_freetds_layout() -> None:
    built = prelogin.build_client_prelogin(
        encryption=Encryption.OFF, instance="MSSQLServer", version=(9, 0, 0, 0), thread_id=0x1E27
    )
    assert tds.encode_message(tds.PacketType.PRELOGIN, built) == FREETDS_REQUEST


def test_echo_rule_drops_fedauth_nonce_and_unknown_options_and_keeps_order() -> None:
    client = prelogin.Prelogin(options=(4, 2, 0, 6, 1, 7, 5, 0x33, 3))
    answer = prelogin.parse_prelogin(
        prelogin.build_server_answer(
            client, version=(16, 0, 1000, 6), encryption=Encryption.OFF, instance_ok=False
        )
    )
    assert answer.options == (4, 2, 0, 1, 5, 3)
    assert answer.instopt == 1
    assert answer.instance is None
    assert answer.thread_id is None
    assert answer.trace_id is None
    assert answer.mars is False


def test_answer_always_has_version_and_encryption() -> None:
    answer = prelogin.parse_prelogin(
        prelogin.build_server_answer(
            prelogin.Prelogin(options=(2,)), version=(14, 0, 1000, 0), encryption=Encryption.REQ
        )
    )
    assert answer.options == (0, 1, 2)
    assert answer.encryption is Encryption.REQ


def test_client_cert_bit_is_kept_apart() -> None:
    parsed = prelogin.parse_prelogin(
        prelogin.build_client_prelogin(encryption=Encryption.ON, client_cert=True)
    )
    assert parsed.encryption is Encryption.ON
    assert parsed.client_cert is True


def test_trace_fedauth_and_nonce_are_read() -> None:
    trace = bytes(range(36))
    nonce = bytes(range(32))
    payload = (
        struct.pack(">BHH", 5, 16, 36)
        + struct.pack(">BHH", 6, 52, 1)
        + struct.pack(">BHH", 7, 53, 32)
        + b"\xff"
        + trace
        + b"\x01"
        + nonce
    )
    parsed = prelogin.parse_prelogin(payload)
    assert (parsed.trace_id, parsed.fedauth_required, parsed.nonce) == (trace, True, nonce)


def test_a_bare_terminator_is_an_empty_prelogin() -> None:
    assert prelogin.parse_prelogin(b"\xff") == prelogin.Prelogin()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"", "option token needs 1 bytes"),
        (b"\x00\x00", "option offset"),
        (b"\x00\x00\x05\x00\x00", "option token"),  # no terminator
        (b"\x00\x00\x06\x00\x06\xff", "points at bytes 6..12 of a 6-byte payload"),
        (b"\x00\x00\x0b\x00\x01\x00\x00\x0b\x00\x01\xff\x00", "appears twice"),
        (b"\x00\x00\x06\x00\x01\xff\x00", "0x00 is 1 bytes long; it should be 6"),
        (b"\x01\x00\x06\x00\x01\xff\x07", "encryption value 0x07 is unknown"),
        (b"\x04\x00\x06\x00\x01\xff\x02", "MARS value 0x02"),
        (b"\x03\x00\x06\x00\x02\xff\x00\x00", "0x03 is 2 bytes long"),
    ],
)
def test_lying_payloads(payload: bytes, fragment: str) -> None:
    with pytest.raises(WireError, match=fragment):
        prelogin.parse_prelogin(payload)


def test_negotiation_table() -> None:
    expected = {
        ("OFF", "OFF"): ("OFF", None),
        ("OFF", "ON"): ("REQ", None),
        ("OFF", "NOT_SUP"): ("NOT_SUP", None),
        ("ON", "OFF"): ("ON", None),
        ("ON", "ON"): ("ON", None),
        ("ON", "NOT_SUP"): ("NOT_SUP", "client"),
        ("NOT_SUP", "OFF"): ("NOT_SUP", None),
        ("NOT_SUP", "ON"): ("REQ", "server"),
        ("NOT_SUP", "NOT_SUP"): ("NOT_SUP", None),
        ("REQ", "OFF"): ("ON", None),
        ("REQ", "ON"): ("ON", None),
        ("REQ", "NOT_SUP"): ("NOT_SUP", "client"),
    }
    for (client, server), (result, ended_by) in expected.items():
        outcome = prelogin.negotiate(Encryption[client], Encryption[server])
        assert (outcome.result.name, outcome.ended_by, outcome.ends) == (
            result,
            ended_by,
            ended_by is not None,
        )
    assert prelogin.negotiate(Encryption.OFF, Encryption.OFF).login_only
    assert not prelogin.negotiate(Encryption.OFF, Encryption.NOT_SUP).login_only
    assert prelogin.negotiate(Encryption.OFF, Encryption.ON).encrypted
    assert not prelogin.negotiate(Encryption.NOT_SUP, Encryption.ON).encrypted
    # A server that answers REQ forces encryption: it reads as the ON column.
    assert prelogin.negotiate(Encryption.NOT_SUP, Encryption.REQ).ended_by == "server"


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ((9, 0, 1399, 6), "SQL Server 2005"),
        ((10, 0, 1600, 0), "SQL Server 2008"),
        ((10, 50, 1600, 0), "SQL Server 2008 R2"),
        ((11, 0, 2100, 0), "SQL Server 2012"),
        ((12, 0, 2000, 0), "SQL Server 2014"),
        ((13, 0, 1601, 0), "SQL Server 2016"),
        ((14, 0, 1000, 0), "SQL Server 2017"),
        ((15, 0, 2000, 0), "SQL Server 2019"),
        ((16, 0, 1000, 0), "SQL Server 2022"),
        ((17, 0, 800, 0), "SQL Server 2025"),
        ((10, 25, 0, 0), "SQL Server version 10.25"),
        ((42, 1, 0, 0), "SQL Server version 42.1"),
    ],
)
def test_product_names(version: tuple[int, int, int, int], name: str) -> None:
    assert prelogin.product_name(version) == name


versions = st.tuples(
    st.integers(0, 255), st.integers(0, 255), st.integers(0, 65_535), st.integers(0, 65_535)
)


@given(
    st.sampled_from(list(Encryption)),
    st.none() | st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=40),
    versions,
    st.integers(0, 2**32 - 1),
    st.booleans(),
    st.booleans(),
)
def test_client_round_trip(
    encryption: Encryption,
    instance: str | None,
    version: tuple[int, int, int, int],
    thread_id: int,
    mars: bool,
    cert: bool,
) -> None:
    parsed = prelogin.parse_prelogin(
        prelogin.build_client_prelogin(
            encryption=encryption,
            instance=instance,
            version=version,
            thread_id=thread_id,
            mars=mars,
            client_cert=cert,
        )
    )
    assert parsed.encryption is encryption
    assert parsed.client_cert is cert
    assert parsed.instance == (instance or "")
    assert parsed.version == version
    assert parsed.thread_id == thread_id
    assert parsed.mars is mars


@given(
    st.lists(st.integers(0, 0xFE), unique=True, max_size=10),
    versions,
    st.sampled_from(list(Encryption)),
    st.booleans(),
)
def test_server_round_trip(
    options: list[int], version: tuple[int, int, int, int], encryption: Encryption, ok: bool
) -> None:
    answer = prelogin.parse_prelogin(
        prelogin.build_server_answer(
            prelogin.Prelogin(options=tuple(options)),
            version=version,
            encryption=encryption,
            instance_ok=ok,
        )
    )
    assert answer.version == version
    assert answer.encryption is encryption
    assert not set(answer.options) & {6, 7}
    assert set(answer.options) <= {0, 1, 2, 3, 4, 5}
    if 2 in options:
        assert answer.instopt == (0 if ok else 1)


@settings(max_examples=500)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_wire_error(data: bytes) -> None:
    with contextlib.suppress(WireError):
        prelogin.parse_prelogin(data)


@settings(max_examples=500)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 0x42]),
            st.integers(0, 300),
            st.integers(0, 300),
        ),
        max_size=8,
    ),
    st.binary(max_size=120),
)
def test_option_tables_with_lying_offsets_raise_only_wire_error(
    entries: list[tuple[int, int, int]], data: bytes
) -> None:
    payload = b"".join(struct.pack(">BHH", *entry) for entry in entries) + b"\xff" + data
    with contextlib.suppress(WireError):
        prelogin.parse_prelogin(payload)
