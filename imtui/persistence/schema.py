"""Opening a database: migrate it to this release's schema (backing up SQLite files first)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from imtui.domain.errors import Unavailable
from imtui.persistence.engine import MIGRATION_LOCK

MIGRATIONS = Path(__file__).with_name("migrations")
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
"""Every migration in order; add each new file of `migrations/versions/` here."""
HEAD = REVISIONS[-1]


def backup(db: Path, revision: str) -> Path:
    """A consistent copy of a SQLite database (WAL included) before migrating it."""
    target = db.with_name(f"{db.name}.schema-{revision}.bak")
    try:  # the copy is as private as the database it copies
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(target, db.stat().st_mode & 0o777)
    except OSError:
        pass  # then sqlite3 below says what is wrong with the place
    source = sqlite3.connect(db)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    return target


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> bool:
    """Brings the schema to HEAD; returns whether anything ran. Cheap when already current."""
    revision = current_revision(engine)
    if revision == HEAD:
        return False
    if revision is not None and revision not in REVISIONS:
        raise Unavailable(
            f"the database has schema {revision}, newer than this imtui knows ({HEAD}); upgrade imtui to open it"
        )
    if revision is not None and engine.url.get_backend_name() == "sqlite":
        backup(Path(engine.url.database), revision)
    from alembic import command  # imported only when a migration is due: it is slow to load
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # another imtui may be migrating the same shared database right now: wait for it;
            # alembic then finds the schema current and does nothing (DDL is transactional)
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return True
