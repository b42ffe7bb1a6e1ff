"""Invariants of billing over random histories (domain.md §5), with hypothesis.

Histories are random sequences of valid pro/flagship packages (values drawn from OFFERED),
changed at random instants within the month (biased towards day boundaries), each state active
or deactivated at random.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from imtui.domain.billing import State, active_spans, live_cost, month_lines, prorate, total
from imtui.domain.calendar import Month, day_bounds
from imtui.domain.editions import (
    HISTORY_DAYS,
    ITEMS,
    OFFERED,
    PAID_EDITIONS,
    VALUE_ITEMS,
    Package,
    label,
)
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import load_price_list

TZ = "Asia/Shanghai"
PRICES = load_price_list()
MONTHS = [Month(2026, 2), Month(2028, 2), Month(2026, 11), Month(2026, 12), Month(2027, 1)]


@st.composite
def packages(draw) -> Package:
    """A valid pro or flagship package."""
    edition = draw(st.sampled_from(PAID_EDITIONS))
    values = {item: draw(st.sampled_from(OFFERED[edition][item])) for item in VALUE_ITEMS}
    return Package(edition, **values)


@st.composite
def instants_in(draw, month: Month):
    """An instant within the month, often exactly at or just before a day boundary."""
    bounds = day_bounds(month, TZ)
    day = draw(st.integers(0, month.days - 1))
    offset = draw(
        st.one_of(
            st.just(0),
            st.just(86_399),
            st.integers(0, 86_399),
        )
    )
    return bounds[day] + timedelta(seconds=offset)


@st.composite
def histories(draw):
    """(month, states): a state in effect since before the month, then random changes."""
    month = draw(st.sampled_from(MONTHS))
    start = month.start(TZ)
    first = State(start - timedelta(days=draw(st.integers(0, 40))), draw(packages()), draw(st.booleans()))
    changes = draw(st.lists(instants_in(month), max_size=8, unique=True))
    states = [first] + [State(when, draw(packages()), draw(st.booleans())) for when in sorted(changes)]
    if draw(st.booleans()):  # a change after the month must not matter
        states.append(State(month.end(TZ) + timedelta(hours=5), draw(packages()), draw(st.booleans())))
    return month, states


def bill(states, month: Month, through_day=None):
    spans = active_spans(states, month.start(TZ), month.end(TZ))
    return month_lines(spans, month, TZ, PRICES, through_day)


@settings(max_examples=200, deadline=None)
@given(month=st.sampled_from(MONTHS), package=packages(), before=st.integers(0, 400))
def test_unchanged_all_month_costs_exactly_the_monthly_price(month, package, before):
    """An app whose package is unchanged and active all month pays exactly the package's
    monthly price, each item exactly its own price."""
    states = [State(month.start(TZ) - timedelta(hours=before), package, True)]
    lines = bill(states, month)
    assert total(lines) == PRICES.package_price(package)
    for line in lines:
        assert line.days == month.days
        assert line.amount == PRICES.price(package.edition, line.item, package.value(line.item))
    priced = {item for item in ITEMS if PRICES.price(package.edition, item, package.value(item)) > 0}
    assert {line.item for line in lines} == priced


@settings(max_examples=300, deadline=None)
@given(histories())
def test_every_day_billed_at_most_once_per_item(history):
    """No item is billed for more days than the month has; history shows the month's days."""
    month, states = history
    lines = bill(states, month)
    for item in ITEMS:
        days = sum(line.days for line in lines if line.item == item)
        assert days <= month.days
    assert all(line.days == month.days for line in lines if line.item == HISTORY_DAYS)
    assert len([line for line in lines if line.item == HISTORY_DAYS]) <= 1


@settings(max_examples=300, deadline=None)
@given(histories())
def test_amounts_never_negative_and_rounded_once(history):
    """Every line is positive, in cents, and equal to price × days / days-in-month rounded once."""
    month, states = history
    lines = bill(states, month)
    for line in lines:
        assert isinstance(line.amount, Decimal)
        assert line.amount >= 0
        assert line.unit_price > 0
        assert line.amount.as_tuple().exponent == -2
        if line.item != HISTORY_DAYS:
            assert line.amount == prorate(line.unit_price, line.days, month.days)
    assert total(lines) >= 0


@settings(max_examples=200, deadline=None)
@given(histories(), st.data())
def test_month_to_date_never_decreases_and_ends_at_the_month_total(history, data):
    """Month-to-date, looked at each day of the month, never goes down, and on the last day
    equals the closed month's bill."""
    month, states = history
    bounds = day_bounds(month, TZ)
    previous = Decimal("0.00")
    for day in range(month.days):
        seconds = data.draw(st.sampled_from([0, 43_200, 86_399]), label=f"time on day {day}")
        now = bounds[day] + timedelta(seconds=seconds)
        cost = live_cost(states, BillingPeriod.for_month(month, now, TZ), PRICES)
        assert cost.mtd_total >= previous
        previous = cost.mtd_total
    closed = total(bill(states, month))
    assert previous == closed
    assert cost.projected_total == closed


def _recount(states, month: Month) -> Decimal:
    """An independent day-by-day recount of the month, straight from domain.md §5."""
    bounds = day_bounds(month, TZ)
    amounts = Decimal("0.00")
    days_by_setting: dict[tuple[str, str, Decimal], int] = {}
    history_best = None
    for day in range(month.days):
        lo, hi = bounds[day], bounds[day + 1]
        in_effect = []  # (start, package) of active states overlapping the day, in time order
        for i, state in enumerate(states):
            until = states[i + 1].at if i + 1 < len(states) else bounds[-1]
            if state.active and max(state.at, lo) < min(until, hi):
                in_effect.append(state.package)
        for item in ITEMS:
            if item == HISTORY_DAYS:
                continue
            best = None
            for pkg in in_effect:  # later wins a tie: >=
                price = PRICES.price(pkg.edition, item, pkg.value(item))
                if best is None or price >= best[0]:
                    best = (price, label(item, pkg.value(item)))
            if best and best[0] > 0:
                key = (item, best[1], best[0])
                days_by_setting[key] = days_by_setting.get(key, 0) + 1
        for pkg in in_effect:
            price = PRICES.price(pkg.edition, HISTORY_DAYS, pkg.history_days)
            if history_best is None or price >= history_best:
                history_best = price
    for (_, _, price), days in days_by_setting.items():
        amounts += prorate(price, days, month.days)
    return amounts + (history_best or Decimal("0.00"))


@settings(max_examples=300, deadline=None)
@given(histories())
def test_month_total_matches_a_day_by_day_recount(history):
    """The month's bill equals a plain day-by-day recount of the rules."""
    month, states = history
    assert total(bill(states, month)) == _recount(states, month)


@settings(max_examples=200, deadline=None)
@given(histories())
def test_inactive_all_month_costs_nothing(history):
    """If the app is deactivated throughout, nothing is billed, whatever its packages."""
    month, states = history
    states = [State(s.at, s.package, False) for s in states]
    assert bill(states, month) == []
