"""The reads signals need beyond what other repositories offer (signals.md §2): apps coming up for
purge, the names sentences use, and when an app's status was last set (the driver's tuples: no
object per app). The fleet's recent days of usage are `UsageRepo.recent_days`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from imtui.domain.lifecycle import DEACTIVATED
from imtui.persistence.repos import Repo
from imtui.persistence.tables import Account, App, Event
from imtui.persistence.types import aware

_APPS = App.__table__
_ACCOUNTS = Account.__table__
_EVENTS = Event.__table__


class Purging(NamedTuple):
    """A deactivated app with its purge instant (for `purge_soon`)."""

    app_id: int
    name: str
    account: str
    deactivated_at: datetime
    purge_at: datetime


class SignalRepo(Repo):
    """The fleet-wide reads signals are worked out from: purges ahead, names, status changes."""

    def purging_by(self, instant: datetime) -> list[Purging]:
        """Deactivated apps whose purge instant is at or before `instant`, soonest first."""
        a = _APPS.c
        rows = self.driver_rows(
            select(a.app_id, a.name, _ACCOUNTS.c.name, a.deactivated_at, a.purge_at)
            .join(_ACCOUNTS, _ACCOUNTS.c.id == a.account_id)
            .where(a.status == DEACTIVATED, a.purge_at <= instant)
            .order_by(a.purge_at, a.app_id)
        )
        return [Purging(a, n, c, aware(d), aware(p)) for a, n, c, d, p in rows]

    def refs(self, app_ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
        """(name, account, status) of the given apps."""
        a = _APPS.c
        stmt = select(a.app_id, a.name, _ACCOUNTS.c.name, a.status).join(_ACCOUNTS, _ACCOUNTS.c.id == a.account_id)
        rows = self.driver_rows_in(stmt, a.app_id, sorted(set(app_ids)))
        return {a: (n, c, s) for a, n, c, s in rows}

    def status_set_at(self, app_ids: Iterable[int]) -> dict[int, datetime]:
        """The instant each app's current status was set: its last event whose status differs
        from the event before it (its creation if the status never changed)."""
        e = _EVENTS.c
        rows = self.driver_rows_in(select(e.app_id, e.at, e.status, e.id), e.app_id, sorted(set(app_ids)))
        rows.sort(key=lambda r: (r[0], aware(r[1]), r[3]))
        out: dict[int, datetime] = {}
        last: dict[int, str] = {}
        for app_id, at, status, _ in rows:
            if last.get(app_id) != status:
                out[app_id] = aware(at)
                last[app_id] = status
        return out
