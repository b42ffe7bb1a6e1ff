"""Intents (`domain.intents`): written before the control plane is asked, settled with the change
they lead to, and recovered by whichever imtui process finds one its owner left behind.

Recovery asks the control plane what became of the intent's key. `done`: the app is changed as
the platform has it, at the platform's instant (never before what the database already holds)
and the intent completed, in one transaction. `cancelled`: the key is fenced there, no request
with it can act any more, and the intent is abandoned. Either way the finding is audited. When
the control plane does not answer, the intent stays pending and the next look tries again.

Recovery asks only the platform the database belongs to (`services.binding`): through any other
(or the simulator inside the process, when the database belongs to a platform across the
network) it asks nothing and leaves every intent pending ("not known yet") until a run through
its own platform settles it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial

from imtui.clock import SystemClock
from imtui.domain.apps import App
from imtui.domain.audit import DONE, REFUSED, AuditEntry
from imtui.domain.errors import ImtuiError, Refused
from imtui.domain.intents import (
    ABANDONED,
    LEASE,
    PENDING,
    Intent,
    effective_instant,
    is_orphaned,
    owner_pid,
)
from imtui.domain.intents import (
    DONE as INTENT_DONE,
)
from imtui.domain.lifecycle import after, status_before
from imtui.services.binding import PlatformBinding
from imtui.services.context import ServiceContext
from imtui.services.control_plane import DONE as PLATFORM_DONE
from imtui.services.control_plane import ControlPlaneError, Outcome
from imtui.services.transitions import apply_confirmed

RECOVER = "recover"
"""The audit trail's action for what recovery found."""
RECOVER_CONCURRENCY = 8


def new_key() -> str:
    """A unique 128-bit key in hex, ordered by time like a UUIDv7: the milliseconds of the wall
    clock, then 80 random bits. Keys made later sort later, so a bulk's thousand intents go
    to the end of the key index instead of into a thousand of its pages (which random keys
    reach once the table holds many)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def wall_now() -> datetime:
    """The real time, for leases only (the clock of operations may be a drill's `--now`)."""
    return SystemClock().now()


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is gone all the same
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


class IntentKeeper:
    """Writes this process's intents, holds them while it works, and recovers those a process left behind."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.host = socket.gethostname()
        self.in_flight: set[str] = set()
        """Keys this process is calling the control plane with right now (never recovered here)."""
        self.binding = PlatformBinding(ctx)
        self.waiting: str | None = None
        """Why the last recovery left intents unsettled because the database belongs to another
        platform (a note for the command line), else None."""

    @property
    def owner(self) -> str:
        return f"{self.host}:{os.getpid()}"

    async def open(self, action: str, app_ids: list[int], reason: str | None, now: datetime) -> dict[int, Intent]:
        """Writes one pending intent per app, durably, before any call."""
        lease, actor, owner = wall_now() + LEASE, self.ctx.actor, self.owner
        intents = {a: Intent(new_key(), a, action, actor, now, reason, PENDING, owner, lease) for a in app_ids}
        if intents:

            def write() -> None:
                with self.ctx.uow(write=True) as uow:
                    uow.intents.add_many(list(intents.values()))
                    uow.commit()

            keys = {i.key for i in intents.values()}
            self.in_flight.update(keys)  # before they exist, so this process never recovers them
            try:
                await self.ctx.run(write)
            except BaseException:
                self.in_flight -= keys
                raise
        return intents

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """While the calls run: the owner's leases are renewed, so no other host takes them over."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(LEASE.total_seconds() / 3)
                try:
                    await self.ctx.run(partial(self._renew, self.owner, wall_now() + LEASE))
                except Exception:  # noqa: BLE001  (a busy database: the lease is renewed next time)
                    pass

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()

    def _renew(self, owner: str, until: datetime) -> None:
        with self.ctx.uow(write=True) as uow:
            uow.intents.renew(owner, until)
            uow.commit()

    async def require_bound_platform(self, bind: bool = False) -> str | None:
        """The platform binding check (cli.md): refuses (exit 3, naming the database's platform)
        when this run's control plane is another; exit 1 when it does not say who it is. With
        `bind` (an act), an unbound database is bound to it, audited; without (a read, a dry
        run), nothing is written. Returns the identity checked, None when nothing was asked."""
        return await self.binding.require(bind)

    async def vet(self, ready: dict[int, App], refused: dict[int, ImtuiError], bind: bool = True) -> None:
        """Before a bulk's calls: unless this run's control plane is the database's platform, every
        app `ready` for it is moved to `refused` with why (nothing is asked to act)."""
        if not ready:
            return
        try:
            await self.require_bound_platform(bind)
        except ImtuiError as exc:
            refused.update(dict.fromkeys(ready, exc))
            ready.clear()

    async def ask(self, key: str) -> Outcome | None:
        """What became of a call whose answer was lost; None when the control plane does not say."""
        try:
            return await self.ctx.control_plane.resolve(key)
        except ControlPlaneError:
            return None

    def close_unconfirmed(self, states: dict[str, str], refusals: list[AuditEntry], now: datetime) -> None:
        """Settles the intents the control plane refused or never acted on (`states` by key), with
        the refusals' audit records, in one transaction."""
        if states or refusals:
            with self.ctx.uow(write=True) as uow:
                for state in set(states.values()):
                    uow.intents.settle([k for k, s in states.items() if s == state], state, now)
                uow.audit.add_many(refusals)
                uow.meta.bump_counter()
                uow.commit()

    def release(self, intents: list[Intent]) -> None:
        """The intents leave this process's hands: if still pending, recovery may take them."""
        self.in_flight -= {i.key for i in intents}

    # --- recovery ---------------------------------------------------------------------------------

    async def recover(self) -> int:
        """Settles every intent whose owner is gone; returns how many were settled. Only the
        database's own platform is asked (binding an unbound database to this run's): through
        another, the intents stay pending and `waiting` says why."""
        ctx = self.ctx
        self.waiting = None
        if ctx.read_only:
            return 0
        orphans = await ctx.run(self._orphans)
        if not orphans:
            return 0
        try:
            await self.require_bound_platform(bind=True)
        except Refused as exc:
            n = len(orphans)
            self.waiting = (
                f"note: {n} halt{'s or reactivations' if n > 1 else ' or reactivation'} left by a run "
                f"that ended early {'are' if n > 1 else 'is'} not known yet and stay pending: {exc.message}"
            )
            return 0
        except ImtuiError:  # the platform does not answer now: the next look tries again
            return 0
        claimed = await ctx.run(lambda: self._claim(orphans))
        if not claimed:
            return 0
        gate = asyncio.Semaphore(RECOVER_CONCURRENCY)

        async def look(intent: Intent) -> tuple[Intent, Outcome | None]:
            async with gate:
                return intent, await self.ask(intent.key)

        found = [(i, o) for i, o in await asyncio.gather(*(look(i) for i in claimed)) if o is not None]
        if found:
            await ctx.run(lambda: self._settle(found))
        return len(found)

    def _orphans(self) -> list[Intent]:
        """The pending intents whose owner is gone (read only)."""
        ctx = self.ctx
        with ctx.uow() as uow:
            if not uow.intents.pending_count():
                return []
            pending = uow.intents.pending()
        wall = wall_now()
        return [
            i
            for i in pending
            if i.key not in self.in_flight
            and (i.owner == self.owner or is_orphaned(i, self.host, pid_alive(owner_pid(i.owner)), wall))
        ]

    def _claim(self, orphans: list[Intent]) -> list[Intent]:
        """Takes the orphans over (those no other process claimed meanwhile)."""
        if not orphans:
            return []
        with self.ctx.uow(write=True) as uow:
            claimed = uow.intents.claim(orphans, self.owner, wall_now() + LEASE)
            uow.commit()
        return claimed

    def _settle(self, found: list[tuple[Intent, Outcome]]) -> None:
        """Completes or abandons the recovered intents as the control plane answered, all in
        one transaction, each finding audited."""
        ctx = self.ctx
        with ctx.uow(write=True) as uow:
            now = ctx.now()
            latest = uow.meta.latest
            apps = uow.apps.many([i.app_id for i, _ in found])
            notes: list[AuditEntry] = []
            changes: dict[tuple[str, str], list[tuple[App, datetime]]] = {}
            keys: dict[int, str] = {}
            settled: dict[str, list[str]] = {}

            def note(intent: Intent, result: str, what: str) -> None:
                notes.append(
                    AuditEntry(
                        now,
                        ctx.actor,
                        RECOVER,
                        intent.app_id,
                        result,
                        f"{intent.action} requested by {intent.actor} {what}",
                    )
                )

            for intent, outcome in found:
                app = apps.get(intent.app_id)
                if outcome.state != PLATFORM_DONE:
                    settled.setdefault(ABANDONED, []).append(intent.key)
                    note(intent, REFUSED, "was never carried out by the control plane; abandoned, nothing changed")
                elif app is not None and app.status == status_before(intent.action) and intent.app_id not in keys:
                    at = effective_instant(intent.requested_at, outcome.at, now, latest)
                    changed = after(intent.action, app, at, intent.reason, intent.actor)
                    changes.setdefault((intent.action, intent.actor), []).append((changed, at))
                    keys[intent.app_id] = intent.key
                    note(intent, DONE, "had been carried out by the control plane; recorded now")
                else:
                    settled.setdefault(INTENT_DONE, []).append(intent.key)
                    note(
                        intent,
                        DONE,
                        "had been carried out by the control plane; the app had changed since, "
                        "left as it is (see reconcile)",
                    )
            for (action, actor), group in changes.items():
                apply_confirmed(uow, ctx, action, group, keys, actor)
            for state, done in settled.items():
                uow.intents.settle(done, state, now)
            uow.audit.add_many(notes)
            uow.meta.bump_counter()
            uow.commit()
