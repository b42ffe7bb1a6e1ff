"""Halt and reactivate: bulk results, control-plane faults, the 90-day purge, restoring packages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import InvalidInput, Refused
from tests.support.services import at, count_audit, trail

UNKNOWN = 1_499_999_999


@pytest.fixture
async def apps(services, clock):
    ids = [(await services.changes.create(f"app-{i}", "acme")).app_id for i in range(4)]
    clock.advance(hours=1)
    return ids


async def test_bulk_halt_gives_a_result_per_app_in_input_order(services, clock, cp, apps):
    a, b, c, d = apps
    await services.lifecycle.halt([b], "first")
    clock.advance(minutes=5)
    results = await services.lifecycle.halt([d, UNKNOWN, a, b], "incident 42")
    assert [r.app_id for r in results] == [d, UNKNOWN, a, b]
    assert [r.ok for r in results] == [True, False, True, False]
    assert [r.exit_code for r in results] == [0, 4, 0, 3]
    assert results[0].error is None and results[0].app.status == "deactivated"
    assert str(UNKNOWN) in results[1].error
    assert "already deactivated" in results[3].error
    statuses = {v.app_id: v.status for v in await services.apps.list()}
    assert statuses == {a: "deactivated", b: "deactivated", c: "active", d: "deactivated"}
    shown = await services.apps.show(d)
    assert shown.halt_reason == "incident 42"
    assert ("deactivate", d) in cp.calls and ("deactivate", a) in cp.calls
    assert cp.calls.count(("deactivate", b)) == 1  # not asked again
    # each app's outcome is audited
    recent = [r for r in await trail(services) if r.at == clock.now()]
    assert sorted((r.app_id, r.action, r.result) for r in recent) == sorted(
        [(d, "halt", "done"), (a, "halt", "done"), (UNKNOWN, "halt", "refused"), (b, "halt", "refused")]
    )
    assert all(r.actor == "tester" for r in recent)
    assert any("incident 42" in r.detail for r in recent if r.app_id == d)


async def test_halted_app_purges_exactly_90_days_after(services, clock, apps):
    a = apps[0]
    clock.set(at("2027-01-10T09:00:00"))
    [res] = await services.lifecycle.halt([a], "customer left")
    assert res.ok
    shown = await services.apps.show(a)
    assert shown.status == "deactivated"
    assert shown.deactivated_at == clock.now()
    assert shown.purge_at == shown.deactivated_at + timedelta(days=90)
    assert shown.purge_at == at("2027-04-10T09:00:00")


async def test_control_plane_failure_leaves_that_app_active(services, clock, cp, apps):
    a, b, c, _ = apps
    cp.fail.add(b)
    results = await services.lifecycle.halt([a, b, c], "drill")
    assert [(r.app_id, r.ok) for r in results] == [(a, True), (b, False), (c, True)]
    assert results[1].exit_code == 1 and results[1].error
    assert results[1].app is None
    assert (await services.apps.show(b)).status == "active"
    assert (await services.apps.show(b)).purge_at is None
    assert (await services.apps.show(a)).status == "deactivated"
    assert (await services.apps.show(c)).status == "deactivated"
    assert await count_audit(services, "halt", "refused", app_id=b) == 1
    assert await count_audit(services, "halt", "done", app_id=b) == 0
    # once the control plane works again the app can be halted
    cp.fail.clear()
    clock.advance(minutes=1)
    [again] = await services.lifecycle.halt([b], "drill")
    assert again.ok


async def test_control_plane_hang_times_out_and_leaves_that_app_active(services, clock, cp, apps):
    a, b, c, _ = apps
    cp.hang.add(b)
    cp.timeout = 0.05
    results = await services.lifecycle.halt([a, b, c], "drill")
    assert [(r.app_id, r.ok) for r in results] == [(a, True), (b, False), (c, True)]
    assert results[1].exit_code == 1
    assert (await services.apps.show(b)).status == "active"
    assert {(await services.apps.show(x)).status for x in (a, c)} == {"deactivated"}


async def test_reactivate_bulk_and_its_failures(services, clock, cp, apps):
    a, b, c, d = apps
    await services.lifecycle.halt([a, b, c], "pause")
    clock.advance(days=1)
    cp.fail.add(c)
    results = await services.lifecycle.reactivate([c, a, d, UNKNOWN, b])
    assert [(r.app_id, r.ok, r.exit_code) for r in results] == [
        (c, False, 1),
        (a, True, 0),
        (d, False, 3),
        (UNKNOWN, False, 4),
        (b, True, 0),
    ]
    assert "already active" in results[2].error
    statuses = {v.app_id: v.status for v in await services.apps.list()}
    assert statuses == {a: "active", b: "active", c: "deactivated", d: "active"}
    shown = await services.apps.show(a)
    assert shown.deactivated_at is None and shown.purge_at is None


async def test_halt_needs_a_reason(services, apps):
    with pytest.raises(InvalidInput) as exc:
        await services.lifecycle.halt([apps[0]], "   ")
    assert exc.value.exit_code == 2
    assert (await services.apps.show(apps[0])).status == "active"


async def test_purge_happens_lazily_exactly_once_at_the_purge_instant(services, make_services, clock, apps):
    a, b = apps[:2]
    [res] = await services.lifecycle.halt([a], "gone")
    purge_at = (await services.apps.show(a)).purge_at
    clock.set(purge_at - timedelta(microseconds=1))
    assert (await services.apps.show(a)).status == "deactivated"
    assert await count_audit(services, "purge") == 0
    clock.set(purge_at)
    assert (await services.apps.show(a)).status == "purged"
    for _ in range(3):  # more reads, by this and another process
        await services.apps.list()
        await services.billing.bill()
    other = make_services()
    assert (await other.apps.show(a)).status == "purged"
    clock.advance(days=30)
    await other.apps.list()
    await services.apps.show(a)
    purges = [r for r in await trail(services) if r.action == "purge"]
    assert len(purges) == 1
    assert (purges[0].app_id, purges[0].result, purges[0].at, purges[0].actor) == (a, "done", purge_at, "tester")
    # reactivation (or another halt) of a purged app is refused
    [r] = await services.lifecycle.reactivate([a])
    assert (r.ok, r.exit_code) == (False, 3)
    assert "purged" in r.error
    [h] = await services.lifecycle.halt([a], "again")
    assert (h.ok, h.exit_code) == (False, 3)
    assert (await services.apps.show(a)).status == "purged"
    with pytest.raises(Refused):
        await services.changes.modify(a, ChangeRequest(history_days=30))


async def test_purge_carried_out_late_takes_effect_at_the_purge_instant(services, clock, apps):
    a = apps[0]
    await services.lifecycle.halt([a], "gone")
    purge_at = (await services.apps.show(a)).purge_at
    clock.set(purge_at + timedelta(days=20))
    assert (await services.apps.show(a)).status == "purged"
    [purge] = [r for r in await trail(services) if r.action == "purge"]
    assert purge.at == purge_at
    # a clock set back to before the purge cannot undo it
    clock.set(purge_at - timedelta(hours=1))
    [r] = await services.lifecycle.reactivate([a])
    assert (r.ok, r.exit_code) == (False, 3)
    assert (await services.apps.show(a)).status == "purged"


async def test_reactivation_within_90_days_restores_the_package_without_locks(services, clock, apps):
    a = apps[0]
    clock.set(at("2026-11-16T10:00:00"))
    await services.changes.upgrade(a, ChangeRequest(edition="pro", members_per_group=2000, history_days=90))
    clock.set(at("2026-12-02T09:00:00"))
    before = await services.apps.show(a)
    assert before.locked_items == ()
    [h] = await services.lifecycle.halt([a], "pause")
    assert h.ok
    # one second before the purge instant: still within the 90 days
    clock.set((await services.apps.show(a)).purge_at - timedelta(seconds=1))
    [r] = await services.lifecycle.reactivate([a])
    assert r.ok and r.app.status == "active"
    after = await services.apps.show(a)
    assert (
        (after.edition, after.live_groups, after.groups_per_user, after.members_per_group, after.history_days)
        == (
            before.edition,
            before.live_groups,
            before.groups_per_user,
            before.members_per_group,
            before.history_days,
        )
        == ("pro", 50, 500, 2000, 90)
    )
    assert after.status == "active" and after.deactivated_at is None and after.purge_at is None
    assert after.locked_items == ()
    assert after.halt_reason is None
    # every item can still be changed this month
    result = await services.changes.modify(a, ChangeRequest(members_per_group=200))
    assert result.app.locked_items == ("members_per_group",)


async def test_reactivation_in_the_same_month_keeps_locks_as_they_were(services, clock, apps):
    a = apps[0]
    clock.set(at("2026-12-02T09:00:00"))
    await services.changes.upgrade(a, ChangeRequest(edition="pro"))
    locked = (await services.apps.show(a)).locked_items
    clock.advance(hours=1)
    await services.lifecycle.halt([a], "pause")
    clock.advance(hours=1)
    await services.lifecycle.reactivate([a])
    assert (await services.apps.show(a)).locked_items == locked
    clock.advance(hours=1)
    result = await services.changes.modify(a, ChangeRequest(history_days=30))  # history was not locked
    assert result.app.history_days == 30
