"""Headroom against limits and quotas, and right-sizing suggestions (domain.md §6).

Headroom: over the last 7 days (today included) each active app's peak of each limited figure is
held against what its package allows. *Limits* are where the platform refuses the excess (error
codes 10036, 10037, 10038, 10058); *quotas* where the excess costs money. Use is peak ÷ allowance
in percent; **near** from 80 %, **at** from 100 %.

Decision, suggestions (advice only; applying one is an ordinary modify): *raise* an item at 80 %
or more of its limit when the edition offers a higher setting; *lower* a paid setting whose peak
over the last 30 days fits the lower setting with a fifth to spare, when at least 28 of those 30
days have a record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from imtui.domain.changes import unlock_date
from imtui.domain.editions import (
    GROUPS_PER_USER,
    LIVE_GROUPS,
    MEMBERS_PER_GROUP,
    OFFERED,
    TRIAL,
    UNLIMITED,
    Package,
    rank,
)
from imtui.domain.prices import PriceList

NEAR_PCT = 80
"""From this use on an app is near a limit or quota."""
LOWER_FITS_PCT = 80
"""A lowering is suggested when the peak is at most this share of the lower setting's limit."""
WINDOW_DAYS = 7
"""Days of usage headroom is judged on (today included)."""
LOWER_WINDOW_DAYS = 30
"""Days of usage a lowering is judged on, and how many of them need a record."""
LOWER_NEEDS_DAYS = 28
NOT_ENOUGH_DATA = "not enough usage data"

LIMIT, QUOTA = "limit", "quota"
TRIAL_DAU, TRIAL_GROUPS = 100, 100
"""Trial's hard caps: daily active users, and groups other than live groups."""
QUOTA_DAU, QUOTA_GROUPS = 10_000, 100_000

# the figure of a usage record each limited item is measured by
MEASURED_BY = {
    LIVE_GROUPS: "live_groups",
    GROUPS_PER_USER: "max_groups_per_user",
    MEMBERS_PER_GROUP: "max_members_per_group",
}
SUGGESTED_ITEMS = (LIVE_GROUPS, GROUPS_PER_USER, MEMBERS_PER_GROUP)

# flags for quick filters
NEAR, AT_LIMIT, OVER_QUOTA, SUGGESTS = 1, 2, 4, 8


class WindowPeaks(NamedTuple):
    """An app's peak of each figure over a window of days (None: no record in it), the peak of
    `groups − live_groups`, and how many days of the window have a record."""

    dau: int | None = None
    groups: int | None = None
    live_groups: int | None = None
    max_groups_per_user: int | None = None
    max_members_per_group: int | None = None
    other_groups: int | None = None
    days: int = 0

    def of(self, figure: str) -> int | None:
        return getattr(self, figure)


class Use(NamedTuple):
    """One limit or quota held against its peak."""

    item: str
    kind: str
    peak: int
    allowance: int

    @property
    def use_pct(self) -> int:
        """Percent, rounded down."""
        return self.peak * 100 // self.allowance

    @property
    def ratio(self) -> float:
        return self.peak / self.allowance


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A right-sizing suggestion: one item's setting from `frm` to `to`, its monthly price change and why."""

    item: str
    frm: int | None
    to: int | None
    monthly_delta: Decimal
    """Negative for a saving."""
    reason: str
    unlocks_on: str | None = None


class Review(NamedTuple):
    """An app's headroom (its highest use, or None without usage), every use, and suggestions."""

    headroom: Use | None
    uses: tuple[Use, ...]
    suggestions: tuple[Suggestion, ...]
    note: str | None = None

    @property
    def flags(self) -> int:
        """NEAR, AT_LIMIT, OVER_QUOTA and SUGGESTS, for the dashboard's quick filter."""
        flags = 0
        for use in self.uses:
            if use.peak * 100 >= use.allowance * NEAR_PCT:
                flags |= NEAR
            if use.kind == LIMIT and use.peak >= use.allowance:
                flags |= AT_LIMIT
            if use.kind == QUOTA and use.peak > use.allowance:
                flags |= OVER_QUOTA
        return flags | (SUGGESTS if self.suggestions else 0)


USE_ITEMS = (LIVE_GROUPS, GROUPS_PER_USER, MEMBERS_PER_GROUP, "dau", "groups")
"""The items of `limits`, in its (contract) order."""
USE_FIGURES = ("dau", "groups", "live_groups", "max_groups_per_user", "max_members_per_group", "other_groups")
"""The figures of a window's peaks, in `WindowPeaks` order."""


def limits(package: Package) -> tuple[tuple[str, str, str, int | None], ...]:
    """(item, kind, the figure it is measured by, allowance) of every limit and quota that can
    apply to a package, in contract order (an allowance of None or 0 never applies)."""
    trial = package.edition == TRIAL
    return (
        (LIVE_GROUPS, LIMIT, "live_groups", package.live_groups),
        (GROUPS_PER_USER, LIMIT, "max_groups_per_user", package.groups_per_user),
        (MEMBERS_PER_GROUP, LIMIT, "max_members_per_group", package.members_per_group),
        ("dau", LIMIT if trial else QUOTA, "dau", TRIAL_DAU if trial else QUOTA_DAU),
        (
            "groups",
            LIMIT if trial else QUOTA,
            "other_groups" if trial else "groups",
            TRIAL_GROUPS if trial else QUOTA_GROUPS,
        ),
    )


def uses(package: Package, week: WindowPeaks) -> list[Use]:
    """Each limit and quota that applies to the package, with the week's peak (none without one)."""
    found = []
    for item, kind, figure, allowance in limits(package):
        peak = week.of(figure)
        if peak is not None and allowance:
            found.append(Use(item, kind, peak, allowance))
    return found


def highest(all_uses: list[Use]) -> Use | None:
    """The app's headroom figure: its highest use (the first in contract order on a tie)."""
    best = None
    for use in all_uses:
        if best is None or use.peak * best.allowance > best.peak * use.allowance:
            best = use
    return best


_SETTINGS: dict[tuple, tuple] = {}


def _settings(prices: PriceList, edition: str, item: str, current) -> tuple:
    """(its price, the next higher setting and its price, the lower setting and its price) of an
    item's value on an edition (None where there is none); worked out once per price list."""
    key = (id(prices), edition, item, current)
    found = _SETTINGS.get(key)
    if found is None:
        values = sorted(OFFERED[edition][item], key=rank)
        higher = [v for v in values if rank(v) > rank(current)]
        lower = [v for v in values if rank(v) < rank(current)]
        up = higher[0] if higher else ...
        down = lower[-1] if lower else ...
        found = _SETTINGS[key] = (
            prices.price(edition, item, current),
            up,
            None if up is ... else prices.price(edition, item, up),
            down,
            None if down is ... else prices.price(edition, item, down),
        )
    return found


def suggestion_rules(package: Package, prices: PriceList) -> tuple[tuple[str, int | None, bool, int | None], ...]:
    """For each item a suggestion may change: (item, current value, whether a raise can be
    suggested, the lower setting a lowering would suggest or None), as `review` decides them."""
    out = []
    for item in SUGGESTED_ITEMS:
        current = package.value(item)
        price_now, up, _, down, _ = _settings(prices, package.edition, item, current)
        can_raise = up is not ... and current is not UNLIMITED
        lower = down if down is not ... and price_now > 0 and down is not UNLIMITED else None
        out.append((item, current, can_raise, lower))
    return tuple(out)


class Rules(NamedTuple):
    """What `review` judges an app of one package by, worked out once per package (`rules_of`)."""

    limits: tuple[tuple[str, str, int, int, dict[int, Use]], ...]
    """(item, kind, index of its figure in `USE_FIGURES`, allowance, the uses made so far by
    peak) of each limit and quota that applies, in contract order. A `Use` is immutable: the apps
    judged by one `Rules` share those of equal peaks (a fleet has far fewer distinct peaks than
    apps), and no use outlives the `Rules` it was made for."""
    items: tuple[tuple[int, str, int | None, int, object, Decimal | None, object, Decimal | None], ...]
    """For each of `SUGGESTED_ITEMS` a suggestion may change: (its place in `SUGGESTED_ITEMS`,
    item, current value, index of its figure in `USE_FIGURES`, the higher setting a raise would
    suggest and its monthly delta, the lower setting a lowering is judged against and its delta).
    `...` where there is no raise or no lowering to judge; the lower setting is `UNLIMITED`
    (judged, never suggested) or a number."""


def rules_of(package: Package, prices: PriceList) -> Rules:
    """A package's `Rules` (new ones each time: see `Rules.limits`)."""
    applying = tuple(
        (item, kind, USE_FIGURES.index(figure), allowance, {})
        for item, kind, figure, allowance in limits(package)
        if allowance
    )
    items = []
    for m, item in enumerate(SUGGESTED_ITEMS):
        current = package.value(item)
        price_now, up, up_price, down, down_price = _settings(prices, package.edition, item, current)
        if up is ... or current is UNLIMITED:
            up, up_delta = ..., None
        else:
            up_delta = up_price - price_now
        if down is ... or price_now <= 0:
            down, down_delta = ..., None
        else:
            down_delta = None if down is UNLIMITED else down_price - price_now
        if up is not ... or down is not ...:
            items.append((m, item, current, USE_FIGURES.index(MEASURED_BY[item]), up, up_delta, down, down_delta))
    return Rules(applying, tuple(items))


def review(
    package: Package,
    week: WindowPeaks,
    month: WindowPeaks,
    locks: Mapping[str, datetime],
    prices: PriceList,
    tz: str,
) -> Review:
    """Headroom and right-sizing suggestions of one active app."""
    month_peaks = tuple(month.of(MEASURED_BY[item]) for item in SUGGESTED_ITEMS)
    return judge(rules_of(package, prices), week, month_peaks, month.days, locks, tz)


def _uses(rules: Rules, week: Sequence[int | None]) -> tuple[Use | None, list[Use]]:
    """`judge`'s uses of the last 7 days' peaks, and the highest of them (the first in contract
    order on a tie, as `highest`)."""
    all_uses = []
    best = None
    best_peak, best_allowance = 0, 1
    for item, kind, at, allowance, made in rules.limits:
        peak = week[at]
        if peak is not None:
            use = made.get(peak)
            if use is None:
                use = made[peak] = Use(item, kind, peak, allowance)
            all_uses.append(use)
            if best is None or peak * best_allowance > best_peak * allowance:
                best, best_peak, best_allowance = use, peak, allowance
    return best, all_uses


def judge(
    rules: Rules,
    week: Sequence[int | None] | None,
    month: Sequence[int | None] | None,
    month_days: int,
    locks: Mapping[str, datetime],
    tz: str,
) -> Review:
    """`review` of an app by its package's `rules`, from plain figures, so a whole fleet is
    judged without a `WindowPeaks` per app: `week` holds the peaks of the last 7 days in
    `USE_FIGURES` order (None: no record; `week` None: none at all), `month` those of the last
    30 days of each of `SUGGESTED_ITEMS`' figures (None: none), `month_days` the days of the 30
    with a record. Peaks are ints: the apps judged by one `Rules` share the uses of equal peaks."""
    best, all_uses = _uses(rules, week) if week is not None else (None, [])
    suggestions = []
    note = None
    for m, item, current, at, up, up_delta, down, down_delta in rules.items:
        if up is not ... and week is not None:
            peak = week[at]
            if peak is not None and peak * 100 >= current * NEAR_PCT:
                suggestions.append(
                    Suggestion(
                        item,
                        current,
                        up,
                        up_delta,
                        f"peak {peak:,} of {current:,} in the last {WINDOW_DAYS} days ({peak * 100 // current}%)",
                        unlock_date(locks[item], tz) if item in locks else None,
                    )
                )
                continue
        if down is ...:
            continue
        if month_days < LOWER_NEEDS_DAYS:
            note = NOT_ENOUGH_DATA
            continue
        peak30 = (month[m] if month is not None else None) or 0
        if down is not UNLIMITED and peak30 * 100 <= down * LOWER_FITS_PCT:
            suggestions.append(
                Suggestion(
                    item,
                    current,
                    down,
                    down_delta,
                    f"peak {peak30:,} in the last {LOWER_WINDOW_DAYS} days fits {down:,} "
                    f"({peak30 * 100 // down}% of it)",
                    unlock_date(locks[item], tz) if item in locks else None,
                )
            )
    return Review(best, tuple(all_uses), tuple(suggestions), note)
