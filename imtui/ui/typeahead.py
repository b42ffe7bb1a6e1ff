"""Keys typed ahead go where they were meant (tui.md, Qualities).

Textual routes a key to whatever has focus at the moment the App takes it from its queue, and
everything a key sets off happens later, as messages of other queues: the focused widget handles
the key and bubbles it up, the App runs the binding it finds, `focus()` and `push_screen` take
effect through further messages and the new screen composes, mounts and focuses its first widget
in its own task. Keys that arrive together (a pasted runbook line, a slow SSH link) are all
routed before any of that happened: `/1400001234⏎h` in one burst sent the digits to the table
(the filter box was not focused yet) and `h` halted the first row.

`KeysInOrder` makes a burst act as the same keys typed one by one: the App hands on one key,
then holds the next until the dashboard has settled, meaning every message that key set off was
handled (a focus moved, a dialog mounted and focused, a filter applied) and every worker it
started that a following key may depend on finished (a form's options loaded, a halt recorded),
and only then routes the next key, to what has focus by then. Background work (costs, drift,
headroom) never holds keys, and no key waits more than `HOLD_SECONDS` for the one before it, so
a slow platform never freezes the keyboard. A paste is the keys it contains, typed.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque

from textual import events
from textual._xterm_parser import XTermParser
from textual.worker import Worker

HOLD_SECONDS = 5.0
"""The longest a key waits for the work of the keys before it; then it goes on regardless."""

BACKGROUND_GROUPS = frozenset(
    {"fleet-costs", "fleet-headroom", "drift", "signal-count", "costs-cursor", "costs-marked", "costs-fleet"}
)
"""Workers that refresh figures by themselves: a following key never waits for them (the signal
count takes a second or more at 100,000 apps; `A` or `/` typed meanwhile go on at once)."""

PASTE_AS_KEYS = 4096
"""A paste up to this many characters is typed key by key; a longer one goes to the focused
widget as a paste (Textual's own handling)."""

ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|O.|.)?", re.DOTALL)
"""Escape sequences inside pasted text: dropped whole (a paste is text, never function keys)."""

MOST_ROUNDS = 200
"""Rounds of "has everything been handled?" before a key goes on regardless."""


def keys_of(text: str) -> list[events.Key]:
    """The keys a pasted text stands for: its characters, tab, and enter for each line end
    (other control characters are dropped: a paste never sends escape sequences)."""
    text = ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\r").replace("\n", "\r"))
    text = "".join(c for c in text if c >= " " or c in "\r\t")
    parser = XTermParser()
    return [e for e in (*parser.feed(text), *parser.feed("")) if isinstance(e, events.Key)]


class KeysInOrder:
    """Mixed into the App (before `textual.app.App`): keys are routed one at a time, each once
    the previous one's effects have settled. Keys are held from the start until the App calls
    `release_keys()` (when its first screen is up)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._typed: deque[events.Key | events.Paste] = deque()
        self._key_in_flight = True  # until release_keys(): the first screen is not up yet
        self._given_up: set[Worker] = set()
        self._settling: asyncio.Task | None = None
        self._starting = True  # until the first screen has settled

    @property
    def keys_waiting(self) -> int:
        """Keys received and not yet routed (0 once the dashboard caught up with the keyboard)."""
        return len(self._typed) + (1 if self._key_in_flight else 0)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._starting and event.key == "ctrl+j":
                # typed before the terminal left line mode, where it turned ⏎ into a line feed
                event = events.Key("enter", "\r")
            self._typed.append(event)
        elif isinstance(event, events.Paste) and not event.is_forwarded:
            if len(event.text) <= PASTE_AS_KEYS:
                self._typed.extend(keys_of(event.text))
            else:
                self._typed.append(event)
        else:
            await super().on_event(event)
            return
        if not self._key_in_flight:
            await self._route_next()

    def release_keys(self) -> None:
        """Starts routing keys (those typed during start-up first) once the screen settled."""
        self._settle_then_route()

    async def _route_next(self) -> None:
        """Routes the oldest waiting key the way Textual does (priority bindings, then the
        focused widget), then waits in the background for its effects before the next one."""
        if not self._typed:
            self._key_in_flight = False
            return
        self._key_in_flight = True
        event = self._typed.popleft()
        try:
            await super().on_event(event)
        finally:
            self._settle_then_route()

    def _settle_then_route(self) -> None:
        async def settle_then_route() -> None:
            try:
                await self._settled()
            finally:
                self._starting = False
                if not self._typed:
                    self._key_in_flight = False  # the next key is routed as it comes
                elif not self.call_later(self._route_next):  # closing: nothing more to route
                    self._typed.clear()

        self._settling = asyncio.create_task(settle_then_route())

    async def _settled(self) -> None:
        """Returns once every message is handled and no worker a key may depend on is running
        (or after `HOLD_SECONDS`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HOLD_SECONDS
        for _ in range(MOST_ROUNDS):
            await self._messages_handled(deadline - loop.time())
            working = self._foreground_workers()
            if working:
                tasks = [w._task for w in working if w._task is not None]
                if tasks:
                    _, pending = await asyncio.wait(tasks, timeout=max(deadline - loop.time(), 0))
                else:
                    pending = ()
                    await asyncio.sleep(0)  # a worker about to start
                if loop.time() >= deadline:
                    self._given_up.update(w for w in working if w._task in pending or w._task is None)
                    return
                continue
            if not self._busy():
                return
            if loop.time() >= deadline:
                return

    def _foreground_workers(self) -> list[Worker]:
        return [
            w
            for w in self.workers
            if not w.is_finished and w.group not in BACKGROUND_GROUPS and w not in self._given_up
        ]

    def _pumps(self) -> list:
        pumps = [self]
        for screen in self.screen_stack:
            pumps.extend(screen.walk_children(with_self=True))
        return pumps

    def _busy(self) -> bool:
        """Whether a message, a callback or a refresh callback is still waiting anywhere."""
        if self.screen_stack and self.screen._callbacks:
            return True
        return any(not pump._message_queue.empty() or pump._next_callbacks for pump in self._pumps())

    async def _messages_handled(self, timeout: float) -> None:
        """Waits until every message pump handled what it had queued when this was called (a
        callback queued behind it on each one; the App's keys held meanwhile are not queued)."""
        left = 0
        done = asyncio.Event()

        def one_handled() -> None:
            nonlocal left
            left -= 1
            if left == 0:
                done.set()

        for pump in self._pumps():
            if pump.call_later(one_handled):
                left += 1
        if left:
            try:
                await asyncio.wait_for(done.wait(), timeout=max(timeout, 0.001))
            except TimeoutError:
                pass
