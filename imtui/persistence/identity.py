"""What only the database server knows in team mode: who we are logged in as, and its clock."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.engine import Engine


def database_user(engine: Engine) -> str:
    """The role this connection is logged in as (`current_user`): the actor on PostgreSQL."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_user")).scalar_one()


def server_time(engine: Engine) -> datetime:
    """The database server's clock right now (`clock_timestamp()`, not the transaction's start)."""
    with engine.connect() as conn:
        value = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    if value.tzinfo is None:  # timestamptz always comes back aware; be strict anyway
        raise ValueError("the database server returned a time without a time zone")
    return value.astimezone(timezone.utc)
