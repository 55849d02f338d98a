"""An SVG picture of the verdict: the path as hops with marks, the root cause, the first fixes.

Hand-written so the HTML export stays one self-contained file; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from tui.engine.model import StepRecord, Verdict
from tui.render.path import HopMark, hop_states
from tui.safe.sanitise import visible

_COLOURS = {
    HopMark.PASSED: ("#e3f4e6", "#176b2c", "ok"),
    HopMark.WARNING: ("#fff4d6", "#8a5a00", "warn"),
    HopMark.FAILED: ("#fde3e6", "#b00020", "FAIL"),
    HopMark.SKIPPED: ("#f0f0f0", "#777777", "skipped"),
    HopMark.NOT_REACHED: ("#ffffff", "#999999", "not reached"),
}
BOX_W, BOX_H, GAP = 108, 54, 14


def _text(
    x: float,
    y: float,
    content: str,
    size: int = 12,
    weight: str = "normal",
    colour: str = "#1b1b1b",
    anchor: str = "middle",
) -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" '
        f'fill="{colour}" text-anchor="{anchor}" font-family="sans-serif">'
        f"{escape(visible(content))}</text>"
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verdict_svg(steps: Sequence[StepRecord], verdict: Verdict | None) -> str:
    states = hop_states(steps, verdict.root_cause if verdict is not None else None)
    width = len(states) * (BOX_W + GAP) + GAP
    fixes = verdict.fixes[:3] if verdict is not None else ()
    height = 150 + 20 * len(fixes)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="connection path">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for index, state in enumerate(states):
        x = GAP + index * (BOX_W + GAP)
        fill, stroke, word = _COLOURS[state.mark]
        parts.append(
            f'<rect x="{x}" y="16" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
        )
        parts.append(_text(x + BOX_W / 2, 38, _clip(state.hop.value, 18), 11, "bold"))
        parts.append(_text(x + BOX_W / 2, 56, word, 11, "normal", stroke))
        if index:
            parts.append(
                f'<line x1="{x - GAP}" y1="{16 + BOX_H / 2}" x2="{x}" '
                f'y2="{16 + BOX_H / 2}" stroke="#888" stroke-width="2"/>'
            )
    if verdict is not None:
        parts.append(
            _text(GAP, 100, f"Root cause: {verdict.root_cause.value}", 16, "bold", anchor="start")
        )
        parts.append(_text(GAP, 122, _clip(verdict.summary, 150), 12, anchor="start"))
        for number, fix in enumerate(fixes, 1):
            parts.append(
                _text(
                    GAP,
                    124 + 20 * number,
                    f"Fix {number}: {fix.title}",
                    12,
                    anchor="start",
                )
            )
    else:
        parts.append(_text(GAP, 100, "No verdict reached", 16, "bold", anchor="start"))
    parts.append("</svg>")
    return "".join(parts)
