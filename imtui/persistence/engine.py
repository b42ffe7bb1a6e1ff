"""The one engine factory, called from the entry point (never at import)."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

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


_USERINFO = re.compile(r"(?P<scheme>://)(?P<user>[^:/@\s'\"]*):(?P<password>[^\s'\"]*)@")
"""The user and password of a URL in a text (the password up to the last `@` of the word)."""


def _split_userinfo(db: str) -> tuple[str, str, str] | None:
    """A URL that SQLAlchemy cannot parse, by hand: (up to the user's colon, password, from the
    host's `@` on); the password runs to the last `@`, whatever it holds. None without one."""
    scheme, sep, rest = db.partition("://")
    at = rest.rfind("@")
    colon = rest.find(":", 0, at)
    if not sep or at < 0 or colon < 0:
        return None
    return scheme + sep + rest[: colon + 1], rest[colon + 1 : at], rest[at:]


def redacted_url(db: str) -> str:
    """The database as a message may show it: a URL's password replaced by `***` (parsed by
    SQLAlchemy where it can be, by hand where it cannot); a path as it is."""
    if "://" not in db:
        return db
    try:
        url = make_url(db)
    except Exception:  # noqa: BLE001  (malformed: masked by hand below)
        url = None
    if url is not None:
        return url.render_as_string(hide_password=True) if url.password is not None else db
    parts = _split_userinfo(db)
    return f"{parts[0]}***{parts[2]}" if parts else db


def url_password(db: str) -> str | None:
    """The password a database URL carries, if any (to keep it out of every message)."""
    if "://" not in db:
        return None
    try:
        password = make_url(db).password
    except Exception:  # noqa: BLE001  (malformed: found by hand)
        parts = _split_userinfo(db)
        password = parts[1] if parts else None
    return str(password) if password else None


def without_passwords(text: str, db: str | None = None) -> str:
    """`text` with the database URL `db` shown redacted and any other URL's password masked."""
    if db and "://" in db:
        text = text.replace(db, redacted_url(db))
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


def database_url(db: str) -> str:
    """A SQLAlchemy URL from a path or URL; checks a SQLite path can hold a database. A SQLite
    file imtui makes is its creator's alone (mode 600, and so are its -wal and -shm: SQLite gives
    them the database's mode), in a folder of mode 700 when imtui makes that too."""
    if "://" in db:
        try:
            url = make_url(db)
        except (ArgumentError, ValueError, TypeError):  # TypeError, ValueError: e.g. a port that is not a number
            raise Unavailable(f"{redacted_url(db)!r} is not a database URL") from None
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            _sqlite_file(Path(url.database))  # a file named by URL is made private too
        return db
    return f"sqlite:///{_sqlite_file(Path(db).expanduser())}"


def _sqlite_file(path: Path) -> Path:
    """Checks a SQLite path can hold a database, making the file (mode 600) when it is new."""
    if path.is_dir():
        raise Unavailable(f"cannot open database {path}: it is a directory")
    parent = path.parent
    try:
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
    if not path.exists():
        try:  # an empty file is a new database to SQLite; made here, it is made private
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # another process made it a moment ago
        except OSError as exc:
            raise Unavailable(f"cannot create database {path}: {exc.strerror}") from None
    return path


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
        except NoSuchModuleError:
            raise Unavailable(f"{redacted_url(db)!r} names a database imtui cannot use (no such driver)") from None
        except (ArgumentError, ValueError, TypeError):  # e.g. a port that is not a number
            raise Unavailable(f"{redacted_url(db)!r} is not a usable database URL") from None
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
