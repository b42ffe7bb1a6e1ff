"""Budgets: a monthly amount for one account or for the whole fleet, held against the current
month's month-to-date and projected cost (signals.md §1).

A budget holds for the month it is set in and every later month until it is changed or removed;
a change mid-month applies to the whole current month. Its warning threshold is a whole percent
of it (default 80). A budget's state is the most severe that holds: `over` (month-to-date >
budget), `warning` (month-to-date ≥ the threshold), `forecast` (projected > budget), `ok`.
Amounts are exact `Decimal`s with two decimals; every comparison here is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from imtui.domain.errors import InvalidInput

OK, FORECAST, WARNING, OVER = "ok", "forecast", "warning", "over"

DEFAULT_WARN_AT = 80
"""The warning threshold of a budget set without one, in percent."""
MOST = Decimal("999999999999.99")
"""The largest budget (Decision: its cents fit any database's 64-bit integer with room to spare)."""
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Budget:
    """A monthly budget: of the account named, or of the fleet when `account` is None."""

    account: str | None
    amount: Decimal
    warn_at: int = DEFAULT_WARN_AT
    """The warning threshold, a whole percent of `amount` (1–100)."""
    set_at: datetime | None = None
    set_by: str | None = None

    @property
    def fleet(self) -> bool:
        return self.account is None


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A budget held against the current month's figures."""

    budget: Budget
    month_to_date: Decimal
    projected: Decimal
    """At least: usage overage of the month is counted as recorded so far."""
    used_pct: int
    """Month-to-date ÷ budget as a whole percent, rounded down."""
    state: str

    @property
    def account(self) -> str | None:
        return self.budget.account

    @property
    def fleet(self) -> bool:
        return self.budget.account is None

    @property
    def amount(self) -> Decimal:
        return self.budget.amount

    @property
    def warn_at(self) -> int:
        return self.budget.warn_at


def check_amount(text: str | Decimal) -> Decimal:
    """A budget amount: a positive number of at most two decimals (plain digits, e.g. `50000` or
    `50000.00`), at most `MOST`; anything else is invalid input (exit 2)."""
    raw = format(text, "f") if isinstance(text, Decimal) and text.is_finite() else str(text).strip()
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    if not raw or not all(ch.isascii() and (ch.isdigit() or ch == ".") for ch in raw) or raw.count(".") > 1:
        raise InvalidInput(f"budget amount {shown!r} is not an amount such as 50000 or 50000.00")
    whole, _, decimals = raw.partition(".")
    if len(decimals) > 2:
        raise InvalidInput(f"budget amount {shown!r} has more than two decimals")
    if not whole and not decimals:
        raise InvalidInput(f"budget amount {shown!r} is not an amount such as 50000 or 50000.00")
    try:
        amount = Decimal(raw if whole else "0" + raw)
    except InvalidOperation:
        raise InvalidInput(f"budget amount {shown!r} is not an amount such as 50000 or 50000.00") from None
    if amount <= 0:
        raise InvalidInput(f"a budget must be more than 0.00, not {shown}")
    if amount > MOST:
        raise InvalidInput(f"a budget can be at most {money(MOST)}, not {shown}")
    return amount.quantize(CENT)


def check_warn_at(value: int | str) -> int:
    """A warning threshold: a whole percent from 1 to 100 (else invalid input, exit 2)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 100:
        raise InvalidInput(f"--warn-at must be a whole percent from 1 to 100, not {text!r}")
    return int(text)


def is_over(budget: Budget, month_to_date: Decimal) -> bool:
    return month_to_date > budget.amount


def is_warning(budget: Budget, month_to_date: Decimal) -> bool:
    """Month-to-date at or above the warning threshold (exactly: mtd × 100 ≥ budget × warn_at)."""
    return month_to_date * 100 >= budget.amount * budget.warn_at


def is_forecast(budget: Budget, projected: Decimal) -> bool:
    return projected > budget.amount


def used_pct(budget: Budget, month_to_date: Decimal) -> int:
    """Month-to-date ÷ budget as a whole percent, rounded down (exact)."""
    return int((month_to_date * 100) // budget.amount)


def budget_state(budget: Budget, month_to_date: Decimal, projected: Decimal) -> BudgetStatus:
    """The most severe state that holds: over, warning, forecast, ok (signals.md §1)."""
    if is_over(budget, month_to_date):
        state = OVER
    elif is_warning(budget, month_to_date):
        state = WARNING
    elif is_forecast(budget, projected):
        state = FORECAST
    else:
        state = OK
    return BudgetStatus(budget, month_to_date, projected, used_pct(budget, month_to_date), state)


def money(amount: Decimal) -> str:
    """An amount as people read it: thousands separated, two decimals (`50,000.00`)."""
    return f"{amount:,.2f}"


def subject(account: str | None) -> str:
    """What a budget is of, in a sentence: the account's name, or `the fleet`."""
    return "the fleet" if account is None else account


def terms(budget: Budget | None) -> str:
    """A budget's amount and threshold as the audit trail writes them (`none` for no budget)."""
    if budget is None:
        return "none"
    return f"{money(budget.amount)} (warn at {budget.warn_at} %)"


def describe_change(account: str | None, before: Budget | None, after: Budget | None) -> str:
    """The audit detail of setting, changing or removing a budget:
    `acme: none → 50,000.00 (warn at 80 %)`; unchanged: `acme: 50,000.00 (warn at 80 %), unchanged`."""
    if _same(before, after):
        return f"{subject(account)}: {terms(before)}, unchanged"
    return f"{subject(account)}: {terms(before)} → {terms(after)}"


def _same(a: Budget | None, b: Budget | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.amount, a.warn_at) == (b.amount, b.warn_at)


def unchanged(before: Budget | None, after: Budget | None) -> bool:
    """Whether setting `after` over `before` changes nothing (amount and threshold alike)."""
    return _same(before, after)


def over_budget(status: BudgetStatus, rise: Decimal) -> bool:
    """Whether a change that adds `rise` to this month's cost puts the month's projection over
    the budget (what a change form warns of)."""
    return status.projected + rise > status.amount
