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

from imtui.domain.billing import State, active_spans, live_cost, month_lines, total
from imtui.domain.calendar import Month, day_bounds
from imtui.domain.editions import (
    HISTORY_DAYS,
    ITEMS,
    OFFERED,
    PAID_EDITIONS,
    VALUE_ITEMS,
    Package,
)
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import load_price_list, to_cents
from tests.support.billing import prorate, recount

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
    return recount(states, month, TZ, PRICES)


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


@settings(max_examples=300, deadline=None)
@given(history=histories(), today=st.integers(0, 30))
def test_a_month_plan_gives_the_bill_in_cents_and_survives_its_text(history, today):
    """The plan kept for the dashboard bills to the cent what the lines say, on any day, and
    reads back from its text unchanged."""
    from imtui.domain.billing import MonthPlan, plan_month

    month, states = history
    today = min(today, month.days - 1)
    spans = active_spans(states, month.start(TZ), month.end(TZ))
    plan = plan_month(spans, month, TZ, PRICES)
    assert MonthPlan.decode(plan.encode()) == plan
    curve = plan.curve()  # what is kept with the plan: the figures of every day
    assert len(curve) == month.days
    assert Decimal(curve[today]) / 100 == total(bill(states, month, today)) == total(plan.lines(today))
    assert Decimal(curve[-1]) / 100 == total(bill(states, month))
    assert list(curve) == [to_cents(total(plan.lines(day))) for day in range(month.days)]


@given(st.integers(0, 10**7), st.integers(0, 31), st.sampled_from([28, 29, 30, 31]))
def test_prorating_in_cents_is_prorating_in_decimals(cents, days, dim):
    from imtui.domain.billing import prorate_cents

    assert Decimal(prorate_cents(cents, days, dim)) / 100 == prorate(Decimal(cents) / 100, days, dim)
