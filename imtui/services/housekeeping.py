"""What happens by itself when the clock passes an instant: purges and month closes.

Whatever process looks first carries them out, exactly once, each taking effect at its own
instant (the purge instant; 00:00 on the 1st) however late it runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from imtui.domain.calendar import Month, iso_local
from imtui.domain.errors import Conflict
from imtui.domain.rules import PURGED
from imtui.persistence import repo
from imtui.services.billing import close_month
from imtui.services.context import ServiceContext


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
            if not self._due(uow.session, now):
                return
        for attempt in range(3):
            try:
                with ctx.uow(write=True) as uow:
                    self.run_due(uow.session, now)
                    uow.commit()
                return
            except IntegrityError:
                continue  # another process closed or purged at the same moment; look again
        raise Conflict("another imtui process is closing the month; try again")

    def _due(self, s: Session, now: datetime) -> bool:
        first = self._first_open_month(s)
        if first is not None and first < self.ctx.month(now):
            return True
        purge = repo.earliest_purge(s)
        return purge is not None and purge <= now

    def _first_open_month(self, s: Session) -> Month | None:
        last = repo.last_closed_month(s)
        if last is not None:
            return last.next()
        created = repo.get_instant(s, repo.CREATED_AT)
        return Month.of(created, self.ctx.tz) if created else None

    def run_due(self, s: Session, now: datetime) -> None:
        """Inside a writing transaction: purges and closes in the order they took effect."""
        ctx = self.ctx
        current = ctx.month(now)
        month = self._first_open_month(s)
        purges = repo.due_purges(s, now)
        changed = False
        while month is not None and month < current:
            end = month.end(ctx.tz)
            while purges and purges[0].purge_at < end:
                self._purge(s, purges.pop(0), now)
                changed = True
            changed |= close_month(s, ctx, month, now)
            month = month.next()
        for app in purges:
            self._purge(s, app, now)
            changed = True
        if changed:
            repo.bump_counter(s)

    def _purge(self, s: Session, app, now: datetime) -> None:
        at = app.purge_at
        app.status = PURGED
        app.version += 1
        app.updated_by = self.ctx.actor
        repo.add_event(s, app, "purge", at, self.ctx.actor)
        repo.add_audit(
            s, at, self.ctx.actor, "purge", app.app_id, "done",
            f"purged 90 days after deactivation (carried out {iso_local(now, self.ctx.tz)}); "
            "its data and service are unrecoverable",
        )
        repo.advance_latest(s, at)
