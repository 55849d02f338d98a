"""Reply tokens: a login reply, a failed login, result sets, version widths, hostile streams."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.wire import login7, tokens
from tui.wire.errors import WireError
from tui.wire.tokens import (
    ColMetadata,
    Column,
    Done,
    EnvChange,
    LoginAck,
    Routing,
    Row,
    ServerMessage,
)


def test_successful_login_reply_round_trips() -> None:
    reply = (
        tokens.env_database("master", "")
        + tokens.info(5701, "Changed database context to 'master'.", state=2, server="LAB", line=1)
        + tokens.env_language("us_english")
        + tokens.env_collation()
        + tokens.env_packet_size(4096, 4096)
        + tokens.login_ack(prog_name="Microsoft SQL Server", prog_version=(16, 0, 1000))
        + tokens.done(tokens.DONE_FINAL)
    )
    parsed = tokens.parse_tokens(reply)
    assert parsed == (
        EnvChange(1, "master", ""),
        ServerMessage("info", 5701, 2, 0, "Changed database context to 'master'.", "LAB", "", 1),
        EnvChange(2, "us_english", ""),
        EnvChange(7, tokens.DEFAULT_COLLATION, b""),
        EnvChange(4, "4096", "4096"),
        LoginAck(1, login7.TDS74, "Microsoft SQL Server", (16, 0, 1000)),
        Done("DONE", 0, 0, 0),
    )


def test_login_ack_bytes() -> None:
    # AD, length 0x32, interface 1, version 74 00 00 04 (big-endian), B_VARCHAR name, 10 00 03 e8
    ack = tokens.login_ack(prog_name="Microsoft SQL Server", prog_version=(16, 0, 1000))
    assert ack[:8] == bytes.fromhex("ad 32 00 01 74 00 00 04")
    assert ack[8] == 20
    assert ack[-4:] == bytes.fromhex("10 00 03 e8")


def test_login_failure_as_clients_see_it() -> None:
    reply = (
        tokens.error(
            4060,
            'Cannot open database "nope" requested by the login. The login failed.',
            state=1,
            severity=11,
            server="LAB",
        )
        + tokens.error(18456, "Login failed for user 'sa'.", server="LAB")
        + tokens.done(tokens.DONE_ERROR)
    )
    first, second, last = tokens.parse_tokens(reply)
    assert isinstance(first, ServerMessage) and first.number == 4060 and first.severity == 11
    assert second == ServerMessage(
        "error", 18456, 1, 14, "Login failed for user 'sa'.", "LAB", "", 1
    )
    assert isinstance(last, Done) and last.error and not last.more


def test_tds71_widths() -> None:
    old_error = tokens.error(18456, "Login failed.", line=7, tds_version=login7.TDS71)
    assert len(old_error) == len(tokens.error(18456, "Login failed.")) - 2
    # The line number width is read from the token's length, whatever the caller assumed.
    for assumed in (login7.TDS71, login7.TDS74):
        (message,) = tokens.parse_tokens(old_error, tds_version=assumed)
        assert isinstance(message, ServerMessage) and message.line == 7
    old_done = tokens.done(tokens.DONE_COUNT | tokens.DONE_MORE, 7, tds_version=login7.TDS71)
    assert len(old_done) == 9
    (done,) = tokens.parse_tokens(old_done, tds_version=login7.TDS71)
    assert done == Done("DONE", 0x11, 0, 7)
    assert isinstance(done, Done) and done.has_count and done.more


def test_login_ack_switches_the_rowcount_width() -> None:
    reply = tokens.login_ack(tds_version=login7.TDS71_REV1) + tokens.done(
        tokens.DONE_COUNT, rowcount=3, tds_version=login7.TDS71
    )
    ack, done = tokens.parse_tokens(reply)  # caller assumed 7.4; the LOGINACK says 7.1
    assert isinstance(ack, LoginAck) and ack.tds_version == login7.TDS71_REV1
    assert done == Done("DONE", 0x10, 0, 3)


def test_result_set_round_trip() -> None:
    data = tokens.result_set(["name", "value"], [["version", "16.0"], ["empty", None]])
    data += tokens.done(tokens.DONE_COUNT, rowcount=2, curcmd=0xC1)
    meta, row1, row2, done = tokens.parse_tokens(data)
    assert meta == ColMetadata(
        (
            Column("name", tokens.NVARCHAR, 8000, True, tokens.DEFAULT_COLLATION),
            Column("value", tokens.NVARCHAR, 8000, True, tokens.DEFAULT_COLLATION),
        )
    )
    assert row1 == Row(("version", "16.0"))
    assert row2 == Row(("empty", None))
    assert done == Done("DONE", 0x10, 0xC1, 2)


def _column(type_info: bytes, name: str) -> bytes:
    raw = name.encode("utf-16-le")
    return struct.pack("<IH", 0, 0x0001) + type_info + bytes([len(raw) // 2]) + raw


def test_diagnostic_types() -> None:
    utf8 = (0x0409 | (1 << 26)).to_bytes(4, "little") + b"\x00"
    cyrillic = (0x0419).to_bytes(4, "little") + b"\x00"
    columns = [
        (b"\x38", "int4"),
        (b"\x26\x08", "intn8"),
        (b"\x26\x04", "intn_null"),
        (b"\x7f", "bigint"),
        (b"\x34", "smallint"),
        (b"\x30", "tinyint"),
        (b"\x32", "bit"),
        (b"\x68\x01", "bitn"),
        (b"\xa7\x40\x00" + tokens.DEFAULT_COLLATION, "varchar"),
        (b"\xaf\x04\x00" + cyrillic, "char_ru"),
        (b"\xa7\x40\x00" + utf8, "varchar_utf8"),
        (b"\xef\x08\x00" + tokens.DEFAULT_COLLATION, "nchar"),
        (b"\xe7\xff\xff" + tokens.DEFAULT_COLLATION, "nvarchar_max"),
        (b"\xe7\xff\xff" + tokens.DEFAULT_COLLATION, "nvarchar_max_null"),
        (b"\x6d\x08", "float"),
        (b"\x24\x10", "guid"),
        (b"\x1f", "null"),
    ]
    meta = struct.pack("<BH", 0x81, len(columns)) + b"".join(_column(*c) for c in columns)
    text = "héllo wörld".encode("utf-16-le")
    row = (
        b"\xd1"
        + struct.pack("<i", -5)
        + b"\x08"
        + struct.pack("<q", 2**40)
        + b"\x00"
        + struct.pack("<q", -(2**62))
        + struct.pack("<h", -300)
        + b"\xff"
        + b"\x01"
        + b"\x01\x00"
        + struct.pack("<H", 5)
        + b"caf\xe9!"
        + struct.pack("<H", 4)
        + "Привет".encode("cp1251")[:4]
        + struct.pack("<H", 5)
        + "né".encode()
        + b"!!"
        + struct.pack("<H", 8)
        + "abcd".encode("utf-16-le")
        + struct.pack("<Q", len(text))
        + struct.pack("<I", 6)
        + text[:6]
        + struct.pack("<I", len(text) - 6)
        + text[6:]
        + struct.pack("<I", 0)
        + struct.pack("<Q", 0xFFFFFFFFFFFFFFFF)
        + b"\x08"
        + struct.pack("<d", 1.5)
        + b"\x10"
        + bytes.fromhex("33221100554477668899aabbccddeeff")
    )
    parsed = tokens.parse_tokens(meta + row + tokens.done(0x10, 1))
    assert isinstance(parsed[0], ColMetadata)
    assert [c.name for c in parsed[0].columns] == [name for _, name in columns]
    assert parsed[1] == Row(
        (
            -5,
            2**40,
            None,
            -(2**62),
            -300,
            255,
            True,
            False,
            "café!",
            "Прив",
            "né!!",
            "abcd",
            "héllo wörld",
            None,
            1.5,
            "00112233-4455-6677-8899-aabbccddeeff",
            None,
        )
    )


def test_nbcrow() -> None:
    meta = (
        struct.pack("<BH", 0x81, 3)
        + _column(b"\x38", "a")
        + _column(b"\x38", "b")
        + _column(b"\xe7\x10\x00" + tokens.DEFAULT_COLLATION, "c")
    )
    row = b"\xd2" + bytes([0b010]) + struct.pack("<i", 1) + struct.pack("<H", 2) + b"x\x00"
    assert tokens.parse_tokens(meta + row)[1] == Row((1, None, "x"))


def test_skipped_tokens() -> None:
    stream = (
        b"\xa9"
        + struct.pack("<H", 2)
        + b"\x01\x00"  # ORDER
        + b"\x79"
        + struct.pack("<i", 0)  # RETURNSTATUS
        + b"\xae"
        + b"\x0a"
        + struct.pack("<I", 1)
        + b"\x01"
        + b"\xff"  # FEATUREEXTACK
        + b"\xe4"
        + struct.pack("<I", 3)
        + b"abc"  # SESSIONSTATE
        + tokens.done(0)
    )
    assert tokens.parse_tokens(stream) == (Done("DONE", 0, 0, 0),)


def test_routing_envchange() -> None:
    server = "replica2.corp".encode("utf-16-le")
    value = b"\x00" + struct.pack("<H", 1433) + struct.pack("<H", len(server) // 2) + server
    body = b"\x14" + struct.pack("<H", len(value)) + value + b"\x00\x00"
    stream = b"\xe3" + struct.pack("<H", len(body)) + body
    routed = Routing("replica2.corp", 1433)
    assert tokens.parse_tokens(stream) == (EnvChange(20, "replica2.corp,1433", b"", routed),)


def test_unknown_envchange_is_skipped_by_length() -> None:
    stream = b"\xe3" + struct.pack("<H", 4) + b"\x63abc" + tokens.done(0)
    assert tokens.parse_tokens(stream) == (Done("DONE", 0, 0, 0),)


def test_transaction_envchanges() -> None:
    descriptor = bytes(range(8))
    parsed = tokens.parse_tokens(
        tokens.env_begin_transaction(descriptor)
        + tokens.env_rollback_transaction(descriptor)
        + tokens.env_commit_transaction(descriptor)
    )
    assert parsed == (
        EnvChange(8, descriptor, b""),
        EnvChange(10, b"", descriptor),
        EnvChange(9, b"", descriptor),
    )


def test_done_kinds_and_attention() -> None:
    stream = (
        tokens.done(tokens.DONE_ATTN)
        + tokens.done(0, kind="DONEPROC")
        + tokens.done(tokens.DONE_MORE, kind="DONEINPROC")
    )
    first, second, third = tokens.parse_tokens(stream)
    assert isinstance(first, Done) and first.attention
    assert isinstance(second, Done) and second.kind == "DONEPROC"
    assert isinstance(third, Done) and third.kind == "DONEINPROC" and third.more


@pytest.mark.parametrize(
    ("stream", "fragment"),
    [
        (b"\x42", "unknown token 0x42"),
        (b"\xad\x10\x00\x01", "LOGINACK body"),
        (b"\xaa\x40\x00" + b"\x00" * 64, "bytes where a 2- or 4-byte line number"),
        (
            b"\xad"
            + struct.pack("<H", len(tokens.login_ack()) - 2)
            + tokens.login_ack()[3:]
            + b"\x00",
            "1 bytes left over",
        ),
        (b"\xd1\x00\x00", "ROW without a COLMETADATA"),
        (b"\xfd\x00\x00", "DONE curcmd"),
        (b"\x81\x01\x00" + _column(b"\x3d", "datetime"), "type 0x3d, not supported"),
        (b"\x81\x01\x00" + _column(b"\x26\x03", "odd"), "type 0x26 with size 3"),
        (b"\xe3\x05\x00\x01\x09abc", "new value needs 18 bytes"),
    ],
)
def test_lying_streams(stream: bytes, fragment: str) -> None:
    with pytest.raises(WireError, match=fragment):
        tokens.parse_tokens(stream)


def test_builders_refuse_what_cannot_be_written() -> None:
    with pytest.raises(WireError):
        tokens.error(1, "x" * 40_000)
    with pytest.raises(WireError):
        tokens.env_database("d" * 256)
    with pytest.raises(WireError):
        tokens.result_set(["a"], [["x", "y"]])
    with pytest.raises(WireError):
        tokens.result_set([], [])
    with pytest.raises(WireError):
        tokens.result_set(["a"], [["x" * 4001]])


names = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
cells = st.none() | st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=50)


@given(
    st.lists(names, min_size=1, max_size=6).flatmap(
        lambda cols: st.tuples(
            st.just(cols),
            st.lists(st.lists(cells, min_size=len(cols), max_size=len(cols)), max_size=5),
        )
    )
)
def test_result_sets_round_trip(shape: tuple[list[str], list[list[str | None]]]) -> None:
    columns, rows = shape
    parsed = tokens.parse_tokens(tokens.result_set(columns, rows))
    assert isinstance(parsed[0], ColMetadata)
    assert [c.name for c in parsed[0].columns] == columns
    assert [r.values for r in parsed[1:] if isinstance(r, Row)] == [tuple(r) for r in rows]


@given(
    st.integers(-(2**31), 2**31 - 1),
    names,
    st.integers(0, 255),
    st.integers(0, 255),
    names,
    names,
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_messages_round_trip(
    number: int,
    text: str,
    state: int,
    severity: int,
    server: str,
    procedure: str,
    line: int,
    is_error: bool,
) -> None:
    build = tokens.error if is_error else tokens.info
    (parsed,) = tokens.parse_tokens(
        build(
            number,
            text,
            state=state,
            severity=severity,
            server=server,
            procedure=procedure,
            line=line,
        )
    )
    assert parsed == ServerMessage(
        "error" if is_error else "info", number, state, severity, text, server, procedure, line
    )


@settings(max_examples=1000)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_wire_error(data: bytes) -> None:
    with contextlib.suppress(WireError):
        tokens.parse_tokens(data)


@settings(max_examples=500)
@given(
    st.lists(
        st.sampled_from(
            [
                tokens.done(0),
                tokens.login_ack(),
                tokens.error(18456, "x"),
                tokens.env_database("m"),
                tokens.result_set(["a", "b"], [["1", None]]),
                b"\xd1",
                b"\xd2\x01",
                b"\x81",
                b"\xe3",
                b"\xff\xff\xff",
                b"\x00",
                b"\xa9\xff\xff",
                b"\xae\x01\xff\xff\xff\xff",
            ]
        ),
        max_size=12,
    ),
    st.integers(0, 400),
)
def test_token_shaped_noise_raises_only_wire_error(parts: list[bytes], cut: int) -> None:
    data = b"".join(parts)
    with contextlib.suppress(WireError):
        tokens.parse_tokens(data[: cut or None])
