"""Daily proration and bill lines (domain.md §5).

Decision, daily proration: each billed item is charged per calendar day (billing time zone) at
the monthly price of the most expensive setting in effect at any moment of that day while the
app was active, divided by the days of the month. History retention is charged for the whole
month at the highest price in effect while active. A line is one app, item, priced setting and
month; its amount is price × days / days-in-month, rounded once to cents, half up.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import accumulate

from imtui.domain.calendar import Month, day_bounds
from imtui.domain.editions import HISTORY_DAYS, ITEMS, Package, label
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import CENT, ZERO, PriceList

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


def prorate(price: Decimal, days: int, days_in_month: int) -> Decimal:
    """price × days / days-in-month, rounded once to cents, half up."""
    return (price * days / days_in_month).quantize(CENT, rounding=ROUND_HALF_UP)


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


def _dearest_by_day(
    spans: Iterable[Span], month: Month, tz: str, prices: PriceList, last_day: int
) -> tuple[dict[str, dict[int, tuple[Decimal, datetime, str]]], tuple | None, set[int]]:
    """Per daily item and day the dearest setting (price, since, label); history's dearest
    setting of the month; and the days on which the app was active at all."""
    bounds = day_bounds(month, tz)
    best: dict[str, dict[int, tuple[Decimal, datetime, str]]] = {item: {} for item in DAILY_ITEMS}
    history: tuple[Decimal, datetime, str] | None = None
    active_days: set[int] = set()
    for span in spans:
        first = max(bisect_right(bounds, span.start) - 1, 0)
        last = min(bisect_left(bounds, span.end) - 1, last_day)
        if first > last:
            continue
        active_days.update(range(first, last + 1))
        pkg = span.package
        for item in DAILY_ITEMS:
            value = pkg.value(item)
            candidate = (prices.price(pkg.edition, item, value), span.start, label(item, value))
            days = best[item]
            for day in range(first, last + 1):
                held = days.get(day)
                # on a tie in price the setting in effect later that day wins
                if held is None or candidate[:2] >= held[:2]:
                    days[day] = candidate
        value = pkg.history_days
        candidate = (prices.price(pkg.edition, HISTORY_DAYS, value), span.start, label(HISTORY_DAYS, value))
        if history is None or candidate[:2] >= history[:2]:
            history = candidate
    return best, history, active_days


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

    def cents(self, through: int) -> tuple[int, int]:
        """(month-to-date through day `through`, projected) in cents: integer arithmetic only."""
        mtd = projected = 0
        dim = self.days
        for pl in self.daily:
            mtd += prorate_cents(pl.price_cents, pl.days(through), dim)
            projected += prorate_cents(pl.price_cents, pl.days(dim - 1), dim)
        history = self._history(through)
        if history is not None:
            mtd += history[1]
        history = self._history(dim - 1)
        if history is not None:
            projected += history[1]
        return mtd, projected

    def curve(self) -> tuple[int, ...]:
        """Month-to-date cents through each day of the month (its last is the projected total):
        every figure of the plan, worked out once and kept with it."""
        dim = self.days
        out = [0] * dim
        for pl in self.daily:
            covered = [0] * dim
            for first, last in pl.runs:
                covered[first : last + 1] = [1] * (last - first + 1)
            twice = 2 * pl.price_cents
            # `prorate_cents` of the days held so far, written out: this runs for every plan kept
            out = [o + (twice * held + dim) // (2 * dim) for o, held in zip(out, accumulate(covered))]
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
    price = from_cents(price_cents)
    return BillLine(item, setting, price, days, prorate(price, days, days_in_month))


@lru_cache(maxsize=20_000)
def _plan_line(part: str) -> PlanLine:
    """One daily line of an encoded plan (`edition:pro:44999:0-14,20-29`): plans of a fleet share
    most of theirs, so each is read once."""
    item, setting, cents, runs = part.split(":")
    return PlanLine(item, setting, int(cents), tuple(tuple(map(int, run.split("-"))) for run in runs.split(",")))


def prorate_cents(price_cents: int, days: int, days_in_month: int) -> int:
    """`prorate` in integer cents: price × days / days-in-month, rounded half up."""
    return (2 * price_cents * days + days_in_month) // (2 * days_in_month)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


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
    """What each day of a month costs, for charts: the daily items' shares of that day plus
    history retention's monthly price spread over the days the app was active."""
    month, tz = period.month, period.tz
    spans = active_spans(states, period.start, period.end)
    dim = month.days
    best, history, active_days = _dearest_by_day(spans, month, tz, prices, dim - 1)
    history_share = history[0] / len(active_days) if history and active_days else ZERO
    return [
        sum((best[item][day][0] / dim for item in DAILY_ITEMS if day in best[item]), ZERO)
        + (history_share if day in active_days else ZERO)
        for day in range(dim)
    ]
