"""The fleet as light rows for the dashboard's table: one tuple per app, with live costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select

from imtui.domain.billing import live_cost
from imtui.domain.editions import Package
from imtui.domain.prices import ZERO
from imtui.persistence import repo
from imtui.persistence.tables import Account, App
from imtui.services.context import ServiceContext
from imtui.services.housekeeping import Housekeeping


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
    month_to_date: Decimal
    projected: Decimal
    monthly: Decimal
    """Monthly price of the current package (what stops when the app is halted)."""


@dataclass(frozen=True)
class FleetSnapshot:
    rows: list[FleetRow]
    counter: int
    as_of: datetime
    month: str


class FleetService:
    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    async def snapshot(self, app_ids: list[int] | None = None) -> FleetSnapshot:
        """Every app (or the given ones) with its month-to-date and projected cost."""
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._snapshot(app_ids))

    def _snapshot(self, app_ids: list[int] | None) -> FleetSnapshot:
        ctx = self.ctx
        now = ctx.now()
        month = ctx.month(now)
        with ctx.uow() as uow:
            s = uow.session
            counter = repo.change_counter(s)
            stmt = select(
                App.app_id, App.name, Account.name, App.edition, App.status, App.live_groups,
                App.groups_per_user, App.members_per_group, App.history_days,
            ).join(Account, Account.id == App.account_id).order_by(App.app_id)
            if app_ids is not None:
                stmt = stmt.where(App.app_id.in_(app_ids))
            base = s.execute(stmt).all()
            states = repo.states_between(s, month.start(ctx.tz), month.end(ctx.tz), app_ids)
        rows = []
        for r in base:
            hist = states.get(r[0])
            if hist:
                cost = live_cost(hist, month, ctx.tz, ctx.prices, now)
                mtd, proj = cost.mtd_total, cost.projected_total
            else:
                mtd = proj = ZERO
            pkg = Package(r[3], r[5], r[6], r[7], r[8])
            rows.append(FleetRow(*r, mtd, proj, ctx.prices.package_price(pkg)))
        return FleetSnapshot(rows, counter, now, month.key)

    async def change_counter(self) -> int:
        def read() -> int:
            with self.ctx.uow() as uow:
                return repo.change_counter(uow.session)

        return await self.ctx.run(read)
