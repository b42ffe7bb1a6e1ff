"""An open database: the engine, its schema and its units of work. Nothing outside persistence
holds the engine; the rest of imtui sees this object."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import DBAPIError

from imtui.persistence.engine import is_postgres, make_engine
from imtui.persistence.identity import database_user, server_time
from imtui.persistence.schema import migrate
from imtui.persistence.uow import UnitOfWork, translate_db_error


class Database:
    """One open database (SQLite file or server): migrating it and opening units of work on it."""

    def __init__(self, db: str):
        """Opens (does not yet migrate) the SQLite file or SQLAlchemy URL `db`."""
        self._engine = make_engine(db)

    @property
    def team(self) -> bool:
        """Whether this is a shared server database (PostgreSQL, team mode)."""
        return is_postgres(self._engine)

    def uow(self, write: bool = False) -> UnitOfWork:
        return UnitOfWork(self._engine, write=write)

    def migrate(self) -> bool:
        """Brings the schema to this release's; returns whether anything ran."""
        return self._guarded(lambda: migrate(self._engine))

    def login_user(self) -> str:
        """The database user this connection is logged in as (PostgreSQL's `current_user`)."""
        return self._guarded(lambda: database_user(self._engine))

    def server_time(self) -> datetime:
        """The database server's clock right now."""
        return self._guarded(lambda: server_time(self._engine))

    def close(self) -> None:
        self._engine.dispose()

    @staticmethod
    def _guarded(fn):
        try:
            return fn()
        except DBAPIError as exc:
            raise translate_db_error(exc) from None
