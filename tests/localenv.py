"""Test environments for `tui.probes.local`: real files under a temporary root, a replaying runner.

`RootedFiles` reads real files, with absolute paths mapped under a temporary directory, so a test
can lay out /etc/freetds/freetds.conf without touching (or reading) the machine's own. `Replay`
answers commands from recorded output (the fixtures), keyed by the program's arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from tui.probes.local.system import (
    CommandResult,
    CommandStatus,
    DiskFileReader,
    Environment,
    FileRead,
    MemoryRegistry,
)


class RootedFiles:
    """A DiskFileReader whose '/' is `root` (Windows paths map to root/C/...)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._disk = DiskFileReader()

    def place(self, path: str, data: bytes | str) -> Path:
        target = self.map(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
        return target

    def map(self, path: str) -> Path:
        if ":" in path[:3] or "\\" in path:
            windows = PureWindowsPath(path)
            parts = [windows.drive.rstrip(":"), *windows.parts[1:]]
            return self.root.joinpath(*parts)
        return self.root / path.lstrip("/")

    def read(self, path: str, limit: int, *, offset: int = 0) -> FileRead:
        result = self._disk.read(str(self.map(path)), limit, offset=offset)
        return FileRead(
            path, result.data, result.size, result.offset, result.truncated, result.error
        )


@dataclass
class Replay:
    """Answers commands from a table: argv[0] (lowercased basename) and the rest, or argv[0]."""

    answers: Mapping[tuple[str, ...], CommandResult] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    timeouts: list[float] = field(default_factory=list)  # the time limit each call was given

    async def run(self, argv: Sequence[str], *, timeout: float) -> CommandResult:
        args = tuple(argv)
        self.calls.append(args)
        self.timeouts.append(timeout)
        for key in (args, args[:1]):
            if key in self.answers:
                answer = self.answers[key]
                return CommandResult(
                    args,
                    answer.status,
                    answer.returncode,
                    answer.stdout,
                    answer.stderr,
                    answer.elapsed_ms,
                    answer.truncated,
                    answer.error,
                )
        return CommandResult(args, CommandStatus.NOT_FOUND)


def ok(stdout: bytes | str, returncode: int = 0) -> CommandResult:
    data = stdout.encode() if isinstance(stdout, str) else stdout
    return CommandResult(("recorded",), CommandStatus.OK, returncode, data)


def make_env(
    root: Path,
    *,
    platform: str = "linux",
    env: Mapping[str, str] | None = None,
    registry: MemoryRegistry | None = None,
    runner: Replay | None = None,
    hosts_path: str | None = None,
) -> tuple[Environment, RootedFiles]:
    files = RootedFiles(root)
    home = "C:\\Users\\User1" if platform == "win32" else "/home/user1"
    environment = Environment(
        platform=platform,
        files=files,
        runner=runner or Replay(),
        registry=registry,
        env=dict(env or {}),
        home=home,
        hosts_path=hosts_path
        or ("C:\\Windows\\System32\\drivers\\etc\\hosts" if platform == "win32" else "/etc/hosts"),
    )
    return environment, files
