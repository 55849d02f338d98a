"""Properties of the target parser: nothing but TargetError escapes, whatever the text, and the
password never shows in what the parser gives back."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.target import TargetError, parse_target

KEYS = [
    "Server",
    "Data Source",
    "Address",
    "Database",
    "UID",
    "User ID",
    "PWD",
    "Password",
    "Driver",
    "DSN",
    "Encrypt",
    "TrustServerCertificate",
    "Integrated Security",
    "Port",
    "Connect Timeout",
    "Provider",
    "Servername",
    "",
    " ",
    "=",
    "x",
]
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "db1",
            "db1\\SALES",
            "tcp:db1,1433",
            "{a;b}}c}",
            '"q""q"',
            "'x''y'",
            "[::1],1433",
            "yes",
            "no",
            "strict",
            "np:\\\\h\\pipe\\sql\\query",
            "{",
            "}",
            '"',
            "'",
            ";",
            ",",
            "\\",
            "65536",
            "0",
        ]
    ),
)
PAIRS = st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=8)
SEPARATORS = st.sampled_from([";", ";;", " ; ", "\n", ""])


def _assemble(pairs: list[tuple[str, str]], separator: str) -> str:
    return separator.join(f"{key}={value}" for key, value in pairs)


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_raises_only_target_error(text: str) -> None:
    with contextlib.suppress(TargetError):
        parse_target(text)


@settings(max_examples=600, deadline=None)
@given(PAIRS, SEPARATORS)
def test_connection_string_shapes_raise_only_target_error(
    pairs: list[tuple[str, str]], separator: str
) -> None:
    with contextlib.suppress(TargetError):
        parse_target(_assemble(pairs, separator))


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_characters=";{}\"'\x00", min_codepoint=33),
        min_size=6,
        max_size=24,
    ),
    st.sampled_from(["PWD", "Password", "pwd"]),
    st.sampled_from(["plain", "braced", "quoted"]),
)
def test_the_password_never_shows(generated: str, key: str, style: str) -> None:
    secret = "Zq!" + generated  # never a word the output holds anyway ("Server", "db1")
    value = {"plain": secret, "braced": "{" + secret + "}", "quoted": f'"{secret}"'}[style]
    try:
        target = parse_target(f"Server=db1;UID=app;{key}={value};Database=x")
    except TargetError as error:
        assert secret not in str(error)
        return
    kept = secret.strip() if style == "plain" else secret  # braces and quotes keep spaces
    assert target.password is not None and target.password.reveal() == kept
    shown = repr(target) + repr(target.to_json()) + target.text + str(target.password)
    assert secret not in shown


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_decoded_bytes_raise_only_target_error(data: bytes) -> None:
    with contextlib.suppress(TargetError):
        parse_target(data.decode("utf-8", "replace"))
