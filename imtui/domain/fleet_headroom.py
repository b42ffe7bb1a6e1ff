"""Headroom and suggestion flags of the whole fleet at once (domain.md §6), for the dashboard's
headroom column and usage quick filter.

The rules are `domain.headroom`'s (`limits`, `suggestion_rules`, the percentages); this applies
them to every app side by side with NumPy, so 100,000 apps take a few array operations rather
than 100,000 `review` calls. A property test holds it equal to `review`, app by app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from imtui.domain.editions import Package
from imtui.domain.headroom import (
    AT_LIMIT,
    LIMIT,
    LOWER_FITS_PCT,
    LOWER_NEEDS_DAYS,
    MEASURED_BY,
    NEAR,
    NEAR_PCT,
    OVER_QUOTA,
    SUGGESTS,
    USE_FIGURES,
    USE_ITEMS,
    limits,
    suggestion_rules,
)
from imtui.domain.prices import PriceList

MONTH_FIGURES = ("live_groups", "max_groups_per_user", "max_members_per_group")
"""The figures a lowering is judged on over 30 days, in this order."""


class FleetUsage(NamedTuple):
    """Recent peaks of many apps side by side (row i is one app; -1: no record)."""

    app_ids: np.ndarray
    """int64 (n,), ascending."""
    week: np.ndarray
    """int64 (n, 6): peaks of the last 7 days, in `USE_FIGURES` order."""
    week_days: np.ndarray
    """(n,): days of the last 7 with a record."""
    month: np.ndarray
    """int64 (n, 3): peaks of the last 30 days, in `MONTH_FIGURES` order."""
    month_days: np.ndarray
    """(n,): days of the last 30 with a record."""


class FleetHeadroom(NamedTuple):
    """Per app (same rows as the usage): its highest use, as the headroom column shows it."""

    ratio: np.ndarray
    """float64: peak ÷ allowance of the highest use (-1: none)."""
    pct: np.ndarray
    """int64: that use in percent, rounded down (-1: none)."""
    item: np.ndarray
    """int64: index into `items` of that use's item (-1: none)."""
    flags: np.ndarray
    """int64: NEAR, AT_LIMIT, OVER_QUOTA, SUGGESTS."""
    items: tuple[str, ...]


def fleet_headroom(
    packages: Sequence[Package], kind: np.ndarray, usage: FleetUsage, prices: PriceList
) -> FleetHeadroom:
    """The headroom and flags of active apps: `kind[i]` indexes `packages` for usage row i."""
    n = len(usage.app_ids)
    uses_n = len(USE_ITEMS)
    # per package: each use's allowance, whether it is a limit, which week figure measures it
    allow = np.zeros((len(packages), uses_n), dtype=np.int64)
    is_limit = np.zeros((len(packages), uses_n), dtype=bool)
    figure = np.zeros((len(packages), uses_n), dtype=np.int64)
    current = np.zeros((len(packages), 3), dtype=np.int64)
    can_raise = np.zeros((len(packages), 3), dtype=bool)
    lower = np.zeros((len(packages), 3), dtype=np.int64)
    can_lower = np.zeros((len(packages), 3), dtype=bool)
    for p, package in enumerate(packages):
        for j, (item, kind_of, measured_by, allowance) in enumerate(limits(package)):
            assert USE_ITEMS[j] == item
            allow[p, j] = allowance or 0
            is_limit[p, j] = kind_of == LIMIT
            figure[p, j] = USE_FIGURES.index(measured_by)
        for j, (item, value, raise_ok, down) in enumerate(suggestion_rules(package, prices)):
            assert MONTH_FIGURES[j] == MEASURED_BY[item]
            current[p, j] = value or 0
            can_raise[p, j] = raise_ok
            lower[p, j] = down or 0
            can_lower[p, j] = down is not None

    rows = np.arange(n)
    allow, is_limit, figure = allow[kind], is_limit[kind], figure[kind]
    has_week = usage.week_days > 0
    peak = usage.week[rows[:, None], figure]  # (n, uses): each use's peak
    applies = has_week[:, None] & (allow > 0) & (peak >= 0)

    flags = np.zeros(n, dtype=np.int64)
    near = applies & (peak * 100 >= allow * NEAR_PCT)
    flags |= np.where(near.any(axis=1), NEAR, 0)
    flags |= np.where((applies & is_limit & (peak >= allow)).any(axis=1), AT_LIMIT, 0)
    flags |= np.where((applies & ~is_limit & (peak > allow)).any(axis=1), OVER_QUOTA, 0)

    # the highest use: the first in contract order on a tie (exact, in integers)
    best = np.full(n, -1, dtype=np.int64)
    best_peak = np.zeros(n, dtype=np.int64)
    best_allow = np.ones(n, dtype=np.int64)
    for j in range(uses_n):
        better = applies[:, j] & ((best < 0) | (peak[:, j] * best_allow > best_peak * allow[:, j]))
        best = np.where(better, j, best)
        best_peak = np.where(better, peak[:, j], best_peak)
        best_allow = np.where(better, allow[:, j], best_allow)
    found = best >= 0
    ratio = np.where(found, best_peak / best_allow, -1.0)
    pct = np.where(found, best_peak * 100 // best_allow, -1)

    # suggestions: raise at NEAR_PCT of a limit; else lower when 30 days of peaks fit the lower setting
    current, can_raise, lower, can_lower = current[kind], can_raise[kind], lower[kind], can_lower[kind]
    week_peak = usage.week[:, [USE_FIGURES.index(f) for f in MONTH_FIGURES]]
    raising = can_raise & has_week[:, None] & (week_peak >= 0) & (week_peak * 100 >= current * NEAR_PCT)
    enough = (usage.month_days >= LOWER_NEEDS_DAYS)[:, None]
    month_peak = np.maximum(usage.month, 0)
    lowering = ~raising & can_lower & enough & (month_peak * 100 <= lower * LOWER_FITS_PCT)
    flags |= np.where((raising | lowering).any(axis=1), SUGGESTS, 0)
    return FleetHeadroom(ratio, pct, best, flags, USE_ITEMS)
