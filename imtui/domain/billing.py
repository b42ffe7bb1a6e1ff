"""Daily proration and bill lines (domain.md §5).

Decision, daily proration: each billed item is charged per calendar day (billing time zone) at
the monthly price of the most expensive setting in effect at any moment of that day while the
app was active, divided by the days of the month. History retention is charged for the whole
month at the highest price in effect while active. A line is one app, item, priced setting and
month; its amount is price × days / days-in-month, rounded once to cents, half up.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate

from imtui.domain.calendar import Month, day_bounds
from imtui.domain.editions import HISTORY_DAYS, ITEMS, Package
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import ZERO, PriceList, from_cents

#: Items charged per day; history retention is charged per month.
DAILY_ITEMS = tuple(item for item in ITEMS if item != HISTORY_DAYS)


@dataclass(frozen=True, slots=True)
class State:
    """From `at` on, the app had `package` and was active (billed) or not."""

    at: datetime
    package: Package
    active: bool


@dataclass(frozen=True, slots=True)
class Span:
    """A package in effect over [start, end) while the app was active."""

    start: datetime
    end: datetime
    package: Package


@dataclass(frozen=True, slots=True)
class BillLine:
    """One item's priced setting over some days of one month."""

    item: str
    setting: str
    unit_price: Decimal
    days: int
    amount: Decimal


def active_spans(states: Sequence[State], start: datetime, end: datetime) -> list[Span]:
    """The active spans of an app's history clipped to [start, end).

    `states` are in time order; each holds until the next one. The last holds until `end`.
    """
    spans: list[Span] = []
    for i, state in enumerate(states):
        until = states[i + 1].at if i + 1 < len(states) else end
        lo, hi = max(state.at, start), min(until, end)
        if state.active and lo < hi:
            spans.append(Span(lo, hi, state.package))
    return spans


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One priced setting of a daily item over runs of days (0-based, both ends included)."""

    item: str
    setting: str
    price_cents: int
    runs: tuple[tuple[int, int], ...]

    def days(self, through: int) -> int:
        """Its days up to and including day `through`."""
        return sum(min(last, through) - first + 1 for first, last in self.runs if first <= through)


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """An app's month as priced runs of days: enough to bill it through any day with no history
    to read again. `plan_month` derives it from the app's states; it travels as text (`encode`),
    and the text of apps alike is the same, so a fleet's figures are worked out once per kind.

    `history` lists the history-retention settings in effect while active, in time order, each
    with the first day it applies; the month is charged at the dearest (the later on a tie)."""

    days: int
    daily: tuple[PlanLine, ...] = ()
    history: tuple[tuple[str, int, int], ...] = ()

    def lines(self, through: int | None = None) -> list[BillLine]:
        """The bill lines up to and including day `through` (the whole month by default)."""
        last = self.days - 1 if through is None else min(through, self.days - 1)
        lines = []
        for pl in self.daily:
            days = pl.days(last)
            if days:
                lines.append(_line(pl.item, pl.setting, pl.price_cents, days, self.days))
        history = self._history(last)
        if history is not None and history[1] > 0:
            lines.append(_line(HISTORY_DAYS, history[0], history[1], self.days, self.days))
        return lines

    def curve(self) -> tuple[int, ...]:
        """Month-to-date cents through each day of the month (its last is the projected total):
        every figure of the plan, worked out once and kept with it."""
        dim = self.days
        out = [0] * dim
        for pl in self.daily:
            covered = [0] * dim
            for first, last in pl.runs:
                covered[first : last + 1] = [1] * (last - first + 1)
            price = pl.price_cents
            out = [o + prorate_cents(price, held, dim) for o, held in zip(out, accumulate(covered))]
        best = None
        pending = list(self.history)  # in time order, so by first day
        for day in range(dim):
            while pending and pending[0][2] <= day:
                candidate = pending.pop(0)
                if best is None or candidate[1] >= best[1]:
                    best = candidate
            if best is not None:
                out[day] += best[1]
        return tuple(out)

    def _history(self, through: int) -> tuple[str, int, int] | None:
        best = None
        for candidate in self.history:
            if candidate[2] <= through and (best is None or candidate[1] >= best[1]):
                best = candidate
        return best

    def encode(self) -> str:
        """`30|edition:pro:44999:0-14,20-29;…|90:17999:0;…` (labels are digits or words)."""
        daily = ";".join(
            f"{pl.item}:{pl.setting}:{pl.price_cents}:" + ",".join(f"{a}-{b}" for a, b in pl.runs) for pl in self.daily
        )
        history = ";".join(f"{setting}:{cents}:{first}" for setting, cents, first in self.history)
        return f"{self.days}|{daily}|{history}"

    @classmethod
    def decode(cls, text: str) -> MonthPlan:
        days, daily, history = text.split("|")
        lines = tuple(map(_plan_line, daily.split(";"))) if daily else ()
        candidates = tuple(
            (setting, int(cents), int(first))
            for setting, cents, first in (c.split(":") for c in (history.split(";") if history else ()))
        )
        return cls(int(days), lines, candidates)


@lru_cache(maxsize=20_000)
def _line(item: str, setting: str, price_cents: int, days: int, days_in_month: int) -> BillLine:
    """A bill line of a monthly price prorated over some days (every day of the month: the
    price itself, as history retention is charged). The lines of a fleet's plans are few kinds:
    each is made once, and plans alike share it (a `BillLine` never changes)."""
    return BillLine(
        item, setting, from_cents(price_cents), days, from_cents(prorate_cents(price_cents, days, days_in_month))
    )


@lru_cache(maxsize=20_000)
def _plan_line(part: str) -> PlanLine:
    """One daily line of an encoded plan (`edition:pro:44999:0-14,20-29`): plans of a fleet share
    most of theirs, so each is read once."""
    item, setting, cents, runs = part.split(":")
    return PlanLine(item, setting, int(cents), tuple(tuple(map(int, run.split("-"))) for run in runs.split(",")))


def prorate_cents(price_cents: int, days: int, days_in_month: int) -> int:
    """The proration of every line: a monthly price (in cents) × days / days-in-month, rounded
    once to cents, half up."""
    return (2 * price_cents * days + days_in_month) // (2 * days_in_month)


DaysHeld = tuple[tuple[int, int, Package], ...]
"""An app's active spans in a month as the days each touches: (first day, last day, package)."""


def plan_month(spans: Iterable[Span], month: Month, tz: str, prices: PriceList) -> MonthPlan:
    """An app's month from its active spans in it (`plan_of_days` of `days_held`)."""
    return plan_of_days(days_held(spans, month, tz), month.days, prices)


def days_held(spans: Iterable[Span], month: Month, tz: str) -> DaysHeld:
    """The days of the month each active span touches, in time order. All a month's bill
    depends on: apps whose spans touch the same days with the same packages share one plan."""
    bounds = day_bounds(month, tz)
    last_day = month.days - 1
    ranges: list[tuple[int, int, Package]] = []
    for span in spans:
        first = max(bisect_right(bounds, span.start) - 1, 0)
        last = min(bisect_left(bounds, span.end) - 1, last_day)
        if first <= last:
            ranges.append((first, last, span.package))
    return tuple(ranges)


def plan_of_days(ranges: DaysHeld, days: int, prices: PriceList) -> MonthPlan:
    """A month of `days` days from the days its active spans touch: each day of each daily item
    goes to the dearest setting of that day (the later one on a tie in price).

    Spans are in time order, so in days they overlap only where one ends and the next begins:
    only those shared days are contested. Every other day belongs to the one span covering it,
    so each span owns one run of days per item."""
    if not ranges:
        return MonthPlan(days)
    ends = {d for first, last, _ in ranges for d in (first, last)}
    contested = {
        d: members for d in ends if len(members := [i for i, (f, l, _) in enumerate(ranges) if f <= d <= l]) > 1
    }
    daily: list[PlanLine] = []
    for item in DAILY_ITEMS:
        settings = [prices.setting(pkg.edition, item, pkg.value(item)) for _, _, pkg in ranges]
        winners = {d: max(members, key=lambda i: (settings[i][0], i)) for d, members in contested.items()}
        runs: dict[tuple[str, int], list[tuple[int, int]]] = {}
        for i, (first, last, _) in enumerate(ranges):
            cents, setting = settings[i]
            if cents <= 0:
                continue
            if winners.get(first, i) != i:
                first += 1
            if last >= first and winners.get(last, i) != i:
                last -= 1
            if first <= last:
                runs.setdefault((setting, cents), []).append((first, last))
        for (setting, cents), item_runs in sorted(runs.items(), key=lambda kv: -kv[0][1]):
            daily.append(PlanLine(item, setting, cents, tuple(item_runs)))
    history = tuple(
        (name, cents, first)
        for first, _, pkg in ranges
        for cents, name in [prices.setting(pkg.edition, HISTORY_DAYS, pkg.history_days)]
    )
    return MonthPlan(days, tuple(daily), history)


@dataclass(frozen=True, slots=True)
class PricedMonth:
    """A month plan as the fleet keeps it: its text (apps alike share one string) and its curve
    (`MonthPlan.curve()`: month-to-date cents through each day, the last is the projected cost)."""

    text: str
    curve: array


_PRICED: dict[tuple[DaysHeld, int, str], PricedMonth] = {}
PRICED_KEPT = 10_000
"""Kinds of month kept priced: a fleet's apps fall into a few thousand, and they recur from one
bulk operation or read to the next (the memo is emptied when it grows past this)."""


def priced_month(held: DaysHeld, days: int, prices: PriceList) -> PricedMonth:
    """The plan of a month of `days` days whose app held these packages on these days
    (`plan_of_days`), with its curve: the one way a month is priced for the fleet's figures,
    remembered per price list (a plan depends on nothing else)."""
    key = (held, days, prices.fingerprint)
    found = _PRICED.get(key)
    if found is None:
        if len(_PRICED) >= PRICED_KEPT:
            _PRICED.clear()
        plan = plan_of_days(held, days, prices)
        found = _PRICED[key] = PricedMonth(sys.intern(plan.encode()), array("i", plan.curve()))
    return found


def month_lines(
    spans: Iterable[Span],
    month: Month,
    tz: str,
    prices: PriceList,
    through_day: int | None = None,
) -> list[BillLine]:
    """The bill lines of one app for one month, from its active spans in that month.

    `through_day` (0-based, inclusive) limits the bill to the days up to it: month-to-date.
    """
    return plan_month(spans, month, tz, prices).lines(through_day)


def total(lines: Iterable[BillLine]) -> Decimal:
    """Sum of line amounts (already rounded)."""
    return sum((line.amount for line in lines), ZERO)


@dataclass(frozen=True, slots=True)
class LiveCost:
    """An app's current month: month-to-date and projected lines."""

    month_to_date: list[BillLine]
    projected: list[BillLine]
    mtd_total: Decimal
    projected_total: Decimal


def live_cost(
    states: Sequence[State], period: BillingPeriod, prices: PriceList, overage: Sequence[BillLine] = ()
) -> LiveCost:
    """Month-to-date (days up to and including today) and projected (nothing changes) cost.

    Usage overage cannot be foreseen: both include the overage of the peaks recorded so far."""
    month, tz = period.month, period.tz
    spans = active_spans(states, period.start, period.end)
    mtd = month_lines(spans, month, tz, prices, through_day=period.today) + list(overage)
    projected = month_lines(spans, month, tz, prices) + list(overage)
    return LiveCost(mtd, projected, total(mtd), total(projected))


def daily_costs(states: Sequence[State], period: BillingPeriod, prices: PriceList) -> list[Decimal]:
    """What each day of a month costs, for charts: each daily item's monthly price ÷ days of the
    month on the days its setting is billed (the month plan's runs), plus history retention's
    monthly price spread over the days the app was active."""
    held = days_held(active_spans(states, period.start, period.end), period.month, period.tz)
    plan = plan_of_days(held, period.month.days, prices)
    dim = plan.days
    daily = [ZERO] * dim
    for pl in plan.daily:
        share = from_cents(pl.price_cents) / dim
        for first, last in pl.runs:
            for day in range(first, last + 1):
                daily[day] += share
    history = plan._history(dim - 1)
    active = {day for first, last, _ in held for day in range(first, last + 1)}
    if history is not None and active:
        share = from_cents(history[1]) / len(active)
        for day in active:
            daily[day] += share
    return daily
