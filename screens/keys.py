"""Keys in order, each one after the last has done its work; keys typed ahead kept for the
dialog they were meant for.

Textual hands a key to whichever widget has the focus when the key arrives. Keys come in
bursts (over SSH, from a fast typist), so a second Enter reached a question the first Enter had
already answered (Textual then popped the screen below it: a blank screen, or a crash on the
start screen), and `sa`, Tab, a password all reached the user field, because a Tab moves the
focus only once the field has handled it. The gate delivers one key, waits until the app and
every widget on the screen have handled what that key set off (a focus move, a screen pushed
or popped), and only then delivers the next. A screen still being mounted gets its keys once
it is mounted and focused, never the screen below it.

Between two dialogs the diagnosis runs probes; keys typed right after a dialog closed are held
for the next dialog (a `TypeAheadHolder` says when one may still come) and dropped if none
comes. The key that closed a screen, pressed again before the next screen showed (or within
DOUBLE_PRESS) is a double press, not an answer to a screen the person had not seen: it is
dropped (Escape excepted).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from textual import events
from textual.app import App
from textual.message_pump import MessagePump
from textual.screen import Screen

DOUBLE_PRESS: Final = 0.3  # seconds: the same key again this soon after it closed a screen
TYPE_AHEAD: Final = 1.0  # seconds after a holder shows: keys typed then wait for a dialog
SETTLE_LIMIT: Final = 0.5  # seconds: a key never waits longer for the last one's effects
POLL: Final = 0.01  # seconds between looks at a screen that is not ready yet
URGENT: Final = frozenset({"ctrl+q", "ctrl+c"})  # quitting never waits behind other keys


@runtime_checkable
class TypeAheadHolder(Protocol):
    """A screen that works between dialogs: keys typed as it shows may be for the next one."""

    shown_at: float  # time.monotonic() when it last became the current screen (WizardScreen)

    def expects_dialog(self) -> bool:
        """True while a dialog may still open over it."""
        ...


def accepts_type_ahead(screen: Screen[Any]) -> bool:
    """Dialogs and the start screen take keys typed before they showed; the verdict, whose
    letters are actions, does not (`TYPE_AHEAD = False` on the screen class)."""
    return bool(getattr(screen, "TYPE_AHEAD", True))


@dataclass(frozen=True)
class Pending:
    event: events.Key | events.Paste
    arrived: float

    @property
    def key(self) -> str:
        return self.event.key if isinstance(self.event, events.Key) else ""


async def _round(pumps: list[MessagePump], limit: float) -> bool:
    """Each pump handles what was queued before this call; False when `limit` ran out."""
    waiting = 0
    done = asyncio.Event()

    def handled() -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            done.set()

    for pump in pumps:
        if pump.call_later(handled):
            waiting += 1
    if not waiting:
        return True
    try:
        await asyncio.wait_for(done.wait(), limit)
    except TimeoutError:
        return False
    return True


def _pumps(app: App[Any]) -> list[MessagePump]:
    return [app, *app.screen.walk_children(with_self=True)]


async def settle(app: App[Any], limit: float = SETTLE_LIMIT) -> None:
    """Wait until the app and the current screen's widgets have handled every message queued
    so far, and what those messages queued in turn (within `limit`). Reads Textual's message
    queues (textual is pinned in pyproject.toml)."""
    deadline = time.monotonic() + limit
    while await _round(_pumps(app), max(deadline - time.monotonic(), 0.001)):
        if time.monotonic() >= deadline:
            return
        if all(pump._message_queue.empty() for pump in _pumps(app)):
            return


class KeyGate:
    """Takes the app's keys (and pastes) as they arrive and delivers them one at a time."""

    def __init__(
        self, app: App[Any], deliver: Callable[[events.Key | events.Paste], Awaitable[None]]
    ) -> None:
        self.app = app
        self.deliver = deliver
        self.pending: deque[Pending] = deque()
        self.task: asyncio.Task[None] | None = None
        self.held = False  # the keys pending were typed ahead for a dialog not open yet
        self.closer: tuple[str, float] | None = None  # the key that last closed a screen
        self.seen: Screen[Any] | None = None  # the screen last found ready

    def put(self, event: events.Key | events.Paste) -> None:
        if isinstance(event, events.Key) and event.key == "escape" and self.held:
            self.pending.clear()  # escape abandons keys typed ahead for a dialog not open yet
            self.held = False
        self.pending.append(Pending(event, time.monotonic()))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.pump(), name="sqlreach key gate")

    def stop(self) -> None:
        self.pending.clear()
        if self.task is not None:
            self.task.cancel()

    async def pump(self) -> None:
        try:
            while self.pending:
                screen = await self.ready()
                if screen is None:
                    continue
                item = self.pending.popleft()
                if self.double(item, screen):
                    continue
                await self.deliver(item.event)
                await settle(self.app)
                closed = self.app.screen is not screen
                self.closer = (item.key, item.arrived) if closed and item.key else None
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug in a handler: the app's crash path, never a lost key
            self.app.call_later(self.app._handle_exception, error)

    async def ready(self) -> Screen[Any] | None:
        """The screen the first pending key goes to, once it is mounted and settled; None when
        the keys typed ahead were dropped (the dialog they were for never came)."""
        while self.pending:
            screen = self.app.screen
            if not screen.is_mounted:
                await asyncio.sleep(POLL)
                continue
            if screen is not self.seen:
                await settle(self.app)  # focus() in on_mount lands through the app's queue
                self.seen = screen
                continue
            first = self.pending[0]
            if isinstance(screen, TypeAheadHolder) and self.holds(screen, first):
                self.held = True
                await asyncio.sleep(POLL)
                continue
            if self.held and not accepts_type_ahead(screen):
                self.pending.clear()
                self.held = False
                return None
            if not accepts_type_ahead(screen) and self.typed_before(screen):
                continue  # typed before it showed (the walk outran the keys): not for it
            self.held = False
            return screen
        return None

    def typed_before(self, screen: Screen[Any]) -> bool:
        """Drop the keys typed before `screen` first showed, but quitting: a screen whose
        letters are actions (the verdict) takes none typed ahead, even when the walk was too
        quick for them to be held. (Keys typed while a dialog over it was open, once it had
        shown, are for it: Escape, then N, closes the dialog and starts a new target.)"""
        shown = getattr(screen, "first_shown_at", None)
        dropped = False
        while self.pending and shown is not None and self.pending[0].arrived < shown:
            if self.pending[0].key in URGENT:
                break
            self.pending.popleft()
            dropped = True
        return dropped

    def holds(self, screen: TypeAheadHolder, first: Pending) -> bool:
        if first.key in ("escape", *URGENT) or not screen.expects_dialog():
            return False
        return self.held or first.arrived < screen.shown_at + TYPE_AHEAD

    def double(self, item: Pending, screen: Screen[Any]) -> bool:
        """The key that closed the last screen, again, typed before this screen showed or
        within DOUBLE_PRESS of the first. The window never moves on with a dropped key: Enter
        pressed again a moment later, however fast the presses came, answers. Escape is never
        a double press: twice means back twice (or back, then cancel)."""
        if self.closer is None or item.key in ("", "escape") or item.key != self.closer[0]:
            return False
        unseen = item.arrived < getattr(screen, "shown_at", 0.0)
        return unseen or item.arrived - self.closer[1] < DOUBLE_PRESS
