"""The machine itself: client aliases, and on the server its services, ports, firewall and logs.

The API the diagnosis uses:
- `resolve_aliases(target, environment) -> AliasResolution`: the target after FreeTDS sections,
  ODBC DSNs and Windows client aliases, with where each value came from and what to edit.
- `detect_this_machine(host, addresses) -> bool`: does the target name this machine?
- `await read_server_view(environment, instance=..., port=..., timeout=...) -> ServerView`: this
  machine's SQL Server (services, TCP settings, listeners, firewall, error log, events), and
  `server_view_from_sqlcheck(text)` for a SQLCheck report from another machine.
Everything reads the machine through `Environment` (registry, commands, files), so it runs the
same in tests on any platform.
"""

import importlib
from typing import TYPE_CHECKING

from tui.probes.local.aliases import AliasKind, AliasResolution, resolve_aliases
from tui.probes.local.system import Environment

if TYPE_CHECKING:
    from tui.probes.local.server import (
        InstanceView,
        LocalIdentity,
        ServerView,
        detect_this_machine,
        local_identity,
        read_server_view,
        server_view_from_sqlcheck,
    )


def __getattr__(name: str) -> object:
    """The server side (services, firewall, logs) loads when first asked for: a client's
    diagnosis reads only the aliases."""
    if name.startswith("__"):
        raise AttributeError(name)
    server = importlib.import_module("tui.probes.local.server")  # not `from . import`: that
    try:  # asks this function for 'server' first
        return getattr(server, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


__all__ = [
    "AliasKind",
    "AliasResolution",
    "Environment",
    "InstanceView",
    "LocalIdentity",
    "ServerView",
    "detect_this_machine",
    "local_identity",
    "read_server_view",
    "resolve_aliases",
    "server_view_from_sqlcheck",
]
