"""The whole fleet's headroom at once says, app by app, exactly what `review` says of each app:
the same highest use (item, percent, ratio) and the same flags."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from imtui.domain.fleet_headroom import FleetUsage, fleet_headroom
from imtui.domain.headroom import USE_FIGURES, WindowPeaks, limits, review
from imtui.domain.prices import load_price_list
from tests.support.packages import PACKAGES

PRICES = load_price_list()
TZ = "Asia/Shanghai"
# peaks around every allowance's thresholds, and far from them
PEAK = st.one_of(
    st.integers(0, 120),
    st.sampled_from([7_999, 8_000, 9_999, 10_000, 10_001, 79_999, 80_000, 100_000, 100_001]),
    st.integers(0, 10_000),
    st.integers(0, 1_000_000_000),
)


@st.composite
def apps(draw):
    package = draw(st.sampled_from(PACKAGES))
    week_days = draw(st.sampled_from([0, 1, 7]))
    week = [draw(PEAK) for _ in range(5)]
    if draw(st.booleans()):  # at shares of the allowances, so that uses tie
        for _, _, figure, allowance in limits(package):
            if allowance and figure != "other_groups":
                week[USE_FIGURES.index(figure)] = allowance * draw(st.sampled_from([0, 2, 4, 5, 6])) // 5
    week.append(max(week[1] - week[2], 0))  # groups other than live groups
    month_days = draw(st.sampled_from([1, 27, 28, 30])) if not week_days else draw(st.sampled_from([28, 30, 7]))
    month = [max(draw(PEAK), week[i] if week_days else 0) for i in (2, 3, 4)]
    return package, (week if week_days else [-1] * 6), week_days, month, month_days


@settings(max_examples=60, deadline=None)
@given(st.lists(apps(), min_size=1, max_size=40))
def test_fleet_headroom_is_review_app_by_app(fleet):
    packages = sorted({p for p, *_ in fleet}, key=repr)
    usage = FleetUsage(
        np.arange(len(fleet), dtype=np.int64),
        np.array([w for _, w, _, _, _ in fleet], dtype=np.int64),
        np.array([d for _, _, d, _, _ in fleet], dtype=np.int64),
        np.array([m for _, _, _, m, _ in fleet], dtype=np.int64),
        np.array([d for _, _, _, _, d in fleet], dtype=np.int64),
    )
    kinds = np.array([packages.index(p) for p, *_ in fleet], dtype=np.int64)
    got = fleet_headroom(packages, kinds, usage, PRICES)
    for i, (package, week, week_days, month, month_days) in enumerate(fleet):
        week_peaks = WindowPeaks(*week, week_days) if week_days else WindowPeaks()
        month_peaks = WindowPeaks(None, None, *month, None, month_days)
        expected = review(package, week_peaks, month_peaks, {}, PRICES, TZ)
        assert int(got.flags[i]) == expected.flags, (package, week_peaks, month_peaks)
        use = expected.headroom
        if use is None:
            assert got.item[i] == -1
        else:
            assert got.items[got.item[i]] == use.item
            assert int(got.pct[i]) == use.use_pct
            assert float(got.ratio[i]) == use.ratio


def test_the_week_figures_are_the_review_figures():
    assert USE_FIGURES == WindowPeaks._fields[:6]
