"""Bills: issued, draft and open bills, their FOCUS export, and the live cost of the current month
(the month's close itself is `month_close`, carried out by `Housekeeping`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import TypeVar

from imtui.domain.billing import BillLine, daily_costs, total
from imtui.domain.calendar import Month
from imtui.domain.errors import NotFound
from imtui.domain.focus import FocusBill, FocusRows
from imtui.domain.month_close import DRAFT, ISSUED, OPEN
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import ZERO, from_cents
from imtui.domain.usage import overage_cost
from imtui.persistence.repos.apps import FLEET_AT, FLEET_PACKAGE
from imtui.persistence.uow import UnitOfWork
from imtui.services.cache import FigureCache
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.costing import Costing, FleetTotals, fleet_plans
from imtui.services.housekeeping import Housekeeping
from imtui.services.models import AccountBill, AppBill, BillView, CostSummary, LineView
from imtui.services.month_close import plan_lines
from imtui.services.use_case import account_named, use_case

T = TypeVar("T")
_ACCOUNT = FLEET_AT["account"]

LINES_UP_TO = 200
"""Per-item lines are summed for selections up to this size (the panel shows them for one app)."""
DAILY_UP_TO = 200
"""The daily-cost chart is drawn for selections up to this size."""


def _views(lines: list[BillLine]) -> list[LineView]:
    return [LineView(ln.item, ln.setting, ln.days, ln.amount) for ln in lines]


def billed_apps(
    uow: UnitOfWork,
    ctx: ServiceContext,
    period: BillingPeriod,
    account: str | None,
    app_id: int | None,
    owners: dict[int, str] | None = None,
    to_date: bool = True,
    whole: bool = True,
    packages: Iterable[tuple[int, tuple]] | None = None,
) -> list[tuple[str, int, list[BillLine] | None, list[BillLine] | None]]:
    """`plan_lines` of a computed bill (of one account or app, or all) with each app's account
    (`owners`, read when not given), by account name, then app ID: what `bills` shows and
    `bills export` writes."""
    ids = None if app_id is None else [app_id]
    if owners is None:
        owners = uow.apps.accounts_of(ids)
    billed = [
        (name, aid, mtd, month)
        for aid, mtd, month in plan_lines(uow, ctx, period, ids, to_date, whole, packages)
        if (name := owners.get(aid)) is not None and (account is None or name == account)
    ]
    billed.sort(key=itemgetter(0))  # stable: by app ID within an account
    return billed


def _fleet_labels(uow: UnitOfWork) -> tuple[dict[int, str], dict[int, str], list[tuple[int, tuple]]]:
    """Every app's name, its account's name, and its package as `fleet_plans` takes them, from
    one read of the fleet (the fleet table's, without a join)."""
    accounts = uow.accounts.names()
    names: dict[int, str] = {}
    owners: dict[int, str] = {}
    packages: list[tuple[int, tuple]] = []
    for batch in uow.apps.fleet_rows():
        for r in batch:
            names[r[0]] = r[1]
            owners[r[0]] = accounts[r[_ACCOUNT]]
            packages.append((r[0], r[FLEET_PACKAGE]))
    return names, owners, packages


def _issued_apps(
    uow: UnitOfWork, month: Month, account: str | None, names: dict[int, str]
) -> Iterator[tuple[str, int, str, list[BillLine]]]:
    """The issued lines of a month (of one account, or all) as (account, app ID, app name,
    lines), in the order `bill` shows them, read a batch at a time; lines alike share one value."""
    shared: dict[tuple, BillLine] = {}
    key = None
    lines: list[BillLine] = []
    for batch in uow.bills.line_batches(month, account):
        for name, app_id, item, setting, unit_cents, days, cents in batch:
            fields = (item, setting, unit_cents, days, cents)
            line = shared.get(fields)
            if line is None:
                line = shared[fields] = BillLine(item, setting, from_cents(unit_cents), days, from_cents(cents))
            if (name, app_id) != key:
                if lines:
                    yield key[0], key[1], names.get(key[1], ""), lines
                key, lines = (name, app_id), []
            lines.append(line)
    if lines:
        yield key[0], key[1], names.get(key[1], ""), lines


class BillingService:
    """Reads bills and live costs; month closes happen in `Housekeeping`."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping, costing: Costing, cache: FigureCache):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self.cache = cache

    @use_case(check=account_named)
    async def bill(self, month: Month | None = None, account: str | None = None, app_id: int | None = None) -> BillView:
        """The bill of a month: issued for a finished month, month-to-date for the current one."""
        return await self.ctx.run(lambda: self._bill(month, account, app_id))

    def _bill(self, month: Month | None, account: str | None, app_id: int | None) -> BillView:
        ctx = self.ctx
        current = ctx.period()
        with ctx.uow() as uow:
            state, period, issued_at = self._month(uow, month or current.month, current, account, app_id)
            if state == ISSUED:
                return self._issued(uow, period.month, issued_at, account, app_id)
            return self._computed(uow, period, state, account, app_id)

    def _month(
        self, uow: UnitOfWork, month: Month, current: BillingPeriod, account: str | None, app_id: int | None = None
    ) -> tuple[str, BillingPeriod, datetime | None]:
        """Which bill a month has now (`issued`, `draft` or `open`), its period and when it was
        issued; refuses an unknown account or app and a month without a bill."""
        ctx = self.ctx
        if account is not None and uow.accounts.find(account) is None:
            raise NotFound(f"no account named {account!r}")
        if app_id is not None and uow.apps.get(app_id) is None:
            raise NotFound(f"no app {app_id}")
        issued_at = uow.bills.issued_at(month)
        if issued_at is not None:
            return ISSUED, BillingPeriod.for_month(month, current.now, ctx.tz), issued_at
        if uow.bills.is_drafted(month):
            return DRAFT, BillingPeriod.for_month(month, current.now, ctx.tz), None
        created = uow.meta.created_at
        if month > current.month:
            raise NotFound(f"month {month.key} has not started yet (it is now {current.key})")
        if created is None or month < Month.of(created, ctx.tz):
            raise NotFound(f"month {month.key} ended before this database was created")
        if month < current.month:
            # finished but not yet closed: only possible in a read that raced a close
            raise NotFound(f"month {month.key} is being closed; try again")
        return OPEN, current, None

    @use_case(check=account_named)
    async def export(self, month: Month | None, account: str | None, write: Callable[[Iterator[str]], T]) -> T:
        """A month's bill as the lines of a FOCUS CSV file (`domain.focus`: the header, then one
        row per line `bill` shows), handed to `write` as they are made: it runs in a worker
        thread while the database is read, so a whole fleet's rows are never held at once."""
        return await self.ctx.run(lambda: self._export(month, account, write))

    def _export(self, month: Month | None, account: str | None, write: Callable[[Iterator[str]], T]) -> T:
        ctx = self.ctx
        current = ctx.period()
        with ctx.uow() as uow, no_cyclic_gc():
            state, period, _ = self._month(uow, month or current.month, current, account)
            head = FocusBill(period.key, state, ctx.prices.currency, period.start, period.end, period.days)
            if state == ISSUED:
                apps = _issued_apps(uow, period.month, account, uow.apps.names())
            else:
                if state == DRAFT:
                    period = BillingPeriod.for_month(period.month, period.end, ctx.tz)  # seen from its end
                names, owners, packages = _fleet_labels(uow)
                open_ = state == OPEN
                billed = billed_apps(uow, ctx, period, account, None, owners, open_, not open_, packages)
                del owners, packages
                apps = ((owner, aid, names[aid], mtd or whole) for owner, aid, mtd, whole in billed)
            return write(FocusRows(head, ctx.prices).lines(apps))

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
        if state == DRAFT:
            period = BillingPeriod.for_month(period.month, period.end, ctx.tz)  # seen from its end
        per_account: dict[str, list[AppBill]] = defaultdict(list)
        for name, aid, mtd, whole in billed_apps(uow, ctx, period, account, app_id):
            shown = mtd if state == OPEN else whole
            per_account[name].append(AppBill(aid, total(shown), total(whole), _views(shown)))
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

    @use_case(catches_up=False)
    async def months(self) -> list[str]:
        """Finished months with a draft or issued bill, newest first."""

        def read() -> list[str]:
            with self.ctx.uow() as uow:
                return uow.bills.drafted_months()

        return await self.ctx.run(read)

    @use_case()
    async def cost_summary(self, app_ids: list[int] | None = None, last_month: bool = True) -> CostSummary:
        """Live cost for the current month of some apps (or the fleet when `None`); without
        `last_month`, last month's total is left out (the first figures on screen need not
        wait for a finished month's draft to be read)."""
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
        if self.cache.has_finished(month, issued) or app_ids is None or len(app_ids) > DAILY_UP_TO:
            per_app = self.finished_cents_by_app(uow, month) or {}
            return from_cents(sum(per_app.values()) if app_ids is None else sum(map(per_app.get, app_ids, repeat(0))))
        # a few apps need not wait for all
        per_app = uow.bills.cents_by_app(month, app_ids) if issued else self._draft_package_cents(uow, month, app_ids)
        cents = sum(map(per_app.get, app_ids, repeat(0)))
        if not issued:  # a draft: its usage may still change
            prices = self.ctx.prices
            over = uow.usage.over_quota(month, prices.dau.included, prices.groups.included)
            cents += sum(overage_cost(over[a], prices) for a in over.keys() & set(app_ids))
        return from_cents(cents)

    def finished_cents_by_account(
        self, uow: UnitOfWork, month: Month, owner_of: dict[int, int]
    ) -> dict[int, int] | None:
        """Each account's cents of a finished month (by account id; `owner_of`: each app's
        account id): its issued bill, or its draft summed over its apps; None before the draft."""
        if uow.bills.issued_at(month) is not None:
            return uow.bills.totals_by_account(month)
        per_app = self.finished_cents_by_app(uow, month)
        if per_app is None:
            return None
        out: dict[int, int] = {}
        for app_id, cents in per_app.items():
            owner = owner_of[app_id]
            out[owner] = out.get(owner, 0) + cents
        return out

    def finished_cents_by_app(self, uow: UnitOfWork, month: Month) -> dict[int, int] | None:
        """Every app's cents of a finished month: its issued bill, or its draft (package lines
        kept, overage read afresh); None before its draft (the Accounts screen's last month)."""
        issued = uow.bills.issued_at(month) is not None
        if not issued and not uow.bills.is_drafted(month):
            return None
        per_app = self.cache.finished_cents(
            month, issued, lambda: uow.bills.cents_by_app(month) if issued else self._draft_package_cents(uow, month)
        )
        if issued:
            return per_app
        prices = self.ctx.prices
        out = dict(per_app)
        for a, peaks in uow.usage.over_quota(month, prices.dau.included, prices.groups.included).items():
            out[a] = out.get(a, 0) + overage_cost(peaks, prices)
        return out

    def _draft_package_cents(self, uow: UnitOfWork, month: Month, app_ids: list[int] | None = None) -> dict[int, int]:
        """Each app's package cents of a finished month, from its month plan."""
        period = BillingPeriod.for_month(month, month.end(self.ctx.tz), self.ctx.tz)
        plans = fleet_plans(uow, self.ctx, period, app_ids) if app_ids else self.costing.plans(uow, period)
        whole = {text: curve[-1] for text, curve in plans.curves.items()}
        return {app_id: whole[text] for app_id, text in plans.plan_of.items() if whole[text]}
