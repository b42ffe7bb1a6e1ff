"""Bills: month close (issue once), issued and open bills, live costs and cost previews."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from imtui.domain.billing import (
    BillLine,
    active_spans,
    daily_costs,
    live_cost,
    month_lines,
)
from imtui.domain.calendar import Month
from imtui.domain.errors import InvalidInput, NotFound
from imtui.domain.prices import ZERO
from imtui.persistence import repo
from imtui.persistence.tables import MonthClose
from imtui.services.context import ServiceContext
from imtui.services.costing import Costing, FleetTotals
from imtui.services.models import AccountBill, AppBill, BillView, CostSummary, LineView

CENTS = Decimal(100)
LINES_UP_TO = 200
"""Per-item lines are summed for selections up to this size (the panel shows them for one app)."""


def to_cents(amount: Decimal) -> int:
    return int(amount * CENTS)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / CENTS).quantize(Decimal("0.01"))


def _views(lines: list[BillLine]) -> list[LineView]:
    return [LineView(ln.item, ln.setting, ln.days, ln.amount) for ln in lines]


def close_month(session: Session, ctx: ServiceContext, month: Month, now: datetime) -> bool:
    """Issues every account's bill for a finished month, once. Returns False if already closed."""
    if repo.is_closed(session, month):
        return False
    start, end = month.start(ctx.tz), month.end(ctx.tz)
    session.add(MonthClose(month=month.key, issued_at=now, actor=ctx.actor))
    session.flush()  # the primary key makes a concurrent second close fail here
    states = repo.states_between(session, start, end)
    owner = dict(repo.app_owners(session))
    lines_by_account: dict[int, list[tuple[int, BillLine]]] = defaultdict(list)
    for app_id, history in states.items():
        for line in month_lines(active_spans(history, start, end), month, ctx.tz, ctx.prices):
            lines_by_account[owner[app_id]].append((app_id, line))
    accounts = repo.accounts_existing_before(session, end)
    bill_ids = repo.insert_bills(
        session,
        month.key,
        now,
        {
            acc.id: sum(to_cents(line.amount) for _, line in lines_by_account.get(acc.id, ()))
            for acc in accounts
        },
    )
    repo.insert_bill_lines(
        session,
        [
            {
                "bill_id": bill_ids[account_id],
                "app_id": app_id,
                "item": line.item,
                "setting": line.setting,
                "unit_price_cents": to_cents(line.unit_price),
                "days": line.days,
                "amount_cents": to_cents(line.amount),
            }
            for account_id, lines in lines_by_account.items()
            if account_id in bill_ids
            for app_id, line in sorted(lines, key=lambda al: al[0])
        ],
    )
    repo.add_audit(
        session, now, ctx.actor, "close_month", None, "done",
        f"issued the bills of {month.key} for every account",
    )
    repo.advance_latest(session, end)
    return True


class BillingService:
    """Reads bills and live costs; month closes happen in `Housekeeping`."""

    def __init__(self, ctx: ServiceContext, housekeeping, costing: Costing):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self._issued_per_app: dict[Month, dict[int, int]] = {}
        self._issued_total: dict[Month, int] = {}

    async def bill(
        self, month: Month | None = None, account: str | None = None, app_id: int | None = None
    ) -> BillView:
        """The bill of a month: issued for a finished month, month-to-date for the current one."""
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._bill(month, account, app_id))

    def _bill(self, month: Month | None, account: str | None, app_id: int | None) -> BillView:
        ctx = self.ctx
        now = ctx.now()
        current = ctx.month(now)
        month = month or current
        if account is not None and "\x00" in account:
            raise InvalidInput("an account name cannot contain a NUL character")
        with ctx.uow() as uow:
            s = uow.session
            if account is not None and repo.find_account(s, account) is None:
                raise NotFound(f"no account named {account!r}")
            if app_id is not None and repo.get_app(s, app_id) is None:
                raise NotFound(f"no app {app_id}")
            created = repo.get_instant(s, repo.CREATED_AT)
            closed = repo.is_closed(s, month)
            if closed:
                return self._issued(s, month, closed.issued_at, account, app_id)
            if month > current:
                raise NotFound(f"month {month.key} has not started yet (it is now {current.key})")
            if created is None or month < Month.of(created, ctx.tz):
                raise NotFound(f"month {month.key} ended before this database was created")
            if month < current:
                # finished but not yet closed: only possible in a read that raced a close
                raise NotFound(f"month {month.key} is being closed; try again")
            return self._open(s, month, now, account, app_id)

    def _issued(self, s: Session, month: Month, issued_at, account, app_id) -> BillView:
        rows = repo.bills_of_month(s, month)
        lines = repo.lines_of_bills(s, [bill.id for bill, _ in rows])
        accounts: list[AccountBill] = []
        for bill, name in rows:
            if account is not None and name != account:
                continue
            per_app: dict[int, list[LineView]] = defaultdict(list)
            for ln in lines.get(bill.id, []):
                if app_id is None or ln.app_id == app_id:
                    per_app[ln.app_id].append(
                        LineView(ln.item, ln.setting, ln.days, from_cents(ln.amount_cents))
                    )
            apps = [
                AppBill(a, t, t, ls)
                for a, ls in sorted(per_app.items())
                for t in [sum((ln.amount for ln in ls), ZERO)]
            ]
            acc_total = sum((a.total for a in apps), ZERO)
            if apps:
                accounts.append(AccountBill(name, acc_total, acc_total, apps))
        grand = sum((a.total for a in accounts), ZERO)
        currency = self.ctx.prices.currency
        return BillView(month.key, currency, "issued", issued_at, grand, grand, accounts)

    def _open(self, s: Session, month: Month, now: datetime, account, app_id) -> BillView:
        ctx = self.ctx
        start, end = month.start(ctx.tz), month.end(ctx.tz)
        ids = None if app_id is None else [app_id]
        states = repo.states_between(s, start, end, ids)
        owners = dict(repo.apps_with_accounts(s, ids))
        per_account: dict[str, list[AppBill]] = defaultdict(list)
        for aid in sorted(states):
            name = owners.get(aid)
            if name is None or (account is not None and name != account):
                continue
            cost = live_cost(states[aid], month, ctx.tz, ctx.prices, now)
            if cost.projected:
                per_account[name].append(
                    AppBill(aid, cost.mtd_total, cost.projected_total, _views(cost.month_to_date), _views(cost.projected))
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
            month.key,
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
                return list(
                    uow.session.execute(
                        select(MonthClose.month).order_by(MonthClose.month.desc())
                    ).scalars()
                )

        return await self.ctx.run(read)

    async def cost_summary(self, app_ids: list[int] | None = None) -> CostSummary:
        """Live cost for the current month of some apps (or the fleet when `None`)."""
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._summary(app_ids))

    def _summary(self, app_ids: list[int] | None) -> CostSummary:
        ctx = self.ctx
        now = ctx.now()
        month = ctx.month(now)
        with ctx.uow() as uow:
            s = uow.session
            totals = FleetTotals()
            if app_ids is None:
                totals = self.costing.fleet(s, now)
            else:
                shared: dict[int, list] = {}  # apps that did not change share one cost object
                for cost in self.costing.per_app(s, now, app_ids).values():
                    shared.setdefault(id(cost), [cost, 0])[1] += 1
                with_lines = len(app_ids) <= LINES_UP_TO
                for cost, n in shared.values():
                    totals.add(cost, n, with_lines)
            last = self._last_month_total(s, month.previous(), app_ids)
            daily = [ZERO] * month.days
            if app_ids is not None and len(app_ids) <= 200:
                start, end = month.start(ctx.tz), month.end(ctx.tz)
                for hist in repo.states_between(s, start, end, app_ids).values():
                    daily = [a + b for a, b in zip(daily, daily_costs(hist, month, ctx.tz, ctx.prices))]
        lines = [
            LineView(item, setting, d, amt) for (item, setting), (d, amt) in totals.lines.items() if d
        ]
        return CostSummary(
            month.key, totals.month_to_date, totals.projected, lines, last, daily, now, totals.apps
        )

    def _last_month_total(self, s: Session, month: Month, app_ids: list[int] | None) -> Decimal | None:
        """The issued total of `month` for the apps (or all); None before it is issued."""
        if not repo.is_closed(s, month):
            return None
        per_app = self._issued_per_app.get(month)
        if per_app is None:  # issued bills never change, so this is kept
            per_app = self._issued_per_app[month] = repo.issued_amounts_by_app(s, month.key)
            self._issued_total[month] = sum(per_app.values())
        cents = self._issued_total[month] if app_ids is None else sum(per_app.get(a, 0) for a in app_ids)
        return from_cents(cents)
