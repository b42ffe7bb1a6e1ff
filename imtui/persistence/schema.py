"""Opening a database: migrate it to this release's schema (backing up SQLite files first)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from imtui.persistence.engine import MIGRATION_LOCK

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0001"
"""The newest migration; bump it with every new file in `migrations/versions/`."""


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
    if revision is not None and engine.url.get_backend_name() == "sqlite":
        db = Path(engine.url.database)
        shutil.copy2(db, db.with_name(f"{db.name}.before-{HEAD}.bak"))
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
