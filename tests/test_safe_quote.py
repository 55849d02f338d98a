"""Quoting by the language of each command (tui/safe/quote.py): for any string, the quoted
value reads back as the same string, through the project's own connection-string parser,
`shlex`, and small readers written from each language's documented rules; or the value is
refused, and only for a stated reason."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.quoting_readers import (
    read_cmd_arguments,
    read_ps_double_content,
    read_ps_single,
    read_tsql_identifier,
    read_tsql_literal,
)
from tui.safe import quote
from tui.safe.quote import UnsafeValue
from tui.safe.sanitise import has_unsafe
from tui.target import iter_pairs, parse_target

# Any text, and text made mostly of what each language treats specially.
SPECIAL = [
    *"'\"[]{};=%!^`$&|<>()# \t\\-/,:@*?~",
    "\n",
    "\r",
    "\x00",
    "\x1b",
    "\x9b",
    "\u202e",
    "\u2018",
    "\u2019",
    "\u201a",
    "\u201b",
    "\u201c",
    "\u201d",
    "\u201e",
    "a",
    "Ж",
    "1",
]
TEXTS = st.one_of(st.text(max_size=40), st.text(st.sampled_from(SPECIAL), max_size=30))
PLAIN = TEXTS.filter(lambda s: not has_unsafe(s))


def _quoted_or_refused(function: quote.Quoter, value: str) -> str | None:
    try:
        return function(value)
    except UnsafeValue as error:
        assert str(error)  # always says why
        return None


@given(TEXTS)
def test_tsql_string_literal_reads_back(value: str) -> None:
    quoted = _quoted_or_refused(quote.tsql_str, value)
    if quoted is None:
        assert has_unsafe(value)
        return
    assert quoted.startswith("N'") and read_tsql_literal(quoted) == value


@given(TEXTS)
def test_tsql_identifier_reads_back(value: str) -> None:
    quoted = _quoted_or_refused(quote.tsql_ident, value)
    if quoted is None:
        assert has_unsafe(value) or not value
        return
    assert read_tsql_identifier(quoted) == value


@given(TEXTS)
def test_odbc_value_reads_back_through_the_projects_parser(value: str) -> None:
    quoted = _quoted_or_refused(quote.odbc_value, value)
    if quoted is None:
        assert has_unsafe(value)
        return
    text = f"Driver={{ODBC Driver 18 for SQL Server}};Server=db1;PWD={quoted};Encrypt=yes"
    target = parse_target(text)
    assert target.password is not None and target.password.reveal() == value
    assert [p.key for p in iter_pairs(text)] == ["Driver", "Server", "PWD", "Encrypt"]


@given(TEXTS)
def test_adonet_value_reads_back_through_the_projects_parser(value: str) -> None:
    quoted = _quoted_or_refused(quote.adonet_value, value)
    if quoted is None:
        assert has_unsafe(value)
        return
    text = f"Server=db1;Password={quoted};Encrypt=True"
    target = parse_target(text)
    assert target.password is not None and target.password.reveal() == value
    assert [p.key for p in iter_pairs(text)] == ["Server", "Password", "Encrypt"]


@given(TEXTS)
def test_jdbc_value_reads_back_or_is_refused_for_a_brace(value: str) -> None:
    quoted = _quoted_or_refused(quote.jdbc_value, value)
    if quoted is None:
        assert has_unsafe(value) or "{" in value or "}" in value
        return
    assert "{" not in quoted[1:-1] and "}" not in quoted[1:-1]
    target = parse_target(f"jdbc:sqlserver://db1:1433;password={quoted};encrypt=true")
    assert target.password is not None and target.password.reveal() == value
    assert target.encrypt == "yes" and target.trust_server_certificate is None


@given(TEXTS)
def test_posix_shell_argument_is_one_word(value: str) -> None:
    quoted = _quoted_or_refused(quote.sh_arg, value)
    if quoted is None:
        assert has_unsafe(value) or value.startswith("-")
        return
    assert shlex.split(f"grep -i {quoted} /etc/hosts") == ["grep", "-i", value, "/etc/hosts"]


@given(TEXTS)
def test_cmd_argument_is_one_argument(value: str) -> None:
    quoted = _quoted_or_refused(quote.cmd_arg, value)
    if quoted is None:
        assert has_unsafe(value) or value[:1] in ("-", "/") or any(c in value for c in '"%!'), value
        return
    assert read_cmd_arguments(f"nslookup {quoted} x") == ["nslookup", value, "x"]
    # cmd.exe itself: outside quotes nothing it reads as an operator or an escape
    bare = quoted[1:-1] if quoted.startswith('"') else quoted
    assert not any(c in bare for c in '"%!') and (quoted.startswith('"') or "^" not in bare)
    assert quoted.startswith('"') or not any(c in quoted for c in "&|<>()^ ")


@given(TEXTS)
def test_powershell_single_quoted_string_reads_back(value: str) -> None:
    quoted = _quoted_or_refused(quote.ps_str, value)
    if quoted is None:
        assert has_unsafe(value)
        return
    assert read_ps_single(quoted) == value


@given(TEXTS)
def test_powershell_double_quoted_content_reads_back(value: str) -> None:
    content = _quoted_or_refused(quote.ps_in_double_quotes, value)
    if content is None:
        assert has_unsafe(value)
        return
    assert read_ps_double_content(content) == value


@settings(max_examples=300)
@given(PLAIN.filter(lambda s: len(s) <= 512))
def test_nothing_plain_is_refused_where_the_language_can_carry_it(value: str) -> None:
    """The refusals are the documented ones, not a way out."""
    quote.tsql_str(value)
    quote.ps_str(value)
    quote.ps_in_double_quotes(value)
    quote.odbc_value(value)
    quote.adonet_value(value)
    if value:
        quote.tsql_ident(value[:128])
    if "{" not in value and "}" not in value:
        quote.jdbc_value(value)
    if not value.startswith("-"):
        quote.sh_arg(value)
    if value[:1] not in ("-", "/") and not any(c in value for c in '"%!'):
        quote.cmd_arg(value)


# -- the attacks an outside audit measured ------------------------------------------------------


def test_a_stale_servername_cannot_end_the_literal() -> None:
    stale = "OLDHOST'; EXEC xp_cmdshell 'x'; --"
    quoted = quote.tsql_str(stale)
    assert quoted == "N'OLDHOST''; EXEC xp_cmdshell ''x''; --'"
    assert read_tsql_literal(quoted) == stale


def test_a_login_with_a_bracket_stays_one_identifier() -> None:
    assert quote.tsql_ident("dev]ops") == "[dev]]ops]"
    assert read_tsql_identifier(quote.tsql_ident("a]]; DROP LOGIN [sa")) == "a]]; DROP LOGIN [sa"


def test_a_certificate_name_cannot_add_keywords_to_a_connection_string() -> None:
    san = ";TrustServerCertificate=yes;Encrypt=no"
    for quoted, template in (
        (quote.odbc_value(san), "Driver={{X}};Server=db1;HostNameInCertificate={}"),
        (quote.adonet_value(san), "Server=db1;HostNameInCertificate={}"),
    ):
        text = template.format(quoted)
        keys = [p.key.lower() for p in iter_pairs(text)]
        assert "trustservercertificate" not in keys and "encrypt" not in keys
        target = parse_target(text)
        assert target.trust_server_certificate is None and target.encrypt is None
        assert target.host_name_in_certificate == san
    jdbc = f"jdbc:sqlserver://db1:1433;hostNameInCertificate={quote.jdbc_value(san)}"
    target = parse_target(jdbc)
    assert target.trust_server_certificate is None and target.encrypt is None
    with pytest.raises(UnsafeValue):
        quote.hostname(san)


@pytest.mark.parametrize(
    ("function", "value"),
    [
        (quote.cmd_arg, "a%PATH%b"),
        (quote.cmd_arg, 'a" & calc & "'),
        (quote.cmd_arg, "!x!"),
        (quote.cmd_arg, "/delete"),
        (quote.sh_arg, "-oProxyCommand=calc"),
        (quote.sh_arg, "a\nrm -rf ~"),
        (quote.tsql_str, "a\x00b"),
        (quote.ps_str, "a\r\nRemove-Item C:\\"),
        (quote.tsql_ident, "x" * 129),
        (quote.hostname, "-x"),
        (quote.hostname, "db1 ; calc"),
        (quote.port, "1433; calc"),
        (quote.port, "0"),
        (quote.instance, "SALES%x"),
        (quote.service, "MSSQL$A B"),
    ],
)
def test_values_no_quoting_can_carry_are_refused(function: quote.Quoter, value: str) -> None:
    with pytest.raises(UnsafeValue):
        function(value)


def test_typographic_quotes_are_quotes_to_powershell() -> None:
    attack = "x\u2019; Remove-Item C:\\ -Recurse; \u2018"
    quoted = quote.ps_str(attack)
    assert quoted == "'x\u2019\u2019; Remove-Item C:\\ -Recurse; \u2018\u2018'"
    assert read_ps_single(quoted) == attack
    assert quote.ps_in_double_quotes('MSSQL$X "a" \u201cb\u201d `c`') == (
        'MSSQL`$X `"a`" `\u201cb`\u201d ``c``'
    )


def test_plain_values_stay_as_they_are() -> None:
    assert quote.sh_arg("db1.corp.example") == "db1.corp.example"
    assert quote.cmd_arg("db1.corp.example") == "db1.corp.example"
    assert quote.cmd_arg("C:\\Program Files\\") == '"C:\\Program Files\\\\"'
    assert read_cmd_arguments(quote.cmd_arg("C:\\Program Files\\")) == ["C:\\Program Files\\"]
    assert quote.odbc_value("db1") == "db1" and quote.adonet_value("db1") == "db1"
    assert quote.odbc_value("a}b") == "{a}}b}" and quote.adonet_value('a"b') == '"a""b"'
    assert quote.jdbc_value("a;b") == "{a;b}"
    assert quote.hostname("fe80::1") == "fe80::1" and quote.hostname("сервер.bd") == "сервер.bd"
    assert quote.service("MSSQL$SALES") == "MSSQL$SALES" and quote.instance("SQL2019")
