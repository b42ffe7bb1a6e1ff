"""Month plans: each app's month as priced runs of days and its figures of every day, written
with the events of that month."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import NamedTuple

from sqlalchemy import select

from imtui.persistence.packed import pack, unpack
from imtui.persistence.repos import Repo
from imtui.persistence.tables import MonthPlanRow

_PLANS = MonthPlanRow.__table__


class StoredPlan(NamedTuple):
    """An app's month plan as stored, with what it covers and how it was priced (to tell when it is stale)."""

    event_id: int
    """The app's newest event the plan covers."""
    priced_with: str
    plan: str
    """`MonthPlan.encode()`."""
    curve: array
    """`MonthPlan.curve()` (stored packed)."""


class PlanRepo(Repo):
    """Each app's month plans, kept so the fleet's live cost is read rather than worked out again."""

    def of_month(self, month: str, app_ids: list[int] | None = None) -> Iterator[tuple[int, int, str, str, array]]:
        """(app_id, *`StoredPlan`) of the month's stored plans, read a batch at a time (the whole
        fleet's are read at start-up); plans alike share one curve."""
        p = _PLANS.c
        stmt = select(p.app_id, p.event_id, p.priced_with, p.plan, p.cents).where(p.month == month)
        rows = self.driver_batches(stmt) if app_ids is None else [self.driver_rows_in(stmt, p.app_id, app_ids)]
        curves: dict[bytes, array] = {}
        for batch in rows:
            for app_id, event_id, priced_with, plan, blob in batch:
                blob = bytes(blob)
                curve = curves.get(blob)
                if curve is None:
                    curve = curves[blob] = unpack(blob)
                yield app_id, event_id, priced_with, plan, curve

    def store(self, month: str, plans: dict[int, StoredPlan]) -> None:
        """Writes plans (replacing the month's plan of each app)."""
        if not plans:
            return
        rows = [
            (app_id, month, event, priced, text, pack(curve)) for app_id, (event, priced, text, curve) in plans.items()
        ]
        self.upsert_rows(
            _PLANS, ("app_id", "month", "event_id", "priced_with", "plan", "cents"), ("app_id", "month"), rows
        )
