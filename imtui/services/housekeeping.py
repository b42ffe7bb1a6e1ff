"""What happens by itself when the clock passes an instant: purges and month closes.

Whatever process looks first carries them out, exactly once, each taking effect at its own
instant (the purge instant; 00:00 on the 1st) however late it runs.
"""

from __future__ import annotations

from datetime import datetime

from imtui.domain.calendar import Month
from imtui.domain.errors import Conflict
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext

ATTEMPTS = 3
"""How often a catch-up is tried again when another process did the same work at the same time."""


class Housekeeping:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    async def catch_up(self) -> None:
        """Carries out the purges and month closes that are due; cheap when nothing is."""
        await self.ctx.run(self.catch_up_now)

    def catch_up_now(self) -> None:
        ctx = self.ctx
        now = ctx.now()
        with ctx.uow() as uow:
            if not self._due(uow, now):
                return
        for _ in range(ATTEMPTS):
            try:
                with ctx.uow(write=True) as uow:
                    self.run_due(uow, now)
                    uow.commit()
                return
            except Conflict:
                continue  # another process closed or purged at the same moment; look again
        raise Conflict("another imtui process is closing the month; try again")

    def _due(self, uow: UnitOfWork, now: datetime) -> bool:
        first = self._first_open_month(uow)
        if first is not None and first < self.ctx.period(now).month:
            return True
        purge = uow.apps.earliest_purge()
        return purge is not None and purge <= now

    def _first_open_month(self, uow: UnitOfWork) -> Month | None:
        last = uow.bills.last_closed()
        if last is not None:
            return last.next()
        created = uow.meta.created_at
        return Month.of(created, self.ctx.tz) if created else None

    def run_due(self, uow: UnitOfWork, now: datetime) -> None:
        """Inside a writing transaction: purges and closes in the order they took effect."""
        from imtui.services.billing import close_month
        from imtui.services.lifecycle import purge_due

        ctx = self.ctx
        current = ctx.period(now).month
        month = self._first_open_month(uow)
        purges = uow.apps.due_purges(now)
        changed = bool(purges)
        while month is not None and month < current:
            end = month.end(ctx.tz)
            due = [app for app in purges if app.purge_at < end]
            purges = purges[len(due) :]
            purge_due(uow, due, now, ctx.actor, ctx.tz)
            changed |= close_month(uow, ctx, month, now)
            month = month.next()
        purge_due(uow, purges, now, ctx.actor, ctx.tz)
        if changed:
            uow.meta.bump_counter()
