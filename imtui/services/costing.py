"""Live cost of the current month for many apps at once, fast enough for 100,000 apps.

Most apps did not change this month: their cost depends only on their package and whether they
are active, so it is computed once per distinct (package, active) and shared. Only the apps with
events this month go through the day-by-day proration one by one.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from imtui.domain.billing import LiveCost, State, live_cost
from imtui.domain.calendar import Month
from imtui.domain.editions import Package
from imtui.domain.rules import ACTIVE
from imtui.persistence import repo
from imtui.services.context import ServiceContext

#: Above this many apps it is cheaper to read the whole fleet and pick than to pass IDs to SQL.
MANY = 500


class Costing:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self._memo: dict[tuple, LiveCost] = {}
        self._per_app: dict[int, tuple[tuple, LiveCost]] = {}

    def _steady(self, pkg: Package, active: bool, month: Month, now: datetime) -> LiveCost:
        tz = self.ctx.tz
        key = (pkg, active, month, Month.of(now, tz), _day(now, month, tz))
        cost = self._memo.get(key)
        if cost is None:
            if len(self._memo) > 10_000:
                self._memo.clear()
            cost = live_cost([State(month.start(tz), pkg, active)], month, tz, self.ctx.prices, now)
            self._memo[key] = cost
        return cost

    def per_app(
        self, s: Session, now: datetime, app_ids: list[int] | None = None
    ) -> dict[int, LiveCost]:
        """Each app's month-to-date and projected cost for the month of `now`.

        Apps changed this month are computed one by one, and remembered by their version and
        the day: the next refresh recomputes only the apps that changed since.
        """
        ctx = self.ctx
        month = ctx.month(now)
        day = _day(now, month, ctx.tz)
        start, end = month.start(ctx.tz), month.end(ctx.tz)
        wanted = None if app_ids is None else set(app_ids)
        small = wanted is not None and len(wanted) <= MANY
        changed = repo.apps_changed_between(s, start, end, list(wanted) if small else None)
        if wanted is not None:
            changed &= wanted
        out: dict[int, LiveCost] = {}
        stale: list[tuple[int, int]] = []
        for app_id, *pkg, status, version in repo.current_packages(s, list(wanted) if small else None):
            if wanted is not None and app_id not in wanted:
                continue
            if app_id in changed:
                hit = self._per_app.get(app_id)
                if hit is not None and hit[0] == (version, month, day):
                    out[app_id] = hit[1]
                else:
                    stale.append((app_id, version))
            else:
                out[app_id] = self._steady(Package(*pkg), status == ACTIVE, month, now)
        if stale:
            ids = [a for a, _ in stale]
            states = repo.states_between(s, start, end, ids if len(ids) <= MANY else None)
            for app_id, version in stale:
                cost = live_cost(states.get(app_id, []), month, ctx.tz, ctx.prices, now)
                self._per_app[app_id] = ((version, month, day), cost)
                out[app_id] = cost
        return out

    def fleet(self, s: Session, now: datetime) -> list[tuple[LiveCost, int]]:
        """The whole fleet's costs as (cost, number of apps with it): an aggregate, not a list."""
        ctx = self.ctx
        month = ctx.month(now)
        start, end = month.start(ctx.tz), month.end(ctx.tz)
        changed = repo.apps_changed_between(s, start, end)
        groups: Counter = Counter()
        parts: list[tuple[LiveCost, int]] = [
            (cost, 1) for cost in self.per_app(s, now, sorted(changed)).values()
        ] if changed else []
        for *pkg, status, count in repo.package_counts(s):
            groups[(Package(*pkg), status == ACTIVE)] += count
        # the grouped counts include the changed apps at their current package: take them out
        for *pkg, status in repo.current_packages_of(s, changed):
            groups[(Package(*pkg), status == ACTIVE)] -= 1
        parts += [
            (self._steady(pkg, active, month, now), n) for (pkg, active), n in groups.items() if n
        ]
        return parts


def _day(now: datetime, month: Month, tz: str) -> int:
    from imtui.domain.calendar import day_index

    return day_index(month, tz, now)
