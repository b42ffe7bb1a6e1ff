"""More rules: the order of checks, the billing zone's days and months, history retention and
deactivated days on bills, and that every read carries out what is due."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from imtui.domain.calendar import Month
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import InvalidInput, NotFound, Refused
from imtui.services.models import LineView
from tests.support.services import at, count_audit, money, trail

D = Decimal
DEC = Month(2026, 12)


@pytest.fixture
async def pro_app(services, clock):
    app = await services.changes.create("chat-prod", "acme")
    clock.set(at("2026-11-16T10:00:00"))
    await services.changes.upgrade(app.app_id, ChangeRequest(edition="pro", members_per_group=2000))
    return app.app_id


def app_lines(bill):
    [account] = bill.accounts
    [app] = account.apps
    return app.lines


# --- order of checks (domain.md §4) ----------------------------------------------------------------


async def test_order_of_checks(services, clock, pro_app):
    trial = (await services.changes.create("trial", "acme")).app_id
    bad_value = ChangeRequest(groups_per_user=700)
    # values are checked before locks (members_per_group is locked this month)
    with pytest.raises(InvalidInput):
        await services.changes.modify(pro_app, ChangeRequest(members_per_group=200, groups_per_user=700))
    # the edition allowing the operation comes before the values
    with pytest.raises(Refused):
        await services.changes.modify(trial, bad_value)
    clock.advance(hours=1)
    await services.lifecycle.halt([pro_app], "pause")
    with pytest.raises(Refused):
        await services.changes.modify(pro_app, bad_value)
    # an earlier instant comes before the status; no such app comes first of all
    clock.advance(hours=-2)
    with pytest.raises(Refused) as exc:
        await services.changes.modify(trial, ChangeRequest(edition="pro"))
    assert "earlier" in exc.value.message
    with pytest.raises(NotFound):
        await services.changes.modify(1499999999, bad_value)


# --- the billing time zone ---------------------------------------------------------------------------


async def test_days_are_days_in_the_billing_zone(services, clock):
    app = (await services.changes.create("x", "acme")).app_id
    # 07:00 on the 16th in UTC+8 is still the 15th in UTC
    clock.set(at("2026-11-16T07:00:00+08:00"))
    await services.changes.upgrade(app, ChangeRequest(edition="pro", members_per_group=2000))
    # 07:00 on Dec 1st in UTC+8 is still November in UTC: November is finished (a draft until
    # 00:00 on the 3rd, when it is issued)
    clock.set(at("2026-12-01T07:00:00+08:00"))
    bill = await services.billing.bill(Month(2026, 11))
    assert bill.state == "draft"
    assert app_lines(bill) == [
        LineView("edition", "pro", 15, D("225.00")),
        LineView("members_per_group", "2000", 15, D("120.00")),
    ]
    # and the once-a-month locks follow the same calendar
    assert (await services.apps.show(app)).locked_items == ()
    await services.changes.modify(app, ChangeRequest(members_per_group=200))


async def test_locks_end_at_midnight_in_the_billing_zone(services, clock, pro_app):
    clock.set(at("2026-11-30T23:59:59.999999+08:00"))
    with pytest.raises(Refused):
        await services.changes.modify(pro_app, ChangeRequest(groups_per_user=1000))
    clock.set(at("2026-12-01T00:00:00+08:00"))
    result = await services.changes.modify(pro_app, ChangeRequest(groups_per_user=1000))
    assert result.app.groups_per_user == 1000


# --- bills: history retention, lowering, deactivated days ----------------------------------------------


async def test_history_retention_is_charged_for_the_whole_month(services, clock, pro_app):
    clock.set(at("2026-12-20T10:00:00"))
    await services.changes.modify(pro_app, ChangeRequest(history_days=90))
    bill = await services.billing.bill()
    assert bill.state == "open"
    # month-to-date: 20 days of the daily items, history in full from the day it applies
    assert app_lines(bill) == [
        LineView("edition", "pro", 20, D("290.32")),
        LineView("members_per_group", "2000", 20, D("154.83")),
        LineView("history_days", "90", 31, D("179.99")),
    ]
    assert money(bill.total) == "625.14"
    assert money(bill.projected_total) == "869.97"
    clock.set(at("2027-01-01T00:00:00"))
    issued = await services.billing.bill(DEC)
    assert app_lines(issued) == [
        LineView("edition", "pro", 31, D("449.99")),
        LineView("members_per_group", "2000", 31, D("239.99")),
        LineView("history_days", "90", 31, D("179.99")),
    ]
    assert money(issued.total) == "869.97"


async def test_the_day_of_a_lowering_is_billed_at_the_old_setting(services, clock, pro_app):
    clock.set(at("2026-12-10T10:00:00"))
    await services.changes.modify(pro_app, ChangeRequest(members_per_group=200))
    clock.set(at("2027-01-01T00:00:00"))
    bill = await services.billing.bill(DEC)
    assert app_lines(bill) == [
        LineView("edition", "pro", 31, D("449.99")),
        LineView("members_per_group", "2000", 10, D("77.42")),
    ]
    assert money(bill.total) == "527.41"


async def test_deactivated_whole_days_cost_nothing(services, clock, pro_app):
    clock.set(at("2026-12-10T10:00:00"))
    await services.lifecycle.halt([pro_app], "pause")
    clock.set(at("2026-12-20T10:00:00"))
    await services.lifecycle.reactivate([pro_app])
    clock.set(at("2027-01-01T00:00:00"))
    bill = await services.billing.bill(DEC)
    # 1st-10th and 20th-31st: 22 days, both the halt's and the reactivation's day included
    assert app_lines(bill) == [
        LineView("edition", "pro", 22, D("319.35")),
        LineView("members_per_group", "2000", 22, D("170.32")),
    ]
    assert money(bill.total) == "489.67"


# --- whatever process looks first carries out what is due ----------------------------------------------


async def test_two_processes_reading_at_the_purge_instant_purge_once(services, make_services, clock, pro_app):
    clock.set(at("2026-12-02T09:00:00"))
    await services.lifecycle.halt([pro_app], "gone")
    purge_at = (await services.apps.show(pro_app)).purge_at
    others = [make_services() for _ in range(3)]
    clock.set(purge_at)
    views = await asyncio.gather(*(o.apps.show(pro_app) for o in [services, *others]))
    assert {v.status for v in views} == {"purged"}
    assert await count_audit(services, "purge") == 1
    # the months passed on the way were each closed once
    closes = [r for r in await trail(services) if r.action == "close_month"]
    assert len(closes) == 3  # 2026-11 .. 2027-01 issued; the clock is on March 2nd: February is a draft
    assert await services.billing.months() == ["2027-02", "2027-01", "2026-12", "2026-11"]


async def test_the_audit_trail_shows_a_due_purge_and_close(services, clock, pro_app):
    """Reading the trail is looking: what is due by the clock is carried out first."""
    clock.set(at("2026-12-02T09:00:00"))
    await services.lifecycle.halt([pro_app], "gone")
    purge_at = (await services.apps.show(pro_app)).purge_at
    clock.set(purge_at + timedelta(hours=1))
    records = await services.audit.trail()  # the first read after the purge instant
    assert [(r.app_id, r.at) for r in records if r.action == "purge"] == [(pro_app, purge_at)]
    assert sum(r.action == "close_month" for r in records) == 3  # February is still a draft


# --- a bulk operation racing another operator ----------------------------------------------------


async def test_app_changed_during_a_bulk_halt_is_a_conflict_and_left_active(make_services, clock):
    from imtui.services.control_plane import SimulatedControlPlane

    other = make_services(cp_=SimulatedControlPlane(latency=0))

    class Meddling(SimulatedControlPlane):
        """While the control plane stops `target`, another operator modifies it."""

        target: int

        async def deactivate(self, app_id: int, key: str):
            if app_id == self.target:
                await other.changes.modify(app_id, ChangeRequest(history_days=30))
            return await super().deactivate(app_id, key)

    plane = Meddling(latency=0)
    services = make_services(cp_=plane)
    a = (await services.changes.create("a", "acme")).app_id
    b = (await services.changes.create("b", "acme")).app_id
    await services.changes.upgrade(b, ChangeRequest(edition="pro"))
    plane.target = b
    clock.advance(hours=1)
    results = await services.lifecycle.halt([a, b], "drill")
    assert [(r.app_id, r.ok, r.exit_code) for r in results] == [(a, True, 0), (b, False, 5)]
    shown = await services.apps.show(b)
    assert (shown.status, shown.history_days) == ("active", 30)
    assert ("activate", b) in plane.calls  # the control plane was put back
    assert (await services.apps.show(a)).status == "deactivated"
    assert await count_audit(services, "halt", "refused", app_id=b) == 1


# --- inputs the editions do not offer ---------------------------------------------------------------


async def test_editions_and_values_not_offered_are_invalid(services, clock):
    app = (await services.changes.create("x", "acme")).app_id
    for request in (ChangeRequest(edition="trial"), ChangeRequest(edition="gold"), ChangeRequest()):
        with pytest.raises(InvalidInput) as exc:
            await services.changes.upgrade(app, request)
        assert exc.value.exit_code == 2
    await services.changes.upgrade(app, ChangeRequest(edition="flagship"))
    clock.advance(hours=1)
    for request in (
        ChangeRequest(edition="trial"),
        ChangeRequest(live_unlimited=False),
        ChangeRequest(members_per_group=2001),
        ChangeRequest(history_days=7),
    ):
        with pytest.raises(InvalidInput):
            await services.changes.modify(app, request)
    # unlimited live groups are included on flagship: asking for them changes nothing
    result = await services.changes.modify(app, ChangeRequest(live_unlimited=True))
    assert result.nothing_to_change
    assert (await services.apps.show(app)).edition == "flagship"


async def test_accounts_created_after_a_month_have_no_bill_for_it(services, db_path, clock):
    from tests.support.services import sql

    await services.changes.create("old", "old-account")
    clock.set(at("2026-12-03T00:00:00"))
    await services.changes.create("new", "new-account")
    clock.set(at("2027-01-03T00:00:00"))
    await services.billing.bill(DEC)
    rows = sql(
        db_path,
        "select b.month, a.name from bills b join accounts a on a.id = b.account_id order by 1, 2",
    )
    assert rows == [("2026-11", "old-account"), ("2026-12", "new-account"), ("2026-12", "old-account")]
