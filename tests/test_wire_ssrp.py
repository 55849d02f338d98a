"""SSRP (SQL Server Browser) codecs: the MC-SQLR examples, round trips, tolerance, hostile bytes."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.wire import ssrp
from tui.wire.errors import WireError

SPEC_INST_REQUEST = bytes.fromhex("04 59 55 4b 4f 4e 53 54 44 00")
SPEC_INST_DATA = (
    b"ServerName;ILSUNG1;InstanceName;YUKONSTD;IsClustered;No;Version;9.00.1399.06;tcp;57137;;"
)
SPEC_INST_RESPONSE = bytes.fromhex("05 58 00") + SPEC_INST_DATA
SPEC_DAC_REQUEST = bytes.fromhex("0f 01 59 55 4b 4f 4e 53 54 44 00")
SPEC_DAC_RESPONSE = bytes.fromhex("05 06 00 01 32 df")


def _resp(text: bytes) -> bytes:
    return b"\x05" + struct.pack("<H", len(text)) + text


def test_spec_requests_are_built_byte_for_byte() -> None:
    assert ssrp.build_ucast_inst("YUKONSTD") == SPEC_INST_REQUEST
    assert ssrp.build_ucast_dac("YUKONSTD") == SPEC_DAC_REQUEST
    assert ssrp.build_ucast_ex() == b"\x03"
    assert ssrp.build_bcast_ex() == b"\x02"


def test_spec_instance_answer_is_parsed() -> None:
    response = ssrp.parse_response(SPEC_INST_RESPONSE)
    assert response.note is None
    assert response.instances == (
        ssrp.Instance("ILSUNG1", "YUKONSTD", False, "9.00.1399.06", tcp_port=57137),
    )


def test_spec_instance_answer_is_built_byte_for_byte() -> None:
    instance = ssrp.Instance("ILSUNG1", "YUKONSTD", False, "9.00.1399.06", tcp_port=57137)
    assert ssrp.build_response([instance]) == SPEC_INST_RESPONSE


def test_spec_dac_answer() -> None:
    assert ssrp.parse_dac_response(SPEC_DAC_RESPONSE) == 57138
    assert ssrp.build_dac_response(57138) == SPEC_DAC_RESPONSE


def test_server_reads_the_spec_requests() -> None:
    assert ssrp.parse_request(SPEC_INST_REQUEST) == ssrp.Request(
        ssrp.RequestKind.UCAST_INST, "YUKONSTD"
    )
    assert ssrp.parse_request(SPEC_DAC_REQUEST) == ssrp.Request(
        ssrp.RequestKind.UCAST_DAC, "YUKONSTD"
    )
    assert ssrp.parse_request(b"\x03") == ssrp.Request(ssrp.RequestKind.UCAST_EX)
    assert ssrp.parse_request(b"\x02") == ssrp.Request(ssrp.RequestKind.BCAST_EX)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x01",
        b"\x03\x00",
        b"\x04",
        b"\x04\x00",
        b"\x04AB\x00C",
        b"\x0f\x02A\x00",
        b"\x04" + b"A" * 33 + b"\x00",
        b"GET / HTTP/1.0\r\n\r\n",
    ],
)
def test_server_refuses_invalid_requests(garbage: bytes) -> None:
    with pytest.raises(WireError):
        ssrp.parse_request(garbage)


def test_a_request_without_its_nul_is_read_to_the_end() -> None:
    """A real SQL Server 2008 SP1 Browser answered ESF.pl's CLNT_UCAST_INST without a NUL after
    the name (tests/corpus/wire_bytes.toml): read as a name, not refused."""
    request = ssrp.parse_request(b"\x04ABC")
    assert (request.kind, request.instance) == (ssrp.RequestKind.UCAST_INST, "ABC")


def test_instance_name_limits() -> None:
    assert ssrp.build_ucast_inst("A" * 32) == b"\x04" + b"A" * 32 + b"\x00"
    for bad in ("A" * 33, "", "A\x00B", "名前"):
        with pytest.raises(WireError):
            ssrp.build_ucast_inst(bad)
        with pytest.raises(WireError):
            ssrp.build_ucast_dac(bad)


def test_two_instances_with_pipes_and_protocols_in_any_order_and_case() -> None:
    data = (
        b"ServerName;SQL1;InstanceName;MSSQLSERVER;IsClustered;No;Version;15.0.2000.5;"
        b"tcp;1433;np;\\\\SQL1\\pipe\\sql\\query;;"
        b"SERVERNAME;SQL1;instancename;SQLEXPRESS;isclustered;yes;VERSION;16.0.1000.6;"
        b"NP;\\\\SQL1\\pipe\\MSSQL$SQLEXPRESS\\sql\\query;via;SQL1,0:1433;TCP;50123;;"
    )
    response = ssrp.parse_response(_resp(data))
    assert response.note is None
    first, second = response.instances
    assert (first.instance, first.tcp_port, first.pipe) == (
        "MSSQLSERVER",
        1433,
        "\\\\SQL1\\pipe\\sql\\query",
    )
    assert second.instance == "SQLEXPRESS"
    assert second.clustered is True
    assert second.tcp_port == 50123
    assert second.pipe == "\\\\SQL1\\pipe\\MSSQL$SQLEXPRESS\\sql\\query"
    assert second.other == (("via", "SQL1,0:1433"),)
    assert second.to_json()["other"] == [["via", "SQL1,0:1433"]]


def test_instance_without_tcp_means_tcp_disabled() -> None:
    data = b"ServerName;H;InstanceName;NOTCP;IsClustered;No;Version;16.0.1000.6;np;\\\\H\\pipe\\x;;"
    (instance,) = ssrp.parse_response(_resp(data)).instances
    assert instance.tcp_port is None
    assert instance.pipe == "\\\\H\\pipe\\x"


def test_double_semicolon_inside_the_data_does_not_split_an_instance() -> None:
    # An empty value yields ';;' in the middle: impacket's split on ';;' breaks here, nmap's not.
    data = (
        b"ServerName;H;InstanceName;A;IsClustered;No;Version;;tcp;1500;;"
        b"ServerName;H;InstanceName;B;IsClustered;No;Version;15.0.2000.5;np;;tcp;1501;;"
    )
    a, b = ssrp.parse_response(_resp(data)).instances
    assert (a.instance, a.version, a.tcp_port) == ("A", "", 1500)
    assert (b.instance, b.pipe, b.tcp_port) == ("B", "", 1501)


def test_size_mismatch_is_a_note_not_an_error() -> None:
    data = SPEC_INST_DATA
    longer = b"\x05" + struct.pack("<H", len(data) + 2) + data
    response = ssrp.parse_response(longer)
    assert response.instances[0].tcp_port == 57137
    assert response.note == f"RESP_SIZE says {len(data) + 2} but {len(data)} bytes followed"


def test_odd_values_become_notes() -> None:
    data = (
        b"junk;ServerName;H;InstanceName;A;IsClustered;Maybe;Version;1;tcp;99999;tcp;1;;"
        b"ServerName;H;Version;2;;"
    )
    response = ssrp.parse_response(_resp(data))
    (instance,) = response.instances
    assert instance.tcp_port is None
    assert ("tcp", "99999") in instance.other
    assert instance.clustered is False
    assert response.note is not None
    for part in (
        "5 characters before",
        "IsClustered 'Maybe'",
        "'99999'",
        "given twice",
        "without InstanceName",
    ):
        assert part in response.note


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x05",
        b"\x05\x00",
        b"\x04\x00\x00",
        _resp(b""),
        _resp(b"hello;;"),
        _resp(b"ServerName;H;;"),
    ],
)
def test_answers_that_say_nothing_are_errors(data: bytes) -> None:
    with pytest.raises(WireError):
        ssrp.parse_response(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x05\x06\x00\x01\x32",
        b"\x05\x07\x00\x01\x32\xdf",
        b"\x05\x06\x00\x02\x32\xdf",
        b"\x05\x06\x00\x01\x00\x00",
        b"\x04\x06\x00\x01\x32\xdf",
        SPEC_INST_RESPONSE,
    ],
)
def test_bad_dac_answers(data: bytes) -> None:
    with pytest.raises(WireError):
        ssrp.parse_dac_response(data)


def test_builders_refuse_what_ssrp_cannot_carry() -> None:
    with pytest.raises(WireError):
        ssrp.build_response([ssrp.Instance("A;B", "I", False, "1")])
    with pytest.raises(WireError):
        ssrp.build_response([ssrp.Instance("S", "I", False, "1", tcp_port=0)])
    big = ssrp.Instance("S" * 60_000, "I", False, "1")
    with pytest.raises(WireError):
        ssrp.build_response([big, big])
    with pytest.raises(WireError):
        ssrp.build_dac_response(0)


def test_a_65535_byte_answer_is_parsed() -> None:
    instances = [
        ssrp.Instance("SERVER", f"INST{i:05d}", False, "16.0.1000.6", tcp_port=1000 + i)
        for i in range(1200)
    ]
    one = len(ssrp.build_response(instances[:1])) - 3
    count = 65_535 // one
    head = instances[: count - 1]
    last = ssrp.Instance("SERVER", "LAST", False, "1")
    used = len(ssrp.build_response([*head, last])) - 3
    last = ssrp.Instance("SERVER" + "X" * (65_535 - used), "LAST", False, "1")
    padded = ssrp.build_response([*head, last])
    assert len(padded) == 65_538
    response = ssrp.parse_response(padded)
    assert len(response.instances) == count
    assert response.note is None


names = st.text(
    alphabet=st.characters(codec="cp1252", exclude_characters=";\x00"), min_size=1, max_size=20
)
instance_strategy = st.builds(
    ssrp.Instance,
    server_name=names,
    instance=names,
    clustered=st.booleans(),
    version=names,
    tcp_port=st.none() | st.integers(1, 65_535),
    pipe=st.none() | names,
    other=st.lists(
        st.tuples(st.sampled_from(["via", "rpc", "spx", "adsp", "bv"]), names), max_size=3
    ).map(tuple),
)


@pytest.mark.slow
@given(st.lists(instance_strategy, min_size=1, max_size=5))
def test_answers_round_trip(instances: list[ssrp.Instance]) -> None:
    # Values that look like keys would be read as keys by any client: keep them out.
    keys = {"servername", "instancename", "isclustered", "version", "tcp", "np"}
    for instance in instances:
        for value in (
            instance.server_name,
            instance.instance,
            instance.version,
            instance.pipe or "",
            *(v for _, v in instance.other),
        ):
            if value.casefold() in keys:
                return
    assert ssrp.parse_response(ssrp.build_response(instances)).instances == tuple(instances)


@given(names.filter(lambda n: len(n.encode("cp1252")) <= 32))
def test_requests_round_trip(name: str) -> None:
    assert ssrp.parse_request(ssrp.build_ucast_inst(name)).instance == name
    assert ssrp.parse_request(ssrp.build_ucast_dac(name)).instance == name


@given(st.integers(1, 65_535))
def test_dac_round_trip(port: int) -> None:
    assert ssrp.parse_dac_response(ssrp.build_dac_response(port)) == port


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_wire_error(data: bytes) -> None:
    for parse in (ssrp.parse_response, ssrp.parse_dac_response, ssrp.parse_request):
        with contextlib.suppress(WireError):
            parse(data)


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(
            [
                b"ServerName;",
                b"InstanceName;",
                b"tcp;",
                b"np;",
                b";",
                b";;",
                b"IsClustered;",
                b"Yes",
                b"1433",
                b"\x00",
                b"\xff",
                b"x",
            ]
        ),
        max_size=60,
    ),
    st.integers(0, 65_535),
)
def test_ssrp_shaped_noise_raises_only_wire_error(parts: list[bytes], size: int) -> None:
    data = b"\x05" + struct.pack("<H", size) + b"".join(parts)
    try:
        response = ssrp.parse_response(data)
    except WireError:
        return
    assert response.instances
