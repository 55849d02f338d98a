"""`SqlLocalDB info NAME` on this machine: does the LocalDB instance exist, does it run, and on
which pipe.

LocalDB exists on Windows only; its pipe name (`np:\\\\.\\pipe\\LOCALDB#F365A78E\\tsql\\query`,
Microsoft's LocalDB page) changes at every start. The output is read as `Key: value` lines; what
this reader knows of it is what Microsoft's page documents (the instance pipe name); it never ran
against a real SqlLocalDB here, and tests feed it documented output through a simulated runner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tui.probes.local.system import CommandStatus, Environment

PROGRAM: Final = "SqlLocalDB"
_LINE: Final = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z ]{1,40}?)\s*:\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class LocalDbInfo:
    name: str
    available: bool  # SqlLocalDB could be run here
    exists: bool | None = None
    state: str | None = None  # "Running", "Stopped", as SqlLocalDB prints it
    pipe: str | None = None
    detail: str = ""

    def evidence(self) -> dict[str, object]:
        return {
            "name": self.name,
            "available": self.available,
            "exists": self.exists,
            "state": self.state,
            "pipe": self.pipe,
            "detail": self.detail,
        }

    def sentence(self) -> str:
        if not self.available:
            return f"SqlLocalDB cannot be run here ({self.detail})"
        if self.exists is False:
            return f"SqlLocalDB knows no instance named {self.name} ({self.detail})"
        state = f", {self.state}" if self.state else ""
        pipe = f", pipe {self.pipe}" if self.pipe else ""
        return f"SqlLocalDB says instance {self.name} exists{state}{pipe}"


async def localdb_info(environment: Environment, name: str, *, timeout: float) -> LocalDbInfo:
    if not environment.platform.startswith("win"):
        return LocalDbInfo(name, False, detail="LocalDB exists on Windows only")
    result = await environment.runner.run([PROGRAM, "info", name], timeout=timeout)
    failure = result.describe_failure()
    if failure is not None or result.status is not CommandStatus.OK:
        return LocalDbInfo(name, False, detail=failure or "it did not run")
    text = result.stdout.decode("utf-8", errors="replace")
    values = {
        match["key"].strip().casefold(): match["value"]
        for line in text.splitlines()
        if (match := _LINE.match(line))
    }
    if result.returncode != 0 or "name" not in values:
        said = (text + result.stderr.decode("utf-8", errors="replace")).strip()
        return LocalDbInfo(name, True, exists=False, detail=said[:300] or "no details")
    return LocalDbInfo(
        name,
        True,
        exists=True,
        state=values.get("state") or None,
        pipe=values.get("instance pipe name") or None,
    )
