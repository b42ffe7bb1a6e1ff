"""Test 4: a database made by an older release (schema 0001) is migrated to the head revision
when opened, without manual steps, its data intact (on SQLite a backup of the old file is kept);
a database of a newer, unknown revision is refused and left as it is."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import bindparam, create_engine, text

from imtui.persistence.schema import HEAD, MIGRATIONS, REVISIONS, current_revision
from imtui.persistence.types import UTCDateTime
from tests.support.cli import InProcess
from tests.support.dbs import ON_POSTGRES, drop_db, fresh_db_url

NOW = datetime.now(timezone.utc).replace(microsecond=0)
APP_ID = 1400000007


def _url(db: str) -> str:
    return db if "://" in db else f"sqlite:///{db}"


def _at_0001(db: str) -> None:
    """Creates the schema of revision 0001 only and fills it like that release would have."""
    engine = create_engine(_url(db))
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
        ts = lambda name: bindparam(name, type_=UTCDateTime())  # noqa: E731
        with engine.begin() as conn:
            for key, value in (
                ("billing_tz", "Asia/Shanghai"),
                ("created_at", NOW.isoformat()),
                ("simulation", "0"),
                ("change_counter", "3"),
            ):
                conn.execute(text("INSERT INTO meta (key, value) VALUES (:k, :v)"), {"k": key, "v": value})
            conn.execute(
                text("INSERT INTO accounts (id, name, created_at) VALUES (1, 'acme', :at)").bindparams(ts("at")),
                {"at": NOW},
            )
            conn.execute(
                text(
                    "INSERT INTO apps (app_id, name, account_id, edition, live_groups, groups_per_user, "
                    "members_per_group, history_days, status, created_at, deactivated_at, purge_at, "
                    "halt_reason, version, updated_by) VALUES (:id, 'legacy-chat', 1, 'pro', 1000, 500, "
                    "2000, 30, 'active', :at, NULL, NULL, NULL, 2, 'alice')"
                ).bindparams(ts("at")),
                {"id": APP_ID, "at": NOW},
            )
            for kind, edition in (("create", "trial"), ("upgrade", "pro")):
                conn.execute(
                    text(
                        "INSERT INTO events (app_id, at, kind, edition, live_groups, groups_per_user, "
                        "members_per_group, history_days, status, actor) VALUES (:id, :at, :kind, :ed, "
                        "1000, 500, 2000, 30, 'active', 'alice')"
                    ).bindparams(ts("at")),
                    {"id": APP_ID, "at": NOW, "kind": kind, "ed": edition},
                )
            conn.execute(
                text(
                    "INSERT INTO audit (at, actor, action, app_id, result, detail) "
                    "VALUES (:at, 'alice', 'create', :id, 'done', 'created before the upgrade')"
                ).bindparams(ts("at")),
                {"id": APP_ID, "at": NOW},
            )
            conn.execute(
                text(
                    "INSERT INTO users (name, role, granted_at, granted_by) VALUES ('alice', 'admin', :at, 'alice')"
                ).bindparams(ts("at")),
                {"at": NOW},
            )
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()


def _rows(db: str) -> dict:
    engine = create_engine(_url(db))
    try:
        with engine.connect() as conn:
            return {
                "accounts": conn.execute(text("SELECT id, name FROM accounts")).all(),
                "apps": conn.execute(
                    text("SELECT app_id, name, edition, history_days, status, version, updated_by FROM apps")
                ).all(),
                "events": conn.execute(text("SELECT app_id, kind, edition, actor FROM events ORDER BY id")).all(),
                "users": conn.execute(text("SELECT name, role FROM users ORDER BY name")).all(),
                "audit": conn.execute(text("SELECT actor, action, result, detail FROM audit ORDER BY id")).all(),
                "meta": dict(conn.execute(text("SELECT key, value FROM meta")).all()),
                "version": conn.execute(text("SELECT version_num FROM alembic_version")).all(),
            }
    finally:
        engine.dispose()


@pytest.fixture
def db(tmp_path):
    url = fresh_db_url(tmp_path)
    yield url
    drop_db(url)


def test_revisions_list_every_migration_file():
    files = sorted(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert tuple(files) == REVISIONS
    assert HEAD == REVISIONS[-1] and HEAD != "0001"


def test_a_0001_database_is_migrated_on_open_with_its_data_intact(db, capsys):
    _at_0001(db)
    old = _rows(db)
    run = InProcess(capsys, db)
    apps = run.json("apps", "list")
    assert [(a["app_id"], a["name"], a["edition"], a["history_days"]) for a in apps] == [
        (APP_ID, "legacy-chat", "pro", 30)
    ]
    new = _rows(db)
    assert new["version"] == [(HEAD,)]
    for table in ("accounts", "apps", "events", "users", "audit"):
        assert new[table] == old[table], table
    for key in ("billing_tz", "created_at", "simulation"):
        assert new["meta"][key] == old["meta"][key], key
    # the migration's indexes exist (the point of 0002)
    engine = create_engine(_url(db))
    try:
        from sqlalchemy import inspect

        with engine.connect() as conn:
            names = {ix["name"] for ix in inspect(conn).get_indexes("audit")}
        assert "ix_audit_action_at" in names
    finally:
        engine.dispose()
    # and it keeps working: the show/audit reads see the old rows
    assert run.json("apps", "show", str(APP_ID))["name"] == "legacy-chat"
    assert any(a["detail"] == "created before the upgrade" for a in run.json("audit"))
    # opening again does not migrate again
    run.json("apps", "list")
    assert _rows(db)["version"] == [(HEAD,)]


@pytest.mark.skipif(ON_POSTGRES, reason="the backup file is SQLite's; runs in the SQLite pass")
def test_sqlite_keeps_a_valid_backup_of_the_old_file(db, capsys):
    _at_0001(db)
    InProcess(capsys, db).json("apps", "list")
    backup = Path(f"{db}.schema-0001.bak")
    assert backup.exists()
    conn = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        assert conn.execute("SELECT app_id, name FROM apps").fetchall() == [(APP_ID, "legacy-chat")]
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (2,)
        assert conn.execute("SELECT name, role FROM users").fetchall() == [("alice", "admin")]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "ix_audit_action_at" not in indexes
    finally:
        conn.close()


def test_a_database_of_an_unknown_newer_revision_is_refused_and_left_alone(db, capsys, tmp_path):
    run = InProcess(capsys, db)
    app = run.json("apps", "create", "chat", "--account", "acme")
    engine = create_engine(_url(db))
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    before = _rows(db)
    for argv in (("apps", "list"), ("apps", "create", "more", "--account", "acme"), ("users", "list")):
        r = run(*argv)
        assert r.rc == 1, r
        line = r.one_line_error()
        assert "9999" in line and HEAD in line and "upgrade imtui" in line, line
        assert r.out == ""
    after = _rows(db)
    assert after == before
    assert after["version"] == [("9999",)]
    assert [a[0] for a in after["apps"]] == [app["app_id"]]
    if not ON_POSTGRES:
        assert not list(Path(db).parent.glob("*.bak")), "no backup is made of a database left alone"
