"""The ODBC drivers the tests log in with, registered the way an installed driver is.

Debian's `tdsodbc` gives FreeTDS; Microsoft's ODBC Driver 18 cannot be installed from Debian, but
the `mssql-python` wheel (a dev dependency) bundles its Linux library. Both are written into an
odbcinst.ini of the test run's own, named by ODBCSYSINI before anything loads the driver manager
(unixODBC remembers the path once read), so pyodbc, `sqlreach check` subprocesses and the wizard
find "ODBC Driver 18 for SQL Server" by name exactly as on a machine where msodbcsql18 is
installed. Nothing of the system's own configuration is changed.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Final

ODBC18: Final = "ODBC Driver 18 for SQL Server"
FREETDS: Final = "FreeTDS"


def odbc18_library() -> Path | None:
    """The libmsodbcsql-18 that mssql-python bundles for Debian and Ubuntu, if installed."""
    spec = importlib.util.find_spec("mssql_python_odbc")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.glob("libs/linux/debian_ubuntu/x86_64/lib/libmsodbcsql-18*.so*"))
    return found[-1] if found else None


def freetds_library() -> Path | None:
    found = sorted(glob.glob("/usr/lib/*/odbc/libtdsodbc.so"))
    return Path(found[0]) if found else None


def odbcinst_text() -> str:
    sections = []
    for name, library in ((ODBC18, odbc18_library()), (FREETDS, freetds_library())):
        if library is not None:
            sections.append(f"[{name}]\nDescription={name} (sqlreach tests)\nDriver={library}\n")
    return "\n".join(sections)


def register_drivers() -> Path:
    """Write the test run's odbcinst.ini and point ODBCSYSINI at it (this process and children)."""
    directory = Path(tempfile.mkdtemp(prefix="sqlreach-odbc-"))
    (directory / "odbcinst.ini").write_text(odbcinst_text(), encoding="utf-8")
    (directory / "odbc.ini").write_text("", encoding="utf-8")
    os.environ["ODBCSYSINI"] = str(directory)
    return directory


def why_no_odbc18() -> str | None:
    """None when ODBC Driver 18 is registered for this run, else the reason for a skip."""
    if odbc18_library() is None:
        return "ODBC Driver 18 is not available (the library mssql-python bundles is not found)"
    return None
