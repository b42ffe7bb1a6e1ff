"""Repositories by subject, hung on the unit of work (`uow.apps`, `uow.bills`, ...).

Each takes the unit of work's connection and returns domain values or plain read models: never
ORM rows, statements or live results.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Executable, Select, Table
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
        """The driver's placeholder for a bound value (the bulk writes below build their SQL)."""
        return "?" if self.conn.dialect.paramstyle == "qmark" else "%s"

    def marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)

    def driver_rows(self, stmt: Executable) -> list[tuple]:
        """The rows of a statement as the driver's plain tuples: for reads of the whole fleet,
        several times faster than SQLAlchemy's row objects. The statement itself is SQLAlchemy's
        (names from tables.py, values through their column types, compiled once and cached);
        only its rows skip the result's processing, so the caller converts instants (`aware`)."""
        result = self.conn.execute(stmt)
        try:
            return result.cursor.fetchall()
        finally:
            result.close()

    def driver_batches(self, stmt: Executable, size: int = 1_000) -> Iterator[list[tuple]]:
        """`driver_rows` a batch at a time: a reader that turns rows into something smaller as
        it goes never holds all of them at once (a small batch keeps the memory peak small)."""
        result = self.conn.execute(stmt)
        try:
            while rows := result.cursor.fetchmany(size):
                yield rows
        finally:
            result.close()

    def driver_rows_in(self, stmt: Select, column: ColumnElement, values: Sequence) -> list[tuple]:
        """`driver_rows` of `stmt` where `column` is one of `values`, read in chunks."""
        rows: list[tuple] = []
        for part in chunks(values):
            rows += self.driver_rows(stmt.where(column.in_(part)))
        return rows

    def insert_rows(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Rows (all with the same columns) written in bulk through the driver: each value goes
        through its column type's own bind processor, as SQLAlchemy would send it, without the
        per-row statement work that makes SQLAlchemy's bulk insert several times slower."""
        if not rows:
            return
        columns = list(rows[0])
        quote = self.conn.dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({self.marks(len(columns))})"
        )
        data = self._bound(table, columns, [[r[c] for r in rows] for c in columns])
        for part in chunks(data, INSERT_CHUNK):
            self.conn.exec_driver_sql(sql, list(part))

    def upsert_rows(self, table: Table, columns: Sequence[str], key: Sequence[str], rows: list[tuple]) -> None:
        """Rows (the values of `columns`, in order) written in bulk through the driver, like
        `insert_rows`, each replacing the stored row with the same `key` columns: one statement
        both PostgreSQL and SQLite take (`ON CONFLICT ... DO UPDATE`)."""
        if not rows:
            return
        quote = self.conn.dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({self.marks(len(columns))}) ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET "
            + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in key)
        )
        for part in chunks(self._bound(table, columns, list(zip(*rows))), INSERT_CHUNK):
            self.conn.exec_driver_sql(sql, list(part))

    def update_rows(self, table: Table, columns: Sequence[str], where: Sequence[str], rows: list[tuple]) -> None:
        """Rows updated in bulk through the driver, like `insert_rows`: each row holds the values
        of `columns` to set, then those of the `where` columns that pick the row (equality)."""
        if not rows:
            return
        quote = self.conn.dialect.identifier_preparer.quote
        sql = (
            f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(c)} = {self.mark}' for c in columns)} "
            f"WHERE {' AND '.join(f'{quote(c)} = {self.mark}' for c in where)}"
        )
        self.conn.exec_driver_sql(sql, self._bound(table, [*columns, *where], list(zip(*rows))))

    def _bound(self, table: Table, columns: Sequence[str], values: Sequence[Sequence]) -> list[tuple]:
        """Rows of driver values from each column's values (in `columns` order), every value
        through its column type's bind processor."""
        dialect = self.conn.dialect
        bind = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        return list(zip(*(v if p is None else list(map(p, v)) for v, p in zip(values, bind))))

    @property
    def postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"
