"""Live cost of the current month for every app, kept in memory and refreshed incrementally.

Most apps did not change this month: their cost depends only on their package and whether they
are active, so it is computed once per distinct (package, active) and shared. Apps with events
this month go through the day-by-day proration one by one. After the first read, only the apps
with new events are recomputed, and the fleet's totals are adjusted by the difference, so a
refresh costs little however large the fleet. A new day or month rebuilds everything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from imtui.domain.billing import LiveCost, State, live_cost
from imtui.domain.calendar import Month, day_index
from imtui.domain.editions import Package
from imtui.domain.prices import ZERO
from imtui.domain.rules import ACTIVE
from imtui.persistence import repo
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
    costs: dict[int, LiveCost]
    totals: FleetTotals


class Costing:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self._memo: dict[tuple, LiveCost] = {}
        self._table: _Table | None = None
        self._lock = threading.Lock()

    def _steady(self, pkg: Package, active: bool, month: Month, now: datetime) -> LiveCost:
        tz = self.ctx.tz
        key = (pkg, active, month, day_index(month, tz, now))
        cost = self._memo.get(key)
        if cost is None:
            if len(self._memo) > 10_000:
                self._memo.clear()
            cost = live_cost([State(month.start(tz), pkg, active)], month, tz, self.ctx.prices, now)
            self._memo[key] = cost
        return cost

    def _sync(self, s: Session, now: datetime) -> _Table:
        """Brings the table up to date with the database and the clock."""
        ctx = self.ctx
        month = ctx.month(now)
        day = day_index(month, ctx.tz, now)
        last_event = repo.last_event_id(s)
        table = self._table
        if table is None or table.month != month or table.day != day:
            table = self._table = self._build(s, now, month, day, last_event)
        elif last_event != table.last_event:
            changed = repo.apps_with_events_after(s, table.last_event)
            fresh = self._compute(s, now, month, sorted(changed))
            for app_id, cost in fresh.items():
                old = table.costs.get(app_id)
                if old is not None:
                    table.totals.add(old, -1)
                table.costs[app_id] = cost
                table.totals.add(cost)
            table.last_event = last_event
        return table

    def _build(self, s: Session, now: datetime, month: Month, day: int, last_event: int) -> _Table:
        start, end = month.start(self.ctx.tz), month.end(self.ctx.tz)
        changed = repo.apps_changed_between(s, start, end)
        costs = self._compute(s, now, month, sorted(changed), all_changed=True)
        totals = FleetTotals()
        for app_id, *pkg, status, _version in repo.current_packages(s):
            if app_id not in changed:
                costs[app_id] = self._steady(Package(*pkg), status == ACTIVE, month, now)
        groups: dict[int, list] = {}
        for cost in costs.values():
            groups.setdefault(id(cost), [cost, 0])[1] += 1
        for cost, n in groups.values():
            totals.add(cost, n)
        return _Table(month, day, last_event, costs, totals)

    def _compute(
        self, s: Session, now: datetime, month: Month, app_ids: list[int], all_changed: bool = False
    ) -> dict[int, LiveCost]:
        """Live cost of each app from its history this month."""
        if not app_ids:
            return {}
        ctx = self.ctx
        start, end = month.start(ctx.tz), month.end(ctx.tz)
        states = repo.states_between(s, start, end, None if all_changed or len(app_ids) > 900 else app_ids)
        return {
            app_id: live_cost(states.get(app_id, []), month, ctx.tz, ctx.prices, now)
            for app_id in app_ids
        }

    def per_app(self, s: Session, now: datetime, app_ids: list[int] | None = None) -> dict[int, LiveCost]:
        """Each app's month-to-date and projected cost for the month of `now`."""
        if app_ids is not None and len(app_ids) <= 200 and not self._current(now):
            return self._direct(s, now, app_ids)  # a few apps need not wait for the whole table
        with self._lock:
            costs = self._sync(s, now).costs
            if app_ids is None:
                return dict(costs)
            return {a: costs[a] for a in app_ids if a in costs}

    def figures(self, s: Session, now: datetime) -> dict[int, tuple[Decimal, Decimal]]:
        """(month-to-date, projected) of every app; apps with the same cost share one pair."""
        with self._lock:
            costs = self._sync(s, now).costs
            pairs: dict[int, tuple[Decimal, Decimal]] = {}
            out = {}
            for app_id, cost in costs.items():
                pair = pairs.get(id(cost))
                if pair is None:
                    pair = pairs[id(cost)] = (cost.mtd_total, cost.projected_total)
                out[app_id] = pair
            return out

    def _current(self, now: datetime) -> bool:
        table = self._table
        month = self.ctx.month(now)
        return table is not None and table.month == month and table.day == day_index(month, self.ctx.tz, now)

    def _direct(self, s: Session, now: datetime, app_ids: list[int]) -> dict[int, LiveCost]:
        month = self.ctx.month(now)
        start, end = month.start(self.ctx.tz), month.end(self.ctx.tz)
        changed = repo.apps_changed_between(s, start, end, app_ids)
        costs = self._compute(s, now, month, sorted(changed))
        for app_id, *pkg, status, _version in repo.current_packages(s, app_ids):
            if app_id not in changed:
                costs[app_id] = self._steady(Package(*pkg), status == ACTIVE, month, now)
        return costs

    def fleet(self, s: Session, now: datetime) -> FleetTotals:
        """The whole fleet's live cost (an aggregate kept up to date, not a sum over rows)."""
        with self._lock:
            return self._sync(s, now).totals
