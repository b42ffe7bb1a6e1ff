"""The fleet as light rows for the dashboard's table: one tuple per app, with live costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from imtui.domain.editions import Package
from imtui.domain.prices import ZERO
from imtui.services.context import ServiceContext
from imtui.services.costing import Costing
from imtui.services.housekeeping import Housekeeping
from imtui.services.review import ReviewService


class FleetRow(NamedTuple):
    """One app as the applications table shows it."""

    app_id: int
    name: str
    account: str
    edition: str
    status: str
    live_groups: int | None
    groups_per_user: int
    members_per_group: int
    history_days: int
    month_to_date: Decimal | None
    """None until the costs are computed (they come after the first frame)."""
    projected: Decimal | None
    monthly: Decimal
    """Monthly price of the current package (what stops when the app is halted)."""
    headroom: Headroom | None = None
    """The app's highest use of a limit or quota (None until read, or without usage)."""


class Headroom(NamedTuple):
    """What the headroom column shows and the usage quick filter looks at."""

    ratio: float
    """Peak ÷ allowance (what the column sorts by)."""
    pct: int
    item: str
    flags: int
    """`domain.headroom` NEAR, AT_LIMIT, OVER_QUOTA, SUGGESTS."""


def headroom_of(review) -> Headroom | None:
    """The column's value from an app's review (apps alike share one value)."""
    use = review.headroom
    if use is None:
        return Headroom(-1.0, -1, "", review.flags) if review.flags else None
    return _shared(Headroom(round(use.ratio, 4), use.use_pct, use.item, review.flags))


_SHARED: dict[Headroom, Headroom] = {}


def _shared(value: Headroom) -> Headroom:
    found = _SHARED.get(value)
    if found is None:
        if len(_SHARED) > 50_000:
            _SHARED.clear()
        found = _SHARED[value] = value
    return found


@dataclass(frozen=True)
class FleetSnapshot:
    rows: list[FleetRow]
    counter: int
    """The database's change counter when read (poll it to know when to read again)."""
    last_event: int
    """The newest event's id: `changes(last_event)` returns only what changed after it."""
    as_of: datetime
    month: str


class FleetService:
    """The applications table's data: all rows once, then only the rows that changed."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping, costing: Costing, review: ReviewService):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self.review = review

    async def snapshot(self, app_ids: list[int] | None = None, with_costs: bool = True) -> FleetSnapshot:
        """Every app (or the given ones). Without costs it is fast enough for the first frame;
        `costs()` then fills them in."""
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._snapshot(app_ids, with_costs))

    async def changes(self, since_event: int) -> FleetSnapshot:
        """The rows of the apps with events after `since_event` (new apps included), with costs."""
        await self.housekeeping.catch_up()

        def read() -> FleetSnapshot:
            with self.ctx.uow() as uow:
                ids = uow.history.apps_after(since_event)
            if not ids:
                return self._snapshot([], False, since_event)
            return self._snapshot(sorted(ids), True)

        return await self.ctx.run(read)

    async def costs(self) -> dict[int, tuple[Decimal, Decimal]]:
        """Month-to-date and projected cost of every app (remembered between calls)."""

        def read():
            with self.ctx.uow() as uow:
                return self.costing.figures(uow, self.ctx.period())

        return await self.ctx.run_detached(read)

    def _snapshot(self, app_ids: list[int] | None, with_costs: bool, last_event: int | None = None) -> FleetSnapshot:
        ctx = self.ctx
        period = ctx.period()
        price = ctx.prices.package_price
        monthly: dict[tuple, Decimal] = {}
        make = tuple.__new__  # skips NamedTuple's Python-level __new__: this loop runs per app
        pending = (ZERO, ZERO) if with_costs else (None, None)
        with ctx.uow() as uow:
            counter = uow.meta.counter()
            newest = uow.history.last_id() if last_event is None else last_event
            costs = self.costing.per_app(uow, period, app_ids) if with_costs and app_ids != [] else {}
            rows = uow.apps.fleet_rows(app_ids) if app_ids != [] else []
        for i, r in enumerate(rows):  # replaced in place, so the fleet is never held twice
            key = (r[3], r[5], r[6], r[7], r[8])
            fee = monthly.get(key)
            if fee is None:
                fee = monthly[key] = price(Package(*key))
            cost = costs.get(r[0]) if costs else None
            figures = pending if cost is None else (cost.mtd_total, cost.projected_total)
            rows[i] = make(FleetRow, (*r, *figures, fee, None))
        return FleetSnapshot(rows, counter, newest, period.now, period.key)

    async def headroom(self) -> dict[int, Headroom | None]:
        """Every active app's headroom (read after the first frame, like the costs)."""
        reviews = await self.review.flags()
        return {app_id: headroom_of(r) for app_id, r in reviews.items()}

    async def change_counter(self) -> int:
        def read() -> int:
            with self.ctx.uow() as uow:
                return uow.meta.counter()

        return await self.ctx.run(read)
