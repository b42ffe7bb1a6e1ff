"""The change service's orchestration on an in-memory unit of work: what is written, audited and
left alone for each outcome, with no database in the way."""

from __future__ import annotations

import pytest

from imtui.clock import FixedClock
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import Conflict, Refused
from imtui.domain.prices import load_price_list
from imtui.services.changes import ChangeService
from imtui.services.context import ServiceContext
from imtui.services.control_plane import SimulatedControlPlane
from tests.support.fake_uow import FakeDatabase
from tests.support.services import at


class NoHousekeeping:
    async def catch_up(self) -> None:
        """Nothing falls due in these tests."""


@pytest.fixture
def world():
    db = FakeDatabase()
    clock = FixedClock(at("2026-11-02T09:00"))
    ctx = ServiceContext(db, clock, load_price_list(), "Asia/Shanghai", "ops", SimulatedControlPlane(0))
    db.store.roles["ops"] = "operator"
    return db.store, clock, ChangeService(ctx, NoHousekeeping())


async def test_create_writes_the_app_its_event_and_audit_and_moves_the_latest_instant(world):
    store, clock, changes = world
    view = await changes.create("  chat  ", "acme")
    assert (view.name, view.account, view.edition, view.status) == ("chat", "acme", "trial", "active")
    assert [e[1] for e in store.events] == ["create"]
    assert [(a.action, a.result) for a in store.audit] == [("create", "done")]
    assert store.meta["latest_at"] == at("2026-11-02T09:00").isoformat()
    assert store.commits == 1


async def test_a_locked_item_is_refused_audited_and_changes_nothing_else(world):
    store, clock, changes = world
    app = await changes.create("chat", "acme")
    clock.set(at("2026-11-16T10:00"))
    await changes.upgrade(app.app_id, ChangeRequest(edition="pro"))
    before = (dict(store.apps), list(store.events), dict(store.locks), store.meta["latest_at"])
    clock.set(at("2026-11-20T10:00"))
    with pytest.raises(Refused) as err:
        await changes.modify(app.app_id, ChangeRequest(groups_per_user=1000))
    assert "can be changed again from 2026-12-01" in err.value.message
    assert (dict(store.apps), list(store.events), dict(store.locks), store.meta["latest_at"]) == before
    last = store.audit[-1]
    assert (last.action, last.result, last.at) == ("modify", "refused", at("2026-11-20T10:00"))


async def test_nothing_to_change_is_audited_but_does_not_move_the_latest_instant(world):
    store, clock, changes = world
    app = await changes.create("chat", "acme")
    latest = store.meta["latest_at"]
    clock.set(at("2026-11-03T10:00"))
    result = await changes.upgrade(app.app_id, ChangeRequest(edition="pro"))
    clock.set(at("2026-11-04T10:00"))
    same = await changes.modify(app.app_id, ChangeRequest(groups_per_user=500))
    assert same.nothing_to_change and result.app.version == same.app.version
    assert store.meta["latest_at"] == at("2026-11-03T10:00").isoformat() != latest
    assert (store.audit[-1].action, store.audit[-1].detail) == ("modify", "nothing to change")


async def test_a_stale_form_is_a_conflict_and_is_audited(world):
    store, clock, changes = world
    app = await changes.create("chat", "acme")
    clock.set(at("2026-11-03T10:00"))
    with pytest.raises(Conflict):
        await changes.upgrade(app.app_id, ChangeRequest(edition="pro"), expected_version=app.version + 1)
    assert store.apps[app.app_id][0].edition == "trial"
    assert store.audit[-1].result == "refused"
