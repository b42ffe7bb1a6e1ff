"""Live cost of a month for every app, with usage overage: month plans written with every event,
read back for the whole fleet, and summed per kind of plan.

An app's month is a `MonthPlan` (priced runs of days) with its curve: its month-to-date cents
through each day. Every event writes its app's plan and curve of the event's month in the same
transaction (`record_plans`), so a reader only reads them; an app without an event in the month
kept one package and status all month and shares one plan per (package, active) with all such.
The fleet's month-to-date and projected figures are then one lookup per kind of plan (apps alike
share one text): a new day only looks at another day of the same curves, and after the first
read only apps with new events (and usage, when imported) are read again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from imtui.domain.billing import (
    BillLine,
    LiveCost,
    MonthPlan,
    PricedMonth,
    Span,
    active_spans,
    days_held,
    priced_month,
    total,
)
from imtui.domain.editions import Package
from imtui.domain.lifecycle import ACTIVE
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import ZERO, from_cents
from imtui.domain.usage import Peaks, overage_cost, overage_lines
from imtui.persistence.repos.plans import StoredPlan
from imtui.persistence.uow import UnitOfWork
from imtui.services.cache import FigureCache, MonthPlans, MonthTable
from imtui.services.context import ServiceContext

MANY = 5_000
"""From this many apps on, the whole month's history is read at once rather than app by app."""
DIRECT_UP_TO = 200
"""Up to this many apps are costed straight from the database while the fleet table is not ready."""


def priced_with(ctx: ServiceContext) -> str:
    """What a stored plan was worked out with: the price list and the billing time zone."""
    return f"{ctx.prices.fingerprint} {ctx.tz}"


def plans_of(uow: UnitOfWork, ctx: ServiceContext, app_ids: list[int], period: BillingPeriod) -> dict[int, PricedMonth]:
    """The month plans of some apps, worked out from their history (apps that did not exist in
    the month are left out)."""
    many = len(app_ids) > MANY
    states = uow.history.states_between(period.start, period.end, None if many else app_ids)
    wanted = set(app_ids) if many else None
    month, prices = period.month, ctx.prices
    plans = {}
    for app_id, history in states.items():
        if wanted is None or app_id in wanted:
            held = days_held(active_spans(history, period.start, period.end), month, ctx.tz)
            plans[app_id] = priced_month(held, month.days, prices)
    return plans


def record_plans(uow: UnitOfWork, ctx: ServiceContext, app_ids: list[int], period: BillingPeriod) -> None:
    """Writes down the month plans of apps whose history of the period's month just changed
    (inside the writing transaction, after their events). Every writer of events calls it: the
    readers rely on it (`fleet_plans`)."""
    if not app_ids:
        return
    newest = uow.history.newest_between(period.start, period.end, app_ids)
    key = priced_with(ctx)
    stored = {
        app_id: StoredPlan(newest[app_id], key, plan.text, plan.curve)
        for app_id, plan in plans_of(uow, ctx, app_ids, period).items()
        if app_id in newest
    }
    uow.plans.store(period.key, stored)


def fleet_plans(
    uow: UnitOfWork,
    ctx: ServiceContext,
    period: BillingPeriod,
    app_ids: list[int] | None = None,
    packages: Iterable[tuple[int, tuple]] | None = None,
) -> MonthPlans:
    """Every app's plan of a month (the current one or a past one), or the given apps' plans.

    Plans written with the apps' events are read as they are; an app is worked out from its
    history only when its plan was priced otherwise, when its events of the month predate
    stored plans, or (for a past month) when it changed after the month; the apps that kept one
    package and status all month share one plan. Apps that did not exist in the month are left
    out. `packages` — (app_id, (edition, status, live groups, groups per user, members per
    group, history days)) of every app, as the caller just read them — saves reading them again."""
    key = priced_with(ctx)
    plans = MonthPlans()
    priced_otherwise = []
    for app_id, _event, priced, text, curve in uow.plans.of_month(period.key, app_ids):
        if priced == key:
            plans.put(app_id, text, curve)
        else:
            priced_otherwise.append(app_id)
    unplanned = uow.history.newest_between(period.start, period.end, app_ids, up_to=uow.meta.plans_after_event)
    later = uow.history.apps_changed_since(period.end)  # their package then is not today's
    if app_ids is not None:
        later &= set(app_ids)
    plan_of, curves = plans.plan_of, plans.curves
    need = sorted({*unplanned, *priced_otherwise, *later} - plan_of.keys())
    for app_id, plan in (plans_of(uow, ctx, need, period) if need else {}).items():
        plans.put(app_id, plan.text, plan.curve)
    if packages is None:
        packages = (
            (a, (p.edition, status, p.live_groups, p.groups_per_user, p.members_per_group, p.history_days))
            for a, p, status in uow.apps.packages(app_ids)
        )
    steady: dict[tuple, str] = {}
    for app_id, fields in packages:  # most of the fleet: kept lean
        if app_id in plan_of or app_id in later:
            continue
        text = steady.get(fields)
        if text is None:
            edition, status, *values = fields
            plan = steady_plan(ctx, Package(edition, *values), status == ACTIVE, period)
            text = plan.text
            if text not in curves:
                curves[text] = plan.curve
            steady[fields] = text
        plan_of[app_id] = text
    return plans


def steady_plan(ctx: ServiceContext, package: Package, active: bool, period: BillingPeriod) -> PricedMonth:
    """The plan of an app that kept one package and status all month."""
    spans = [Span(period.start, period.end, package)] if active else []
    return priced_month(days_held(spans, period.month, ctx.tz), period.month.days, ctx.prices)


@dataclass
class FleetTotals:
    """The sum of some apps' live costs."""

    month_to_date: Decimal = ZERO
    projected: Decimal = ZERO
    lines: dict[tuple[str, str], list] = field(default_factory=dict)
    """(item, setting) → [days, month-to-date amount]."""
    apps: int = 0

    def add(self, cost: LiveCost, times: int = 1, lines: bool = True) -> None:
        """Adds `times` apps of this cost."""
        self.month_to_date += times * cost.mtd_total
        self.projected += times * cost.projected_total
        self.apps += times
        if not lines:
            return
        for ln in cost.month_to_date:
            entry = self.lines.setdefault((ln.item, ln.setting), [0, ZERO])
            entry[0] += times * ln.days
            entry[1] += times * ln.amount


class Costing:
    """The fleet's live costs: month tables kept in the `FigureCache` and brought up to date
    cheaply on each read."""

    def __init__(self, ctx: ServiceContext, cache: FigureCache):
        self.ctx = ctx
        self.cache = cache

    def _sync(self, uow: UnitOfWork, period: BillingPeriod) -> MonthTable:
        """Brings the month's table up to date with the database and the clock (what makes a
        kept table stale: `FigureCache`)."""
        last_event = uow.history.last_id()
        counter = uow.meta.counter()
        table = self.cache.months.get(period.month)
        if table is None:
            table = self._build(uow, period, last_event, counter)
        changed = False
        if table.today != period.today:
            table.today = period.today
            changed = True
        if last_event != table.last_event:
            apps = sorted(uow.history.apps_after(table.last_event))
            table.plans.update(fleet_plans(uow, self.ctx, period, apps))
            table.last_event = last_event
            changed = True
        if counter != table.counter:  # usage may have been imported
            table.overage, table.peaks = self._overage(uow, period)
            table.counter = counter
            changed = True
        if changed:
            table.figure()
        return table

    def _build(self, uow: UnitOfWork, period: BillingPeriod, last_event: int, counter: int) -> MonthTable:
        kept = self.cache.take_packages()
        packages, as_of = (kept.packages, kept.as_of) if kept is not None else (None, last_event)
        overage, peaks = self._overage(uow, period)
        plans = fleet_plans(uow, self.ctx, period, packages=packages)
        table = MonthTable(period.month, period.today, as_of, counter, plans, overage, peaks)
        table.figure()
        self.cache.keep_month(table, self.ctx.period().month)
        return table

    def _overage(self, uow: UnitOfWork, period: BillingPeriod) -> tuple[dict[int, int], dict[int, Peaks]]:
        prices = self.ctx.prices
        peaks = uow.usage.over_quota(period.month, prices.dau.included, prices.groups.included)
        return {app_id: overage_cost(p, prices) for app_id, p in peaks.items()}, peaks

    # --- what the services ask ---------------------------------------------------------------------

    def fleet(self, uow: UnitOfWork, period: BillingPeriod) -> FleetTotals:
        """The whole fleet's live cost."""
        with self.cache.lock:
            table = self._sync(uow, period)
            return FleetTotals(from_cents(table.mtd), from_cents(table.projected), {}, len(table.plans.plan_of))

    def by_owner(self, uow: UnitOfWork, period: BillingPeriod, owner_of: dict[int, int]) -> dict[int, tuple[int, int]]:
        """(month-to-date, projected) cents of each account's apps (`owner_of`: app → account
        id), usage overage included: `fleet()` summed per account, each plan's curve read once
        per account that has it."""
        with self.cache.lock:
            table = self._sync(uow, period)
            plan_of, curves, today = table.plans.plan_of, table.plans.curves, table.today
            sums: dict[int, list[int]] = {}
            for (owner, text), n in Counter((owner_of.get(a), t) for a, t in plan_of.items()).items():
                curve = curves[text]
                pair = sums.setdefault(owner, [0, 0])
                pair[0] += n * curve[today]
                pair[1] += n * curve[-1]
            for app_id, cents in table.overage.items():
                if app_id in plan_of:
                    pair = sums.setdefault(owner_of.get(app_id), [0, 0])
                    pair[0] += cents
                    pair[1] += cents
            return {owner: (m, p) for owner, (m, p) in sums.items()}

    def figures(self, uow: UnitOfWork, period: BillingPeriod) -> dict[int, tuple[Decimal, Decimal]]:
        """(month-to-date, projected) of every app; apps alike share one pair."""
        with self.cache.lock:
            table = self._sync(uow, period)
            pairs: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
            out = {}
            for app_id in table.plans.plan_of:
                cents = table.cents(app_id)
                pair = pairs.get(cents)
                if pair is None:
                    pair = pairs[cents] = (from_cents(cents[0]), from_cents(cents[1]))
                out[app_id] = pair
            return out

    def selection(self, uow: UnitOfWork, period: BillingPeriod, app_ids: list[int]) -> FleetTotals:
        """The live cost of many apps without their lines (a large mark): their figures summed in
        cents, the fleet total's way."""
        with self.cache.lock:
            table = self._sync(uow, period)
            mtd, projected, apps = table.plans.totals(table.today, app_ids)
            overage = table.overage_cents(set(app_ids))
            return FleetTotals(from_cents(mtd + overage), from_cents(projected + overage), {}, apps)

    def plans(self, uow: UnitOfWork, period: BillingPeriod) -> MonthPlans:
        """Every app's plan of a month (kept: a finished month's draft reads it again)."""
        with self.cache.lock:
            return self._sync(uow, period).plans

    def plans_copy(self, uow: UnitOfWork, period: BillingPeriod) -> MonthPlans:
        """`plans` as a copy of its own (taken while no other thread brings the table up to
        date), for a reader that walks it outside the lock (budgets, signals)."""
        with self.cache.lock:
            plans = self._sync(uow, period).plans
            return MonthPlans(dict(plans.plan_of), dict(plans.curves))

    def per_app(self, uow: UnitOfWork, period: BillingPeriod, app_ids: list[int]) -> dict[int, LiveCost]:
        """Each app's month-to-date and projected lines (usage overage included)."""
        with self.cache.lock:
            table = self.cache.months.get(period.month)
            current = table is not None and table.today == period.today
            if current or len(app_ids) > DIRECT_UP_TO:
                table = self._sync(uow, period)
                plan_of = table.plans.plan_of
                plans = {a: plan_of[a] for a in app_ids if a in plan_of}
                peaks = {a: table.peaks[a] for a in app_ids if a in table.peaks}
            else:  # a few apps need not wait for the whole table
                plans = fleet_plans(uow, self.ctx, period, app_ids).plan_of
                peaks = uow.usage.month_peaks(period.month, app_ids)
        out: dict[int, LiveCost] = {}
        shared: dict[tuple[str, int | None], LiveCost] = {}
        for app_id, text in plans.items():
            peak = peaks.get(app_id)
            key = (text, id(peak) if peak is not None else None)
            cost = shared.get(key)
            if cost is None:
                cost = shared[key] = _live(MonthPlan.decode(text), period.today, overage_lines(peak, self.ctx.prices))
            out[app_id] = cost
        return out


def _live(plan: MonthPlan, today: int, overage: list[BillLine]) -> LiveCost:
    mtd = plan.lines(today) + overage
    projected = plan.lines() + overage
    return LiveCost(mtd, projected, total(mtd), total(projected))
