"""The figures a monitoring stack scrapes (signals.md §4), as one plain snapshot.

Everything is read from what the fleet keeps whole: the live costs from `Costing` (the figures
the dashboard and `bills` show, usage overage included), app counts by one GROUP BY, headroom
from the fleet-wide arrays of `ReviewService.fleet_headroom`. Budgets and signals come from
their services (`budgets list`, `check`); drift is the signals' own look at the platform, so
there is a figure only when a platform apart from imtui is configured. `imtui.exposition` turns
a snapshot into Prometheus metrics.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from imtui.domain.calendar import Month, day_bounds
from imtui.domain.editions import EDITIONS
from imtui.domain.lifecycle import PURGED, STATUSES
from imtui.domain.prices import from_cents
from imtui.domain.signals import DRIFT, KINDS, SEVERITY
from imtui.services.budgets import BudgetService
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.costing import Costing
from imtui.services.housekeeping import Housekeeping
from imtui.services.review import ReviewService
from imtui.services.signals import SignalService
from imtui.services.use_case import use_case

FLEET = "*"
"""The `account` label of the fleet's budget."""
NO_USE = (None, None)


class AppFigures(NamedTuple):
    """One app's figures (`--per-app`)."""

    app_id: int
    account: str
    month_to_date: Decimal
    projected: Decimal
    headroom_item: str | None
    """The limit or quota the app uses most of (None: no recent usage)."""
    headroom_ratio: float | None
    """Its peak ÷ allowance."""


@dataclass(frozen=True)
class MetricsSnapshot:
    """Every figure of one scrape."""

    as_of: datetime
    month: str
    fleet: tuple[Decimal, Decimal]
    """(month-to-date, projected) of the fleet."""
    accounts: dict[str, tuple[Decimal, Decimal]]
    """The same per account (every account; 0.00 for one with nothing billed)."""
    budgets: dict[str, tuple[Decimal, Decimal]]
    """Per budget (its account, or `*` for the fleet): (budget, month-to-date)."""
    apps: dict[tuple[str, str], int]
    """Apps by (status, edition), every pair (0 where none)."""
    signals: dict[tuple[str, str], int]
    """Signals now by (kind, severity), every kind (0 where none)."""
    usage_latest_end: datetime | None
    """00:00 of the day after the newest usage day recorded (None: no usage yet)."""
    pending_intents: int
    drifted_apps: int | None
    """None without a platform apart from imtui (or when it cannot be asked now)."""
    per_app: list[AppFigures] | None = None


class MetricsService:
    """The figures `imtui metrics` exposes, read in one snapshot."""

    def __init__(
        self,
        ctx: ServiceContext,
        housekeeping: Housekeeping,
        costing: Costing,
        review: ReviewService,
        budgets: BudgetService,
        signals: SignalService,
    ):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self.review = review
        self.budgets = budgets
        self.signals = signals

    @use_case()
    async def snapshot(self, per_app: bool = False) -> MetricsSnapshot:
        """The figures now; `per_app` adds every app's (many series at 100,000 apps)."""
        now = self.ctx.now()
        headroom = await self._headroom() if per_app else None
        base = await self.ctx.run(lambda: self._read(now, headroom))
        budgets = {
            FLEET if b.account is None else b.account: (b.amount, b.month_to_date) for b in await self.budgets.list()
        }
        report = await self.signals.report()
        signals = {(kind, SEVERITY[kind]): 0 for kind in KINDS}
        signals.update(Counter((s.kind, s.severity) for s in report.signals))
        # drift as the dashboard counts it, from the same look at the platform as the signals'
        drifted = sum(s.kind == DRIFT for s in report.signals) if report.drift_checked else None
        return replace(base, budgets=budgets, signals=signals, drifted_apps=drifted)

    def _read(self, now: datetime, headroom: dict[int, tuple[str, float]] | None) -> MetricsSnapshot:
        """The figures read from the database; every app's too when given their headroom."""
        per_app = headroom is not None
        ctx = self.ctx
        period = ctx.period(now)
        with ctx.uow() as uow, no_cyclic_gc():
            fleet = self.costing.fleet(uow, period)
            names = uow.accounts.names()
            owner_ids = uow.apps.owners()
            by_owner = self.costing.by_owner(uow, period, owner_ids)
            figures = self.costing.figures(uow, period) if per_app else {}
            gone = {a for a, status in uow.apps.not_active().items() if status == PURGED} if per_app else set()
            counts = uow.apps.counts()
            latest = uow.usage.latest_day()
            pending = uow.intents.pending_count()
        zero = (0, 0)
        accounts = {
            name: (from_cents(m), from_cents(p))
            for name, (m, p) in sorted((name, by_owner.get(i, zero)) for i, name in names.items())
        }
        apps = [
            AppFigures(app_id, names[owner_ids[app_id]], mtd, projected, *headroom.get(app_id, NO_USE))
            for app_id, (mtd, projected) in figures.items()
            if app_id not in gone
        ]
        usage_end = None
        if latest is not None:
            usage_end = day_bounds(Month(latest.year, latest.month), ctx.tz)[latest.day]
        return MetricsSnapshot(
            as_of=now,
            month=period.key,
            fleet=(fleet.month_to_date, fleet.projected),
            accounts=accounts,
            budgets={},
            apps={(s, e): counts.get((s, e), 0) for s in STATUSES for e in EDITIONS},
            signals={},
            usage_latest_end=usage_end,
            pending_intents=pending,
            drifted_apps=None,
            per_app=sorted(apps) if headroom is not None else None,
        )

    async def _headroom(self) -> dict[int, tuple[str, float]]:
        """Every active app's highest use of a limit or quota (item, peak ÷ allowance), from the
        fleet-wide arrays the dashboard's headroom column is made of."""
        app_ids, fleet = await self.review.fleet_headroom()
        items = fleet.items
        return {
            app_id: (items[item], round(ratio, 6))
            for app_id, ratio, item in zip(app_ids.tolist(), fleet.ratio.tolist(), fleet.item.tolist())
            if item >= 0
        }
