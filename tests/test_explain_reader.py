"""How `explain` weighs what it recognises, keeps secrets out, and hints the live check."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.knowledge.causes import Layer
from tui.knowledge.causes import RootCause as R
from tui.knowledge.explain import reader
from tui.knowledge.explain.catalog import default_catalog
from tui.knowledge.explain.model import Agreement, Expectation
from tui.knowledge.explain.reader import explain
from tui.render.explain import render_json, render_text, suggested_command

# Real texts (sources in tests/test_explain_cases.py).
REFUSED_ODBC = (  # github.com/dbt-msft/dbt-sqlserver/issues/86
    "[08001] [Microsoft][ODBC Driver 17 for SQL Server]TCP Provider: No connection could be made "
    "because the target machine actively refused it.\\r\\n (10061) (SQLDriverConnect); [08001] "
    "[Microsoft][ODBC Driver 17 for SQL Server]Login timeout expired (0)"
)
RESET_DOTNET = (  # github.com/microsoft/azuredatastudio/issues/454
    "System.IO.IOException: Unable to read data from the transport connection: Connection reset "
    "by peer. ---> System.Net.Sockets.SocketException: Connection reset by peer"
)
LOGIN_FAILED_ODBC = (  # github.com/davidcomerford/pyodbc-mssql-lambda-layer/issues/4
    "[28000] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Login failed for user "
    "'admin'. (18456) (SQLDriverConnect)"
)
TEDIOUS_UNDEFINED = (  # github.com/tediousjs/tedious/issues/655
    "message: 'Failed to connect to localhost:undefined in 15000ms',\n  code: 'ETIMEOUT' }"
)
ALL_EXAMPLES = [example for entry in default_catalog().entries for example in entry.examples]


def test_nothing_known_is_not_found() -> None:
    for text in ("", "   ", "hello world", "SELECT 1"):
        explanation = explain(text)
        assert not explanation.found
        assert explanation.layer is None
        assert explanation.candidates == () == explanation.ruled_out
        assert "sqlreach check" in render_text(explanation)
        assert json.loads(render_json(explanation))["recognised"] == []


def test_hints_only_count_when_nothing_stronger_speaks() -> None:
    alone = explain("[HYT00] [Microsoft][ODBC Driver 17 for SQL Server]Login timeout expired")
    assert R.PORT_FILTERED in [c.cause for c in alone.candidates]
    with_refusal = explain(REFUSED_ODBC)
    assert [c.cause for c in with_refusal.candidates] == [R.PORT_REFUSED, R.WRONG_PORT]
    assert "Login timeout expired" in [item.text for item in with_refusal.recognised]


def test_a_weaker_part_cannot_rule_out_what_a_stronger_part_names() -> None:
    """Two attempts pasted together: refused (strong) and reset (a clue that excludes refused)."""
    explanation = explain(REFUSED_ODBC + "\n" + RESET_DOTNET)
    causes = [c.cause for c in explanation.candidates]
    assert causes[0] is R.PORT_REFUSED
    assert R.TLS_FAILED in causes
    assert any("more than one attempt" in note for note in explanation.notes)


def test_a_stronger_part_rules_out_a_weaker_ones_cause() -> None:
    text = "(provider: TCP Provider, error: 40 - Could not open a connection to SQL Server)\n"
    explanation = explain(text + LOGIN_FAILED_ODBC)
    assert explanation.layer is Layer.LOGIN
    assert R.PORT_REFUSED in {r.cause for r in explanation.ruled_out}
    why = dict(json.loads(render_json(explanation))["why"]["ruled_out"])
    assert why["PORT_REFUSED"].startswith("18456 login failed:")


def test_a_specific_entry_overrides_a_vague_one_where_they_overlap() -> None:
    explanation = explain(TEDIOUS_UNDEFINED)
    entries = [item.entry for item in explanation.recognised]
    assert "tedious-port-undefined" in entries
    assert "tedious-connect-timeout" not in entries
    assert explanation.layer is Layer.BROWSER


def test_repeated_parts_are_counted_once() -> None:
    explanation = explain(REFUSED_ODBC + "\n" + REFUSED_ODBC)
    refused = [item for item in explanation.recognised if item.entry == "winsock-10061"]
    assert len(refused) == 1
    assert refused[0].count == 4  # the phrase and "(10061)", twice


def test_the_hint_says_where_to_start_and_what_agrees() -> None:
    hint = explain(REFUSED_ODBC).hint
    assert hint.start_layer is Layer.TCP
    assert hint.expect(Layer.TCP) is Expectation.FAIL
    assert hint.expect(Layer.NAME) is Expectation.PASS
    assert hint.expect(Layer.LOGIN) is Expectation.UNKNOWN
    assert hint.judge(Layer.TCP, live_passed=False) is Agreement.AGREES
    assert hint.judge(Layer.TCP, live_passed=True) is Agreement.DISAGREES  # the service came back
    assert hint.judge(Layer.NAME, live_passed=False) is Agreement.DISAGREES
    assert hint.judge(Layer.TLS, live_passed=False) is Agreement.UNRELATED
    assert hint.compare(R.PORT_REFUSED) is Agreement.AGREES
    assert hint.compare(R.OK) is Agreement.DISAGREES
    assert hint.compare(R.PORT_FILTERED) is Agreement.DISAGREES
    assert hint.compare(R.TLS_FAILED) is Agreement.UNRELATED
    assert json.loads(render_json(explain(REFUSED_ODBC)))["entry_hint"] == hint.to_json()


def test_the_login_hint_expects_the_whole_path_to_work() -> None:
    hint = explain(LOGIN_FAILED_ODBC).hint
    for layer in (Layer.NAME, Layer.TCP, Layer.SERVER, Layer.TLS):
        assert hint.expect(layer) is Expectation.PASS
    assert hint.expect(Layer.LOGIN) is Expectation.FAIL


def test_facts_name_the_target_and_the_suggested_command_is_safe() -> None:
    text = "Failed to connect to 10.65.11.135:1433 - connect ECONNREFUSED"  # sails-sqlserver#2
    explanation = explain(text)
    assert explanation.facts == {"host": "10.65.11.135", "port": "1433"}
    assert suggested_command(explanation).startswith("sqlreach check 10.65.11.135,1433 ")
    hostile = explain("Failed to connect to $(reboot):1433 - connect ECONNREFUSED")
    assert "$(" not in suggested_command(hostile)
    assert "reboot" not in render_text(hostile).split("Then test it live:")[1]


@pytest.mark.parametrize(
    "secret_text",
    [
        "Server=tcp:db01,1433;UID=app;PWD=Zq9LeakedOne;",
        "docker run -e 'ACCEPT_EULA=Y' -e 'SA_PASSWORD=Zq9LeakedOne' -p 1433:1433",
        "MSSQL_SA_PASSWORD: Zq9LeakedOne",
        "sqlcmd -S db01 -U sa -P Zq9LeakedOne",
    ],
)
def test_secrets_never_reach_the_output(secret_text: str) -> None:
    text = f"Login failed for user '{secret_text}'. {LOGIN_FAILED_ODBC}\n{secret_text}"
    explanation = explain(text)
    assert explanation.found
    for rendered in (render_text(explanation), render_json(explanation)):
        assert "Zq9LeakedOne" not in rendered


def test_long_text_is_cut_and_the_cut_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_TEXT_CHARS", 100)
    explanation = explain("x" * 100 + REFUSED_ODBC)
    assert not explanation.found
    assert "only the first 100" in explanation.notes[0]


def test_a_paste_of_everything_is_bounded() -> None:
    explanation = explain("\n".join(ALL_EXAMPLES))
    assert len(explanation.recognised) == reader.MAX_RECOGNISED
    assert explanation.omitted > 0
    assert len(explanation.next_checks) <= reader.MAX_CHECKS
    json.loads(render_json(explanation))


def test_linked_server_context_comes_first_in_the_checks() -> None:
    text = (  # blog.sqlauthority.com (the seed text)
        "TCP Provider: No connection could be made because the target machine actively refused "
        "it.\nOLE DB provider “SQLNCLI11” for linked server returned message “Login timeout "
        "expired”."
    )
    assert "linked server" in explain(text).next_checks[0]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    explanation = explain(text)
    json.loads(render_json(explanation))
    render_text(explanation)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALL_EXAMPLES) | st.text(max_size=40), max_size=8))
def test_mixtures_of_known_and_unknown_text_stay_consistent(parts: list[str]) -> None:
    explanation = explain(" ".join(parts))
    candidates = {c.cause for c in explanation.candidates}
    assert not candidates & {r.cause for r in explanation.ruled_out}
    if explanation.candidates:
        assert explanation.layer is not None
    document = json.loads(render_json(explanation))
    assert set(document) >= {"recognised", "layer", "candidates", "ruled_out", "next_checks"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=60),
    st.text(alphabet=string.ascii_letters + string.digits, min_size=6, max_size=20),
    st.text(max_size=60),
    st.sampled_from(["PWD=", "Password=", "pwd = ", "SA_PASSWORD=", "password: ", " -P "]),
)
def test_a_secret_anywhere_stays_out(before: str, body: str, after: str, key: str) -> None:
    secret = "Zq9" + body
    text = f"{before}{key}{secret}\n{after} Login failed for user '{secret}'. (18456)"
    explanation = explain(text)
    for rendered in (render_text(explanation), render_json(explanation)):
        assert secret not in rendered


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALL_EXAMPLES) | st.text(max_size=40), max_size=8))
def test_the_anchor_shortcut_changes_nothing(parts: list[str]) -> None:
    text = " ".join(parts)
    fast = explain(text)
    original = reader.USE_ANCHORS
    reader.USE_ANCHORS = False
    try:
        slow = explain(text)
    finally:
        reader.USE_ANCHORS = original
    assert fast == slow


def test_checks_follow_the_likeliest_cause_and_drop_outranked_hints() -> None:
    both = explain(  # the two messages SQL Server sends for a missing database (bcpandas#28)
        "Login failed for user 'sa'. (18456) Cannot open database \"qq\" requested by the login. "
        "The login failed. (4060)"
    )
    assert both.next_checks[0].startswith("Check the database named in the connection")
    certificate = explain(  # github.com/mkleehammer/pyodbc/issues/610
        "[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: [error:0A000086:SSL routines::"
        "certificate verify failed:self-signed certificate] (-1) (SQLDriverConnect)"
    )
    assert certificate.next_checks[0].startswith("Look at the certificate")
    assert not any("TLS versions" in check for check in certificate.next_checks)
