"""The rules of operations on an app (domain.md §4), table-driven.

Every test states what an operator would notice: a refusal and its exit code, or the package the
app ends up with and which items used their once-per-month change.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from imtui.domain.apps import MAX_APPS_PER_ACCOUNT, check_app_id, check_can_create
from imtui.domain.calendar import parse_instant
from imtui.domain.changes import ChangeRequest, locked_items, plan_modify, plan_upgrade
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
from imtui.domain.errors import InvalidInput, Refused
from imtui.domain.lifecycle import (
    ACTIVE,
    DEACTIVATED,
    PURGED,
    check_can_halt,
    check_can_reactivate,
    purge_instant,
)
from imtui.domain.prices import load_price_list
from imtui.domain.timeline import check_not_before

TZ = "Asia/Shanghai"
APP = 1400000001
PRICES = load_price_list()

TRIAL_PKG = default_package(TRIAL)
PRO_PKG = default_package(PRO)
FLAGSHIP_PKG = default_package(FLAGSHIP)


def at(text: str) -> datetime:
    """An instant written in the billing time zone."""
    return parse_instant(text, TZ)


def modify(current, request, changes=None, status=ACTIVE):
    return plan_modify(APP, status, current, request, changes or {}, PRICES, TZ)


# --- the trial values and the defaults --------------------------------------------------------


def test_new_app_has_the_trial_values():
    """A new app is trial with 10 live groups, 50 groups per user, 20 members, 7 days history."""
    assert TRIAL_PKG.edition == TRIAL
    assert (TRIAL_PKG.live_groups, TRIAL_PKG.groups_per_user) == (10, 50)
    assert (TRIAL_PKG.members_per_group, TRIAL_PKG.history_days) == (20, 7)


@pytest.mark.parametrize(
    "edition, live, groups, members, history",
    [(PRO, 50, 500, 200, 7), (FLAGSHIP, UNLIMITED, 1000, 2000, 30)],
)
def test_edition_defaults(edition, live, groups, members, history):
    """Each paid edition's defaults are those of domain.md §2."""
    pkg = default_package(edition)
    assert (pkg.live_groups, pkg.groups_per_user, pkg.members_per_group, pkg.history_days) == (
        live,
        groups,
        members,
        history,
    )


# --- upgrade: who may, and to what -------------------------------------------------------------


@pytest.mark.parametrize(
    "status, current, request_, error",
    [
        pytest.param(ACTIVE, PRO_PKG, ChangeRequest(edition=FLAGSHIP), Refused, id="pro-app"),
        pytest.param(ACTIVE, FLAGSHIP_PKG, ChangeRequest(edition=PRO), Refused, id="flagship-app"),
        pytest.param(DEACTIVATED, TRIAL_PKG, ChangeRequest(edition=PRO), Refused, id="deactivated"),
        pytest.param(PURGED, TRIAL_PKG, ChangeRequest(edition=PRO), Refused, id="purged"),
        pytest.param(ACTIVE, TRIAL_PKG, ChangeRequest(edition=TRIAL), InvalidInput, id="to-trial"),
        pytest.param(ACTIVE, TRIAL_PKG, ChangeRequest(edition="gold"), InvalidInput, id="unknown"),
        pytest.param(ACTIVE, TRIAL_PKG, ChangeRequest(groups_per_user=1000), InvalidInput, id="no-edition"),
    ],
)
def test_upgrade_refused(status, current, request_, error):
    """Upgrade is only for active trial apps and only to pro or flagship."""
    with pytest.raises(error) as info:
        plan_upgrade(APP, status, current, request_)
    assert info.value.exit_code == {Refused: 3, InvalidInput: 2}[error]


@pytest.mark.parametrize(
    "request_, expected",
    [
        (ChangeRequest(edition=PRO), PRO_PKG),
        (ChangeRequest(edition=FLAGSHIP), FLAGSHIP_PKG),
        (
            ChangeRequest(edition=PRO, members_per_group=2000),
            PRO_PKG.with_values(members_per_group=2000),
        ),
        (
            ChangeRequest(edition=PRO, live_unlimited=True, groups_per_user=1000, history_days=90),
            PRO_PKG.with_values(live_groups=UNLIMITED, groups_per_user=1000, history_days=90),
        ),
        (
            ChangeRequest(edition=PRO, live_unlimited=False),
            PRO_PKG,
        ),
        (
            ChangeRequest(edition=FLAGSHIP, live_unlimited=True, groups_per_user=3000),
            FLAGSHIP_PKG.with_values(groups_per_user=3000),
        ),
        (
            ChangeRequest(edition=FLAGSHIP, members_per_group=6000, history_days=360),
            FLAGSHIP_PKG.with_values(members_per_group=6000, history_days=360),
        ),
    ],
)
def test_upgrade_package(request_, expected):
    """The upgraded app has the new edition's defaults plus what the request chose."""
    plan = plan_upgrade(APP, ACTIVE, TRIAL_PKG, request_)
    assert plan.before == TRIAL_PKG
    assert plan.after == expected


@pytest.mark.parametrize(
    "request_, counts_history",
    [
        (ChangeRequest(edition=PRO), False),
        (ChangeRequest(edition=PRO, history_days=7), False),
        (ChangeRequest(edition=PRO, history_days=30), True),
        (ChangeRequest(edition=PRO, history_days=360), True),
        (ChangeRequest(edition=FLAGSHIP), False),
        (ChangeRequest(edition=FLAGSHIP, history_days=30), False),
        (ChangeRequest(edition=FLAGSHIP, history_days=90), True),
    ],
)
def test_upgrade_counts_package_items_and_history_only_if_not_default(request_, counts_history):
    """Decision: an upgrade uses this month's change of every package item; history only when
    it is set to something other than the new edition's default."""
    plan = plan_upgrade(APP, ACTIVE, TRIAL_PKG, request_)
    expected = [EDITION, LIVE_GROUPS, GROUPS_PER_USER, MEMBERS_PER_GROUP]
    if counts_history:
        expected.append(HISTORY_DAYS)
    assert list(plan.counted) == expected
    assert not plan.nothing_to_change


@pytest.mark.parametrize(
    "request_, message_part",
    [
        (ChangeRequest(edition=PRO, groups_per_user=700), "500, 1000"),
        (ChangeRequest(edition=PRO, groups_per_user=3000), "500, 1000"),
        (ChangeRequest(edition=PRO, members_per_group=6000), "200, 2000"),
        (ChangeRequest(edition=PRO, history_days=60), "7, 30, 90, 180, 360"),
        (ChangeRequest(edition=FLAGSHIP, groups_per_user=500), "1000, 3000"),
        (ChangeRequest(edition=FLAGSHIP, members_per_group=200), "2000, 6000"),
        (ChangeRequest(edition=FLAGSHIP, history_days=7), "30, 90, 180, 360"),
        (ChangeRequest(edition=FLAGSHIP, live_unlimited=False), "unlimited"),
    ],
)
def test_upgrade_value_not_offered_by_target_edition(request_, message_part):
    """A value the chosen edition does not offer is invalid input (exit 2), with the allowed list."""
    with pytest.raises(InvalidInput) as info:
        plan_upgrade(APP, ACTIVE, TRIAL_PKG, request_)
    assert info.value.exit_code == 2
    assert message_part in info.value.message


# --- modify: who may ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, current, request_, error",
    [
        pytest.param(ACTIVE, TRIAL_PKG, ChangeRequest(groups_per_user=50), Refused, id="trial"),
        pytest.param(ACTIVE, TRIAL_PKG, ChangeRequest(edition=PRO), Refused, id="trial-edition-via-modify"),
        pytest.param(DEACTIVATED, PRO_PKG, ChangeRequest(groups_per_user=1000), Refused, id="deactivated"),
        pytest.param(PURGED, PRO_PKG, ChangeRequest(groups_per_user=1000), Refused, id="purged"),
        pytest.param(ACTIVE, PRO_PKG, ChangeRequest(edition=TRIAL), InvalidInput, id="pro-to-trial"),
        pytest.param(ACTIVE, FLAGSHIP_PKG, ChangeRequest(edition=TRIAL), InvalidInput, id="flag-to-trial"),
    ],
)
def test_modify_refused_by_status_or_edition(status, current, request_, error):
    """Only active pro/flagship apps can be modified; nothing returns an app to trial (exit 2)."""
    with pytest.raises(error) as info:
        modify(current, request_, status=status)
    assert info.value.exit_code == {Refused: 3, InvalidInput: 2}[error]


@pytest.mark.parametrize(
    "current, request_",
    [
        (PRO_PKG, ChangeRequest(groups_per_user=700)),
        (PRO_PKG, ChangeRequest(groups_per_user=3000)),
        (PRO_PKG, ChangeRequest(members_per_group=6000)),
        (PRO_PKG, ChangeRequest(members_per_group=20)),
        (PRO_PKG, ChangeRequest(history_days=365)),
        (FLAGSHIP_PKG, ChangeRequest(live_unlimited=False)),
        (FLAGSHIP_PKG, ChangeRequest(groups_per_user=500)),
        (FLAGSHIP_PKG, ChangeRequest(members_per_group=200)),
        (FLAGSHIP_PKG, ChangeRequest(history_days=7)),
        # checked against the edition the app will have after the request
        (PRO_PKG, ChangeRequest(edition=FLAGSHIP, groups_per_user=500)),
        (PRO_PKG, ChangeRequest(edition=FLAGSHIP, live_unlimited=False)),
        (PRO_PKG, ChangeRequest(edition=FLAGSHIP, history_days=7)),
        (FLAGSHIP_PKG, ChangeRequest(edition=PRO, groups_per_user=3000)),
        (FLAGSHIP_PKG, ChangeRequest(edition=PRO, members_per_group=6000)),
    ],
)
def test_modify_value_not_offered_is_invalid_input(current, request_):
    """Any value the target edition does not offer is refused as invalid input (exit 2)."""
    with pytest.raises(InvalidInput) as info:
        modify(current, request_)
    assert info.value.exit_code == 2


# --- modify: what it does ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "current, request_, after, counted",
    [
        pytest.param(
            PRO_PKG,
            ChangeRequest(groups_per_user=1000),
            PRO_PKG.with_values(groups_per_user=1000),
            (GROUPS_PER_USER,),
            id="pro-raise-groups",
        ),
        pytest.param(
            PRO_PKG,
            ChangeRequest(live_unlimited=True, members_per_group=2000),
            PRO_PKG.with_values(live_groups=UNLIMITED, members_per_group=2000),
            (LIVE_GROUPS, MEMBERS_PER_GROUP),
            id="pro-two-items",
        ),
        pytest.param(
            PRO_PKG.with_values(live_groups=UNLIMITED),
            ChangeRequest(live_unlimited=False),
            PRO_PKG,
            (LIVE_GROUPS,),
            id="pro-live-off",
        ),
        pytest.param(
            PRO_PKG,
            ChangeRequest(history_days=180),
            PRO_PKG.with_values(history_days=180),
            (HISTORY_DAYS,),
            id="pro-history",
        ),
        pytest.param(
            FLAGSHIP_PKG,
            ChangeRequest(live_unlimited=True, groups_per_user=3000),
            FLAGSHIP_PKG.with_values(groups_per_user=3000),
            (GROUPS_PER_USER,),
            id="flagship-unlimited-is-included",
        ),
        pytest.param(
            PRO_PKG,
            ChangeRequest(edition=FLAGSHIP),
            FLAGSHIP_PKG,
            (EDITION,),
            id="pro-to-flagship-rises-without-counting",
        ),
        pytest.param(
            PRO_PKG.with_values(live_groups=UNLIMITED, groups_per_user=1000, members_per_group=2000, history_days=30),
            ChangeRequest(edition=FLAGSHIP),
            FLAGSHIP_PKG,
            (EDITION,),
            id="pro-at-flagship-defaults-stays",
        ),
        pytest.param(
            PRO_PKG,
            ChangeRequest(edition=FLAGSHIP, members_per_group=6000),
            FLAGSHIP_PKG.with_values(members_per_group=6000),
            (EDITION, MEMBERS_PER_GROUP),
            id="pro-to-flagship-with-a-choice",
        ),
        pytest.param(
            PRO_PKG,
            ChangeRequest(edition=FLAGSHIP, groups_per_user=1000, history_days=30),
            FLAGSHIP_PKG,
            (EDITION,),
            id="pro-to-flagship-asking-the-rise-explicitly",
        ),
        pytest.param(
            FLAGSHIP_PKG,
            ChangeRequest(
                edition=PRO, live_unlimited=True, groups_per_user=1000, members_per_group=2000, history_days=30
            ),
            PRO_PKG.with_values(live_groups=UNLIMITED, groups_per_user=1000, members_per_group=2000, history_days=30),
            (EDITION,),
            id="flagship-to-pro-keeping-everything",
        ),
        pytest.param(
            FLAGSHIP_PKG,
            ChangeRequest(
                edition=PRO, live_unlimited=False, groups_per_user=500, members_per_group=200, history_days=7
            ),
            PRO_PKG,
            (EDITION, LIVE_GROUPS, GROUPS_PER_USER, MEMBERS_PER_GROUP, HISTORY_DAYS),
            id="flagship-to-pro-lowering-everything",
        ),
        pytest.param(
            FLAGSHIP_PKG.with_values(groups_per_user=3000, history_days=360),
            ChangeRequest(
                edition=PRO, live_unlimited=True, groups_per_user=1000, members_per_group=2000, history_days=360
            ),
            PRO_PKG.with_values(live_groups=UNLIMITED, groups_per_user=1000, members_per_group=2000, history_days=360),
            (EDITION, GROUPS_PER_USER),
            id="flagship-3000-to-pro-must-change-groups",
        ),
    ],
)
def test_modify_plan(current, request_, after, counted):
    """The new package and the items that use their monthly change."""
    plan = modify(current, request_)
    assert plan.after == after
    assert plan.counted == counted
    assert not plan.nothing_to_change


def test_pro_to_flagship_rises_are_changes_but_not_counted():
    """pro → flagship: 50 live groups, 500 groups, 200 members and 7 days rise by themselves."""
    plan = modify(PRO_PKG, ChangeRequest(edition=FLAGSHIP))
    assert set(plan.changed) == {EDITION, LIVE_GROUPS, GROUPS_PER_USER, MEMBERS_PER_GROUP, HISTORY_DAYS}
    assert plan.counted == (EDITION,)


@pytest.mark.parametrize(
    "changes",
    [
        {GROUPS_PER_USER: "2026-11-16 10:00"},
        {LIVE_GROUPS: "2026-11-03 00:00", HISTORY_DAYS: "2026-11-04 00:00"},
        {
            MEMBERS_PER_GROUP: "2026-11-16 10:00",
            GROUPS_PER_USER: "2026-11-16 10:00",
            LIVE_GROUPS: "2026-11-16 10:00",
            HISTORY_DAYS: "2026-11-16 10:00",
        },
    ],
)
def test_edition_change_rises_ignore_item_locks(changes):
    """A rise brought by pro → flagship is never blocked by that item's lock."""
    changes = {item: at(t) for item, t in changes.items()}
    plan = modify(PRO_PKG, ChangeRequest(edition=FLAGSHIP), changes)
    assert plan.after == FLAGSHIP_PKG


def test_flagship_to_pro_of_default_app_needs_explicit_choices():
    """flagship → pro of a default flagship app is refused (exit 3), listing each item with
    its choices and prices."""
    with pytest.raises(Refused) as info:
        modify(FLAGSHIP_PKG, ChangeRequest(edition=PRO))
    message = info.value.message
    assert info.value.exit_code == 3
    assert "1400000001" in message
    for item, choices in [
        (LIVE_GROUPS, ["50: 0.00", "unlimited: 449.99"]),
        (GROUPS_PER_USER, ["500: 0.00", "1000: 449.99"]),
        (MEMBERS_PER_GROUP, ["200: 0.00", "2000: 239.99"]),
        (HISTORY_DAYS, ["7: 0.00", "30: 99.99", "90: 179.99", "180: 269.99", "360: 399.99"]),
    ]:
        assert item in message
        for choice in choices:
            assert choice in message


@pytest.mark.parametrize(
    "request_, missing, present",
    [
        (
            ChangeRequest(edition=PRO, live_unlimited=True, groups_per_user=1000),
            [MEMBERS_PER_GROUP, HISTORY_DAYS],
            [LIVE_GROUPS, GROUPS_PER_USER],
        ),
        (
            ChangeRequest(edition=PRO, live_unlimited=False, groups_per_user=500, members_per_group=200),
            [HISTORY_DAYS],
            [LIVE_GROUPS, GROUPS_PER_USER, MEMBERS_PER_GROUP],
        ),
    ],
)
def test_flagship_to_pro_lists_only_missing_choices(request_, missing, present):
    """The refusal names only the items still needing a choice."""
    with pytest.raises(Refused) as info:
        modify(FLAGSHIP_PKG, request_)
    for item in missing:
        assert item in info.value.message
    for item in present:
        assert item not in info.value.message


def test_pro_history_90_to_flagship_needs_a_choice():
    """pro with 90 days history → flagship: 90 is above flagship's default, so it must be chosen."""
    with pytest.raises(Refused) as info:
        modify(PRO_PKG.with_values(history_days=90), ChangeRequest(edition=FLAGSHIP))
    assert HISTORY_DAYS in info.value.message
    plan = modify(PRO_PKG.with_values(history_days=90), ChangeRequest(edition=FLAGSHIP, history_days=90))
    assert plan.after.history_days == 90
    assert plan.counted == (EDITION,)


# --- once per month ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "current, request_, changes, message",
    [
        (
            PRO_PKG,
            ChangeRequest(members_per_group=2000),
            {MEMBERS_PER_GROUP: "2026-11-16 10:00"},
            "app 1400000001: members_per_group was already changed on 2026-11-16; "
            "it can be changed again from 2026-12-01",
        ),
        (
            PRO_PKG.with_values(history_days=30),
            ChangeRequest(history_days=7),
            {HISTORY_DAYS: "2026-12-31 23:59:59"},
            "app 1400000001: history_days was already changed on 2026-12-31; it can be changed again from 2027-01-01",
        ),
        (
            PRO_PKG,
            ChangeRequest(edition=FLAGSHIP),
            {EDITION: "2026-02-01 00:00"},
            "app 1400000001: edition was already changed on 2026-02-01; it can be changed again from 2026-03-01",
        ),
        (
            FLAGSHIP_PKG,
            ChangeRequest(
                edition=PRO, live_unlimited=True, groups_per_user=500, members_per_group=2000, history_days=30
            ),
            {GROUPS_PER_USER: "2026-11-02 08:00"},
            "app 1400000001: groups_per_user was already changed on 2026-11-02; "
            "it can be changed again from 2026-12-01",
        ),
    ],
)
def test_lock_refusal_message(current, request_, changes, message):
    """A second change of an item in one month is refused (exit 3) naming item and unlock date."""
    changes = {item: at(t) for item, t in changes.items()}
    with pytest.raises(Refused) as info:
        modify(current, request_, changes)
    assert info.value.exit_code == 3
    assert info.value.message == message


def test_lock_dates_are_in_billing_time_zone():
    """A change at 2026-11-30 20:00 UTC is 2026-12-01 04:00 in Shanghai: unlocks 2027-01-01."""
    changed = datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc)
    with pytest.raises(Refused) as info:
        modify(PRO_PKG, ChangeRequest(groups_per_user=1000), {GROUPS_PER_USER: changed})
    assert "changed on 2026-12-01" in info.value.message
    assert "from 2027-01-01" in info.value.message


def test_lock_refusal_names_every_blocked_item():
    """Two locked items asked again: both named, refused as a whole."""
    changes = {GROUPS_PER_USER: at("2026-11-05 10:00"), MEMBERS_PER_GROUP: at("2026-11-06 10:00")}
    with pytest.raises(Refused) as info:
        modify(PRO_PKG, ChangeRequest(groups_per_user=1000, members_per_group=2000), changes)
    assert "groups_per_user was already changed on 2026-11-05" in info.value.message
    assert "members_per_group was already changed on 2026-11-06" in info.value.message
    assert "2026-12-01" in info.value.message


def test_one_locked_item_refuses_the_whole_request():
    """One locked item in a request with an unlocked one refuses all of it."""
    with pytest.raises(Refused):
        modify(
            PRO_PKG,
            ChangeRequest(groups_per_user=1000, members_per_group=2000),
            {MEMBERS_PER_GROUP: at("2026-11-06 10:00")},
        )


@pytest.mark.parametrize(
    "current, request_",
    [
        (PRO_PKG, ChangeRequest(members_per_group=200)),
        (PRO_PKG, ChangeRequest(live_unlimited=False, groups_per_user=500, history_days=7)),
        (PRO_PKG.with_values(live_groups=UNLIMITED), ChangeRequest(live_unlimited=True)),
        (PRO_PKG, ChangeRequest(edition=PRO)),
        (FLAGSHIP_PKG, ChangeRequest(live_unlimited=True)),
        (FLAGSHIP_PKG, ChangeRequest(edition=FLAGSHIP, groups_per_user=1000, history_days=30)),
        (PRO_PKG, ChangeRequest()),
    ],
)
def test_setting_current_value_is_nothing_to_change_even_when_locked(current, request_):
    """Setting items to their current values is no change, never blocked by a lock."""
    every_item_locked = {
        item: at("2026-11-16 10:00")
        for item in (EDITION, LIVE_GROUPS, GROUPS_PER_USER, MEMBERS_PER_GROUP, HISTORY_DAYS)
    }
    plan = modify(current, request_, every_item_locked)
    assert plan.nothing_to_change
    assert plan.after == current
    assert plan.describe() == "nothing to change"


def test_keeping_a_value_on_flagship_to_pro_is_not_blocked_by_its_lock():
    """flagship → pro keeping 1000 groups per user is not a change of that item, even locked."""
    changes = {GROUPS_PER_USER: at("2026-11-16 10:00"), MEMBERS_PER_GROUP: at("2026-11-16 10:00")}
    plan = modify(
        FLAGSHIP_PKG,
        ChangeRequest(edition=PRO, live_unlimited=True, groups_per_user=1000, members_per_group=2000, history_days=30),
        changes,
    )
    assert plan.after.edition == PRO
    assert plan.counted == (EDITION,)


def test_locked_items_in_contract_order():
    """Locked items are listed in the order edition, live, groups, members, history."""
    changes = {HISTORY_DAYS: at("2026-11-02"), EDITION: at("2026-11-03"), MEMBERS_PER_GROUP: at("2026-11-04")}
    assert locked_items(changes) == [EDITION, MEMBERS_PER_GROUP, HISTORY_DAYS]
    assert locked_items({}) == []


# --- order of checks ---------------------------------------------------------------------------


LOCK_ALL = {
    "edition": "2026-11-02",
    "live_groups": "2026-11-02",
    "groups_per_user": "2026-11-02",
    "members_per_group": "2026-11-02",
    "history_days": "2026-11-02",
}


@pytest.mark.parametrize(
    "status, current, request_, error",
    [
        pytest.param(DEACTIVATED, PRO_PKG, ChangeRequest(groups_per_user=700), Refused, id="status-before-values"),
        pytest.param(ACTIVE, TRIAL_PKG, ChangeRequest(groups_per_user=700), Refused, id="edition-before-values"),
        pytest.param(
            ACTIVE,
            PRO_PKG,
            ChangeRequest(groups_per_user=1000, members_per_group=7),
            InvalidInput,
            id="values-before-locks",
        ),
        pytest.param(
            ACTIVE,
            FLAGSHIP_PKG,
            ChangeRequest(edition=PRO, groups_per_user=3000),
            InvalidInput,
            id="values-before-explicit-choices",
        ),
        pytest.param(ACTIVE, PRO_PKG, ChangeRequest(edition=TRIAL), InvalidInput, id="trial-target-before-locks"),
        pytest.param(ACTIVE, PRO_PKG, ChangeRequest(groups_per_user=1000), Refused, id="locks-after-values"),
    ],
)
def test_order_of_checks(status, current, request_, error):
    """status (3) → values (2) → choices and locks (3), whatever else is wrong."""
    changes = {item: at(t) for item, t in LOCK_ALL.items()}
    with pytest.raises(error):
        modify(current, request_, changes, status=status)


def test_status_checked_before_upgrade_values():
    """A deactivated trial app asked an invalid upgrade is refused for its status (exit 3)."""
    with pytest.raises(Refused):
        plan_upgrade(APP, DEACTIVATED, TRIAL_PKG, ChangeRequest(edition=PRO, groups_per_user=700))


# --- account limit, lifecycle, clock and ids --------------------------------------------------


@pytest.mark.parametrize("apps, refused", [(0, False), (299, False), (300, True), (301, True)])
def test_account_app_limit(apps, refused):
    """An account may hold at most 300 apps that are not purged."""
    assert MAX_APPS_PER_ACCOUNT == 300
    if refused:
        with pytest.raises(Refused) as info:
            check_can_create("acme", apps)
        assert info.value.exit_code == 3
    else:
        check_can_create("acme", apps)


@pytest.mark.parametrize(
    "deactivated_at",
    [
        datetime(2027, 1, 10, 1, 0, tzinfo=timezone.utc),
        datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc),
        datetime(2028, 2, 28, 23, 59, 59, 999999, tzinfo=timezone.utc),
    ],
)
def test_purge_instant_is_exactly_90_times_24_hours(deactivated_at):
    """An app is purged exactly 90 × 24 hours after its deactivation instant."""
    purge = purge_instant(deactivated_at)
    assert purge.timestamp() - deactivated_at.timestamp() == 90 * 24 * 3600


def test_purge_instant_across_daylight_saving_is_still_90_times_24_hours():
    """Even if handed a local time in a zone with DST, the purge comes 90 × 24 h later."""
    deactivated_at = datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    purge = purge_instant(deactivated_at)
    assert purge.timestamp() - deactivated_at.timestamp() == 90 * 24 * 3600


def test_worked_example_purge_instant():
    """Deactivated 2027-01-10 09:00 (UTC+8): purged at 2027-04-10 09:00 (UTC+8)."""
    assert purge_instant(at("2027-01-10 09:00")) == at("2027-04-10 09:00")


@pytest.mark.parametrize(
    "check, status",
    [
        (lambda s: check_can_halt(APP, s, at("2027-04-10 09:00"), TZ), DEACTIVATED),
        (lambda s: check_can_halt(APP, s, None, TZ), PURGED),
        (lambda s: check_can_reactivate(APP, s), ACTIVE),
        (lambda s: check_can_reactivate(APP, s), PURGED),
    ],
)
def test_halt_and_reactivate_refusals(check, status):
    """Halt needs an active app; reactivate a deactivated, unpurged one (exit 3)."""
    with pytest.raises(Refused):
        check(status)


def test_halt_active_and_reactivate_deactivated_allowed():
    check_can_halt(APP, ACTIVE, None, TZ)
    check_can_reactivate(APP, DEACTIVATED)


@pytest.mark.parametrize(
    "now, latest, refused",
    [
        ("2026-11-16 10:00", None, False),
        ("2026-11-16 10:00", "2026-11-16 10:00", False),
        ("2026-11-16 10:00:01", "2026-11-16 10:00", False),
        ("2026-11-16 09:59:59", "2026-11-16 10:00", True),
        ("2025-01-01", "2026-11-16 10:00", True),
    ],
)
def test_check_not_before(now, latest, refused):
    """Operations cannot take effect before the database's latest instant (exit 3)."""
    latest_at = at(latest) if latest else None
    if refused:
        with pytest.raises(Refused) as info:
            check_not_before(at(now), latest_at, TZ)
        assert info.value.exit_code == 3
    else:
        check_not_before(at(now), latest_at, TZ)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1400000001", 1400000001),
        (1400000000, 1400000000),
        (" 1400000123 ", 1400000123),
        ("9999999999", 9999999999),
    ],
)
def test_check_app_id_accepts_ten_digits(text, expected):
    """An SDKAppID is a 10-digit integer."""
    assert check_app_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "140000000",
        "14000000011",
        "abc",
        "",
        "14000000O1",
        "-140000000",
        "1400000001.0",
        "0400000001",
        "1.4e9",
        "¹400000001",
        "14000 0001",
    ],
)
def test_check_app_id_refuses_anything_else(text):
    """Anything but 10 digits is invalid input (exit 2), never a crash."""
    with pytest.raises(InvalidInput) as info:
        check_app_id(text)
    assert info.value.exit_code == 2
