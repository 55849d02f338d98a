"""Every renderer fed hostile values (issue 22): escape sequences (OSC 52, OSC 2, CSI, C1),
bidi overrides, Textual markup, HTML, backticks and pipes in every field a server can fill.
Text, Markdown, HTML, JSON, the scan table and the transcript exports carry them as inert text;
the transcript exports render from the same records, with the same functions, as live output.

The hostile values are built into the records directly (a `Diagnosis`, a `Verdict`, a journal):
the hostile servers themselves live in the probes' tests."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tui.engine.model import Status, StepFinished, StepRecord, Verdict, VerdictReached
from tui.engine.walk import Diagnosis
from tui.knowledge.causes import Hop, RootCause
from tui.knowledge.clients import ClientRow
from tui.knowledge.fixes.catalog import render_fix
from tui.knowledge.fixes.model import Command, Fix
from tui.knowledge.fixes.values import FixValues
from tui.render import jsonout, markdown, text
from tui.render.rows import ScanRow
from tui.target import parse_target
from tui.transcript.export import render as export
from tui.transcript.journal import Journal
from tui.transcript.store import read_session

OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
OSC2 = "\x1b]2;owned\x1b\\"
HOSTILE = (
    f"{OSC52}{OSC2}\x1b[2J\x9b31m dev[/]ops [bold]x[/bold] <script>alert(1)</script> "
    "<img src=x onerror=alert(1)> | a | b | ``` `x` # not a heading [link](http://evil.test) "
    "**bold** \u202eevil\u202c &amp; ~~s~~ \x00\x7f"
)
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
GFM = MarkdownIt("gfm-like")
assert GFM.linkify is not None  # linkify-it-py, so autolinks are judged too
GFM.linkify.set({"fuzzy_link": False})  # GFM links www. and http(s)://, not bare domains


def raw_controls(output: str) -> list[str]:
    """Characters that must never reach an output: C0 (but newline and tab), DEL, C1, bidi."""
    return [
        c
        for c in output
        if (unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t") or c in BIDI
    ]


def hostile_diagnosis() -> Diagnosis:
    target = dataclasses.replace(
        parse_target("Server=db1;User ID=dev[/]ops"), notes=(f"note {HOSTILE}",)
    )
    step = StepRecord(
        id="login",
        title=f"Log in {HOSTILE}",
        hop=Hop.LOGIN,
        status=Status.FAIL,
        summary=f"Login failed for user 'dev[/]ops'. {HOSTILE}",
        outcome="failed",
        decision=f"verdict: LOGIN_FAILED {HOSTILE}",
        evidence={"message": HOSTILE, "instance": HOSTILE, "version": HOSTILE},
        elapsed_ms=3.0,
        answer=HOSTILE,
    )
    values = FixValues.of(target, login="dev[/]ops", old_server_name=HOSTILE, new_server_name="N")
    fixes = (
        render_fix("check-login", values),
        render_fix("restart-after-rename", values),
        Fix(
            id="hostile",
            title=f"Title {HOSTILE}",
            why=f"Why {HOSTILE}",
            commands=(Command("linux", f"label {HOSTILE}", f"echo {HOSTILE}\n```\nnext"),),
            risk=f"Risk {HOSTILE}",
            warnings=(f"Warning {HOSTILE}",),
        ),
    )
    client = ClientRow(
        id="odbc18",
        name=f"ODBC {HOSTILE}",
        versions=HOSTILE,
        encrypt_default="yes",
        certificate_checked=HOSTILE,
        outcome="fails",
        failed_check=HOSTILE,
        reason=HOSTILE,
        candidate=True,
        errors={"linux": HOSTILE, "windows": HOSTILE},
    )
    verdict = Verdict(
        root_cause=RootCause.LOGIN_FAILED,
        summary=f"The server rejected the login as dev[/]ops: {HOSTILE}",
        fixes=fixes,
        step="login",
        clients=(client,),
    )
    return Diagnosis(target=target, steps=(step,), verdict=verdict, elapsed_ms=5.0)


def test_text_carries_no_control_character() -> None:
    output = text.render(hostile_diagnosis(), platform_first="linux")
    assert not raw_controls(output)
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in output and "dev[/]ops" in output
    assert "\\u202eevil" in output


def _markdown_tokens(document: str) -> list[str]:
    kinds = []
    for token in GFM.parse(document):
        kinds.append(token.type)
        kinds.extend(child.type for child in token.children or [])
    return kinds


def _assert_inert_markdown(document: str) -> None:
    assert not raw_controls(document)
    kinds = _markdown_tokens(document)
    for forbidden in ("html_inline", "link_open", "image", "s_open"):
        assert forbidden not in kinds, forbidden
    tokens = GFM.parse(document)
    ours = {"<details><summary>evidence</summary>", "</details>"}  # the export's own folding
    assert all(t.content.strip() in ours for t in tokens if t.type == "html_block")
    # every table row has the header's number of cells: no pipe from a value split a cell
    table_rows: list[int] = []
    for token in tokens:
        if token.type == "tr_open":
            table_rows.append(0)
        elif token.type in ("th_open", "td_open"):
            table_rows[-1] += 1
        elif token.type == "table_close":
            assert len(set(table_rows)) == 1, table_rows
            table_rows = []
    headings = [t for t in tokens if t.type == "heading_open"]
    for heading in headings:
        content = tokens[tokens.index(heading) + 1].content
        assert "not a heading" not in content or content.startswith(("Title", "sqlreach"))


def test_markdown_is_inert() -> None:
    document = markdown.render(hostile_diagnosis())
    _assert_inert_markdown(document)
    assert "dev\\[/\\]ops" in document


def test_json_is_ascii_and_carries_the_values_exactly() -> None:
    output = jsonout.render(hostile_diagnosis())
    assert output.isascii() and not raw_controls(output)
    document = json.loads(output)
    assert document["schema"] == jsonout.SCHEMA
    assert HOSTILE in document["summary"]
    assert document["steps"][0]["evidence"]["message"] == HOSTILE
    assert document["fixes"][2]["warnings"] == [f"Warning {HOSTILE}"]


def test_scan_outputs_are_inert() -> None:
    rows = [ScanRow(1, f"db1{HOSTILE}", "BAD_INPUT", HOSTILE, 1.0)]
    table = text.scan_table(rows)
    assert not raw_controls(table)
    _assert_inert_markdown(markdown.scan_table(rows))
    line = jsonout.scan_lines(rows)
    assert line.isascii() and json.loads(line)["summary"] == HOSTILE


def test_bad_input_in_every_format() -> None:
    message = f"unbalanced '{{' {HOSTILE}"
    assert not raw_controls(text.bad_input(message))
    assert text.bad_input(message).startswith("Verdict: BAD_INPUT\n\n")
    _assert_inert_markdown(markdown.bad_input(message))
    assert markdown.bad_input(message).startswith("## sqlreach: `BAD_INPUT`\n\n")
    document = json.loads(jsonout.bad_input(message))
    assert document == {
        "schema": 1,
        "target": None,
        "root_cause": "BAD_INPUT",
        "summary": message,
        "steps": [],
        "fixes": [],
        "clients": [],
    }


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def _session(tmp_path: Path) -> Path:
    diagnosis = hostile_diagnosis()
    path = tmp_path / "hostile.jsonl"
    journal = Journal.create(diagnosis.target, path, origin="check")
    journal.error_text(f"the error {HOSTILE}\n```\n# heading")
    for record in diagnosis.steps:
        journal.record(StepFinished(record))
    journal.record(VerdictReached(diagnosis.verdict))
    journal.note(HOSTILE)
    journal.copied(f"echo {HOSTILE}", "hostile")
    journal.close()
    return path


def test_transcript_exports_are_inert(tmp_path: Path) -> None:
    session = read_session(_session(tmp_path))
    document = export(session, "md")
    _assert_inert_markdown(document)
    page = export(session, "html")
    assert not raw_controls(page)
    parser = _Tags()
    parser.feed(page)
    assert not parser.tags & {"script", "img", "a", "iframe"}
    assert "onerror" not in parser.attributes
    dumped = export(session, "json")
    assert dumped.isascii() and json.loads(dumped)["schema"] == 1


def test_exports_render_the_same_records_as_live_output(tmp_path: Path) -> None:
    """The journal's verdict holds the whole `Verdict` (clients, fixes, warnings): the export
    reads it back and draws it with the same section functions as `check --markdown`."""
    diagnosis = hostile_diagnosis()
    session = read_session(_session(tmp_path))
    restored = session.diagnosis
    assert restored is not None and restored.steps == diagnosis.steps
    assert restored.verdict.summary == diagnosis.verdict.summary
    assert restored.verdict.clients == diagnosis.verdict.clients
    # the journal's own redaction hides "PASSWORD = N'<new password>'"; the rest is whole
    assert restored.verdict.fixes[1:] == diagnosis.verdict.fixes[1:]
    live = markdown.render(restored)
    exported = export(session, "md")
    assert "\n".join(markdown.clients_section(restored.verdict.clients, 2)) in exported
    assert "\n".join(markdown.clients_section(restored.verdict.clients, 3)) in live
    fixes_live = "\n".join(markdown.fixes_section(restored.verdict.fixes, 3))
    fixes_exported = "\n".join(markdown.fixes_section(restored.verdict.fixes, 2))
    assert fixes_live in live and fixes_exported in exported
    assert fixes_live.replace("\n#### ", "\n## ").replace("\n### ", "\n## ") == (
        fixes_exported.replace("\n### ", "\n## ")
    )


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_session_without_a_verdict_still_exports(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "cut.jsonl"
    journal = Journal.create(parse_target("db1"), path)
    journal.record(StepFinished(hostile_diagnosis().steps[0]))
    session = read_session(path)  # never closed: interrupted
    output = export(session, fmt)
    assert not raw_controls(output)
    assert "interrupted before a verdict" in output or "No verdict" in output
