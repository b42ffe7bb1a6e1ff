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
        results = []
        for app_id in app_ids:
            if app_id in refused:
                err = refused[app_id]
                results.append(BulkResult(app_id, False, err.message, err.exit_code, kind=result_kind(err)))
                continue
            app = ready[app_id]
            monthly = price(app.package)
            stops = action == HALT
            planned = Planned(
                f"status {status_before(action)} → {target_status(action)}",
                monthly if stops else ZERO,
                ZERO if stops else monthly,
                app.version,
            )
            results.append(BulkResult(app_id, True, None, 0, planned=planned))
        return DryRun(results)

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
        applied: dict[int, AppView] = {}
        confirmed: list[tuple[int, datetime | None]] = []
        arrived, finished = asyncio.Event(), asyncio.Event()
        calls_done = False
        gate = asyncio.Semaphore(ctx.bulk_concurrency)
        plane = ctx.control_plane.deactivate if action == HALT else ctx.control_plane.activate
        unsettled: dict[str, str] = {}
        answered = 0

        async def call(app_id: int) -> None:
            nonlocal answered
            key = intents[app_id].key
            async with gate:
                try:
                    at = await plane(app_id, key)
                except ControlPlaneUnreachable as exc:
                    outcome = await self.intents.ask(key)
                    if outcome is not None and outcome.state == PLATFORM_DONE:
                        at = outcome.at
                    else:
                        settled = outcome is not None
                        refused[app_id] = (
                            NotDone(f"{NOT_DONE} ({exc})") if settled else NotKnownYet(f"{exc}; {PENDING_NOTE}")
                        )
                        if settled:
                            unsettled[key] = ABANDONED
                        at = _NOT_CONFIRMED
                except ControlPlaneSilent as exc:  # no request reached the platform
                    refused[app_id] = NotDone(f"{NOT_DONE} ({exc})")
                    unsettled[key] = ABANDONED
                    at = _NOT_CONFIRMED
                except ControlPlaneError as exc:
                    refused[app_id] = Unavailable(f"{exc}; the app was left as it was")
                    unsettled[key] = FAILED
                    at = _NOT_CONFIRMED
                if at is not _NOT_CONFIRMED:
                    crashpoint(AFTER_CONFIRM)
                    confirmed.append((app_id, at))
                    arrived.set()
            answered += 1
            if progress is not None:
                progress(answered, len(ready))

        async def record() -> None:
            while True:
                if not confirmed:
                    if calls_done:
                        return
                    await arrived.wait()
                    arrived.clear()
                    continue
                if len(confirmed) < RECORD_GROUP and not calls_done:  # a moment for more to arrive:
                    try:  # one transaction for many (each costs its plans' recount)
                        await asyncio.wait_for(finished.wait(), GATHER_SECONDS)
                    except TimeoutError:
                        pass
                group = confirmed[:RECORD_GROUP]
                del confirmed[: len(group)]
                done, late = await ctx.run(partial(self._record, action, group, intents, ready, reason, now))
                applied.update(done)
                refused.update(late)
                if late:
                    await self._undo(action, list(late), gate)
                    unsettled.update((intents[a].key, FAILED) for a in late)

        writer = asyncio.create_task(record())
        try:
            try:
                async with self.intents.held():
                    await asyncio.gather(*(call(a) for a in ready))
            finally:
                calls_done = True
                arrived.set()
                finished.set()
                await writer
            entries = [ctx.refusal(action, a, err, now) for a, err in refused.items()]
            await ctx.run(lambda: self.intents.close_unconfirmed(unsettled, entries, now))
        finally:
            self.intents.release(list(intents.values()))
        results = []
        for app_id in app_ids:
            if app_id in refused:
                err = refused[app_id]
                results.append(BulkResult(app_id, False, err.message, err.exit_code, kind=result_kind(err)))
            else:
                results.append(BulkResult(app_id, True, None, 0, applied.get(app_id)))
        return results

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
