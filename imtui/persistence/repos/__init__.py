"""Repositories by subject, hung on the unit of work (`uow.apps`, `uow.bills`, ...).

Each takes the unit of work's connection and returns domain values or plain read models: never
ORM rows, statements or live results.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from sqlalchemy.engine import Connection

T = TypeVar("T")

IN_CHUNK = 900
"""Most values one `IN (...)` list carries (SQLite allows 999 bound parameters a statement)."""
INSERT_CHUNK = 5000
"""Rows one multi-row INSERT carries."""


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Repo:
    """A repository over the unit of work's connection."""

    def __init__(self, conn: Connection):
        self.conn = conn

    @property
    def mark(self) -> str:
        """The driver's placeholder for a bound value in hand-written SQL."""
        return "?" if self.conn.dialect.paramstyle == "qmark" else "%s"

    def marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)

    def driver_rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """The rows of hand-written SQL as the driver's plain tuples: for reads of the whole
        fleet, several times faster than SQLAlchemy's row objects (failures still go through
        SQLAlchemy, so the unit of work explains them)."""
        result = self.conn.exec_driver_sql(sql, tuple(params))
        try:
            return result.cursor.fetchall()
        finally:
            result.close()

    def driver_batches(self, sql: str, params: Sequence = (), size: int = 1_000) -> Iterator[list[tuple]]:
        """`driver_rows` a batch at a time: a reader that turns rows into something smaller as
        it goes never holds all of them at once (a small batch keeps the memory peak small)."""
        result = self.conn.exec_driver_sql(sql, tuple(params))
        try:
            while rows := result.cursor.fetchmany(size):
                yield rows
        finally:
            result.close()

    def driver_rows_in(self, sql: str, params: Sequence, column: str, values: Sequence) -> list[tuple]:
        """`driver_rows` of `sql AND column IN (values)`, in chunks."""
        rows: list[tuple] = []
        for part in chunks(values):
            rows += self.driver_rows(f"{sql} AND {column} IN ({self.marks(len(part))})", (*params, *part))
        return rows

    @property
    def postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"
