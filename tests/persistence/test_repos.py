"""The repositories on a real database (SQLite, or PostgreSQL in the second pass): they return
domain values, enforce what the database must (once per month, one close per month, stale
writes) and read back exactly what was written."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy

from imtui.domain.apps import App
from imtui.domain.audit import AuditEntry
from imtui.domain.calendar import Month
from imtui.domain.editions import Package
from imtui.domain.errors import Conflict
from imtui.domain.lifecycle import halted, new_app, reactivated
from imtui.persistence.database import Database
from imtui.persistence.repos.bills import AlreadyClosed, StoredLine
from tests.support.dbs import drop_db, migrated_db_url
from tests.support.services import at

NOV = Month(2026, 11)


@pytest.fixture
def db(tmp_path):
    url = migrated_db_url(tmp_path)
    database = Database(url)
    database.migrate()
    yield database
    database.close()
    drop_db(url)


def _app(i: int, name: str = "chat", account: str = "acme", when: str = "2026-11-02T09:00") -> App:
    return new_app(1400000000 + i, name, account, at(when), "ops")


def _seed(db: Database, *apps: App) -> int:
    with db.uow(write=True) as uow:
        account = uow.accounts.ensure("acme", at("2026-11-01T00:00"))
        for app in apps:
            uow.apps.add(app, account)
            uow.history.add(app, "create", app.created_at, "ops")
        uow.commit()
    return account


def test_meta_latest_instant_only_moves_forward_and_the_counter_counts(db):
    with db.uow(write=True) as uow:
        uow.meta.create("Asia/Shanghai", at("2026-11-01T00:00"), simulation=True)
        uow.meta.advance_latest(at("2026-11-05T10:00"))
        uow.meta.advance_latest(at("2026-11-04T10:00"))
        uow.meta.bump_counter()
        uow.meta.bump_counter()
        uow.commit()
    with db.uow() as uow:
        assert uow.meta.latest == at("2026-11-05T10:00")
        assert uow.meta.billing_tz == "Asia/Shanghai" and uow.meta.simulation
        assert uow.meta.counter() == 2


def test_an_uncommitted_unit_of_work_leaves_nothing(db):
    with db.uow(write=True) as uow:
        uow.accounts.ensure("ghost", at("2026-11-01T00:00"))
    with db.uow() as uow:
        assert uow.accounts.find("ghost") is None


def test_apps_read_back_as_domain_values(db):
    first = _app(0)
    _seed(db, first, _app(1, "support-eu"))
    with db.uow() as uow:
        got = uow.apps.get(first.app_id)
        assert isinstance(got, App) and got == first
        assert set(uow.apps.many([first.app_id, 1400000001, 1400009999])) == {first.app_id, 1400000001}
        assert uow.apps.next_id(1400000000) == 1400000002
        acme = uow.accounts.find("acme")
        assert sorted(r for rows in uow.apps.fleet_rows() for r in rows) == [
            (1400000000, "chat", acme, "trial", "active", 10, 50, 20, 7),
            (1400000001, "support-eu", acme, "trial", "active", 10, 50, 20, 7),
        ]
        assert [r for rows in uow.apps.fleet_rows([1400000001]) for r in rows] == [
            (1400000001, "support-eu", acme, "trial", "active", 10, 50, 20, 7)
        ]
        (a, pkg_a, _), (b, pkg_b, _) = uow.apps.packages()
        assert pkg_a is pkg_b  # apps with the same package share one value


def test_search_takes_the_text_literally(db):
    _seed(db, _app(0, "50%_off"), _app(1, "500 off"), _app(2, "chat"))
    with db.uow() as uow:
        assert [a.name for a in uow.apps.search(text="50%")] == ["50%_off"]
        assert [a.name for a in uow.apps.search(text="_")] == ["50%_off"]
        assert [a.app_id for a in uow.apps.search(text="0000002")] == [1400000002]
        assert uow.apps.search(status="deactivated") == []


def test_a_stale_save_writes_nothing(db):
    app = _app(0)
    _seed(db, app)
    with db.uow(write=True) as uow:
        assert uow.apps.save(app.changed(updated_by="a"))
        assert not uow.apps.save(app.changed(updated_by="b"))  # still expects the old version
        uow.commit()
    with db.uow() as uow:
        got = uow.apps.get(app.app_id)
        assert (got.version, got.updated_by) == (2, "a")


def test_due_purges_come_in_the_order_they_fell_due(db):
    a, b = _app(0), _app(1)
    _seed(db, a, b)
    with db.uow(write=True) as uow:
        uow.apps.save_many(
            [halted(a, at("2026-11-03T10:00"), "x", "ops"), halted(b, at("2026-11-02T10:00"), "y", "ops")]
        )
        uow.commit()
    with db.uow() as uow:
        assert uow.apps.earliest_purge() == at("2026-11-02T10:00") + timedelta(days=90)
        assert uow.apps.due_purges(at("2027-01-31T09:59")) == []
        due = uow.apps.due_purges(at("2027-02-02T10:00"))
        assert [x.app_id for x in due] == [b.app_id, a.app_id]


def test_a_purge_is_due_exactly_at_its_instant_and_only_for_a_deactivated_app(db):
    """Due from the purge instant itself (not a microsecond before), however late one looks;
    an app reactivated since is never due."""
    a, b = _app(0), _app(1)
    _seed(db, a, b)
    halted_a, halted_b = halted(a, at("2026-11-03T10:00"), "x", "ops"), halted(b, at("2026-11-03T10:00"), "y", "ops")
    with db.uow(write=True) as uow:
        uow.apps.save_many([halted_a, halted_b])
        uow.apps.save(reactivated(halted_b, "ops"))
        uow.commit()
    purge = halted_a.purge_at
    with db.uow() as uow:
        assert uow.apps.due_purges(purge - timedelta(microseconds=1)) == []
        assert [x.app_id for x in uow.apps.due_purges(purge)] == [a.app_id]
        assert [x.app_id for x in uow.apps.due_purges(purge + timedelta(days=400))] == [a.app_id]


def test_history_gives_each_apps_states_for_a_month(db):
    app = _app(0, when="2026-10-20T09:00")
    _seed(db, app)
    pro = app.changed(package=Package("pro", 50, 500, 200, 7))
    with db.uow(write=True) as uow:
        uow.history.add(pro, "upgrade", at("2026-11-16T10:00"), "ops")
        uow.commit()
    with db.uow() as uow:
        states = uow.history.states_between(NOV.start("Asia/Shanghai"), NOV.end("Asia/Shanghai"))
        assert [(s.at, s.package.edition) for s in states[app.app_id]] == [
            (at("2026-10-20T09:00"), "trial"),
            (at("2026-11-16T10:00"), "pro"),
        ]
        assert [e.kind for e in uow.history.of_app(app.app_id)] == ["create", "upgrade"]
        assert uow.history.apps_after(0) == {app.app_id}


def test_many_apps_states_are_each_apps_own_and_read_through_the_apps_index(db):
    """Several hundred apps at once (a bulk halt's month plans) read the same states as each app
    alone, and SQLite finds them by app: ordered by time alone it walked every event of the month
    from about 700 apps on (~100 ms at 100,000 apps instead of ~1 ms)."""
    apps = [_app(i, name=f"chat-{i}", when="2026-10-20T09:00") for i in range(900)]
    _seed(db, *apps)
    with db.uow(write=True) as uow:
        for i, app in enumerate(apps[::3]):
            uow.history.add(
                app.changed(package=Package("pro", 50, 500, 200, 7)),
                "upgrade",
                at(f"2026-11-{10 + i % 9:02}T10:00"),
                "ops",
            )
        uow.commit()
    start, end = NOV.start("Asia/Shanghai"), NOV.end("Asia/Shanghai")
    ids = [a.app_id for a in apps]
    statements: list[tuple[str, tuple]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with db.uow() as uow:
        conn = uow.history.conn
        sqlalchemy.event.listen(conn, "before_cursor_execute", seen)
        together = uow.history.states_between(start, end, ids)
        sqlalchemy.event.remove(conn, "before_cursor_execute", seen)
        assert together == {a: uow.history.states_between(start, end, [a])[a] for a in ids}
        if conn.dialect.name == "sqlite":
            plans = [
                " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
                for sql, params in statements
            ]
            assert plans and not any("ix_events_at" in plan for plan in plans), plans


def test_an_items_monthly_change_can_be_recorded_once(db):
    app = _app(0)
    _seed(db, app)
    with db.uow(write=True) as uow:
        event = uow.history.add(app, "modify", at("2026-11-03T10:00"), "ops")
        uow.locks.record(app.app_id, ["groups_per_user"], NOV, at("2026-11-03T10:00"), event)
        uow.commit()
    with db.uow(write=True) as uow, pytest.raises(Conflict):
        uow.locks.record(app.app_id, ["groups_per_user"], NOV, at("2026-11-04T10:00"), event)
    with db.uow() as uow:
        assert uow.locks.of_app(app.app_id, NOV) == {"groups_per_user": at("2026-11-03T10:00")}
        assert uow.locks.of_app(app.app_id, NOV.next()) == {}


def test_a_month_is_issued_once(db):
    app = _app(0)
    account = _seed(db, app)
    line = StoredLine(app.app_id, "edition", "pro", 44999, 15, 22500)
    with db.uow(write=True) as uow:
        uow.bills.issue(NOV, at("2026-12-03T00:00"), "ops", {account: 22500}, {account: [line]})
        uow.commit()
    with db.uow(write=True) as uow, pytest.raises(AlreadyClosed):
        uow.bills.issue(NOV, at("2026-12-03T00:01"), "ops", {account: 1}, {})
    with db.uow() as uow:
        (bill,) = uow.bills.of_month(NOV)
        assert (bill.account, bill.total_cents, bill.lines) == ("acme", 22500, [line])
        assert uow.bills.issued_at(NOV) == at("2026-12-03T00:00")
        assert uow.bills.cents_by_app(NOV) == {app.app_id: 22500}


def test_audit_trail_is_newest_first_and_users_keep_one_role(db):
    with db.uow(write=True) as uow:
        for minute in range(3):
            uow.audit.add(AuditEntry(at(f"2026-11-02T09:0{minute}"), "ops", "create", None, "done", str(minute)))
        uow.users.set_role("alice", "operator", at("2026-11-02T09:00"), "ops")
        uow.users.set_role("alice", "admin", at("2026-11-02T09:05"), "ops")
        uow.commit()
    with db.uow() as uow:
        assert [e.detail for e in uow.audit.trail(None, 2)] == ["2", "1"]
        assert [(g.name, g.role) for g in uow.users.all()] == [("alice", "admin")]


def test_bulk_rows_are_stored_exactly_as_sqlalchemy_stores_them(db):
    """`insert_rows` (the demo's and bulk halts' quick path) and SQLAlchemy's own insert leave
    the same values in the database, instants included (a text format that differs would
    break comparisons and ordering on SQLite)."""
    from sqlalchemy import insert, select

    from imtui.persistence.tables import AuditRecord

    table = AuditRecord.__table__
    instants = [at("2026-11-02T09:00"), at("2026-11-02T09:00") + timedelta(microseconds=7)]
    rows = [
        {"at": when, "actor": "ops", "action": "halt", "app_id": 1400000001, "result": "done", "detail": "x"}
        for when in instants
    ]
    with db.uow(write=True) as uow:
        uow.audit.insert_rows(table, rows)
        uow.audit.conn.execute(insert(table), rows)
        c = table.c
        stored = uow.audit.driver_rows(select(c.at, c.actor, c.action, c.app_id, c.result, c.detail).order_by(c.id))
        uow.commit()
    assert stored[:2] == stored[2:]
    with db.uow() as uow:
        assert [e.at for e in reversed(uow.audit.trail(None, 10))] == sorted(instants * 2)


def test_instants_are_written_and_read_as_sqlalchemy_s_own_sqlite_datetime_would():
    """`UTCDateTime`'s quick SQLite processors against SQLAlchemy's DATETIME: databases made
    before them hold that text, and SQL compares instants as text."""
    from datetime import datetime, timezone

    from sqlalchemy.dialects import sqlite

    from imtui.persistence.types import UTCDateTime

    dialect = sqlite.dialect()
    ours_in = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    ours_out = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    theirs_in = sqlite.DATETIME().bind_processor(dialect)
    theirs_out = sqlite.DATETIME().result_processor(dialect, None)
    shanghai = timezone(timedelta(hours=8))
    for instant in (
        datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc),
        datetime(2026, 11, 2, 9, 0, 0, 7, tzinfo=shanghai),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(2, 1, 1, 0, 0, 0, 120000, tzinfo=timezone.utc),
    ):
        text = theirs_in(instant.astimezone(timezone.utc).replace(tzinfo=None))
        assert ours_in(instant) == text
        assert ours_out(text) == instant == theirs_out(text).replace(tzinfo=timezone.utc)
    assert ours_in(None) is None and ours_out(None) is None
    with pytest.raises(ValueError):
        ours_in(datetime(2026, 11, 2, 9, 0))
