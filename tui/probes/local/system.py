"""The three small doors to the machine: the registry, commands, files.

Everything in `tui.probes.local` reads the machine through these interfaces, so the Windows
readers run in tests on any platform (an in-memory registry, a runner that replays recorded
output) and the real implementations stay a few lines long. Every read is bounded: files by
size, commands by time and output size. None of them raises for what the machine returns; a
missing key is `None`, a failed command is a `CommandResult` with a status.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import MappingProxyType
from typing import Final, Protocol, TypeAlias

MAX_OUTPUT: Final = 1 << 20  # bytes kept from one command's stdout (and again from stderr)
_CHUNK: Final = 1 << 16


# ---------------------------------------------------------------------------------------------
# Registry


class Hive(StrEnum):
    HKLM = "HKEY_LOCAL_MACHINE"
    HKCU = "HKEY_CURRENT_USER"


RegValue: TypeAlias = str | int | bytes | tuple[str, ...]


@dataclass(frozen=True)
class RegistryKey:
    """One key: its values (REG_SZ -> str, DWORD/QWORD -> int, MULTI_SZ -> tuple) and subkeys."""

    hive: Hive
    path: str
    values: Mapping[str, RegValue] = field(default_factory=lambda: MappingProxyType({}))
    subkeys: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.hive.value}\\{self.path}"

    def get(self, name: str) -> RegValue | None:
        """A value by name; registry names are case-insensitive."""
        if name in self.values:
            return self.values[name]
        lowered = name.lower()
        for key, value in self.values.items():
            if key.lower() == lowered:
                return value
        return None

    def text(self, name: str) -> str | None:
        """A value as text (numbers as decimal, lists joined by commas), or None."""
        value = self.get(name)
        if value is None or isinstance(value, bytes):
            return None
        if isinstance(value, tuple):
            return ",".join(value)
        return str(value)

    def number(self, name: str) -> int | None:
        """A DWORD, or a string holding a number (SQL Server stores some flags as text)."""
        value = self.get(name)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            return int(value.strip())
        return None


class RegistryReader(Protocol):
    """Reads one key. Returns None when the key does not exist; raises OSError when it cannot
    be read (access denied)."""

    def open(self, hive: Hive, path: str) -> RegistryKey | None: ...


class MemoryRegistry:
    """An in-memory registry: a real implementation of the interface, used where there is no
    Windows registry (tests, and the lab). Paths are matched case-insensitively, like Windows."""

    def __init__(self, keys: Mapping[tuple[Hive, str], Mapping[str, RegValue]] | None = None):
        self._values: dict[tuple[Hive, str], dict[str, RegValue]] = {}
        self._names: dict[tuple[Hive, str], str] = {}
        self.denied: set[tuple[Hive, str]] = set()
        for (hive, path), values in (keys or {}).items():
            self.set_key(hive, path, values)

    def set_key(self, hive: Hive, path: str, values: Mapping[str, RegValue]) -> None:
        parts = [part for part in path.split("\\") if part]
        for depth in range(1, len(parts) + 1):
            partial = "\\".join(parts[:depth])
            index = (hive, partial.lower())
            self._names.setdefault(index, partial)
            self._values.setdefault(index, {})
        self._values[(hive, "\\".join(parts).lower())].update(values)

    def open(self, hive: Hive, path: str) -> RegistryKey | None:
        parts = [part for part in path.split("\\") if part]
        index = (hive, "\\".join(parts).lower())
        if index in {(h, p.lower()) for h, p in self.denied}:
            raise PermissionError(f"access denied to {hive.value}\\{path}")
        if index not in self._values:
            return None
        prefix = index[1] + "\\"
        children = []
        for (other_hive, other), name in self._names.items():
            if other_hive != hive or not other.startswith(prefix):
                continue
            rest = other[len(prefix) :]
            if rest and "\\" not in rest:
                children.append(name.split("\\")[-1])
        return RegistryKey(
            hive=hive,
            path=self._names[index],
            values=MappingProxyType(dict(self._values[index])),
            subkeys=tuple(sorted(children, key=str.lower)),
        )


class WinRegistry:
    """The real registry through `winreg`, always the 64-bit view (32-bit keys are read by their
    explicit WOW6432Node path, as Microsoft's SQLCheck does)."""

    def open(self, hive: Hive, path: str) -> RegistryKey | None:
        if sys.platform == "win32":
            import winreg

            root = winreg.HKEY_LOCAL_MACHINE if hive == Hive.HKLM else winreg.HKEY_CURRENT_USER
            access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
            try:
                handle = winreg.OpenKey(root, path, 0, access)
            except FileNotFoundError:
                return None
            with handle:
                subkey_count, value_count, _ = winreg.QueryInfoKey(handle)
                subkeys = tuple(winreg.EnumKey(handle, i) for i in range(subkey_count))
                values: dict[str, RegValue] = {}
                for index in range(value_count):
                    name, data, kind = winreg.EnumValue(handle, index)
                    converted = _convert_reg(data, kind)
                    if converted is not None:
                        values[name] = converted
            return RegistryKey(hive, path, MappingProxyType(values), subkeys)
        raise OSError("the Windows registry exists only on Windows")


def _convert_reg(data: object, kind: int) -> RegValue | None:
    """winreg hands back str, int, list[str] or bytes; anything else is dropped."""
    del kind  # the Python type already says what it is
    if isinstance(data, str | int | bytes):
        return data
    if isinstance(data, list) and all(isinstance(item, str) for item in data):
        return tuple(data)
    return None


# ---------------------------------------------------------------------------------------------
# Commands


class CommandStatus(StrEnum):
    OK = "ok"  # the command ran (whatever its exit code)
    NOT_FOUND = "not found"  # no such program on this machine
    TIMEOUT = "timeout"
    ERROR = "error"  # could not be started (permissions, ...)


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    status: CommandStatus
    returncode: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    elapsed_ms: float = 0.0
    truncated: bool = False
    error: str | None = None

    @property
    def command(self) -> str:
        return " ".join(self.argv)

    def describe_failure(self) -> str | None:
        """Plain words when the command did not run, else None."""
        if self.status == CommandStatus.OK:
            return None
        if self.status == CommandStatus.NOT_FOUND:
            return f"'{self.argv[0]}' is not available on this machine"
        if self.status == CommandStatus.TIMEOUT:
            return f"'{self.command}' did not finish within its time limit"
        return f"'{self.command}' could not be run: {self.error or 'unknown error'}"


POWERSHELL: Final = "powershell.exe"
# A cold powershell.exe that loads the NetSecurity module (Get-NetFirewall*) can take longer
# than a network probe's few seconds, so PowerShell calls get at least this long. A guess: no
# PowerShell ever ran here.
POWERSHELL_TIMEOUT: Final = 15.0
# CREATE_NO_WINDOW (Process Creation Flags, Microsoft Learn): a console program started from
# the wizard (powershell.exe, sc.exe, netstat.exe) opens no console window of its own.
CREATE_NO_WINDOW: Final = 0x08000000


def powershell(script: str) -> tuple[str, ...]:
    """powershell.exe running one script: no profile, no prompt, no window (the runner)."""
    return (POWERSHELL, "-NoProfile", "-NonInteractive", "-Command", script)


def powershell_timeout(timeout: float) -> float:
    """A PowerShell call's own time limit: never less than POWERSHELL_TIMEOUT."""
    return max(timeout, POWERSHELL_TIMEOUT)


def creation_flags(platform: str = sys.platform) -> int:
    """What Popen gets as `creationflags`: no console window on Windows, nothing elsewhere
    (POSIX refuses any other value)."""
    return CREATE_NO_WINDOW if platform == "win32" else 0


class CommandRunner(Protocol):
    async def run(self, argv: Sequence[str], *, timeout: float) -> CommandResult: ...


class SubprocessRunner:
    """Runs a program (never a shell) with a deadline; output is capped, not buffered without end.

    On POSIX the C locale is forced so that tools print the wording the parsers know.
    """

    def __init__(self, max_output: int = MAX_OUTPUT) -> None:
        self.max_output = max_output

    async def run(self, argv: Sequence[str], *, timeout: float) -> CommandResult:
        args = tuple(argv)
        started = time.perf_counter()
        env = dict(os.environ)
        if os.name == "posix":
            env.update({"LC_ALL": "C", "LANG": "C", "SYSTEMD_PAGER": "", "PAGER": "cat"})
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                creationflags=creation_flags(),
            )
        except FileNotFoundError:
            return CommandResult(args, CommandStatus.NOT_FOUND, elapsed_ms=_ms(started))
        except OSError as error:
            return CommandResult(
                args, CommandStatus.ERROR, elapsed_ms=_ms(started), error=error.strerror
            )
        assert process.stdout is not None and process.stderr is not None
        reads = asyncio.gather(
            _drain(process.stdout, self.max_output), _drain(process.stderr, self.max_output)
        )
        # a walk cancelled mid-read leaves the reads to fail on the killed child: retrieved here
        reads.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            (out, out_cut), (err, err_cut) = await asyncio.wait_for(reads, timeout)
            returncode = await asyncio.wait_for(process.wait(), max(0.1, timeout))
        except (TimeoutError, asyncio.CancelledError) as stop:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), 1.0)
            if isinstance(stop, asyncio.CancelledError):
                raise
            return CommandResult(args, CommandStatus.TIMEOUT, elapsed_ms=_ms(started))
        return CommandResult(
            args,
            CommandStatus.OK,
            returncode=returncode,
            stdout=out,
            stderr=err,
            elapsed_ms=_ms(started),
            truncated=out_cut or err_cut,
        )


async def _drain(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    """Read to EOF, keeping the first `cap` bytes (the rest is read and dropped so the child
    never blocks on a full pipe)."""
    kept = bytearray()
    truncated = False
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            return bytes(kept), truncated
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > max(room, 0):
            truncated = True


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


# ---------------------------------------------------------------------------------------------
# Files


@dataclass(frozen=True)
class FileRead:
    path: str
    data: bytes | None  # None: could not be read (see `error`)
    size: int | None = None  # the file's whole size, when known
    offset: int = 0
    truncated: bool = False  # more of the file exists after what was read
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.data is not None


class FileReader(Protocol):
    def read(self, path: str, limit: int, *, offset: int = 0) -> FileRead: ...


class DiskFileReader:
    """Reads at most `limit` bytes of a regular file. FIFOs and devices are refused (opening a
    FIFO named by a hostile FREETDSCONF would otherwise block for ever)."""

    def read(self, path: str, limit: int, *, offset: int = 0) -> FileRead:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        try:
            descriptor = os.open(path, flags)
        except FileNotFoundError:
            return FileRead(path, None, error="not found")
        except PermissionError:
            return FileRead(path, None, error="permission denied")
        except OSError as error:
            return FileRead(path, None, error=error.strerror or "cannot be opened")
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                return FileRead(path, None, error="not a regular file")
            os.lseek(descriptor, max(0, offset), os.SEEK_SET)
            chunks: list[bytes] = []
            remaining = max(0, limit)
            while remaining > 0:
                chunk = os.read(descriptor, min(remaining, _CHUNK))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
            data = b"".join(chunks)
            end = max(0, offset) + len(data)
            return FileRead(path, data, info.st_size, max(0, offset), end < info.st_size)
        except OSError as error:
            return FileRead(path, None, error=error.strerror or "cannot be read")
        finally:
            os.close(descriptor)


# ---------------------------------------------------------------------------------------------
# Text


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    replaced: int  # characters that could not be decoded (U+FFFD) plus NULs dropped


def decode_text(data: bytes) -> Decoded:
    """Decode what Windows and Linux tools write: UTF-16 with a BOM (ERRORLOG, Notepad), UTF-16LE
    without one (a read that starts mid-file), UTF-8 with or without BOM, and bytes that are none
    of these (replaced, and counted, never an exception)."""
    if data.startswith(b"\xff\xfe"):
        encoding, body = "utf-16-le", data[2:]
    elif data.startswith(b"\xfe\xff"):
        encoding, body = "utf-16-be", data[2:]
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding, body = "utf-8", data[3:]
    elif _looks_like_utf16le(data):
        encoding, body = "utf-16-le", data
    else:
        encoding, body = "utf-8", data
    if encoding.startswith("utf-16") and len(body) % 2:
        body = body[:-1]
    text = body.decode(encoding, errors="replace")
    nuls = text.count("\x00")
    if nuls:
        text = text.replace("\x00", "")
    return Decoded(text, encoding, text.count("\ufffd") + nuls)


def _looks_like_utf16le(data: bytes) -> bool:
    sample = data[:4096]
    if len(sample) < 4:
        return False
    odd = sample[1::2]
    even = sample[0::2]
    return odd.count(0) > 0.6 * len(odd) and even.count(0) < 0.1 * len(even)


# ---------------------------------------------------------------------------------------------
# The machine as a whole


@dataclass(frozen=True)
class Environment:
    """What the local readers may look at: the platform, the environment variables, the home
    directory, and the three doors. Tests build one by hand; `Environment.current()` is the
    machine the tool runs on."""

    platform: str  # a sys.platform value: "win32", "linux", "darwin"
    files: FileReader
    runner: CommandRunner
    registry: RegistryReader | None = None
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    home: str | None = None
    hosts_path: str | None = None

    @classmethod
    def current(cls) -> Environment:
        from tui.probes import hostsfile

        try:
            home: str | None = str(Path.home())
        except (RuntimeError, KeyError):
            home = None
        return cls(
            platform=sys.platform,
            files=DiskFileReader(),
            runner=SubprocessRunner(),
            registry=WinRegistry() if sys.platform == "win32" else None,
            env=MappingProxyType(dict(os.environ)),
            home=home,
            hosts_path=str(hostsfile.default_path()),
        )

    @property
    def is_windows(self) -> bool:
        return self.platform == "win32"

    def join(self, *parts: str) -> str:
        """A path on this environment's platform (Windows paths stay Windows paths in tests)."""
        if self.is_windows:
            return str(PureWindowsPath(*parts))
        return str(PurePosixPath(*parts))

    def getenv(self, name: str) -> str | None:
        value = self.env.get(name)
        return value if value else None
