"""The `Target` and the grammar every form shares: the server name, key=value pairs, JDBC, sqlcmd.

ADO.NET and ODBC connection strings (every synonym), OLE DB strings, JDBC URLs, sqlcmd command
lines and bare server names (`host\\INST,1433`, `tcp:`, `np:`, `admin:`, IPv6 literals). Each value
remembers where it came from, because "the port came from an alias" is often the diagnosis.
Bad input raises `TargetError` pointing at the offending character, and nothing else. The other
forms (URLs, PowerShell, quoted strings) live beside this module and end in the same `Builder`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from tui.secret import PLACEHOLDER, Secret, redact

MAX_LENGTH: Final = 32_768
DEFAULT_PORT: Final = 1433
DAC_DEFAULT_PORT: Final = 1434
MAX_INSTANCE_BYTES: Final = 32  # the SSRP request field (MC-SQLR 2.2.2)
LOCAL_NAMES: Final = frozenset({".", "(local)", "localhost"})


class TargetError(ValueError):
    """The target cannot be understood; the message says where."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.reason = message
        self.position = position  # 1-based character index into the text, when known
        suffix = f" at character {position}" if position is not None else ""
        super().__init__(message + suffix)


class Form(StrEnum):
    SERVER = "server name"
    ADONET = "ADO.NET"
    ODBC = "ODBC"
    OLEDB = "OLE DB"
    JDBC = "JDBC"
    SQLCMD = "sqlcmd"
    SQLALCHEMY = "SQLAlchemy URL"
    GO = "go-mssqldb URL"
    NODE = "node-mssql URL"
    PRISMA = "Prisma URL"
    POWERSHELL = "PowerShell"


class Source(StrEnum):
    STRING = "string"
    DEFAULT = "default"
    ALIAS = "alias"
    DSN = "dsn"
    FLAG = "flag"
    KEYRING = "keyring"


@dataclass(frozen=True)
class Origin:
    """Where one value of the target came from."""

    source: Source
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source.value, "detail": self.detail}


@dataclass(frozen=True)
class Target:
    """A parsed connection target. The password is a `Secret` and is never printed."""

    form: Form
    text: str  # what was pasted, with secrets redacted
    host: str | None
    instance: str | None = None
    port: int | None = None
    protocol: str | None = None  # tcp, np, lpc, or None when unspecified
    dac: bool = False
    pipe: str | None = None
    database: str | None = None
    user: str | None = None
    integrated_security: bool = False
    authentication: str | None = None
    encrypt: str | None = None  # no, yes, strict, request; None: the driver's default
    trust_server_certificate: bool | None = None
    host_name_in_certificate: str | None = None
    driver: str | None = None
    provider: str | None = None
    dsn: str | None = None
    servername: str | None = None  # FreeTDS freetds.conf section named by ODBC Servername=
    timeout: int | None = None
    multi_subnet_failover: bool | None = None
    application_name: str | None = None
    localdb: bool = False  # (localdb)\\NAME: this machine's LocalDB, never a name for DNS
    application_intent: str | None = None  # ApplicationIntent as written (ReadOnly, ReadWrite)
    origins: Mapping[str, Origin] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False
    )
    notes: tuple[str, ...] = ()
    password: Secret | None = field(default=None, repr=False, compare=False, hash=False)

    @property
    def is_local(self) -> bool:
        """True for names that always mean this machine."""
        if self.protocol == "lpc" or self.host is None:
            return self.protocol == "lpc"
        if self.host.lower() in LOCAL_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host.split("%")[0]).is_loopback
        except ValueError:
            return False

    @property
    def read_only_intent(self) -> bool:
        """ApplicationIntent=ReadOnly: LOGIN7 says so, and read-only routing may send it on."""
        return (self.application_intent or "").replace(" ", "").casefold() == "readonly"

    @property
    def is_localdb(self) -> bool:
        return self.localdb or (self.host or "").lower() == "(localdb)"

    @property
    def port_given(self) -> bool:
        origin = self.origins.get("port")
        return self.port is not None and origin is not None and origin.source != Source.DEFAULT

    @property
    def needs_browser(self) -> bool:
        """A named instance without an explicit port: only the Browser knows the port."""
        return self.instance is not None and not self.port_given

    @property
    def connect_host(self) -> str | None:
        """The name to resolve: `.` and `(local)` mean the loopback name."""
        if self.host is None:
            return None
        if self.host.lower() in {".", "(local)"}:
            return "localhost"
        return self.host

    @property
    def data_source(self) -> str:
        """The target as an sqlcmd `-S` / ADO.NET `Data Source` value."""
        host = self.host or "?"
        if ":" in host:
            host = f"[{host}]"
        text = host
        if self.instance:
            text += "\\" + self.instance
        if self.port_given:
            text += f",{self.port}"
        prefix = "admin:" if self.dac else (f"{self.protocol}:" if self.protocol else "")
        return prefix + text

    def to_adonet(self) -> str:
        """The canonical ADO.NET / ODBC form of this target, without the password: what any form
        of it reads as, and what parses back to the same target."""
        server = self.data_source
        if self.protocol == "np" and self.pipe:
            server = "np:" + self.pipe
        parts: list[tuple[str, str | None]] = [
            ("Server", server if self.host is not None else None),
            ("DSN", self.dsn),
            ("Servername", self.servername),
            ("Driver", self.driver),
            ("Provider", self.provider),
            ("Database", self.database),
            ("User ID", self.user),
            ("Integrated Security", "true" if self.integrated_security else None),
            ("Authentication", self.authentication),
            ("Encrypt", self.encrypt),
            ("TrustServerCertificate", _yes_no(self.trust_server_certificate)),
            ("HostNameInCertificate", self.host_name_in_certificate),
            ("Connect Timeout", None if self.timeout is None else str(self.timeout)),
            ("MultiSubnetFailover", _yes_no(self.multi_subnet_failover)),
            ("Application Name", self.application_name),
            ("ApplicationIntent", self.application_intent),
        ]
        if self.host is None and self.port_given:
            parts.append(("Port", str(self.port)))
        return ";".join(f"{key}={_quote_value(value)}" for key, value in parts if value is not None)

    def replace(self, origins: Mapping[str, Origin] | None = None, **changes: Any) -> Target:
        """A copy with some values changed; `origins` merges into the existing ones."""
        merged = dict(self.origins)
        merged.update(origins or {})
        return dataclasses.replace(self, origins=MappingProxyType(merged), **changes)

    def to_json(self) -> dict[str, Any]:
        """The `check --json` view: no password, ever."""
        return {
            "host": self.host,
            "instance": self.instance,
            "port": self.port,
            "protocol": self.protocol,
            "database": self.database,
            "user": self.user,
            "integrated_security": self.integrated_security,
            "encrypt": self.encrypt,
            "driver": self.driver,
            "trust_server_certificate": self.trust_server_certificate,
            "host_name_in_certificate": self.host_name_in_certificate,
            "dac": self.dac,
            "dsn": self.dsn,
            "servername": self.servername,
            "provider": self.provider,
            "timeout": self.timeout,
            "pipe": self.pipe,
            "authentication": self.authentication,
            "multi_subnet_failover": self.multi_subnet_failover,
            "application_name": self.application_name,
            "localdb": self.localdb,
            "application_intent": self.application_intent,
            "form": self.form.value,
            "text": self.text,
            "origins": {name: origin.to_json() for name, origin in self.origins.items()},
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Target:
        """Read back what `to_json` wrote (a transcript's target): never a password."""

        def text(name: str) -> str | None:
            value = document.get(name)
            return None if value is None else str(value)

        def flag(name: str) -> bool | None:
            value = document.get(name)
            return value if isinstance(value, bool) else None

        def number(name: str) -> int | None:
            value = document.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        forms = {form.value: form for form in Form}
        sources = {source.value: source for source in Source}
        origins = document.get("origins")
        notes = document.get("notes")
        return cls(
            form=forms.get(str(document.get("form")), Form.SERVER),
            text=str(document.get("text") or ""),
            host=text("host"),
            instance=text("instance"),
            port=number("port"),
            protocol=text("protocol"),
            dac=bool(document.get("dac")),
            pipe=text("pipe"),
            database=text("database"),
            user=text("user"),
            integrated_security=bool(document.get("integrated_security")),
            authentication=text("authentication"),
            encrypt=text("encrypt"),
            trust_server_certificate=flag("trust_server_certificate"),
            host_name_in_certificate=text("host_name_in_certificate"),
            driver=text("driver"),
            provider=text("provider"),
            dsn=text("dsn"),
            servername=text("servername"),
            timeout=number("timeout"),
            multi_subnet_failover=flag("multi_subnet_failover"),
            application_name=text("application_name"),
            localdb=bool(document.get("localdb")),
            application_intent=text("application_intent"),
            origins=MappingProxyType(
                {
                    str(name): Origin(
                        sources.get(str(origin.get("source")), Source.STRING),
                        str(origin.get("detail", "")),
                    )
                    for name, origin in origins.items()
                    if isinstance(origin, dict)
                }
                if isinstance(origins, dict)
                else {}
            ),
            notes=tuple(str(note) for note in notes) if isinstance(notes, list) else (),
        )


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _quote_value(value: str) -> str:
    """ODBC braces where a value needs them (`}` doubled), as every parser here reads them."""
    if (
        value
        and value == value.strip()
        and not any(c in value for c in ";{}\"'=")
        and value[0] not in "{\"'"
    ):
        return value
    return "{" + value.replace("}", "}}") + "}"


# ---------------------------------------------------------------------------------------------
# Checks every form shares


def check_text(text: str) -> str:
    """The text stripped, or `TargetError` for what no form accepts (too long, control
    characters, nothing at all)."""
    if not isinstance(text, str):
        raise TargetError("the target must be text", 1)
    if len(text) > MAX_LENGTH:
        raise TargetError(
            f"the target is {len(text):,} characters long; connection strings are at most "
            f"{MAX_LENGTH:,}",
            MAX_LENGTH + 1,
        )
    reject_control_characters(text)
    stripped = text.strip()
    if not stripped:
        raise TargetError("the target is empty: give a server name or a connection string", 1)
    return stripped


def reject_control_characters(text: str) -> None:
    for index, char in enumerate(text):
        if char == "\x00":
            raise TargetError("NUL character in the target", index + 1)
        if (ord(char) < 32 and char not in "\t\r\n") or ord(char) == 0x7F:
            raise TargetError(f"control character U+{ord(char):04X} in the target", index + 1)


# ---------------------------------------------------------------------------------------------
# Collecting values


class Builder:
    """Collects values and their origins while one of the form parsers walks the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.form = Form.SERVER
        self.values: dict[str, Any] = {}
        self.origins: dict[str, Origin] = {}
        self.notes: list[str] = []
        self.password: Secret | None = None
        self.server_keys: list[tuple[str, str]] = []
        self.hidden: list[tuple[int, int]] = []  # spans of `text` that hold a secret

    def hide(self, start: int, end: int) -> None:
        """A secret sits at text[start:end] in a form `redact` cannot see (a URL's user info)."""
        if start < end:
            self.hidden.append((start, end))

    def shown_text(self) -> str:
        """The text as the target keeps it: hidden spans and every secret replaced."""
        text = self.text
        for start, end in sorted(set(self.hidden), reverse=True):
            text = text[:start] + PLACEHOLDER + text[end:]
        return redact(text.strip(), self.password)

    def set(self, name: str, value: Any, detail: str) -> None:
        previous = self.values.get(name)
        if previous is not None and previous != value and name != "password":
            self.notes.append(f"{detail} overrides an earlier value for {name} ({previous!s})")
        self.values[name] = value
        self.origins[name] = Origin(Source.STRING, detail)

    def set_server(self, value: str, position: int, detail: str) -> None:
        parsed = parse_data_source(value, position)
        if self.server_keys and self.server_keys[-1][1] != value:
            self.notes.append(
                f"{detail} ({value}) overrides {self.server_keys[-1][0]} "
                f"({self.server_keys[-1][1]}): the last one wins"
            )
            for name in ("host", "instance", "port", "protocol", "pipe", "dac"):
                self.values.pop(name, None)
                self.origins.pop(name, None)
        self.server_keys.append((detail, value))
        for name, item in parsed.values.items():
            self.values[name] = item
            self.origins[name] = Origin(Source.STRING, detail)
        self.notes.extend(parsed.notes)

    def build(self) -> Target:
        values = dict(self.values)
        origins = dict(self.origins)
        notes = list(self.notes)
        host = values.get("host")
        if host is None and values.get("dsn") is None and values.get("servername") is None:
            raise TargetError("no server given: add Server=, Data Source= or a host name", 1)
        if values.get("instance") and values.get("port") is not None:
            notes.append(
                f"both an instance ({values['instance']}) and a port ({values['port']}) are "
                "given: clients use the port and skip the SQL Server Browser"
            )
        if values.get("port") is None and host is not None:
            default = _default_port(values)
            if default is not None:
                values["port"] = default[0]
                origins["port"] = Origin(Source.DEFAULT, default[1])
        if values.get("integrated_security") is None:
            values["integrated_security"] = False
        if values.get("integrated_security") and values.get("user"):
            notes.append(
                "both Windows authentication and a user name are given: drivers use "
                "Windows authentication and ignore the user name"
            )
        values.setdefault("host", None)
        if (values["host"] or "").lower() == "(localdb)":
            values["localdb"] = True
        return Target(
            form=self.form,
            text=self.shown_text(),
            origins=MappingProxyType(origins),
            notes=tuple(dict.fromkeys(notes)),
            password=self.password,
            **values,
        )


def _default_port(values: Mapping[str, Any]) -> tuple[int, str] | None:
    if values.get("protocol") in {"np", "lpc"} or (values.get("host") or "").lower() == "(localdb)":
        return None
    if values.get("instance"):
        return None  # the Browser tells
    if values.get("dac"):
        return DAC_DEFAULT_PORT, "the dedicated admin connection of a default instance"
    return DEFAULT_PORT, "the default instance's port"


# ---------------------------------------------------------------------------------------------
# Data Source / sqlcmd -S grammar


@dataclass
class ParsedServer:
    values: dict[str, Any]
    notes: list[str]


_PREFIX = re.compile(r"(?i)^(tcp|np|lpc|admin|via|sm|rpc):")
_PIPE = re.compile(r"^\\\\([^\\]+)\\pipe\\(.+)$", re.IGNORECASE)
_PIPE_INSTANCE = re.compile(r"(?i)^MSSQL\$([^\\]+)\\sql\\query$")
_HOST_CHAR = re.compile(r"[\w.\-]", re.UNICODE)


def parse_data_source(value: str, position: int = 0) -> ParsedServer:
    """Parse `[prefix:]host[\\instance][,port]`; `position` is the 0-based offset of `value`."""
    notes: list[str] = []
    lead = len(value) - len(value.lstrip())
    text = value.strip()
    start = position + lead
    if not text:
        raise TargetError("the server name is empty", position + 1)
    values: dict[str, Any] = {}
    prefix = _PREFIX.match(text)
    if prefix:
        name = prefix.group(1).lower()
        if name in {"via", "rpc"}:
            raise TargetError(
                f"the '{name}:' protocol is no longer supported by SQL Server", start + 1
            )
        if name == "admin":
            values["dac"] = True
        else:
            values["protocol"] = {"sm": "lpc"}.get(name, name)
        text = text[prefix.end() :]
        start += prefix.end()
        if not text.strip():
            raise TargetError(f"no server after '{prefix.group(0)}'", start + 1)
    if values.get("protocol") == "np" or text.startswith("\\\\"):
        values.update(_parse_pipe(text, start, notes))
        return ParsedServer(values, notes)
    host, instance, port = _split_server(text, start, notes)
    values["host"] = host
    if instance is not None:
        values["instance"] = instance
    if port is not None:
        values["port"] = port
    if host.lower() == "(localdb)":
        notes.append("LocalDB runs only on this machine and speaks named pipes, not TCP")
    if values.get("protocol") == "lpc" and host.lower() not in LOCAL_NAMES:
        notes.append("shared memory (lpc:) works only on the server itself")
    return ParsedServer(values, notes)


def _parse_pipe(text: str, start: int, notes: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {"protocol": "np"}
    match = _PIPE.match(text)
    if match:
        host = match.group(1)
        _check_host(host, start + 2, notes)
        values["host"] = _strip_trailing_dot(host, notes)
        values["pipe"] = text
        pipe_instance = _PIPE_INSTANCE.match(match.group(2))
        if pipe_instance:
            values["instance"] = pipe_instance.group(1)
        return values
    if text.startswith("\\\\"):
        raise TargetError(
            "a named pipe looks like \\\\host\\pipe\\sql\\query; this one has no '\\pipe\\' part",
            start + 1,
        )
    host, instance, port = _split_server(text, start, notes)
    if port is not None:
        raise TargetError("a named pipe has no port; use tcp:host,port for TCP", start + 1)
    values["host"] = host
    if instance:
        values["instance"] = instance
        values["pipe"] = f"\\\\{host}\\pipe\\MSSQL${instance}\\sql\\query"
    else:
        values["pipe"] = f"\\\\{host}\\pipe\\sql\\query"
    return values


def _split_server(text: str, start: int, notes: list[str]) -> tuple[str, str | None, int | None]:
    """Split `host[\\instance][,port]`, with bracketed and bare IPv6 literals."""
    rest: str
    rest_start: int
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise TargetError("unbalanced '['", start + 1)
        host = text[1:close]
        _check_ip_literal(host, start + 2)
        rest, rest_start = text[close + 1 :], start + close + 1
    elif re.split(r"[\\,]", text, maxsplit=1)[0].count(":") >= 2:
        cut = min((i for i in (text.find("\\"), text.find(",")) if i >= 0), default=len(text))
        host = text[:cut].strip()
        _check_ip_literal(host, start + 1)
        rest, rest_start = text[cut:], start + cut
    else:
        cut = min((i for i in (text.find("\\"), text.find(",")) if i >= 0), default=len(text))
        host = text[:cut].strip()
        rest, rest_start = text[cut:], start + cut
        if ":" in host and host.lower() != "(localdb)":
            host, colon_port = host.rsplit(":", 1)
            if not colon_port.strip().isdigit():
                raise TargetError(
                    f"unexpected ':' in the host name '{host}:{colon_port}'", start + len(host) + 1
                )
            if "," in rest:
                raise TargetError(
                    "two ports given, one after ':' and one after ','", start + len(host) + 1
                )
            notes.append(
                f"'{host}:{colon_port}' uses a colon; SQL Server clients other than "
                f"JDBC expect a comma: {host},{colon_port}"
            )
            rest = "," + colon_port + rest
        if not host:
            raise TargetError("the host name is missing", start + 1)
        _check_host(host, start, notes)
        host = _strip_trailing_dot(host, notes)
    instance: str | None = None
    port: int | None = None
    if rest.startswith("\\"):
        comma = rest.find(",")
        raw_instance = rest[1:] if comma < 0 else rest[1:comma]
        instance = check_instance(raw_instance, rest_start + 2)
        if comma >= 0:
            port = parse_port(rest[comma + 1 :], rest_start + comma + 2)
    elif rest.startswith(","):
        port = parse_port(rest[1:], rest_start + 2)
    elif rest.strip():
        raise TargetError(
            f"unexpected text '{rest.strip()[:20]}' after the host name", rest_start + 1
        )
    return host, instance, port


def parse_port(text: str, position: int) -> int:
    """A TCP port, 1 to 65535; `position` is 1-based."""
    stripped = text.strip()
    if not stripped:
        raise TargetError("the port is missing after ','", position)
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 5:
        raise TargetError(f"the port '{stripped[:20]}' is not a number from 1 to 65535", position)
    port = int(stripped)
    if not 1 <= port <= 65535:
        raise TargetError(f"the port {port} is outside 1 to 65535", position)
    return port


def check_instance(raw: str, position: int) -> str:
    instance = raw.strip()
    if not instance:
        raise TargetError("the instance name after '\\' is empty", position)
    if "\\" in instance:
        raise TargetError("more than one '\\' in the server name", position + instance.find("\\"))
    for index, char in enumerate(instance):
        if char in ";:&@'\" " or not char.isprintable():
            raise TargetError(
                f"character '{char}' is not allowed in an instance name", position + index
            )
    if len(instance.encode("utf-8")) > MAX_INSTANCE_BYTES:
        raise TargetError(
            f"the instance name '{instance[:40]}' is longer than SQL Server allows (16 characters)",
            position,
        )
    return instance


def _check_host(host: str, start: int, notes: list[str]) -> None:
    if host.lower() in {".", "(local)", "(localdb)"}:
        return
    for index, char in enumerate(host):
        if not _HOST_CHAR.match(char):
            raise TargetError(
                f"character '{char}' is not allowed in a host name", start + index + 1
            )
    name = host.rstrip(".")
    if not name:
        raise TargetError("the host name is empty", start + 1)
    if ".." in name:
        raise TargetError("empty label ('..') in the host name", start + name.find("..") + 1)
    if name != ".":
        for label in name.split("."):
            if len(label.encode("utf-8")) > 63:
                raise TargetError(
                    f"the label '{label[:20]}…' is longer than 63 bytes",
                    start + host.find(label) + 1,
                )
        if len(name) > 253:
            raise TargetError("the host name is longer than 253 characters", start + 1)
        if not name.isascii():
            try:
                name.encode("idna")
            except UnicodeError as error:
                raise TargetError(
                    f"'{name}' is not a valid international host name ({error})", start + 1
                ) from None
            notes.append(
                f"'{name}' is an international name; DNS sees it as "
                f"{name.encode('idna').decode('ascii')}"
            )


def _check_ip_literal(host: str, position: int) -> None:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        raise TargetError(f"'{host[:60]}' is not a valid IPv6 address", position) from None


def _strip_trailing_dot(host: str, notes: list[str]) -> str:
    if host.endswith(".") and host != ".":
        notes.append(f"trailing dot removed from '{host}' (an absolute DNS name)")
        return host.rstrip(".")
    return host


# ---------------------------------------------------------------------------------------------
# key=value strings: ADO.NET, ODBC, OLE DB, and JDBC properties


@dataclass(frozen=True)
class Pair:
    key: str
    value: str
    key_position: int  # 0-based
    value_position: int  # 0-based


def iter_pairs(text: str, offset: int = 0) -> Iterator[Pair]:
    """Split `key=value;…`: ODBC `{…}` with `}}`, ADO.NET quotes with doubled quotes."""
    i, n = 0, len(text)
    while i < n:
        while i < n and (text[i].isspace() or text[i] == ";"):
            i += 1
        if i >= n:
            return
        key_start = i
        while i < n and text[i] not in "=;":
            i += 1
        key = text[key_start:i].strip()
        if i >= n or text[i] == ";":
            raise TargetError(f"'{key[:30]}' has no '=' and no value", offset + key_start + 1)
        if not key:
            raise TargetError("a key is empty (nothing before '=')", offset + key_start + 1)
        i += 1  # '='
        while i < n and text[i] in " \t":
            i += 1
        value_start = i
        if i < n and text[i] == "{":
            value, i = _read_braced(text, i, offset)
        elif i < n and text[i] in "\"'":
            value, i = _read_quoted(text, i, offset)
        else:
            end = text.find(";", i)
            end = n if end < 0 else end
            value, i = text[i:end].strip(), end
        yield Pair(key, value, offset + key_start, offset + value_start)


def _read_braced(text: str, i: int, offset: int) -> tuple[str, int]:
    start, i, out = i, i + 1, []
    while i < len(text):
        if text[i] == "}":
            if text.startswith("}}", i):
                out.append("}")
                i += 2
                continue
            return "".join(out), _after_value(text, i + 1, offset)
        out.append(text[i])
        i += 1
    raise TargetError("unbalanced '{'", offset + start + 1)


def _read_quoted(text: str, i: int, offset: int) -> tuple[str, int]:
    quote, start, i, out = text[i], i, i + 1, []
    while i < len(text):
        if text[i] == quote:
            if text.startswith(quote * 2, i):
                out.append(quote)
                i += 2
                continue
            return "".join(out), _after_value(text, i + 1, offset)
        out.append(text[i])
        i += 1
    raise TargetError(f"unterminated {quote} quote", offset + start + 1)


def _after_value(text: str, i: int, offset: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    if i < len(text) and text[i] != ";":
        raise TargetError(
            f"unexpected '{text[i]}' after a closing brace or quote (missing ';'?)", offset + i + 1
        )
    return i


def normalise_key(key: str) -> str:
    return " ".join(key.lower().split())


KV_KEYS: Final[Mapping[str, str]] = {
    "server": "server",
    "data source": "server",
    "datasource": "server",
    "address": "server",
    "addr": "server",
    "network address": "server",
    "port": "port",
    "initial catalog": "database",
    "database": "database",
    "user id": "user",
    "userid": "user",
    "uid": "user",
    "user": "user",
    "username": "user",
    "user name": "user",
    "password": "password",
    "pwd": "password",
    "integrated security": "integrated_security",
    "integratedsecurity": "integrated_security",
    "trusted_connection": "integrated_security",
    "trusted connection": "integrated_security",
    "encrypt": "encrypt",
    "encryption": "encrypt",
    "use encryption for data": "encrypt",
    "trustservercertificate": "trust_server_certificate",
    "trust server certificate": "trust_server_certificate",
    "trust_server_certificate": "trust_server_certificate",
    "hostnameincertificate": "host_name_in_certificate",
    "host name in certificate": "host_name_in_certificate",
    "connect timeout": "timeout",
    "connection timeout": "timeout",
    "connecttimeout": "timeout",
    "timeout": "timeout",
    "login timeout": "timeout",
    "logintimeout": "timeout",
    "multisubnetfailover": "multi_subnet_failover",
    "multi subnet failover": "multi_subnet_failover",
    "application name": "application_name",
    "applicationname": "application_name",
    "app": "application_name",
    "applicationintent": "application_intent",
    "application intent": "application_intent",
    "driver": "driver",
    "provider": "provider",
    "dsn": "dsn",
    "servername": "servername",
    "authentication": "authentication",
    "authenticationscheme": "authentication",
}

JDBC_KEYS: Final[Mapping[str, str]] = {
    "servername": "server",
    "server": "server",
    "instancename": "instance",
    "portnumber": "port",
    "port": "port",
    "databasename": "database",
    "database": "database",
    "user": "user",
    "username": "user",
    "password": "password",
    "integratedsecurity": "integrated_security",
    "encrypt": "encrypt",
    "trustservercertificate": "trust_server_certificate",
    "hostnameincertificate": "host_name_in_certificate",
    "logintimeout": "timeout",
    "applicationname": "application_name",
    "multisubnetfailover": "multi_subnet_failover",
    "applicationintent": "application_intent",
    "authentication": "authentication",
    "authenticationscheme": "authentication",
}

_TRUE = frozenset({"true", "yes", "1", "on", "sspi"})
_FALSE = frozenset({"false", "no", "0", "off"})
_ENCRYPT = {
    "true": "yes",
    "yes": "yes",
    "mandatory": "yes",
    "on": "yes",
    "1": "yes",
    "require": "yes",
    "required": "yes",
    "false": "no",
    "no": "no",
    "optional": "no",
    "off": "no",
    "0": "no",
    "strict": "strict",
    "request": "request",
}


def parse_bool(pair: Pair) -> bool:
    value = pair.value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise TargetError(
        f"{pair.key} must be yes or no, not '{pair.value[:30]}'", pair.value_position + 1
    )


def parse_encrypt(pair: Pair) -> str:
    value = pair.value.strip().lower()
    if value in _ENCRYPT:
        return _ENCRYPT[value]
    raise TargetError(
        f"{pair.key} must be yes, no, mandatory, optional or strict, not '{pair.value[:30]}'",
        pair.value_position + 1,
    )


def parse_timeout(pair: Pair) -> int:
    value = pair.value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise TargetError(
            f"{pair.key} must be a number of seconds, not '{value[:30]}'", pair.value_position + 1
        )
    return int(value)


_CONVERTERS: Final[Mapping[str, Callable[[Pair], Any]]] = {
    "integrated_security": parse_bool,
    "trust_server_certificate": parse_bool,
    "multi_subnet_failover": parse_bool,
    "encrypt": parse_encrypt,
    "timeout": parse_timeout,
}


def apply_pair(builder: Builder, pair: Pair, name: str) -> None:
    detail = f"{pair.key}="
    if name == "password":
        builder.password = Secret(pair.value)
        builder.origins["password"] = Origin(Source.STRING, detail)
        return
    if name == "server":
        builder.set_server(pair.value, pair.value_position, f"{pair.key}=")
        return
    if name == "port":
        builder.set("port", parse_port(pair.value, pair.value_position + 1), detail)
        return
    if name == "instance":
        builder.set("instance", check_instance(pair.value, pair.value_position + 1), detail)
        return
    convert = _CONVERTERS.get(name)
    value: Any = convert(pair) if convert else pair.value.strip()
    if value == "" and convert is None:
        return
    if name == "integrated_security" and pair.value.strip().lower() == "sspi":
        detail = f"{pair.key}=SSPI"
    builder.set(name, value, detail)


def parse_key_values(text: str, offset: int, builder: Builder) -> None:
    pairs = list(iter_pairs(text, offset))
    if not pairs:
        raise TargetError("the connection string has no key=value pairs", offset + 1)
    keys = {normalise_key(p.key) for p in pairs}
    if "provider" in keys:
        builder.form = Form.OLEDB
    elif keys & {"driver", "dsn", "filedsn", "servername"} or any(
        p.value_position < len(builder.text) and builder.text[p.value_position] == "{"
        for p in pairs
    ):
        builder.form = Form.ODBC
    else:
        builder.form = Form.ADONET
    server_port: int | None = None
    for pair in pairs:
        name = KV_KEYS.get(normalise_key(pair.key))
        if name is None:
            continue
        if name == "port":
            server_port = parse_port(pair.value, pair.value_position + 1)
            continue
        apply_pair(builder, pair, name)
    if server_port is not None:
        if "port" in builder.values and builder.values["port"] != server_port:
            builder.notes.append(
                f"Port={server_port} is ignored: the server name already gives port "
                f"{builder.values['port']}"
            )
        else:
            builder.set("port", server_port, "Port=")
    if builder.values.get("dsn") and "host" not in builder.values:
        builder.notes.append(f"host and port come from the DSN '{builder.values['dsn']}'")


# ---------------------------------------------------------------------------------------------
# JDBC: jdbc:sqlserver://[serverName[\instanceName][:portNumber]][;property=value…]

_JDBC_PREFIX = "jdbc:sqlserver://"


def parse_jdbc(text: str, offset: int, builder: Builder) -> None:
    builder.form = Form.JDBC
    if not text.lower().startswith(_JDBC_PREFIX):
        raise TargetError("only jdbc:sqlserver:// URLs are SQL Server JDBC URLs", offset + 1)
    parse_server_then_pairs(text, offset, len(_JDBC_PREFIX), builder, JDBC_KEYS)


def parse_server_then_pairs(
    text: str, offset: int, start: int, builder: Builder, keys: Mapping[str, str]
) -> None:
    """`server[\\instance][:port]` up to the first `;`, then `key=value` pairs named in `keys`:
    the shape of a JDBC URL after its prefix, and of Prisma's `sqlserver://` string."""
    semicolon = text.find(";", start)
    server_part = text[start:] if semicolon < 0 else text[start:semicolon]
    if server_part.strip():
        parse_jdbc_server(server_part, offset + start, builder)
    if semicolon >= 0:
        for pair in iter_pairs(text[semicolon + 1 :], offset + semicolon + 1):
            name = keys.get(pair.key.strip().lower())
            if name is not None:
                apply_pair(builder, pair, name)


def parse_jdbc_server(part: str, position: int, builder: Builder) -> None:
    text = part.strip()
    lead = position + len(part) - len(part.lstrip())
    port_text: str | None = None
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise TargetError("unbalanced '['", lead + 1)
        host_part, after = text[: close + 1], text[close + 1 :]
        if after.startswith(":"):
            port_text = after[1:]
        elif after.startswith("\\"):
            instance, _, port_text_part = after[1:].partition(":")
            host_part += "\\" + instance
            port_text = port_text_part or None
        elif after:
            raise TargetError(f"unexpected '{after[:20]}' after ']'", lead + close + 2)
    else:
        host_part, colon, rest = text.partition(":")
        port_text = rest if colon else None
    if port_text is not None:
        port = parse_port(port_text, lead + len(text) - len(port_text) + 1)
        builder.set_server(host_part, lead, "the JDBC URL")
        builder.set("port", port, "the JDBC URL")
    else:
        builder.set_server(host_part, lead, "the JDBC URL")


# ---------------------------------------------------------------------------------------------
# sqlcmd / osql / bcp command lines

_SQLCMD = re.compile(r"(?i)^(?:sqlcmd|osql|isql|bcp)(?:\.exe)?\s|^-S")
_SQLCMD_FLAGS: Final[Mapping[str, str]] = {
    "-S": "server",
    "-U": "user",
    "-P": "password",
    "-d": "database",
    "-l": "timeout",
}


def looks_like_sqlcmd(text: str) -> bool:
    return bool(_SQLCMD.match(text))


def parse_sqlcmd(text: str, offset: int, builder: Builder) -> None:
    builder.form = Form.SQLCMD
    try:
        lexer = shlex.shlex(text, posix=False)
        lexer.whitespace_split = True
        lexer.commenters = ""
        tokens = list(lexer)
    except ValueError as error:
        raise TargetError(f"the command line cannot be split: {error}", offset + 1) from None
    search_from = 0
    positions: list[int] = []
    for token in tokens:
        found = text.find(token, search_from)
        positions.append(found)
        search_from = found + len(token)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        flag, attached = token[:2], token[2:]
        if flag in _SQLCMD_FLAGS or flag in {"-E", "-N", "-C"}:
            if flag == "-E":
                builder.set("integrated_security", True, "-E")
            elif flag == "-N":
                builder.set("encrypt", "strict" if attached.lower() == "s" else "yes", "-N")
            elif flag == "-C":
                builder.set("trust_server_certificate", True, "-C")
            else:
                if attached:
                    value, position = attached, positions[index] + 2
                elif index + 1 < len(tokens):
                    index += 1
                    value, position = tokens[index], positions[index]
                else:
                    raise TargetError(f"{flag} has no value", offset + positions[index] + 1)
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                    value, position = value[1:-1], position + 1
                pair = Pair(flag, value, offset + positions[index], offset + position)
                apply_pair(builder, pair, _SQLCMD_FLAGS[flag])
        index += 1
    if "host" not in builder.values:
        raise TargetError("the command line has no -S server", offset + 1)
