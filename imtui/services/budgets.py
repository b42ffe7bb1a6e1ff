"""Budgets (signals.md §1): set, changed and removed as audited operations, and held against the
current month's month-to-date and projected cost of their account or of the fleet.

The figures are the ones `bills` and the dashboard show, from the same kept month plans
(`Costing`): each app's month-to-date cents through each day and its whole month, plus usage
overage of the peaks recorded so far, summed per account in whole cents. `month_figures` also
gives them day by day (for a signal's `since`, `services.signals`), reading the packed usage of
only the few apps billed an overage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.billing import MonthPlan
from imtui.domain.budgets import (
    DEFAULT_WARN_AT,
    Budget,
    BudgetStatus,
    budget_state,
    check_amount,
    check_warn_at,
    describe_change,
    unchanged,
)
from imtui.domain.calendar import zone
from imtui.domain.errors import InvalidInput, NotFound
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import from_cents
from imtui.domain.signals import overage_cents_by_day, projection_curves
from imtui.domain.timeline import check_not_before
from imtui.domain.usage import overage_cost
from imtui.persistence.repos.usage import DAU_AT, GROUPS_AT, SLOTS, first_paid_index
from imtui.persistence.uow import UnitOfWork
from imtui.services.billing import BillingService
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.costing import Costing
from imtui.services.housekeeping import Housekeeping
from imtui.services.use_case import use_case

BUDGET = "budget"


@dataclass
class Series:
    """A subject's (the fleet's or an account's) cost of the current month in cents, day by day:
    `month_to_date[i]` through day i, `projected[i]` as the data shows it for day i (0 … today;
    the last of each is now's, exactly as the bill counts it)."""

    month_to_date: list[int]
    projected: list[int]

    @property
    def now(self) -> tuple[int, int]:
        return self.month_to_date[-1], self.projected[-1]


@dataclass
class MonthFigures:
    """The current month's cost of the fleet and of some accounts (by name)."""

    period: BillingPeriod
    fleet: Series
    accounts: dict[str, Series] = field(default_factory=dict)

    def of(self, account: str | None) -> Series:
        """The fleet's (None) or an account's figures (nothing billed: all zero)."""
        if account is None:
            return self.fleet
        found = self.accounts.get(account)
        if found is None:
            zeros = [0] * len(self.fleet.month_to_date)
            return Series(zeros, list(zeros))
        return found


def month_figures(
    uow: UnitOfWork,
    ctx: ServiceContext,
    costing: Costing,
    period: BillingPeriod,
    accounts: Iterable[str] | None = (),
    by_day: bool = False,
) -> MonthFigures:
    """The fleet's figures and those of the accounts named (None: every account), now only or
    (`by_day`) through each day of the month so far. Apps alike share a plan, so each plan's
    curve is read once per account; usage overage is per app, of the few apps above a quota."""
    today = period.today
    plans = costing.plans_copy(uow, period)  # the dashboard's other threads may update the kept one
    plan_of, curves = plans.plan_of, plans.curves
    names = uow.accounts.names()
    wanted_names = set(names.values()) if accounts is None else set(accounts)
    wanted = sorted(i for i, n in names.items() if n in wanted_names)
    owner_of: dict[int, int] = uow.apps.owners() if wanted else {}
    prices = ctx.prices
    peaks = {
        a: p
        for a, p in uow.usage.over_quota(period.month, prices.dau.included, prices.groups.included).items()
        if a in plan_of
    }
    overage_now = {a: overage_cost(p, prices) for a, p in peaks.items()}
    if by_day:
        return _by_day(uow, ctx, period, plan_of, curves, names, wanted, owner_of, peaks, overage_now)
    get = owner_of.get
    wanted_set = set(wanted)
    per_account = Counter((get(a), text) for a, text in plan_of.items() if get(a) in wanted_set)
    mtd: dict[int | None, int] = {}
    projected: dict[int | None, int] = {}
    for (owner, text), n in per_account.items():
        curve = curves[text]
        mtd[owner] = mtd.get(owner, 0) + n * curve[today]
        projected[owner] = projected.get(owner, 0) + n * curve[-1]
    fleet_mtd = fleet_projected = 0
    for text, n in Counter(plan_of.values()).items():
        curve = curves[text]
        fleet_mtd += n * curve[today]
        fleet_projected += n * curve[-1]
    extra = sum(overage_now.values())
    out = MonthFigures(period, Series([fleet_mtd + extra], [fleet_projected + extra]))
    for a, cents in overage_now.items():
        owner = get(a)
        if owner in wanted_set:
            mtd[owner] = mtd.get(owner, 0) + cents
            projected[owner] = projected.get(owner, 0) + cents
    for account_id in wanted:
        out.accounts[names[account_id]] = Series([mtd.get(account_id, 0)], [projected.get(account_id, 0)])
    return out


def _by_day(uow, ctx, period, plan_of, curves, names, wanted, owner_of, peaks, overage_now) -> MonthFigures:
    """`month_figures` through each day so far, side by side in NumPy: every kind of plan's
    month-to-date and projection by day (`projection_curves`), summed per account by how many of
    its apps have each; overage by day per app (`overage_cents_by_day`), from the packed month."""
    import numpy as np

    today = period.today
    days = today + 1
    texts = list({t: None for t in plan_of.values()})
    at = {t: i for i, t in enumerate(texts)}
    dim = period.days
    whole = np.frombuffer(b"".join(curves[t].tobytes() for t in texts), dtype=np.int32).reshape(len(texts), dim)
    mtd = whole[:, :days].astype(np.int64)
    ahead = projection_curves([MonthPlan.decode(t) for t in texts], dim)[:, :days]
    ahead[:, today] = whole[:, -1]  # now's: exactly the bill's projection
    rows = {None: 0} | {account_id: k + 1 for k, account_id in enumerate(wanted)}  # row 0: the fleet
    total_mtd = np.zeros((len(rows), days), dtype=np.int64)
    total_ahead = np.zeros((len(rows), days), dtype=np.int64)
    fleet_counts = Counter(plan_of.values())
    kinds = np.fromiter((at[t] for t in fleet_counts), dtype=np.int64, count=len(fleet_counts))
    n = np.fromiter(fleet_counts.values(), dtype=np.int64, count=len(fleet_counts))[:, None]
    total_mtd[0] = (n * mtd[kinds]).sum(axis=0)
    total_ahead[0] = (n * ahead[kinds]).sum(axis=0)
    if wanted:
        get = owner_of.get
        pairs = Counter((get(a), t) for a, t in plan_of.items() if get(a) in rows)
        pairs.pop(None, None)
        if pairs:
            where = np.fromiter((rows[o] for o, _ in pairs), dtype=np.int64, count=len(pairs))
            kinds = np.fromiter((at[t] for _, t in pairs), dtype=np.int64, count=len(pairs))
            n = np.fromiter(pairs.values(), dtype=np.int64, count=len(pairs))[:, None]
            np.add.at(total_mtd, where, n * mtd[kinds])
            np.add.at(total_ahead, where, n * ahead[kinds])
    if peaks:
        ids = sorted(peaks)
        matrix = uow.usage.load_matrix([(a, period.key) for a in ids])
        paid = uow.usage.paid_since(ids)
        tz = zone(ctx.tz)
        first = np.array([first_paid_day(period.key, paid.get(a), tz) for a in ids], dtype=np.int64)
        cents = overage_cents_by_day(
            matrix[:, DAU_AT : DAU_AT + SLOTS], matrix[:, GROUPS_AT : GROUPS_AT + SLOTS], first, ctx.prices
        )[:, :days]
        cents[:, today] = [overage_now[a] for a in ids]  # today's is exactly the bill's
        extra = np.zeros((len(rows), days), dtype=np.int64)
        extra[0] = cents.sum(axis=0)
        for i, a in enumerate(ids):
            row = rows.get(owner_of.get(a))
            if row:
                extra[row] += cents[i]
        total_mtd += extra
        total_ahead += extra
    out = MonthFigures(period, Series(total_mtd[0].tolist(), total_ahead[0].tolist()))
    for account_id, row in rows.items():
        if account_id is not None:
            out.accounts[names[account_id]] = Series(total_mtd[row].tolist(), total_ahead[row].tolist())
    return out


def first_paid_day(month: str, paid_since: datetime | None, tz) -> int:
    """The first paid day of `month` (0-based; past the month when never paid)."""
    if paid_since is None:
        return SLOTS
    first = first_paid_index(month, paid_since.astimezone(tz).date())
    return SLOTS if first is None else first


@dataclass(frozen=True)
class BudgetChange:
    """What `set` or `remove` did: the budget before and after (None: none), and its status now."""

    account: str | None
    before: Budget | None
    after: Budget | None
    status: BudgetStatus | None
    """The budget held against this month's figures (None once removed)."""
    changed: bool


@dataclass(frozen=True)
class AccountFigures:
    """One row of the dashboard's Accounts screen: an account (None: the whole fleet), its apps
    that are not purged, this month's month-to-date and projected cost, last month's bill (None
    before last month's draft) and its budget held against them (None: no budget)."""

    account: str | None
    apps: int
    month_to_date: Decimal
    projected: Decimal
    last_month: Decimal | None
    budget: BudgetStatus | None


class BudgetService:
    """Budgets: set, removed and listed against the month's figures."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping, costing: Costing, billing: BillingService):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self.billing = billing

    @use_case()
    async def list(self) -> list[BudgetStatus]:
        """Every budget (the fleet's first, then the accounts' by name) with this month's
        month-to-date, projected, use and state."""
        return await self.ctx.run(self._list)

    def _list(self) -> list[BudgetStatus]:
        ctx = self.ctx
        period = ctx.period()
        with ctx.uow() as uow, no_cyclic_gc():
            budgets = uow.budgets.all()
            if not budgets:
                return []
            figures = month_figures(uow, ctx, self.costing, period, [b.account for b in budgets if b.account])
        return [status_of(b, figures) for b in budgets]

    @use_case()
    async def accounts(self) -> list[AccountFigures]:
        """The fleet, then every account by name, with this month's figures, last month's bill
        and the budget's state: what the Accounts screen lists."""
        return await self.ctx.run(self._accounts)

    def _accounts(self) -> list[AccountFigures]:
        ctx = self.ctx
        period = ctx.period()
        with ctx.uow() as uow, no_cyclic_gc():
            figures = month_figures(uow, ctx, self.costing, period, None)
            budgets = {b.account: b for b in uow.budgets.all()}
            names = uow.accounts.names()
            owner_of = uow.apps.owners()
            apps = uow.apps.not_purged_by_account()
            last = self.billing.finished_cents_by_account(uow, period.month.previous(), owner_of)
        last_of = last or {}

        def row(name: str | None, n: int, last_cents: int) -> AccountFigures:
            mtd, projected = figures.of(name).now
            budget = budgets.get(name)
            return AccountFigures(
                name,
                n,
                from_cents(mtd),
                from_cents(projected),
                None if last is None else from_cents(last_cents),
                None if budget is None else status_of(budget, figures),
            )

        rows = [row(None, sum(apps.values()), sum(last_of.values()))]
        for account_id, name in sorted(names.items(), key=lambda item: item[1]):
            rows.append(row(name, apps.get(account_id, 0), last_of.get(account_id, 0)))
        return rows

    @use_case(writes=True)
    async def set(self, account: str | None, amount, warn_at: int | str | None = None) -> BudgetChange:
        """Sets or changes the budget of an account (None: the fleet's); operator, audited.
        Without `warn_at` a change keeps the budget's threshold (a new budget gets 80 %)."""
        return await self._change(account, amount, warn_at, remove=False)

    @use_case(writes=True)
    async def remove(self, account: str | None) -> BudgetChange:
        """Removes the budget of an account (None: the fleet's); operator, audited. Removing a
        budget that does not exist changes nothing (exit 0, said on standard error)."""
        return await self._change(account, None, None, remove=True)

    async def _change(self, account: str | None, amount, warn_at, remove: bool) -> BudgetChange:
        ctx = self.ctx

        def write(now: datetime) -> BudgetChange:
            name = None if account is None else _account_name(account)
            value = None if remove else check_amount(amount)
            threshold = None if warn_at is None else check_warn_at(warn_at)
            with ctx.uow(write=True) as uow:
                ctx.require(uow, BUDGET)
                check_not_before(now, uow.meta.latest, ctx.tz)
                account_id = None
                if name is not None:
                    account_id = uow.accounts.find(name)
                    if account_id is None:
                        raise NotFound(f"no account named {name!r}")
                before = uow.budgets.get(account_id)
                after = None
                if not remove:
                    keep = before.warn_at if before is not None else DEFAULT_WARN_AT
                    after = Budget(name, value, threshold if threshold is not None else keep, now, ctx.actor)
                same = unchanged(before, after)
                uow.audit.add(AuditEntry(now, ctx.actor, BUDGET, None, DONE, describe_change(name, before, after)))
                if not same:
                    if after is None:
                        uow.budgets.remove(account_id)
                    else:
                        uow.budgets.put(account_id, after)
                    uow.meta.advance_latest(now)  # a request that changes nothing does not move it
                uow.meta.bump_counter()
                uow.commit()
            return BudgetChange(name, before, after if not same else before, None, not same)

        change = await ctx.audited(BUDGET, None, write)
        kept = change.after
        if kept is None:
            return change
        status = await self.ctx.run(lambda: self._status(kept))
        return BudgetChange(change.account, change.before, kept, status, change.changed)

    def _status(self, budget: Budget) -> BudgetStatus:
        ctx = self.ctx
        with ctx.uow() as uow, no_cyclic_gc():
            figures = month_figures(uow, ctx, self.costing, ctx.period(), [budget.account] if budget.account else [])
        return status_of(budget, figures)


def status_of(budget: Budget, figures: MonthFigures) -> BudgetStatus:
    mtd, projected = figures.of(budget.account).now
    return budget_state(budget, from_cents(mtd), from_cents(projected))


def _account_name(account: str) -> str:
    """An account named on the command line, looked up as given (an unknown name is exit 4)."""
    if "\x00" in account:
        raise InvalidInput("an account name cannot contain a NUL character")
    return account
