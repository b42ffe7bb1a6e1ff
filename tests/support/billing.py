"""An independent day-by-day recount of a month's bill, straight from domain.md §5 (the reference
the kept figures and the month plans are checked against)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from imtui.domain.calendar import Month, day_bounds
from imtui.domain.editions import HISTORY_DAYS, ITEMS, label


def prorate(price: Decimal, days: int, days_in_month: int) -> Decimal:
    """domain.md §5 in decimals: price × days / days-in-month, rounded once to cents, half up
    (the reference the product's proration in cents is held to)."""
    return (price * days / days_in_month).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def recount(states, month: Month, tz: str, prices, through_day: int | None = None) -> Decimal:
    """The month's package cost up to and including `through_day` (the whole month by default),
    counted day by day: each day of each item at the dearest setting in effect at any moment of it
    while active (the later on a tie); history at the dearest of the month so far."""
    bounds = day_bounds(month, tz)
    last = month.days - 1 if through_day is None else through_day
    amounts = Decimal("0.00")
    days_by_setting: dict[tuple[str, str, Decimal], int] = {}
    history_best = None
    for day in range(last + 1):
        lo, hi = bounds[day], bounds[day + 1]
        in_effect = []
        for i, state in enumerate(states):
            until = states[i + 1].at if i + 1 < len(states) else bounds[-1]
            if state.active and max(state.at, lo) < min(until, hi):
                in_effect.append(state.package)
        for item in ITEMS:
            if item == HISTORY_DAYS:
                continue
            best = None
            for pkg in in_effect:
                price = prices.price(pkg.edition, item, pkg.value(item))
                if best is None or price >= best[0]:
                    best = (price, label(item, pkg.value(item)))
            if best and best[0] > 0:
                key = (item, best[1], best[0])
                days_by_setting[key] = days_by_setting.get(key, 0) + 1
        for pkg in in_effect:
            price = prices.price(pkg.edition, HISTORY_DAYS, pkg.history_days)
            if history_best is None or price >= history_best:
                history_best = price
    for (_, _, price), days in days_by_setting.items():
        amounts += prorate(price, days, month.days)
    return amounts + (history_best or Decimal("0.00"))
