"""Halt, reactivate and purge: the one service that carries out an app's status changes.

The rules are `domain.lifecycle`'s. Halt and reactivate go through the control plane first and
only what it confirmed is written; each app is changed fully (with its event and audit record)
or not at all. Confirmations are written in small groups as they arrive, so a bulk operation
shows its progress in the database and an interruption loses at most the calls in flight.
Purges need no operator: `purge_due` carries them out whenever any process looks first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial

from imtui.domain.apps import App
from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.calendar import iso_local
from imtui.domain.errors import Conflict, ImtuiError, NotFound, Unavailable
from imtui.domain.lifecycle import (
    HALT,
    PURGE,
    PURGED,
    REACTIVATE,
    after,
    check_can,
    check_reason,
    describe,
    purged,
    status_before,
    target_status,
)
from imtui.domain.timeline import check_not_before
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext
from imtui.services.control_plane import ControlPlaneError
from imtui.services.costing import record_plans
from imtui.services.housekeeping import Housekeeping
from imtui.services.models import AppView, BulkResult

RECORD_GROUP = 500
"""Most confirmed apps written in one transaction."""

Progress = Callable[[int, int], None]


class LifecycleService:
    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    async def halt(self, app_ids: list[int], reason: str, progress: Progress | None = None) -> list[BulkResult]:
        """Deactivates apps now; each app is halted fully (with its audit record) or not at all."""
        self.ctx.require_writable()
        reason = check_reason(reason)
        return await self._bulk(HALT, app_ids, reason, progress)

    async def reactivate(self, app_ids: list[int], progress: Progress | None = None) -> list[BulkResult]:
        """Brings deactivated apps back with the package they had (within 90 days)."""
        self.ctx.require_writable()
        return await self._bulk(REACTIVATE, app_ids, None, progress)

    async def _bulk(
        self, action: str, app_ids: list[int], reason: str | None, progress: Progress | None
    ) -> list[BulkResult]:
        ctx = self.ctx
        await self.housekeeping.catch_up()
        now = ctx.now()
        ids = list(dict.fromkeys(app_ids))
        refused, ready = await ctx.run(lambda: self._check(action, ids, now))
        applied: dict[int, AppView] = {}
        confirmed: list[int] = []
        arrived = asyncio.Event()
        calls_done = False
        gate = asyncio.Semaphore(ctx.bulk_concurrency)
        plane = ctx.control_plane.deactivate if action == HALT else ctx.control_plane.activate
        answered = 0

        async def call(app_id: int) -> None:
            nonlocal answered
            async with gate:
                try:
                    await plane(app_id)
                    confirmed.append(app_id)
                    arrived.set()
                except ControlPlaneError as exc:
                    refused[app_id] = Unavailable(f"{exc}; the app was left as it was")
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
                group = confirmed[:RECORD_GROUP]
                del confirmed[: len(group)]
                versions = {a: ready[a] for a in group}
                done, late = await ctx.run(partial(self._record, action, versions, reason, now))
                applied.update(done)
                refused.update(late)
                if late:
                    await self._undo(action, list(late), gate)

        writer = asyncio.create_task(record())
        try:
            await asyncio.gather(*(call(a) for a in ready))
        finally:
            calls_done = True
            arrived.set()
            await writer
        if refused:
            entries = [ctx.refusal(action, a, err, now) for a, err in refused.items()]
            await ctx.run(lambda: ctx.audit_refusals(entries))
        results = []
        for app_id in app_ids:
            if app_id in refused:
                err = refused[app_id]
                results.append(BulkResult(app_id, False, err.message, err.exit_code))
            else:
                results.append(BulkResult(app_id, True, None, 0, applied.get(app_id)))
        return results

    def _check(self, action: str, ids: list[int], now: datetime) -> tuple[dict[int, ImtuiError], dict[int, int]]:
        """Which apps can take the action now: (refusals by app, {app: version} ready)."""
        ctx = self.ctx
        refused: dict[int, ImtuiError] = {}
        ready: dict[int, int] = {}
        with ctx.uow() as uow:
            try:
                ctx.require(uow, action)
            except ImtuiError as exc:
                return {app_id: exc for app_id in ids}, {}
            apps = uow.apps.many(ids)
            latest = uow.meta.latest
        for app_id in ids:
            app = apps.get(app_id)
            try:
                if app is None:
                    raise NotFound(f"no app {app_id}")
                check_not_before(now, latest, ctx.tz)
                check_can(action, app, ctx.tz)
                ready[app_id] = app.version
            except ImtuiError as exc:
                refused[app_id] = exc
        return refused, ready

    def _record(
        self, action: str, versions: dict[int, int], reason: str | None, now: datetime
    ) -> tuple[dict[int, AppView], dict[int, ImtuiError]]:
        """Writes what the control plane confirmed, set-based, in one transaction.

        An app whose version moved since it was checked (someone else changed it meanwhile) is
        left as it is and reported as a conflict; a group whose instant another process has
        already passed is refused, as time only moves forward."""
        ctx = self.ctx
        applied: dict[int, AppView] = {}
        refused: dict[int, ImtuiError] = {}
        with ctx.uow(write=True) as uow:
            try:  # another process may have recorded a later instant while we waited
                check_not_before(now, uow.meta.latest, ctx.tz)
            except ImtuiError as exc:
                return {}, {app_id: exc for app_id in versions}
            apps = uow.apps.many(list(versions))
            changed: list[App] = []
            for app_id, version in versions.items():
                app = apps.get(app_id)
                if app is None or app.version != version or app.status != status_before(action):
                    refused[app_id] = Conflict(
                        f"app {app_id} was changed by someone else at the same moment; nothing was changed"
                    )
                    continue
                changed.append(after(action, app, now, reason, ctx.actor))
            self._write(uow, action, changed, now)
            if changed:
                uow.meta.advance_latest(now)
            uow.meta.bump_counter()
            uow.commit()
        for app in changed:
            applied[app.app_id] = AppView.of(app, {}, ctx.tz)
        return applied, refused

    def _write(self, uow: UnitOfWork, action: str, apps: list[App], at: datetime) -> None:
        """The apps' new status, their events and their audit records: three statements."""
        actor = self.ctx.actor
        uow.apps.save_many(apps)
        uow.history.add_many(apps, action, at, actor)
        record_plans(uow, self.ctx, [a.app_id for a in apps], self.ctx.period(at))
        uow.audit.add_many(
            [AuditEntry(at, actor, action, a.app_id, DONE, describe(action, a, self.ctx.tz)) for a in apps]
        )

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
                    await undo(app_id)
                except ControlPlaneError:
                    pass  # it stays as the control plane has it; reconcile finds it

        await asyncio.gather(*(revert(a) for a in app_ids if statuses.get(a) not in (target_status(action), PURGED)))


def purge_due(uow: UnitOfWork, ctx: ServiceContext, apps: list[App], now: datetime) -> None:
    """Purges deactivated apps whose instant has come, each at its own purge instant however
    late this runs (inside the caller's writing transaction, in the order they fell due)."""
    actor, tz = ctx.actor, ctx.tz
    for app in apps:
        at = app.purge_at
        gone = purged(app, actor)
        uow.apps.save(gone)
        uow.history.add(gone, PURGE, at, actor)
        record_plans(uow, ctx, [app.app_id], ctx.period(at))
        uow.audit.add(
            AuditEntry(
                at,
                actor,
                PURGE,
                app.app_id,
                DONE,
                f"purged 90 days after deactivation (carried out {iso_local(now, tz)}); "
                "its data and service are unrecoverable",
            )
        )
        uow.meta.advance_latest(at)
