"""What happens by itself when the clock passes an instant: purges and the month close's two
steps (domain/month_close.py).

Whatever process looks first carries them out, exactly once, each taking effect at its own
instant (the purge instant; 00:00 on the 1st; 00:00 on the 3rd) however late it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from imtui.domain.calendar import Month
from imtui.domain.errors import Conflict
from imtui.domain.month_close import draft_instant, issue_instant
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext
from imtui.services.month_close import draft_month, issue_month
from imtui.services.transitions import purge_due

ATTEMPTS = 3
"""How often a catch-up is tried again when another process did the same work at the same time."""


class Housekeeping:
    """Carries out what falls due by itself (purges, the month close's two steps) before a use case reads or writes."""

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
        tz = self.ctx.tz
        undrafted = self._first(uow.bills.last_drafted(), uow)
        if undrafted is not None and draft_instant(undrafted, tz) <= now:
            return True
        unissued = self._first(uow.bills.last_closed(), uow)
        if unissued is not None and issue_instant(unissued, tz) <= now:
            return True
        purge = uow.apps.earliest_purge()
        return purge is not None and purge <= now

    def _first(self, last_done: Month | None, uow: UnitOfWork) -> Month | None:
        """The first month a step has not been carried out for (from the database's creation)."""
        if last_done is not None:
            return last_done.next()
        created = uow.meta.created_at
        return Month.of(created, self.ctx.tz) if created else None

    def run_due(self, uow: UnitOfWork, now: datetime) -> None:
        """Inside a writing transaction: purges and month steps, in the order they took effect."""
        ctx = self.ctx
        steps: list[tuple[datetime, int, Callable[[], object]]] = []
        month = self._first(uow.bills.last_closed(), uow)
        drafted_up_to = uow.bills.last_drafted()
        while month is not None and draft_instant(month, ctx.tz) <= now:
            m = month
            if drafted_up_to is None or m > drafted_up_to:
                steps.append((draft_instant(m, ctx.tz), 0, lambda m=m: draft_month(uow, ctx, m, now)))
            if issue_instant(m, ctx.tz) <= now:
                steps.append((issue_instant(m, ctx.tz), 1, lambda m=m: issue_month(uow, ctx, m, now)))
            month = month.next()
        for app in uow.apps.due_purges(now):
            steps.append((app.purge_at, 2, lambda app=app: purge_due(uow, ctx, [app], now)))
        for _, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            step()
        if steps:
            uow.meta.bump_counter()
