"""Upgrade and modify through the services: locks, nothing to change, refusals, time, versions."""

from __future__ import annotations

import asyncio

import pytest

from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import Conflict, ImtuiError, InvalidInput, NotFound, Refused
from tests.support.services import FIRST_ID, at, count_audit, trail

PRO_2000 = ChangeRequest(edition="pro", members_per_group=2000)


@pytest.fixture
async def app_id(services, clock):
    """A trial app created 2026-11-02 09:00 (UTC+8)."""
    return (await services.changes.create("chat", "acme")).app_id


@pytest.fixture
async def pro_app(services, clock, app_id):
    """The worked example's app: upgraded to pro with 2000 members on 2026-11-16 10:00."""
    clock.set(at("2026-11-16T10:00:00"))
    await services.changes.upgrade(app_id, PRO_2000)
    return app_id


async def assert_refused_and_unchanged(services, fn, error, *, code, app_id, action, words=()):
    before = await services.apps.show(app_id)
    records = await trail(services)
    with pytest.raises(error) as exc:
        await fn()
    assert exc.value.exit_code == code
    for word in words:
        assert word in exc.value.message
    assert await services.apps.show(app_id) == before
    after = await trail(services)
    added = [r for r in after if r not in records]
    assert len(after) == len(records) + 1 and len(added) == 1
    [rec] = added
    assert (rec.action, rec.result, rec.app_id, rec.actor, rec.at) == (
        action,
        "refused",
        app_id,
        "tester",
        services.now(),
    )
    assert rec.detail == exc.value.message
    return exc.value


# --- upgrade ---------------------------------------------------------------------------------


async def test_upgrade_trial_to_pro_locks_every_package_item(services, clock, app_id):
    clock.set(at("2026-11-16T10:00:00"))
    result = await services.changes.upgrade(app_id, PRO_2000)
    app = result.app
    assert not result.nothing_to_change
    assert (app.edition, app.live_groups, app.groups_per_user, app.members_per_group, app.history_days) == (
        "pro",
        50,
        500,
        2000,
        7,
    )
    assert app.billing == "postpaid"
    assert app.locked_items == ("edition", "live_groups", "groups_per_user", "members_per_group")
    assert set(app.unlock_dates.values()) == {"2026-12-01"}
    assert "edition trial → pro" in result.changes
    assert "members_per_group 20 → 2000" in result.changes
    assert await services.apps.show(app_id) == app
    newest = (await trail(services, limit=1))[0]
    assert (newest.action, newest.result, newest.actor, newest.at) == ("upgrade", "done", "tester", clock.now())
    assert "trial → pro" in newest.detail


async def test_upgrade_to_flagship_with_history_counts_history(services, clock, app_id):
    result = await services.changes.upgrade(app_id, ChangeRequest(edition="flagship", history_days=90))
    app = result.app
    assert (app.edition, app.live_groups, app.groups_per_user, app.members_per_group, app.history_days) == (
        "flagship",
        None,
        1000,
        2000,
        90,
    )
    assert app.locked_items == ("edition", "live_groups", "groups_per_user", "members_per_group", "history_days")


async def test_history_is_not_locked_by_a_plain_upgrade(services, clock, pro_app):
    clock.advance(hours=1)
    result = await services.changes.modify(pro_app, ChangeRequest(history_days=30))
    assert result.app.history_days == 30
    assert result.app.locked_items[-1] == "history_days"


async def test_upgrade_of_a_paid_app_and_modify_of_a_trial_app_are_refused(services, clock, app_id):
    await assert_refused_and_unchanged(
        services,
        lambda: services.changes.modify(app_id, ChangeRequest(members_per_group=200)),
        Refused,
        code=3,
        app_id=app_id,
        action="modify",
        words=("trial",),
    )
    await services.changes.upgrade(app_id, ChangeRequest(edition="pro"))
    await assert_refused_and_unchanged(
        services,
        lambda: services.changes.upgrade(app_id, ChangeRequest(edition="flagship")),
        Refused,
        code=3,
        app_id=app_id,
        action="upgrade",
        words=("upgrade",),
    )


async def test_value_the_edition_does_not_offer_is_invalid(services, clock, app_id):
    err = await assert_refused_and_unchanged(
        services,
        lambda: services.changes.upgrade(app_id, ChangeRequest(edition="pro", groups_per_user=700)),
        InvalidInput,
        code=2,
        app_id=app_id,
        action="upgrade",
    )
    assert "500" in err.message and "1000" in err.message


async def test_unknown_app_is_not_found(services):
    with pytest.raises(NotFound) as exc:
        await services.changes.modify(1499999999, ChangeRequest(history_days=30))
    assert exc.value.exit_code == 4
    with pytest.raises(NotFound):
        await services.apps.show(1499999999)


# --- the monthly locks -----------------------------------------------------------------------


async def test_second_change_in_the_month_is_refused_then_allowed_on_the_1st(services, clock, pro_app):
    clock.set(at("2026-11-20T15:00:00"))
    err = await assert_refused_and_unchanged(
        services,
        lambda: services.changes.modify(pro_app, ChangeRequest(members_per_group=200)),
        Refused,
        code=3,
        app_id=pro_app,
        action="modify",
        words=("members_per_group", "2026-11-16", "2026-12-01"),
    )
    assert str(pro_app) in err.message

    clock.set(at("2026-11-30T23:59:59"))
    with pytest.raises(Refused):
        await services.changes.modify(pro_app, ChangeRequest(members_per_group=200))

    clock.set(at("2026-12-01T00:00:00"))
    assert (await services.apps.show(pro_app)).locked_items == ()
    result = await services.changes.modify(pro_app, ChangeRequest(members_per_group=200))
    assert result.app.members_per_group == 200
    assert result.app.locked_items == ("members_per_group",)
    assert result.app.unlock_dates == {"members_per_group": "2027-01-01"}


async def test_modify_twice_in_a_month_then_next_month(services, clock, pro_app):
    clock.set(at("2026-12-03T08:00:00"))
    await services.changes.modify(pro_app, ChangeRequest(history_days=30))
    clock.set(at("2026-12-31T23:00:00"))
    await assert_refused_and_unchanged(
        services,
        lambda: services.changes.modify(pro_app, ChangeRequest(history_days=90)),
        Refused,
        code=3,
        app_id=pro_app,
        action="modify",
        words=("history_days", "2026-12-03", "2027-01-01"),
    )
    # other items are still free this month
    result = await services.changes.modify(pro_app, ChangeRequest(groups_per_user=1000))
    assert result.app.locked_items == ("groups_per_user", "history_days")
    clock.set(at("2027-01-01T00:00:00"))
    result = await services.changes.modify(pro_app, ChangeRequest(history_days=90))
    assert result.app.history_days == 90


async def test_request_touching_a_locked_item_is_refused_as_a_whole(services, clock, pro_app):
    clock.set(at("2026-12-02T08:00:00"))
    await services.changes.modify(pro_app, ChangeRequest(groups_per_user=1000))
    clock.advance(hours=1)
    await assert_refused_and_unchanged(
        services,
        lambda: services.changes.modify(pro_app, ChangeRequest(history_days=90, groups_per_user=500)),
        Refused,
        code=3,
        app_id=pro_app,
        action="modify",
        words=("groups_per_user", "2027-01-01"),
    )
    assert (await services.apps.show(pro_app)).history_days == 7


async def test_edition_change_rises_do_not_use_the_monthly_change(services, clock, app_id):
    await services.changes.upgrade(app_id, ChangeRequest(edition="pro"))
    clock.set(at("2026-12-05T10:00:00"))
    result = await services.changes.modify(app_id, ChangeRequest(edition="flagship"))
    app = result.app
    assert (app.edition, app.live_groups, app.groups_per_user, app.members_per_group, app.history_days) == (
        "flagship",
        None,
        1000,
        2000,
        30,
    )
    assert app.locked_items == ("edition",)
    clock.advance(hours=1)
    result = await services.changes.modify(app_id, ChangeRequest(groups_per_user=3000))
    assert result.app.groups_per_user == 3000


async def test_flagship_to_pro_needs_explicit_choices(services, clock, app_id):
    await services.changes.upgrade(app_id, ChangeRequest(edition="flagship"))
    clock.set(at("2026-12-05T10:00:00"))
    err = await assert_refused_and_unchanged(
        services,
        lambda: services.changes.modify(app_id, ChangeRequest(edition="pro")),
        Refused,
        code=3,
        app_id=app_id,
        action="modify",
        words=("live_groups", "groups_per_user", "members_per_group", "history_days", "449.99"),
    )
    assert "239.99" in err.message
    result = await services.changes.modify(
        app_id,
        ChangeRequest(
            edition="pro", live_unlimited=True, groups_per_user=1000, members_per_group=2000, history_days=30
        ),
    )
    assert result.app.edition == "pro"
    # keeping the current values does not use their monthly change
    assert result.app.locked_items == ("edition",)


# --- nothing to change ---------------------------------------------------------------------------


async def test_nothing_to_change_succeeds_says_so_and_is_audited(services, clock, pro_app):
    clock.advance(hours=2)
    before = await services.apps.show(pro_app)
    # members_per_group is locked, but setting it to its current value is no change
    result = await services.changes.modify(pro_app, ChangeRequest(members_per_group=2000, edition="pro"))
    assert result.nothing_to_change is True
    assert result.changes == "nothing to change"
    assert result.app == before
    assert await services.apps.show(pro_app) == before
    newest = (await trail(services, limit=1))[0]
    assert (newest.action, newest.result, newest.detail, newest.actor, newest.app_id) == (
        "modify",
        "done",
        "nothing to change",
        "tester",
        pro_app,
    )
    empty = await services.changes.modify(pro_app, ChangeRequest())
    assert empty.nothing_to_change is True
    assert await count_audit(services, "modify", "done") == 2


# --- time only moves forward ---------------------------------------------------------------------


async def test_an_instant_before_the_latest_is_refused(services, clock, pro_app):
    t = clock.now()
    clock.set(at("2026-11-16T09:00:00"))
    before = await services.apps.list()
    with pytest.raises(Refused) as exc:
        await services.changes.create("back-dated", "acme")
    assert exc.value.exit_code == 3
    await assert_refused_and_unchanged(
        services,
        lambda: services.changes.modify(pro_app, ChangeRequest(history_days=30)),
        Refused,
        code=3,
        app_id=pro_app,
        action="modify",
    )
    [result] = await services.lifecycle.halt([pro_app], "drill")
    assert (result.ok, result.exit_code) == (False, 3)
    assert await services.apps.list() == before
    # the refusals are audited at the request's instant ...
    refused = [r for r in await trail(services) if r.result == "refused"]
    assert len(refused) == 3 and {r.at for r in refused} == {clock.now()}
    # ... without moving the latest instant: still refused half an hour later, fine at t itself
    clock.set(at("2026-11-16T09:30:00"))
    with pytest.raises(Refused):
        await services.changes.create("back-dated", "acme")
    clock.set(t)
    assert (await services.changes.create("on-time", "acme")).app_id == FIRST_ID + 1


# --- conflicts -----------------------------------------------------------------------------------


async def test_stale_edit_is_a_conflict(services, clock, pro_app):
    clock.set(at("2026-12-02T09:00:00"))
    opened = (await services.apps.show(pro_app)).version
    await services.changes.modify(pro_app, ChangeRequest(history_days=30), expected_version=opened)
    err = await assert_refused_and_unchanged(
        services,
        lambda: services.changes.modify(pro_app, ChangeRequest(groups_per_user=1000), expected_version=opened),
        Conflict,
        code=5,
        app_id=pro_app,
        action="modify",
    )
    assert "tester" in err.message
    current = (await services.apps.show(pro_app)).version
    result = await services.changes.modify(pro_app, ChangeRequest(groups_per_user=1000), expected_version=current)
    assert result.app.version == current + 1


async def test_two_operators_changing_the_same_item_at_once(services, make_services, clock, pro_app):
    other = make_services()
    clock.set(at("2026-12-02T09:00:00"))
    outcomes = await asyncio.gather(
        services.changes.modify(pro_app, ChangeRequest(history_days=30)),
        other.changes.modify(pro_app, ChangeRequest(history_days=90)),
        return_exceptions=True,
    )
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(done) == 1 and len(failed) == 1
    assert isinstance(failed[0], ImtuiError) and failed[0].exit_code in (3, 5)
    assert (await services.apps.show(pro_app)).history_days == done[0].app.history_days


async def test_deactivated_app_cannot_be_changed(services, clock, pro_app):
    clock.set(at("2026-12-02T09:00:00"))
    await services.lifecycle.halt([pro_app], "maintenance")
    await assert_refused_and_unchanged(
        services,
        lambda: services.changes.modify(pro_app, ChangeRequest(history_days=30)),
        Refused,
        code=3,
        app_id=pro_app,
        action="modify",
        words=("deactivated",),
    )
