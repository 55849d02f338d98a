"""Credentials kept in the encrypted file, on a machine without a keyring (headless SSH: the
`fail` backend): kept by a passphrase typed in the wizard, found again behind that passphrase in
the next session and by `check --passphrase-env`; all by keyboard, the password never shown,
never in the file's bytes, the index or the journal."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Input, RadioSet, Static

from screens.credentials import CredentialsScreen
from tests.lab_fixtures import running
from tests.wizard_helpers import shown, to_verdict, wait_for
from tui.app import SqlreachApp, make_app
from tui.credentials import EncryptedFileStore, Index, default_file, target_key
from tui.lab.scenarios import LAB_PASSWORD
from tui.secret import Secret
from tui.target import parse_target

PASSPHRASE = "correct horse 4417"
WRONG = "incorrect mule 0000"
REPO = Path(__file__).resolve().parent.parent
FAIL_BACKEND = "keyring.backends.fail.Keyring"


@pytest.fixture
def headless(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No Secret Service, as over SSH: keyring reads its backend once per process, so set it
    again from the environment, and put the previous one back afterwards."""
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAIL_BACKEND)
    keyring.core.init_backend()
    assert isinstance(keyring.get_keyring(), fail.Keyring)
    yield
    keyring.set_keyring(previous)


def wizard(address: str, sessions: Path) -> SqlreachApp:
    """The healthy lab answers in milliseconds: a probe timeout of a few seconds only keeps a
    loaded machine (parallel workers, other suites) from turning its answers into timeouts."""
    return make_app(address, sessions_dir=sessions, show_timings=False, timeout=5)


def credentials_screen(pilot: Pilot[None]) -> CredentialsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, CredentialsScreen)
    return screen


async def keep_in_file(pilot: Pilot[None]) -> None:
    """User, password, then 'keep it in an encrypted file' and its passphrase, by keys only."""
    screen = credentials_screen(pilot)
    await wait_for(pilot, lambda: screen.query_one("#user", Input).has_focus)
    assert not screen.query("#unlock")  # nothing kept yet: nothing to unlock
    assert screen.query_one("#keep-keyring").disabled  # no keyring here
    await pilot.press("ctrl+a", "ctrl+k", *"sa", "tab", *LAB_PASSWORD)
    # password -> Log in -> Skip -> Windows authentication -> the keep choices
    await pilot.press("tab", "tab", "tab", "tab")
    assert screen.query_one("#keep", RadioSet).has_focus_within
    await pilot.press("down", "enter")  # the keyring choice is disabled: skipped
    pressed = screen.query_one("#keep", RadioSet).pressed_button
    assert pressed is not None and pressed.id == "keep-file"
    await pilot.press("tab")
    assert screen.query_one("#passphrase", Input).has_focus
    await pilot.press(*PASSPHRASE, "enter")


def no_secret_in(paths: list[Path]) -> None:
    for path in paths:
        data = path.read_bytes()
        assert LAB_PASSWORD.encode() not in data, path
        assert PASSPHRASE.encode() not in data, path


def files_under(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()]


async def first_session_keeps_in_file(address: str, sessions: Path) -> None:
    app = wizard(address, sessions)
    told: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            told.append(message.notification.message)

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        verdict = await to_verdict(pilot, app, login=keep_in_file)
        assert "login as sa works" in shown(verdict, "#summary")
        await wait_for(pilot, lambda: any("kept in" in m for m in told))
    key = target_key(parse_target(address))
    assert [m for m in told if "kept in" in m] == [
        f"Credentials for {key} kept in {default_file()} (encrypted)."
    ]


@pytest.mark.slow
async def test_kept_in_the_file_then_unlocked_by_passphrase_in_the_next_session(
    tmp_path: Path, headless: None
) -> None:
    sessions = tmp_path / "sessions"
    with running("healthy-default") as lab:
        await first_session_keeps_in_file(lab.address, sessions)
        path = default_file()
        assert path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        index = Index()
        assert stat.S_IMODE(index.path.stat().st_mode) == 0o600
        no_secret_in([path, index.path, *files_under(sessions)])
        key = target_key(parse_target(lab.address))
        assert [(e.target_key, e.user, e.backend) for e in index.read()] == [
            (key, "sa", "encrypted-file")
        ]

        # the next session: the screen says they are kept, asks for the passphrase first
        again = wizard(lab.address, sessions)
        async with again.run_test(size=(80, 24)) as pilot:

            async def unlock(pilot: Pilot[None]) -> None:
                screen = credentials_screen(pilot)
                await wait_for(pilot, lambda: screen.query_one("#unlock", Input).has_focus)
                note = shown(screen, "#unlock-note")
                assert "sa" in note and "encrypted file" in note
                assert screen.query_one("#user", Input).value == "sa"
                assert screen.query_one("#password", Input).value == ""
                unlock_field = screen.query_one("#unlock", Input)
                assert unlock_field.password  # masked
                assert unlock_field.region.bottom <= 24  # visible at 80x24 without scrolling
                # a wrong passphrase is refused plainly, and the person may try again
                await pilot.press(*WRONG, "enter")
                await wait_for(pilot, lambda: "does not open" in shown(screen, "#unlock-note"))
                assert pilot.app.screen is screen
                assert unlock_field.value == "" and unlock_field.has_focus
                assert "Type the passphrase again" in shown(screen, "#unlock-note")
                await pilot.press(*PASSPHRASE, "enter")

            verdict = await to_verdict(pilot, again, login=unlock)
            assert "OK" in shown(verdict, "#cause")
            assert "login as sa works" in shown(verdict, "#summary")
    no_secret_in([default_file(), Index().path, *files_under(sessions)])
    assert len(files_under(sessions)) >= 2  # both sessions were journalled


@pytest.mark.slow
async def test_a_wrong_passphrase_then_the_password_typed_instead(
    tmp_path: Path, headless: None
) -> None:
    sessions = tmp_path / "sessions"
    with running("healthy-default") as lab:
        await first_session_keeps_in_file(lab.address, sessions)
        again = wizard(lab.address, sessions)
        async with again.run_test(size=(80, 24)) as pilot:

            async def type_instead(pilot: Pilot[None]) -> None:
                screen = credentials_screen(pilot)
                await wait_for(pilot, lambda: screen.query_one("#unlock", Input).has_focus)
                await pilot.press(*WRONG, "enter")
                await wait_for(pilot, lambda: "does not open" in shown(screen, "#unlock-note"))
                await pilot.press("tab", "tab")  # the passphrase -> user -> password
                assert screen.query_one("#password", Input).has_focus
                await pilot.press(*LAB_PASSWORD, "enter")

            verdict = await to_verdict(pilot, again, login=type_instead)
            assert "login as sa works" in shown(verdict, "#summary")
    no_secret_in(files_under(sessions))


@pytest.mark.slow
async def test_only_the_target_kept_is_offered(tmp_path: Path, headless: None) -> None:
    """Another server, or a file gone missing, shows the usual screen: nothing to unlock."""
    store = EncryptedFileStore(Secret(PASSPHRASE))
    store.save("some-other-server", "sa", Secret(LAB_PASSWORD))
    with running("healthy-default") as lab:
        app = wizard(lab.address, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            seen: list[bool] = []

            async def look(pilot: Pilot[None]) -> None:
                screen = credentials_screen(pilot)
                await wait_for(pilot, lambda: bool(screen.query("#user")))
                seen.append(bool(screen.query("#unlock")))
                await pilot.press("escape")

            await to_verdict(pilot, app, login=look)
            assert seen == [False]
        key = target_key(parse_target(lab.address))
        store.save(key, "sa", Secret(LAB_PASSWORD))
        default_file().unlink()  # the index still names it; the file is what counts
        app = wizard(lab.address, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            seen.clear()
            await to_verdict(pilot, app, login=look)
            assert seen == [False]


@pytest.mark.slow
async def test_the_unlock_note_says_who_is_kept(tmp_path: Path, headless: None) -> None:
    with running("healthy-default") as lab:
        key = target_key(parse_target(lab.address))
        EncryptedFileStore(Secret(PASSPHRASE)).save(key, "reporting", Secret("x-" + PASSPHRASE))
        app = wizard(lab.address, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            notes: list[str] = []

            async def look(pilot: Pilot[None]) -> None:
                screen = credentials_screen(pilot)
                await wait_for(pilot, lambda: bool(screen.query("#unlock-note")))
                notes.append(str(screen.query_one("#unlock-note", Static).render()))
                await pilot.press("escape")

            await to_verdict(pilot, app, login=look)
        assert len(notes) == 1 and "reporting" in notes[0]


def _check(
    target: str, env: dict[str, str], *extra: str
) -> tuple[int, subprocess.CompletedProcess[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "check", target, "--json", "--timeout", "1", *extra],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert LAB_PASSWORD not in done.stdout + done.stderr
    assert PASSPHRASE not in done.stdout + done.stderr
    assert WRONG not in done.stdout + done.stderr
    return done.returncode, done


@pytest.mark.slow
def test_check_finds_the_password_in_the_file_with_passphrase_env(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND=FAIL_BACKEND)
    with running("healthy-default") as lab:
        key = target_key(parse_target(lab.address))
        EncryptedFileStore(Secret(PASSPHRASE)).save(key, "sa", Secret(LAB_PASSWORD))

        # without the passphrase the file stays shut: no password, so no login is tried
        code, done = _check(lab.address, env, "--user", "sa")
        assert code == 0, done.stdout
        assert "No login was tried" in json.loads(done.stdout)["summary"]

        env["SQLREACH_PP"] = PASSPHRASE
        for extra in (("--user", "sa"), ()):  # the file may supply the user too
            code, done = _check(lab.address, env, *extra, "--passphrase-env", "SQLREACH_PP")
            document = json.loads(done.stdout)
            assert code == 0, done.stdout
            assert document["root_cause"] == "OK"
            assert "login as sa works" in document["summary"]

        env["SQLREACH_PP"] = WRONG
        code, done = _check(lab.address, env, "--user", "sa", "--passphrase-env", "SQLREACH_PP")
        document = json.loads(done.stdout)
        assert code == 2
        assert document["root_cause"] == "BAD_INPUT"
        assert "SQLREACH_PP does not open" in document["summary"]
        assert "wrong passphrase" in document["summary"]

        code, done = _check(
            lab.address, env, "--user", "sa", "--passphrase-env", "NOT_SET_ANYWHERE"
        )
        assert code == 2
        assert "NOT_SET_ANYWHERE is not set" in json.loads(done.stdout)["summary"]
