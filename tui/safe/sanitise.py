"""Text from the network or from files, made safe to show: in a terminal, Markdown, HTML, or
the wizard's Textual markup.

A server can put anything in an instance name, a version, an error message or a certificate: an
escape sequence that sets the window title or writes the clipboard (OSC 2, OSC 52), a cursor
move that paints over what sqlreach printed, a bidi override that reverses a command, markup
that crashes the wizard. Every value from outside goes through one of the functions here before
it is shown.

The decision, in one place:
- Control characters become their escape as text, in ASCII so every code page can print it:
  C0 and DEL as `\\x1b`, `\\x7f` (`\\n` and `\\t` spelled so too in single-line fields), C1 as
  `\\x9b`. An ESC sequence (CSI, OSC, DCS ...) so shows whole and inert: `\\x1b]52;c;...\\x07`.
- Bidi controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM), the line and
  paragraph separators, and lone surrogates become `\\u202e`-style escapes.
- A field is cut to a length that suits it, saying how much was left out.
"""

from __future__ import annotations

import re
from typing import Final

NAME: Final = 256  # names, versions, single values
LINE: Final = 2_000  # a summary, a reason, a title
TEXT: Final = 20_000  # an error text, a command, evidence

_BIDI: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)
# Every character that must never reach an output raw: C0, DEL, C1, bidi, surrogates.
_UNSAFE: Final = re.compile("[\x00-\x1f\x7f-\x9f" + "".join(sorted(_BIDI)) + "\ud800-\udfff]")
_UNSAFE_KEEPING_LINES: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted(_BIDI)) + "\ud800-\udfff]"
)
_NAMED: Final = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def cut(text: str, limit: int | None) -> str:
    """At most `limit` characters of `text`, saying how many more there were."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def visible(value: object, limit: int | None = LINE) -> str:
    """One line: every control character (newlines and tabs too) shown as its escape."""
    return _UNSAFE.sub(_escape, cut(str(value), limit))


def visible_lines(value: object, limit: int | None = TEXT) -> str:
    """Several lines: newlines (CR LF read as LF) and tabs kept, every other control shown."""
    text = cut(str(value), limit).replace("\r\n", "\n")
    return _UNSAFE_KEEPING_LINES.sub(_escape, text)


def has_unsafe(text: str) -> bool:
    """True when `text` holds a character that `visible` would escape."""
    return _UNSAFE.search(text) is not None


# -- Textual markup (the wizard) ---------------------------------------------------------------


def markup(value: object, limit: int | None = LINE) -> str:
    """For a string Textual reads as content markup: every `[` escaped (Textual's markup reads
    `\\[` as a literal bracket and nothing else as an escape), so `dev[/]ops` is just text."""
    return visible(value, limit).replace("[", "\\[")


# -- Markdown -----------------------------------------------------------------------------------

# Backslash-escaped everywhere: emphasis, code, links and images, raw HTML, entities, tables,
# strikethrough, headings. CommonMark renders an escaped ASCII punctuation mark as itself.
_MD_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|#~&])")
_MD_LINE_START: Final = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)]))")
_MD_AUTOLINK: Final = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=www)(\.)")


def markdown(value: object, limit: int | None = LINE) -> str:
    """Inline Markdown (a paragraph, a list item, a table cell): nothing in the value can make
    emphasis, a link, an image, raw HTML, a heading, a list, a table column or an autolink."""
    text = visible_lines(value, limit).replace("\n", " ").replace("\t", " ").strip()
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_AUTOLINK.sub(lambda m: "\\" + (m.group(1) or m.group(2)), text)
    match = _MD_LINE_START.match(text)
    if match:
        lead, marker = match.groups()
        if marker.isdigit():  # "1." or "1)" starts an ordered list: escape what follows it
            at = len(lead) + len(marker)
            text = text[:at] + "\\" + text[at:]
        else:
            text = lead + "\\" + text[len(lead) :]
    return text


def code(value: object, limit: int | None = NAME, *, in_table: bool = False) -> str:
    """A Markdown code span no backtick in the value can close: its fence is one backtick
    longer than the longest run inside. In a table cell a pipe is escaped (GFM reads `\\|` as
    a pipe even inside code)."""
    text = visible(value, limit)
    if not text.strip(" "):
        return "` `"  # CommonMark has no empty code span: an empty value shows as a blank
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or (text[:1] == " " and text[-1:] == " "):
        text = f" {text} "
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


def fence(value: object, info: str = "", indent: str = "", limit: int | None = TEXT) -> list[str]:
    """A fenced code block no line of the value can close: the fence is longer than any run of
    backticks inside. Returned as lines, each prefixed with `indent` (a block in a list item)."""
    text = visible_lines(value, limit)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    body = text.split("\n")
    return [f"{indent}{marks}{info}", *(f"{indent}{line}" for line in body), f"{indent}{marks}"]


# -- HTML ---------------------------------------------------------------------------------------


def html(value: object, limit: int | None = LINE) -> str:
    """Text for an HTML element or attribute: controls shown, `& < > " '` escaped."""
    return _html_escape(visible(value, limit))


def html_lines(value: object, limit: int | None = TEXT) -> str:
    """Several lines for a `<pre>`: newlines kept."""
    return _html_escape(visible_lines(value, limit))


def _html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )
