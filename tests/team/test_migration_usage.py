"""A database made by the release before usage (schema 0002: `imtui demo` and a few changes, in
tests/data/main-0002.sqlite, made with that release's own `imtui`) opens with this one: migrated
to the head revision on open, every app, bill and audit record kept, and usage usable at once.
On PostgreSQL the same rows are loaded into a 0002 schema first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text

from imtui.persistence.schema import HEAD, MIGRATIONS
from tests.support.cli import run_inprocess
from tests.support.dbs import ON_POSTGRES, drop_db, fresh_db_url

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "main-0002.sqlite"
NOW = "2026-12-02T09:00:00+08:00"
"""After the fixture's last step (it issued November at 00:00 on Dec 1), before anything is due."""
TABLES = ("meta", "accounts", "users", "apps", "events", "item_changes", "month_closes", "bills", "bill_lines", "audit")
UPGRADED = 1400000120
"""The fixture's own app: created trial, upgraded to pro on 2026-11-21 10:05, halted, reactivated."""


def _url(db: str) -> str:
    return db if "://" in db else f"sqlite:///{db}"


def _snapshot(db: str) -> dict[str, list]:
    engine = create_engine(_url(db))
    try:
        with engine.connect() as conn:
            out = {}
            for table in TABLES:
                rows = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
                out[table] = sorted((tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows), key=repr)
            return out
    finally:
        engine.dispose()


def _load_into_postgres(url: str) -> None:
    """The fixture's rows in a PostgreSQL database at schema 0002, as that release would have them."""
    engine = create_engine(url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
        source = create_engine(f"sqlite:///{FIXTURE}")
        try:
            tables = MetaData()
            tables.reflect(bind=engine)
            with source.connect() as read, engine.begin() as write:
                for name in TABLES:
                    rows = [dict(r) for r in read.execute(text(f"SELECT * FROM {name}")).mappings()]
                    if rows:
                        write.execute(tables.tables[name].insert(), rows)
                # the fixture's admin is an OS login; here the actor is the database user
                write.execute(
                    text(
                        "INSERT INTO users (name, role, granted_at, granted_by) "
                        "VALUES (current_user, 'admin', now(), 'the test') ON CONFLICT DO NOTHING"
                    )
                )
                for name in ("accounts", "events", "bills", "bill_lines", "audit"):
                    write.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                    )
        finally:
            source.dispose()
    finally:
        engine.dispose()


@pytest.fixture
def old_db(tmp_path):
    if ON_POSTGRES:
        url = fresh_db_url(tmp_path)
        _load_into_postgres(url)
        yield url
        drop_db(url)
    else:
        path = tmp_path / "imtui.db"
        shutil.copy(FIXTURE, path)
        yield str(path)


def test_the_release_before_usage_opens_with_every_record_kept(old_db):
    before = _snapshot(old_db)
    apps = run_inprocess("--db", old_db, "--now", NOW, "apps", "list", "--format", "json").ok().json
    assert len(apps) == 121
    after = _snapshot(old_db)
    assert after["audit"] == before["audit"]  # opening carried out nothing: nothing was due
    for table in TABLES:
        if table not in ("apps", "meta"):
            assert after[table] == before[table], table
    engine = create_engine(_url(old_db))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
            assert conn.execute(text("SELECT count(*) FROM apps")).scalar() == 121
            # when each app left trial is filled in from its history
            upgraded_events = conn.execute(
                text("SELECT min(at) FROM events WHERE app_id = :a AND edition <> 'trial'"), {"a": UPGRADED}
            ).scalar()
            paid = conn.execute(text("SELECT paid_since FROM apps WHERE app_id = :a"), {"a": UPGRADED}).scalar()
            assert str(paid)[:16] == str(upgraded_events)[:16]
            trial_paid = conn.execute(
                text("SELECT count(*) FROM apps WHERE edition = 'trial' AND paid_since IS NOT NULL")
            ).scalar()
            assert trial_paid == 0
            # months issued before keep their issue; they count as drafted too
            assert conn.execute(text("SELECT count(*) FROM month_drafts")).scalar() == 4
    finally:
        engine.dispose()
    # the bills of every finished month read exactly as before
    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        bill = run_inprocess("--db", old_db, "--now", NOW, "bills", "--month", month, "--format", "json").ok().json
        assert bill["state"] == "issued", month
    nov = run_inprocess("--db", old_db, "--now", NOW, "bills", "--month", "2026-11", "--format", "json").ok().json
    assert nov["total"] == "68248.41"
    if not ON_POSTGRES:
        assert Path(f"{old_db}.schema-0002.bak").exists()


def test_usage_can_be_imported_into_the_migrated_database_at_once(old_db, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(
        "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n"
        f"2026-12-01,{UPGRADED},25000,10,1,1,1\n"
    )
    r = run_inprocess("--db", old_db, "--now", NOW, "usage", "import", str(path), "--format", "json").ok()
    assert r.json["inserted"] == 1
    bill = run_inprocess("--db", old_db, "--now", NOW, "bills", "--app", str(UPGRADED), "--format", "json").ok().json
    (line,) = [ln for ln in bill["accounts"][0]["apps"][0]["lines"] if ln["item"] == "dau_overage"]
    assert (line["setting"], line["amount"]) == ("25000", "899.98")
