"""The catalog file: strict loading, so a newcomer's mistake is caught with a clear message."""

from __future__ import annotations

import re

import pytest

from tui.knowledge.causes import Layer, RootCause
from tui.knowledge.explain.catalog import (
    CatalogError,
    anchors_of,
    default_catalog,
    load_catalog,
)
from tui.knowledge.explain.normalise import normalise

GOOD_ENTRY = """
[checks]
port = "Test the port."

[[entry]]
id = "sample"
code = "10061"
pattern = '''actively refused'''
meaning = "refused"
layer = "tcp"
strength = 3
causes = ["PORT_REFUSED"]
rules_out = ["PORT_FILTERED"]
proves = "an address answered"
checks = ["port"]
sources = ["https://example.invalid/doc"]
examples = ["the target machine actively refused it"]
"""


def test_shipped_catalog_loads_and_is_large() -> None:
    catalog = default_catalog()
    assert len(catalog.entries) >= 80
    assert catalog.entry("winsock-10061").layer is Layer.TCP


def test_every_failure_cause_and_every_layer_is_reachable() -> None:
    catalog = default_catalog()
    named = {cause for entry in catalog.entries for cause in entry.causes}
    # UNTESTED, like OK, is no failure an error text reports: a transport this machine cannot try
    assert named == set(RootCause) - {RootCause.OK, RootCause.UNTESTED}
    layers = {entry.layer for entry in catalog.entries}
    assert layers >= set(Layer)


def test_every_check_is_used_and_every_example_matches_its_own_pattern() -> None:
    catalog = default_catalog()
    used = {check for entry in catalog.entries for check in entry.checks}
    assert used == set(catalog.checks.values())
    for entry in catalog.entries:
        assert entry.sources and all(s.startswith("https://") for s in entry.sources)
        for example in entry.examples:
            assert entry.pattern.search(normalise(example)), entry.id


def test_patterns_stay_linear_on_long_near_misses() -> None:
    """Bounded quantifiers only: a pattern must not backtrack badly on long almost-matches."""
    for entry in default_catalog().entries:
        source = entry.pattern.pattern
        assert not re.search(r"\.[*+]|\\S[*+]|\[\^[^\]]*\][*+]", source), entry.id


def test_a_good_entry_loads() -> None:
    catalog = load_catalog(GOOD_ENTRY)
    entry = catalog.entry("sample")
    assert entry.causes == (RootCause.PORT_REFUSED,)
    assert entry.checks == ("Test the port.",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("strength = 3", "strength = 5"), "strength"),
        (('causes = ["PORT_REFUSED"]', 'causes = ["PORT_CLOSED"]'), "not a root cause"),
        (('layer = "tcp"', 'layer = "network"'), "layer"),
        (('checks = ["port"]', 'checks = ["firewall"]'), "unknown checks"),
        (("https://example.invalid/doc", "see the wiki"), "https://"),
        (("actively refused it", "connection refused"), "does not match example"),
        (("'''actively refused'''", "'''actively (refused'''"), "does not compile"),
        (("'''actively refused'''", "'''(?P<secret>actively) refused'''"), "named groups"),
        (('rules_out = ["PORT_FILTERED"]', 'rules_out = ["PORT_REFUSED"]'), "both named"),
        (('proves = "an address answered"', ""), "needs 'proves'"),
        (('id = "sample"', 'id = "Sample Entry"'), "ids are"),
        (('code = "10061"', 'code = "10061"\ncolour = "red"'), "unknown keys"),
        (('meaning = "refused"', ""), "missing keys"),
        (('examples = ["the target machine actively refused it"]', "examples = []"), "example"),
        (('proves = "an address answered"', 'proves = "x"\noverrides = ["nope"]'), "overrides"),
    ],
)
def test_mistakes_are_reported(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD_ENTRY
    with pytest.raises(CatalogError, match=re.escape(message)):
        load_catalog(GOOD_ENTRY.replace(old, new))


def test_duplicate_ids_and_broken_toml_are_reported() -> None:
    entry = GOOD_ENTRY[GOOD_ENTRY.index("[[entry]]") :]
    with pytest.raises(CatalogError, match="duplicate"):
        load_catalog(GOOD_ENTRY + "\n" + entry)
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_catalog("[[entry]\n")
    with pytest.raises(CatalogError, match="no \\[\\[entry\\]\\]"):
        load_catalog("[checks]\n")
    with pytest.raises(CatalogError, match="unknown top-level"):
        load_catalog(GOOD_ENTRY + "\n[extra]\nx = 1\n")


def test_every_entry_has_anchors_and_every_example_contains_one() -> None:
    """The reader's shortcut is safe only if each match carries one of its entry's anchors."""
    for entry in default_catalog().entries:
        assert entry.anchors, entry.id
        for example in entry.examples:
            folded = normalise(example).casefold()
            assert any(anchor in folded for anchor in entry.anchors), (entry.id, example)


def test_anchors_of_handles_optional_parts_and_alternatives() -> None:
    def anchors(source: str) -> set[str] | None:
        found = anchors_of(re.compile(source, re.IGNORECASE))
        return None if found is None else set(found)

    assert anchors(r"(?:No connection )?actively refused") == {"actively refused"}
    assert anchors(r"\b0x0*274D\b|WSAECONNREFUSED") == {"274d", "wsaeconnrefused"}
    assert anchors(r"(?:error|code|[(\[])[: ]{0,3}10061\b") == {"10061"}
    assert anchors(r"a|bc") is None  # too short to be worth a shortcut
    assert anchors(r"(?:login)?x") is None  # an optional word is never required
