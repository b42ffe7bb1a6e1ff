"""The one engine factory, called from the entry point (never at import)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from imtui.domain.errors import Unavailable

BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another process's transaction before giving up."""

WRITE = "imtui_write"
"""Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE (on PostgreSQL:
take the writer lock, see `uow.UnitOfWork`)."""

WRITER_LOCK = 0x696D747569_01
"""PostgreSQL advisory lock every writing transaction holds: one writer at a time per database,
as SQLite's BEGIN IMMEDIATE gives, so read-check-write sequences stay correct in team mode."""

MIGRATION_LOCK = 0x696D747569_02
"""PostgreSQL advisory lock held while migrating, so two processes never migrate at once."""

CONNECT_TIMEOUT_S = 10
"""How long to wait for a PostgreSQL server to answer before saying it cannot be reached."""


def database_url(db: str) -> str:
    """A SQLAlchemy URL from a path or URL; checks a SQLite path can hold a database."""
    if "://" in db:
        try:
            make_url(db)
        except ArgumentError:
            raise Unavailable(f"{db!r} is not a database URL") from None
        return db
    path = Path(db).expanduser()
    if path.is_dir():
        raise Unavailable(f"cannot open database {path}: it is a directory")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Unavailable(f"cannot create the folder {parent} for the database: {exc.strerror}") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise Unavailable(f"cannot open database {path}: the file is not writable")
    if not path.exists() and not os.access(parent, os.W_OK):
        raise Unavailable(f"cannot create database {path}: the folder is not writable")
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise Unavailable(f"cannot open database {path}: the file is not a SQLite database")
    return f"sqlite:///{path}"


def make_engine(db: str) -> Engine:
    """Builds the engine; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE for writers."""
    url = database_url(db)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _configure_sqlite(engine)
    else:
        try:
            engine = create_engine(url, **_server_options(url))
        except ImportError as exc:
            raise Unavailable(
                f"the driver for {make_url(url).drivername} is not installed ({exc.name}); install imtui[postgres]"
            ) from None
    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _server_options(url: str) -> dict:
    """Pool settings for a database server shared by a team: connections are checked before use
    (a restarted server is not an error), recycled, and bounded per process."""
    options: dict = {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_timeout": 30,
        "pool_recycle": 1800,
    }
    if make_url(url).get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "imtui"}
    return options


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun explicitly below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get(WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
