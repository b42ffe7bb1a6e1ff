"""Accounts: the customers that own apps and receive one bill a month."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from imtui.domain.lifecycle import PURGED
from imtui.persistence.repos import Repo
from imtui.persistence.tables import Account, App

_ACCOUNTS = Account.__table__
_APPS = App.__table__


class AccountRepo(Repo):
    """Accounts by name, created on first use."""

    def find(self, name: str) -> int | None:
        """The account's id, or None."""
        return self.conn.execute(select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.name == name)).scalar()

    def ensure(self, name: str, at: datetime) -> int:
        """The account's id, creating the account (at `at`) on first use."""
        found = self.find(name)
        if found is not None:
            return found
        return self.conn.execute(
            _ACCOUNTS.insert().values(name=name, created_at=at).returning(_ACCOUNTS.c.id)
        ).scalar_one()

    def names(self) -> dict[int, str]:
        return dict(self.conn.execute(select(_ACCOUNTS.c.id, _ACCOUNTS.c.name)).all())

    def existing_before(self, instant: datetime) -> dict[int, str]:
        """Accounts created before an instant (those that get a bill for a month ending then)."""
        rows = self.conn.execute(select(_ACCOUNTS.c.id, _ACCOUNTS.c.name).where(_ACCOUNTS.c.created_at < instant))
        return dict(rows.all())

    def apps_not_purged(self, account_id: int) -> int:
        return self.conn.execute(
            select(func.count()).where(_APPS.c.account_id == account_id, _APPS.c.status != PURGED)
        ).scalar_one()

    def all_names(self, prefix: str = "") -> list[str]:
        """Account names starting with `prefix`, in order (shell completion)."""
        stmt = select(_ACCOUNTS.c.name).order_by(_ACCOUNTS.c.name)
        if prefix:
            stmt = stmt.where(_ACCOUNTS.c.name.startswith(prefix, autoescape=True))
        return list(self.conn.execute(stmt.limit(1000)).scalars())

    def insert_many(self, names: dict[int, str], created_at: datetime) -> None:
        """Accounts with their ids, written in bulk (the demo fleet)."""
        rows = [{"id": i, "name": name, "created_at": created_at} for i, name in names.items()]
        self.conn.execute(_ACCOUNTS.insert(), rows)
