"""Client-side aliases: where a name the person typed is silently swapped for another host and port.

Read the way the clients read them:
- FreeTDS `freetds.conf` (src/tds/config.c, `tds_read_conf_file`): `FREETDSCONF`, then
  `$FREETDS/etc/freetds.conf`, `~/.config/freetds.conf` (FreeTDS 1.5 and later),
  `~/.freetds.conf`, then the compiled-in system file; the first file that has the section wins,
  and `[global]` applies under it. A server name that is no section is taken as a host name.
- unixODBC DSNs (odbcinst/SQLGetPrivateProfileString.c): the user file (`ODBCINI`, else
  `~/.odbc.ini`) before the system file (`$ODBCSYSINI/odbc.ini`, else `/etc/odbc.ini`); FreeTDS's
  driver (src/odbc/connectparams.c, `odbc_get_dsn_info`) reads `Servername` (a freetds.conf
  section) or `Server`, then `Port`, which overrides.
- Windows client aliases (`...\\MSSQLServer\\Client\\ConnectTo` and its WOW6432Node twin, value
  name = alias, data `DBMSSOCN,server[,port]` or `DBNMPNTW,\\\\server\\pipe\\...`, as Microsoft's
  SQLCheck parses them in Collectors.cs `CollectSQLAlias`), the client protocol order
  (`...\\Client\\SNI<n>.0` `ProtocolOrder`, REG_MULTI_SZ, as in `CollectClientSNI`), and ODBC
  DSNs under `Software\\ODBC\\ODBC.INI`.
- The hosts file entry of the host the alias leads to.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from tui.probes import hostsfile
from tui.probes.local import ini
from tui.probes.local.system import Environment, Hive, decode_text
from tui.target import (
    DEFAULT_PORT,
    Form,
    Origin,
    Source,
    Target,
    TargetError,
    parse_data_source,
)

MAX_CONF_BYTES: Final = 1 << 20
FREETDS_SYSTEM_FILES: Final = (
    "/etc/freetds/freetds.conf",  # Debian, Ubuntu (tsql -C: "freetds.conf directory: /etc/freetds")
    "/etc/freetds.conf",  # RHEL, Fedora
    "/usr/local/etc/freetds.conf",  # source builds, Homebrew on Intel, FreeBSD
    "/opt/homebrew/etc/freetds.conf",  # Homebrew on Apple silicon
)
CONNECTTO_KEYS: Final = (
    (r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo", "64-bit"),
    (r"SOFTWARE\WOW6432Node\Microsoft\MSSQLServer\Client\ConnectTo", "32-bit"),
)
CLIENT_KEYS: Final = (
    (r"SOFTWARE\Microsoft\MSSQLServer\Client", "64-bit"),
    (r"SOFTWARE\WOW6432Node\Microsoft\MSSQLServer\Client", "32-bit"),
)
ODBC_INI_KEYS: Final = (
    (Hive.HKCU, r"Software\ODBC\ODBC.INI", "user DSN"),
    (Hive.HKLM, r"SOFTWARE\ODBC\ODBC.INI", "system DSN, 64-bit"),
    (Hive.HKLM, r"SOFTWARE\WOW6432Node\ODBC\ODBC.INI", "system DSN, 32-bit"),
)
SECRET_KEYS: Final = frozenset({"pwd", "password"})
FREETDS_ENCRYPTION: Final = frozenset({"off", "request", "require", "strict"})
_NETLIBS: Final = {
    "dbmssocn": "tcp",
    "dbnmpntw": "np",
    "dbmslpcn": "lpc",
}


class AliasKind(StrEnum):
    NONE = "none"
    FREETDS = "FreeTDS freetds.conf section"
    ODBC_DSN = "ODBC data source (DSN)"
    CONNECTTO = "Windows SQL Server client alias"


# ---------------------------------------------------------------------------------------------
# FreeTDS


@dataclass(frozen=True)
class FreeTdsServer:
    """One `[name]` section as FreeTDS will use it, `[global]` underneath."""

    name: str  # as written in the file
    path: str
    host: str | None = None
    port: int | None = None
    instance: str | None = None
    tds_version: str | None = None
    encryption: str | None = None
    connect_timeout: int | None = None
    lines: Mapping[str, tuple[str, int, str]] = field(
        default_factory=dict
    )  # key: value, line, section
    problems: tuple[str, ...] = ()

    def where(self, *keys: str) -> str:
        """`/etc/freetds/freetds.conf, section [MSSQL]: host = db01, port = 1500 (lines 42-43)`."""
        shown = [(k, self.lines[k]) for k in keys if k in self.lines]
        text = f"{self.path}, section [{self.name}]"
        if shown:
            text += ": " + ", ".join(
                f"{key} = {value}" + (" (from [global])" if section == "global" else "")
                for key, (value, _, section) in shown
            )
            text += _line_numbers(line for _, (_, line, _) in shown)
        return text


def _line_numbers(lines: Iterable[int | None]) -> str:
    """' (line 4)' or ' (lines 4, 7)': where in the file a person looks; '' when unknown."""
    numbers = sorted({line for line in lines if line is not None})
    if not numbers:
        return ""
    label = "line" if len(numbers) == 1 else "lines"
    return f" ({label} {', '.join(str(n) for n in numbers)})"


def parse_freetds_conf(text: str, path: str, name: str) -> tuple[FreeTdsServer | None, ini.IniFile]:
    """The section `name` of one freetds.conf, or None when the file has no such section."""
    parsed = ini.parse(text, ini.Dialect.FREETDS)
    sections = parsed.find(name)
    if not sections:
        return None, parsed
    values: dict[str, tuple[str, int, str]] = {}
    for section in parsed.find("global"):
        for entry in section.entries:
            values[entry.key] = (entry.value, entry.line, "global")
    for section in sections:
        for entry in section.entries:
            values[entry.key] = (entry.value, entry.line, section.name)
    return _freetds_server(sections[-1].name, path, values), parsed


def _freetds_server(name: str, path: str, values: dict[str, tuple[str, int, str]]) -> FreeTdsServer:
    problems: list[str] = []

    def text(key: str) -> str | None:
        item = values.get(key)
        return item[0] if item and item[0] else None

    def number(key: str) -> int | None:
        raw = text(key)
        if raw is None:
            return None
        parsed = _leading_int(raw)
        if parsed is None or parsed <= 0:
            problems.append(f"{key} = {raw} is not a positive number: FreeTDS ignores it")
            return None
        if key == "port" and parsed > 65535:
            problems.append(f"port = {raw} is above 65535: no such TCP port")
            return None
        return parsed

    port = number("port")
    instance = text("instance")
    encryption = text("encryption")
    if encryption is not None and encryption.lower() not in FREETDS_ENCRYPTION:
        problems.append(
            f"encryption = {encryption} is not off, request, require or strict: FreeTDS "
            "rejects the whole section and then treats the name as a host name"
        )
    if port is not None and instance is not None:
        port_from = values["port"][2]
        instance_from = values["instance"][2]
        if port_from != "global" and instance_from != "global":
            problems.append(
                f"both port = {port} and instance = {instance} are set: FreeTDS reports this as "
                "an error, and connects to the port without asking the Browser"
            )
    return FreeTdsServer(
        name=name,
        path=path,
        host=text("host"),
        port=port,
        instance=instance,
        tds_version=text("tds version"),
        encryption=encryption,
        connect_timeout=number("connect timeout"),
        lines={key: values[key] for key in sorted(values)},
        problems=tuple(problems),
    )


def _leading_int(text: str) -> int | None:
    """C atoi(): leading digits, the rest ignored."""
    match = re.match(r"\s*([+-]?\d{1,9})", text)
    return int(match.group(1)) if match else None


def freetds_conf_paths(environment: Environment) -> tuple[tuple[str, str], ...]:
    """The files FreeTDS tries, in its order, with why each one is on the list."""
    paths: list[tuple[str, str]] = []
    explicit = environment.getenv("FREETDSCONF")
    if explicit:
        paths.append((explicit, "named by $FREETDSCONF"))
    prefix = environment.getenv("FREETDS")
    if prefix:
        paths.append((environment.join(prefix, "etc", "freetds.conf"), "under $FREETDS"))
    if environment.home and not environment.is_windows:
        paths.append(
            (
                environment.join(environment.home, ".config", "freetds.conf"),
                "the user's file (FreeTDS 1.5 and later)",
            )
        )
    if environment.home:
        paths.append((environment.join(environment.home, ".freetds.conf"), "the user's file"))
    if not environment.is_windows:
        for system in FREETDS_SYSTEM_FILES:
            paths.append((system, "the system file (tsql -C shows which one FreeTDS uses)"))
    return tuple(paths)


@dataclass(frozen=True)
class FreeTdsLookup:
    server: FreeTdsServer | None
    looked_in: tuple[str, ...]
    problems: tuple[str, ...]


def find_freetds_server(environment: Environment, name: str) -> FreeTdsLookup:
    """Follow FreeTDS's search for section `name`; the first file that has it wins."""
    looked: list[str] = []
    problems: list[str] = []
    system_seen = False
    for path, why in freetds_conf_paths(environment):
        is_system = path in FREETDS_SYSTEM_FILES
        if is_system and system_seen:
            continue
        read = environment.files.read(path, MAX_CONF_BYTES)
        if not read.found:
            if read.error not in {"not found", None}:
                problems.append(f"{path} ({why}) cannot be read: {read.error}")
            looked.append(f"{path} ({read.error})")
            continue
        system_seen = system_seen or is_system
        looked.append(path)
        assert read.data is not None
        decoded = decode_text(read.data)
        if read.truncated:
            problems.append(f"{path} is larger than {MAX_CONF_BYTES:,} bytes; only the start read")
        if decoded.replaced:
            problems.append(f"{path} has {decoded.replaced} characters that are not text")
        server, parsed = parse_freetds_conf(decoded.text, path, name)
        problems.extend(f"{path}: {problem}" for problem in parsed.problems)
        if server is not None:
            problems.extend(f"{server.where()}: {problem}" for problem in server.problems)
            return FreeTdsLookup(server, tuple(looked), tuple(problems))
    return FreeTdsLookup(None, tuple(looked), tuple(problems))


# ---------------------------------------------------------------------------------------------
# ODBC data sources


class DriverKind(StrEnum):
    FREETDS = "FreeTDS"
    MICROSOFT = "Microsoft"
    OTHER = "other"
    UNKNOWN = "unknown"


def driver_kind(driver: str | None) -> DriverKind:
    """Which family a Driver= value (a name or a library path) belongs to."""
    if not driver:
        return DriverKind.UNKNOWN
    lowered = driver.lower()
    if "freetds" in lowered or "tdsodbc" in lowered:
        return DriverKind.FREETDS
    if (
        "msodbcsql" in lowered
        or "sqlncli" in lowered
        or "sqlsrv32" in lowered
        or re.search(r"odbc driver \d+ for sql server", lowered)
        or lowered.strip("{} ") in {"sql server", "sql server native client 11.0"}
    ):
        return DriverKind.MICROSOFT
    return DriverKind.OTHER


@dataclass(frozen=True)
class OdbcDsn:
    name: str
    where_file: str  # the file, or the registry key
    values: Mapping[str, tuple[str, int | None]]  # lowercased key: (value, line)
    kind: DriverKind

    def get(self, key: str) -> str | None:
        item = self.values.get(key.lower())
        return item[0].strip() if item and item[0].strip() else None

    def where(self, *keys: str) -> str:
        shown = [(key, self.values[key.lower()]) for key in keys if key.lower() in self.values]
        text = f"{self.where_file}, [{self.name}]"
        if shown:
            text += ": " + ", ".join(f"{key} = {value}" for key, (value, _) in shown)
            text += _line_numbers(line for _, (_, line) in shown)
        return text


def parse_odbc_ini(text: str, path: str, name: str) -> tuple[OdbcDsn | None, ini.IniFile]:
    """The DSN `name` of one odbc.ini (unixODBC: first section of that name, any case)."""
    parsed = ini.parse(text, ini.Dialect.ODBC)
    sections = parsed.find(name)
    if not sections:
        return None, parsed
    section = sections[0]
    values: dict[str, tuple[str, int | None]] = {}
    for entry in section.entries:
        if entry.key.lower() in SECRET_KEYS:
            continue  # a password in odbc.ini never leaves this function
        values.setdefault(entry.key.lower(), (entry.value, entry.line))  # first wins in unixODBC
    driver = values.get("driver", ("", None))[0]
    return OdbcDsn(section.name, path, values, driver_kind(driver)), parsed


def odbcinst_paths(environment: Environment) -> tuple[str, ...]:
    """Where unixODBC looks up driver names: $ODBCINSTINI, then odbcinst.ini in $ODBCSYSINI
    (else /etc), then the user's ~/.odbcinst.ini (odbcinst/_odbcinst_SystemINI.c)."""
    paths: list[str] = []
    named = environment.getenv("ODBCINSTINI")
    system_dir = environment.getenv("ODBCSYSINI") or "/etc"
    if named:
        paths.append(named if "/" in named else environment.join(system_dir, named))
    paths.append(environment.join(system_dir, "odbcinst.ini"))
    if environment.home:
        paths.append(environment.join(environment.home, ".odbcinst.ini"))
    return tuple(dict.fromkeys(paths))


def driver_library(environment: Environment, name: str) -> tuple[str | None, str | None]:
    """The library a driver name stands for in odbcinst.ini, and the file that says so."""
    for path in odbcinst_paths(environment):
        read = environment.files.read(path, MAX_CONF_BYTES)
        if not read.found or read.data is None:
            continue
        parsed = ini.parse(decode_text(read.data).text, ini.Dialect.ODBC)
        sections = parsed.find(name.strip("{} "))
        if sections:
            entry = sections[0].get("Driver")
            return (entry.value if entry and entry.value else None), path
    return None, None


def odbc_ini_paths(environment: Environment) -> tuple[tuple[str, str], ...]:
    paths: list[tuple[str, str]] = []
    user = environment.getenv("ODBCINI")
    if user:
        paths.append((user, "user DSNs, named by $ODBCINI"))
    elif environment.home:
        paths.append((environment.join(environment.home, ".odbc.ini"), "user DSNs"))
    system_dir = environment.getenv("ODBCSYSINI") or "/etc"
    why = "system DSNs, under $ODBCSYSINI" if environment.getenv("ODBCSYSINI") else "system DSNs"
    paths.append((environment.join(system_dir, "odbc.ini"), why))
    return tuple(paths)


@dataclass(frozen=True)
class DsnLookup:
    dsn: OdbcDsn | None
    looked_in: tuple[str, ...]
    problems: tuple[str, ...]


def find_odbc_dsn(environment: Environment, name: str) -> DsnLookup:
    if environment.is_windows:
        return _find_windows_dsn(environment, name)
    looked: list[str] = []
    problems: list[str] = []
    for path, why in odbc_ini_paths(environment):
        read = environment.files.read(path, MAX_CONF_BYTES)
        if not read.found:
            if read.error not in {"not found", None}:
                problems.append(f"{path} ({why}) cannot be read: {read.error}")
            looked.append(f"{path} ({read.error})")
            continue
        looked.append(path)
        assert read.data is not None
        decoded = decode_text(read.data)
        dsn, parsed = parse_odbc_ini(decoded.text, path, name)
        problems.extend(f"{path}: {problem}" for problem in parsed.problems)
        if dsn is not None:
            driver = dsn.get("Driver")
            if dsn.kind in {DriverKind.OTHER, DriverKind.UNKNOWN} and driver:
                library, where = driver_library(environment, driver)
                if library is not None:
                    dsn = OdbcDsn(dsn.name, dsn.where_file, dsn.values, driver_kind(library))
                    looked.append(f"{where} (driver {driver} is {library})")
                else:
                    problems.append(
                        f"{dsn.where('Driver')}: no driver of that name in "
                        f"{', '.join(odbcinst_paths(environment))}"
                    )
            return DsnLookup(dsn, tuple(looked), tuple(problems))
    return DsnLookup(None, tuple(looked), tuple(problems))


def _find_windows_dsn(environment: Environment, name: str) -> DsnLookup:
    looked: list[str] = []
    problems: list[str] = []
    registry = environment.registry
    if registry is None:
        return DsnLookup(None, (), ("the registry cannot be read here",))
    for hive, path, why in ODBC_INI_KEYS:
        full = f"{path}\\{name}"
        try:
            key = registry.open(hive, full)
        except OSError as error:
            problems.append(f"{hive.value}\\{full} ({why}) cannot be read: {error}")
            continue
        looked.append(f"{hive.value}\\{path} ({why})")
        if key is None:
            continue
        values = {
            k.lower(): (str(v) if not isinstance(v, tuple) else ",".join(v), None)
            for k, v in key.values.items()
            if not isinstance(v, bytes) and k.lower() not in SECRET_KEYS
        }
        driver = values.get("driver", ("", None))[0]
        return DsnLookup(
            OdbcDsn(name, key.where, values, driver_kind(driver)), tuple(looked), tuple(problems)
        )
    return DsnLookup(None, tuple(looked), tuple(problems))


# ---------------------------------------------------------------------------------------------
# Windows client aliases and protocol order


@dataclass(frozen=True)
class ConnectToAlias:
    """One value under `...\\Client\\ConnectTo`: alias name -> netlib, server[, port]."""

    name: str
    data: str
    key_path: str
    view: str  # "64-bit" or "32-bit": which programs use it
    protocol: str | None = None  # tcp, np, lpc, or the raw netlib name
    host: str | None = None
    instance: str | None = None
    port: int | None = None
    pipe: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return (
            f'{self.key_path}, value "{self.name}" = "{self.data}" (used by {self.view} programs)'
        )


def parse_connectto(name: str, data: object, key_path: str, view: str) -> ConnectToAlias:
    """Parse one alias value; odd data gives an alias with problems, never an exception."""
    if not isinstance(data, str):
        return ConnectToAlias(
            name, repr(data)[:80], key_path, view, problems=("the value is not text (REG_SZ)",)
        )
    parts = data.split(",")
    if len(parts) < 2 or not parts[1].strip():
        return ConnectToAlias(
            name,
            data,
            key_path,
            view,
            problems=(
                "the value is not 'DBMSSOCN,server[,port]' or 'DBNMPNTW,\\\\server\\pipe\\…'",
            ),
        )
    netlib = parts[0].strip()
    protocol = _NETLIBS.get(netlib.lower(), netlib)
    problems: list[str] = []
    host: str | None = None
    instance: str | None = None
    port: int | None = None
    pipe: str | None = None
    server = parts[1].strip()
    if protocol == "np":
        pipe_text = ",".join(parts[1:]).strip()
        try:
            parsed = parse_data_source("np:" + pipe_text).values
        except TargetError as error:
            problems.append(f"the pipe '{pipe_text}' cannot be understood: {error}")
        else:
            host, instance, pipe = parsed.get("host"), parsed.get("instance"), parsed.get("pipe")
    else:
        if protocol not in {"tcp", "lpc"}:
            problems.append(
                f"the network library {netlib} is not TCP (DBMSSOCN) or Named Pipes (DBNMPNTW)"
            )
        host, _, rest = server.partition("\\")
        instance = rest or None
        if len(parts) >= 3 and parts[2].strip():
            raw = parts[2].strip()
            if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 65535:
                port = int(raw)
            else:
                problems.append(f"the port '{raw}' is not a TCP port number")
        if len(parts) > 3:
            problems.append("the value has more than three comma-separated parts")
    return ConnectToAlias(
        name, data, key_path, view, protocol, host or None, instance, port, pipe, tuple(problems)
    )


def read_connectto(environment: Environment) -> tuple[tuple[ConnectToAlias, ...], tuple[str, ...]]:
    """Every alias in both views, and what could not be read."""
    aliases: list[ConnectToAlias] = []
    problems: list[str] = []
    registry = environment.registry
    if registry is None:
        return (), ()
    for path, view in CONNECTTO_KEYS:
        try:
            key = registry.open(Hive.HKLM, path)
        except OSError as error:
            problems.append(f"HKEY_LOCAL_MACHINE\\{path} cannot be read: {error}")
            continue
        if key is None:
            continue
        for name, data in key.values.items():
            if name:
                aliases.append(parse_connectto(name, data, key.where, view))
    return tuple(aliases), tuple(problems)


@dataclass(frozen=True)
class ProtocolOrder:
    where: str
    view: str
    order: tuple[str, ...]

    @property
    def named_pipes_before_tcp(self) -> bool:
        lowered = [item.lower() for item in self.order]
        return "np" in lowered and (
            "tcp" not in lowered or lowered.index("np") < lowered.index("tcp")
        )

    @property
    def tcp_missing(self) -> bool:
        return bool(self.order) and "tcp" not in {item.lower() for item in self.order}


def read_protocol_orders(environment: Environment) -> tuple[ProtocolOrder, ...]:
    """`ProtocolOrder` of each client network library (SNI<n>.0, SuperSocketNetLib)."""
    registry = environment.registry
    if registry is None:
        return ()
    orders: list[ProtocolOrder] = []
    for path, view in CLIENT_KEYS:
        try:
            client = registry.open(Hive.HKLM, path)
        except OSError:
            continue
        if client is None:
            continue
        for sub in client.subkeys:
            if not (sub.upper().startswith("SNI") or sub.lower() == "supersocketnetlib"):
                continue
            try:
                key = registry.open(Hive.HKLM, f"{path}\\{sub}")
            except OSError:
                continue
            value = key.get("ProtocolOrder") if key else None
            if key is None or value is None:
                continue
            if isinstance(value, tuple):
                order = tuple(item.strip() for item in value if item.strip())
            elif isinstance(value, str):
                order = tuple(item for item in re.split(r"[\s,]+", value) if item)
            else:
                continue
            orders.append(ProtocolOrder(f"{key.where}, ProtocolOrder", view, order))
    return tuple(orders)


# ---------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class AliasResolution:
    """What the target became after the client's aliases, and where that came from.

    `target` is the target the client really connects to (host, port and instance from the
    alias, with origins saying so); `original` is what was typed. `alias_where` says in plain
    words where the values came from; `correct_where` says what to edit to change them.
    """

    original: Target
    target: Target
    kind: AliasKind = AliasKind.NONE
    alias_name: str | None = None
    alias_where: str | None = None
    correct_where: str | None = None
    chain: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    looked_in: tuple[str, ...] = ()
    other_aliases: tuple[str, ...] = ()  # same-named aliases elsewhere (the 32-bit twin)
    protocol_orders: tuple[ProtocolOrder, ...] = ()
    hosts_path: str | None = None
    hosts_addresses: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    @property
    def applied(self) -> bool:
        return self.kind != AliasKind.NONE

    def summary(self) -> str:
        if self.problems and not self.applied and (self.original.dsn or self.original.servername):
            return self.problems[0]
        if not self.applied:
            text = "no client alias applies to this name"
        else:
            text = (
                f"'{self.alias_name}' is a {self.kind.value}: the client connects to "
                f"{self.target.data_source} ({self.alias_where})"
            )
        if self.hosts_addresses:
            text += (
                f"; the hosts file {self.hosts_path} sends {self.target.host} to "
                f"{', '.join(self.hosts_addresses)}"
            )
        return text

    def evidence(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "alias_name": self.alias_name,
            "alias_where": self.alias_where,
            "correct_where": self.correct_where,
            "chain": list(self.chain),
            "problems": list(self.problems),
            "notes": list(self.notes),
            "looked_in": list(self.looked_in),
            "other_aliases": list(self.other_aliases),
            "protocol_order": [
                {"where": order.where, "view": order.view, "order": list(order.order)}
                for order in self.protocol_orders
            ],
            "host": self.target.host,
            "port": self.target.port,
            "instance": self.target.instance,
            "protocol": self.target.protocol,
            "hosts_file": self.hosts_path,
            "hosts_addresses": list(self.hosts_addresses),
            "elapsed_ms": self.elapsed_ms,
        }


@dataclass
class _State:
    target: Target
    kind: AliasKind = AliasKind.NONE
    alias_name: str | None = None
    alias_where: str | None = None
    correct_where: str | None = None
    chain: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    looked: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)

    def mark(self, kind: AliasKind, name: str, where: str, correct: str) -> None:
        if self.kind == AliasKind.NONE or kind == AliasKind.ODBC_DSN:
            self.kind, self.alias_name = kind, name
        self.alias_where = (
            where if self.alias_where is None else f"{self.alias_where}; then {where}"
        )
        self.correct_where = correct


def resolve_aliases(target: Target, environment: Environment) -> AliasResolution:
    """Follow the DSN, Servername or alias the target names (or that its bare host name is).

    Never raises for what it finds: a DSN or section that cannot be found, an unreadable file, a
    malformed alias value are all `problems` on the result.
    """
    started = time.perf_counter()
    state = _State(target)
    if target.dsn:
        _follow_dsn(state, environment, target.dsn)
    elif target.servername:
        _follow_servername(state, environment, target.servername, via_dsn=None)
    elif target.host:
        _follow_bare_name(state, environment)
    orders = read_protocol_orders(environment) if environment.is_windows else ()
    for order in orders:
        if order.named_pipes_before_tcp and state.target.protocol is None:
            state.notes.append(
                f"{order.view} programs try Named Pipes before TCP ({order.where}: "
                f"{' '.join(order.order)}): a connection without tcp: may fail with error 40 or 53 "
                "before TCP is ever tried"
            )
        if order.tcp_missing:
            state.problems.append(
                f"TCP is not in the client protocol list of {order.view} programs ({order.where})"
            )
    hosts_path, hosts_addresses = _hosts_entry(state, environment)
    return AliasResolution(
        original=target,
        target=state.target,
        kind=state.kind,
        alias_name=state.alias_name,
        alias_where=state.alias_where,
        correct_where=state.correct_where,
        chain=tuple(state.chain),
        problems=tuple(dict.fromkeys(state.problems)),
        notes=tuple(dict.fromkeys(state.notes)),
        looked_in=tuple(dict.fromkeys(state.looked)),
        other_aliases=tuple(state.others),
        protocol_orders=orders,
        hosts_path=hosts_path,
        hosts_addresses=hosts_addresses,
        elapsed_ms=round((time.perf_counter() - started) * 1000.0, 3),
    )


def _follow_dsn(state: _State, environment: Environment, name: str) -> None:
    lookup = find_odbc_dsn(environment, name)
    state.looked.extend(lookup.looked_in)
    state.problems.extend(lookup.problems)
    dsn = lookup.dsn
    if dsn is None:
        places = ", ".join(lookup.looked_in) or "no odbc.ini could be found"
        state.problems.insert(
            0, f"there is no DSN named '{name}' (looked in: {places}); `odbcinst -q -s` lists DSNs"
        )
        return
    state.chain.append(f"DSN [{dsn.name}] in {dsn.where_file}")
    servername, server = dsn.get("Servername"), dsn.get("Server") or dsn.get("Address")
    if servername and server:
        state.problems.append(
            f"{dsn.where('Servername', 'Server')}: FreeTDS refuses a DSN with both Servername "
            "and Server ('You cannot specify both SERVERNAME and SERVER')"
        )
    if servername and dsn.kind in {DriverKind.FREETDS, DriverKind.UNKNOWN}:
        state.mark(
            AliasKind.ODBC_DSN,
            dsn.name,
            dsn.where("Servername"),
            f"edit {dsn.where_file}, section [{dsn.name}]",
        )
        _follow_servername(state, environment, servername, via_dsn=dsn)
    elif server:
        _apply_dsn_server(state, environment, dsn, server)
    else:
        state.problems.append(f"{dsn.where()} names no server (no Server= or Servername=)")
        return
    port_text = dsn.get("Port")
    if port_text is not None:
        if dsn.kind == DriverKind.MICROSOFT:
            state.notes.append(
                f"{dsn.where('Port')}: the Microsoft ODBC driver takes the port from "
                "Server=host,port, not from a separate Port key"
            )
        else:
            port = _leading_int(port_text)
            if port is not None and 0 < port <= 65535:
                state.target = state.target.replace(
                    origins={"port": Origin(Source.DSN, dsn.where("Port"))}, port=port
                )
                state.alias_where = f"{state.alias_where}; the port from {dsn.where('Port')}"
                state.correct_where = (
                    f"{state.correct_where} (the port: edit Port in {dsn.where_file}, "
                    f"section [{dsn.name}])"
                )
            else:
                state.problems.append(f"{dsn.where('Port')} is not a TCP port number")
    encryption = dsn.get("Encryption") or dsn.get("Encrypt")
    if encryption:
        state.notes.append(f"{dsn.where('Encryption', 'Encrypt')}: encryption comes from the DSN")
    trust = dsn.get("TrustServerCertificate")
    if trust:
        state.notes.append(f"{dsn.where('TrustServerCertificate')}")


def _apply_dsn_server(state: _State, environment: Environment, dsn: OdbcDsn, server: str) -> None:
    where = dsn.where("Server")
    try:
        parsed = parse_data_source(server).values
    except TargetError as error:
        state.problems.append(f"{where}: the server cannot be understood ({error})")
        return
    state.mark(AliasKind.ODBC_DSN, dsn.name, where, f"edit {dsn.where_file}, section [{dsn.name}]")
    _set_server(state, parsed, Origin(Source.DSN, where))
    if dsn.kind == DriverKind.FREETDS and "port" not in parsed and "instance" not in parsed:
        # FreeTDS looks the Server value up as a freetds.conf section too.
        _freetds_bare_name(state, environment, server, driver_known=True)
    elif dsn.kind == DriverKind.MICROSOFT and environment.is_windows:
        _connectto_bare_name(state, environment)


def _follow_servername(
    state: _State, environment: Environment, name: str, via_dsn: OdbcDsn | None
) -> None:
    lookup = find_freetds_server(environment, name)
    state.looked.extend(lookup.looked_in)
    state.problems.extend(lookup.problems)
    server = lookup.server
    source = f"Servername {name}" + (f" of DSN [{via_dsn.name}]" if via_dsn else "")
    if server is None:
        places = ", ".join(lookup.looked_in) or "no freetds.conf could be found"
        state.problems.insert(
            0,
            f"{source}: there is no section [{name}] in any freetds.conf (looked in: {places}); "
            "FreeTDS then tries the name as a host name",
        )
        origin = Origin(Source.DSN if via_dsn else Source.STRING, source)
        state.target = state.target.replace(
            origins={
                "host": origin,
                "port": Origin(Source.DEFAULT, "FreeTDS's default port: no section gives one"),
            },
            host=name,
            port=DEFAULT_PORT,
        )
        return
    _apply_freetds(state, server, explicit=True)


def _follow_bare_name(state: _State, environment: Environment) -> None:
    target = state.target
    assert target.host is not None
    if target.form == Form.JDBC:
        state.notes.append("JDBC does not read client aliases, freetds.conf or DSNs")
        return
    if environment.is_windows:
        _connectto_bare_name(state, environment)
    else:
        _freetds_bare_name(state, environment, target.host, driver_known=False)


def _freetds_bare_name(
    state: _State, environment: Environment, name: str, *, driver_known: bool
) -> None:
    target = state.target
    kind = driver_kind(target.driver)
    if target.port_given and not driver_known:
        return  # FreeTDS looks up "host,port" as a whole: no section has that name
    lookup = None
    if target.instance and not driver_known:
        # FreeTDS tries the whole "host\instance" first, then the host part alone.
        lookup = find_freetds_server(environment, f"{name}\\{target.instance}")
        state.looked.extend(lookup.looked_in)
    if lookup is None or lookup.server is None:
        lookup = find_freetds_server(environment, name)
        state.looked.extend(lookup.looked_in)
    if lookup.server is None:
        return
    state.problems.extend(lookup.problems)
    if kind in {DriverKind.MICROSOFT, DriverKind.OTHER}:
        state.notes.append(
            f"{lookup.server.where()} has the same name as the host, but the driver "
            f"'{target.driver}' does not read freetds.conf"
        )
        return
    if not driver_known and kind == DriverKind.UNKNOWN:
        state.notes.append(
            f"'{name}' is a section of {lookup.server.path}: FreeTDS clients (tsql, pyodbc with "
            "the FreeTDS driver) connect where it says; the Microsoft ODBC driver ignores it"
        )
    _apply_freetds(state, lookup.server, explicit=False)


def _apply_freetds(state: _State, server: FreeTdsServer, *, explicit: bool) -> None:
    target = state.target
    keys = [key for key in ("host", "port", "instance") if key in server.lines]
    where = server.where(*keys) if keys else server.where()
    state.chain.append(f"freetds.conf section [{server.name}] in {server.path}")
    state.mark(AliasKind.FREETDS, server.name, where, f"edit {server.where()}")
    if not explicit:
        state.notes.append(f"the name '{server.name}' is a FreeTDS alias, not a host name")
    if server.host is None:
        state.problems.append(
            f"{server.where()} has no host: FreeTDS falls back to treating "
            f"'{server.name}' as the host name"
        )
    origins: dict[str, Origin] = {}
    changes: dict[str, object] = {}
    host = server.host or server.name
    origins["host"] = Origin(Source.ALIAS, server.where("host") if server.host else server.where())
    changes["host"] = host
    instance_from_name = target.instance if not explicit else None
    if instance_from_name:
        # FreeTDS parses host\instance from the name again after the section: the name wins.
        changes["port"] = None
        state.notes.append(
            f"the instance {instance_from_name} in the name overrides the section's port "
            "or instance"
        )
    elif server.port is not None:
        changes["port"] = server.port
        changes["instance"] = server.instance
        origins["port"] = Origin(Source.ALIAS, server.where("port"))
        if server.instance is not None:
            origins["instance"] = Origin(Source.ALIAS, server.where("instance"))
    elif server.instance is not None:
        changes["instance"] = server.instance
        changes["port"] = None
        origins["instance"] = Origin(Source.ALIAS, server.where("instance"))
    else:
        changes["port"] = DEFAULT_PORT
        changes["instance"] = None
        origins["port"] = Origin(
            Source.DEFAULT, f"FreeTDS's default port: {server.where()} sets no port or instance"
        )
    state.target = target.replace(origins=origins, **changes)


def _connectto_bare_name(state: _State, environment: Environment) -> None:
    target = state.target
    assert target.host is not None
    kind = driver_kind(target.driver)
    aliases, problems = read_connectto(environment)
    state.problems.extend(problems)
    state.looked.extend(f"HKEY_LOCAL_MACHINE\\{path}" for path, _ in CONNECTTO_KEYS)
    wanted = target.host.lower()
    if target.instance:
        wanted += "\\" + target.instance.lower()
    matches = [alias for alias in aliases if alias.name.lower() == wanted]
    if not matches:
        return
    if kind in {DriverKind.FREETDS, DriverKind.OTHER}:
        state.notes.append(
            f"{matches[0].where} has this name, but the driver '{target.driver}' does not use "
            "SQL Server client aliases"
        )
        return
    if target.port_given or target.protocol is not None:
        state.notes.append(
            f"{matches[0].where} has this name; with an explicit port or protocol prefix the "
            "client may bypass it"
        )
        return
    chosen = matches[0]  # the 64-bit key is read first
    state.others.extend(alias.where for alias in matches[1:])
    if len({(a.host, a.port, a.instance, a.protocol) for a in matches}) > 1:
        state.problems.append(
            "the 64-bit and 32-bit aliases of this name differ: "
            + "; ".join(alias.where for alias in matches)
            + " (32-bit programs use the second)"
        )
    state.problems.extend(f"{chosen.where}: {problem}" for problem in chosen.problems)
    if chosen.host is None:
        return
    state.chain.append(f"client alias '{chosen.name}' ({chosen.view})")
    state.mark(AliasKind.CONNECTTO, chosen.name, chosen.where, f"edit or delete {chosen.where}")
    state.notes.append(f"the name '{chosen.name}' is a SQL Server client alias, not a host name")
    origin = Origin(Source.ALIAS, chosen.where)
    origins: dict[str, Origin] = {"host": origin}
    changes: dict[str, object] = {"host": chosen.host, "instance": chosen.instance}
    if chosen.protocol in {"tcp", "np", "lpc"}:
        changes["protocol"] = chosen.protocol
        origins["protocol"] = origin
    if chosen.pipe:
        changes["pipe"] = chosen.pipe
        changes["port"] = None
    elif chosen.port is not None:
        changes["port"] = chosen.port
        origins["port"] = origin
    elif chosen.instance:
        changes["port"] = None
        origins["instance"] = origin
    else:
        changes["port"] = DEFAULT_PORT
        origins["port"] = Origin(Source.DEFAULT, f"the default port: {chosen.where} has none")
    state.target = target.replace(origins=origins, **changes)


def _set_server(state: _State, values: Mapping[str, object], origin: Origin) -> None:
    changes: dict[str, object] = {
        "host": values.get("host"),
        "instance": values.get("instance"),
        "protocol": values.get("protocol"),
        "pipe": values.get("pipe"),
    }
    origins = {
        name: origin for name in ("host", "instance", "protocol", "pipe") if values.get(name)
    }
    if values.get("port") is not None:
        changes["port"] = values["port"]
        origins["port"] = origin
    elif values.get("instance") or values.get("protocol") == "np":
        changes["port"] = None
    else:
        changes["port"] = DEFAULT_PORT
        origins["port"] = Origin(Source.DEFAULT, "the default instance's port")
    state.target = state.target.replace(origins=origins, **changes)


def _hosts_entry(state: _State, environment: Environment) -> tuple[str | None, tuple[str, ...]]:
    host = state.target.host
    path = environment.hosts_path
    if not host or not path or hostsfile.is_ip_literal(host.split("%")[0]):
        return path, ()
    read = environment.files.read(path, hostsfile.MAX_BYTES)
    if not read.found:
        if read.error not in {"not found", None}:
            state.problems.append(f"the hosts file {path} cannot be read: {read.error}")
        return path, ()
    assert read.data is not None
    return path, hostsfile.addresses_for(hostsfile.decode(read.data), host)
