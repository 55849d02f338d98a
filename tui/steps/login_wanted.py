"""The question before the login: test one, and if not, why not."""

from __future__ import annotations

from tui.engine.context import Context
from tui.engine.facts import Fact
from tui.steps.error import about_the_login
from tui.steps.facts import LoginSkipped


def login_skipped(context: Context) -> str:
    """Why no login is tried, as the OK verdict without one says it."""
    target = context.target
    if target.integrated_security:
        return "Windows authentication was asked for, but the login step was skipped"
    if target.user and target.password is None:
        return (
            f"a user ({target.user}) but no password was given (the password comes from the "
            "connection string, --password-env VAR, credentials saved in the keyring, or in the "
            "encrypted file with --passphrase-env VAR)"
        )
    reason = "no credentials were given (User ID and Password in the connection string, or "
    reason += "--user and --password-env, or --passphrase-env for the encrypted file)"
    if about_the_login(context):
        reason += "; the error text you saw is about the login, so give them to test it"
    return reason


def skipped_facts(context: Context) -> tuple[Fact, ...]:
    return (LoginSkipped(login_skipped(context)),)


def default_login_wanted(context: Context) -> str:
    target = context.target
    if target.integrated_security or (target.user and target.password is not None):
        return "login"
    return "skip"
