"""Secrets never print; redaction finds them in every syntax people paste."""

from __future__ import annotations

import json
import logging

import pytest

from tui.secret import PLACEHOLDER, Secret, redact

SECRET = "Hunter2-Very-Secret"


def test_a_secret_never_prints(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(SECRET)
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("value %s %r", secret, secret)
    shown = [
        str(secret),
        repr(secret),
        f"{secret}",
        f"{secret!r:>30}",
        caplog.text,
        json.dumps({"p": str(secret)}),
    ]
    assert all(SECRET not in text for text in shown)
    assert secret.reveal() == SECRET
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


@pytest.mark.parametrize(
    "text",
    [
        f"Server=db1;PWD={SECRET};UID=sa",
        f"Server=db1;Password={SECRET}",
        f"Server=db1;password = {SECRET} ;x=1",
        f"Server=db1;PWD={{{SECRET};}}}};UID=sa",
        f'Server=db1;Password="{SECRET};x"',
        f"Server=db1;Password='{SECRET}'",
        f"sqlcmd -S db1 -U sa -P {SECRET}",
        f'sqlcmd -S db1 -U sa -P "{SECRET}"',
        f"sqlcmd -S db1 -U sa -P{SECRET}",
        f'Invoke-Sqlcmd -ServerInstance "db1" -Username sa -Password "{SECRET}" -Query x',
        f"Invoke-Sqlcmd -ServerInstance db1 -Username sa -Password {SECRET}",
        f"Invoke-Sqlcmd -Password:{SECRET} -Query x",
        f"Invoke-Sqlcmd -password '{SECRET}'",
        f"docker run -e 'SA_PASSWORD={SECRET}' mcr.microsoft.com/mssql/server",
        f"MSSQL_SA_PASSWORD: {SECRET}",
        f"jdbc:sqlserver://db1;user=sa;password={SECRET};encrypt=true",
        f"Access Token={SECRET}",
    ],
)
def test_redact_finds_secrets_in_every_syntax(text: str) -> None:
    redacted = redact(text)
    assert SECRET not in redacted
    assert PLACEHOLDER in redacted


def test_known_secrets_are_removed_anywhere_but_short_ones_only_by_key() -> None:
    assert SECRET not in redact(f"the password was {SECRET}, sadly", SECRET)
    assert redact("a b c", "b") == "a b c"  # a one-letter secret is everywhere by chance
    assert "user sa" in redact(f"user sa PWD={SECRET}")  # user names stay
