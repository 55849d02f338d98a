"""An error text pasted where the server belongs: `check` reads it as `--error` would, the wizard
moves it to the error field; both say so. Any text at all ends in a target, a moved error text,
or BAD_INPUT with a position.

The error texts are real ones from the corpus (tests/corpus/error_texts.toml) and the cases of
test_explain_cases.py, with their sources.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from textual import events
from textual.widgets import Input, TextArea

from screens.start import StartScreen
from tests.lab_fixtures import running
from tests.wizard_helpers import on, shown, wait_for
from tui.app import make_app
from tui.knowledge.pasted import NOT_A_TARGET, PastedError, read_pasted
from tui.target import Target, TargetError

# https://github.com/pymssql/pymssql/issues/707 (the server's address replaced by the lab's)
FREETDS_REFUSED = (
    "pymssql.OperationalError: (20009, b'DB-Lib error message 20009, severity 9:\\nUnable to "
    "connect: Adaptive Server is unavailable or does not exist ({host})\\nNet-Lib error during "
    "Connection refused (111)\\n')"
)
# https://github.com/dbt-msft/dbt-sqlserver/issues/86 (names no server)
ODBC_REFUSED = (
    "('08001', '[08001] [Microsoft][ODBC Driver 17 for SQL Server]TCP Provider: No connection "
    "could be made because the target machine actively refused it.\\r\\n (10061) "
    "(SQLDriverConnect)')"
)
# https://github.com/tediousjs/node-mssql/issues/1649
TEDIOUS = (
    "ConnectionError: Failed to connect to localhost:1433 - Could not connect (sequence)\n"
    "    at C:\\Users\\User1\\Documents\\GitHub\\myproject\\node_modules\\mssql\\lib\\tedious\\"
    "connection-pool.js:85:17"
)


def check(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "check", *args, "--json", "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    document: dict[str, object] = json.loads(done.stdout)
    document["_exit"] = done.returncode
    return document


def test_an_error_text_naming_no_server_is_bad_input_that_says_so() -> None:
    document = check(ODBC_REFUSED)
    assert document["root_cause"] == "BAD_INPUT"
    assert document["_exit"] == 2
    assert NOT_A_TARGET in str(document["summary"])
    assert "at character 1" in str(document["summary"])


def test_an_error_text_naming_its_server_is_diagnosed_as_with_error() -> None:
    with running("service-stopped") as lab:
        address = lab.address
        document = check(FREETDS_REFUSED.format(host=address))
    assert document["root_cause"] == "PORT_REFUSED", document["summary"]
    target = document["target"]
    assert isinstance(target, dict)
    assert target["host"] == address
    assert any("held an error text" in note for note in target["notes"])
    reading = document.get("error_text")
    assert isinstance(reading, dict), document.keys()
    assert reading["agreement"] == "agrees"


def test_reading_the_paste_names_the_server_and_its_port() -> None:
    pasted = read_pasted(TEDIOUS)
    assert isinstance(pasted, PastedError)
    assert pasted.target is not None
    assert (pasted.target.host, pasted.target.port) == ("localhost", 1433)
    assert "localhost" in pasted.note


def test_a_mistyped_server_stays_a_target_error_with_its_position() -> None:
    for text in ("db1:x", "Server={db1", "db1\\a\\b"):
        try:
            read_pasted(text)
        except TargetError as error:
            assert error.position is not None
        else:
            raise AssertionError(text)


async def test_the_wizard_moves_a_pasted_error_to_the_error_field(tmp_path: Path) -> None:
    async with running("service-stopped") as lab:
        text = FREETDS_REFUSED.format(host=lab.address)
        app = make_app(sessions_dir=tmp_path, record=False, show_timings=False, timeout=1)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, on(app, StartScreen))
            field = app.screen.query_one("#target", Input)
            field.post_message(events.Paste(text.replace("\\n", "\n")))
            await wait_for(pilot, lambda: field.value == lab.address)
            assert "Adaptive Server is unavailable" in app.screen.query_one("#error", TextArea).text
            assert "moved to the error field" in shown(app.screen, "#parse")


async def test_the_wizard_says_when_the_error_names_no_server(tmp_path: Path) -> None:
    app = make_app(sessions_dir=tmp_path, record=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, on(app, StartScreen))
        field = app.screen.query_one("#target", Input)
        field.value = ODBC_REFUSED  # typed or pasted on one line
        area = app.screen.query_one("#error", TextArea)
        await wait_for(pilot, lambda: "actively refused" in area.text)
        assert field.value == ""
        assert "Now give the server" in shown(app.screen, "#parse")
        await pilot.press("enter")  # no server yet: stays
        assert isinstance(app.screen, StartScreen)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda a, b: a + b,
            st.sampled_from([ODBC_REFUSED, TEDIOUS, "Login failed for user 'sa'.", "db1", ""]),
            st.text(max_size=40),
        ),
    )
)
def test_any_text_ends_in_a_target_a_moved_error_or_bad_input_with_a_position(text: str) -> None:
    try:
        result = read_pasted(text)
    except TargetError as error:
        assert error.position is not None, str(error)
        return
    assert isinstance(result, Target | PastedError)
