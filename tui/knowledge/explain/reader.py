"""Reading an error text: find the known parts, then weigh what they say together.

Each catalog entry that matches contributes its candidate causes (weighted by its strength and
their rank), what it rules out, the layers it proves worked and its checks. A cause is ruled out
when a part at least as strong as every part naming it excludes it; otherwise the contradiction is
kept and noted (a paste often holds several attempts). The text is redacted before anything is
matched, so nothing echoed back can carry a password.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from tui.knowledge.causes import CAUSE_LAYERS, Layer, RootCause
from tui.knowledge.explain.catalog import Catalog, Entry, default_catalog
from tui.knowledge.explain.model import Candidate, Explanation, Recognised, RuledOut
from tui.knowledge.explain.normalise import normalise
from tui.secret import PLACEHOLDER, redact

MAX_TEXT_CHARS: Final = 1 << 20  # longer text is cut here, and the explanation says so
MAX_MATCHES_PER_ENTRY: Final = 25
MAX_RECOGNISED: Final = 40  # parts listed; the rest are counted in `omitted`
MAX_CHECKS: Final = 10
SNIPPET_CHARS: Final = 240
USE_ANCHORS = True  # the anchor shortcut; tests switch it off to prove it changes nothing
FACT_ORDER: Final = ("host", "port", "instance", "database", "user")
# Forms `tui.secret.redact` lets through: environment variables and YAML (SA_PASSWORD=...,
# MSSQL_SA_PASSWORD: ...), keys glued to other words. Over-redacting here costs nothing.
_SECRET_VALUES: Final = (
    re.compile(
        r"(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN)[A-Za-z0-9_]*\s*[=:]\s*"
        r"(?P<value>\{(?:[^}]|\}\})*\}|\"[^\"\r\n]*\"|'[^'\r\n]*'|[^\s;,'\"]+)",
        re.IGNORECASE,
    ),
    re.compile(r"(?:^|\s)-P\s*(?P<value>\"[^\"\r\n]*\"|'[^'\r\n]*'|\S+)"),
)
_LOOSE_SECRET: Final = re.compile(
    r"(?P<key>(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN)[A-Za-z0-9_]*\s*[=:]\s*)"
    r"(?P<value>\"[^\"\r\n]*\"?|'[^'\r\n]*'?|[^\s;,]+)",
    re.IGNORECASE,
)


# An IPv4 address (not a version number such as 16.0.1000.6): no words to anchor a catalog entry
# on, so the reader looks for it itself, and only in a text the catalog recognised.
_ADDRESS: Final = re.compile(
    r"(?<![\w.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
    r"(?![\w.]|\.\d)"
)
ADDRESS_ENTRY: Final = Entry(
    id="ip-address",
    code="an IP address in the text",
    pattern=_ADDRESS,
    meaning=(
        "The text shows an IP address: the client had an address to connect to, so turning a "
        "name into an address is not where it failed (unless that address was typed where a "
        "host name belongs)."
    ),
    layer=None,
    strength=2,
    causes=(),
    rules_out=(RootCause.NAME_NOT_RESOLVED,),
    proves="the text shows an IP address, so the client had an address to connect to",
    passed=(),
    checks=(),
    overrides=(),
    sources=("https://github.com/denisenkom/go-mssqldb/issues/410",),
    examples=("dial tcp 192.168.100.100:1433: i/o timeout",),
)


@dataclass(frozen=True)
class _Hit:
    entry: Entry
    start: int
    end: int
    text: str
    facts: tuple[tuple[str, str], ...]


def explain(text: str, catalog: Catalog | None = None) -> Explanation:
    """Say what a pasted error text means. Never raises for any `str`."""
    catalog = catalog or default_catalog()
    notes: list[str] = []
    if len(text) > MAX_TEXT_CHARS:
        notes.append(
            f"the text has {len(text):,} characters; only the first {MAX_TEXT_CHARS:,} were read"
        )
        text = text[:MAX_TEXT_CHARS]
    clean = normalise(_redact_more(redact(text, *_secret_values(text))))
    hits = _drop_overridden(_find(clean, catalog))
    if hits:
        hits = sorted([*hits, *_addresses(clean)], key=lambda hit: (hit.start, -hit.end))
    if not hits:
        return Explanation((), None, (), (), (), notes=tuple(notes))
    entries = _entries_in_order(hits)
    candidates, ruled_out, conflicts = _weigh(entries)
    notes.extend(conflicts)
    recognised = _recognised(hits)
    return Explanation(
        recognised=tuple(recognised[:MAX_RECOGNISED]),
        layer=_layer(entries, candidates),
        candidates=candidates,
        ruled_out=ruled_out,
        next_checks=_checks(entries, candidates),
        facts=_facts(hits),
        notes=tuple(notes),
        omitted=max(0, len(recognised) - MAX_RECOGNISED),
        passed_layers=_passed(entries),
    )


def _secret_values(text: str) -> list[str]:
    """Values given as passwords anywhere in the text, so their other mentions go too."""
    values = []
    for pattern in _SECRET_VALUES:  # separately: "-PWD=x" holds both forms, overlapping
        for match in pattern.finditer(text):
            value = match.group("value")
            if value[:1] in "{\"'" and len(value) > 1:
                value = value[1:-1]
            if value and set(value) != {"*"}:
                values.append(value)
    return values


def _redact_more(text: str) -> str:
    return _LOOSE_SECRET.sub(lambda m: m.group("key") + PLACEHOLDER, text)


def _find(clean: str, catalog: Catalog) -> list[_Hit]:
    hits: list[_Hit] = []
    folded = clean.casefold()
    for entry in catalog.entries:
        if USE_ANCHORS and entry.anchors and not any(a in folded for a in entry.anchors):
            continue  # none of the words every match needs is in the text
        for count, match in enumerate(entry.pattern.finditer(clean)):
            if count >= MAX_MATCHES_PER_ENTRY:
                break
            facts = tuple(
                (name, value.strip())
                for name, value in match.groupdict().items()
                if value and value.strip()
            )
            snippet = match.group(0).strip()
            if len(snippet) > SNIPPET_CHARS:
                snippet = snippet[: SNIPPET_CHARS - 1] + "…"
            hits.append(_Hit(entry, match.start(), match.end(), snippet, facts))
    hits.sort(key=lambda hit: (hit.start, -hit.end))
    return hits


def _addresses(clean: str) -> list[_Hit]:
    """The first IP address the text shows, as a part that rules out name resolution."""
    match = _ADDRESS.search(clean)
    if match is None:
        return []
    return [_Hit(ADDRESS_ENTRY, match.start(), match.end(), match.group(0), ())]


def _drop_overridden(hits: list[_Hit]) -> list[_Hit]:
    """A specific entry replaces the vaguer ones it names wherever their matches overlap."""
    kept = []
    for hit in hits:
        replaced = any(
            hit.entry.id in other.entry.overrides
            and other.start < hit.end
            and hit.start < other.end
            for other in hits
        )
        if not replaced:
            kept.append(hit)
    return kept


def _entries_in_order(hits: Sequence[_Hit]) -> list[Entry]:
    """Each matched entry once, strongest first, then in the order the text mentions them."""
    first: dict[str, tuple[int, Entry]] = {}
    for hit in hits:
        first.setdefault(hit.entry.id, (hit.start, hit.entry))
    return [entry for _, entry in sorted(first.values(), key=lambda p: (-p[1].strength, p[0]))]


def _weigh(
    entries: Sequence[Entry],
) -> tuple[tuple[Candidate, ...], tuple[RuledOut, ...], list[str]]:
    scores: dict[RootCause, float] = {}
    named_by: dict[RootCause, list[Entry]] = {}
    floor = _floor(entries)
    for entry in entries:
        if entry.strength < floor:
            continue
        for rank, cause in enumerate(entry.causes):
            scores[cause] = scores.get(cause, 0.0) + entry.strength / (rank + 1)
            named_by.setdefault(cause, []).append(entry)
    excluded: dict[RootCause, Entry] = {}
    for entry in entries:
        for cause in entry.rules_out:
            if cause not in excluded or entry.strength > excluded[cause].strength:
                excluded[cause] = entry
    conflicts: list[str] = []
    ruled_out: list[RuledOut] = []
    for cause, by in excluded.items():
        naming = named_by.get(cause, [])
        if naming and max(e.strength for e in naming) > by.strength:
            conflicts.append(
                f"{cause.value} is named by {naming[0].code} but {by.code} argues against it: "
                "the text may hold more than one attempt"
            )
            continue
        ruled_out.append(RuledOut(cause, f"{by.code}: {by.proves}"))
    order = list(RootCause)
    candidates = tuple(
        Candidate(cause, round(score, 3), tuple(dict.fromkeys(e.code for e in named_by[cause])))
        for cause, score in sorted(scores.items(), key=lambda p: (-p[1], order.index(p[0])))
        if cause not in {r.cause for r in ruled_out}
    )
    ruled_out.sort(key=lambda r: order.index(r.cause))
    return candidates, tuple(ruled_out), conflicts


def _layer(entries: Sequence[Entry], candidates: Sequence[Candidate]) -> Layer | None:
    """The layer of the strongest part behind the top candidate; else of the strongest part."""
    with_layer = [entry for entry in entries if entry.layer is not None]
    if candidates:
        top = candidates[0].cause
        behind = [entry for entry in with_layer if top in entry.causes]
        if behind:
            # Prefer the part that names it first, then one at the cause's own layer, then the
            # strongest; `entries` is strongest-first and min() keeps that order among ties.
            home = CAUSE_LAYERS.get(top)
            return min(
                behind, key=lambda e: (e.causes.index(top), e.layer != home, -e.strength)
            ).layer
    if with_layer:
        return with_layer[0].layer
    return CAUSE_LAYERS.get(candidates[0].cause) if candidates else None


def _recognised(hits: Sequence[_Hit]) -> list[Recognised]:
    """One item per entry: its first wording in the text, and how often it came up."""
    merged: dict[str, Recognised] = {}
    for hit in hits:
        if hit.entry.id in merged:
            merged[hit.entry.id] = replace(
                merged[hit.entry.id], count=merged[hit.entry.id].count + 1
            )
            continue
        merged[hit.entry.id] = Recognised(
            text=hit.text,
            code=hit.entry.code,
            meaning=hit.entry.meaning,
            entry=hit.entry.id,
            layer=hit.entry.layer,
            strength=hit.entry.strength,
            sources=hit.entry.sources,
        )
    return list(merged.values())


def _checks(entries: Sequence[Entry], candidates: Sequence[Candidate]) -> tuple[str, ...]:
    """Context first (where to run them: a linked server, an inner error), then the checks of
    the parts behind the likeliest causes.

    A hint's checks go with its causes: dropped when something stronger names the causes.
    """
    floor = _floor(entries)
    context = [entry for entry in entries if not entry.causes]
    rank = {candidate.cause: index for index, candidate in enumerate(candidates)}
    weighed = sorted(
        (entry for entry in entries if entry.causes and entry.strength >= floor),
        key=lambda entry: min((rank.get(c, len(rank)), i) for i, c in enumerate(entry.causes)),
    )
    ordered: dict[str, None] = {}
    for entry in [*context, *weighed]:
        for check in entry.checks:
            ordered.setdefault(check, None)
    return tuple(ordered)[:MAX_CHECKS]


def _floor(entries: Sequence[Entry]) -> int:
    """Hints (strength 1) only speak when nothing stronger names a cause."""
    return 2 if any(entry.strength >= 2 and entry.causes for entry in entries) else 1


def _facts(hits: Sequence[_Hit]) -> dict[str, str]:
    found: dict[str, str] = {}
    for hit in hits:
        for name, value in hit.facts:
            found.setdefault(name, value)
    return {name: found[name] for name in FACT_ORDER if name in found}


def _passed(entries: Sequence[Entry]) -> tuple[Layer, ...]:
    passed = {layer for entry in entries for layer in entry.passed}
    return tuple(layer for layer in Layer if layer in passed)
