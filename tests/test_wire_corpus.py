"""Real bytes, read right: every message of tests/corpus/wire_bytes.toml (public captures, the
MS-TDS and MC-SQLR examples, other projects' tests), each read by the codec that owns its kind
and held to the values its source states.

The corpus is data written by someone else; nothing here computes what a message should say.
Where a source states a value the codec must not take literally (r2dbc reads ERROR line numbers
big-endian and asserts 16777216 for the bytes 01 00 00 00), the test says so beside it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tui.wire import login7, prelogin, ssrp, tds, tokens
from tui.wire.errors import WireError
from tui.wire.prelogin import Encryption, product_name

CORPUS = Path(__file__).resolve().parent / "corpus" / "wire_bytes.toml"


@dataclass(frozen=True)
class Message:
    index: int
    kind: str
    source: str
    server: str
    raw: bytes
    framing: str
    stated: dict[str, Any]
    note: str

    @property
    def payload(self) -> bytes:
        """The message without its TDS header, as far as the header's length says."""
        if self.framing != "full packet":
            return self.raw
        length = int.from_bytes(self.raw[2:4], "big")
        return self.raw[tds.HEADER_SIZE : length]

    @property
    def header_type(self) -> int:
        return self.raw[0]


def _load() -> list[Message]:
    document = tomllib.loads(CORPUS.read_text(encoding="utf-8"))
    return [
        Message(
            index,
            item["kind"],
            item["source"],
            item["server"],
            bytes.fromhex(" ".join(item["hex"].split())),
            item["framing"],
            dict(item["stated"]),
            item["note"],
        )
        for index, item in enumerate(document["message"])
    ]


MESSAGES = _load()


def of(*kinds: str) -> list[Any]:
    return [
        pytest.param(m, id=f"{m.index}-{m.kind}-{m.server[:24]}")
        for m in MESSAGES
        if m.kind in kinds
    ]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_corpus_is_whole() -> None:
    """44 messages, every one with its source; no kind goes untested below."""
    assert len(MESSAGES) == 44
    tested = {
        "ssrp-request",
        "ssrp-response",
        "ssrp-dac-response",
        "prelogin-request",
        "prelogin-response",
        "login7",
        "loginack-reply",
        "login-failure-reply",
        "envchange-other",
        "envchange-routing",
        "error-token",
        "info-token",
        "done-token",
        "colmetadata-row",
        "other",
    }
    assert {m.kind for m in MESSAGES} == tested
    assert all(m.source and m.note for m in MESSAGES)


# -- SSRP -------------------------------------------------------------------------------------

_REQUEST_KINDS = {
    "CLNT_UCAST_EX": ssrp.RequestKind.UCAST_EX,
    "CLNT_UCAST_INST": ssrp.RequestKind.UCAST_INST,
    "CLNT_UCAST_DAC": ssrp.RequestKind.UCAST_DAC,
}


@pytest.mark.parametrize("message", of("ssrp-request"))
def test_ssrp_requests(message: Message) -> None:
    """Including ESF.pl's request without the trailing NUL, which a real SQL Server 2008 SP1
    Browser answered: the lab's Browser reads it the same way."""
    request = ssrp.parse_request(message.raw)
    assert request.kind is _REQUEST_KINDS[message.stated["message"]]
    assert request.instance == message.stated.get("instance")


@pytest.mark.parametrize("message", of("ssrp-response"))
def test_ssrp_responses(message: Message) -> None:
    response = ssrp.parse_response(message.raw)
    stated = message.stated
    if "instances" in stated:
        names = [name.strip() for name in stated["instances"].split(",")]
        assert [i.instance for i in response.instances] == names
        assert _find(response, "YUKONDEV").tcp_port is None  # type: ignore[union-attr]  # pipes
    found = _find(response, stated.get("instance", response.instances[0].instance))
    assert found is not None
    assert found.server_name == stated["server_name"]
    if "version" in stated:
        assert _version(found.version)[: len(_version(stated["version"]))] == _version(
            stated["version"]
        )
    if "tcp_port" in stated:
        assert found.tcp_port == stated["tcp_port"]
    if "is_clustered" in stated:
        assert found.clustered is (stated["is_clustered"] == "Yes")


def _find(response: ssrp.Response, name: str) -> ssrp.Instance | None:
    return next((i for i in response.instances if i.instance.casefold() == name.casefold()), None)


@pytest.mark.parametrize("message", of("ssrp-dac-response"))
def test_ssrp_dac_response(message: Message) -> None:
    assert ssrp.parse_dac_response(message.raw) == message.stated["dac_port"]


# -- PRELOGIN -----------------------------------------------------------------------------------


@pytest.mark.parametrize("message", of("prelogin-request"))
def test_prelogin_requests(message: Message) -> None:
    if message.framing == "full packet":
        assert message.header_type == tds.PacketType.PRELOGIN
    parsed = prelogin.parse_prelogin(message.payload)
    if "instance" in message.stated:
        assert parsed.instance == message.stated["instance"]
    if "decoded_by_tedious" in message.stated:  # 'version:0.0.0.1 1, encryption:0x01(ON), ...'
        assert parsed.version == (0, 0, 1, 1)
        assert parsed.encryption is Encryption.ON and parsed.mars is False


_ENCRYPTION_NAMES = {"ENCRYPT_NOT_SUP": Encryption.NOT_SUP, "ON": Encryption.ON}


@pytest.mark.parametrize("message", of("prelogin-response"))
def test_prelogin_responses(message: Message) -> None:
    if message.framing == "full packet":
        assert message.header_type == tds.PacketType.REPLY
        assert message.raw[4:6] == b"\x00\x00"  # real servers answer the pre-login as session 0
    parsed = prelogin.parse_prelogin(message.payload)
    stated = message.stated
    assert parsed.version is not None
    if "version" in stated:
        # major.minor.build: r2dbc's comment says 14.0.3038.14, but its bytes carry sub-build 0
        wanted = _version(stated["version"])[:3]
        assert parsed.version[:3] == wanted
    if "server_library_version_assert" in stated:  # pytds: (0xa001588, 0)
        major, minor, build, sub = parsed.version
        assert ((major << 24) | (minor << 16) | build, sub) == (0x0A001588, 0)
        assert parsed.mars is stated["mars"]
    for key in ("encryption_assert", "encryption"):
        if key in stated:
            assert parsed.encryption is _ENCRYPTION_NAMES[stated[key]]
    if "instance_validation" in stated:
        assert parsed.instopt == 0
    if "decoded_by_tedious" in stated:  # tedious prints the build 0x0FA0 as '15.160'
        assert parsed.version == (10, 0, 0x0FA0, 0)
    if "reported_server" in stated:  # FreeTDS #425: VERSION bytes 0C 00 17 88 00 00
        assert parsed.version == (12, 0, 0x1788, 0)
        assert parsed.encryption is Encryption.OFF and parsed.thread_id is None
        assert product_name(parsed.version) == "SQL Server 2014"  # the bytes, not the reporter


async def test_a_message_read_by_its_header_length_leaves_what_follows() -> None:
    """FreeTDS #425: the header says 37 bytes, the source lists 39. The reader takes the 37
    the header claims and leaves the two extra bytes for whatever comes next."""
    import asyncio

    message = next(m for m in MESSAGES if "reported_server" in m.stated)
    assert len(message.raw) == 39 and int.from_bytes(message.raw[2:4], "big") == 37
    reader = asyncio.StreamReader()
    reader.feed_data(message.raw)
    reader.feed_eof()
    read = await tds.read_message(reader, timeout=1)
    assert read.type == tds.PacketType.REPLY and len(read.payload) == 29
    assert await reader.read() == b"\x00\x00"


# -- LOGIN7 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("message", of("login7"))
def test_login7(message: Message) -> None:
    login = login7.parse_login7(message.payload)
    stated = message.stated
    assert login.tds_version == int.from_bytes(bytes.fromhex(stated["tds_version"]), "little")
    assert login.packet_size == int.from_bytes(bytes.fromhex(stated["packet_size"]), "little")
    assert login.option_flags1 == int(stated["option_flags1"], 16)
    assert login.option_flags2 == int(stated["option_flags2"], 16)
    assert login.client_lcid == int.from_bytes(bytes.fromhex(stated["client_lcid"]), "little")
    # 'UCS-2 strings visible in the packet: skostov1, sa, OSQL-32, ODBC; password length 0'
    assert (login.host_name, login.user, login.app_name, login.library) == (
        "skostov1",
        "sa",
        "OSQL-32",
        "ODBC",
    )
    assert login.password.reveal() == ""
    assert not login.read_only_intent


# -- reply tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize("message", of("loginack-reply"))
def test_login_replies(message: Message) -> None:
    """Every real LOGINACK pads the program name with two NULs: read as the name alone."""
    parsed = tokens.parse_tokens(message.payload)
    acks = [t for t in parsed if isinstance(t, tokens.LoginAck)]
    assert len(acks) == 1
    ack = acks[0]
    assert ack.prog_name == "Microsoft SQL Server"
    raw_name = "Microsoft SQL Server\x00\x00".encode("utf-16-le")
    assert bytes([22]) + raw_name in message.payload  # the padding really is on the wire
    stated = message.stated
    if "version" in stated:
        assert ack.prog_version == _version(stated["version"])
    if "tds_version" in stated and stated["tds_version"].startswith("VER_DENALI"):
        assert login7.version_name(ack.tds_version) == "7.4"
    elif "tds_version" in stated:
        assert ack.tds_version == int.from_bytes(bytes.fromhex(stated["tds_version"]), "big")
    if "interface" in stated:
        assert ack.interface == 1  # CLIENT_INTERFACE_TSQL
    changes = {t.type: t for t in parsed if isinstance(t, tokens.EnvChange)}
    if "database" in stated:
        assert changes[tokens.ENV_DATABASE].new == stated["database"]
    if "language" in stated:
        assert changes[tokens.ENV_LANGUAGE].new == stated["language"]
    if "packet_size" in stated:
        assert changes[tokens.ENV_PACKET_SIZE].new == stated["packet_size"]
    if "collation" in stated:
        assert changes[tokens.ENV_COLLATION].new == bytes.fromhex(stated["collation"])
    messages = [t for t in parsed if isinstance(t, tokens.ServerMessage)]
    if "info_numbers" in stated:
        numbers = [int(part.split()[0]) for part in stated["info_numbers"].split(",")]
        assert [m.number for m in messages] == numbers
    if "server_name" in stated:
        assert {m.server for m in messages} == {stated["server_name"]}
    if message.framing == "full packet":
        assert isinstance(parsed[-1], tokens.Done) and not parsed[-1].error


@pytest.mark.parametrize("message", of("login-failure-reply"))
def test_a_tds71_login_failure_keeps_its_18456(message: Message) -> None:
    """No LOGINACK says the width: the 16-bit line number of the ERROR does (TDS 7.1), so the
    DONE after it is read with its 4-byte row count instead of failing the stream."""
    error, done = tokens.parse_tokens(message.payload)
    assert isinstance(error, tokens.ServerMessage) and isinstance(done, tokens.Done)
    assert (error.number, error.state, error.severity) == (18456, 1, 14)
    assert error.message == message.stated["message"]
    assert done.error and done.rowcount == 0
    assert message.raw[4:6] == bytes.fromhex("00 37")  # the SPID the note gives


@pytest.mark.parametrize("message", of("error-token", "info-token"))
def test_error_and_info_tokens(message: Message) -> None:
    (token,) = tokens.parse_tokens(message.payload)
    assert isinstance(token, tokens.ServerMessage)
    assert token.kind == ("error" if message.kind == "error-token" else "info")
    stated = message.stated
    assert token.message == stated["message"]
    assert token.server == stated["server_name"]
    for key, attribute in (("error_number", "number"), ("state", "state"), ("class", "severity")):
        if key in stated:
            assert getattr(token, attribute) == stated[key]
    if "proc_name" in stated:
        assert token.procedure == stated["proc_name"]
    if "line_number_assert" in stated:
        # r2dbc reads the bytes 01 00 00 00 big-endian (16777216); MS-TDS says little-endian
        assert stated["line_number_assert"] == int.from_bytes(
            token.line.to_bytes(4, "little"), "big"
        )
        assert token.line == 1


@pytest.mark.parametrize("message", of("done-token"))
def test_done_tokens(message: Message) -> None:
    (done,) = tokens.parse_tokens(message.payload)
    assert isinstance(done, tokens.Done)
    stated = message.stated
    if "row_count" in stated:
        assert done.has_count is stated["has_count"] and not done.more
        assert done.rowcount == stated["row_count"]
    else:  # 'DONE with status 0x0002 (DONE_ERROR), 8-byte row count, as sent after ERROR 18456'
        assert done.error and done.rowcount == 0


@pytest.mark.parametrize("message", of("envchange-other", "envchange-routing"))
def test_envchanges(message: Message) -> None:
    parsed = tokens.parse_tokens(message.payload)
    changes = [t for t in parsed if isinstance(t, tokens.EnvChange)]
    stated = message.stated
    if message.kind == "envchange-routing":
        assert changes[0].routing == tokens.Routing(stated["routed_host"], stated["routed_port"])
        return
    if "change_type" in stated:
        kind = {"Database": tokens.ENV_DATABASE, "Language": tokens.ENV_LANGUAGE}
        assert changes[0].type == kind[stated["change_type"]]
        assert (changes[0].new, changes[0].old) == (stated["new_value"], stated["old_value"])
    else:  # pytds: begin transaction, new value 01 00 00 00 5a 00 00 00, old empty; DONE 0x00fd
        assert changes[0].type == tokens.ENV_BEGIN_TRANSACTION
        assert changes[0].new == bytes.fromhex("01 00 00 00 5a 00 00 00")
        assert isinstance(parsed[-1], tokens.Done) and parsed[-1].curcmd == 0x00FD


@pytest.mark.parametrize("message", of("colmetadata-row"))
def test_result_sets(message: Message) -> None:
    stated = message.stated
    if "column" in stated:
        meta, row, done = tokens.parse_tokens(message.payload)
        assert isinstance(meta, tokens.ColMetadata) and isinstance(row, tokens.Row)
        assert meta.columns[0].name == stated["column"]
        assert row.values == (stated["value"],)
        assert isinstance(done, tokens.Done) and done.rowcount == stated["row_count"]
        assert done.status == int.from_bytes(bytes.fromhex(stated["done_status"]), "little")
        assert done.curcmd == int.from_bytes(bytes.fromhex(stated["done_curcmd"]), "little")
        return
    # SQL Server 2022's SELECT 1: INT4 with no name. The source's stream carries two zero bytes
    # after the DONE that start no token; they are reported, never skipped silently.
    with pytest.raises(WireError, match="unknown token 0x00"):
        tokens.parse_tokens(message.payload)
    meta, row, done = tokens.parse_tokens(message.payload[:29])
    assert isinstance(meta, tokens.ColMetadata) and isinstance(row, tokens.Row)
    assert (meta.columns[0].name, meta.columns[0].type_id) == ("", tokens.INT4)
    assert row.values == (1,)
    assert isinstance(done, tokens.Done) and done.has_count and done.rowcount == 1


def test_the_lab_answers_select_1_as_sql_server_2022_does() -> None:
    """The lab's `SELECT 1` is byte for byte the COLMETADATA and ROW of the 2022 capture."""
    capture = next(m for m in MESSAGES if m.kind == "colmetadata-row" and "comment" in m.stated)
    ours = tokens.result_set([""], [(1,)]) + tokens.done(tokens.DONE_COUNT, 1, tokens.CURCMD_SELECT)
    assert ours == capture.payload[:29]


def test_the_lab_pads_the_program_name_as_real_servers() -> None:
    reply = tokens.login_ack(prog_version=(16, 0, 4165))
    capture = next(m for m in MESSAGES if m.kind == "loginack-reply" and "login" in m.stated)
    start = capture.payload.index(b"\xad")
    assert reply[: 3 + 1 + 4 + 45] == capture.payload[start : start + 3 + 1 + 4 + 45]


@pytest.mark.parametrize("message", of("other"))
def test_other_client_messages(message: Message) -> None:
    stated = message.stated
    if "tls_record" in stated:  # a TLS 1.0 ClientHello inside a PRELOGIN packet
        assert message.header_type == tds.PacketType.PRELOGIN
        assert message.payload[:3] == bytes.fromhex("16 03 01")
        return
    expected = int(stated["packet_type"].split("(0x")[1].rstrip(")"), 16)
    assert message.header_type == expected
    if expected == tds.PacketType.SQL_BATCH:
        text = message.payload[22:].decode("utf-16-le")  # after ALL_HEADERS (22 bytes)
        assert "select 'foo' as 'bar'" in text
    if "proc_name" in stated:
        assert stated["proc_name"].encode("utf-16-le") in message.payload
    if expected == 0x07:  # bulk load: the same COLMETADATA/ROW/DONE tokens, client side
        parsed = tokens.parse_tokens(message.payload)
        meta = parsed[0]
        assert isinstance(meta, tokens.ColMetadata) and meta.columns[0].name == stated["column"]
