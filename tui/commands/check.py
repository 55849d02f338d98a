"""`sqlreach check`: the diagnosis without questions, printed as text, JSON or Markdown."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tui.engine.settings import DnsServer, Settings
from tui.engine.walk import Diagnosis
from tui.exitcodes import ExitCode
from tui.knowledge.causes import RootCause
from tui.platforms import Platform, current
from tui.run import RunOptions, start_run
from tui.secret import Secret, redact
from tui.steps.tree import Answers
from tui.target import Origin, Source, Target, TargetError
from tui.transcript.journal import Journal, TranscriptError


class UsageError(ValueError):
    """A flag that cannot be honoured (an empty environment variable, say)."""


@dataclass(frozen=True)
class CheckOptions:
    target_text: str
    output: str = "text"  # text, json, markdown
    timeout: float = 3.0
    user: str | None = None
    password_env: str | None = None
    passphrase_env: str | None = None  # the encrypted credentials file's passphrase
    answers: Answers = field(default_factory=Answers)
    transcript: str | None = None
    dns_server: str | None = None
    error: str | None = None
    error_file: str | None = None
    client: str | None = None  # --client NAME: which driver will connect
    driver: str | None = None  # --driver NAME: log in through pyodbc with this ODBC driver
    native: bool = False  # --native: log in with sqlreach's own TDS login, whatever the driver


def run_check(options: CheckOptions, out: TextIO) -> int:
    try:
        target, pasted_error = read_target(options.target_text)
        target = apply_credentials(target, options)
        if options.dns_server:
            dns_settings(options.dns_server)
        error_text = read_error_text(options) or pasted_error
        options = _with_client(options)
    except (TargetError, UsageError) as error:
        _emit_bad_input(options, str(error), out)
        return ExitCode.USAGE
    try:
        journal = _open_journal(target, options)
    except TranscriptError as error:
        sys.stderr.write(f"sqlreach: {error}\n")
        return ExitCode.USAGE
    try:
        if journal is not None and error_text:
            journal.error_text(error_text)
        diagnosis = asyncio.run(run_diagnosis(target, options, journal, error_text))
    finally:
        if journal is not None:
            journal.close()
    _emit(options, diagnosis, out)
    cause = diagnosis.verdict.root_cause
    if cause is RootCause.BAD_INPUT:  # a DSN or alias that names nothing: still bad input
        return ExitCode.USAGE
    return ExitCode.OK if cause is RootCause.OK else ExitCode.PROBLEM


async def run_diagnosis(
    target: Target,
    options: CheckOptions,
    journal: Journal | None = None,
    error_text: str | None = None,
) -> Diagnosis:
    run = RunOptions(
        timeout=options.timeout,
        answers=options.answers,
        settings=Settings(
            error_text=error_text,
            native_login=options.native,
            dns=dns_settings(options.dns_server) if options.dns_server else None,
        ),
    )
    return await start_run(target, run, emit=journal.record if journal is not None else None)


def read_target(text: str) -> tuple[Target, str | None]:
    """The target, and the error text when that is what was given instead (read as `--error`
    reads it; its server is the target, noted). An error text naming no server is bad input."""
    from tui.knowledge.pasted import NOT_A_TARGET, PastedError, read_pasted

    pasted = read_pasted(text)
    if not isinstance(pasted, PastedError):
        return pasted, None
    if pasted.target is None:
        raise TargetError(NOT_A_TARGET, 1)
    target = pasted.target.replace(notes=(pasted.note, *pasted.target.notes))
    return target, pasted.text


def read_error_text(options: CheckOptions) -> str | None:
    """`--error TEXT` or `--error-file FILE`, decoded like `sqlreach explain` decodes it."""
    if options.error is None and options.error_file is None:
        return None
    from tui.knowledge.explain.textinput import (
        InputError,
        decode_argument,
        decode_bytes,
        read_capped,
    )

    try:
        if options.error is not None:
            return decode_argument(options.error).text
        if options.error_file is None:
            return None
        if options.error_file == "-":
            return decode_bytes(*read_capped(sys.stdin.buffer)).text
        with open(options.error_file, "rb") as handle:
            return decode_bytes(*read_capped(handle)).text
    except InputError as error:
        raise UsageError(f"the error text: {error}") from None
    except OSError as error:
        raise UsageError(
            f"--error-file: cannot read {options.error_file}: {error.strerror}"
        ) from None


def _with_client(options: CheckOptions) -> CheckOptions:
    """`--client odbc18` (or an alias such as mssql-python) answers the tree's client step."""
    if options.client is None:
        return options
    from tui.knowledge.clients import names_for_help, resolve_name

    family = resolve_name(options.client)
    if family is None:
        raise UsageError(
            f"--client: no client family '{options.client}'; known: {names_for_help()}"
        )
    return dataclasses.replace(options, answers=dataclasses.replace(options.answers, client=family))


def dns_settings(server: str) -> DnsServer:
    """`--dns-server 10.0.0.53` or `127.0.0.5:5353` or `[::1]:53`: ask only that server."""
    host, port_text = server, "53"
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else "53"
    elif server.count(":") == 1:
        host, _, port_text = server.partition(":")
    try:
        ipaddress.ip_address(host)
        port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError(port)
    except ValueError:
        raise UsageError(
            f"--dns-server wants an IP address and an optional port, not '{server}'"
        ) from None
    return DnsServer(host, port)


def _open_journal(target: Target, options: CheckOptions) -> Journal | None:
    if not options.transcript:
        return None
    path = Path(options.transcript)
    if os.path.lexists(path):  # a dangling symlink too: never written through
        raise TranscriptError(f"{path} exists already: give a new file for the transcript")
    return Journal.create(target, path, origin="check")


def apply_credentials(target: Target, options: CheckOptions) -> Target:
    """`--user`, `--password-env` and `--driver` override what the connection string says."""
    changes: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    if options.driver:
        name = options.driver.strip().strip("{}").strip()
        if not name:
            raise UsageError("--driver wants the name of an ODBC driver")
        changes["driver"] = name
        origins["driver"] = Origin(Source.FLAG, "--driver")
    if options.user:
        changes["user"] = options.user
        origins["user"] = Origin(Source.FLAG, "--user")
    if options.password_env:
        value = os.environ.get(options.password_env)
        if value is None:
            raise UsageError(f"--password-env: the variable {options.password_env} is not set")
        changes["password"] = Secret(value)
        origins["password"] = Origin(Source.FLAG, f"--password-env {options.password_env}")
    target = target.replace(origins=origins, **changes) if changes else target
    return _saved_password(target, options.passphrase_env)


def _saved_password(target: Target, passphrase_env: str | None = None) -> Target:
    """A user without a password: look in the keyring, then in the encrypted file when its
    passphrase is in `--passphrase-env` (never a prompt in `check`). With that flag the file
    may supply the user too."""
    if target.password is not None or target.integrated_security:
        return target
    if not target.user and not passphrase_env:
        return target
    from tui.credentials import (
        CredentialError,
        WrongPassphrase,
        default_file,
        find_saved,
        system_keyring,
    )

    passphrase = _passphrase(passphrase_env) if passphrase_env else None
    try:
        found = find_saved(
            target, keyring=system_keyring() if target.user else None, passphrase=passphrase
        )
    except WrongPassphrase:
        raise UsageError(
            f"--passphrase-env: the passphrase in {passphrase_env} does not open "
            f"{default_file()} (wrong passphrase, or the file was altered)"
        ) from None
    except CredentialError as error:
        raise UsageError(f"--passphrase-env: {error}") from None
    if found is None:
        return target
    origins = {"password": Origin(Source.KEYRING, found.where)}
    if not target.user:
        origins["user"] = Origin(Source.KEYRING, found.where)
    return target.replace(origins=origins, user=found.user, password=found.password)


def _passphrase(variable: str) -> Secret:
    value = os.environ.get(variable)
    if value is None:
        raise UsageError(f"--passphrase-env: the variable {variable} is not set")
    if not value:
        raise UsageError(f"--passphrase-env: the variable {variable} is empty")
    return Secret(value)


def _emit_bad_input(options: CheckOptions, message: str, out: TextIO) -> None:
    from tui.render import jsonout, markdown, text

    message = redact(message)
    if options.output == "json":
        out.write(jsonout.bad_input(message))
    elif options.output == "markdown":
        out.write(markdown.bad_input(message))
    else:
        out.write(text.bad_input(message))


def _emit(options: CheckOptions, diagnosis: Diagnosis, out: TextIO) -> None:
    from tui.render import jsonout, markdown, text

    if options.output == "json":
        out.write(jsonout.render(diagnosis))
    elif options.output == "markdown":
        out.write(markdown.render(diagnosis))
    else:
        out.write(text.render(diagnosis, platform_first=_platform()))


def _platform() -> str:
    """The fix commands shown first: those for the system this runs on."""
    return {
        Platform.WINDOWS: "windows-cmd",
        Platform.MACOS: "macos",
        Platform.LINUX: "linux",
    }[current()]
