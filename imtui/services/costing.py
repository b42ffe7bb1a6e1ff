"""Live cost of the current month for every app (usage overage included), kept in memory and
refreshed incrementally.

Most apps did not change this month: their cost depends only on their package and whether they
are active, so it is computed once per distinct (package, active) and shared. Apps with events
this month go through the day-by-day proration one by one. After the first read, only the apps
with new events are recomputed, and the fleet's totals are adjusted by the difference, so a
refresh costs little however large the fleet. A new day or month rebuilds everything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal

from imtui.domain.billing import BillLine, LiveCost, State, live_cost, with_overage
from imtui.domain.calendar import Month
from imtui.domain.editions import Package
from imtui.domain.lifecycle import ACTIVE
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import ZERO
from imtui.domain.usage import overage_lines
from imtui.persistence.repos import IN_CHUNK
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext


@dataclass
class FleetTotals:
    """The sum of every app's live cost, adjusted app by app."""

    month_to_date: Decimal = ZERO
    projected: Decimal = ZERO
    lines: dict[tuple[str, str], list] = field(default_factory=dict)
    """(item, setting) → [days, month-to-date amount]."""
    apps: int = 0

    def add(self, cost: LiveCost, times: int = 1, lines: bool = True) -> None:
        """Adds `times` apps of this cost (a negative number takes them out)."""
        self.month_to_date += times * cost.mtd_total
        self.projected += times * cost.projected_total
        self.apps += times
        if not lines:
            return
        for ln in cost.month_to_date:
            entry = self.lines.setdefault((ln.item, ln.setting), [0, ZERO])
            entry[0] += times * ln.days
            entry[1] += times * ln.amount


@dataclass
class _Table:
    month: Month
    day: int
    last_event: int
    counter: int
    """The database's change counter when usage was last read."""
    base: dict[int, LiveCost]
    """Each app's cost of its package (shared between apps alike)."""
    overage: dict[int, list[BillLine]]
    """The usage overage of the apps above a quota this month."""
    costs: dict[int, LiveCost]
    totals: FleetTotals


class Costing:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self._memo: dict[tuple, LiveCost] = {}
        self._table: _Table | None = None
        self._lock = threading.Lock()

    def _steady(self, pkg: Package, active: bool, period: BillingPeriod) -> LiveCost:
        """The cost of an app that kept one package and status all month (shared by all such)."""
        key = (pkg, active, period.month, period.today)
        cost = self._memo.get(key)
        if cost is None:
            if len(self._memo) > 10_000:
                self._memo.clear()
            cost = live_cost([State(period.start, pkg, active)], period, self.ctx.prices)
            self._memo[key] = cost
        return cost

    def _sync(self, uow: UnitOfWork, period: BillingPeriod) -> _Table:
        """Brings the table up to date with the database and the clock."""
        last_event = uow.history.last_id()
        counter = uow.meta.counter()
        table = self._table
        if table is None or table.month != period.month or table.day != period.today:
            table = self._table = self._build(uow, period, last_event, counter)
            return table
        fresh: dict[int, LiveCost] = {}
        if last_event != table.last_event:
            changed = uow.history.apps_after(table.last_event)
            fresh = self._compute(uow, period, sorted(changed))
            table.last_event = last_event
        if counter != table.counter:  # usage may have been imported: overage read afresh
            overage = self._overage(uow, period)
            for app_id in overage.keys() | table.overage.keys():
                if overage.get(app_id) != table.overage.get(app_id) and app_id not in fresh and app_id in table.base:
                    fresh[app_id] = table.base[app_id]
            table.overage = overage
            table.counter = counter
        for app_id, base in fresh.items():
            old = table.costs.get(app_id)
            if old is not None:
                table.totals.add(old, -1)
            table.base[app_id] = base
            cost = table.costs[app_id] = with_overage(base, table.overage.get(app_id, ()))
            table.totals.add(cost)
        return table

    def _overage(self, uow: UnitOfWork, period: BillingPeriod) -> dict[int, list[BillLine]]:
        """Usage overage of the month so far, of the apps above a quota."""
        peaks = uow.usage.month_peaks(period.month)
        found = ((a, overage_lines(p, self.ctx.prices)) for a, p in peaks.items())
        return {a: lines for a, lines in found if lines}

    def _build(self, uow: UnitOfWork, period: BillingPeriod, last_event: int, counter: int) -> _Table:
        changed = uow.history.apps_changed_between(period.start, period.end)
        base = self._compute(uow, period, sorted(changed), all_changed=True)
        for app_id, pkg, status in uow.apps.packages():
            if app_id not in changed:
                base[app_id] = self._steady(pkg, status == ACTIVE, period)
        overage = self._overage(uow, period)
        costs = dict(base)
        for app_id, lines in overage.items():
            if app_id in costs:
                costs[app_id] = with_overage(costs[app_id], lines)
        totals = FleetTotals()
        groups: dict[int, list] = {}
        for cost in costs.values():
            groups.setdefault(id(cost), [cost, 0])[1] += 1
        for cost, n in groups.values():
            totals.add(cost, n)
        return _Table(period.month, period.today, last_event, counter, base, overage, costs, totals)

    def _compute(
        self, uow: UnitOfWork, period: BillingPeriod, app_ids: list[int], all_changed: bool = False
    ) -> dict[int, LiveCost]:
        """Live cost of each app from its history this month."""
        if not app_ids:
            return {}
        some = None if all_changed or len(app_ids) > IN_CHUNK else app_ids
        states = uow.history.states_between(period.start, period.end, some)
        return {a: live_cost(states.get(a, []), period, self.ctx.prices) for a in app_ids}

    def per_app(self, uow: UnitOfWork, period: BillingPeriod, app_ids: list[int] | None = None) -> dict[int, LiveCost]:
        """Each app's month-to-date and projected cost for the period."""
        if app_ids is not None and len(app_ids) <= 200 and not self._current(period):
            return self._direct(uow, period, app_ids)  # a few apps need not wait for the whole table
        with self._lock:
            costs = self._sync(uow, period).costs
            if app_ids is None:
                return dict(costs)
            return {a: costs[a] for a in app_ids if a in costs}

    def figures(self, uow: UnitOfWork, period: BillingPeriod) -> dict[int, tuple[Decimal, Decimal]]:
        """(month-to-date, projected) of every app; apps with the same cost share one pair."""
        with self._lock:
            costs = self._sync(uow, period).costs
            pairs: dict[int, tuple[Decimal, Decimal]] = {}
            out = {}
            for app_id, cost in costs.items():
                pair = pairs.get(id(cost))
                if pair is None:
                    pair = pairs[id(cost)] = (cost.mtd_total, cost.projected_total)
                out[app_id] = pair
            return out

    def _current(self, period: BillingPeriod) -> bool:
        table = self._table
        return table is not None and table.month == period.month and table.day == period.today

    def _direct(self, uow: UnitOfWork, period: BillingPeriod, app_ids: list[int]) -> dict[int, LiveCost]:
        """A few apps' costs straight from the database (usage overage included)."""
        changed = uow.history.apps_changed_between(period.start, period.end, app_ids)
        costs = self._compute(uow, period, sorted(changed))
        for app_id, pkg, status in uow.apps.packages(app_ids):
            if app_id not in changed:
                costs[app_id] = self._steady(pkg, status == ACTIVE, period)
        for app_id, peaks in uow.usage.month_peaks(period.month, app_ids).items():
            if app_id in costs:
                costs[app_id] = with_overage(costs[app_id], overage_lines(peaks, self.ctx.prices))
        return costs

    def fleet(self, uow: UnitOfWork, period: BillingPeriod) -> FleetTotals:
        """The whole fleet's live cost (an aggregate kept up to date, not a sum over rows)."""
        with self._lock:
            return self._sync(uow, period).totals
