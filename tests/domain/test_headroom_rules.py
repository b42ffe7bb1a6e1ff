"""`review` and `judge` (the rules worked out once per package, the same uses shared by the apps
judged with them) say exactly what the rules said when written app by app, as below (the
implementation before `Rules`, kept as the reference): the same uses, headroom, suggestions and
note, for any package, usage and locks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from imtui.domain.calendar import parse_instant
from imtui.domain.changes import unlock_date
from imtui.domain.editions import UNLIMITED, Package
from imtui.domain.headroom import (
    LOWER_FITS_PCT,
    LOWER_NEEDS_DAYS,
    LOWER_WINDOW_DAYS,
    MEASURED_BY,
    NEAR_PCT,
    NOT_ENOUGH_DATA,
    SUGGESTED_ITEMS,
    WINDOW_DAYS,
    Review,
    Suggestion,
    WindowPeaks,
    _settings,
    highest,
    judge,
    review,
    rules_of,
    uses,
)
from imtui.domain.prices import PriceList, load_price_list
from tests.support.packages import PACKAGES

PRICES = load_price_list()
TZ = "Asia/Shanghai"
PEAK = st.one_of(
    st.none(),
    st.integers(0, 120),
    st.sampled_from([39, 40, 41, 50, 399, 400, 401, 500, 999, 1000, 1599, 1600, 1601, 2000, 4800, 6000]),
    st.sampled_from([7_999, 8_000, 9_999, 10_000, 10_001, 79_999, 80_000, 100_000, 100_001]),
    st.integers(0, 1_000_000_000),
)
LOCK = st.sampled_from([parse_instant("2026-11-16 10:00", TZ), parse_instant("2026-12-31 23:59", TZ)])


@st.composite
def apps(draw):
    package = draw(st.sampled_from(PACKAGES))
    week = WindowPeaks(*(draw(PEAK) for _ in range(6)), days=draw(st.integers(0, 7)))
    month = WindowPeaks(*(draw(PEAK) for _ in range(6)), days=draw(st.sampled_from([0, 1, 27, 28, 29, 30])))
    locks = {item: draw(LOCK) for item in draw(st.sets(st.sampled_from(SUGGESTED_ITEMS)))}
    return package, week, month, locks


@settings(max_examples=300, deadline=None)
@given(apps())
def test_review_is_the_rules_as_written(app):
    package, week, month, locks = app
    assert review(package, week, month, locks, PRICES, TZ) == reference_review(package, week, month, locks, PRICES, TZ)


@settings(max_examples=60, deadline=None)
@given(st.lists(apps(), min_size=1, max_size=60))
def test_a_fleet_judged_with_shared_rules_is_reviewed_app_by_app(fleet):
    """As the review service judges a fleet: one `Rules` per package, plain lists of figures
    (None for a week without a record), many apps of the same package in a row."""
    rules = {}
    for package, week, month, locks in fleet:
        package_rules = rules.get(package)
        if package_rules is None:
            package_rules = rules[package] = rules_of(package, PRICES)
        figures = list(week[:6]) if any(v is not None for v in week[:6]) else None
        month_figures = [month.of(MEASURED_BY[item]) for item in SUGGESTED_ITEMS]
        got = judge(package_rules, figures, month_figures, month.days, locks, TZ)
        expected = reference_review(package, week, month, locks, PRICES, TZ)
        assert got == expected
        assert got.headroom is None or any(u is got.headroom for u in got.uses)


def test_apps_of_one_package_share_equal_uses():
    package_rules = rules_of(PACKAGES[0], PRICES)
    a = judge(package_rules, [10, 10, 1, 2, 3, 9], [1, 2, 3], 30, {}, TZ)
    b = judge(package_rules, [10, 11, 1, 2, 3, 9], [1, 2, 3], 30, {}, TZ)
    assert a.uses[0] is b.uses[0] and a.uses == tuple(uses(PACKAGES[0], WindowPeaks(10, 10, 1, 2, 3, 9, 7)))


def reference_review(
    package: Package,
    week: WindowPeaks,
    month: WindowPeaks,
    locks: Mapping[str, datetime],
    prices: PriceList,
    tz: str,
) -> Review:
    """Headroom and right-sizing suggestions of one active app."""
    all_uses = uses(package, week)  # the rules as written before `judge`
    suggestions: list[Suggestion] = []
    note = None
    for item in SUGGESTED_ITEMS:
        current = package.value(item)
        price_now, up, up_price, down, down_price = _settings(prices, package.edition, item, current)
        peak = week.of(MEASURED_BY[item])
        unlocks = unlock_date(locks[item], tz) if item in locks else None
        if up is not ... and current is not UNLIMITED and peak is not None and peak * 100 >= current * NEAR_PCT:
            suggestions.append(
                Suggestion(
                    item,
                    current,
                    up,
                    up_price - price_now,
                    f"peak {peak:,} of {current:,} in the last {WINDOW_DAYS} days ({peak * 100 // current}%)",
                    unlocks,
                )
            )
            continue
        if down is ... or price_now <= 0:
            continue
        if month.days < LOWER_NEEDS_DAYS:
            note = NOT_ENOUGH_DATA
            continue
        peak30 = month.of(MEASURED_BY[item]) or 0
        if down is not UNLIMITED and peak30 * 100 <= down * LOWER_FITS_PCT:
            suggestions.append(
                Suggestion(
                    item,
                    current,
                    down,
                    down_price - price_now,
                    f"peak {peak30:,} in the last {LOWER_WINDOW_DAYS} days fits {down:,} "
                    f"({peak30 * 100 // down}% of it)",
                    unlocks,
                )
            )
    return Review(highest(all_uses), tuple(all_uses), tuple(suggestions), note)
