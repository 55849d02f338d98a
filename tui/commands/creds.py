"""`sqlreach creds list|forget`: what the commands do, apart from their parsing."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tui.credentials import (
    CredentialError,
    EncryptedFileStore,
    Index,
    KeyringStore,
    keyring_availability,
    target_key,
)
from tui.secret import Secret
from tui.target import TargetError, parse_target


def run_list(out: TextIO) -> int:
    entries = Index().read()
    availability = keyring_availability()
    out.write(f"Keyring: {availability.reason}\n")
    if not entries:
        out.write("No stored credentials.\n")
        return 0
    width = max(len(e.target_key) for e in entries)
    out.write(f"{'TARGET':<{width}}  {'USER':<20}  BACKEND\n")
    for entry in entries:
        out.write(f"{entry.target_key:<{width}}  {entry.user:<20}  {entry.backend}\n")
    return 0


def run_forget(target_text: str, user: str | None, passphrase_env: str | None, out: TextIO) -> int:
    try:
        key = target_key(parse_target(target_text))
    except TargetError as error:
        sys.stderr.write(f"sqlreach: {error}\n")
        return 2
    removed = 0
    try:
        removed += KeyringStore().forget(key, user)
        if passphrase_env:
            passphrase = os.environ.get(passphrase_env)
            if not passphrase:
                sys.stderr.write(f"sqlreach: the variable {passphrase_env} is not set\n")
                return 2
            removed += EncryptedFileStore(Secret(passphrase)).forget(key, user)
        elif any(e.backend == "encrypted-file" and e.target_key == key for e in Index().read()):
            sys.stderr.write(
                "sqlreach: some credentials are in the encrypted file: give "
                "--passphrase-env VAR to remove them too\n"
            )
    except CredentialError as error:
        sys.stderr.write(f"sqlreach: {error}\n")
        return 1
    if not removed:
        out.write(
            f"No stored credentials for {key}" + (f" and user {user}" if user else "") + ".\n"
        )
        return 1
    out.write(f"Forgot {removed} credential(s) for {key}.\n")
    return 0
