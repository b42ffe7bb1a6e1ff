"""Intents: written before the control plane is asked, settled with the change they lead to."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime

from sqlalchemy import func, select, update

from imtui.domain.intents import PENDING, Intent
from imtui.persistence.repos import Repo, chunks
from imtui.persistence.tables import IntentRow

_INTENTS = IntentRow.__table__
_FIELDS = tuple(f.name for f in fields(Intent))


class IntentRepo(Repo):
    """Intents: written, claimed by a process, settled."""

    def add_many(self, intents: list[Intent]) -> None:
        self.insert_rows(_INTENTS, [{f: getattr(i, f) for f in _FIELDS} for i in intents])

    def pending(self) -> list[Intent]:
        """Every unsettled intent, oldest first."""
        stmt = select(*(_INTENTS.c[f] for f in _FIELDS)).where(_INTENTS.c.state == PENDING)
        return [Intent(*row) for row in self.conn.execute(stmt.order_by(_INTENTS.c.requested_at, _INTENTS.c.key))]

    def pending_count(self) -> int:
        return self.conn.execute(select(func.count()).where(_INTENTS.c.state == PENDING)).scalar_one()

    def pending_apps(self) -> set[int]:
        return set(self.conn.execute(select(_INTENTS.c.app_id).where(_INTENTS.c.state == PENDING)).scalars())

    def claim(self, intents: list[Intent], owner: str, lease_until: datetime) -> list[Intent]:
        """Takes pending intents over from their owners; returns those it got (another process
        may have taken some first)."""
        by_owner: dict[str, list[str]] = {}
        for i in intents:
            by_owner.setdefault(i.owner, []).append(i.key)
        got: set[str] = set()
        for old, keys in by_owner.items():
            for part in chunks(keys):
                rows = self.conn.execute(
                    update(_INTENTS)
                    .where(_INTENTS.c.key.in_(part), _INTENTS.c.owner == old, _INTENTS.c.state == PENDING)
                    .values(owner=owner, lease_until=lease_until)
                    .returning(_INTENTS.c.key)
                )
                got.update(rows.scalars())
        return [replace(i, owner=owner, lease_until=lease_until) for i in intents if i.key in got]

    def renew(self, owner: str, lease_until: datetime) -> None:
        self.conn.execute(
            update(_INTENTS)
            .where(_INTENTS.c.owner == owner, _INTENTS.c.state == PENDING)
            .values(lease_until=lease_until)
        )

    def settle(self, keys: list[str], state: str, at: datetime) -> None:
        """Marks pending intents settled (`done`, `failed` or `abandoned`)."""
        for part in chunks(keys):
            self.conn.execute(
                update(_INTENTS)
                .where(_INTENTS.c.key.in_(part), _INTENTS.c.state == PENDING)
                .values(state=state, settled_at=at)
            )
