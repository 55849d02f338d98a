"""Command-line entry points: argument parsing and dispatch only.

Heavy modules (Textual above all) are imported inside the command that needs them, so that
`sqlreach --version` and `sqlreach check` start fast and never load Textual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from tui import __version__

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad usage, which is our code for bad input too."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"sqlreach: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


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
        "--timeout", type=float, default=3.0, metavar="S", help="per-probe timeout in seconds"
    )
    check.set_defaults(run=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from tui.check import CheckOptions, run_check

    if not 0 < args.timeout <= 600:
        sys.stderr.write("sqlreach: error: --timeout must be between 0 and 600 seconds\n")
        return EXIT_USAGE
    options = CheckOptions(
        target_text=args.target,
        output="json" if args.json else "markdown" if args.markdown else "text",
        timeout=args.timeout,
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
    from tui.diagnosis.explain.command import ExplainOptions, run_explain

    options = ExplainOptions(
        text=" ".join(args.text) if args.text else None,
        output="json" if args.json else "text",
    )
    return run_explain(options, sys.stdin.buffer, sys.stdin.isatty(), sys.stdout, sys.stderr)


def _run_wizard(args: argparse.Namespace) -> int:
    from tui.app import run_wizard

    return run_wizard(target_text=args.target)


def build_parser() -> tuple[_Parser, _Parser]:
    """The wizard's parser (`sqlreach [TARGET]`) and the commands' parser (`sqlreach CMD …`)."""
    wizard = _Parser(
        prog="sqlreach",
        description="Walk from a SQL Server connection error to its root cause and the fix. "
        "Commands: check, explain. Run 'sqlreach COMMAND --help' for one of them.",
    )
    wizard.add_argument("--version", action="version", version=f"sqlreach {__version__}")
    wizard.add_argument("target", nargs="?", help="server name or connection string to diagnose")
    wizard.set_defaults(run=_run_wizard)

    commands = _Parser(prog="sqlreach")
    sub = commands.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_check(sub)
    _add_explain(sub)
    return wizard, commands


COMMANDS = frozenset({"check", "explain"})


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    wizard, commands = build_parser()
    parser = commands if arguments and arguments[0] in COMMANDS else wizard
    args = parser.parse_args(arguments)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        sys.stderr.write("sqlreach: interrupted\n")
        return 130
