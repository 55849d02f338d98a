"""The sanitiser (tui/safe/sanitise.py): whatever a server sends, what reaches a terminal, a
Markdown ticket, an HTML page or the wizard's markup is inert text. Judged by parsers written
by others: markdown-it-py (CommonMark + GFM tables, strikethrough, linkify), Python's HTML
parser, Textual's own markup reader."""

from __future__ import annotations

import unicodedata
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from textual.markup import to_content

from tui.safe import sanitise
from tui.safe.sanitise import code, fence, html, markdown, markup, visible, visible_lines

SPECIAL = [
    *"\\`*_[]<>|#~&!()-+=.:/ \t\n\r{}'\"$@",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x9b",
    "\u202e",
    "\u2066",
    "\u2028",
    "\ud800",
    "a",
    "1",
    "w",
    "Ж",
    "http://x.test",
    "www.",
    "1. ",
    "- ",
    "<script>",
    "[/]",
    "\x1b]52;c;ZXZpbA==\x07",
]
TEXTS = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(SPECIAL), max_size=20).map("".join),
)
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
GFM = MarkdownIt("gfm-like")
assert GFM.linkify is not None  # linkify-it-py, so autolinks are judged too
GFM.linkify.set({"fuzzy_link": False})  # GFM links www. and http(s)://, not bare domains


def _raw_controls(text: str, *, lines: bool = False) -> list[str]:
    allowed = "\n\t" if lines else ""
    return [
        c
        for c in text
        if (unicodedata.category(c) in ("Cc", "Cs") and c not in allowed) or c in BIDI
    ]


@given(TEXTS)
def test_visible_leaves_no_control_character(value: str) -> None:
    shown = visible(value)
    assert not _raw_controls(shown)
    assert visible(shown) == shown  # nothing left to escape
    assert not _raw_controls(visible_lines(value), lines=True)


def test_escape_sequences_show_whole_and_inert() -> None:
    osc52 = "\x1b]52;c;ZXZpbA==\x07"
    assert visible(osc52) == "\\x1b]52;c;ZXZpbA==\\x07"
    assert visible("\x1b]2;pwned\x1b\\") == "\\x1b]2;pwned\\x1b\\"
    assert visible("\x9b31m\x90q\x9c") == "\\x9b31m\\x90q\\x9c"  # C1 CSI, DCS, ST
    assert visible("abc\u202edcba") == "abc\\u202edcba"
    assert visible("a\nb\tc\x7f") == "a\\nb\\tc\\x7f"
    assert visible_lines("a\r\nb\tc\rd") == "a\nb\tc\\rd"


def test_long_fields_are_cut_and_say_so() -> None:
    assert visible("x" * 300, sanitise.NAME) == "x" * 256 + "… (44 more characters)"
    assert len(visible_lines("y" * 10**6)) < sanitise.TEXT + 40


@given(TEXTS)
def test_textual_markup_reads_back_as_plain_text(value: str) -> None:
    assert to_content(markup(value)).plain == visible(value)


def _inline_tokens(document: str) -> tuple[list[str], list[str], str]:
    tokens = GFM.parse(document)
    blocks = [t.type for t in tokens]
    inline = [child for t in tokens if t.type == "inline" for child in t.children or []]
    kinds = [c.type for c in inline]
    text = "".join(c.content for c in inline if c.type == "text")
    return blocks, kinds, text


@given(TEXTS)
def test_markdown_text_is_one_paragraph_of_plain_text(value: str) -> None:
    escaped = markdown(value)
    expected = visible_lines(value).replace("\n", " ").replace("\t", " ").strip()
    if not expected:
        return
    blocks, kinds, text = _inline_tokens(escaped)
    assert blocks == ["paragraph_open", "inline", "paragraph_close"], (escaped, blocks)
    assert set(kinds) <= {"text"}, (escaped, kinds)
    assert text == expected
    assert "<" not in GFM.render(escaped).replace("<p>", "").replace("</p>", "")


@given(TEXTS, TEXTS)
def test_markdown_table_cells_stay_in_their_column(first: str, second: str) -> None:
    table = f"| a | b |\n|---|---|\n| {markdown(first)} | {code(second, in_table=True)} |\n"
    tokens = GFM.parse(table)
    cells = [t for t in tokens if t.type == "td_open"]
    assert len(cells) == 2, table
    inline = [t for t in tokens if t.type == "inline"][-2:]
    assert {c.type for c in inline[0].children or []} <= {"text"}
    spans = [c for c in inline[1].children or [] if c.type == "code_inline"]
    assert len(spans) == 1 and spans[0].content.strip() == visible(second).strip()


@given(TEXTS)
def test_a_code_span_cannot_be_closed_from_inside(value: str) -> None:
    _, kinds, _ = _inline_tokens(f"see {code(value)} here")
    tokens = GFM.parse(f"see {code(value)} here")
    spans = [c for t in tokens if t.type == "inline" for c in t.children or []]
    codes = [c for c in spans if c.type == "code_inline"]
    assert len(codes) == 1 and kinds.count("code_inline") == 1
    assert codes[0].content.strip(" ") == visible(value).strip(" ")


@given(TEXTS, st.sampled_from(["", "sh", "json"]), st.sampled_from(["", "   "]))
def test_a_fence_cannot_be_closed_from_inside(value: str, info: str, indent: str) -> None:
    document = "\n".join(fence(value, info, indent)) + "\nafter\n"
    tokens = GFM.parse(document)
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].content == visible_lines(value) + "\n"
    assert fences[0].info == info
    assert [t.type for t in tokens][-3:] == ["paragraph_open", "inline", "paragraph_close"]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.tags.append("!--")


@given(TEXTS)
def test_html_text_is_only_text(value: str) -> None:
    parser = _Collect()
    parser.feed(f'<p title="{html(value)}">{html(value)}</p>')
    parser.close()
    assert parser.tags == ["p", "/p"]
    assert "".join(parser.text) == visible(value)
    assert not _raw_controls(sanitise.html_lines(value), lines=True)
