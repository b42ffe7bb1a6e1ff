"""Plain reference versions of figures the product computes another way (NumPy over the fleet,
packed months): day by day, straight from the rules, so the tests can hold the fast versions
equal to them."""

from __future__ import annotations

from imtui.domain.billing import MonthPlan, prorate_cents
from imtui.domain.prices import PriceList
from imtui.domain.signals import DayUsage
from imtui.domain.usage import Peaks


def projection_curve(plan: MonthPlan) -> list[int]:
    """The month's projected package cents as the plan shows it on each day: what was billed
    through that day, with the settings held that day carried on to the month's end (history
    retention: the dearest in effect so far, for the whole month). On the day of its last change
    it is the plan's whole month (`MonthPlan.curve()[-1]`)."""
    dim = plan.days
    out = []
    for day in range(dim):
        cents = 0
        for pl in plan.daily:
            held = pl.days(day)
            if any(first <= day <= last for first, last in pl.runs):
                held += dim - 1 - day
            cents += prorate_cents(pl.price_cents, held, dim)
        best = None
        for candidate in plan.history:
            if candidate[2] <= day and (best is None or candidate[1] >= best[1]):
                best = candidate
        if best is not None:
            cents += best[1]
        out.append(cents)
    return out


def overage_by_day(usage: DayUsage, first_paid: int | None, prices: PriceList, through: int) -> list[int]:
    """The month's overage in cents as the data shows it through each day 0 … `through`: the
    blocks of the peaks of the paid days recorded up to that day (domain.md §6)."""
    out: list[int] = []
    dau = groups = None
    price_dau, price_groups = int(prices.dau.price * 100), int(prices.groups.price * 100)
    for day in range(through + 1):
        if first_paid is not None and day >= first_paid and day < len(usage.dau) and usage.dau[day] is not None:
            dau = usage.dau[day] if dau is None else max(dau, usage.dau[day])
            g = usage.groups[day]
            groups = g if groups is None else max(groups, g)
        cents = 0
        if dau is not None:
            cents = prices.dau.blocks(dau) * price_dau + prices.groups.blocks(groups) * price_groups
        out.append(cents)
    return out


def paid_peaks(days: list[tuple[int, int] | None], first_paid: int | None) -> Peaks | None:
    """A month's peaks for overage: over the days (0-based) from `first_paid` on (the day the
    app left trial counts; None: trial all month), of the days with a record (dau, groups)."""
    if first_paid is None:
        return None
    counted = [d for d in days[max(first_paid, 0) :] if d is not None]
    if not counted:
        return None
    return Peaks(max(d[0] for d in counted), max(d[1] for d in counted), len(counted))
