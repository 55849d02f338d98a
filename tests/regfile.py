"""A `.reg` export (Registry Editor 5.00 text) read into a MemoryRegistry, so the registry readers
run on values a real machine exported, not on keys typed by hand.

Only what the exports in tests/fixtures/windows use: `[HIVE\\path]` keys, `"name"=` or `@=` with a
string ("..." with \\\\ and \\" escaped), `dword:`, `hex:` (REG_BINARY), `hex(2):` (REG_EXPAND_SZ,
UTF-16LE) and `hex(7):` (REG_MULTI_SZ, UTF-16LE strings ended by NULs), continued lines (`\\` at
the end), and `;` comments. The values come out as `winreg` gives them (str, int, bytes,
tuple of str), which is what `WinRegistry` hands the readers."""

from __future__ import annotations

import re

from tui.probes.local.system import Hive, MemoryRegistry, RegValue

_HIVES = {
    "HKEY_LOCAL_MACHINE": Hive.HKLM,
    "HKLM": Hive.HKLM,
    "HKEY_CURRENT_USER": Hive.HKCU,
    "HKCU": Hive.HKCU,
}
_VALUE = re.compile(r'^(?:"(?P<name>(?:[^"\\]|\\.)*)"|(?P<default>@))=(?P<data>.*)$')


def read_reg(text: str) -> MemoryRegistry:
    registry = MemoryRegistry()
    key: tuple[Hive, str] | None = None
    for line in _logical_lines(text):
        if line.startswith("[") and line.endswith("]"):
            hive_name, _, path = line[1:-1].partition("\\")
            hive = _HIVES.get(hive_name.upper())
            key = (hive, path) if hive is not None else None
            if key is not None:
                registry.set_key(hive, path, {})  # type: ignore[arg-type]
            continue
        match = _VALUE.match(line)
        if match is None or key is None:
            continue
        name = "" if match.group("default") else _unescape(match.group("name"))
        registry.set_key(key[0], key[1], {name: _value(match.group("data"))})
    return registry


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in text.lstrip("\ufeff").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith(";")):
            continue
        if line.endswith("\\") and not line.endswith('\\"') and ":" in (pending + line):
            pending += line[:-1]
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _value(data: str) -> RegValue:
    if data.startswith('"') and data.endswith('"'):
        return _unescape(data[1:-1])
    if data.lower().startswith("dword:"):
        return int(data[6:], 16)
    kind, _, body = data.partition(":")
    raw = bytes(int(part, 16) for part in body.replace(" ", "").split(",") if part)
    if kind.lower() == "hex(7)":
        return tuple(s for s in raw.decode("utf-16-le").split("\x00") if s)
    if kind.lower() == "hex(2)":
        return raw.decode("utf-16-le").rstrip("\x00")
    return raw
