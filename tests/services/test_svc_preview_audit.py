"""Cost preview of a proposed change, and the audit trail."""

from __future__ import annotations

from decimal import Decimal

import pytest

from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import InvalidInput, NotFound, Refused
from tests.support.services import at, money, trail

D = Decimal


@pytest.fixture
async def trial_app(services, clock):
    app = await services.changes.create("chat-prod", "acme")
    clock.set(at("2026-11-16T10:00:00"))
    return app.app_id


async def test_preview_trial_to_pro_upgrade(services, clock, trial_app):
    before = await services.apps.show(trial_app)
    records = await trail(services)
    [p] = await services.changes.preview("upgrade", [trial_app], ChangeRequest(edition="pro", members_per_group=2000))
    assert p.error is None and p.app_id == trial_app
    assert "edition trial → pro" in p.changes
    assert (p.this_month_before, p.this_month_after) == (D("0.00"), D("345.00"))
    assert (p.monthly_before, p.monthly_after) == (D("0.00"), D("689.98"))
    assert [money(x) for x in (p.this_month_before, p.this_month_after, p.monthly_before, p.monthly_after)] == [
        "0.00",
        "345.00",
        "0.00",
        "689.98",
    ]
    assert p.this_month_delta == D("345.00")
    # a preview changes nothing and audits nothing
    assert await services.apps.show(trial_app) == before
    assert await trail(services) == records


async def test_preview_trial_to_flagship_and_pro_to_flagship(services, clock, trial_app):
    [p] = await services.changes.preview("upgrade", [trial_app], ChangeRequest(edition="flagship"))
    # 899.99 × 15 / 30 = 449.995 → 450.00; everything else is included on flagship
    assert (p.this_month_after, p.monthly_after) == (D("450.00"), D("899.99"))
    await services.changes.upgrade(trial_app, ChangeRequest(edition="pro", members_per_group=2000))
    clock.set(at("2026-12-11T12:00:00"))
    [m] = await services.changes.preview("modify", [trial_app], ChangeRequest(edition="flagship"))
    assert m.error is None
    assert (m.this_month_before, m.monthly_before) == (D("689.98"), D("689.98"))
    assert (m.this_month_after, m.monthly_after) == (D("839.99"), D("899.99"))


async def test_preview_reports_refusals_per_app(services, clock, trial_app):
    other = (await services.changes.create("other", "acme")).app_id
    previews = await services.changes.preview("modify", [1499999999, trial_app, other], ChangeRequest(history_days=30))
    assert [p.app_id for p in previews] == [1499999999, trial_app, other]
    assert "1499999999" in previews[0].error
    assert "trial" in previews[1].error and "trial" in previews[2].error
    assert previews[1].this_month_after == previews[1].this_month_before == D("0.00")


async def test_audit_trail_is_newest_first_with_the_actor(services, clock, trial_app):
    await services.changes.upgrade(trial_app, ChangeRequest(edition="pro"))
    clock.advance(hours=1)
    with pytest.raises(Refused):
        await services.changes.modify(trial_app, ChangeRequest(edition="flagship"))  # edition locked
    clock.advance(hours=1)
    await services.lifecycle.halt([trial_app], "night maintenance")
    clock.advance(hours=1)
    await services.lifecycle.reactivate([trial_app])
    clock.advance(hours=1)
    other = (await services.changes.create("other", "globex")).app_id

    records = await trail(services)
    assert [(r.action, r.result, r.app_id) for r in records] == [
        ("create", "done", other),
        ("reactivate", "done", trial_app),
        ("halt", "done", trial_app),
        ("bind", "done", None),  # the first halt bound the database to its (embedded) platform
        ("modify", "refused", trial_app),
        ("upgrade", "done", trial_app),
        ("create", "done", trial_app),
    ]
    assert all(r.actor == "tester" for r in records)
    assert [r.at for r in records] == sorted((r.at for r in records), reverse=True)
    assert records[0].at == clock.now()
    assert "night maintenance" in records[2].detail
    assert "edition" in records[4].detail
    assert "trial → pro" in records[5].detail

    mine = await services.audit.trail(app_id=trial_app, limit=2)
    assert [(r.action, r.result) for r in mine] == [("reactivate", "done"), ("halt", "done")]
    assert len(await services.audit.trail(limit=3)) == 3
    with pytest.raises(NotFound):
        await services.audit.trail(app_id=1499999999)
    with pytest.raises(InvalidInput):
        await services.audit.trail(limit=0)


async def test_actor_is_the_one_the_services_were_built_with(make_services, clock):
    ops = make_services(actor="alice")
    app = await ops.changes.create("x", "acme")
    assert (await ops.apps.show(app.app_id)).updated_by == "alice"
    assert [r.actor for r in await trail(ops)] == ["alice"]
