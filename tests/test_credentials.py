"""The credential stores: a real Secret Service (gnome-keyring under dbus-run-session), the
no-keyring case, and the encrypted file; the password never lands in a file it should not."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui.credentials import (
    CredentialError,
    EncryptedFileStore,
    Index,
    WrongPassphrase,
    keyring_availability,
    target_key,
)
from tui.secret import Secret
from tui.target import parse_target

PASSWORD = "Keyring-Secret-7713!"
REPO = Path(__file__).resolve().parent.parent


def test_target_key_is_the_same_however_typed() -> None:
    assert target_key(parse_target(r"DB1\sales")) == r"db1\SALES"
    assert target_key(parse_target(r"Server=db1\SALES;UID=sa")) == r"db1\SALES"
    assert target_key(parse_target("jdbc:sqlserver://db1:1500")) == "db1,1500"
    assert target_key(parse_target("db1")) == "db1"  # the default port is not part of it


def test_no_keyring_service_is_reported_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    availability = keyring_availability()
    assert not availability.ok
    assert "no keyring service" in availability.reason


def _store(tmp_path: Path, passphrase: str = "a long passphrase") -> EncryptedFileStore:
    return EncryptedFileStore(
        Secret(passphrase), tmp_path / "creds.enc", Index(tmp_path / "index.json")
    )


def test_encrypted_file_round_trip_and_modes(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save(r"db1\SALES", "sa", Secret(PASSWORD))
    store.save("db2,1500", "app", Secret("other"))
    loaded = store.load(r"db1\SALES")
    assert loaded is not None and loaded.user == "sa" and loaded.password.reveal() == PASSWORD
    assert [(e.target_key, e.user) for e in store.entries()] == [
        (r"db1\SALES", "sa"),
        ("db2,1500", "app"),
    ]
    for name in ("creds.enc", "index.json"):
        path = tmp_path / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert PASSWORD.encode() not in path.read_bytes()
    assert store.forget(r"db1\SALES") == 1
    assert store.load(r"db1\SALES") is None
    assert _store(tmp_path).load("db2,1500") is not None


def test_wrong_passphrase_and_damage_are_clear_errors(tmp_path: Path) -> None:
    _store(tmp_path).save("db1", "sa", Secret(PASSWORD))
    with pytest.raises(WrongPassphrase):
        _store(tmp_path, "not the passphrase").load("db1")
    path = tmp_path / "creds.enc"
    document = json.loads(path.read_text())
    document["data"] = document["data"][:-8] + "AAAAAAA="
    path.write_text(json.dumps(document))
    with pytest.raises(WrongPassphrase):
        _store(tmp_path).load("db1")
    path.write_bytes(b"\x00garbage\xff")
    with pytest.raises(CredentialError, match="damaged") as caught:
        _store(tmp_path).load("db1")
    assert PASSWORD not in str(caught.value)


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match="empty"):
        _store(tmp_path, "")


SECRET_SERVICE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from tui.credentials import Index, KeyringStore, keyring_availability
    from tui.secret import Secret
    availability = keyring_availability()
    store = KeyringStore(Index(Path({index!r})))
    store.save("db1\\\\SALES", "sa", Secret({password!r}))
    loaded = store.load("db1\\\\SALES")
    listed = [(e.target_key, e.user, e.backend) for e in store.entries()]
    forgotten = store.forget("db1\\\\SALES", "sa")
    after = store.load("db1\\\\SALES", "sa")
    print(json.dumps({{"ok": availability.ok, "backend": availability.backend,
        "loaded": loaded.password.reveal() == {password!r} if loaded else False,
        "listed": listed, "forgotten": forgotten, "after": after is None}}))
    """
)


@pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="dbus-run-session or gnome-keyring-daemon missing (apt install dbus gnome-keyring)",
)
def test_keyring_store_against_a_real_secret_service(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    index = tmp_path / "index.json"
    script.write_text(
        SECRET_SERVICE_SCRIPT.format(repo=str(REPO), index=str(index), password=PASSWORD)
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env["HOME"] = str(tmp_path)  # a fresh login keyring, not the developer's
    shell = (
        f"echo -n unlock | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        f"exec {sys.executable} {script}"
    )
    done = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", shell],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] and "SecretService" in result["backend"]
    assert result["loaded"]
    assert result["listed"] == [["db1\\SALES", "sa", "keyring"]]
    assert result["forgotten"] == 1 and result["after"]
    assert PASSWORD not in done.stdout + done.stderr
    assert PASSWORD.encode() not in index.read_bytes()


def test_creds_cli_lists_without_passwords(tmp_path: Path) -> None:
    env = dict(
        os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data")
    )
    index = Index(tmp_path / "config" / "sqlreach" / "credentials-index.json")
    store = EncryptedFileStore(
        Secret("pp"), tmp_path / "data" / "sqlreach" / "credentials.enc", index
    )
    store.save("db7", "reporting", Secret(PASSWORD))
    run = [sys.executable, "-m", "tui", "creds"]
    listed = subprocess.run([*run, "list"], env=env, capture_output=True, text=True, cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    assert "db7" in listed.stdout and "reporting" in listed.stdout
    assert PASSWORD not in listed.stdout + listed.stderr
    env["PP"] = "pp"
    forgot = subprocess.run(
        [*run, "forget", "db7", "--passphrase-env", "PP"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert forgot.returncode == 0, forgot.stderr
    assert store.load("db7") is None
    again = subprocess.run(
        [*run, "forget", "db7"], env=env, capture_output=True, text=True, cwd=REPO
    )
    assert again.returncode == 1 and "Traceback" not in again.stderr
