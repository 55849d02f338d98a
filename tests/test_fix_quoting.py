"""Every value enters a fix command through its command's quoting (issue 22): each placeholder
of each template names a quoting that fits the command's language, and hostile values in every
field of `FixValues` never become more command than the one value they stand for."""

from __future__ import annotations

import shlex
from dataclasses import fields
from string import Formatter

import pytest

from tests.quoting_readers import (
    cmd_outside_double_quotes,
    ps_outside_strings,
    read_ps_double_content,
    read_tsql_identifier,
    read_tsql_literal,
    sh_outside_quotes,
    tsql_outside_literals,
)
from tui.knowledge.fixes.catalog import CATALOG, placeholder, render_fix
from tui.knowledge.fixes.model import Fix
from tui.knowledge.fixes.template import (
    ADONET,
    CMD,
    CONF,
    JDBC,
    LANGUAGE_BARE,
    LANGUAGE_QUOTING,
    ODBC,
    PS,
    SH,
    SQL,
    TEXT,
)
from tui.knowledge.fixes.values import FixValues
from tui.safe.quote import QUOTERS, VALIDATED
from tui.safe.sanitise import has_unsafe
from tui.target import iter_pairs, parse_target

FIELDS = {f.name for f in fields(FixValues)}
MARK = "PWNED"
ATTACKS = (
    f"OLDHOST'; EXEC xp_cmdshell '{MARK}'; --",
    f";TrustServerCertificate=yes;Encrypt=no;App={MARK}",
    f"dev]{MARK}",
    f'a" & {MARK} & "',
    f"$({MARK}) `{MARK}` %{MARK}% !{MARK}!",
    f"x'; Remove-Item C:\\ -Recurse; '{MARK}",
    f"x\u2019; {MARK}; \u2018",
    f'$env:{MARK} "{MARK}" \u201c{MARK}\u201d',
    f"-o{MARK}",
    f"{{{MARK}}}}}",
    f"\x1b]52;c;{MARK}\x07",
    f"a\n{MARK}",
)


def _placeholders(text: str) -> list[tuple[str, str]]:
    return [(field, spec or "") for _, field, spec, _ in Formatter().parse(text) if field]


def test_every_placeholder_has_a_quoting_fitting_its_language() -> None:
    seen = set()
    for fix in CATALOG:
        for command in fix.commands:
            allowed = LANGUAGE_QUOTING[command.language]
            for field, spec in _placeholders(command.text):
                where = (fix.id, command.label, field, spec)
                assert field in FIELDS, where
                if spec:
                    assert spec in QUOTERS and spec in allowed, where
                else:
                    assert field in LANGUAGE_BARE[command.language] and field in VALIDATED, where
                seen.add((command.language, spec))
    # each language's quoting is really used somewhere
    for kind in ("tsql_str", "tsql_ident", "odbc", "adonet", "jdbc", "cmd", "ps", "ps_dq", "sh"):
        assert any(spec == kind for _, spec in seen), kind


def _render_all(values: FixValues) -> list[Fix]:
    return [render_fix(fix.id, values) for fix in CATALOG]


def _language(fix_id: str, index: int, values: FixValues) -> str:
    """The language of the `index`-th command rendered (commands missing a value are left
    out, so count among those kept)."""
    kept = [
        c
        for c in next(f for f in CATALOG if f.id == fix_id).commands
        if all(getattr(values, field) is not None for field, _ in _placeholders(c.text))
    ]
    return kept[index].language


def _benign() -> FixValues:
    target = parse_target("Server=db1\\SALES,1500;Database=Sales;User ID=app")
    return FixValues.of(
        target,
        **{f: "benign" for f in FIELDS - {"instance", "service", "host", "port", "good_port"}},
        good_port="1501",
    )


def _keys(text: str) -> list[str]:
    """The keys of a connection string, or of a JDBC URL's properties."""
    if text.startswith("jdbc:"):
        text = text.partition(";")[2]
    return [pair.key for pair in iter_pairs(text)]


def _check(language: str, text: str, benign: str) -> None:
    assert not has_unsafe(text.replace("\n", "").replace("\t", "")), text
    if language == SQL:
        assert MARK not in tsql_outside_literals(text), text
    elif language == SH:
        outside, doubles = sh_outside_quotes(text)
        assert MARK not in outside, text
        assert not any(MARK in d and ("$" in d or "`" in d) for d in doubles), text
        assert len(shlex.split(text, comments=True)) == len(shlex.split(benign, comments=True))
    elif language == CMD:
        outside, spans = cmd_outside_double_quotes(text)
        assert MARK not in outside, text
        assert not any(c in span for span in spans for c in "%!"), text
    elif language == PS:
        outside, doubles = ps_outside_strings(text)
        assert MARK not in outside, text
        for content in doubles:
            if MARK in content:
                read_ps_double_content(content)  # nothing in it expands
    elif language in (ODBC, ADONET, JDBC):
        assert _keys(text) == _keys(benign), text
    else:
        assert language in (TEXT, CONF)


@pytest.mark.parametrize("attack", ATTACKS, ids=range(len(ATTACKS)))
def test_hostile_values_in_every_field_stay_one_value(attack: str) -> None:
    benign_values = _benign()
    benign = {fix.id: fix for fix in _render_all(benign_values)}
    for field in sorted(FIELDS - {"instance", "service"}):
        values = FixValues.of(
            parse_target("Server=db1\\SALES,1500;Database=Sales;User ID=app"),
            **{
                **{f: "benign" for f in FIELDS - {"instance", "service", "host", "port"}},
                "good_port": "1501",
                field: attack,
            },
        )
        for fix in _render_all(values):
            for index, command in enumerate(fix.commands):
                language = _language(fix.id, index, values)
                _check(language, command.text, benign[fix.id].commands[index].text)
                if placeholder(field) in command.text:
                    assert any(placeholder(field) in w for w in fix.warnings), fix.id


def test_a_stale_servername_gives_a_quoted_literal() -> None:
    stale = "OLDHOST'; EXEC xp_cmdshell 'x'; --"
    values = FixValues.of(parse_target("db1"), old_server_name=stale, new_server_name="SQLHOST01")
    fix = render_fix("restart-after-rename", values)
    sql = fix.commands[0].text
    assert "EXEC xp_cmdshell" not in tsql_outside_literals(sql)
    drop = sql.splitlines()[1]
    assert drop.startswith("EXEC sp_dropserver ") and drop.endswith(";")
    assert read_tsql_literal(drop[len("EXEC sp_dropserver ") : -1]) == stale
    assert fix.warnings == ()


def test_a_certificate_name_cannot_turn_off_certificate_checks() -> None:
    san = ";TrustServerCertificate=yes;Encrypt=no"
    values = FixValues.of(parse_target("db1,1433"), cert_name=san, client_name="db1")
    fix = render_fix("host-name-in-certificate", values)
    strings = [c.text for c in fix.commands]
    assert strings[0] == "Server=<CERT-NAME>,1433"  # a server name cannot be quoted there
    assert any("<CERT-NAME>" in w and "TrustServerCertificate" in w for w in fix.warnings)
    for text in strings:
        target = parse_target(text.replace("<CERT-NAME>", "x"))
        assert target.trust_server_certificate is None and target.encrypt is None, text
    assert parse_target(strings[1]).host_name_in_certificate == san


def test_a_login_with_a_bracket_in_alter_login() -> None:
    values = FixValues.of(parse_target("Server=db1;User ID=dev]ops"), login="dev]ops")
    for fix_id in ("enable-login", "unlock-login", "change-login-password", "check-login"):
        sql = "\n".join(c.text for c in render_fix(fix_id, values).commands)
        line = next(line for line in sql.splitlines() if line.startswith("ALTER LOGIN"))
        name = line[len("ALTER LOGIN ") :].split(" ")[0]
        assert read_tsql_identifier(name) == "dev]ops"
        assert line.startswith("ALTER LOGIN [dev]]ops] ")


def test_a_placeholder_never_hides_a_change() -> None:
    """A value no quoting can carry: the command keeps its shape with a placeholder, and the
    fix says which value, why, and to type it by hand."""
    values = FixValues.of(parse_target("db1"), old_server_name="OLD\nHOST", new_server_name="NEW")
    fix = render_fix("restart-after-rename", values)
    assert "EXEC sp_dropserver <OLD-SERVER-NAME>;" in fix.commands[0].text
    (warning,) = fix.warnings
    assert "<OLD-SERVER-NAME>" in warning and "OLD\\nHOST" in warning and "by hand" in warning
    assert Fix.from_json(fix.to_json()) == fix
