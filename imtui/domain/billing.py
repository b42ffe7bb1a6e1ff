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


def _day_counts(
    spans: list[Span], month: Month, tz: str, prices: PriceList, last_day: int
) -> tuple[dict[str, dict[tuple[str, Decimal], int]], tuple | None]:
    """Per daily item, the days each paid setting is the dearest of its day; and history's
    dearest setting of the month.

    Spans are in time order, so in days they overlap only where one ends and the next begins:
    only those shared days are contested, and each is given to the dearest setting (the later
    one on a tie). Every other day belongs to the one span that covers it.
    """
    bounds = day_bounds(month, tz)
    ranges: list[tuple[int, int, Package]] = []
    for span in spans:
        first = max(bisect_right(bounds, span.start) - 1, 0)
        last = min(bisect_left(bounds, span.end) - 1, last_day)
        if first <= last:
            ranges.append((first, last, span.package))
    ends = {d for first, last, _ in ranges for d in (first, last)}
    contested = {
        d: members for d in ends if len(members := [i for i, (f, l, _) in enumerate(ranges) if f <= d <= l]) > 1
    }
    counts: dict[str, dict[tuple[str, Decimal], int]] = {item: {} for item in DAILY_ITEMS}
    for item in DAILY_ITEMS:
        settings = [
            (prices.price(pkg.edition, item, pkg.value(item)), label(item, pkg.value(item))) for _, _, pkg in ranges
        ]
        winners = {d: max(members, key=lambda i: (settings[i][0], i)) for d, members in contested.items()}
        item_counts = counts[item]
        for i, (first, last, _) in enumerate(ranges):
            price, setting = settings[i]
            if price <= ZERO:
                continue
            days = last - first + 1 - sum(1 for d, w in winners.items() if w != i and first <= d <= last)
            if days > 0:
                item_counts[(setting, price)] = item_counts.get((setting, price), 0) + days
    history = None
    for i, (_, _, pkg) in enumerate(ranges):
        price = prices.price(pkg.edition, HISTORY_DAYS, pkg.history_days)
        if history is None or (price, i) >= history[:2]:
            history = (price, i, label(HISTORY_DAYS, pkg.history_days))
    if history is not None:
        history = (history[0], None, history[2])
    return counts, history


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
    dim = month.days
    last_day = dim - 1 if through_day is None else min(through_day, dim - 1)
    spans = list(spans)
    if len(spans) == 1:
        return _single_span_lines(spans[0], month, tz, prices, last_day)
    counts_by_item, history = _day_counts(spans, month, tz, prices, last_day)
    lines: list[BillLine] = []
    for item in DAILY_ITEMS:
        counts = counts_by_item[item]
        for (setting, price), days in sorted(counts.items(), key=lambda kv: -kv[0][1]):
            lines.append(BillLine(item, setting, price, days, prorate(price, days, dim)))
    if history is not None and history[0] > ZERO:
        lines.append(BillLine(HISTORY_DAYS, history[2], history[0], dim, history[0]))
    return lines


def _single_span_lines(span: Span, month: Month, tz: str, prices: PriceList, last_day: int) -> list[BillLine]:
    """The common case, one package all along: each paid item over the span's days."""
    bounds = day_bounds(month, tz)
    first = max(bisect_right(bounds, span.start) - 1, 0)
    last = min(bisect_left(bounds, span.end) - 1, last_day)
    if first > last:
        return []
    dim = month.days
    pkg = span.package
    lines = []
    for item in ITEMS:
        value = pkg.value(item)
        price = prices.price(pkg.edition, item, value)
        if price > ZERO:
            days = dim if item == HISTORY_DAYS else last - first + 1
            amount = price if item == HISTORY_DAYS else prorate(price, days, dim)
            lines.append(BillLine(item, label(item, value), price, days, amount))
    return lines


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


def with_overage(cost: LiveCost, overage: Sequence[BillLine]) -> LiveCost:
    """An app's live cost with its usage overage added (to both figures)."""
    if not overage:
        return cost
    mtd, projected = cost.month_to_date + list(overage), cost.projected + list(overage)
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
