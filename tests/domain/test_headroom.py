"""Headroom against limits and quotas, and right-sizing suggestions (domain.md §6)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from imtui.domain.calendar import parse_instant
from imtui.domain.editions import FLAGSHIP, PRO, TRIAL, Package, default_package
from imtui.domain.headroom import (
    AT_LIMIT,
    NEAR,
    NOT_ENOUGH_DATA,
    OVER_QUOTA,
    SUGGESTS,
    WindowPeaks,
    review,
    uses,
)
from imtui.domain.prices import load_price_list

PRICES = load_price_list()
TZ = "Asia/Shanghai"
D = Decimal
PRO_PKG = default_package(PRO)
QUIET = WindowPeaks(10, 10, 1, 1, 1, 9, 7)


def month(days=30, live=1, gpu=1, mpg=1) -> WindowPeaks:
    return WindowPeaks(10, 10, live, gpu, mpg, 9, days)


def test_uses_of_a_pro_app():
    week = WindowPeaks(
        dau=9_000,
        groups=120_000,
        live_groups=40,
        max_groups_per_user=450,
        max_members_per_group=20,
        other_groups=0,
        days=7,
    )
    got = {(u.item, u.kind): (u.peak, u.allowance, u.use_pct) for u in uses(PRO_PKG, week)}
    assert got == {
        ("live_groups", "limit"): (40, 50, 80),
        ("groups_per_user", "limit"): (450, 500, 90),
        ("members_per_group", "limit"): (20, 200, 10),
        ("dau", "quota"): (9_000, 10_000, 90),
        ("groups", "quota"): (120_000, 100_000, 120),
    }


def test_trial_caps_dau_and_other_groups_and_unlimited_live_groups_have_no_limit():
    trial = uses(default_package(TRIAL), WindowPeaks(100, 120, 10, 49, 20, 110, 7))
    assert {(u.item, u.kind, u.use_pct) for u in trial} >= {("dau", "limit", 100), ("groups", "limit", 110)}
    flagship = uses(default_package(FLAGSHIP), WindowPeaks(10, 10, 5000, 10, 10, 0, 7))
    assert "live_groups" not in {u.item for u in flagship}


def test_headroom_is_the_highest_use_and_rounds_down():
    r = review(PRO_PKG, WindowPeaks(7_999, 10, 39, 399, 159, 0, 7), month(), {}, PRICES, TZ)
    assert (r.headroom.item, r.headroom.use_pct) == ("dau", 79)  # 7,999 of 10,000 beats 399 of 500
    assert r.flags == 0


@pytest.mark.parametrize(
    "week, flags",
    [
        (WindowPeaks(8_000, 10, 1, 1, 1, 0, 7), NEAR),
        (WindowPeaks(10, 10, 50, 1, 1, 0, 7), NEAR | AT_LIMIT | SUGGESTS),
        (WindowPeaks(10_000, 10, 1, 1, 1, 0, 7), NEAR),
        (WindowPeaks(10_001, 10, 1, 1, 1, 0, 7), NEAR | OVER_QUOTA),
        (WindowPeaks(10, 100_001, 1, 1, 1, 0, 7), NEAR | OVER_QUOTA),
    ],
)
def test_near_at_and_over(week, flags):
    assert review(PRO_PKG, week, month(), {}, PRICES, TZ).flags == flags


def test_no_usage_no_headroom():
    r = review(PRO_PKG, WindowPeaks(), WindowPeaks(), {}, PRICES, TZ)
    assert (r.headroom, r.uses, r.suggestions) == (None, (), ())


@pytest.mark.parametrize(
    "item, week, to, delta",
    [
        ("live_groups", WindowPeaks(10, 10, 40, 1, 1, 0, 7), None, "449.99"),
        ("groups_per_user", WindowPeaks(10, 10, 1, 400, 1, 0, 7), 1000, "449.99"),
        ("members_per_group", WindowPeaks(10, 10, 1, 1, 199, 0, 7), 2000, "239.99"),
    ],
)
def test_raise_an_item_from_80_percent_of_its_limit(item, week, to, delta):
    (s,) = review(PRO_PKG, week, month(), {}, PRICES, TZ).suggestions
    assert (s.item, s.frm, s.to, s.monthly_delta, s.unlocks_on) == (item, PRO_PKG.value(item), to, D(delta), None)


def test_below_80_percent_or_nothing_higher_suggests_no_raise():
    assert review(PRO_PKG, WindowPeaks(10, 10, 39, 399, 159, 0, 7), month(), {}, PRICES, TZ).suggestions == ()
    top = Package(FLAGSHIP, None, 3000, 6000, 30)  # flagship's highest settings
    assert (
        review(top, WindowPeaks(10, 10, 1, 2999, 5999, 0, 7), month(gpu=2999, mpg=5999), {}, PRICES, TZ).suggestions
        == ()
    )


def test_lower_a_paid_setting_that_fits_the_lower_one_with_a_fifth_to_spare():
    pkg = Package(PRO, None, 1000, 2000, 7)  # every value-added item paid
    r = review(pkg, QUIET, month(live=40, gpu=400, mpg=160), {}, PRICES, TZ)
    got = {(s.item, s.frm, s.to, s.monthly_delta) for s in r.suggestions}
    assert got == {
        ("live_groups", None, 50, D("-449.99")),
        ("groups_per_user", 1000, 500, D("-449.99")),
        ("members_per_group", 2000, 200, D("-239.99")),
    }
    tight = review(pkg, QUIET, month(live=41, gpu=401, mpg=161), {}, PRICES, TZ)
    assert tight.suggestions == () and tight.note is None


@pytest.mark.parametrize("days, suggested", [(28, True), (27, False)])
def test_lowering_needs_28_of_30_days_of_records(days, suggested):
    pkg = Package(PRO, 50, 1000, 200, 7)
    r = review(pkg, QUIET, month(days=days, gpu=10), {}, PRICES, TZ)
    assert bool(r.suggestions) == suggested
    assert r.note == (None if suggested else NOT_ENOUGH_DATA)


def test_included_settings_are_never_lowered():
    """Unlimited live groups are included on flagship: no saving to suggest."""
    assert review(default_package(FLAGSHIP), QUIET, month(live=0), {}, PRICES, TZ).suggestions == ()


def test_a_locked_item_says_when_it_unlocks():
    locks = {"groups_per_user": parse_instant("2026-11-16 10:00", TZ)}
    (s,) = review(PRO_PKG, WindowPeaks(10, 10, 1, 450, 1, 0, 7), month(), locks, PRICES, TZ).suggestions
    assert (s.item, s.unlocks_on) == ("groups_per_user", "2026-12-01")
