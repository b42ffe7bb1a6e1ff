"""Bulk inserts that give rows their ids themselves (the demo fleet)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def ids_inserted(conn: Connection, *tables: str) -> None:
    """After inserting rows with explicit `id`s: moves PostgreSQL's id sequences past them, so
    the next ordinary insert does not collide (SQLite takes max(id) + 1 by itself)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        )
