"""Small helpers shared by the service tests (imported as a plain module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from imtui.domain.calendar import parse_instant
from imtui.persistence.engine import make_engine

TZ = "Asia/Shanghai"
FIRST_ID = 1_400_000_000


def at(text: str) -> datetime:
    """An instant; without an offset it is read in the billing zone (UTC+8)."""
    return parse_instant(text, TZ)


async def trail(services, app_id=None, limit=10_000):
    return await services.audit.trail(app_id=app_id, limit=limit)


async def count_audit(services, action=None, result=None, app_id=None) -> int:
    return sum(
        1
        for r in await trail(services, app_id)
        if (action is None or r.action == action) and (result is None or r.result == result)
    )


def sql(db_path: str, query: str, **params):
    """Reads the database directly, on a connection of its own (as another process would)."""
    engine = make_engine(db_path)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query), params)]
    finally:
        engine.dispose()


def money(value) -> str:
    """An amount as the contract prints it; also pins the Decimal's exponent."""
    return f"{value:.2f}"
