"""Small helpers shared by the service tests (imported as a plain module)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from imtui.domain.calendar import parse_instant

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


def sql(db_path: str, query: str, *args):
    """Reads the database file directly (as another process would)."""
    con = sqlite3.connect(db_path)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def money(value) -> str:
    """An amount as the contract prints it; also pins the Decimal's exponent."""
    return f"{value:.2f}"
