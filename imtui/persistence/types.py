"""Column types: instants stored timezone-aware in UTC, and naive datetimes refused."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

UTC = timezone.utc


def aware(value: datetime | str) -> datetime:
    """An instant as the driver hands it back (SQLite: UTC text; PostgreSQL: aware), made aware
    (for reads that bypass the column type for speed)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")  # a few times quicker than .replace()
        except ValueError:
            value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator):
    """A `timestamptz` on PostgreSQL, a UTC text timestamp on SQLite; always aware on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """PostgreSQL's bound value (SQLite's is `bind_processor`'s)."""
        return None if value is None else _utc(value)

    def bind_processor(self, dialect):
        """On SQLite, the text SQLAlchemy's own DATETIME writes (`YYYY-MM-DD HH:MM:SS.ffffff`,
        UTC), made in one C call (`isoformat`) where SQLAlchemy formats each field in Python: the
        demo and bulk halts bind instants by the million. `tests/persistence` holds it equal to SQLAlchemy's."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return lambda value: None if value is None else _sqlite_text(value)

    def result_processor(self, dialect, coltype):
        """On SQLite, UTC text read straight into an aware instant (see `aware`)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return lambda value: None if value is None else aware(value)

    def process_result_value(self, value, dialect):
        """PostgreSQL's value read (SQLite's is `result_processor`'s)."""
        return None if value is None else aware(value)


@lru_cache(maxsize=256)
def _sqlite_text(value: datetime) -> str:
    """SQLite's text of an instant (remembered: a bulk writes the same few instants thousands of
    times, in its apps, events, audit records and intents)."""
    return _utc(value).isoformat(" ", "microseconds")[:-6]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("refusing a naive datetime: store instants with their time zone")
    return value.astimezone(UTC)
