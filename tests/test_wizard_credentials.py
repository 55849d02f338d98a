"""The credentials screen with an injected store: offered, kept only after a login that worked,
found again next time; all by keyboard, and the password never shown or journalled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Input, RadioSet

from screens.credentials import CredentialsScreen
from tests.lab_fixtures import running
from tests.wizard_helpers import shown, to_verdict, wait_for
from tui.app import make_app
from tui.credentials import Entry, StoredCredential, target_key
from tui.lab.scenarios import LAB_PASSWORD
from tui.secret import Secret
from tui.target import parse_target


class MemoryStore:
    """A CredentialStore kept in a dict: what the wizard saved, nothing more."""

    name = "memory"

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], Secret] = {}

    def save(self, target_key: str, user: str, password: Secret) -> None:
        self.kept[target_key, user] = password

    def load(self, target_key: str, user: str | None = None) -> StoredCredential | None:
        for (key, who), password in self.kept.items():
            if key == target_key and user in (None, who):
                return StoredCredential(key, who, password, self.name)
        return None

    def entries(self) -> list[Entry]:
        return [Entry(key, who, self.name) for key, who in self.kept]

    def forget(self, target_key: str, user: str | None = None) -> int:
        gone = [k for k in self.kept if k[0] == target_key and user in (None, k[1])]
        for k in gone:
            del self.kept[k]
        return len(gone)


def typing(user: str, password: str, keep: bool) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Fill the form by keys only: user, password, then (optionally) 'keep it in the store'."""

    async def login(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, CredentialsScreen)
        await wait_for(pilot, lambda: screen.query_one("#user", Input).has_focus)
        await pilot.press("ctrl+a", "ctrl+k", *user, "tab", *password)
        if keep:
            # password -> Log in -> Skip -> Windows authentication -> the keep choices
            await pilot.press("tab", "tab", "tab", "tab")
            assert screen.query_one("#keep", RadioSet).has_focus_within
            await pilot.press("down", "enter")
            await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab")
            assert screen.query_one("#password", Input).has_focus
        await pilot.press("enter")

    return login


@pytest.mark.slow
async def test_kept_after_a_login_that_worked_and_offered_next_time(tmp_path: Path) -> None:
    store = MemoryStore()
    with running("healthy-default") as lab:
        key = target_key(parse_target(lab.address))
        app = make_app(
            lab.address,
            sessions_dir=tmp_path,
            show_timings=False,
            timeout=1,
            credential_store=store,
        )
        told: list[str] = []

        def hook(message: Message) -> None:
            if isinstance(message, Notify):
                told.append(message.notification.message)

        async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
            verdict = await to_verdict(pilot, app, login=typing("sa", LAB_PASSWORD, keep=True))
            assert "OK" in shown(verdict, "#cause")
            assert "login as sa works" in shown(verdict, "#summary")
            await wait_for(pilot, lambda: bool(told))
            assert told == [f"Credentials for {key} kept in memory."]
        assert store.kept[key, "sa"].reveal() == LAB_PASSWORD

        # the next session offers them: the user is filled in, Enter alone logs in
        again = make_app(
            lab.address,
            sessions_dir=tmp_path,
            show_timings=False,
            timeout=1,
            credential_store=store,
        )
        async with again.run_test(size=(80, 24)) as pilot:

            async def enter(pilot: Pilot[None]) -> None:
                screen = pilot.app.screen
                assert isinstance(screen, CredentialsScreen)
                await wait_for(pilot, lambda: bool(screen.query("#user")))
                assert screen.query_one("#user", Input).value == "sa"
                assert screen.query_one("#password", Input).value == ""  # never shown
                assert "(kept)" in str(screen.query_one("#password", Input).placeholder)
                await pilot.press("enter")

            verdict = await to_verdict(pilot, again, login=enter)
            assert "login as sa works" in shown(verdict, "#summary")
    for path in tmp_path.iterdir():
        assert LAB_PASSWORD.encode() not in path.read_bytes()


@pytest.mark.slow
async def test_a_failed_login_is_never_kept(tmp_path: Path) -> None:
    store = MemoryStore()
    with running("healthy-default") as lab:
        app = make_app(
            lab.address,
            sessions_dir=tmp_path,
            show_timings=False,
            timeout=1,
            credential_store=store,
        )
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app, login=typing("sa", "not-it", keep=True))
            assert "LOGIN_FAILED" in shown(verdict, "#cause")
    assert store.kept == {}


@pytest.mark.slow
async def test_nothing_is_kept_unless_asked(tmp_path: Path) -> None:
    store = MemoryStore()
    with running("healthy-default") as lab:
        app = make_app(
            lab.address,
            sessions_dir=tmp_path,
            show_timings=False,
            timeout=1,
            credential_store=store,
        )
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app, login=typing("sa", LAB_PASSWORD, keep=False))
            assert "OK" in shown(verdict, "#cause")
    assert store.kept == {}
