"""Drift between imtui and the platform (`domain.drift`): found, and on request repaired.

Repairs go one way only: the platform is made to match imtui, each fix audited (`reconcile`).
The embedded control plane keeps no state of its own, so it cannot drift and there is nothing
to compare; with it `check` says so rather than report an empty list as if it had looked.
Both compare and repair only through the platform the database belongs to (`services.binding`);
`--fix` binds an unbound database, a plain look does not.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from imtui.domain.audit import DONE, REFUSED, AuditEntry
from imtui.domain.drift import START, STOP, Drift, drifted
from imtui.domain.errors import ImtuiError, InvalidInput, Refused, Unavailable
from imtui.services.context import ServiceContext
from imtui.services.control_plane import ControlPlaneError
from imtui.services.intents import IntentKeeper, new_key
from imtui.services.use_case import use_case

RECONCILE = "reconcile"
DONE_WORDS = {STOP: "stopped it again", START: "started it"}
NOTHING_TO_COMPARE = (
    "the embedded control plane keeps no state apart from imtui; "
    "reconcile compares with a platform given by --control-plane URL"
)


class PlatformSilent(Unavailable):
    """The platform did not answer the comparison (the dashboard says since when)."""


@dataclass
class Reconciliation:
    """What comparing imtui with the platform found, and what fixing did."""

    checked: int
    """Apps compared."""
    drift: list[Drift]
    fixed: dict[int, str | None] = field(default_factory=dict)
    """Per drifted app, when fixing: None when fixed, else why not."""


class ReconcileService:
    """Drift between imtui and the platform: found, and repaired on the platform's side."""

    def __init__(self, ctx: ServiceContext, intents: IntentKeeper):
        self.ctx = ctx
        self.intents = intents

    @use_case(catches_up=False, recovers=True)
    async def check(self) -> Reconciliation:
        """Every app's status against the platform's; settles orphaned intents first."""
        ctx = self.ctx
        await self.intents.require_bound_platform(bind=False)
        try:
            stopped = await ctx.control_plane.stopped()
        except ControlPlaneError as exc:
            raise PlatformSilent(str(exc)) from None
        if stopped is None:
            raise InvalidInput(NOTHING_TO_COMPARE)

        def read() -> Reconciliation:
            with ctx.uow() as uow:
                not_active = uow.apps.not_active()
                known = uow.apps.existing(stopped)
                settling = uow.intents.pending_apps()
                return Reconciliation(uow.apps.count(), drifted(not_active, stopped, known, settling))

        return await ctx.run(read)

    @use_case(catches_up=False)
    async def drifted_apps(self) -> set[int] | None:
        """The drifted apps (the dashboard's figure and filter); None when there is no platform
        apart from imtui or it cannot be asked now; `PlatformSilent` when it does not answer.
        Its preconditions are `check`'s."""
        try:
            return {d.app_id for d in (await self.check()).drift}
        except PlatformSilent:
            raise
        except ImtuiError:
            return None

    @use_case(writes=True, catches_up=False)
    async def fix(self) -> Reconciliation:
        """Makes the platform match imtui for every drifted app; each fix is audited (the intents
        left behind are settled first, by `check`)."""
        ctx = self.ctx
        await ctx.audited(RECONCILE, None, lambda _: self._require())
        await self._bound(bind=False)
        found = await self.check()
        await self._bound(bind=True)  # a platform apart from imtui was compared: the database is its
        gate = asyncio.Semaphore(ctx.bulk_concurrency)

        async def repair(d: Drift) -> None:
            call = ctx.control_plane.activate if d.fix == START else ctx.control_plane.deactivate
            async with gate:
                try:
                    await call(d.app_id, new_key())
                    found.fixed[d.app_id] = None
                except ControlPlaneError as exc:
                    found.fixed[d.app_id] = str(exc)

        await asyncio.gather(*(repair(d) for d in found.drift))
        await ctx.run(lambda: self._audit(found))
        return found

    async def _bound(self, bind: bool) -> None:
        """The platform binding check of a repair; a refusal is audited."""
        ctx = self.ctx
        try:
            await self.intents.require_bound_platform(bind)
        except Refused as exc:
            entries = [ctx.refusal(RECONCILE, None, exc, ctx.now())]
            await ctx.run(lambda: ctx.audit_refusals(entries))
            raise

    def _require(self) -> None:
        with self.ctx.uow() as uow:
            self.ctx.require(uow, RECONCILE)

    def _audit(self, found: Reconciliation) -> None:
        ctx = self.ctx
        now = ctx.now()
        entries = []
        for d in found.drift:
            problem = found.fixed.get(d.app_id)
            seen = f"the platform {'served' if d.serving else 'had stopped'} app {d.app_id}, which imtui has {d.status}"
            if problem is None:
                entries.append(AuditEntry(now, ctx.actor, RECONCILE, d.app_id, DONE, f"{seen}; {DONE_WORDS[d.fix]}"))
            else:
                entries.append(AuditEntry(now, ctx.actor, RECONCILE, d.app_id, REFUSED, f"{seen}; {problem}"))
        if entries:
            with ctx.uow(write=True) as uow:
                uow.audit.add_many(entries)
                uow.meta.bump_counter()
                uow.commit()
