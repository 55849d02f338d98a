"""The dedicated admin connection (admin:host): its port comes from the SQL Server Browser.

`admin:host\\INSTANCE` asks the Browser for the DAC port with CLNT_UCAST_DAC (`0F 01` + the
instance name, answered `05 06 00 01` + the port), as the drivers do; a default instance's DAC
is on TCP 1434 when the Browser gives nothing. The port of the database engine (1433) is never a
DAC: a verdict never sends anyone there, nor moves the engine onto 1434.
"""

from __future__ import annotations

from enum import StrEnum

from tui.engine.context import Context
from tui.engine.model import Observation, Status
from tui.probes.browser import BrowserStatus
from tui.steps.browser import ask
from tui.steps.facts import BrowserAnswer, DacPort, Endpoint
from tui.target import DAC_DEFAULT_PORT


class DacOutcome(StrEnum):
    PORT = "port"  # the Browser gave the DAC port
    DEFAULT_PORT = "default-port"  # a default instance: TCP 1434 without the Browser
    NO_PORT = "no-port"  # a named instance, and no DAC port from the Browser


async def find_dac(context: Context) -> Observation:
    endpoint = context.facts.get(Endpoint)
    instance = context.target.instance or "MSSQLSERVER"
    results = await context.gather(
        *(ask(context, address, "dac") for address in endpoint.addresses)
    )
    evidence = {"answers": [result.evidence() for result in results]}
    answered = next((r for r in results if r.status is BrowserStatus.ANSWERED and r.dac_port), None)
    if answered is not None and answered.dac_port is not None:
        how = f"the SQL Server Browser on {answered.address} gave it (CLNT_UCAST_DAC)"
        moved = endpoint.moved(
            address=answered.address, port=answered.dac_port, port_from_browser=True
        )
        return Observation(
            DacOutcome.PORT,
            Status.PASS,
            answered.summary(),
            evidence,
            facts=(moved, DacPort(answered.dac_port, how)),
            notes=(f"The dedicated admin connection's port {answered.dac_port}: {how}.",),
            host_answered=True,
        )
    said = results[0].summary() if results else "the Browser was not asked"
    if instance.upper() == "MSSQLSERVER":
        how = (
            "the default instance's DAC port: the Browser gave none, and clients try TCP 1434 "
            "first for a default instance"
        )
        moved = endpoint.moved(address=endpoint.addresses[0], port=DAC_DEFAULT_PORT)
        return Observation(
            DacOutcome.DEFAULT_PORT,
            Status.PASS,
            f"{said}; trying TCP {DAC_DEFAULT_PORT}",
            evidence,
            facts=(moved, DacPort(DAC_DEFAULT_PORT, how)),
        )
    return Observation(
        DacOutcome.NO_PORT,
        Status.FAIL,
        said,
        evidence,
        facts=(endpoint.moved(address=endpoint.addresses[0]), BrowserAnswer()),
    )
