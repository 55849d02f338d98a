"""Command-line entry points: argument parsing and dispatch only.

Heavy modules (Textual above all) are imported inside the command that needs them, so that
`sqlreach --version` and `sqlreach check` start fast and never load Textual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from tui import __version__
from tui.exitcodes import ExitCode
from tui.secret import ARGV_WARNING, disable_core_dumps, secret_in_argv


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad usage, which is our code for bad input too."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"sqlreach: error: {message}\n")
        raise SystemExit(ExitCode.USAGE)


MAX_TIMEOUT = 600.0


def _seconds(text: str) -> float:
    """--timeout, for every command: seconds, more than 0 and at most 600 (a negative value
    once gave the wizard a false PORT_FILTERED; 'nan' and 'inf' are refused too)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_TIMEOUT:.0f} seconds, not {text}"
        )
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{text} is not a port (1 to 65535)")
    return value


def _add_check(commands: argparse._SubParsersAction[_Parser]) -> None:
    check = commands.add_parser(
        "check",
        help="diagnose a target without questions (for scripts, tickets and monitoring)",
        description="Diagnose TARGET and print the root cause. Exit 0 when reachable, "
        "1 when a problem was found, 2 for bad input.",
    )
    check.add_argument("target", help="server name or connection string, in any common form")
    output = check.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument("--markdown", action="store_true", help="print Markdown for a ticket")
    check.add_argument(
        "--timeout", type=_seconds, default=3.0, metavar="S", help="per-probe timeout in seconds"
    )
    check.add_argument("--user", help="log in as this user (overrides the connection string)")
    check.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from this environment variable (never from the command line)",
    )
    check.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="passphrase of the encrypted credentials file, from this environment variable: "
        "a user without a password (or no user at all) is looked up there",
    )
    where = check.add_mutually_exclusive_group()
    where.add_argument(
        "--on-server",
        dest="on_server",
        action="store_const",
        const="yes",
        help="this machine is the SQL Server: also read its services and configuration",
    )
    where.add_argument(
        "--remote",
        dest="on_server",
        action="store_const",
        const="no",
        help="this machine is a client (the default is to detect it)",
    )
    check.add_argument(
        "--no-login",
        action="store_true",
        help="stop after the network checks, even with credentials",
    )
    error = check.add_mutually_exclusive_group()
    error.add_argument(
        "--error", metavar="TEXT", help="the error message you saw: read first, then compared"
    )
    error.add_argument(
        "--error-file", metavar="FILE", help="read the error message from a file ('-': stdin)"
    )
    check.add_argument(
        "--client",
        metavar="NAME",
        help="the driver that will connect (odbc18, odbc17, sqlclient4, jdbc, freetds, ...; "
        "default: worked out from the connection string)",
    )
    login = check.add_mutually_exclusive_group()
    login.add_argument(
        "--driver",
        metavar="NAME",
        help="log in through pyodbc with this ODBC driver, as the application would "
        "(default: the driver the connection string names, else sqlreach's own TDS login)",
    )
    login.add_argument(
        "--native",
        action="store_true",
        help="log in with sqlreach's own TDS login even when the connection names a driver",
    )
    check.add_argument(
        "--dns-server",
        metavar="ADDRESS[:PORT]",
        help="ask this DNS server instead of the system's resolver (the hosts file is still read)",
    )
    check.add_argument(
        "--transcript", metavar="FILE", help="also write the session's journal (JSON Lines) here"
    )
    check.set_defaults(run=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from tui.commands.check import CheckOptions, run_check
    from tui.steps.tree import Answers

    answers = Answers(
        on_server=None if args.on_server is None else args.on_server == "yes",
        login=False if args.no_login else None,
    )
    options = CheckOptions(
        target_text=args.target,
        output="json" if args.json else "markdown" if args.markdown else "text",
        timeout=args.timeout,
        user=args.user,
        password_env=args.password_env,
        passphrase_env=args.passphrase_env,
        answers=answers,
        transcript=args.transcript,
        dns_server=args.dns_server,
        error=args.error,
        error_file=args.error_file,
        client=args.client,
        driver=args.driver,
        native=args.native,
    )
    return run_check(options, sys.stdout)


def _add_explain(commands: argparse._SubParsersAction[_Parser]) -> None:
    explain = commands.add_parser(
        "explain",
        help="say what a connection error text means, before probing anything",
        description="Read an error text (a dialog, a stack trace, a log line) and say which layer "
        "failed, the likely root causes, what the text rules out and what to check next. "
        "Exit 0 when something was recognised, 1 when nothing was, 2 for bad input.",
    )
    explain.add_argument(
        "text", nargs="*", help="the error text (quote it), or '-' to read standard input"
    )
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    explain.set_defaults(run=_run_explain)


def _run_explain(args: argparse.Namespace) -> int:
    from tui.commands.explain import ExplainOptions, run_explain

    options = ExplainOptions(
        text=" ".join(args.text) if args.text else None,
        output="json" if args.json else "text",
    )
    return run_explain(options, sys.stdin.buffer, sys.stdin.isatty(), sys.stdout, sys.stderr)


def _run_wizard(args: argparse.Namespace) -> int:
    if args.serve:
        from tui.app import serve

        return serve(port=args.port)
    from tui.app import run_wizard

    return run_wizard(target_text=args.target, error_text=args.error, timeout=args.timeout)


def _add_transcripts(commands: argparse._SubParsersAction[_Parser]) -> None:
    transcripts = commands.add_parser(
        "transcripts",
        help="list, show and export saved sessions",
        description="Sessions are journals in your user data directory, one per run.",
    )
    actions = transcripts.add_subparsers(dest="action", parser_class=_Parser)
    actions.add_parser("list", help="sessions: when, target, verdict")
    show = actions.add_parser("show", help="a session as text")
    show.add_argument("id", help="session id (a unique prefix is enough)")
    export = actions.add_parser("export", help="a session as Markdown, HTML or JSON")
    export.add_argument("id", help="session id (a unique prefix is enough)")
    export.add_argument("--format", choices=("md", "html", "json"), default="md")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.add_argument(
        "--force",
        action="store_true",
        help="replace the output file if it exists (a regular file only; never a link)",
    )
    transcripts.set_defaults(run=_run_transcripts)


def _run_transcripts(args: argparse.Namespace) -> int:
    from tui.commands import transcripts as command

    if args.action == "show":
        return command.run_show(args.id, sys.stdout)
    if args.action == "export":
        return command.run_export(args.id, args.format, args.output, sys.stdout, force=args.force)
    return command.run_list(sys.stdout)


def _add_creds(commands: argparse._SubParsersAction[_Parser]) -> None:
    creds = commands.add_parser(
        "creds",
        help="list or forget stored credentials",
        description="Credentials are stored only when you agree, in the system keyring or an "
        "encrypted file. Passwords are never printed.",
    )
    actions = creds.add_subparsers(dest="action", parser_class=_Parser)
    actions.add_parser("list", help="stored targets and users (never passwords)")
    forget = actions.add_parser("forget", help="remove stored credentials for a target")
    forget.add_argument("target", help="the server, in any form the wizard accepts")
    forget.add_argument("--user", help="only this user (default: every user of that target)")
    forget.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="passphrase of the encrypted credentials file, from this environment variable",
    )
    creds.set_defaults(run=_run_creds)


def _run_creds(args: argparse.Namespace) -> int:
    from tui.commands.creds import run_forget, run_list

    if args.action == "forget":
        return run_forget(args.target, args.user, args.passphrase_env, sys.stdout)
    return run_list(sys.stdout)


def _add_lab(commands: argparse._SubParsersAction[_Parser]) -> None:
    lab = commands.add_parser(
        "lab",
        help="a simulated, deliberately broken SQL Server on loopback to practise on",
        description="'sqlreach lab' opens the wizard on every scenario; 'sqlreach lab NAME' on "
        "one; 'sqlreach lab list' lists them; 'sqlreach lab start NAME…' only serves them.",
    )
    lab.add_argument("words", nargs="*", metavar="list | start NAME… | NAME…")
    lab.add_argument("--address", help="loopback address to serve on (one scenario)")
    lab.add_argument(
        "--timeout",
        type=_seconds,
        default=3.0,
        metavar="S",
        help="per-probe timeout in seconds, for the wizard on the lab",
    )
    lab.set_defaults(run=_run_lab)


def _run_lab(args: argparse.Namespace) -> int:
    from tui.commands import lab as command

    words: list[str] = args.words
    if words[:1] == ["list"]:
        return command.run_list(sys.stdout)
    if words[:1] == ["start"]:
        return command.run_start(words[1:], args.address, sys.stdout)
    problem = _no_terminal()  # before the lab starts (run_wizard checks again, for itself)
    if problem:
        return problem
    return command.run_wizard_on_lab(words, sys.stdout, args.address, timeout=args.timeout)


def _add_scan(commands: argparse._SubParsersAction[_Parser]) -> None:
    scan = commands.add_parser(
        "scan",
        help="diagnose many targets at once",
        description="Targets one a line (any form 'check' accepts), or a CSV with a 'target' "
        "column. Exit 0 when every target is OK, 1 otherwise, 2 for bad input.",
    )
    scan.add_argument("file", help="the targets, or '-' for standard input")
    scan.add_argument("--format", choices=("table", "jsonl", "md"), default="table")
    scan.add_argument(
        "--concurrency",
        type=int,
        default=1000,
        metavar="N",
        help="targets in flight at once (capped by the descriptor limit)",
    )
    scan.add_argument(
        "--timeout", type=_seconds, default=3.0, metavar="S", help="per-probe timeout in seconds"
    )
    scan.add_argument(
        "--dns-server",
        metavar="ADDRESS[:PORT]",
        help="ask this DNS server instead of the system's resolver",
    )
    scan.set_defaults(run=_run_scan)


def _run_scan(args: argparse.Namespace) -> int:
    from tui.commands.scan import run_scan

    if args.concurrency < 1:
        sys.stderr.write("sqlreach: error: --concurrency must be 1 or more\n")
        return ExitCode.USAGE
    return run_scan(
        args.file,
        fmt=args.format,
        timeout=args.timeout,
        concurrency=args.concurrency,
        dns_server=args.dns_server,
        out=sys.stdout,
        err=sys.stderr,
    )


def build_parser() -> tuple[_Parser, _Parser]:
    """The wizard's parser (`sqlreach [TARGET]`) and the commands' parser (`sqlreach CMD …`)."""
    wizard = _Parser(
        prog="sqlreach",
        description="Walk from a SQL Server connection error to its root cause and the fix. "
        "Commands: check, scan, lab, explain, transcripts, creds. "
        "Run 'sqlreach COMMAND --help' for one of them.",
    )
    wizard.add_argument("--version", action="version", version=f"sqlreach {__version__}")
    wizard.add_argument("target", nargs="?", help="server name or connection string to diagnose")
    wizard.add_argument("--error", metavar="TEXT", help="the error message you saw")
    wizard.add_argument(
        "--timeout", type=_seconds, default=3.0, metavar="S", help="per-probe timeout in seconds"
    )
    wizard.add_argument(
        "--serve",
        action="store_true",
        help="serve the wizard to a browser (the probes run on this machine, not the visitor's)",
    )
    wizard.add_argument("--port", type=_port, default=8000, help="port for --serve (default 8000)")
    wizard.set_defaults(run=_run_wizard)

    commands = _Parser(prog="sqlreach")
    sub = commands.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_check(sub)
    _add_explain(sub)
    _add_transcripts(sub)
    _add_creds(sub)
    _add_lab(sub)
    _add_scan(sub)
    return wizard, commands


def _no_terminal() -> int:
    """Exit 2 with a sentence when the wizard has no terminal to draw on (0: there is one)."""
    from tui.terminal import no_terminal_reason

    problem = no_terminal_reason()
    if problem:
        sys.stderr.write(f"sqlreach: {problem}\n")
        return ExitCode.USAGE
    return 0


COMMANDS = frozenset({"check", "explain", "transcripts", "creds", "lab", "scan"})


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    disable_core_dumps()  # any command may hold a password: no core dump may carry it
    wizard, commands = build_parser()
    parser = commands if arguments and arguments[0] in COMMANDS else wizard
    if parser is commands:
        from tui.commands.output import tolerate_code_pages

        tolerate_code_pages(sys.stdout, sys.stderr)
    args = parser.parse_args(arguments)
    if secret_in_argv(arguments):
        sys.stderr.write(ARGV_WARNING)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        sys.stderr.write("sqlreach: interrupted\n")
        return 130
    except Exception as error:  # a bug: one line, a secret-free report, its own exit code
        from tui.crash import save_report

        report = save_report(error, _secrets_in(args))
        sys.stderr.write(report.message())
        return ExitCode.CRASH


def _secrets_in(args: argparse.Namespace) -> list[str]:
    """The secrets this process was given (the report's scrub removes them): the values of
    the environment variables named by --password-env and --passphrase-env."""
    import os

    names = [getattr(args, "password_env", None), getattr(args, "passphrase_env", None)]
    return [os.environ[name] for name in names if name and os.environ.get(name)]
