"""A read-only run refuses every change with PermissionDenied and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import PermissionDenied
from imtui.persistence.engine import make_engine
from tests.support.services import sql, trail


def snapshot(db_path: str) -> dict[str, list]:
    """Every row of every table, read straight from the database."""
    engine = make_engine(db_path)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    return {t: sorted(sql(db_path, f'select * from "{t}"'), key=repr) for t in tables}


async def test_read_only_refuses_every_change_and_writes_nothing(services, make_services, db_path, clock, cp):
    trial = (await services.changes.create("trial", "acme")).app_id
    pro = (await services.changes.create("pro", "acme")).app_id
    await services.changes.upgrade(pro, ChangeRequest(edition="pro"))
    halted = (await services.changes.create("halted", "acme")).app_id
    await services.lifecycle.halt([halted], "pause")
    clock.advance(hours=1)

    ro = make_services(read_only=True)
    apps_before = await ro.apps.list()
    trail_before = await trail(ro)
    db_before = snapshot(db_path)
    calls_before = list(cp.calls)

    attempts = [
        lambda: ro.changes.create("new", "acme"),
        lambda: ro.changes.create("new", "brand-new-account"),
        lambda: ro.changes.upgrade(trial, ChangeRequest(edition="pro")),
        lambda: ro.changes.modify(pro, ChangeRequest(history_days=30)),
        lambda: ro.changes.modify(pro, ChangeRequest()),
        lambda: ro.lifecycle.halt([trial, pro], "drill"),
        lambda: ro.lifecycle.reactivate([halted]),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as exc:
            await attempt()
        assert exc.value.exit_code == 3

    assert await ro.apps.list() == apps_before
    assert await services.apps.list() == apps_before
    assert await trail(services) == trail_before
    assert snapshot(db_path) == db_before  # not a row of any table changed
    assert cp.calls == calls_before

    # reading still works
    assert (await ro.apps.show(pro)).edition == "pro"
    assert (await ro.billing.bill()).state == "open"
    [p] = await ro.changes.preview("modify", [pro], ChangeRequest(history_days=30))
    assert p.error is None
