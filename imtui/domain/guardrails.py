"""Guardrails (signals.md §6): a limit a runbook puts on what one request may do to the money.

`--max-monthly-delta AMOUNT` on upgrade and modify refuses (exit 3, nothing changed) a request
whose monthly price rises by more than AMOUNT, summed over all the apps it names.

Decisions: the rise is the net sum of the monthly price deltas (list price after − before) of
the apps the request would change; an app the rules refuse anyway, or with nothing to change,
adds nothing. A request that lowers the price (a net delta of zero or less) always passes. An
AMOUNT is a plain non-negative number of at most two decimals (`0` allows no rise at all).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from imtui.domain.errors import InvalidInput, Refused

OPTION = "--max-monthly-delta"
MOST = Decimal("999999999999.99")
"""The largest AMOUNT (as budgets: its cents fit a 64-bit integer with room to spare)."""
CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    """An amount as people read it: thousands separated, two decimals (`1,239.96`)."""
    return f"{amount:,.2f}"


def check_max_monthly_delta(text: str | Decimal) -> Decimal:
    """The AMOUNT of `--max-monthly-delta`: plain digits with at most two decimals (`1000`,
    `1000.5`, `0.99`), zero or more, at most `MOST`; anything else is invalid input (exit 2)."""
    raw = str(text).strip()
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    usage = f"{OPTION} {shown!r} is not an amount such as 1000 or 1000.00"
    if raw.startswith("-") and raw[1:].replace(".", "", 1).isdigit():
        raise InvalidInput(f"{OPTION} must not be negative, not {shown}")
    if not raw or not all(ch.isascii() and (ch.isdigit() or ch == ".") for ch in raw) or raw.count(".") > 1:
        raise InvalidInput(usage)
    whole, _, decimals = raw.partition(".")
    if not whole and not decimals:
        raise InvalidInput(usage)
    if len(decimals) > 2:
        raise InvalidInput(f"{OPTION} {shown!r} has more than two decimals")
    try:
        amount = Decimal(raw if whole else "0" + raw)
    except InvalidOperation:
        raise InvalidInput(usage) from None
    if amount > MOST:
        raise InvalidInput(f"{OPTION} can be at most {money(MOST)}, not {shown}")
    return amount.quantize(CENT)


def monthly_rise(deltas: Iterable[Decimal]) -> Decimal:
    """The request's rise of the monthly price: the net sum of the deltas of the apps it would
    change (negative when it lowers the price)."""
    return sum(deltas, Decimal("0.00"))


def check_monthly_rise(rise: Decimal, limit: Decimal | None) -> None:
    """Refuses (exit 3) a request whose monthly price rises by more than `limit` (None: no
    guardrail), stating the rise."""
    if limit is not None and rise > limit:
        raise Refused(
            f"the monthly price would rise by {money(rise)}, more than {OPTION} {money(limit)}; nothing changed"
        )
