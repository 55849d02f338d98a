"""OS errors in the words Windows people search for: Winsock numbers, names, hex forms."""

from __future__ import annotations

import errno
import re
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.netutil import closed_port
from tui.probes.errors import BY_NUMBER, WinsockCode, describe_os_error, lookup

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


@pytest.mark.parametrize(
    ("name", "number", "winsock"),
    [
        ("ECONNREFUSED", 10061, "WSAECONNREFUSED"),
        ("ETIMEDOUT", 10060, "WSAETIMEDOUT"),
        ("EHOSTUNREACH", 10065, "WSAEHOSTUNREACH"),
        ("ENETUNREACH", 10051, "WSAENETUNREACH"),
        ("ECONNRESET", 10054, "WSAECONNRESET"),
        ("ECONNABORTED", 10053, "WSAECONNABORTED"),
        ("EADDRNOTAVAIL", 10049, "WSAEADDRNOTAVAIL"),
        ("ENOTCONN", 10057, "WSAENOTCONN"),
        ("EACCES", 10013, "WSAEACCES"),
    ],
)
def test_errno_names_map_to_winsock(name: str, number: int, winsock: str) -> None:
    code = describe_os_error(OSError(getattr(errno, name), "whatever the OS says"))
    assert (code.number, code.name) == (number, winsock)
    assert code.meaning


def test_a_real_refused_connect_is_10061(loopback: str) -> None:
    with socket.socket() as client, pytest.raises(OSError) as caught:
        client.settimeout(2)
        client.connect((loopback, closed_port(loopback)))
    code = describe_os_error(caught.value)
    assert code.label() == "10061 WSAECONNREFUSED"
    assert code.hex == "0x274D"
    assert code.meaning.startswith("actively refused")


def test_a_windows_winerror_wins_over_errno() -> None:
    error = OSError(errno.EINVAL, "No connection could be made")
    error.winerror = 10061  # type: ignore[attr-defined]  # what Windows' OSError carries
    assert describe_os_error(error).name == "WSAECONNREFUSED"


def test_name_resolution_errors_map_to_the_11000s() -> None:
    assert describe_os_error(socket.gaierror(socket.EAI_NONAME, "x")).number == 11001
    assert describe_os_error(socket.gaierror(socket.EAI_AGAIN, "x")).number == 11002
    assert describe_os_error(socket.gaierror(socket.EAI_FAIL, "x")).number == 11003
    # Windows raises gaierror with the WSA number itself.
    assert describe_os_error(socket.gaierror(11004, "x")).name == "WSANO_DATA"


def test_a_real_unknown_name_is_host_not_found() -> None:
    # `.invalid` never resolves (RFC 6761); `AI_NUMERICHOST` keeps the question off the network.
    with pytest.raises(socket.gaierror) as caught:
        socket.getaddrinfo("db.example.invalid", 1433, flags=socket.AI_NUMERICHOST)
    assert describe_os_error(caught.value).number == 11001


def test_timeouts_without_errno_are_10060() -> None:
    assert describe_os_error(TimeoutError()).label() == "10060 WSAETIMEDOUT"


def test_errors_winsock_has_no_name_for_keep_their_own() -> None:
    code = describe_os_error(FileNotFoundError(errno.ENOENT, "No such file"))
    assert code == WinsockCode(None, "ENOENT", code.meaning)
    assert code.hex is None
    assert code.label() == "ENOENT"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("10061", "WSAECONNREFUSED"),
        ("0x274D", "WSAECONNREFUSED"),
        ("0x274d", "WSAECONNREFUSED"),
        ("WSAECONNREFUSED", "WSAECONNREFUSED"),
        ("econnrefused", "WSAECONNREFUSED"),
        ("0x102", "WAIT_TIMEOUT"),
        ("258", "WAIT_TIMEOUT"),
        ("0x2749", "WSAENOTCONN"),
        ("0x2AF9", "WSAHOST_NOT_FOUND"),
        ("11004", "WSANO_DATA"),
        (" 10060 ", "WSAETIMEDOUT"),
    ],
)
def test_lookup_takes_what_people_paste(text: str, name: str) -> None:
    code = lookup(text)
    assert code is not None and code.name == name


def test_lookup_of_unknown_things_is_none() -> None:
    assert lookup("nonsense") is None
    assert lookup("0xZZ") is None
    assert lookup(12345) is None


def test_every_code_in_the_real_driver_messages_is_known() -> None:
    text = (FIXTURES / "error-messages.txt").read_text(encoding="utf-8")
    hex_codes = set(re.findall(r"Error code (0x[0-9A-Fa-f]+)", text))
    decimal_codes = set(re.findall(r"Error: (1\d{4})\b", text))
    assert hex_codes == {"0x2746", "0x2AFA", "0x102"}
    assert decimal_codes == {"11001", "10060"}
    for code in hex_codes | decimal_codes:
        assert lookup(code) is not None, code
    # The message prints the hex form and the decimal side by side: they must agree.
    assert "Error code 0x2746 (10054)" in text
    assert lookup("0x2746") == BY_NUMBER[10054]


def test_the_table_is_consistent() -> None:
    for number, code in BY_NUMBER.items():
        assert code.number == number
        assert code.hex == f"0x{number:X}"
        assert code.meaning and code.meaning == code.meaning.strip()


@given(st.one_of(st.text(max_size=40), st.integers()))
def test_lookup_never_raises(text: str | int) -> None:
    result = lookup(text)
    assert result is None or isinstance(result, WinsockCode)


@given(st.integers(min_value=-(2**31), max_value=2**31), st.text(max_size=20))
def test_describe_never_raises(number: int, message: str) -> None:
    for error in (OSError(number, message), socket.gaierror(number, message)):
        code = describe_os_error(error)
        assert code.name and isinstance(code.meaning, str)
