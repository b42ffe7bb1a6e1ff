"""The audit trail: one entry per operation, done or refused, never changed afterwards."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import select

from imtui.domain.audit import AuditEntry
from imtui.persistence.repos import Repo
from imtui.persistence.tables import AuditRecord

_AUDIT = AuditRecord.__table__
_FIELDS = tuple(f.name for f in fields(AuditEntry))


class AuditRepo(Repo):
    """The audit trail: entries appended, read newest first."""

    def add(self, entry: AuditEntry) -> None:
        self.add_many([entry])

    def add_many(self, entries: list[AuditEntry]) -> None:
        self.insert_rows(_AUDIT, [{f: getattr(e, f) for f in _FIELDS} for e in entries])

    def trail(self, app_id: int | None, limit: int, offset: int = 0) -> list[AuditEntry]:
        """Newest first, optionally of one app."""
        stmt = select(*(_AUDIT.c[f] for f in _FIELDS)).order_by(_AUDIT.c.at.desc(), _AUDIT.c.id.desc())
        if app_id is not None:
            stmt = stmt.where(_AUDIT.c.app_id == app_id)
        return [AuditEntry(*row) for row in self.conn.execute(stmt.offset(offset).limit(limit))]
