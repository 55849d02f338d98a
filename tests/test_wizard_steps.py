"""After the verdict the path stays walkable: every step with what it found and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Collapsible, ListView

from screens.steps import StepsScreen
from screens.verdict import VerdictScreen
from tests.lab_fixtures import running
from tests.wizard_helpers import on, shown, to_verdict, wait_for
from tui.app import make_app


@pytest.mark.slow
async def test_the_steps_walked_can_be_read_back_after_the_verdict(tmp_path: Path) -> None:
    with running("service-stopped") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            verdict = await to_verdict(pilot, app)
            walked = verdict.diagnosis.steps
            await pilot.press("s")
            await wait_for(pilot, on(app, StepsScreen))
            screen = app.screen
            assert len(screen.query_one("#steps", ListView)) == len(walked)
            # the step that decided is shown first, with where it led
            assert walked[-1].title in shown(screen, "#step-title")
            assert shown(screen, "#result") == f"FAIL: {walked[-1].summary}"
            assert "verdict: PORT_REFUSED" in shown(screen, "#next")
            # walking back: the refused port, with its evidence
            tcp = next(i for i, r in enumerate(walked) if r.id == "tcp")
            await pilot.press(*["up"] * (len(walked) - 1 - tcp))
            assert "refused the connection" in shown(screen, "#result")
            await pilot.press("e")
            assert not screen.query_one("#evidence-box", Collapsible).collapsed
            assert '"status": "REFUSED"' in shown(screen, "#evidence")
            # and the question the person answered, with the answer
            await pilot.press(*["up"] * tcp)
            assert walked[0].title in shown(screen, "#step-title")
            answered = next(i for i, r in enumerate(walked) if r.answer is not None)
            await pilot.press(*["down"] * answered)
            assert f"Your answer: {walked[answered].answer}" in shown(screen, "#result")
            assert shown(screen, "#why")  # why this matters, for every step
            await pilot.press("escape")
            await wait_for(pilot, on(app, VerdictScreen))
            assert app.screen is verdict


@pytest.mark.slow
async def test_the_palette_opens_the_steps_walked(tmp_path: Path) -> None:
    with running("service-stopped") as lab:
        app = make_app(lab.target, sessions_dir=tmp_path, show_timings=False, timeout=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await to_verdict(pilot, app)
            await pilot.press("ctrl+p")
            await pilot.press(*"steps walked")
            await pilot.press("enter")
            await wait_for(pilot, on(app, StepsScreen))
