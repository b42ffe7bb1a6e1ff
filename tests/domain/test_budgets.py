"""Budgets (signals.md §1): the state at and around each threshold, exactly in decimals; what an
amount and a threshold may be; the audit sentence."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from imtui.domain.budgets import (
    FORECAST,
    OK,
    OVER,
    WARNING,
    Budget,
    budget_state,
    check_amount,
    check_warn_at,
    describe_change,
    money,
    unchanged,
)
from imtui.domain.errors import InvalidInput

B = Budget("acme", D("50000.00"), 80)


@pytest.mark.parametrize(
    ("mtd", "projected", "state", "pct"),
    [
        ("0.00", "0.00", OK, 0),
        ("39999.99", "50000.00", OK, 79),  # a cent under the threshold; projection exactly at budget
        ("40000.00", "40000.00", WARNING, 80),  # exactly at the threshold
        ("39999.99", "50000.01", FORECAST, 79),  # a cent over in projection
        ("40000.00", "60000.00", WARNING, 80),  # warning outranks forecast
        ("50000.00", "50000.00", WARNING, 100),  # exactly at the budget is not over
        ("50000.01", "50000.01", OVER, 100),  # a cent over
        ("100000.00", "1.00", OVER, 200),
        ("12345.67", "12345.67", OK, 24),  # 24.69… rounded down
    ],
)
def test_the_state_is_the_most_severe_that_holds(mtd, projected, state, pct):
    status = budget_state(B, D(mtd), D(projected))
    assert (status.state, status.used_pct) == (state, pct)
    assert status.month_to_date == D(mtd) and status.projected == D(projected)
    assert (status.account, status.amount, status.warn_at, status.fleet) == ("acme", D("50000.00"), 80, False)


def test_thresholds_are_exact_where_a_float_would_not_be():
    # 0.1 + 0.2 style: 33.33 % of 0.03 is 0.0099.. in floats; exactly: 0.01 × 100 ≥ 0.03 × 33
    b = Budget(None, D("0.03"), 33)
    assert budget_state(b, D("0.01"), D("0.01")).state == WARNING
    assert budget_state(b, D("0.00"), D("0.03")).state == OK
    assert budget_state(b, D("0.00"), D("0.04")).state == FORECAST
    assert budget_state(Budget(None, D("1.00"), 100), D("1.00"), D("1.00")).state == WARNING  # 100 %: at the budget
    assert budget_state(Budget(None, D("3.00"), 1), D("0.03"), D("0")).state == WARNING  # 1 % of 3.00
    assert budget_state(Budget(None, D("3.00"), 1), D("0.02"), D("0")).state == OK
    assert budget_state(Budget(None, D("3.00"), 80), D("2.99"), D("2.99")).used_pct == 99


@pytest.mark.parametrize(
    ("text", "amount"),
    [("50000", "50000.00"), ("50000.5", "50000.50"), ("0.01", "0.01"), (".5", "0.50"), ("999999999999.99", None)],
)
def test_amounts_are_positive_with_at_most_two_decimals(text, amount):
    value = check_amount(text)
    assert value == D(amount or text) and value.as_tuple().exponent == -2


def test_a_decimal_is_taken_as_its_digits():
    assert check_amount(D("5E+4")) == D("50000.00") and check_amount(D("0.10")) == D("0.10")
    with pytest.raises(InvalidInput):
        check_amount(D("0.001"))


@pytest.mark.parametrize(
    "text",
    ["0", "0.00", "-5", "1.001", "1e3", "NaN", "inf", "", " ", "50,000.00", "1..2", ".", "1000000000000.00", "١٢"],
)
def test_anything_else_is_invalid_input(text):
    with pytest.raises(InvalidInput) as caught:
        check_amount(text)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "ok"),
    [("1", 1), ("100", 100), ("80", 80), ("0", None), ("101", None), ("8.5", None), ("-1", None), ("", None)],
)
def test_the_threshold_is_a_whole_percent_from_1_to_100(text, ok):
    if ok is None:
        with pytest.raises(InvalidInput):
            check_warn_at(text)
    else:
        assert check_warn_at(text) == ok


def test_the_audit_detail_says_before_and_after():
    new = Budget("acme", D("50000.00"), 80)
    assert describe_change("acme", None, new) == "acme: none → 50,000.00 (warn at 80 %)"
    assert (
        describe_change(None, None, Budget(None, D("1234567.50"), 90))
        == "the fleet: none → 1,234,567.50 (warn at 90 %)"
    )
    assert (
        describe_change("acme", new, Budget("acme", D("60000.00"), 80))
        == "acme: 50,000.00 (warn at 80 %) → 60,000.00 (warn at 80 %)"
    )
    assert describe_change("acme", new, None) == "acme: 50,000.00 (warn at 80 %) → none"
    assert describe_change("acme", new, Budget("acme", D("50000"), 80)) == "acme: 50,000.00 (warn at 80 %), unchanged"
    assert unchanged(None, None) and unchanged(new, Budget("acme", D("50000.0"), 80))
    assert not unchanged(new, Budget("acme", D("50000"), 81)) and not unchanged(new, None)
    assert money(D("0.5")) == "0.50"
