"""The fleet as light rows for the dashboard's table: one tuple per app, with live costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice
from operator import ge, itemgetter
from typing import NamedTuple

from imtui.domain.editions import Package
from imtui.domain.errors import ImtuiError
from imtui.domain.prices import ZERO
from imtui.persistence.repos.apps import FLEET_PACKAGE
from imtui.services.cache import FigureCache, FleetPackages
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.costing import Costing
from imtui.services.housekeeping import Housekeeping
from imtui.services.review import ReviewService
from imtui.services.use_case import use_case


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


_AT = {name: i for i, name in enumerate(FleetRow._fields)}
"""Where a FleetRow's fields are: rows are made by `tuple.__new__` from parts (per app, at
scale), and the slices below name the parts."""
PACKAGE = slice(_AT["edition"], _AT["month_to_date"])
"""Its edition, status and package: the part apps alike share (the fleet rows read keep this order)."""
BEFORE_COSTS = slice(0, _AT["month_to_date"])
"""Everything before its month-to-date and projected cost (filled in after the first frame)."""
AFTER_COSTS = slice(_AT["monthly"], None)
BEFORE_HEADROOM = slice(0, _AT["headroom"])
HEADROOM = _AT["headroom"]


class Headroom(NamedTuple):
    """What the headroom column shows and the usage quick filter looks at."""

    ratio: float
    """Peak ÷ allowance (what the column sorts by)."""
    pct: int
    item: str
    flags: int
    """`domain.headroom` NEAR, AT_LIMIT, OVER_QUOTA, SUGGESTS."""


@dataclass(frozen=True)
class FleetSnapshot:
    """The applications table's rows as read, with what tells when to read again and from where."""

    rows: list[FleetRow]
    counter: int
    """The database's change counter when read (poll it to know when to read again)."""
    last_event: int
    """The newest event's id: `changes(last_event)` returns only what changed after it."""
    as_of: datetime
    month: str


class FleetService:
    """The applications table's data: all rows once, then only the rows that changed."""

    def __init__(
        self,
        ctx: ServiceContext,
        housekeeping: Housekeeping,
        costing: Costing,
        cache: FigureCache,
        review: ReviewService,
    ):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self.cache = cache
        self.review = review
        self._preloaded: FleetSnapshot | None = None

    def preload(self) -> None:
        """Reads every row now, before the dashboard's UI is loaded (as a bare script would read
        them, with nothing else running), so its first frame can show them (`take_preloaded`).
        A failure is left for the dashboard's own read to report."""
        try:
            self.housekeeping.catch_up_now()
            self._preloaded = self._snapshot(None, False)
        except ImtuiError:
            self._preloaded = None

    def take_preloaded(self) -> FleetSnapshot | None:
        """The rows `preload` read (once). Its `counter` tells the dashboard's poll whether
        anything changed since."""
        snap, self._preloaded = self._preloaded, None
        return snap

    @use_case()
    async def snapshot(self, app_ids: list[int] | None = None, with_costs: bool = True) -> FleetSnapshot:
        """Every app (or the given ones). Without costs it is fast enough for the first frame;
        `costs()` then fills them in."""
        return await self.ctx.run(lambda: self._snapshot(app_ids, with_costs))

    @use_case()
    async def changes(self, since_event: int) -> FleetSnapshot:
        """The rows of the apps with events after `since_event` (new apps included), with costs."""

        def read() -> FleetSnapshot:
            with self.ctx.uow() as uow:
                ids = uow.history.apps_after(since_event)
            if not ids:
                return self._snapshot([], False, since_event)
            return self._snapshot(sorted(ids), True)

        return await self.ctx.run(read)

    @use_case(catches_up=False)
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
        pending = (ZERO, ZERO) if with_costs else (None, None)
        # This loop runs per app, so it is kept lean: apps alike share one tuple of their package,
        # status and fee (and one account name string), which saves time here and memory for as long as
        # the rows are held; `tuple.__new__` skips NamedTuple's Python-level __new__. The whole
        # fleet is read a batch at a time, so its raw rows are never all held at once.
        make = tuple.__new__
        alike: dict[tuple, tuple] = {}
        rows: list[FleetRow] = []
        add = rows.append
        # the cyclic collector would walk the growing list of new rows again and again (a large
        # part of the read); rows hold no cycles, reference counting frees them
        with ctx.uow() as uow, no_cyclic_gc():
            counter = uow.meta.counter()
            newest = uow.history.last_id() if last_event is None else last_event
            costs = self.costing.per_app(uow, period, app_ids) if with_costs and app_ids != [] else {}
            batches = uow.apps.fleet_rows(app_ids) if app_ids != [] else []
            account_of = uow.accounts.names().__getitem__  # the rows carry the account's ID

            def alike_of(key: tuple) -> tuple[tuple, tuple]:
                # key: a FleetRow's PACKAGE part; with it, its AFTER_COSTS part (the monthly
                # price, no headroom yet)
                tail = (price(Package(key[0], *key[2:])), None)
                parts = alike[key] = (key, tail)
                return parts

            for batch in batches:
                for r in batch:
                    key = r[FLEET_PACKAGE]
                    package, tail = alike.get(key) or alike_of(key)
                    cost = costs.get(r[0]) if costs else None
                    figures = pending if cost is None else (cost.mtd_total, cost.projected_total)
                    add(make(FleetRow, (r[0], r[1], account_of(r[2]), *package, *figures, *tail)))
        in_order(rows)  # read in storage order
        if app_ids is None:  # the costs that follow need not read every package again
            self.cache.keep_packages(FleetPackages(((r[0], r[PACKAGE]) for r in rows), newest))
        return FleetSnapshot(rows, counter, newest, period.now, period.key)

    @use_case(catches_up=False)
    async def headroom(self) -> dict[int, Headroom | None]:
        """Every active app's headroom (read after the first frame, like the costs); its
        preconditions are `ReviewService.fleet_headroom`'s."""
        app_ids, fleet = await self.review.fleet_headroom()
        out: dict[int, Headroom | None] = {}
        shared: dict[Headroom, Headroom] = {}  # apps alike hold one value (the rows keep them)
        items = fleet.items
        for app_id, ratio, pct, item, flags in zip(
            app_ids.tolist(), fleet.ratio.tolist(), fleet.pct.tolist(), fleet.item.tolist(), fleet.flags.tolist()
        ):
            if item >= 0:
                value = Headroom(round(ratio, 4), pct, items[item], flags)
            elif flags:
                value = Headroom(-1.0, -1, "", flags)
            else:
                out[app_id] = None
                continue
            out[app_id] = shared.setdefault(value, value)
        return out

    @use_case(catches_up=False)
    async def change_counter(self) -> int:
        """The database's change counter, which grows with every change (the dashboard's poll compares it)."""

        def read() -> int:
            with self.ctx.uow() as uow:
                return uow.meta.counter()

        return await self.ctx.run(read)


def in_order(rows: list[FleetRow]) -> None:
    """Puts rows read in storage order into app ID order (the table's own order), in place.
    Storage order almost always is that order already; checking is much cheaper than asking the
    database to walk its primary-key index for every row."""
    ids = list(map(itemgetter(0), rows))
    if any(map(ge, ids, islice(ids, 1, None))):
        rows.sort(key=itemgetter(0))
