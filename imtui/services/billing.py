"""Bills: month close (issue once), issued and open bills, and the live cost of the current month."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.billing import BillLine, active_spans, daily_costs, live_cost, month_lines
from imtui.domain.calendar import Month
from imtui.domain.errors import InvalidInput, NotFound
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import ZERO, from_cents, to_cents
from imtui.persistence.repos.bills import StoredLine
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext
from imtui.services.costing import Costing, FleetTotals
from imtui.services.models import AccountBill, AppBill, BillView, CostSummary, LineView

LINES_UP_TO = 200
"""Per-item lines are summed for selections up to this size (the panel shows them for one app)."""
DAILY_UP_TO = 200
"""The daily-cost chart is drawn for selections up to this size."""


def _views(lines: list[BillLine]) -> list[LineView]:
    return [LineView(ln.item, ln.setting, ln.days, ln.amount) for ln in lines]


def close_month(uow: UnitOfWork, ctx: ServiceContext, month: Month, now: datetime) -> bool:
    """Issues every account's bill for a finished month, once. Returns False if already closed."""
    if uow.bills.issued_at(month) is not None:
        return False
    period = BillingPeriod.for_month(month, now, ctx.tz)
    states = uow.history.states_between(period.start, period.end)
    owner = uow.apps.owners()
    lines: dict[int, list[StoredLine]] = defaultdict(list)
    for app_id in sorted(states):
        for line in month_lines(active_spans(states[app_id], period.start, period.end), month, ctx.tz, ctx.prices):
            lines[owner[app_id]].append(
                StoredLine(app_id, line.item, line.setting, to_cents(line.unit_price), line.days, to_cents(line.amount))
            )
    accounts = uow.accounts.existing_before(period.end)
    totals = {a: sum(ln.amount_cents for ln in lines.get(a, ())) for a in accounts}
    uow.bills.issue(month, now, ctx.actor, totals, lines)
    uow.audit.add(
        AuditEntry(now, ctx.actor, "close_month", None, DONE, f"issued the bills of {month.key} for every account")
    )
    uow.meta.advance_latest(period.end)
    return True


class BillingService:
    """Reads bills and live costs; month closes happen in `Housekeeping`."""

    def __init__(self, ctx: ServiceContext, housekeeping, costing: Costing):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self._issued_per_app: dict[Month, dict[int, int]] = {}

    async def bill(self, month: Month | None = None, account: str | None = None, app_id: int | None = None) -> BillView:
        """The bill of a month: issued for a finished month, month-to-date for the current one."""
        if account is not None and "\x00" in account:
            raise InvalidInput("an account name cannot contain a NUL character")
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._bill(month, account, app_id))

    def _bill(self, month: Month | None, account: str | None, app_id: int | None) -> BillView:
        ctx = self.ctx
        current = ctx.period()
        month = month or current.month
        with ctx.uow() as uow:
            if account is not None and uow.accounts.find(account) is None:
                raise NotFound(f"no account named {account!r}")
            if app_id is not None and uow.apps.get(app_id) is None:
                raise NotFound(f"no app {app_id}")
            issued_at = uow.bills.issued_at(month)
            if issued_at is not None:
                return self._issued(uow, month, issued_at, account, app_id)
            created = uow.meta.created_at
            if month > current.month:
                raise NotFound(f"month {month.key} has not started yet (it is now {current.key})")
            if created is None or month < Month.of(created, ctx.tz):
                raise NotFound(f"month {month.key} ended before this database was created")
            if month < current.month:
                # finished but not yet closed: only possible in a read that raced a close
                raise NotFound(f"month {month.key} is being closed; try again")
            return self._open(uow, current, account, app_id)

    def _issued(self, uow: UnitOfWork, month: Month, issued_at, account, app_id) -> BillView:
        accounts: list[AccountBill] = []
        for bill in uow.bills.of_month(month):
            if account is not None and bill.account != account:
                continue
            per_app: dict[int, list[LineView]] = defaultdict(list)
            for ln in bill.lines:
                if app_id is None or ln.app_id == app_id:
                    per_app[ln.app_id].append(LineView(ln.item, ln.setting, ln.days, from_cents(ln.amount_cents)))
            apps = [
                AppBill(a, t, t, ls) for a, ls in sorted(per_app.items()) for t in [sum((ln.amount for ln in ls), ZERO)]
            ]
            total = sum((a.total for a in apps), ZERO)
            if apps:
                accounts.append(AccountBill(bill.account, total, total, apps))
        grand = sum((a.total for a in accounts), ZERO)
        return BillView(month.key, self.ctx.prices.currency, "issued", issued_at, grand, grand, accounts)

    def _open(self, uow: UnitOfWork, period: BillingPeriod, account, app_id) -> BillView:
        ctx = self.ctx
        ids = None if app_id is None else [app_id]
        states = uow.history.states_between(period.start, period.end, ids)
        owners = uow.apps.accounts_of(ids)
        per_account: dict[str, list[AppBill]] = defaultdict(list)
        for aid in sorted(states):
            name = owners.get(aid)
            if name is None or (account is not None and name != account):
                continue
            cost = live_cost(states[aid], period, ctx.prices)
            if cost.projected:
                per_account[name].append(
                    AppBill(
                        aid, cost.mtd_total, cost.projected_total, _views(cost.month_to_date), _views(cost.projected)
                    )
                )
        accounts = [
            AccountBill(
                name,
                sum((a.total for a in apps), ZERO),
                sum((a.projected_total for a in apps), ZERO),
                apps,
            )
            for name, apps in sorted(per_account.items())
        ]
        return BillView(
            period.key,
            ctx.prices.currency,
            "open",
            None,
            sum((a.total for a in accounts), ZERO),
            sum((a.projected_total for a in accounts), ZERO),
            accounts,
        )

    async def issued_months(self) -> list[str]:
        """Finished months with issued bills, newest first."""

        def read() -> list[str]:
            with self.ctx.uow() as uow:
                return uow.bills.closed_months()

        return await self.ctx.run(read)

    async def cost_summary(self, app_ids: list[int] | None = None) -> CostSummary:
        """Live cost for the current month of some apps (or the fleet when `None`)."""
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._summary(app_ids))

    def _summary(self, app_ids: list[int] | None) -> CostSummary:
        ctx = self.ctx
        period = ctx.period()
        with ctx.uow() as uow:
            totals = FleetTotals()
            if app_ids is None:
                totals = self.costing.fleet(uow, period)
            else:
                shared: dict[int, list] = {}  # apps that did not change share one cost object
                for cost in self.costing.per_app(uow, period, app_ids).values():
                    shared.setdefault(id(cost), [cost, 0])[1] += 1
                with_lines = len(app_ids) <= LINES_UP_TO
                for cost, n in shared.values():
                    totals.add(cost, n, with_lines)
            last = self._last_month_total(uow, period.month.previous(), app_ids)
            daily = [ZERO] * period.days
            if app_ids is not None and len(app_ids) <= DAILY_UP_TO:
                for history in uow.history.states_between(period.start, period.end, app_ids).values():
                    daily = [a + b for a, b in zip(daily, daily_costs(history, period, ctx.prices))]
        lines = [LineView(item, setting, d, amt) for (item, setting), (d, amt) in totals.lines.items() if d]
        return CostSummary(
            period.key, totals.month_to_date, totals.projected, lines, last, daily, period.now, totals.apps
        )

    def _last_month_total(self, uow: UnitOfWork, month: Month, app_ids: list[int] | None) -> Decimal | None:
        """The issued total of `month` for the apps (or all); None before it is issued."""
        if uow.bills.issued_at(month) is None:
            return None
        per_app = self._issued_per_app.get(month)
        if per_app is None:  # issued bills never change, so this is kept
            per_app = self._issued_per_app[month] = uow.bills.cents_by_app(month)
        ids = per_app if app_ids is None else app_ids
        return from_cents(sum(per_app.get(a, 0) for a in ids))
