"""The lab's SQL Server Browser: SSRP on UDP, answering exactly as the specification says.

EX requests get every instance that is not hidden; an INST request for a known instance gets
that instance; a DAC request gets the port the instance's dedicated admin connection listens on
(silence for an instance with no DAC, as SQL Server Express without trace flag 7806); an unknown
instance and garbage get silence.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import cast

from tui.lab.scenarios import LabInstance
from tui.wire import ssrp
from tui.wire.errors import WireError


def _advertised(server_name: str, instance: LabInstance) -> ssrp.Instance:
    pipe = (
        "\\\\" + server_name + "\\pipe\\sql\\query"
        if instance.name == "MSSQLSERVER"
        else f"\\\\{server_name}\\pipe\\MSSQL${instance.name}\\sql\\query"
    )
    return ssrp.Instance(
        server_name=server_name,
        instance=instance.name,
        clustered=False,
        version=instance.version,
        tcp_port=instance.browser_port,
        pipe=pipe,
    )


def answer(
    request_bytes: bytes, server_name: str, instances: Sequence[LabInstance]
) -> bytes | None:
    """The datagram to send back, or None for silence."""
    try:
        request = ssrp.parse_request(request_bytes)
    except WireError:
        return None
    visible = [i for i in instances if not i.hidden]
    kind = request.kind
    if kind in {ssrp.RequestKind.UCAST_EX, ssrp.RequestKind.BCAST_EX}:
        if not visible:
            return None
        return ssrp.build_response([_advertised(server_name, i) for i in visible])
    wanted = (request.instance or "").casefold()
    match = next((i for i in instances if i.name.casefold() == wanted), None)
    if match is None:
        return None
    if kind is ssrp.RequestKind.UCAST_DAC:
        return None if match.dac_port is None else ssrp.build_dac_response(match.dac_port)
    if match.hidden:
        return None
    return ssrp.build_response([_advertised(server_name, match)])


class BrowserProtocol(asyncio.DatagramProtocol):
    def __init__(self, server_name: str, instances: Sequence[LabInstance], silent: bool) -> None:
        self.server_name = server_name
        self.instances = tuple(instances)
        self.silent = silent
        self.transport: asyncio.DatagramTransport | None = None
        self.requests = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.requests += 1
        if self.silent or self.transport is None:
            return
        reply = answer(data[:1100], self.server_name, self.instances)
        if reply is not None:
            with contextlib.suppress(OSError):
                self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # a client that went away: nothing to do
