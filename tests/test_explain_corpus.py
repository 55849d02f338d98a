"""`explain` against every real text we hold: tests/corpus/error_texts.toml (with its sources,
clients and languages; tests/corpus/README.md) and the cases of test_explain_cases.py.

A text is read right when `explain` files it under the layer the text itself names and, when the
thread confirmed a root cause, that cause is among the candidates. The share is reported per
client family (printed with `pytest -s`, and on failure); the goal is 90% overall, and a confirmed
cause must never be ruled out.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_explain_cases import CASES
from tui.knowledge.causes import Layer, RootCause
from tui.knowledge.explain.reader import explain

CORPUS = Path(__file__).parent / "corpus" / "error_texts.toml"
GOAL = 0.90


@dataclass(frozen=True)
class Text:
    source: str
    client: str
    language: str
    layer: Layer | None
    cause: RootCause | None
    text: str


def _corpus() -> list[Text]:
    with CORPUS.open("rb") as handle:
        rows = tomllib.load(handle)["text"]
    return [
        Text(
            row["source"],
            row["client"],
            row["language"],
            Layer(row["layer"]),
            RootCause(row["cause"]) if row["cause"] else None,
            row["text"],
        )
        for row in rows
    ]


def _cases() -> list[Text]:
    """The hand-checked cases: their client family is not recorded; their expected top cause
    counts as the confirmed one."""
    return [Text(c.source, "cases", "en", c.layer, c.top, c.text) for c in CASES]


TEXTS = _corpus()
ALL = TEXTS + _cases()


@dataclass(frozen=True)
class Reading:
    item: Text
    layer: Layer | None
    candidates: tuple[RootCause, ...]
    ruled_out: tuple[RootCause, ...]

    @property
    def right(self) -> bool:
        cause_ok = self.item.cause is None or self.item.cause in self.candidates
        return self.layer is self.item.layer and cause_ok


def _read(item: Text) -> Reading:
    explanation = explain(item.text)
    return Reading(
        item,
        explanation.layer,
        tuple(c.cause for c in explanation.candidates),
        tuple(r.cause for r in explanation.ruled_out),
    )


READINGS = [_read(item) for item in ALL]


def _report(readings: list[Reading]) -> str:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for reading in readings:
        per[reading.item.client][0] += reading.right
        per[reading.item.client][1] += 1
    lines = [f"{name:16} {r:3}/{n:3} {100 * r / n:5.1f}%" for name, (r, n) in sorted(per.items())]
    right = sum(reading.right for reading in readings)
    lines.append(f"{'overall':16} {right:3}/{len(readings):3} {100 * right / len(readings):5.1f}%")
    misses = [
        f"  {r.item.client} {r.item.language} wanted {r.item.layer} {r.item.cause or ''}, read "
        f"{r.layer} {[c.value for c in r.candidates[:3]]}: {r.item.text.strip()[:100]!r}"
        for r in readings
        if not r.right
    ]
    return "\n".join([*lines, "misses:", *misses])


def test_the_corpus_is_as_wide_as_promised() -> None:
    assert len(TEXTS) >= 150
    assert len({t.client for t in TEXTS}) >= 10
    assert len({t.language for t in TEXTS}) >= 6
    assert all(t.source.startswith("https://") for t in TEXTS)


def test_at_least_ninety_percent_are_read_right() -> None:
    report = _report(READINGS)
    print("\n" + report)
    right = sum(r.right for r in READINGS)
    assert right >= GOAL * len(READINGS), report
    corpus = [r for r in READINGS if r.item.client != "cases"]
    assert sum(r.right for r in corpus) >= GOAL * len(corpus), report


def test_no_confirmed_cause_is_ruled_out() -> None:
    wrong = [r for r in READINGS if r.item.cause is not None and r.item.cause in r.ruled_out]
    assert not wrong, [(r.item.source, r.item.cause) for r in wrong]


@pytest.mark.parametrize("language", ["de", "fr", "es", "pt", "it", "ru", "ja", "zh", "ko"])
def test_every_windows_language_reads_the_socket_errors(language: str) -> None:
    """The SSMS dialogs with the Winsock sentence in the system's language (10061, 10060,
    11001) read as in English, whichever of them the corpus holds for that language."""
    found = [
        r
        for r in READINGS
        if r.item.language == language and r.item.client in {"ssms-sqlclient", "windows-winsock"}
    ]
    assert found, language
    assert sum(r.right for r in found) >= 0.8 * len(found), _report(found)
