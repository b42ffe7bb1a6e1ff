"""Each signal kind's rule (signals.md §2) and its `since`, at and around every threshold; the
order, scope and exit rule of `check`; what a webhook is told (§3)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imtui.domain.billing import plan_of_days
from imtui.domain.budgets import Budget
from imtui.domain.calendar import Month, day_bounds, parse_instant
from imtui.domain.drift import Drift
from imtui.domain.editions import FLAGSHIP, PRO, TRIAL, default_package
from imtui.domain.errors import InvalidInput
from imtui.domain.prices import load_price_list
from imtui.domain.signals import (
    BUDGET_FORECAST,
    BUDGET_OVER,
    CRITICAL,
    LIMIT_REACHED,
    USAGE_SPIKE,
    WARNING,
    AppRef,
    DayUsage,
    Thresholds,
    budget_signals,
    check_thresholds,
    delta,
    drift_signal,
    exceeds,
    limit_chain_start,
    limit_signal,
    median,
    message_text,
    ordered,
    overage_cents_by_day,
    overage_reached,
    overage_reached_days,
    overage_signal,
    projection_curves,
    purge_signal,
    reaches_back,
    run_start,
    scoped,
    spike_signal,
    stuck_signal,
)
from tests.support.oracles import overage_by_day, projection_curve

TZ = "Asia/Shanghai"
PRICES = load_price_list()
NOV = Month(2026, 11)
STARTS = day_bounds(NOV, TZ)
APP = AppRef(1400000001, "chat-prod", "acme")
T = Thresholds()


def at(text: str) -> datetime:
    return parse_instant(text, TZ)


def amounts(*values: str) -> list[D]:
    return [D(v) for v in values]


# --- budgets ----------------------------------------------------------------------------------------


def test_budget_over_is_critical_since_the_first_day_month_to_date_went_over():
    b = Budget("acme", D("100.00"), 80)
    mtd = amounts("40.00", "80.00", "100.00", "100.01", "130.00")  # days 1-5; the 5th is today
    (s,) = budget_signals(b, "2026-11", mtd, amounts("200", "200", "200", "200", "200"), STARTS)
    assert (s.key, s.kind, s.severity) == ("budget_over:acme:2026-11", BUDGET_OVER, CRITICAL)
    assert s.since == STARTS[3] == at("2026-11-04T00:00:00")  # 100.00 is at the budget, not over it
    assert (s.app_id, s.account, s.fleet, s.subject) == (None, "acme", False, {"account": "acme"})
    assert s.figures == {
        "month": "2026-11",
        "budget": D("100.00"),
        "warn_at": 80,
        "month_to_date": D("130.00"),
        "projected": D("200"),
        "used_pct": 130,
    }
    assert s.text == "Account acme has spent 130.00 in 2026-11, over its budget of 100.00 (130 %)."


def test_warning_and_forecast_hold_together_each_with_its_own_since():
    b = Budget(None, D("1000.00"), 80)
    mtd = amounts("100.00", "799.99", "800.00", "850.00")
    projected = amounts("900.00", "1000.00", "1000.01", "1200.00")
    signals = budget_signals(b, "2026-11", mtd, projected, STARTS)
    assert [(s.key, s.severity, s.since) for s in signals] == [
        ("budget_warning:fleet:2026-11", WARNING, STARTS[2]),  # exactly at 80 % counts
        ("budget_forecast:fleet:2026-11", WARNING, STARTS[2]),  # exactly at the budget does not
    ]
    assert all(s.fleet and s.subject == {"fleet": True} and s.account is None for s in signals)
    assert signals[0].text == "The fleet has spent 850.00 in 2026-11, 85 % of its budget of 1,000.00 (warning at 80 %)."
    assert signals[1].text == (
        "The fleet is heading for at least 1,200.00 in 2026-11, over its budget of 1,000.00 (850.00 so far)."
    )


def test_no_budget_signal_under_every_threshold_and_a_broken_run_restarts_since():
    b = Budget("acme", D("1000.00"), 80)
    assert budget_signals(b, "2026-11", amounts("799.99"), amounts("1000.00"), STARTS) == []
    # a projection over, then under (a downgrade), then over again: since is the last run's start
    (s,) = budget_signals(b, "2026-11", amounts("1", "2", "3", "4"), amounts("1001", "900", "1001", "1500"), STARTS)
    assert s.kind == BUDGET_FORECAST and s.since == STARTS[2]
    assert run_start([True, False, True, True]) == 2 and run_start([True]) == 0 and run_start([True, False]) is None


def test_over_hides_warning_and_forecast():
    b = Budget("acme", D("10.00"), 50)
    signals = budget_signals(b, "2026-11", amounts("10.01"), amounts("99.00"), STARTS)
    assert [s.kind for s in signals] == [BUDGET_OVER]


def test_the_projection_curve_carries_each_days_settings_to_the_months_end():
    trial, pro = default_package(TRIAL), default_package(PRO)
    plan = plan_of_days(((0, 9, trial), (9, 29, pro)), 30, PRICES)  # upgraded on the 10th
    curve, ahead = plan.curve(), projection_curve(plan)
    assert ahead[:9] == [0] * 9  # a trial month projects nothing
    assert ahead[9] == curve[-1] and ahead[29] == curve[-1]
    assert all(ahead[d] >= curve[d] for d in range(30))
    halted = plan_of_days(((0, 14, pro),), 30, PRICES)  # halted on the 15th
    h_curve, h_ahead = halted.curve(), projection_curve(halted)
    assert h_ahead[14] == 44999  # while held, a whole month of pro (449.99)
    assert h_ahead[15:] == [h_curve[-1]] * 15  # after the halt, what was billed
    flagship = plan_of_days(((0, 29, default_package(FLAGSHIP)),), 30, PRICES)
    assert projection_curve(flagship) == [flagship.curve()[-1]] * 30


# --- limits -------------------------------------------------------------------------------------------

PRO_PKG = default_package(PRO)  # 50 live groups, 500 groups per user, 200 members per group


def rec(members: int = 10, dau: int = 50, groups: int = 10, live: int = 1, per_user: int = 5) -> tuple:
    return (dau, groups, live, per_user, members)


def test_limit_reached_at_exactly_100_percent_within_the_last_7_days():
    today = date(2026, 11, 20)
    records = {today - timedelta(days=i): rec() for i in range(10)}
    assert limit_signal(APP, PRO_PKG, records, today, TZ) is None
    records[date(2026, 11, 14)] = rec(members=199)  # 99 %
    assert limit_signal(APP, PRO_PKG, records, today, TZ) is None
    records[date(2026, 11, 14)] = rec(members=200)  # 100 %, 6 days ago: inside the window
    s = limit_signal(APP, PRO_PKG, records, today, TZ)
    assert (s.key, s.kind, s.severity, s.subject) == (
        "limit_reached:1400000001",
        LIMIT_REACHED,
        CRITICAL,
        {"app_id": APP.app_id},
    )
    assert s.since == at("2026-11-14T00:00:00")
    assert s.figures == {
        "item": "members_per_group",
        "peak": 200,
        "allowance": 200,
        "use_pct": 100,
        "items": ["members_per_group"],
    }
    assert s.text == (
        "App 1400000001 (chat-prod, account acme) is at its members per group limit (200 of 200, 100 %) "
        "in the last 7 days: its users see errors."
    )
    # 7 days ago is outside the window
    del records[date(2026, 11, 14)]
    records[date(2026, 11, 13)] = rec(members=200)
    assert limit_signal(APP, PRO_PKG, records, today, TZ) is None


def test_a_quota_is_not_a_limit_but_trials_caps_are():
    today = date(2026, 11, 20)
    assert limit_signal(APP, PRO_PKG, {today: rec(dau=50_000, groups=500_000)}, today, TZ) is None
    trial = default_package(TRIAL)
    s = limit_signal(APP, trial, {today: rec(dau=100)}, today, TZ)
    assert s.figures["item"] == "dau" and s.figures["use_pct"] == 100
    s = limit_signal(APP, trial, {today: rec(groups=105, live=5)}, today, TZ)  # 100 groups besides live ones
    assert s.figures["item"] == "groups"
    assert limit_signal(APP, trial, {today: rec(groups=104, live=5)}, today, TZ) is None


def test_since_follows_the_unbroken_chain_of_days_at_a_limit():
    today = date(2026, 11, 30)
    hit = rec(members=250)
    records = {today - timedelta(days=d): hit for d in (2, 9, 16)}  # 7 days apart: unbroken
    records[today - timedelta(days=24)] = hit  # 8 days before the 16th: the chain breaks there
    assert limit_chain_start(PRO_PKG, records, today) == today - timedelta(days=16)
    s = limit_signal(APP, PRO_PKG, records, today, TZ)
    assert s.since == datetime(2026, 11, 14, tzinfo=s.since.tzinfo) and s.figures["use_pct"] == 125
    # whether the chain may reach before the records read
    assert reaches_back(date(2026, 11, 14), date(2026, 11, 8))  # the 7th could still link
    assert not reaches_back(date(2026, 11, 14), date(2026, 11, 7))


# --- overage ------------------------------------------------------------------------------------------


def usage(dau: list[int | None], groups: list[int | None] | None = None) -> DayUsage:
    dau = dau + [None] * (30 - len(dau))
    groups = (groups or [0 if v is not None else None for v in dau]) + [None] * (30 - len(groups or dau))
    return DayUsage(dau, groups)


def test_overage_started_from_one_started_block_since_the_day_the_blocks_were_reached():
    u = usage([9000, 10000, 10001, 12000, None, 19000])
    assert overage_signal(APP, "2026-11", 10000, 0, usage([10000]), 0, PRICES, STARTS) is None  # included
    s = overage_signal(APP, "2026-11", 19000, 0, u, 0, PRICES, STARTS)
    assert (s.key, s.severity) == ("overage_started:1400000001:2026-11", WARNING)
    assert s.since == STARTS[2]  # 10,001: the first block
    assert s.figures == {
        "month": "2026-11",
        "blocks": 1,
        "dau_peak": 19000,
        "dau_blocks": 1,
        "groups_peak": 0,
        "groups_blocks": 0,
        "amount": D("449.99"),
    }
    assert s.text == (
        "App 1400000001 (chat-prod, account acme) bills a DAU overage (peak 19,000: 1 block) in 2026-11: 449.99 so far."
    )
    # another block: since moves to the day it started (an escalation)
    u2 = usage([9000, 10000, 10001, 12000, None, 19000, 23456])
    s2 = overage_signal(APP, "2026-11", 23456, 0, u2, 0, PRICES, STARTS)
    assert s2.since == STARTS[6] and s2.figures["blocks"] == 2 and s2.figures["amount"] == D("899.98")


def test_overage_counts_paid_days_only_and_groups_too():
    u = usage([20000, 20000, 5000, 5000], [0, 0, 250000, 0])
    # paid from the 3rd (index 2): the trial days' dau does not count, the groups' peak does
    s = overage_signal(APP, "2026-11", 5000, 250000, u, 2, PRICES, STARTS)
    assert s.since == STARTS[2] and (s.figures["dau_blocks"], s.figures["groups_blocks"]) == (0, 2)
    assert "a group overage (peak 250,000: 2 blocks)" in s.text and s.figures["amount"] == D("899.98")
    assert overage_by_day(u, 2, PRICES, 3) == [0, 0, 89998, 89998]
    assert overage_by_day(usage([10001, 30000]), 0, PRICES, 2) == [44999, 89998, 89998]
    assert overage_by_day(usage([30000]), None, PRICES, 1) == [0, 0]  # never paid


# --- spikes -------------------------------------------------------------------------------------------


def spike(dau: dict[int, int], latest: int = 20, thresholds: Thresholds = T):
    """dau by day of November."""
    return spike_signal(APP, {date(2026, 11, d): v for d, v in dau.items()}, date(2026, 11, latest), thresholds, TZ)


def test_a_spike_is_twice_the_median_and_1000_above_it_exactly():
    base = {13: 1000, 14: 1000, 15: 1000, 16: 1000}
    s = spike({**base, 20: 2000})  # 2 × 1,000 and exactly 1,000 above it
    assert (s.key, s.kind, s.severity) == ("usage_spike:1400000001", USAGE_SPIKE, WARNING)
    assert s.since == at("2026-11-20T00:00:00")
    assert s.figures == {"day": "2026-11-20", "dau": 2000, "median": 1000, "ratio": D("2.00"), "days": 4}
    assert s.text == (
        "App 1400000001 (chat-prod, account acme) had 2,000 daily active users on 2026-11-20, "
        "2.00 times the median 1,000 of the 7 days before."
    )
    assert spike({**base, 20: 1999}) is None  # under twice
    assert spike({13: 600, 14: 600, 15: 600, 16: 600, 20: 1599}) is None  # twice, but only 999 above
    assert spike({13: 1000, 14: 1000, 15: 1000, 20: 5000}) is None  # 3 days of records: not enough
    assert spike({12: 1000, 13: 1000, 14: 1000, 15: 1000, 20: 5000}) is None  # the 12th is 8 days before


def test_the_median_of_an_even_count_and_the_thresholds_per_run():
    assert median([1, 2, 3, 100]) == D("2.5") and median([5, 1, 3]) == 3
    s = spike({13: 1000, 14: 1001, 15: 3000, 16: 3000, 20: 4001})  # median 2000.5
    assert s.figures["median"] == 2000.5 and s.figures["ratio"] == D("2.00")
    assert spike({13: 1000, 14: 1000, 15: 1000, 16: 1000, 20: 1500}) is None
    lower = Thresholds(spike_ratio=D("1.5"), spike_min=500)
    assert spike({13: 1000, 14: 1000, 15: 1000, 16: 1000, 20: 1500}, thresholds=lower) is not None
    zero = {13: 0, 14: 0, 15: 0, 16: 0}
    assert spike({**zero, 20: 1000}).figures["ratio"] is None  # from nothing: no ratio to give
    assert spike({**zero, 20: 999}) is None


# --- purges, drift, intents -----------------------------------------------------------------------------


def test_purge_soon_within_7_days_of_the_purge_instant():
    deactivated = at("2026-09-01T10:00:00")
    purge_at = deactivated + timedelta(days=90)  # 2026-11-30 10:00
    assert purge_signal(APP, deactivated, purge_at, purge_at - timedelta(days=7, seconds=1), T, TZ) is None
    s = purge_signal(APP, deactivated, purge_at, purge_at - timedelta(days=7), T, TZ)
    assert (s.key, s.severity, s.since) == ("purge_soon:1400000001", CRITICAL, purge_at - timedelta(days=7))
    assert s.figures == {"deactivated_at": deactivated, "purge_at": purge_at}
    assert s.text == (
        "App 1400000001 (chat-prod, account acme) will be purged at 2026-11-30 10:00 (Asia/Shanghai): its data "
        "then becomes unrecoverable. To keep it: imtui apps reactivate 1400000001"
    )
    assert purge_signal(APP, deactivated, purge_at, purge_at, T, TZ) is None  # purged at that instant
    wide = Thresholds(purge_days=90)
    s = purge_signal(APP, deactivated, purge_at, deactivated + timedelta(hours=1), wide, TZ)
    assert s.since == deactivated  # the window opened before the halt: since the halt


def test_drift_and_stuck_intents():
    since = at("2026-11-02T09:00:00")
    s = drift_signal(APP, Drift(APP.app_id, "deactivated", True), since)
    assert (s.key, s.severity, s.since) == ("drift:1400000001", CRITICAL, since)
    assert s.figures == {"status": "deactivated", "platform": "serving", "fix": "stop"}
    assert "still serves app 1400000001" in s.text and "reconcile --fix stops it again" in s.text
    s = drift_signal(APP, Drift(APP.app_id, "active", False), since)
    assert s.figures["fix"] == "start" and "has stopped app 1400000001" in s.text

    asked = at("2026-11-02T09:00:00")
    assert stuck_signal(APP, "halt", asked, "alice", asked + timedelta(minutes=10), T, TZ) is None
    s = stuck_signal(APP, "halt", asked, "alice", asked + timedelta(minutes=10, seconds=1), T, TZ)
    assert (s.key, s.severity, s.since) == ("intent_stuck:1400000001", CRITICAL, asked + timedelta(minutes=10))
    assert s.figures == {"action": "halt", "requested_at": asked, "minutes": 10, "actor": "alice"}
    assert "The halt of app 1400000001" in s.text and "alice" in s.text


# --- check: order, scope, exit; thresholds -----------------------------------------------------------------


def sample() -> list:
    b = Budget("acme", D("10.00"), 80)
    return [
        spike({13: 1000, 14: 1000, 15: 1000, 16: 1000, 20: 5000}),
        *budget_signals(Budget(None, D("1.00"), 80), "2026-11", amounts("0.90"), amounts("5"), STARTS),
        *budget_signals(b, "2026-11", amounts("11"), amounts("11"), STARTS),
        drift_signal(AppRef(1400000000, "x", "beta"), Drift(1400000000, "active", False), at("2026-11-01")),
        purge_signal(APP, at("2026-09-01"), at("2026-11-30"), at("2026-11-29"), T, TZ),
    ]


def test_most_severe_first_then_the_tables_order_of_kinds():
    keys = [s.key for s in ordered(sample())]
    assert keys == [
        "budget_over:acme:2026-11",
        "purge_soon:1400000001",
        "drift:1400000000",
        "budget_warning:fleet:2026-11",
        "budget_forecast:fleet:2026-11",
        "usage_spike:1400000001",
    ]


def test_an_accounts_check_shows_it_and_its_apps_not_the_fleets():
    keys = {s.key for s in scoped(sample(), "acme")}
    assert keys == {"budget_over:acme:2026-11", "purge_soon:1400000001", "usage_spike:1400000001"}
    assert {s.key for s in scoped(sample(), "beta")} == {"drift:1400000000"}
    assert len(scoped(sample(), None)) == 6


def test_fail_on():
    signals = sample()
    warnings = [s for s in signals if s.severity == WARNING]
    assert exceeds(signals, "critical") and exceeds(signals, "warning") and not exceeds(signals, None)
    assert not exceeds(warnings, "critical") and exceeds(warnings, "warning") and not exceeds([], "warning")


def test_thresholds_from_the_command_line():
    assert check_thresholds() == Thresholds(D(2), 1000, 7, 10)
    assert check_thresholds("1.5", "0", "90") == Thresholds(D("1.5"), 0, 90, 10)
    for bad in ({"spike_ratio": "0.5"}, {"spike_ratio": "x"}, {"spike_ratio": "1.555"}, {"spike_ratio": "nan"}):
        with pytest.raises(InvalidInput):
            check_thresholds(**bad)
    for bad in ({"spike_min": "-1"}, {"spike_min": "1.5"}, {"purge_days": "0"}, {"purge_days": "91"}):
        with pytest.raises(InvalidInput):
            check_thresholds(**bad)


# --- notification -------------------------------------------------------------------------------------------


def test_what_a_webhook_is_told_new_escalated_resolved():
    signals = sample()
    first = delta(signals, {})
    assert {s.key for s in first.new} == {s.key for s in signals} and not first.escalated and not first.resolved
    told = {s.key: s.since for s in signals}
    assert delta(signals, told).empty
    moved = dict(told)
    moved["usage_spike:1400000001"] = at("2026-11-19T00:00:00")
    moved["purge_soon:1400000999"] = at("2026-11-01T00:00:00")  # no longer true
    change = delta(signals, moved)
    assert [s.key for s in change.escalated] == ["usage_spike:1400000001"] and not change.new
    assert change.resolved == ["purge_soon:1400000999"]
    assert [s.key for s in change.to_send] == ["usage_spike:1400000001"]
    # a key outside what this run looked at is not resolved
    assert delta(signals, moved, lambda key: not key.startswith("purge_soon")).resolved == []
    text = message_text(change.to_send, change.resolved)
    assert text.splitlines() == [
        "[warning] " + change.escalated[0].text,
        "[resolved] purge_soon:1400000999",
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.one_of(st.none(), st.integers(0, 60_000)), min_size=30, max_size=30),
            st.lists(st.integers(0, 600_000), min_size=30, max_size=30),
            st.one_of(st.none(), st.integers(0, 29)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_fleets_overage_days_at_once_are_each_apps(apps):
    """The fleet at once (NumPy) says what `overage_reached` and `overage_by_day` say app by app."""
    import numpy as np

    dau = np.array([[-1 if v is None else v for v in d] for d, _, _ in apps])
    groups = np.array([[g if d[i] is not None else -1 for i, g in enumerate(gs)] for d, gs, _ in apps])
    first = np.array([30 if f is None else f for _, _, f in apps])
    for want in (1, 2, 3):
        got = overage_reached_days(dau, groups, first, np.full(len(apps), want), PRICES).tolist()
        for i, (d, gs, f) in enumerate(apps):
            one = overage_reached(
                DayUsage(d, [g if d[j] is not None else None for j, g in enumerate(gs)]), f, PRICES, want
            )
            assert got[i] == (-1 if one is None else one)
    cents = overage_cents_by_day(dau, groups, first, PRICES).tolist()
    for i, (d, gs, f) in enumerate(apps):
        usage_ = DayUsage(d, [g if d[j] is not None else None for j, g in enumerate(gs)])
        assert cents[i] == overage_by_day(usage_, f, PRICES, 29)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(0, 29), st.integers(0, 29), st.sampled_from([TRIAL, PRO, FLAGSHIP])),
            min_size=0,
            max_size=4,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_projections_of_many_plans_at_once_are_each_plans(spans):
    """`projection_curves` (NumPy) says what `projection_curve` says plan by plan."""
    plans = []
    for held in spans:
        ranges, day = [], 0
        for a, b, edition in held:  # in time order, each starting where the last ended at most
            first = max(day, min(a, b))
            last = max(first, max(a, b))
            ranges.append((first, last, default_package(edition)))
            day = last
        plans.append(plan_of_days(tuple(ranges), 30, PRICES))
    assert projection_curves(plans, 30).tolist() == [projection_curve(p) for p in plans]
