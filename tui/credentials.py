"""Credentials kept for the person, only when they agree: the OS keyring, or an encrypted file.

Keyring APIs cannot list what they hold, so a small index of (target, user) pairs, never a
password, sits beside them. A headless SSH session has no Secret Service; rather than a getpass
prompt that would break the wizard, the person chooses: store nothing, or an encrypted file whose
passphrase they type inside the wizard.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import platformdirs

from tui.safe.files import private_directory, write_new
from tui.secret import Secret
from tui.target import Target

SERVICE: Final = "sqlreach"
FILE_FORMAT: Final = "sqlreach-credentials"
FILE_VERSION: Final = 1
SCRYPT_N: Final = 2**15
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
MAX_FILE_BYTES: Final = 4 * 1024 * 1024
FILE_BACKEND: Final = "encrypted-file"


class CredentialError(Exception):
    """A store cannot be used; the message is plain words and never holds a secret."""


class WrongPassphrase(CredentialError):
    pass


@dataclass(frozen=True)
class StoredCredential:
    target_key: str
    user: str
    password: Secret
    backend: str


@dataclass(frozen=True)
class Entry:
    target_key: str
    user: str
    backend: str


@dataclass(frozen=True)
class Availability:
    ok: bool
    backend: str
    reason: str


class CredentialStore(Protocol):
    name: str

    def save(self, target_key: str, user: str, password: Secret) -> None: ...

    def load(self, target_key: str, user: str | None = None) -> StoredCredential | None: ...

    def entries(self) -> list[Entry]: ...

    def forget(self, target_key: str, user: str | None = None) -> int: ...


def target_key(target: Target) -> str:
    """The same server however it was typed: host lower-cased, instance, explicit port."""
    host = (target.connect_host or target.dsn or target.servername or "?").lower().rstrip(".")
    key = host
    if target.instance:
        key += "\\" + target.instance.upper()
    if target.port_given:
        key += f",{target.port}"
    return key


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir("sqlreach"))


def _write_private(path: Path, data: bytes) -> None:
    """Atomic, owner-only from the first byte, in an owner-only directory; never through a
    symlink."""
    try:
        private_directory(path.parent)
        write_new(path, data, force=True)
    except OSError as error:
        raise CredentialError(f"cannot write {path}: {error.strerror or error}") from None


# ------------------------------------------------------------------------------------------
# the index of what is stored (no secrets in it)


class Index:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "credentials-index.json"

    def read(self) -> list[Entry]:
        try:
            raw = json.loads(self.path.read_bytes()[:MAX_FILE_BYTES])
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # a damaged index only loses the listing, never a credential
        entries = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, dict) and all(
                isinstance(item.get(k), str) for k in ("target", "user", "backend")
            ):
                entries.append(Entry(item["target"], item["user"], item["backend"]))
        return entries

    def write(self, entries: list[Entry]) -> None:
        document = [{"target": e.target_key, "user": e.user, "backend": e.backend} for e in entries]
        _write_private(self.path, json.dumps(document, indent=1).encode("utf-8"))

    def add(self, entry: Entry) -> None:
        entries = [
            e
            for e in self.read()
            if (e.target_key, e.user, e.backend) != (entry.target_key, entry.user, entry.backend)
        ]
        self.write([*entries, entry])

    def remove(self, target_key: str, user: str | None, backend: str) -> list[Entry]:
        entries = self.read()
        gone = [
            e
            for e in entries
            if e.backend == backend
            and e.target_key == target_key
            and (user is None or e.user == user)
        ]
        if gone:
            self.write([e for e in entries if e not in gone])
        return gone


# ------------------------------------------------------------------------------------------
# the operating system's keyring


def _keyring_name() -> str:
    import keyring

    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def keyring_availability() -> Availability:
    """Whether the keyring really works here, found with one cheap call, never a prompt."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
        name = _keyring_name()
        if isinstance(backend, fail.Keyring | null.Keyring):
            return Availability(
                False,
                name,
                "no keyring service is available here (a headless "
                "or SSH session has no Secret Service)",
            )
        keyring.get_password(SERVICE, "sqlreach-availability-check")
    except Exception as error:  # NoKeyringError, InitError, D-Bus errors: all mean 'not here'
        return Availability(
            False,
            "keyring",
            f"the keyring cannot be used here: {type(error).__name__}: {str(error)[:200]}",
        )
    return Availability(True, name, f"the system keyring ({name})")


class KeyringStore:
    def __init__(self, index: Index | None = None) -> None:
        self.index = index or Index()
        self.name = "keyring"

    @staticmethod
    def _account(target_key: str, user: str) -> str:
        return f"{user}@{target_key}"

    def save(self, target_key: str, user: str, password: Secret) -> None:
        import keyring

        try:
            keyring.set_password(SERVICE, self._account(target_key, user), password.reveal())
        except Exception as error:
            raise CredentialError(
                f"the keyring refused to store it: {type(error).__name__}"
            ) from None
        self.index.add(Entry(target_key, user, self.name))

    def load(self, target_key: str, user: str | None = None) -> StoredCredential | None:
        import keyring

        users = (
            [user]
            if user
            else [
                e.user
                for e in self.index.read()
                if e.backend == self.name and e.target_key == target_key
            ]
        )
        for candidate in users:
            try:
                value = keyring.get_password(SERVICE, self._account(target_key, candidate))
            except Exception:
                return None
            if value is not None:
                return StoredCredential(target_key, candidate, Secret(value), self.name)
        return None

    def entries(self) -> list[Entry]:
        return [e for e in self.index.read() if e.backend == self.name]

    def forget(self, target_key: str, user: str | None = None) -> int:
        import keyring

        gone = self.index.remove(target_key, user, self.name)
        for entry in gone:
            try:
                keyring.delete_password(SERVICE, self._account(entry.target_key, entry.user))
            except Exception:
                continue  # already gone from the keyring: the index is what mattered
        return len(gone)


# ------------------------------------------------------------------------------------------
# an encrypted file, for machines without a keyring


def default_file() -> Path:
    return Path(platformdirs.user_data_dir("sqlreach")) / "credentials.enc"


def _derive(passphrase: Secret, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(
        passphrase.reveal().encode("utf-8")
    )


class EncryptedFileStore:
    """scrypt for the key, AES-GCM for the data, a fresh salt and nonce at every write."""

    def __init__(
        self, passphrase: Secret, path: Path | None = None, index: Index | None = None
    ) -> None:
        if not passphrase.reveal():
            raise CredentialError("the passphrase is empty")
        self.path = path or default_file()
        self.index = index or Index()
        self._passphrase = passphrase
        self.name = FILE_BACKEND

    def _read(self) -> dict[str, dict[str, str]]:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise CredentialError(f"cannot read {self.path}: {error.strerror}") from None
        try:
            if len(raw) > MAX_FILE_BYTES:
                raise ValueError("too large")
            document = json.loads(raw)
            if document.get("format") != FILE_FORMAT or document.get("version") != FILE_VERSION:
                raise ValueError("unknown format")
            salt = base64.b64decode(document["salt"], validate=True)
            nonce = base64.b64decode(document["nonce"], validate=True)
            data = base64.b64decode(document["data"], validate=True)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CredentialError(
                f"{self.path} is damaged or not a sqlreach credentials file"
            ) from None
        try:
            plain = AESGCM(_derive(self._passphrase, salt)).decrypt(
                nonce, data, FILE_FORMAT.encode()
            )
        except InvalidTag:
            raise WrongPassphrase("wrong passphrase (or the file was altered)") from None
        except ValueError:
            raise CredentialError(f"{self.path} is damaged") from None
        content = json.loads(plain)
        return content if isinstance(content, dict) else {}

    def _write(self, content: dict[str, dict[str, str]]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        salt, nonce = os.urandom(16), os.urandom(12)
        data = AESGCM(_derive(self._passphrase, salt)).encrypt(
            nonce, json.dumps(content).encode("utf-8"), FILE_FORMAT.encode()
        )
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
            "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "data": base64.b64encode(data).decode(),
        }
        _write_private(self.path, json.dumps(document).encode("utf-8"))

    @staticmethod
    def _items(content: dict[str, dict[str, str]]) -> Iterator[tuple[str, str, str]]:
        for key, users in content.items():
            if isinstance(users, dict):
                for user, password in users.items():
                    yield key, user, password

    def save(self, target_key: str, user: str, password: Secret) -> None:
        content = self._read()
        content.setdefault(target_key, {})[user] = password.reveal()
        self._write(content)
        self.index.add(Entry(target_key, user, self.name))

    def load(self, target_key: str, user: str | None = None) -> StoredCredential | None:
        for key, stored_user, password in self._items(self._read()):
            if key == target_key and (user is None or stored_user == user):
                return StoredCredential(key, stored_user, Secret(password), self.name)
        return None

    def entries(self) -> list[Entry]:
        return [e for e in self.index.read() if e.backend == self.name]

    def forget(self, target_key: str, user: str | None = None) -> int:
        content = self._read()
        users = content.get(target_key, {})
        gone = [u for u in users if user is None or u == user]
        for name in gone:
            del users[name]
        if not users:
            content.pop(target_key, None)
        if gone:
            self._write(content)
        self.index.remove(target_key, user, self.name)
        return len(gone)


def users_in_file(
    target_key: str, index: Index | None = None, path: Path | None = None
) -> list[str]:
    """Who is kept in the encrypted file for this target, read from the index: known without
    the passphrase, so the wizard can offer to unlock them before asking for a password."""
    if not (path or default_file()).is_file():
        return []
    return [
        e.user
        for e in (index or Index()).read()
        if e.backend == FILE_BACKEND and e.target_key == target_key
    ]


def describe(entry: Entry) -> dict[str, Any]:
    return {"target": entry.target_key, "user": entry.user, "backend": entry.backend}


@dataclass(frozen=True)
class Found:
    """Credentials found for a target, and where (for the target's origins)."""

    user: str
    password: Secret
    where: str


def find_saved(
    target: Target,
    *,
    keyring: CredentialStore | None = None,
    passphrase: Secret | None = None,
) -> Found | None:
    """The one lookup of saved credentials, for `check` and the wizard alike: the keyring (or
    the store given) first, then the encrypted file when its passphrase is given. A wrong
    passphrase or a damaged file raises (`WrongPassphrase`, `CredentialError`); a keyring that
    cannot be read is simply not there."""
    key = target_key(target)
    if keyring is not None:
        try:
            stored = keyring.load(key, target.user)
        except CredentialError:
            stored = None
        if stored is not None:
            return Found(stored.user, stored.password, f"saved for {key}")
    if passphrase is not None:
        stored = EncryptedFileStore(passphrase).load(key, target.user)
        if stored is not None:
            return Found(
                stored.user, stored.password, f"the encrypted credentials file, saved for {key}"
            )
    return None


def system_keyring() -> CredentialStore | None:
    """The OS keyring when it works here, else None (a headless session)."""
    return KeyringStore() if keyring_availability().ok else None
