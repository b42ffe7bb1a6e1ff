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
    def postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"
