"""Credentials: user and masked password (or Windows authentication), and whether to keep them.

The store is offered only when it works here; a headless SSH session has no Secret Service, so
the choice becomes: keep nothing, or an encrypted file with a passphrase typed right here.
Credentials already kept in that file are offered back behind the same passphrase, typed here
too: never a getpass prompt under the TUI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from screens.base import WizardDialog
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


@dataclass(frozen=True)
class Unlocked:
    """What the encrypted file gave up: the user and password, or why not (plain words, no
    secret in them)."""

    user: str = ""
    password: Secret | None = None
    problem: str = ""


class CredentialLookup(Protocol):
    """What the screen needs from the credential stores: a saved entry, whether the keyring
    works, who is kept in the encrypted file, and opening that file with a passphrase."""

    def saved(self, target: Target) -> tuple[str, Secret] | None: ...

    def keyring_state(self) -> tuple[bool, str]: ...

    def kept_in_file(self, target: Target) -> list[str]: ...

    def unlock(self, target: Target, user: str | None, passphrase: Secret) -> Unlocked: ...


COMPACT_BELOW = 34  # terminal rows: below this the form drops its borders, so all of it shows


class CredentialsScreen(WizardDialog[CredentialsAnswer | None]):
    """Opens with the focus already in the first field to fill (set while mounting, before
    the key gate hands it any key), so that typing never replaces a user name filled in;
    Enter in a field moves on to the next empty one, and logs in from the last."""

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
        needs_password = (
            saved is None and target.password is None and not target.integrated_security
        )
        self.file_users: list[str] = (
            lookup.kept_in_file(target) if lookup is not None and needs_password else []
        )
        self.user = target.user or self.saved_user or next(iter(self.file_users), "")
        self.known_password = target.password is not None or self.saved_password is not None
        self.unlocking = False
        self.empty_password_warned = False

    def first_to_fill(self) -> str:
        if self.file_users:
            return "#unlock"
        if not self.user and not self.target.integrated_security:
            return "#user"
        return "#password" if not self.target.integrated_security else "#login"

    @classmethod
    def for_target(cls, target: Target) -> CredentialsScreen:
        return cls(target)

    def compose(self) -> ComposeResult:
        target = self.target
        user = self.user
        has_password = self.known_password
        with VerticalScroll(id="dialog", classes="login"):
            yield Static(Text(f"Log in to {target.data_source}", style="bold"))
            yield Static(Text("Enter logs in; escape skips the login.", style="dim"))
            if self.file_users:
                yield Static(self.unlock_note(), id="unlock-note")
                yield Input(
                    placeholder="passphrase of the encrypted file", password=True, id="unlock"
                )
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

    def unlock_note(self, problem: str = "") -> Text:
        who = ", ".join(self.file_users)
        if problem:
            return Text.assemble(
                (problem, "bold"), " Type the passphrase again, or the password below."
            )
        return Text(
            f"Credentials for {who} are kept in the encrypted file: type its passphrase "
            "to log in with them, or type the password below."
        )

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).display = False
        self.fit()
        # set_focus, not focus(): at once, before the key gate hands this screen any key
        self.set_focus(self.query_one(self.first_to_fill()))

    def on_resize(self, event: events.Resize) -> None:
        self.fit()

    def fit(self) -> None:
        """At 80x24 the bordered form is taller than the screen (the keep-password choices
        sat below it): compact fields there, bordered ones on taller terminals."""
        compact = self.app.size.height < COMPACT_BELOW
        self.set_class(compact, "compact")
        for field in self.query(Input):
            field.compact = compact
        for button in self.query(Button):
            button.compact = compact
        self.query_one("#integrated", Checkbox).compact = compact
        self.query_one("#keep", RadioSet).compact = compact

    @on(RadioSet.Changed, "#keep")
    def keep_changed(self, event: RadioSet.Changed) -> None:
        self.query_one("#passphrase", Input).display = event.pressed.id == "keep-file"

    # -- credentials kept in the encrypted file ---------------------------------------------

    @on(Input.Submitted, "#unlock")
    def unlock_submitted(self) -> None:
        self.start_unlock()

    def start_unlock(self) -> None:
        field = self.query_one("#unlock", Input)
        if self.unlocking:  # Enter again while the file opens
            return
        if not field.value:
            self.notify(
                "Type the passphrase of the encrypted file, or the password below.",
                severity="error",
            )
            return
        user = self.query_one("#user", Input).value.strip()
        field.disabled = True
        self.unlocking = True
        self.query_one("#unlock-note", Static).update(Text("Opening the encrypted file…"))
        self.open_file(Secret(field.value), user if user in self.file_users else None)

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False)
    def open_file(self, passphrase: Secret, user: str | None) -> None:
        """scrypt takes a tenth of a second or more: off the event loop."""
        assert self.lookup is not None
        try:
            result = self.lookup.unlock(self.target, user, passphrase)
        except Exception as error:  # never a stuck screen; the type only, never the text
            result = Unlocked(
                problem=f"The encrypted file cannot be used ({type(error).__name__})."
            )
        self.app.call_from_thread(self.unlocked, result)

    def unlocked(self, result: Unlocked) -> None:
        self.unlocking = False
        if not self.is_current:  # skipped (escape) while the file was being opened
            return
        field = self.query_one("#unlock", Input)
        field.disabled = False
        if result.password is None:
            field.value = ""
            self.query_one("#unlock-note", Static).update(self.unlock_note(result.problem))
            field.focus()
            return
        self.query_one("#user", Input).value = result.user
        self.saved_user, self.saved_password = result.user, result.password
        self.submit(result.password)

    # -- the answer -------------------------------------------------------------------------

    @on(Button.Pressed, "#login")
    @on(Input.Submitted, "#passphrase")
    def log_in(self) -> None:
        self.submit()

    @on(Input.Submitted, "#user")
    def user_entered(self) -> None:
        if self.query_one("#user", Input).value.strip() and not self.known_password:
            password = self.query_one("#password", Input)
            if not password.value:
                password.focus()  # on to the password, rather than a login without one
                return
        self.submit()

    @on(Input.Submitted, "#password")
    def password_entered(self) -> None:
        typed = self.query_one("#password", Input).value
        integrated = self.query_one("#integrated", Checkbox).value
        if typed or self.known_password or integrated or self.empty_password_warned:
            self.submit()
            return
        if self.file_users and self.query_one("#unlock", Input).value:
            self.submit()
            return
        self.empty_password_warned = True
        self.notify(
            "The password is empty: type it, or press Enter again to log in without one "
            "(Escape skips the login).",
            severity="warning",
        )

    def submit(self, unlocked: Secret | None = None) -> None:
        user = self.query_one("#user", Input).value.strip()
        typed = self.query_one("#password", Input).value
        integrated = self.query_one("#integrated", Checkbox).value
        if (
            unlocked is None
            and not typed
            and not integrated
            and self.target.password is None
            and self.saved_password is None
            and self.file_users
            and self.query_one("#unlock", Input).value
        ):
            self.start_unlock()  # Enter anywhere with a passphrase typed: open the file first
            return
        password: Secret | None
        if unlocked is not None:
            password = unlocked
        elif typed:
            password = Secret(typed)
        elif self.target.password is not None:
            password = self.target.password
        else:
            password = self.saved_password
        if not integrated and not user:
            self.notify(
                "Type the user name (the SQL login), or choose Windows authentication.",
                severity="error",
            )
            self.query_one("#user", Input).focus()
            return
        pressed = self.query_one("#keep", RadioSet).pressed_button
        keep = {"keep-keyring": "keyring", "keep-file": "file"}.get(
            pressed.id if pressed is not None and pressed.id else "", "no"
        )
        passphrase_text = self.query_one("#passphrase", Input).value
        if keep == "file" and not passphrase_text:
            self.notify("Type a passphrase for the encrypted file.", severity="error")
            self.query_one("#passphrase", Input).focus()
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
