"""Budgets (signals.md §1): one per account, one for the fleet, amounts kept in whole cents."""

from __future__ import annotations

from sqlalchemy import select

from imtui.domain.budgets import Budget
from imtui.domain.prices import from_cents, to_cents
from imtui.persistence.repos import Repo
from imtui.persistence.tables import Account, BudgetRow
from imtui.persistence.types import aware

_BUDGETS = BudgetRow.__table__
_ACCOUNTS = Account.__table__
FLEET_SUBJECT = "fleet"


def _subject(account_id: int | None) -> str:
    return FLEET_SUBJECT if account_id is None else f"account:{account_id}"


class BudgetRepo(Repo):
    """The fleet's and the accounts' monthly budgets."""

    def all(self) -> list[Budget]:
        """Every budget: the fleet's first, then the accounts' by name."""
        rows = self.conn.execute(
            select(_ACCOUNTS.c.name, _BUDGETS.c.amount_cents, _BUDGETS.c.warn_at, _BUDGETS.c.set_at, _BUDGETS.c.set_by)
            .select_from(_BUDGETS.outerjoin(_ACCOUNTS, _ACCOUNTS.c.id == _BUDGETS.c.account_id))
            .order_by(_BUDGETS.c.account_id.is_not(None), _ACCOUNTS.c.name)
        )
        return [Budget(name, from_cents(cents), warn_at, aware(at), by) for name, cents, warn_at, at, by in rows]

    def get(self, account_id: int | None) -> Budget | None:
        """The budget of an account (by id), or the fleet's (None)."""
        row = self.conn.execute(
            select(_BUDGETS.c.amount_cents, _BUDGETS.c.warn_at, _BUDGETS.c.set_at, _BUDGETS.c.set_by).where(
                _BUDGETS.c.subject == _subject(account_id)
            )
        ).first()
        if row is None:
            return None
        name = None
        if account_id is not None:
            name = self.conn.execute(select(_ACCOUNTS.c.name).where(_ACCOUNTS.c.id == account_id)).scalar()
        cents, warn_at, at, by = row
        return Budget(name, from_cents(cents), warn_at, aware(at), by)

    def put(self, account_id: int | None, budget: Budget) -> None:
        """Sets (or replaces) the budget of an account, or the fleet's."""
        self.remove(account_id)
        self.conn.execute(
            _BUDGETS.insert().values(
                subject=_subject(account_id),
                account_id=account_id,
                amount_cents=to_cents(budget.amount),
                warn_at=budget.warn_at,
                set_at=budget.set_at,
                set_by=budget.set_by,
            )
        )

    def remove(self, account_id: int | None) -> None:
        self.conn.execute(_BUDGETS.delete().where(_BUDGETS.c.subject == _subject(account_id)))
