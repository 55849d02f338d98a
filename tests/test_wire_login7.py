"""LOGIN7: obfuscation, round trips at 7.1 to 8.0 widths, secrets out of repr, lying lengths."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.secret import Secret
from tui.wire import login7
from tui.wire.errors import WireError


def test_obfuscation_known_bytes() -> None:
    # 'a' = 61 00: swap nibbles -> 16 00, XOR A5 -> B3 A5
    assert login7.obfuscate("a") == bytes.fromhex("b3 a5")
    assert login7.deobfuscate(bytes.fromhex("b3 a5")) == "a"


@given(st.text(max_size=64))
def test_obfuscation_agrees_with_pytds(password: str) -> None:
    pytds_base = pytest.importorskip("pytds.tds_base")
    try:
        expected = bytes(pytds_base.tds7_crypt_pass(password))
    except UnicodeEncodeError:
        return  # pytds refuses lone surrogates; nobody types them
    assert login7.obfuscate(password) == expected
    assert login7.deobfuscate(expected) == password


def test_deobfuscate_refuses_odd_lengths() -> None:
    with pytest.raises(WireError):
        login7.deobfuscate(b"\x01")


def test_round_trip_7_4() -> None:
    payload = login7.build_login7(
        user="sa",
        password="S3cret!pass",
        database="master",
        host_name="ws01",
        server_name="db01",
        language="us_english",
        packet_size=8000,
        client_pid=4242,
        read_only=True,
    )
    parsed = login7.parse_login7(payload)
    assert parsed.tds_version == login7.TDS74
    assert parsed.version_name == "7.4"
    assert (parsed.user, parsed.database, parsed.host_name, parsed.server_name) == (
        "sa",
        "master",
        "ws01",
        "db01",
    )
    assert (parsed.app_name, parsed.library, parsed.language) == (
        "sqlreach",
        "sqlreach",
        "us_english",
    )
    assert parsed.password == Secret("S3cret!pass")
    assert parsed.password.reveal() == "S3cret!pass"
    assert (parsed.packet_size, parsed.client_pid, parsed.client_lcid) == (8000, 4242, 0x0409)
    assert parsed.read_only_intent
    assert not parsed.integrated
    assert struct.unpack_from("<I", payload)[0] == len(payload)
    assert payload[4:8] == bytes.fromhex("04 00 00 74")
    assert struct.unpack_from("<H", payload, 36)[0] == 94  # ibHostName: data after 94 bytes


def test_password_never_in_repr_or_str() -> None:
    parsed = login7.parse_login7(
        login7.build_login7(
            user="u", password="hunter2-very-secret", host_name="h", server_name="s"
        )
    )
    assert "hunter2" not in repr(parsed)
    assert "hunter2" not in str(parsed)
    assert "hunter2" not in f"{parsed}"


@pytest.mark.parametrize(
    ("version", "wire", "fixed"),
    [
        (login7.TDS71, "00 00 00 71", 86),
        (login7.TDS71_REV1, "01 00 00 71", 86),
        (login7.TDS72, "02 00 09 72", 94),
        (login7.TDS73A, "03 00 0a 73", 94),
        (login7.TDS73B, "03 00 0b 73", 94),
        (login7.TDS74, "04 00 00 74", 94),
        (login7.TDS80, "00 00 00 08", 94),
    ],
)
def test_versions_and_field_widths(version: int, wire: str, fixed: int) -> None:
    payload = login7.build_login7(
        user="sa", password="x", host_name="h", server_name="s", database="db", tds_version=version
    )
    assert payload[4:8] == bytes.fromhex(wire)
    assert struct.unpack_from("<H", payload, 36)[0] == fixed
    parsed = login7.parse_login7(payload)
    assert (parsed.tds_version, parsed.user, parsed.password.reveal(), parsed.database) == (
        version,
        "sa",
        "x",
        "db",
    )


def test_71_with_the_94_byte_layout_as_impacket_sends() -> None:
    wide = login7.build_login7(
        user="sa", password="pw", host_name="h", server_name="s", tds_version=login7.TDS74
    )
    as_71 = wide[:4] + struct.pack("<I", login7.TDS71) + wide[8:]
    parsed = login7.parse_login7(as_71)
    assert (parsed.user, parsed.password.reveal()) == ("sa", "pw")


def test_integrated_security_and_sspi() -> None:
    blob = b"NTLMSSP\x00\x01\x00\x00\x00" + bytes(20)
    parsed = login7.parse_login7(
        login7.build_login7(
            user="", password="", host_name="h", server_name="s", integrated=True, sspi=blob
        )
    )
    assert parsed.integrated
    assert parsed.sspi == blob
    assert parsed.user == ""


def test_long_sspi_uses_cbsspilong() -> None:
    blob = bytes(range(256)) * 300  # 76,800 bytes: too long for a u16 length
    with pytest.raises(WireError):
        login7.build_login7(
            user="", password="", host_name="h", server_name="s", integrated=True, sspi=blob
        )


def test_feature_ext_ids_are_read() -> None:
    payload = bytearray(
        login7.build_login7(user="sa", password="x", host_name="h", server_name="s")
    )
    # Append a pointer and a FeatureExt block (UTF8_SUPPORT 0x0a, 1 byte), then point at it.
    pointer_at = len(payload)
    block_at = pointer_at + 4
    payload += struct.pack("<I", block_at) + b"\x0a" + struct.pack("<I", 1) + b"\x01" + b"\xff"
    struct.pack_into("<HH", payload, 56, pointer_at, 4)
    payload[27] |= login7.EXTENSION
    struct.pack_into("<I", payload, 0, len(payload))
    assert login7.parse_login7(bytes(payload)).features == (0x0A,)


def test_builder_limits_do_not_echo_the_password() -> None:
    with pytest.raises(WireError) as caught:
        login7.build_login7(
            user="sa", password="p" * 129 + "SECRET", host_name="h", server_name="s"
        )
    assert "SECRET" not in str(caught.value)
    with pytest.raises(WireError):
        login7.build_login7(user="u" * 129, password="", host_name="h", server_name="s")


def _valid() -> bytes:
    return login7.build_login7(
        user="sa", password="pw", database="db", host_name="h", server_name="s"
    )


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda p: p[:50], "Length says"),
        (lambda p: p + b"\x00", "Length says"),
        (lambda p: struct.pack("<I", 6) + p[4:6], "TDSVersion"),
        (lambda p: p[:4] + struct.pack("<I", 0x55000000) + p[8:], "is not 7.0 to 8.0"),
        (lambda p: p[:40] + struct.pack("<HH", 90, 2) + p[44:], "user name claims bytes 90"),
        (lambda p: p[:44] + struct.pack("<HH", 200, 500) + p[48:], "password claims bytes"),
        (lambda p: p[:68] + struct.pack("<HH", 60000, 1) + p[72:], "database claims"),
    ],
)
def test_lying_logins(mutate, fragment: str) -> None:
    with pytest.raises(WireError, match=fragment):
        login7.parse_login7(mutate(_valid()))


texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@given(
    texts,
    texts,
    texts,
    texts,
    texts,
    st.sampled_from([login7.TDS71, login7.TDS72, login7.TDS73B, login7.TDS74]),
)
def test_round_trip(
    user: str, password: str, database: str, host: str, server: str, version: int
) -> None:
    parsed = login7.parse_login7(
        login7.build_login7(
            user=user,
            password=password,
            database=database,
            host_name=host,
            server_name=server,
            tds_version=version,
        )
    )
    assert (
        parsed.user,
        parsed.password.reveal(),
        parsed.database,
        parsed.host_name,
        parsed.server_name,
        parsed.tds_version,
    ) == (user, password, database, host, server, version)


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_wire_error(data: bytes) -> None:
    with contextlib.suppress(WireError):
        login7.parse_login7(data)


@settings(max_examples=500)
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300)), min_size=13, max_size=13),
    st.sampled_from([login7.TDS71, login7.TDS74]),
    st.binary(max_size=200),
    st.integers(0, 255),
)
@pytest.mark.slow
def test_headers_with_lying_offsets_raise_only_wire_error(
    pairs: list[tuple[int, int]], version: int, tail: bytes, flags3: int
) -> None:
    fixed = struct.pack("<IIIIIIBBBBiI", 0, version, 4096, 0, 0, 0, 0, 0, 0, flags3, 0, 0)
    body = b"".join(struct.pack("<HH", *pair) for pair in pairs[:9]) + bytes(6)
    body += b"".join(struct.pack("<HH", *pair) for pair in pairs[9:]) + b"\x00\x00\x00\x00"
    payload = bytearray(fixed + body + tail)
    struct.pack_into("<I", payload, 0, len(payload))
    with contextlib.suppress(WireError):
        login7.parse_login7(bytes(payload))
