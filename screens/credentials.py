"""Credentials: user and masked password (or Windows authentication), and whether to keep them.

The store is offered only when it works here; a headless SSH session has no Secret Service, so
the choice becomes: keep nothing, or an encrypted file with a passphrase typed right here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from tui.secret import Secret
from tui.target import Origin, Source, Target


@dataclass(frozen=True)
class CredentialsAnswer:
    log_in: bool
    user: str = ""
    password: Secret | None = None
    integrated: bool = False
    keep: str = "no"  # no, keyring, file
    passphrase: Secret | None = None

    def apply(self, target: Target) -> Target:
        if self.integrated:
            return target.replace(
                origins={"integrated_security": Origin(Source.FLAG, "wizard")},
                integrated_security=True,
            )
        return target.replace(
            origins={
                "user": Origin(Source.FLAG, "wizard"),
                "password": Origin(Source.FLAG, "wizard"),
            },
            user=self.user,
            password=self.password,
        )


class CredentialLookup(Protocol):
    """What the screen needs from the credential store: a saved entry and whether it works."""

    def saved(self, target: Target) -> tuple[str, Secret] | None: ...

    def keyring_state(self) -> tuple[bool, str]: ...


class CredentialsScreen(ModalScreen[CredentialsAnswer | None]):
    BINDINGS = [Binding("escape", "skip", "Skip the login")]

    def __init__(self, target: Target, lookup: CredentialLookup | None = None) -> None:
        super().__init__()
        self.target = target
        self.lookup = lookup
        saved = lookup.saved(target) if lookup is not None else None
        self.saved_user: str | None = saved[0] if saved else None
        self.saved_password: Secret | None = saved[1] if saved else None
        self.keyring_ok, self.keyring_reason = (
            lookup.keyring_state() if lookup is not None else (False, "no credential store")
        )

    @classmethod
    def for_target(cls, target: Target) -> CredentialsScreen:
        return cls(target)

    def compose(self) -> ComposeResult:
        target = self.target
        user = target.user or self.saved_user or ""
        has_password = target.password is not None or self.saved_password is not None
        with VerticalScroll(id="dialog"):
            yield Static(Text(f"Log in to {target.data_source}", style="bold"))
            yield Static(Text("Enter logs in; escape skips the login.", style="dim"))
            yield Input(value=user, placeholder="user (SQL login)", id="user")
            yield Input(
                placeholder="password" + (" (kept)" if has_password else ""),
                password=True,
                id="password",
            )
            with Horizontal(id="buttons"):
                yield Button("Log in", variant="primary", id="login")
                yield Button("Skip the login", id="skip")
            yield Checkbox(
                "Windows authentication instead", target.integrated_security, id="integrated"
            )
            with RadioSet(id="keep"):
                yield RadioButton("Do not keep the password", value=True, id="keep-no")
                yield RadioButton(
                    "Keep it in the system keyring", id="keep-keyring", disabled=not self.keyring_ok
                )
                yield RadioButton("Keep it in an encrypted file", id="keep-file")
            if not self.keyring_ok:
                yield Static(Text(f"Keyring: {self.keyring_reason}", style="dim"))
            yield Input(
                placeholder="passphrase for the encrypted file", password=True, id="passphrase"
            )

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).display = False
        self.query_one("#user", Input).focus()

    @on(RadioSet.Changed, "#keep")
    def keep_changed(self, event: RadioSet.Changed) -> None:
        self.query_one("#passphrase", Input).display = event.pressed.id == "keep-file"

    @on(Button.Pressed, "#login")
    @on(Input.Submitted)
    def log_in(self) -> None:
        user = self.query_one("#user", Input).value.strip()
        typed = self.query_one("#password", Input).value
        integrated = self.query_one("#integrated", Checkbox).value
        password: Secret | None
        if typed:
            password = Secret(typed)
        elif self.target.password is not None:
            password = self.target.password
        else:
            password = self.saved_password
        if not integrated and not user:
            self.notify("Give a user name, or choose Windows authentication.", severity="error")
            return
        pressed = self.query_one("#keep", RadioSet).pressed_button
        keep = {"keep-keyring": "keyring", "keep-file": "file"}.get(
            pressed.id if pressed is not None and pressed.id else "", "no"
        )
        passphrase_text = self.query_one("#passphrase", Input).value
        if keep == "file" and not passphrase_text:
            self.notify("Type a passphrase for the encrypted file.", severity="error")
            return
        self.dismiss(
            CredentialsAnswer(
                log_in=True,
                user=user,
                password=password or Secret(""),
                integrated=integrated,
                keep=keep,
                passphrase=Secret(passphrase_text) if passphrase_text else None,
            )
        )

    @on(Button.Pressed, "#skip")
    def action_skip(self) -> None:
        self.dismiss(CredentialsAnswer(log_in=False))
