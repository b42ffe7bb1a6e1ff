"""The unit of work: the one owner of a transaction. It rolls back unless committed."""

from __future__ import annotations

import sqlite3

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from imtui.domain.errors import Unavailable
from imtui.persistence.engine import WRITE


class UnitOfWork:
    """`with UnitOfWork(engine, write=True) as uow: ...; uow.commit()`."""

    def __init__(self, engine: Engine, write: bool = False):
        self._engine = engine.execution_options(**{WRITE: True}) if write else engine
        self.write = write
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self._engine, expire_on_commit=False)
        try:
            self.session.connection()  # begins now: a writer takes SQLite's lock up front
        except OperationalError as exc:
            self.session.close()
            raise translate_db_error(exc) from None
        return self

    def commit(self) -> None:
        self.session.commit()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.session.rollback()
        self.session.close()


def translate_db_error(exc: DBAPIError) -> Exception:
    """A database failure as a one-line user error."""
    orig = getattr(exc, "orig", exc)
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if isinstance(orig, sqlite3.OperationalError) and "locked" in text:
        return Unavailable(
            "the database is busy with another imtui process's change; try again in a moment"
        )
    if "not a database" in text:
        return Unavailable("the database file is not a SQLite database")
    return Unavailable(f"the database failed: {text}")
