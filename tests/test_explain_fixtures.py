"""Every block of the shared real-world error texts, explained as its own source explains it.

`tests/fixtures/windows/error-messages.txt` holds verbatim client errors, each with its source.
For each block: the layer that failed, the root cause its source names (it must be among the
candidates), and the causes the text itself excludes (they must be ruled out, not candidates).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.knowledge.causes import Layer
from tui.knowledge.causes import RootCause as R
from tui.knowledge.explain.reader import explain

FIXTURE = Path(__file__).parent / "fixtures" / "windows" / "error-messages.txt"

NETWORK_BEFORE_CONNECT = {R.NAME_NOT_RESOLVED, R.HOST_UNREACHABLE, R.PORT_REFUSED, R.PORT_FILTERED}
CONNECTED_TLS = NETWORK_BEFORE_CONNECT | {R.ENCRYPTION_MISMATCH}

# label prefix -> (layer, cause the source names, causes the text rules out)
EXPECTED: dict[str, tuple[Layer, R, set[R]]] = {
    "error 40 + Error 53 + 11001": (Layer.NAME, R.NAME_NOT_RESOLVED, set()),
    "error 26 - Error Locating": (Layer.BROWSER, R.BROWSER_UNAVAILABLE, set()),
    "SNAC 10.0: Login timeout expired": (Layer.BROWSER, R.BROWSER_UNAVAILABLE, set()),
    "Error 10060": (Layer.TCP, R.PORT_FILTERED, {R.NAME_NOT_RESOLVED}),
    "error 40 + Error 53 (The network path": (Layer.NAME, R.NAME_NOT_RESOLVED, set()),
    "SNAC 11.0: actively refused": (
        Layer.TCP,
        R.PORT_REFUSED,
        {R.NAME_NOT_RESOLVED, R.HOST_UNREACHABLE, R.PORT_FILTERED},
    ),
    "Error 233": (Layer.SERVER, R.SERVER_UNRESPONSIVE, NETWORK_BEFORE_CONNECT),
    "10054 during login": (Layer.TLS, R.TLS_FAILED, NETWORK_BEFORE_CONNECT),
    "10054 during pre-login": (Layer.TLS, R.TLS_FAILED, NETWORK_BEFORE_CONNECT),
    "ODBC Driver 17 on Linux: TCP Provider: Error code 0x2746": (
        Layer.TLS,
        R.TLS_FAILED,
        NETWORK_BEFORE_CONNECT,
    ),
    "SSL Provider: certificate chain not trusted -- OLE DB": (
        Layer.TLS,
        R.TLS_FAILED,
        CONNECTED_TLS,
    ),
    "SSL Provider: certificate chain not trusted -- ODBC Driver 18": (
        Layer.TLS,
        R.TLS_FAILED,
        CONNECTED_TLS,
    ),
    "SSL Provider: certificate chain not trusted -- pyodbc": (
        Layer.TLS,
        R.TLS_FAILED,
        CONNECTED_TLS,
    ),
    "Cannot generate SSPI context": (Layer.KERBEROS, R.LOGIN_FAILED, NETWORK_BEFORE_CONNECT),
    "Login from untrusted domain": (
        Layer.KERBEROS,
        R.LOGIN_FAILED,
        NETWORK_BEFORE_CONNECT | {R.BROWSER_UNAVAILABLE, R.NOT_SQL_SERVER},
    ),
    "Linux sqlcmd, ODBC Driver 18, OpenSSL 1.1.x": (Layer.TLS, R.TLS_FAILED, CONNECTED_TLS),
    "pyodbc, ODBC Driver 18, OpenSSL 3.x: certificate": (Layer.TLS, R.TLS_FAILED, CONNECTED_TLS),
    "pyodbc, ODBC Driver 18, OpenSSL 1.1.x": (Layer.TLS, R.TLS_FAILED, CONNECTED_TLS),
    "bcp, ODBC Driver 18 on Linux": (Layer.TLS, R.TLS_FAILED, CONNECTED_TLS),
    "pyodbc, ODBC Driver 18, OpenSSL 3.x: unsupported": (Layer.TLS, R.TLS_FAILED, CONNECTED_TLS),
    "PDO_SQLSRV, ODBC Driver 17": (Layer.TLS, R.TLS_FAILED, CONNECTED_TLS),
    "Python tuple (pyodbc-style)": (Layer.TLS, R.TLS_FAILED, CONNECTED_TLS),
    "Linux sqlcmd, ODBC Driver 17: Login timeout expired + TCP Provider: Error code 0x2AFA": (
        Layer.NAME,
        R.NAME_NOT_RESOLVED,
        set(),
    ),
    "Linux sqlcmd, ODBC Driver 13": (Layer.TCP, R.PORT_FILTERED, set()),
    "unixODBC: driver library not found": (Layer.DRIVER, R.DRIVER_MISSING, set()),
    "Windows ODBC Driver Manager": (Layer.DRIVER, R.DRIVER_MISSING, set()),
}


def _blocks() -> list[tuple[str, str]]:
    """(label, message) per block; the message without the label, Source and Note lines."""
    blocks = []
    for raw in FIXTURE.read_text(encoding="utf-8").split("\n=====\n"):
        lines = raw.strip().splitlines()
        label = next(line[3:] for line in lines if line.startswith("## "))
        body = [line for line in lines if not line.startswith(("#", "Source:", "Note:"))]
        blocks.append((label, "\n".join(body)))
    return blocks


BLOCKS = _blocks()


def _expected(label: str) -> tuple[Layer, R, set[R]]:
    matches = [key for key in EXPECTED if label.startswith(key)]
    assert len(matches) == 1, f"no single expectation for fixture block {label!r}: {matches}"
    return EXPECTED[matches[0]]


def test_every_block_has_an_expectation() -> None:
    assert len(BLOCKS) == len(EXPECTED) == 26
    for label, _ in BLOCKS:
        _expected(label)


@pytest.mark.parametrize(("label", "message"), BLOCKS, ids=[label for label, _ in BLOCKS])
def test_block_is_explained(label: str, message: str) -> None:
    layer, named, excluded = _expected(label)
    explanation = explain(message)
    candidates = [c.cause for c in explanation.candidates]
    ruled_out = {r.cause for r in explanation.ruled_out}
    assert explanation.found
    assert explanation.layer is layer
    assert named in candidates
    assert not excluded & set(candidates)
    assert excluded <= ruled_out
    assert explanation.hint.compare(named).value == "agrees"
