"""Snapshots of the main screens at 80x24 and 120x40.

Deterministic: each lab scenario listens on a fixed address in 127.0.99.0/24 (random test
addresses never fall in 127.0.0.0/16; a machine-wide lock keeps two test runs off one address),
timings are hidden, nothing is recorded, and the screens are captured once their content stops
changing. Regenerate after a reviewed change with
`pytest tests/test_wizard_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from screens.credentials import CredentialsScreen
from screens.diagnosis import DiagnosisScreen
from screens.question import QuestionScreen
from screens.start import StartScreen
from tests.lab_fixtures import fixed_address, running
from tests.wizard_helpers import on, to_verdict, wait_for
from tui.app import SqlreachApp, make_app

SIZES = [(80, 24), (120, 40)]
ADDRESSES = {
    "moved-port": "127.0.99.11",
    "healthy-named": "127.0.99.12",
    "udp-blocked": "127.0.99.14",
}


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[str]:
    name: str = request.param
    with fixed_address(ADDRESSES[name]) as address, running(name, address) as lab:
        yield lab.target


def _is_on_server(app: SqlreachApp) -> bool:
    return isinstance(app.screen, QuestionScreen) and app.screen.step.id == "on-server"


def app_for(target: str | None, timeout: float = 1.0) -> SqlreachApp:
    return make_app(target, record=False, show_timings=False, timeout=timeout)


Snap = Callable[..., bool]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_start_screen(snap_compare: Snap, size: tuple[int, int]) -> None:
    app = make_app(
        record=False, suggestions=[("healthy-named: a named instance", r"127.0.99.12\SALES")]
    )

    async def type_target(pilot: Pilot[None]) -> None:
        await wait_for(pilot, on(app, StartScreen))
        pilot.app.screen.query_one(
            "#target", Input
        ).value = r"Server=tcp:db1.corp.example\SALES,1500;Database=Payroll;User ID=app"
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=type_target)


@pytest.mark.parametrize("lab", ["moved-port"], indirect=True)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_question_screen(snap_compare: Snap, lab: str, size: tuple[int, int]) -> None:
    app = app_for(lab)

    async def until_question(pilot: Pilot[None]) -> None:
        await wait_for(pilot, on(app, QuestionScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=until_question)


@pytest.mark.parametrize("lab", ["moved-port"], indirect=True)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_verdict_screen(snap_compare: Snap, lab: str, size: tuple[int, int]) -> None:
    app = app_for(lab)

    async def until_verdict(pilot: Pilot[None]) -> None:
        await to_verdict(pilot, app)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=until_verdict)


@pytest.mark.parametrize("lab", ["healthy-named"], indirect=True)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_credentials_screen(snap_compare: Snap, lab: str, size: tuple[int, int]) -> None:
    app = app_for(lab.split(";")[0])  # no credentials in the string: the screen asks

    async def until_credentials(pilot: Pilot[None]) -> None:
        await wait_for(pilot, on(app, QuestionScreen))
        await pilot.press("down", "enter")  # not on the server
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, QuestionScreen | CredentialsScreen)
                and app.screen.is_attached
                and not _is_on_server(app)
            ),
        )
        if isinstance(app.screen, QuestionScreen):
            await pilot.pause(0.4)  # an Enter at once would be a double press (screens.keys)
            await pilot.press("enter")  # the client family the target implies
        await wait_for(pilot, on(app, CredentialsScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=until_credentials)


# The Browser behind a firewall that drops UDP 1434 waits the whole timeout (a dropped TCP port
# on loopback is called filtered after about 1.1 s, the host's other ports answering).
@pytest.mark.parametrize("lab", ["udp-blocked"], indirect=True)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_step_screen_while_a_probe_waits(
    snap_compare: Snap, lab: str, size: tuple[int, int]
) -> None:
    app = app_for(lab, timeout=60)

    async def until_waiting(pilot: Pilot[None]) -> None:
        await wait_for(pilot, on(app, QuestionScreen))
        await pilot.press("down", "enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, DiagnosisScreen)
                and "asking the Browser" in str(app.screen.query_one("#progress").render())
            ),
        )
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=until_waiting)


async def _to_client_question(pilot: Pilot[None], app: SqlreachApp) -> None:
    await wait_for(pilot, on(app, QuestionScreen))
    await pilot.press("down", "enter")  # not on the server
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, QuestionScreen)
            and app.screen.is_attached
            and app.screen.step.id == "client"
        ),
    )
    await pilot.pause(0.4)  # then an Enter is an answer, not a double press (screens.keys)


@pytest.mark.parametrize("lab", ["healthy-named"], indirect=True)
def test_client_question_at_80x24_scrolled_to_its_last_choice(snap_compare: Snap, lab: str) -> None:
    """Every client reachable at 80x24: End highlights the last one, and the list scrolls to it
    (it once sat below the dialog's edge, highlighted but hidden)."""
    app = app_for(lab.split(";")[0])

    async def to_the_end(pilot: Pilot[None]) -> None:
        await _to_client_question(pilot, app)
        await pilot.press("end")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(80, 24), run_before=to_the_end)


@pytest.mark.parametrize("lab", ["healthy-named"], indirect=True)
def test_login_at_80x24_with_the_user_filled_in(snap_compare: Snap, lab: str) -> None:
    """The whole form shows at 80x24 (the keep-password choices too), and with the user filled
    in the cursor waits in the password field."""
    app = app_for(lab.split(";")[0] + ";User ID=sa")

    async def to_login(pilot: Pilot[None]) -> None:
        await _to_client_question(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, on(app, CredentialsScreen))
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=to_login)


@pytest.mark.parametrize("lab", ["moved-port"], indirect=True)
def test_verdict_at_80x24_after_a_copy(snap_compare: Snap, lab: str) -> None:
    """The copy is confirmed on a line below the fixes, never in a toast over the command."""
    app = app_for(lab)

    async def copy(pilot: Pilot[None]) -> None:
        await to_verdict(pilot, app)
        await pilot.press("down", "down", "down", "c")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=copy)
