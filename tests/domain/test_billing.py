"""Daily proration and bill lines (domain.md §5), to the cent, with exact Decimals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from imtui.domain.billing import State, active_spans, live_cost, month_lines, prorate_cents, total
from imtui.domain.calendar import Month, parse_instant
from imtui.domain.changes import ChangeRequest, plan_modify, plan_upgrade
from imtui.domain.editions import (
    EDITION,
    FLAGSHIP,
    GROUPS_PER_USER,
    HISTORY_DAYS,
    LIVE_GROUPS,
    MEMBERS_PER_GROUP,
    PRO,
    TRIAL,
    UNLIMITED,
    default_package,
)
from imtui.domain.lifecycle import ACTIVE
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import load_price_list, to_cents
from tests.support.billing import prorate

TZ = "Asia/Shanghai"
PRICES = load_price_list()
APP = 1400000001

TRIAL_PKG = default_package(TRIAL)
PRO_PKG = default_package(PRO)
FLAGSHIP_PKG = default_package(FLAGSHIP)


def at(text: str):
    return parse_instant(text, TZ)


def bill(states, month: str, through_day=None):
    """The bill lines of one app for one month."""
    m = Month.parse(month)
    spans = active_spans(states, m.start(TZ), m.end(TZ))
    return month_lines(spans, m, TZ, PRICES, through_day)


def lines_of(lines):
    """{(item, setting): (days, amount)} for comparing bills regardless of line order."""
    out = {}
    for line in lines:
        key = (line.item, line.setting)
        assert key not in out, f"two lines for {key}"
        out[key] = (line.days, line.amount)
    return out


D = Decimal


# --- the worked example ------------------------------------------------------------------------

UPGRADED = plan_upgrade(APP, ACTIVE, TRIAL_PKG, ChangeRequest(edition=PRO, members_per_group=2000)).after
WORKED = [
    State(at("2026-11-02 00:00"), TRIAL_PKG, True),
    State(at("2026-11-16 10:00"), UPGRADED, True),
]


def test_worked_example_upgrade_package():
    assert UPGRADED == PRO_PKG.with_values(members_per_group=2000)


def test_worked_example_november():
    """Upgrade on 2026-11-16 10:00: 15 days billed, 225.00 + 120.00 = 345.00."""
    lines = bill(WORKED, "2026-11")
    assert lines_of(lines) == {
        (EDITION, "pro"): (15, D("225.00")),
        (MEMBERS_PER_GROUP, "2000"): (15, D("120.00")),
    }
    assert total(lines) == D("345.00")


def test_worked_example_november_unit_prices():
    """Each line carries its setting's monthly price."""
    prices = {(line.item, line.setting): line.unit_price for line in bill(WORKED, "2026-11")}
    assert prices == {(EDITION, "pro"): D("449.99"), (MEMBERS_PER_GROUP, "2000"): D("239.99")}


def test_worked_example_trial_days_cost_nothing():
    """The trial days of November belong to no line."""
    lines = bill(WORKED[:1], "2026-11")
    assert lines == []
    assert total(lines) == D("0.00")


def test_worked_example_december_unchanged():
    """December, unchanged: 449.99 + 239.99 = 689.98."""
    lines = bill(WORKED, "2026-12")
    assert lines_of(lines) == {
        (EDITION, "pro"): (31, D("449.99")),
        (MEMBERS_PER_GROUP, "2000"): (31, D("239.99")),
    }
    assert total(lines) == D("689.98")


def test_worked_example_flagship_change_in_december():
    """pro → flagship on 2026-12-11 12:00: pro 10 days 145.16, flagship 21 days 609.67,
    members 2000 (paid on pro only) 11 days, the 11th included, 85.16."""
    flagship = plan_modify(APP, ACTIVE, UPGRADED, ChangeRequest(edition=FLAGSHIP), {}, PRICES, TZ).after
    assert flagship == FLAGSHIP_PKG
    states = WORKED + [State(at("2026-12-11 12:00"), flagship, True)]
    lines = bill(states, "2026-12")
    assert lines_of(lines) == {
        (EDITION, "pro"): (10, D("145.16")),
        (EDITION, "flagship"): (21, D("609.67")),
        (MEMBERS_PER_GROUP, "2000"): (11, D("85.16")),
    }
    assert total(lines) == D("839.99")
    # November is not affected by December's change
    assert total(bill(states, "2026-11")) == D("345.00")


def test_worked_example_deactivation_in_january():
    """Deactivated 2027-01-10 09:00: January bills 10 days, 145.16 + 77.42 = 222.58."""
    states = WORKED + [State(at("2027-01-10 09:00"), UPGRADED, False)]
    lines = bill(states, "2027-01")
    assert lines_of(lines) == {
        (EDITION, "pro"): (10, D("145.16")),
        (MEMBERS_PER_GROUP, "2000"): (10, D("77.42")),
    }
    assert total(lines) == D("222.58")
    assert bill(states, "2027-02") == []
    assert total(bill(states, "2027-02")) == D("0.00")


def test_worked_example_live_cost_on_upgrade_day():
    """On the upgrade day, month-to-date shows one day; projected shows the month's 345.00."""
    cost = live_cost(WORKED, BillingPeriod.of(at("2026-11-16 12:00"), TZ), PRICES)
    assert cost.mtd_total == D("23.00")  # 449.99/30 = 15.00 and 239.99/30 = 8.00
    assert cost.projected_total == D("345.00")
    last = live_cost(WORKED, BillingPeriod.of(at("2026-11-30 23:59:59"), TZ), PRICES)
    assert last.mtd_total == D("345.00")


# --- rounding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "price, days, dim, amount",
    [
        ("449.99", 15, 30, "225.00"),  # 224.995 rounds half up
        ("239.99", 15, 30, "120.00"),  # 119.995 rounds half up
        ("449.99", 10, 31, "145.16"),
        ("899.99", 21, 31, "609.67"),
        ("239.99", 11, 31, "85.16"),
        ("239.99", 10, 31, "77.42"),
        ("449.99", 28, 28, "449.99"),
        ("0.01", 1, 2, "0.01"),  # 0.005 rounds up
        ("0.01", 1, 3, "0.00"),
    ],
)
def test_prorate_rounds_once_half_up(price, days, dim, amount):
    """price × days / days-in-month, rounded once to cents, half up."""
    assert prorate_cents(to_cents(D(price)), days, dim) == to_cents(D(amount))
    assert prorate(D(price), days, dim) == D(amount)  # the tests' reference agrees


# --- month lengths -----------------------------------------------------------------------------


@pytest.mark.parametrize("month, days", [("2026-02", 28), ("2028-02", 29), ("2026-11", 30), ("2026-12", 31)])
def test_pro_all_month_costs_exactly_its_price(month, days):
    """An app pro all month costs exactly 449.99, whatever the month's length."""
    states = [State(at("2025-06-01 10:00"), PRO_PKG, True)]
    lines = bill(states, month)
    assert lines_of(lines) == {(EDITION, "pro"): (days, D("449.99"))}
    assert total(lines) == D("449.99")


@pytest.mark.parametrize("month", ["2026-02", "2028-02", "2026-11", "2026-12"])
def test_flagship_with_every_paid_item_all_month(month):
    """Every paid setting unchanged all month costs exactly its monthly price."""
    pkg = FLAGSHIP_PKG.with_values(groups_per_user=3000, members_per_group=6000, history_days=360)
    lines = bill([State(at("2025-06-01"), pkg, True)], month)
    assert {(l.item, l.setting): l.amount for l in lines} == {
        (EDITION, "flagship"): D("899.99"),
        (GROUPS_PER_USER, "3000"): D("449.99"),
        (MEMBERS_PER_GROUP, "6000"): D("239.99"),
        (HISTORY_DAYS, "360"): D("319.99"),
    }
    assert total(lines) == PRICES.package_price(pkg) == D("1909.96")


# --- changes at month boundaries ---------------------------------------------------------------

RAISED = PRO_PKG.with_values(groups_per_user=1000)


@pytest.mark.parametrize(
    "change_at, november, december",
    [
        # a raise at 23:59:59 on the last day: that day is billed at the new setting
        ("2026-11-30 23:59:59", (1, D("15.00")), (31, D("449.99"))),
        # a raise at 00:00:00 on the 1st belongs wholly to the new month
        ("2026-12-01 00:00:00", None, (31, D("449.99"))),
        ("2026-11-30T16:00:00Z", None, (31, D("449.99"))),  # the same instant, in UTC
        # 23:59:59 on the 1st: the 1st is billed
        ("2026-12-01 23:59:59", None, (31, D("449.99"))),
        ("2026-12-02 00:00:00", None, (30, D("435.47"))),
    ],
)
def test_raise_at_month_boundary(change_at, november, december):
    """The day of a raise is billed at the new setting; days follow the billing time zone."""
    states = [State(at("2026-10-01"), PRO_PKG, True), State(at(change_at), RAISED, True)]
    nov = lines_of(bill(states, "2026-11")).get((GROUPS_PER_USER, "1000"))
    dec = lines_of(bill(states, "2026-12")).get((GROUPS_PER_USER, "1000"))
    assert nov == november
    assert dec == december


@pytest.mark.parametrize(
    "change_at, november, december",
    [
        # a lowering at 23:59:59 on the last day: that day is billed at the old setting
        ("2026-11-30 23:59:59", (30, D("449.99")), None),
        # a lowering at 00:00:00 on the 1st: the new month never had the old setting
        ("2026-12-01 00:00:00", (30, D("449.99")), None),
        ("2026-11-30T16:00:00Z", (30, D("449.99")), None),
        # one second into the 1st: the 1st is billed at the old setting
        ("2026-12-01 00:00:01", (30, D("449.99")), (1, D("14.52"))),
        # 2026-11-30T15:59:59Z is still November 30 in Shanghai
        ("2026-11-30T15:59:59Z", (30, D("449.99")), None),
    ],
)
def test_lowering_at_month_boundary(change_at, november, december):
    """The day of a lowering is billed at the old setting."""
    states = [State(at("2026-10-01"), RAISED, True), State(at(change_at), PRO_PKG, True)]
    nov = lines_of(bill(states, "2026-11")).get((GROUPS_PER_USER, "1000"))
    dec = lines_of(bill(states, "2026-12")).get((GROUPS_PER_USER, "1000"))
    assert nov == november
    assert dec == december


def test_utc_midnight_is_not_the_billing_day_boundary():
    """A raise at 2026-12-01 00:00 UTC is 08:00 on the 1st in Shanghai: the whole of
    December at the new setting, nothing in November."""
    states = [State(at("2026-10-01"), PRO_PKG, True), State(at("2026-12-01T00:00:00Z"), RAISED, True)]
    assert lines_of(bill(states, "2026-11")) == {(EDITION, "pro"): (30, D("449.99"))}
    assert lines_of(bill(states, "2026-12"))[(GROUPS_PER_USER, "1000")] == (31, D("449.99"))


def test_lowering_at_midnight_bills_that_day_at_the_new_setting():
    """An operation at exactly 00:00 belongs wholly to its day: lowered at 00:00 on the 11th,
    the 11th is billed at the new setting (ten days at the old one)."""
    states = [State(at("2026-10-01"), RAISED, True), State(at("2026-11-11 00:00:00"), PRO_PKG, True)]
    assert lines_of(bill(states, "2026-11"))[(GROUPS_PER_USER, "1000")] == (10, D("150.00"))
    one_second_later = [State(at("2026-10-01"), RAISED, True), State(at("2026-11-11 00:00:01"), PRO_PKG, True)]
    assert lines_of(bill(one_second_later, "2026-11"))[(GROUPS_PER_USER, "1000")] == (11, D("165.00"))


def test_raise_then_lowering_on_one_day_bills_that_day():
    """A setting held for one hour of one day is billed for that day."""
    states = [
        State(at("2026-10-01"), PRO_PKG, True),
        State(at("2026-11-10 09:00"), RAISED, True),
        State(at("2026-11-10 10:00"), PRO_PKG, True),
    ]
    assert lines_of(bill(states, "2026-11"))[(GROUPS_PER_USER, "1000")] == (1, D("15.00"))


# --- deactivation and reactivation -------------------------------------------------------------


def test_deactivation_day_billed_whole_days_off_not_reactivation_day_billed():
    """Deactivated on the 10th, reactivated on the 20th: days 1-10 and 20-30 billed (21 days)."""
    states = [
        State(at("2026-10-01"), PRO_PKG, True),
        State(at("2026-11-10 09:00"), PRO_PKG, False),
        State(at("2026-11-20 15:00"), PRO_PKG, True),
    ]
    assert lines_of(bill(states, "2026-11")) == {(EDITION, "pro"): (21, D("314.99"))}


def test_deactivation_at_midnight_does_not_bill_that_day():
    """Halted at exactly 00:00 on the 21st: the service ran at no moment of the 21st (20 days)."""
    states = [State(at("2026-10-01"), PRO_PKG, True), State(at("2026-11-21 00:00:00"), PRO_PKG, False)]
    assert lines_of(bill(states, "2026-11")) == {(EDITION, "pro"): (20, D("299.99"))}
    later = [State(at("2026-10-01"), PRO_PKG, True), State(at("2026-11-21 00:00:01"), PRO_PKG, False)]
    assert lines_of(bill(later, "2026-11")) == {(EDITION, "pro"): (21, D("314.99"))}


def test_deactivated_and_reactivated_the_same_day_bills_it_once():
    """A day with a deactivation and a reactivation is billed once."""
    states = [
        State(at("2026-10-01"), PRO_PKG, True),
        State(at("2026-11-10 09:00"), PRO_PKG, False),
        State(at("2026-11-10 18:00"), PRO_PKG, True),
    ]
    assert lines_of(bill(states, "2026-11")) == {(EDITION, "pro"): (30, D("449.99"))}


def test_deactivated_at_2359_bills_that_day_only():
    """Deactivated at 23:59:59 on the 10th: ten days."""
    states = [State(at("2026-10-01"), PRO_PKG, True), State(at("2026-11-10 23:59:59"), PRO_PKG, False)]
    assert lines_of(bill(states, "2026-11")) == {(EDITION, "pro"): (10, D("150.00"))}


def test_reactivated_at_2359_on_last_day_bills_that_day():
    """Reactivated at 23:59:59 on the last day: one day billed."""
    states = [State(at("2026-10-01"), PRO_PKG, False), State(at("2026-11-30 23:59:59"), PRO_PKG, True)]
    assert lines_of(bill(states, "2026-11")) == {(EDITION, "pro"): (1, D("15.00"))}


def test_month_wholly_deactivated_costs_nothing_even_with_history():
    """A month spent wholly deactivated costs nothing, history retention included."""
    pkg = PRO_PKG.with_values(history_days=360, groups_per_user=1000)
    states = [State(at("2026-10-01"), pkg, True), State(at("2026-10-20 10:00"), pkg, False)]
    assert bill(states, "2026-11") == []
    assert total(bill(states, "2026-11")) == D("0.00")
    assert live_cost(states, BillingPeriod.of(at("2026-11-30"), TZ), PRICES).projected_total == 0


# --- history retention -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "states, month, setting, amount",
    [
        pytest.param(
            [State(at("2026-10-01"), PRO_PKG.with_values(history_days=30), True)],
            "2026-11",
            "30",
            "99.99",
            id="unchanged",
        ),
        pytest.param(
            [
                State(at("2026-11-02"), TRIAL_PKG, True),
                State(at("2026-11-29 10:00"), PRO_PKG.with_values(history_days=90), True),
            ],
            "2026-11",
            "90",
            "179.99",
            id="month-of-upgrade-in-full",
        ),
        pytest.param(
            [
                State(at("2026-10-01"), PRO_PKG.with_values(history_days=90), True),
                State(at("2026-11-03 10:00"), PRO_PKG.with_values(history_days=30), True),
            ],
            "2026-11",
            "90",
            "179.99",
            id="lowered-highest-wins",
        ),
        pytest.param(
            [
                State(at("2025-10-01"), PRO_PKG.with_values(history_days=30), True),
                State(at("2026-02-28 23:59:59"), PRO_PKG.with_values(history_days=360), True),
            ],
            "2026-02",
            "360",
            "399.99",
            id="raised-on-last-second",
        ),
        pytest.param(
            [
                State(at("2026-10-01"), PRO_PKG.with_values(history_days=90), False),
                State(at("2026-11-25 10:00"), PRO_PKG.with_values(history_days=90), True),
            ],
            "2026-11",
            "90",
            "179.99",
            id="reactivated-late-in-month",
        ),
        pytest.param(
            [
                State(at("2026-10-01"), PRO_PKG.with_values(history_days=30), True),
                State(at("2026-12-11 12:00"), FLAGSHIP_PKG, True),
            ],
            "2026-12",
            "30",
            "99.99",
            id="paid-on-pro-included-on-flagship",
        ),
        pytest.param(
            [
                State(at("2026-10-01"), PRO_PKG.with_values(history_days=360), True),
                State(at("2026-11-05 10:00"), PRO_PKG.with_values(history_days=360), False),
                State(at("2026-11-06 10:00"), PRO_PKG.with_values(history_days=30), True),
            ],
            "2026-11",
            "360",
            "399.99",
            id="highest-while-active",
        ),
    ],
)
def test_history_whole_month_at_highest_price(states, month, setting, amount):
    """History retention: the whole month at the highest price while active; line days = month."""
    dim = Month.parse(month).days
    lines = [l for l in bill(states, month) if l.item == HISTORY_DAYS]
    assert [(l.setting, l.days, l.amount) for l in lines] == [(setting, dim, D(amount))]


def test_history_included_on_flagship_has_no_line():
    """Flagship's 30 days history is included: no line."""
    lines = bill([State(at("2026-10-01"), FLAGSHIP_PKG, True)], "2026-11")
    assert [l for l in lines if l.item == HISTORY_DAYS] == []


def test_history_counts_in_full_in_month_to_date_from_its_first_day():
    """History raised to 90 on the 20th: not in the month-to-date of the 19th, in full on the
    20th."""
    states = [
        State(at("2026-10-01"), PRO_PKG, True),
        State(at("2026-11-20 10:00"), PRO_PKG.with_values(history_days=90), True),
    ]
    month = Month(2026, 11)
    before = live_cost(states, BillingPeriod.for_month(month, at("2026-11-19 12:00"), TZ), PRICES).month_to_date
    on = live_cost(states, BillingPeriod.for_month(month, at("2026-11-20 12:00"), TZ), PRICES).month_to_date
    assert [l for l in before if l.item == HISTORY_DAYS] == []
    hist = [l for l in on if l.item == HISTORY_DAYS]
    assert [(l.setting, l.days, l.amount) for l in hist] == [("90", 30, D("179.99"))]


# --- the tie rule ------------------------------------------------------------------------------


def test_tie_in_price_later_setting_wins_the_day_pro_to_flagship():
    """groups per user 1000 on pro and 3000 on flagship cost the same (449.99): the change day
    goes to 3000, the setting in effect later that day."""
    states = [
        State(at("2026-10-01"), PRO_PKG.with_values(groups_per_user=1000), True),
        State(at("2026-12-11 12:00"), FLAGSHIP_PKG.with_values(groups_per_user=3000), True),
    ]
    groups = {k: v for k, v in lines_of(bill(states, "2026-12")).items() if k[0] == GROUPS_PER_USER}
    assert groups == {
        (GROUPS_PER_USER, "1000"): (10, D("145.16")),
        (GROUPS_PER_USER, "3000"): (21, D("304.83")),
    }


def test_tie_in_price_later_setting_wins_the_day_flagship_to_pro():
    """flagship 3000 → pro 1000 at 12:00 on the 11th: the 11th goes to 1000."""
    states = [
        State(at("2026-10-01"), FLAGSHIP_PKG.with_values(groups_per_user=3000), True),
        State(
            at("2026-12-11 12:00"),
            PRO_PKG.with_values(groups_per_user=1000, live_groups=UNLIMITED, members_per_group=2000, history_days=30),
            True,
        ),
    ]
    groups = {k: v for k, v in lines_of(bill(states, "2026-12")).items() if k[0] == GROUPS_PER_USER}
    assert groups == {
        (GROUPS_PER_USER, "3000"): (10, D("145.16")),
        (GROUPS_PER_USER, "1000"): (21, D("304.83")),
    }


def test_tie_in_history_price_later_setting_labels_the_line():
    """pro 90 days (179.99) then flagship 180 days (179.99): the line is labelled 180."""
    states = [
        State(at("2026-10-01"), PRO_PKG.with_values(history_days=90), True),
        State(at("2026-12-11 12:00"), FLAGSHIP_PKG.with_values(history_days=180), True),
    ]
    hist = [l for l in bill(states, "2026-12") if l.item == HISTORY_DAYS]
    assert [(l.setting, l.amount) for l in hist] == [("180", D("179.99"))]


def test_dearer_setting_wins_the_day_whatever_the_order():
    """pro unlimited live groups (449.99) then flagship (unlimited included): the change day is
    billed at pro's price, labelled unlimited."""
    states = [
        State(at("2026-10-01"), PRO_PKG.with_values(live_groups=UNLIMITED), True),
        State(at("2026-12-11 12:00"), FLAGSHIP_PKG, True),
    ]
    lines = lines_of(bill(states, "2026-12"))
    assert lines[(LIVE_GROUPS, "unlimited")] == (11, D("159.67"))
    assert lines[(EDITION, "pro")] == (10, D("145.16"))
    assert lines[(EDITION, "flagship")] == (21, D("609.67"))


# --- active spans ------------------------------------------------------------------------------


def test_active_spans_clip_to_month_and_skip_inactive():
    """Active spans are clipped to the month; inactive stretches are not spans."""
    m = Month(2026, 11)
    states = [
        State(at("2026-10-01"), PRO_PKG, True),
        State(at("2026-11-10 09:00"), PRO_PKG, False),
        State(at("2026-11-20 15:00"), RAISED, True),
        State(at("2026-12-05"), PRO_PKG, True),
    ]
    spans = active_spans(states, m.start(TZ), m.end(TZ))
    assert [(s.start, s.end, s.package) for s in spans] == [
        (at("2026-11-01"), at("2026-11-10 09:00"), PRO_PKG),
        (at("2026-11-20 15:00"), at("2026-12-01"), RAISED),
    ]
    assert m.end(TZ) - m.start(TZ) == timedelta(days=30)


# --- another billing time zone -----------------------------------------------------------------


@pytest.mark.parametrize("month", ["2026-03", "2026-11"])
def test_billing_time_zone_with_daylight_saving(month):
    """With a billing zone that has DST, days are still calendar days there: pro all month is
    449.99, and a raise at 23:30 local on the DST-change day bills that day only once."""
    tz = "America/New_York"
    m = Month.parse(month)
    states = [State(parse_instant("2025-06-01", tz), PRO_PKG, True)]
    spans = active_spans(states, m.start(tz), m.end(tz))
    assert lines_of(month_lines(spans, m, tz, PRICES)) == {(EDITION, "pro"): (m.days, D("449.99"))}
    change_day = "2026-03-08" if month == "2026-03" else "2026-11-01"
    states.append(State(parse_instant(f"{change_day} 23:30", tz), RAISED, True))
    spans = active_spans(states, m.start(tz), m.end(tz))
    groups = lines_of(month_lines(spans, m, tz, PRICES))[(GROUPS_PER_USER, "1000")]
    assert groups[0] == m.days - int(change_day[-2:]) + 1


def test_daily_costs_chart_the_worked_example_day_by_day():
    """The detail screen's chart: trial's daily items cost nothing; from the upgrade's day on, pro's daily
    items at the month's price ÷ 30 (the day of the upgrade at pro's, the dearer); history
    retention spread over the 29 days the app was active."""
    from imtui.domain.billing import DAILY_ITEMS, daily_costs

    period = BillingPeriod.for_month(Month.parse("2026-11"), at("2026-12-01 00:00"), TZ)
    daily = daily_costs(WORKED, period, PRICES)
    pro_day = sum((PRICES.price(PRO, item, UPGRADED.value(item)) / 30 for item in DAILY_ITEMS), D(0))
    history = PRICES.price(PRO, HISTORY_DAYS, UPGRADED.history_days) / 29
    assert daily[0] == 0  # before the app existed
    assert daily[1:15] == [history] * 14  # trial days: only the month's history retention, spread
    assert daily[15:] == [pro_day + history] * 15
