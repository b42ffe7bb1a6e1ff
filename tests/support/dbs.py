"""Which database the tests run on: a SQLite file per test (default), or a fresh PostgreSQL
database per test when `IMTUI_TEST_DB_URL` names a server where the test role may create
databases (`scripts/postgres` prints such a URL; `scripts/test` sets it for the second run).

    url = fresh_db_url(tmp_path)   # a SQLite path, or the URL of a new PostgreSQL database
    ...
    drop_db(url)                   # no-op for SQLite; DROP DATABASE ... WITH (FORCE) otherwise
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ENV = "IMTUI_TEST_DB_URL"
PREFIX = "imtui_t_"
_PASSFILE: list[str] = []
"""This process's libpq password file, made on first use (PGPASSFILE names it)."""


def remember_password(url: str) -> str:
    """The URL without its password, which goes to a libpq password file (mode 600) that this
    process and the imtui processes it starts read through PGPASSFILE, as the README advises:
    a password in `--db` is visible in the process list, and imtui warns of it on every run."""
    import atexit
    import tempfile

    u = make_url(url)
    if u.password is None:
        return url
    if not _PASSFILE:
        fd, path = tempfile.mkstemp(prefix="imtui-pgpass-")  # mode 600, as libpq requires
        os.close(fd)
        _PASSFILE.append(path)
        atexit.register(lambda: os.path.exists(path) and os.unlink(path))
    os.environ["PGPASSFILE"] = _PASSFILE[0]

    def field(value: str) -> str:
        return value.replace("\\", "\\\\").replace(":", "\\:")

    with open(_PASSFILE[0], "a", encoding="utf-8") as fh:
        fh.write(f"*:*:*:{field(u.username or '')}:{field(str(u.password))}\n")
    return u._replace(password=None).render_as_string(hide_password=False)  # set() keeps a None


TEST_DB_URL = remember_password(os.environ[ENV]) if os.environ.get(ENV) else None
ON_POSTGRES = TEST_DB_URL is not None

sqlite_only = pytest.mark.skipif(
    ON_POSTGRES, reason=f"inspects a SQLite file directly; runs in the SQLite pass ({ENV} unset)"
)
"""For the few tests that are about the SQLite file itself (paths, WAL, backups)."""


def _libpq(url: str, database: str | None = None) -> str:
    """A SQLAlchemy URL as a libpq connection string psycopg accepts."""
    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def _admin():
    import psycopg

    return psycopg.connect(_libpq(TEST_DB_URL), autocommit=True, connect_timeout=10)


def fresh_db_url(tmp_path: Path, name: str = "imtui.db") -> str:
    """A database nobody has used: `tmp_path/name` on SQLite, a new database on PostgreSQL."""
    if not ON_POSTGRES:
        return str(Path(tmp_path) / name)
    dbname = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return make_url(TEST_DB_URL).set(database=dbname).render_as_string(hide_password=False)


_templates: dict[str, str] = {}
"""This process's migrated template database (SQLite file or PostgreSQL database), made once."""


def _migrated_template() -> str:
    if "t" in _templates:
        return _templates["t"]
    import atexit
    import tempfile

    from imtui.persistence.database import Database

    if ON_POSTGRES:
        url = fresh_db_url(Path(tempfile.gettempdir()))
        atexit.register(drop_db, url)
    else:
        folder = Path(tempfile.mkdtemp(prefix="imtui-template-"))
        url = str(folder / "template.db")
        atexit.register(__import__("shutil").rmtree, folder, True)
    db = Database(url)
    try:
        db.migrate()
    finally:
        db.close()
    _templates["t"] = url
    return url


def migrated_db_url(tmp_path: Path, name: str = "imtui.db") -> str:
    """Like `fresh_db_url`, with this release's schema already in it (nothing else: no creation
    instant, no users), copied from a template migrated once per process: opening it is what
    opening a new database is, without running the migrations every time."""
    return clone_db(_migrated_template(), tmp_path, name)


def drop_db(url: str) -> None:
    """Drops a database made by `fresh_db_url` (closing whatever is still connected to it)."""
    if "://" not in url or not make_url(url).get_backend_name().startswith("postgresql"):
        return
    dbname = make_url(url).database
    if not dbname or not dbname.startswith(PREFIX):
        raise ValueError(f"refusing to drop {dbname!r}: not made by tests/support/dbs.py")
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def clone_db(template: str, tmp_path: Path, name: str = "imtui.db") -> str:
    """A copy of a finished database (no process may be using it): a file copy on SQLite, a
    `CREATE DATABASE ... TEMPLATE` on PostgreSQL. Much quicker than building the same again."""
    if not ON_POSTGRES:
        import shutil

        target = Path(tmp_path) / name
        for suffix in ("", "-wal", "-shm"):
            if Path(template + suffix).exists():
                shutil.copyfile(template + suffix, str(target) + suffix)
        return str(target)
    dbname = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{make_url(template).database}"')
    return make_url(TEST_DB_URL).set(database=dbname).render_as_string(hide_password=False)
