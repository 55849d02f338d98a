"""Escape stops a diagnosis wherever it is waiting (a probe or a question); long probes show
that time passes; the app stays usable afterwards."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.message import Message
from textual.worker import Worker, WorkerState

from screens.diagnosis import DiagnosisScreen
from screens.question import QuestionScreen
from screens.start import StartScreen
from tests.lab_fixtures import running
from tests.wizard_helpers import on, shown, to_verdict, wait_for
from tui.app import make_app


@pytest.mark.slow
async def test_escape_on_a_question_cancels_instead_of_answering(tmp_path: Path) -> None:
    with running("service-stopped") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        states: list[WorkerState] = []

        def hook(message: Message) -> None:
            if isinstance(message, Worker.StateChanged) and message.worker.group == "diagnosis":
                states.append(message.state)

        async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
            await wait_for(pilot, on(app, QuestionScreen))
            await pilot.pause(0.05)
            await pilot.press("escape")
            await wait_for(pilot, on(app, DiagnosisScreen))
            screen = app.screen
            assert isinstance(screen, DiagnosisScreen)
            await wait_for(pilot, lambda: "Cancelled" in shown(screen, "#result"))
            await wait_for(pilot, lambda: WorkerState.CANCELLED in states)
            assert WorkerState.SUCCESS not in states
            # the question was not answered with its default: the walk stopped before it
            assert "on-server" not in [record.id for record in screen.records]
            await pilot.press("escape")
            await wait_for(pilot, on(app, StartScreen))
            # usable again: the same target runs to its verdict
            await pilot.press("enter")
            verdict = await to_verdict(pilot, app)
            assert "PORT_REFUSED" in shown(verdict, "#cause")


@pytest.mark.slow
async def test_a_long_probe_counts_its_seconds_and_escape_stops_it(tmp_path: Path) -> None:
    """A Browser behind a firewall that drops UDP 1434 waits the whole timeout. (A dropped TCP
    port no longer does on loopback: the host's other ports answer, and it is called filtered
    after the kernel's first resend, about 1.1 s.)"""
    with running("udp-blocked") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, timeout=30)  # timings shown
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, on(app, QuestionScreen))
            await pilot.pause(0.05)
            await pilot.press("down", "enter")  # on a client
            await wait_for(pilot, lambda: "asking the Browser" in shown(app.screen, "#progress"))
            await wait_for(pilot, lambda: "(escape cancels)" in shown(app.screen, "#progress"), 5)
            waiting = shown(app.screen, "#progress")
            assert any(
                "asking the Browser" in line and " s  (escape cancels)" in line
                for line in waiting.splitlines()
            ), waiting
            started = time.monotonic()
            await pilot.press("escape")
            await wait_for(pilot, lambda: "Cancelled" in shown(app.screen, "#result"), 5)
            assert time.monotonic() - started < 5  # not the 30 s timeout
            progress = shown(app.screen, "#progress")
            assert "cancelled" in progress and "escape cancels" not in progress
            assert "✔ not needed any more" not in progress
