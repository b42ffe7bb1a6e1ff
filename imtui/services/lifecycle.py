"""Halt, reactivate and purge: the one service that carries out an app's status changes.

The rules are `domain.lifecycle`'s. Halt and reactivate write their intents first
(`services.intents`), then go through the control plane, and only what it confirmed is written,
each app with its intent's completion, fully or not at all. Confirmations are written in small
groups as they arrive, so a bulk operation shows its progress in the database and a crash loses
at most the calls in flight, whose intents the next process settles.
Purges need no operator: `services.transitions.purge_due` carries them out whenever any process
looks first (`services.housekeeping`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial

from imtui.domain.apps import App
from imtui.domain.errors import Conflict, ImtuiError, NotFound, Unavailable
from imtui.domain.intents import ABANDONED, FAILED, Intent, effective_instant
from imtui.domain.lifecycle import (
    HALT,
    PURGED,
    REACTIVATE,
    after,
    check_can,
    check_reason,
    status_before,
    target_status,
)
from imtui.domain.prices import ZERO
from imtui.domain.timeline import check_not_before
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.control_plane import DONE as PLATFORM_DONE
from imtui.services.control_plane import (
    NOT_DONE,
    ControlPlaneError,
    ControlPlaneSilent,
    ControlPlaneUnreachable,
    NotDone,
    NotKnownYet,
)
from imtui.services.crashpoints import AFTER_CONFIRM, BEFORE_CALL, DURING_WRITE, crashpoint
from imtui.services.housekeeping import Housekeeping
from imtui.services.intents import IntentKeeper, new_key
from imtui.services.models import AppView, BulkResult, DryRun, Planned, result_kind
from imtui.services.transitions import apply_confirmed
from imtui.services.use_case import use_case

RECORD_GROUP = 1000
"""Most confirmed apps written in one transaction."""
GATHER_SECONDS = 0.05
"""How long confirmations may gather before they are written (each transaction has a fixed cost)."""

Progress = Callable[[int, int], None]

PENDING_NOTE = (
    "whether it acted is not known yet; the app is shown as it was until the control plane answers, "
    "and the next imtui run settles it"
)
_NOT_CONFIRMED = object()


def _reason_of_a_halt(action: str, reason: str | None) -> None:
    """A dry run checks a halt's reason as the halt does (before anything is read)."""
    if action == HALT:
        check_reason(reason or "")


class LifecycleService:
    """Halt and reactivate, one app or thousands, through the control plane."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping, intents: IntentKeeper):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.intents = intents

    @use_case(writes=True, recovers=True, check=lambda args: check_reason(args["reason"]))
    async def halt(self, app_ids: list[int], reason: str, progress: Progress | None = None) -> list[BulkResult]:
        """Deactivates apps now; each app is halted fully (with its audit record) or not at all."""
        return await self._bulk(HALT, app_ids, check_reason(reason), progress)  # the reason stripped

    @use_case(writes=True, recovers=True)
    async def reactivate(self, app_ids: list[int], progress: Progress | None = None) -> list[BulkResult]:
        """Brings deactivated apps back with the package they had (within 90 days)."""
        return await self._bulk(REACTIVATE, app_ids, None, progress)

    @use_case(writes=True, check=lambda args: _reason_of_a_halt(args["action"], args["reason"]))
    async def dry_run(self, action: str, app_ids: list[int], reason: str | None = None) -> DryRun:
        """What `halt` (with `reason`) or `reactivate` would do, checked as they check (read-only,
        the reason, permission, each app, the platform the database belongs to), with the monthly
        price that stops or resumes. Nothing is written or audited, intents are neither opened nor
        recovered, and no platform is asked to act (only, when the database is bound, who it is)."""
        ctx = self.ctx
        now = ctx.now()
        ids = list(dict.fromkeys(app_ids))
        refused, ready = await ctx.run(lambda: self._check(action, ids, now))
        await self.intents.vet(ready, refused, bind=False)  # checked, never bound by a dry run
        price = ctx.prices.package_price
        stops = action == HALT

        def planned(app_id: int) -> BulkResult:
            app = ready[app_id]
            monthly = price(app.package)
            change = f"status {status_before(action)} → {target_status(action)}"
            plan = Planned(change, monthly if stops else ZERO, ZERO if stops else monthly, app.version)
            return BulkResult(app_id, True, None, 0, planned=plan)

        return DryRun(_results(app_ids, refused, planned))

    async def _bulk(
        self, action: str, app_ids: list[int], reason: str | None, progress: Progress | None
    ) -> list[BulkResult]:
        """Intents first (one transaction), then the calls; each confirmation is written with its
        intent's completion as it arrives (in small groups), so a crash loses at most the calls
        in flight, and those are settled by whichever process looks next."""
        ctx = self.ctx
        now = ctx.now()
        ids = list(dict.fromkeys(app_ids))
        refused, ready = await ctx.run(lambda: self._check(action, ids, now))
        await self.intents.vet(ready, refused)  # the database's platform, bound at the first act
        intents = await self.intents.open(action, list(ready), reason, now)
        crashpoint(BEFORE_CALL)
        run = _BulkRun(self, action, ready, intents, refused, reason, now, progress)
        try:
            await run.calls_recorded()
            entries = [ctx.refusal(action, a, err, now) for a, err in refused.items()]
            await ctx.run(lambda: self.intents.close_unconfirmed(run.unsettled, entries, now))
        finally:
            self.intents.release(list(intents.values()))
        return _results(app_ids, refused, lambda app_id: BulkResult(app_id, True, None, 0, run.applied.get(app_id)))

    def _check(self, action: str, ids: list[int], now: datetime) -> tuple[dict[int, ImtuiError], dict[int, App]]:
        """Which apps can take the action now: (refusals by app, the apps ready by ID)."""
        ctx = self.ctx
        refused: dict[int, ImtuiError] = {}
        ready: dict[int, App] = {}
        with ctx.uow() as uow:
            try:
                ctx.require(uow, action)
            except ImtuiError as exc:
                return {app_id: exc for app_id in ids}, {}
            apps = uow.apps.many(ids)
            latest = uow.meta.latest
            busy = uow.intents.pending_apps()
        for app_id in ids:
            app = apps.get(app_id)
            try:
                if app is None:
                    raise NotFound(f"no app {app_id}")
                check_not_before(now, latest, ctx.tz)
                check_can(action, app, ctx.tz)
                if app_id in busy:
                    raise Conflict(f"app {app_id} has a halt or reactivation still being settled; try again shortly")
                ready[app_id] = app
            except ImtuiError as exc:
                refused[app_id] = exc
        return refused, ready

    def _record(
        self,
        action: str,
        group: list[tuple[int, datetime | None]],
        intents: dict[int, Intent],
        checked: dict[int, App],
        reason: str | None,
        now: datetime,
    ) -> tuple[dict[int, AppView], dict[int, ImtuiError]]:
        """Writes what the control plane confirmed, with the intents' completion, in one
        transaction; each app takes effect at the instant its confirmation gives (never before
        what the database already holds).

        An app whose version moved since it was checked (someone else changed it meanwhile) is
        left as it is and reported as a conflict; one whose version did not is exactly the app
        checked (every change of an app bumps its version), so it is not read again."""
        ctx = self.ctx
        applied: dict[int, AppView] = {}
        refused: dict[int, ImtuiError] = {}
        with ctx.uow(write=True) as uow, no_cyclic_gc():  # thousands of short-lived rows and values
            latest = uow.meta.latest
            versions = uow.apps.versions([a for a, _ in group])
            clock_now = ctx.now()
            changed: list[tuple[App, datetime]] = []
            for app_id, confirmed_at in group:
                app = checked[app_id]
                if versions.get(app_id) != app.version:
                    refused[app_id] = Conflict(
                        f"app {app_id} was changed by someone else at the same moment; nothing was changed"
                    )
                    continue
                at = effective_instant(now, confirmed_at, clock_now, latest)
                changed.append((after(action, app, at, reason, ctx.actor), at))
            apply_confirmed(uow, ctx, action, changed, {a.app_id: intents[a.app_id].key for a, _ in changed})
            uow.meta.bump_counter()
            crashpoint(DURING_WRITE)
            uow.commit()
        for app, _ in changed:
            applied[app.app_id] = AppView.of(app, {}, ctx.tz)
        return applied, refused

    async def _undo(self, action: str, app_ids: list[int], gate: asyncio.Semaphore) -> None:
        """Puts the control plane back in line with the database for apps whose change it made
        but the database refused (someone else changed them meanwhile). An app the database now
        holds in the state we asked for (another operator halted it too) is left as it is: a
        halt must never end with a running service."""
        ctx = self.ctx

        def read() -> dict[int, str]:
            with ctx.uow() as uow:
                return {a.app_id: a.status for a in uow.apps.many(app_ids).values()}

        statuses = await ctx.run(read)
        undo = ctx.control_plane.activate if action == HALT else ctx.control_plane.deactivate

        async def revert(app_id: int) -> None:
            async with gate:
                try:
                    await undo(app_id, new_key())
                except ControlPlaneError:
                    pass  # it stays as the control plane has it; reconcile finds it

        await asyncio.gather(*(revert(a) for a in app_ids if statuses.get(a) not in (target_status(action), PURGED)))


def _results(
    app_ids: list[int], refused: dict[int, ImtuiError], ready: Callable[[int], BulkResult]
) -> list[BulkResult]:
    """One result per app asked for, in its order: its refusal, or `ready(app_id)`."""
    results = []
    for app_id in app_ids:
        err = refused.get(app_id)
        if err is None:
            results.append(ready(app_id))
        else:
            results.append(BulkResult(app_id, False, err.message, err.exit_code, kind=result_kind(err)))
    return results


class _BulkRun:
    """One bulk halt or reactivation under way (`LifecycleService._bulk`): the calls to the
    control plane, at most `bulk_concurrency` at once, and the writer that records their
    confirmations in groups as they arrive. A refusal goes into `refused`, an intent the
    platform never acted on (or failed) into `unsettled`, a recorded app into `applied`."""

    def __init__(
        self,
        service: LifecycleService,
        action: str,
        ready: dict[int, App],
        intents: dict[int, Intent],
        refused: dict[int, ImtuiError],
        reason: str | None,
        now: datetime,
        progress: Progress | None,
    ) -> None:
        self.service, self.action, self.ready, self.intents = service, action, ready, intents
        self.refused, self.reason, self.now, self.progress = refused, reason, now, progress
        self.applied: dict[int, AppView] = {}
        self.unsettled: dict[str, str] = {}
        self.confirmed: list[tuple[int, datetime | None]] = []
        self.arrived, self.finished = asyncio.Event(), asyncio.Event()
        self.calls_done = False
        self.answered = 0
        self.gate = asyncio.Semaphore(service.ctx.bulk_concurrency)
        plane = service.ctx.control_plane
        self.plane = plane.deactivate if action == HALT else plane.activate

    async def calls_recorded(self) -> None:
        """Makes every call and returns once each confirmation is recorded (or refused)."""
        writer = asyncio.create_task(self.record())
        try:
            async with self.service.intents.held():
                await asyncio.gather(*(self.call(a) for a in self.ready))
        finally:
            self.calls_done = True
            self.arrived.set()
            self.finished.set()
            await writer

    async def call(self, app_id: int) -> None:
        """Asks the platform to act on one app; its confirmation is queued for the writer."""
        async with self.gate:
            at = await self.answer(app_id, self.intents[app_id].key)
            if at is not _NOT_CONFIRMED:
                crashpoint(AFTER_CONFIRM)
                self.confirmed.append((app_id, at))
                self.arrived.set()
        self.answered += 1
        if self.progress is not None:
            self.progress(self.answered, len(self.ready))

    async def answer(self, app_id: int, key: str):
        """The instant the platform confirmed (None: it gave none), or `_NOT_CONFIRMED` with the
        app's refusal and its intent's outcome noted. A platform that could not be reached is
        asked what became of the intent: it may have acted before the connection was lost."""
        try:
            return await self.plane(app_id, key)
        except ControlPlaneUnreachable as exc:
            outcome = await self.service.intents.ask(key)
            if outcome is not None and outcome.state == PLATFORM_DONE:
                return outcome.at
            if outcome is None:
                self.refused[app_id] = NotKnownYet(f"{exc}; {PENDING_NOTE}")
            else:
                self.refused[app_id] = NotDone(f"{NOT_DONE} ({exc})")
                self.unsettled[key] = ABANDONED
        except ControlPlaneSilent as exc:  # no request reached the platform
            self.refused[app_id] = NotDone(f"{NOT_DONE} ({exc})")
            self.unsettled[key] = ABANDONED
        except ControlPlaneError as exc:
            self.refused[app_id] = Unavailable(f"{exc}; the app was left as it was")
            self.unsettled[key] = FAILED
        return _NOT_CONFIRMED

    async def record(self) -> None:
        """Writes the confirmations as they arrive, up to `RECORD_GROUP` a transaction, letting
        them gather `GATHER_SECONDS` first (each transaction costs its plans' recount)."""
        service, ctx = self.service, self.service.ctx
        while True:
            if not self.confirmed:
                if self.calls_done:
                    return
                await self.arrived.wait()
                self.arrived.clear()
                continue
            if len(self.confirmed) < RECORD_GROUP and not self.calls_done:  # a moment for more to arrive
                try:
                    await asyncio.wait_for(self.finished.wait(), GATHER_SECONDS)
                except TimeoutError:
                    pass
            group = self.confirmed[:RECORD_GROUP]
            del self.confirmed[: len(group)]
            write = partial(service._record, self.action, group, self.intents, self.ready, self.reason, self.now)
            done, late = await ctx.run(write)
            self.applied.update(done)
            self.refused.update(late)
            if late:
                await service._undo(self.action, list(late), self.gate)
                self.unsettled.update((self.intents[a].key, FAILED) for a in late)
