"""The unit of work: the one owner of a transaction, with the repositories hung on it.

    with db.uow(write=True) as uow:
        app = uow.apps.get(app_id)
        ...
        uow.commit()

It rolls back unless committed, and turns every database failure into a one-line user error.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from imtui.domain.errors import Conflict, ImtuiError, PermissionDenied, Unavailable
from imtui.persistence.engine import BUSY_TIMEOUT_MS, WRITE, WRITER_LOCK
from imtui.persistence.repos.accounts import AccountRepo
from imtui.persistence.repos.apps import AppRepo
from imtui.persistence.repos.audit import AuditRepo
from imtui.persistence.repos.bills import BillRepo
from imtui.persistence.repos.budgets import BudgetRepo
from imtui.persistence.repos.history import HistoryRepo, LockRepo
from imtui.persistence.repos.intents import IntentRepo
from imtui.persistence.repos.meta import MetaRepo
from imtui.persistence.repos.notifications import NotificationRepo
from imtui.persistence.repos.plans import PlanRepo
from imtui.persistence.repos.signals import SignalRepo
from imtui.persistence.repos.usage import UsageRepo
from imtui.persistence.repos.users import UserRepo

BUSY = "the database is busy with another imtui process's change; try again in a moment"


class UnitOfWork:
    """One transaction and its repositories.

    A writer holds the database's one write lock for the whole transaction (SQLite: BEGIN
    IMMEDIATE; PostgreSQL: a transaction-level advisory lock, waiting at most as long as SQLite's
    busy timeout). A reader on PostgreSQL sees one snapshot (REPEATABLE READ), as in SQLite's WAL.
    """

    meta: MetaRepo
    accounts: AccountRepo
    apps: AppRepo
    history: HistoryRepo
    locks: LockRepo
    bills: BillRepo
    audit: AuditRepo
    users: UserRepo
    usage: UsageRepo
    plans: PlanRepo
    intents: IntentRepo
    budgets: BudgetRepo
    notifications: NotificationRepo
    signals: SignalRepo

    def __init__(self, engine: Engine, write: bool = False):
        self._postgres = engine.dialect.name == "postgresql"
        if write:
            engine = engine.execution_options(**{WRITE: True})
        elif self._postgres:
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        self._engine = engine
        self.write = write
        self._conn: Connection | None = None

    def __enter__(self) -> UnitOfWork:
        try:
            conn = self._conn = self._engine.connect()
            conn.begin()  # begins now: a writer takes the lock up front
            if self.write and self._postgres:
                conn.execute(text(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}"))
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})
        except DBAPIError as exc:
            self._close()
            raise translate_db_error(exc) from None
        self.meta = MetaRepo(conn)
        self.accounts = AccountRepo(conn)
        self.apps = AppRepo(conn)
        self.history = HistoryRepo(conn)
        self.locks = LockRepo(conn)
        self.bills = BillRepo(conn)
        self.audit = AuditRepo(conn)
        self.users = UserRepo(conn)
        self.usage = UsageRepo(conn)
        self.plans = PlanRepo(conn)
        self.intents = IntentRepo(conn)
        self.budgets = BudgetRepo(conn)
        self.notifications = NotificationRepo(conn)
        self.signals = SignalRepo(conn)
        return self

    def commit(self) -> None:
        try:
            self._conn.commit()
        except DBAPIError as exc:
            raise translate_db_error(exc) from None

    def ids_inserted(self, *tables: str) -> None:
        """After inserting rows with explicit ids: moves PostgreSQL's id sequences past them, so
        the next ordinary insert does not collide (SQLite takes max(id) + 1 by itself)."""
        if not self._postgres:
            return
        for table in tables:
            self._conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
            )

    def __exit__(self, _exc_type, exc, _tb) -> None:
        self._close()
        if isinstance(exc, DBAPIError):
            raise translate_db_error(exc) from None

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.rollback()
                self._conn.close()
            except DBAPIError:
                self._conn.invalidate()
            self._conn = None


# PostgreSQL error classes (SQLSTATE) that have a plain explanation.
_CONFLICT = {"40001", "40P01"}  # serialization failure, deadlock
_BUSY = {"55P03", "57014"}  # lock not available (lock_timeout), statement cancelled (timeout)
_LOGIN = {"28000", "28P01"}  # invalid authorization, wrong password
_GONE = {"57P01", "57P02", "57P03"}  # server shutting down, crash, cannot connect now


def translate_db_error(exc: DBAPIError) -> ImtuiError:
    """A database failure as a one-line user error."""
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig).strip()
    first = text_.splitlines()[0].strip() if text_ else type(orig).__name__
    if isinstance(orig, sqlite3.OperationalError) and "locked" in first:
        return Unavailable(BUSY)
    if "not a database" in first:
        return Unavailable("the database file is not a SQLite database")
    state = getattr(orig, "sqlstate", None)
    if state is None and type(orig).__module__.startswith("psycopg"):
        return _unreachable(first)
    if state is None:
        return Unavailable(f"the database failed: {first}")
    return _by_sqlstate(state, exc, first)


def _by_sqlstate(state: str, exc: DBAPIError, first: str) -> ImtuiError:
    """A PostgreSQL failure by its SQLSTATE (`first`: the first line of its message)."""
    if state in _CONFLICT:
        return Conflict("someone else changed the same data at the same moment; nothing was changed; try again")
    if state == "23505" or isinstance(exc, IntegrityError) and state.startswith("23"):
        return Conflict(
            f"someone else made the same change at the same moment; nothing was changed; try again ({first})"
        )
    if state in _BUSY:
        return Unavailable(BUSY)
    if state in _LOGIN:
        return Unavailable(f"the PostgreSQL server refused the login: {_strip(first)}")
    if state == "3D000":
        return Unavailable(f"the PostgreSQL database does not exist: {_strip(first)}")
    if state == "42501":
        return PermissionDenied(f"the database user may not do this: {_strip(first)}")
    if state in _GONE or state.startswith("08"):
        return _unreachable(first)
    return Unavailable(f"the database failed: {first}")


def _strip(message: str) -> str:
    """psycopg's connection errors start with `connection failed: connection to server at … failed:`."""
    if message.startswith("connection failed: "):
        message = message[len("connection failed: ") :]
    if message.startswith("connection to server") and "failed: " in message:
        message = message.split("failed: ", 1)[1]
    return message.strip()


def _unreachable(message: str) -> Unavailable:
    where = ""
    if message.startswith("connection failed: "):
        message = message[len("connection failed: ") :]
    if message.startswith("connection to server") and " failed: " in message:
        where, message = message.split(" failed: ", 1)
        where = " " + where[len("connection to server ") :]
    message = message.strip()
    if message.startswith("FATAL:"):
        message = message[len("FATAL:") :].strip()
    if "password authentication failed" in message or "no password supplied" in message:
        return Unavailable(f"the database server{where} refused the login: {message}")
    if message.startswith("database ") and message.endswith("does not exist"):
        return Unavailable(f"the database server{where} has no such database: {message}")
    return Unavailable(f"cannot reach the database server{where}: {message}")
