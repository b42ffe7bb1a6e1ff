"""Month plans: each app's month as priced runs of days and its figures of every day, written
with the events of that month."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

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
    cents: bytes
    """`MonthPlan.curve()` packed as little-endian int32."""


class PlanRepo(Repo):
    """Each app's month plans, kept so the fleet's live cost is read rather than worked out again."""

    def of_month(self, month: str, app_ids: list[int] | None = None) -> Iterator[tuple[int, int, str, str, bytes]]:
        """(app_id, *`StoredPlan`) of the month's stored plans, as the driver's plain tuples, read
        a batch at a time (the whole fleet's are read at start-up)."""
        sql = f"SELECT app_id, event_id, priced_with, plan, cents FROM month_plans WHERE month = {self.mark}"
        if app_ids is None:
            for batch in self.driver_batches(sql, (month,)):
                yield from batch
        else:
            yield from self.driver_rows_in(sql, (month,), "app_id", app_ids)

    def store(self, month: str, plans: dict[int, StoredPlan]) -> None:
        """Writes plans (replacing the month's plan of each app)."""
        if not plans:
            return
        rows = [(app_id, month, *plan) for app_id, plan in plans.items()]
        self.upsert_rows(_PLANS, ("app_id", "month", *StoredPlan._fields), ("app_id", "month"), rows)
