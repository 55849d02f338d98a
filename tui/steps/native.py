"""sqlreach's own TDS login, as the steps run it: at the first hop (login.py) and again where a
redirect leads (routed.py), with the name the client uses for LOGIN7's ServerName and the
connection's read-only intent, memoised per address, port and name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.engine.context import Context

if TYPE_CHECKING:
    from tui.probes.native_login import LoginResult

CLIENT = "sqlreach's own TDS login"


async def native_login_at(
    context: Context, address: str, port: int, server_name: str | None, why: str
) -> LoginResult:
    from tui.probes import native_login  # loaded when a login is first tried

    target = context.target
    return await context.probe(
        ("login", "native", address, port, server_name),
        f"logging in to {address} port {port} as {target.user} ({why})",
        lambda: native_login.probe_login(
            address,
            port,
            user=target.user or "",
            password=target.password,
            database=target.database,
            timeout=context.timeout,
            server_name=server_name,
            read_only=target.read_only_intent,
        ),
    )
