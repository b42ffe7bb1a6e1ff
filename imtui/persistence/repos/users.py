"""Who may do what: users with a role granted (everyone else is a viewer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from imtui.domain.roles import Grant
from imtui.persistence.repos import Repo
from imtui.persistence.tables import UserRole

_USERS = UserRole.__table__


class UserRepo(Repo):
    """Users and their roles (team mode)."""

    def role_of(self, name: str) -> str | None:
        return self.conn.execute(select(_USERS.c.role).where(_USERS.c.name == name)).scalar()

    def all(self) -> list[Grant]:
        rows = self.conn.execute(
            select(_USERS.c.name, _USERS.c.role, _USERS.c.granted_at, _USERS.c.granted_by).order_by(_USERS.c.name)
        )
        return [Grant(*row) for row in rows]

    def any(self) -> bool:
        return self.conn.execute(select(func.count()).select_from(_USERS)).scalar_one() > 0

    def set_role(self, name: str, role: str | None, at: datetime, by: str) -> None:
        """Grants `role` to `name`, or takes every grant away when `role` is None."""
        self.conn.execute(_USERS.delete().where(_USERS.c.name == name))
        if role is not None:
            self.conn.execute(_USERS.insert().values(name=name, role=role, granted_at=at, granted_by=by))
