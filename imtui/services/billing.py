"""Bills: month close (issue once), issued and open bills, and the live cost of the current month."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from itertools import repeat

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.billing import BillLine, MonthPlan, daily_costs, live_cost
from imtui.domain.calendar import Month
from imtui.domain.errors import InvalidInput, NotFound
from imtui.domain.month_close import DRAFT, ISSUED, OPEN, draft_instant, issue_instant
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import ZERO, from_cents, to_cents
from imtui.domain.usage import overage_cost, overage_lines
from imtui.persistence.repos.bills import StoredLine
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext
from imtui.services.costing import Costing, FleetTotals, fleet_plans
from imtui.services.models import AccountBill, AppBill, BillView, CostSummary, LineView

LINES_UP_TO = 200
"""Per-item lines are summed for selections up to this size (the panel shows them for one app)."""
DAILY_UP_TO = 200
"""The daily-cost chart is drawn for selections up to this size."""


def _views(lines: list[BillLine]) -> list[LineView]:
    return [LineView(ln.item, ln.setting, ln.days, ln.amount) for ln in lines]


def month_lines(uow: UnitOfWork, ctx: ServiceContext, period: BillingPeriod) -> dict[int, list[BillLine]]:
    """Every app's lines of a whole month: its package by day (from its month plan) and its
    usage overage."""
    peaks = uow.usage.month_peaks(period.month)
    by_plan: dict[str, list[BillLine]] = {}
    out: dict[int, list[BillLine]] = {}
    for app_id, text in sorted(fleet_plans(uow, ctx, period).plan_of.items()):
        lines = by_plan.get(text)
        if lines is None:
            lines = by_plan[text] = MonthPlan.decode(text).lines()
        lines = lines + overage_lines(peaks.get(app_id), ctx.prices)
        if lines:
            out[app_id] = lines
    return out


def draft_month(uow: UnitOfWork, ctx: ServiceContext, month: Month, now: datetime) -> None:
    """The first step of a month's close, at 00:00 on the 1st: its package lines are final (time
    has moved past them); its usage may still change until it is issued."""
    uow.bills.draft(month, now, ctx.actor)
    uow.meta.advance_latest(draft_instant(month, ctx.tz))


def issue_month(uow: UnitOfWork, ctx: ServiceContext, month: Month, now: datetime) -> None:
    """The second step, at 00:00 on the 3rd: every account's bill is written, once, for good."""
    period = BillingPeriod.for_month(month, now, ctx.tz)
    owner = uow.apps.owners()
    lines: dict[int, list[StoredLine]] = defaultdict(list)
    for app_id, app_lines in month_lines(uow, ctx, period).items():
        lines[owner[app_id]] += [
            StoredLine(app_id, ln.item, ln.setting, to_cents(ln.unit_price), ln.days, to_cents(ln.amount))
            for ln in app_lines
        ]
    accounts = uow.accounts.existing_before(period.end)
    totals = {a: sum(ln.amount_cents for ln in lines.get(a, ())) for a in accounts}
    uow.bills.issue(month, now, ctx.actor, totals, lines)
    uow.audit.add(
        AuditEntry(now, ctx.actor, "close_month", None, DONE, f"issued the bills of {month.key} for every account")
    )
    uow.meta.advance_latest(issue_instant(month, ctx.tz))


class BillingService:
    """Reads bills and live costs; month closes happen in `Housekeeping`."""

    def __init__(self, ctx: ServiceContext, housekeeping, costing: Costing):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self._finished: dict[tuple[Month, bool], dict[int, int]] = {}
        """Per-app cents of finished months (issued bills and drafts' package lines never change)."""

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
            if uow.bills.is_drafted(month):
                return self._computed(uow, BillingPeriod.for_month(month, current.now, ctx.tz), DRAFT, account, app_id)
            created = uow.meta.created_at
            if month > current.month:
                raise NotFound(f"month {month.key} has not started yet (it is now {current.key})")
            if created is None or month < Month.of(created, ctx.tz):
                raise NotFound(f"month {month.key} ended before this database was created")
            if month < current.month:
                # finished but not yet closed: only possible in a read that raced a close
                raise NotFound(f"month {month.key} is being closed; try again")
            return self._computed(uow, current, OPEN, account, app_id)

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
        return BillView(month.key, self.ctx.prices.currency, ISSUED, issued_at, grand, grand, accounts)

    def _computed(self, uow: UnitOfWork, period: BillingPeriod, state: str, account, app_id) -> BillView:
        """A bill computed from the history and usage: the open month's (month-to-date and
        projected) or a draft's (the whole month; both totals equal)."""
        ctx = self.ctx
        ids = None if app_id is None else [app_id]
        states = uow.history.states_between(period.start, period.end, ids)
        peaks = uow.usage.month_peaks(period.month, ids)
        owners = uow.apps.accounts_of(ids)
        if state == DRAFT:
            period = BillingPeriod.for_month(period.month, period.end, ctx.tz)  # seen from its end
        per_account: dict[str, list[AppBill]] = defaultdict(list)
        for aid in sorted(states.keys() | peaks.keys()):
            name = owners.get(aid)
            if name is None or (account is not None and name != account):
                continue
            cost = live_cost(states.get(aid, ()), period, ctx.prices, overage_lines(peaks.get(aid), ctx.prices))
            if cost.projected:
                mtd = cost.month_to_date if state == OPEN else cost.projected
                total = cost.mtd_total if state == OPEN else cost.projected_total
                per_account[name].append(AppBill(aid, total, cost.projected_total, _views(mtd), _views(cost.projected)))
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
            state,
            None,
            sum((a.total for a in accounts), ZERO),
            sum((a.projected_total for a in accounts), ZERO),
            accounts,
        )

    async def months(self) -> list[str]:
        """Finished months with a draft or issued bill, newest first."""

        def read() -> list[str]:
            with self.ctx.uow() as uow:
                return uow.bills.drafted_months()

        return await self.ctx.run(read)

    async def cost_summary(self, app_ids: list[int] | None = None, last_month: bool = True) -> CostSummary:
        """Live cost for the current month of some apps (or the fleet when `None`); without
        `last_month`, last month's total is left out (the first figures on screen need not
        wait for a finished month's draft to be read)."""
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._summary(app_ids, last_month))

    def _summary(self, app_ids: list[int] | None, with_last: bool = True) -> CostSummary:
        ctx = self.ctx
        period = ctx.period()
        with ctx.uow() as uow:
            totals = FleetTotals()
            if app_ids is None:
                totals = self.costing.fleet(uow, period)
            elif len(app_ids) > LINES_UP_TO:  # too many for lines: the figures, summed
                totals = self.costing.selection(uow, period, app_ids)
            else:
                shared: dict[int, list] = {}  # apps that did not change share one cost object
                for cost in self.costing.per_app(uow, period, app_ids).values():
                    shared.setdefault(id(cost), [cost, 0])[1] += 1
                for cost, n in shared.values():
                    totals.add(cost, n)
            last = self._last_month_total(uow, period.month.previous(), app_ids) if with_last else None
            daily = [ZERO] * period.days
            if app_ids is not None and len(app_ids) <= DAILY_UP_TO:
                for history in uow.history.states_between(period.start, period.end, app_ids).values():
                    daily = [a + b for a, b in zip(daily, daily_costs(history, period, ctx.prices))]
        lines = [LineView(item, setting, d, amt) for (item, setting), (d, amt) in totals.lines.items() if d]
        return CostSummary(
            period.key,
            totals.month_to_date,
            totals.projected,
            lines,
            last,
            daily,
            period.now,
            totals.apps,
            not with_last,
        )

    def _last_month_total(self, uow: UnitOfWork, month: Month, app_ids: list[int] | None) -> Decimal | None:
        """Last month's bill for the apps (or all): issued, or its draft (whose package lines are
        final, so kept, and whose overage is read afresh); None before its draft."""
        issued = uow.bills.issued_at(month) is not None
        if not issued and not uow.bills.is_drafted(month):
            return None
        if issued and app_ids is None:
            return from_cents(uow.bills.month_cents(month))
        key = (month, issued)
        per_app = self._finished.get(key)
        if per_app is None and app_ids is not None and len(app_ids) <= DAILY_UP_TO:  # a few need not wait for all
            per_app = (
                uow.bills.cents_by_app(month, app_ids) if issued else self._draft_package_cents(uow, month, app_ids)
            )
        elif per_app is None:
            per_app = self._finished[key] = (
                uow.bills.cents_by_app(month) if issued else self._draft_package_cents(uow, month)
            )
        cents = sum(per_app.values()) if app_ids is None else sum(map(per_app.get, app_ids, repeat(0)))
        if not issued:  # a draft: its usage may still change
            prices = self.ctx.prices
            over = uow.usage.over_quota(month, prices.dau.included, prices.groups.included)
            wanted = over.keys() if app_ids is None else over.keys() & set(app_ids)
            cents += sum(overage_cost(over[a], prices) for a in wanted)
        return from_cents(cents)

    def _draft_package_cents(self, uow: UnitOfWork, month: Month, app_ids: list[int] | None = None) -> dict[int, int]:
        """Each app's package cents of a finished month, from its month plan."""
        period = BillingPeriod.for_month(month, month.end(self.ctx.tz), self.ctx.tz)
        plans = fleet_plans(uow, self.ctx, period, app_ids) if app_ids else self.costing.plans(uow, period)
        whole = {text: curve[-1] for text, curve in plans.curves.items()}
        return {app_id: whole[text] for app_id, text in plans.plan_of.items() if whole[text]}
