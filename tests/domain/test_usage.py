"""Usage records and overage (domain.md §6): what a figure and a date may be, and what usage above
the included quotas costs, to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imtui.domain.prices import load_price_list
from imtui.domain.usage import (
    DAU_OVERAGE,
    GROUPS_OVERAGE,
    AppDays,
    BadRow,
    ImportRules,
    Peaks,
    overage_cost,
    overage_lines,
    parse_app_id,
    parse_count,
    parse_day,
)
from tests.support.oracles import paid_peaks

PRICES = load_price_list()
D = Decimal


@pytest.mark.parametrize(
    "text, value", [("0", 0), ("17", 17), (" 42 ", 42), ("007", 7), (1_000_000_000, 1_000_000_000)]
)
def test_a_figure_is_plain_digits(text, value):
    assert parse_count("dau", text) == value


@pytest.mark.parametrize(
    "text",
    ["-1", "+5", "1.5", "1,000", "1 000", "1e3", "", "x", "١٢", "1000000001", -3, 2.0, True, None, [1]],
)
def test_signs_decimals_separators_and_other_shapes_are_malformed(text):
    with pytest.raises(BadRow) as bad:
        parse_count("dau", text)
    assert bad.value.code == 2 and "dau" in bad.value.message


@pytest.mark.parametrize("text", ["2026-11-02", " 2026-11-02 "])
def test_a_date_is_iso(text):
    assert parse_day(text) == date(2026, 11, 2)


@pytest.mark.parametrize(
    "text", ["2026/11/02", "02-11-2026", "2026-11-2", "20261102", "2026-13-01", "2026-02-30", "", 20261102]
)
def test_other_date_shapes_are_malformed(text):
    with pytest.raises(BadRow) as bad:
        parse_day(text)
    assert bad.value.code == 2


@pytest.mark.parametrize("text", ["140000000", "x1400000000", "0400000000", 1400000000.0])
def test_a_bad_app_id_is_malformed(text):
    with pytest.raises(BadRow):
        parse_app_id(text)


@pytest.mark.parametrize(
    "peak, amount",
    [
        (0, None),
        (9_999, None),
        (10_000, None),
        (10_001, "449.99"),
        (20_000, "449.99"),
        (20_001, "899.98"),
        (23_456, "899.98"),
    ],
)
def test_dau_overage_costs_a_block_price_per_started_block(peak, amount):
    lines = overage_lines(Peaks(peak, 0, 30), PRICES)
    if amount is None:
        assert lines == []
    else:
        (line,) = lines
        assert (line.item, line.setting, line.days, line.amount) == (DAU_OVERAGE, str(peak), 30, D(amount))


@pytest.mark.parametrize(
    "peak, amount", [(100_000, None), (100_001, "449.99"), (250_000, "899.98"), (300_001, "1349.97")]
)
def test_groups_overage(peak, amount):
    lines = overage_lines(Peaks(0, peak, 12), PRICES)
    assert [(ln.item, ln.setting, ln.days, ln.amount) for ln in lines] == (
        [] if amount is None else [(GROUPS_OVERAGE, str(peak), 12, D(amount))]
    )


def test_both_quotas_exceeded_give_two_lines():
    lines = overage_lines(Peaks(23_456, 150_000, 3), PRICES)
    assert [ln.item for ln in lines] == [DAU_OVERAGE, GROUPS_OVERAGE]
    assert sum(ln.amount for ln in lines) == D("1349.97")
    assert overage_cost(Peaks(23_456, 150_000, 3), PRICES) == 134997


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_overage_is_monotone_in_the_peak(a, b):
    low, high = sorted((a, b))
    assert overage_cost(Peaks(low, low, 1), PRICES) <= overage_cost(Peaks(high, high, 1), PRICES)


@given(st.integers(0, 10_000), st.integers(0, 100_000))
def test_no_overage_at_or_below_the_quotas(dau, groups):
    assert overage_lines(Peaks(dau, groups, 30), PRICES) == []


@given(
    st.lists(st.one_of(st.none(), st.tuples(st.integers(0, 10**6), st.integers(0, 10**6))), min_size=28, max_size=31),
    st.one_of(st.none(), st.integers(0, 31)),
)
def test_trial_days_never_count(days, first_paid):
    """Only the days from the upgrade on count: a peak before it never shows in the overage."""
    peaks = paid_peaks(days, first_paid)
    counted = [] if first_paid is None else [d for d in days[first_paid:] if d is not None]
    if not counted:
        assert peaks is None
    else:
        assert peaks == Peaks(max(d[0] for d in counted), max(d[1] for d in counted), len(counted))
        trial_spike = [(10**9, 10**9) if i < first_paid else d for i, d in enumerate(days)]
        assert paid_peaks(trial_spike, first_paid) == peaks


# --- the rules of an import row --------------------------------------------------------------------

APP = 1400000001
LIFE = AppDays(date(2026, 10, 5), date(2026, 11, 20), ((date(2026, 10, 10), date(2026, 10, 12)),))
RULES = ImportRules({APP: LIFE}, date(2026, 11, 25), {"2026-09": "2026-10-03"})


@pytest.mark.parametrize(
    "app, day, values, code, words",
    [
        (1400009999, date(2026, 11, 1), (1,) * 5, 4, "does not exist"),
        (APP, date(2026, 11, 26), (1,) * 5, 3, "after today"),
        (APP, date(2026, 10, 4), (1,) * 5, 3, "was created on 2026-10-05"),
        (APP, date(2026, 11, 21), (0,) * 5, 3, "was purged on 2026-11-20"),
        (APP, date(2026, 10, 11), (0, 1, 0, 0, 0), 3, "deactivated all day on 2026-10-11"),
    ],
)
def test_rule_refusals(app, day, values, code, words):
    with pytest.raises(BadRow) as bad:
        RULES.check(app, day, f"{day.year}-{day.month:02d}", values)
    assert bad.value.code == code and words in bad.value.message


def test_an_issued_month_is_named():
    rules = ImportRules({APP: AppDays(date(2026, 9, 1), None)}, date(2026, 11, 25), {"2026-09": "2026-10-03"})
    with pytest.raises(BadRow) as bad:
        rules.check(APP, date(2026, 9, 30), "2026-09", (1,) * 5)
    assert "the bill of 2026-09 was issued on 2026-10-03" in bad.value.message


@pytest.mark.parametrize("day", [date(2026, 10, 5), date(2026, 10, 10), date(2026, 11, 20)])
def test_accepted_records(day):
    RULES.check(APP, day, f"{day.year}-{day.month:02d}", (0,) * 5 if day == date(2026, 10, 10) else (5,) * 5)
