"""Helpers for tests that call the service layer directly: instants, the audit trail, raw reads,
and services opened on a test database with a fixed clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from imtui.bootstrap import open_services
from imtui.config import Settings
from imtui.domain.calendar import parse_instant
from imtui.persistence.engine import make_engine
from imtui.services.face import Services

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


def open_test_services(db: str, clock, cp=None, actor: str = "tester", read_only: bool = False, **settings) -> Services:
    """Services on `db` at `clock`'s instants, with the in-process control plane `cp`."""
    return open_services(Settings(db=db, read_only=read_only, **settings), clock, control_plane=cp, actor=actor)
