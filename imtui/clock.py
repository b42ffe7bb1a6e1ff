"""The one source of "now" for the whole program.

Every instant is a timezone-aware `datetime` in UTC. `SystemClock` reads the machine's clock;
`OffsetClock` starts at a given instant (the `--now` option) and runs on from there;
`FixedClock` stands still until moved (tests); `ServerClock` is the database server's clock,
used on a shared PostgreSQL database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Protocol

UTC = timezone.utc


class Clock(Protocol):
    """The one source of "now": the machine's clock, one moved by an offset or fixed (`--now`), or
    the database server's (team mode)."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """Starts at `start` and runs on at the speed of the machine's clock."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("the clock's start must carry a time zone")
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()

    @property
    def start(self) -> datetime:
        """The instant the clock was started at (`--now`)."""
        return self._start

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


class FixedClock:
    """Stands still at an instant until `set` or `advance` moves it (tests and drills)."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("the clock's start must carry a time zone")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


class ServerClock:
    """The database server's clock (team mode): every imtui on a shared database gets "now" from
    one source. `read` returns the server's current instant; it is called once, at start, and the
    clock then runs on with the machine's monotonic clock, so `now()` is cheap, needs no round
    trip and never goes backwards."""

    def __init__(self, read: Callable[[], datetime]):
        before = time.monotonic()
        server = read()
        after = time.monotonic()
        if server.tzinfo is None:
            raise ValueError("the server's clock must carry a time zone")
        self._start = server.astimezone(UTC)
        self._origin = (before + after) / 2  # the server answered about halfway through the call

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)
