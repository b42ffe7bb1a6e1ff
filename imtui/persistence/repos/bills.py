"""Issued bills: one per account and finished month, with their lines, written once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from imtui.domain.calendar import Month
from imtui.domain.errors import Conflict
from imtui.persistence.repos import Repo, chunks
from imtui.persistence.tables import Account, Bill, BillLineRow, MonthClose, MonthDraft

_CLOSES = MonthClose.__table__
_DRAFTS = MonthDraft.__table__
_BILLS = Bill.__table__
_LINES = BillLineRow.__table__
_ACCOUNTS = Account.__table__


class StoredLine(NamedTuple):
    """One line of an issued bill, amounts in cents."""

    app_id: int
    item: str
    setting: str
    unit_price_cents: int
    days: int
    amount_cents: int


class StoredBill(NamedTuple):
    """One account's issued bill of a month: its total and lines, in cents."""

    account: str
    total_cents: int
    lines: list[StoredLine]


class AlreadyClosed(Conflict):
    """Another process closed the same month at the same moment."""


class BillRepo(Repo):
    """The month close's two steps (draft, issue) and the issued bills, each step recorded once."""

    def last_drafted(self) -> Month | None:
        key = self.conn.execute(select(func.max(_DRAFTS.c.month))).scalar()
        return Month.parse(key) if key else None

    def is_drafted(self, month: Month) -> bool:
        return self.conn.execute(select(_DRAFTS.c.month).where(_DRAFTS.c.month == month.key)).first() is not None

    def draft(self, month: Month, at: datetime, actor: str) -> None:
        """Records a month's draft step once; raises `AlreadyClosed` if another process just did."""
        try:
            self.conn.execute(_DRAFTS.insert().values(month=month.key, drafted_at=at, actor=actor))
        except IntegrityError:
            raise AlreadyClosed(f"the draft of {month.key} was made by another process") from None

    def drafted_months(self) -> list[str]:
        """Months with a draft or issued bill, newest first."""
        stmt = select(_DRAFTS.c.month).order_by(_DRAFTS.c.month.desc())
        return list(self.conn.execute(stmt).scalars())

    def issued(self) -> dict[str, datetime]:
        """Every issued month and when it was issued."""
        return dict(self.conn.execute(select(_CLOSES.c.month, _CLOSES.c.issued_at)).all())

    def last_closed(self) -> Month | None:
        key = self.conn.execute(select(func.max(_CLOSES.c.month))).scalar()
        return Month.parse(key) if key else None

    def issued_at(self, month: Month) -> datetime | None:
        """When the month's bills were issued, or None while they are not."""
        return self.conn.execute(select(_CLOSES.c.issued_at).where(_CLOSES.c.month == month.key)).scalar()

    def issue(
        self,
        month: Month,
        issued_at: datetime,
        actor: str,
        totals: dict[int, int],
        lines: dict[int, list[StoredLine]],
    ) -> None:
        """Issues a month's bills once: a bill per account (`totals`, cents by account id) and
        their lines (by account id). Raises `AlreadyClosed` if another process just did."""
        try:
            self.conn.execute(_CLOSES.insert().values(month=month.key, issued_at=issued_at, actor=actor))
        except IntegrityError:
            raise AlreadyClosed(f"the bills of {month.key} were issued by another process") from None
        if not totals:
            return
        self.conn.execute(
            _BILLS.insert(),
            [
                {"account_id": a, "month": month.key, "issued_at": issued_at, "total_cents": t}
                for a, t in totals.items()
            ],
        )
        bill_ids = dict(
            self.conn.execute(select(_BILLS.c.account_id, _BILLS.c.id).where(_BILLS.c.month == month.key)).all()
        )
        rows = [
            {"bill_id": bill_ids[account_id], **line._asdict()}
            for account_id, account_lines in lines.items()
            if account_id in bill_ids
            for line in account_lines
        ]
        self.insert_rows(_LINES, rows)  # a month's lines hold the write lock: written the quick way

    def of_month(self, month: Month) -> list[StoredBill]:
        """Every account's issued bill of a month, by account name."""
        bills = self.conn.execute(
            select(_BILLS.c.id, _ACCOUNTS.c.name, _BILLS.c.total_cents)
            .join(_ACCOUNTS, _ACCOUNTS.c.id == _BILLS.c.account_id)
            .where(_BILLS.c.month == month.key)
            .order_by(_ACCOUNTS.c.name)
        ).all()
        lines: dict[int, list[StoredLine]] = defaultdict(list)
        columns = [_LINES.c[f] for f in StoredLine._fields]
        for part in chunks([b.id for b in bills]):
            rows = self.conn.execute(
                select(_LINES.c.bill_id, *columns).where(_LINES.c.bill_id.in_(part)).order_by(_LINES.c.id)
            )
            for bill_id, *values in rows:
                lines[bill_id].append(StoredLine(*values))
        return [StoredBill(name, total, lines.get(bill_id, [])) for bill_id, name, total in bills]

    def line_batches(self, month: Month, account: str | None = None) -> Iterator[list[tuple]]:
        """(account name, *StoredLine) of every line of an issued month (or one account's), in
        `of_month`'s order (by account name, then app, then line), a batch at a time: an export
        of the whole fleet's lines never holds them all."""
        lines, names = _LINES.c, _ACCOUNTS.c.name
        stmt = (
            select(names, *(lines[f] for f in StoredLine._fields))
            .join(_BILLS, _BILLS.c.id == lines.bill_id)
            .join(_ACCOUNTS, _ACCOUNTS.c.id == _BILLS.c.account_id)
            .where(_BILLS.c.month == month.key)
            .order_by(names, lines.app_id, lines.id)
        )
        if account is not None:
            stmt = stmt.where(names == account)
        return self.driver_batches(stmt, size=5_000)

    def totals_by_account(self, month: Month) -> dict[int, int]:
        """Each account's issued bill of a month in cents, by account id."""
        stmt = select(_BILLS.c.account_id, _BILLS.c.total_cents).where(_BILLS.c.month == month.key)
        return dict(self.conn.execute(stmt).all())

    def month_cents(self, month: Month) -> int:
        """Cents billed to every account in an issued month."""
        return int(
            self.conn.execute(select(func.sum(_BILLS.c.total_cents)).where(_BILLS.c.month == month.key)).scalar() or 0
        )

    def cents_by_app(self, month: Month, app_ids: list[int] | None = None) -> dict[int, int]:
        """Cents billed per app (of all, or the given ones) in an issued month."""
        stmt = (
            select(_LINES.c.app_id, func.sum(_LINES.c.amount_cents))
            .join(_BILLS, _BILLS.c.id == _LINES.c.bill_id)
            .where(_BILLS.c.month == month.key)
            .group_by(_LINES.c.app_id)
        )
        parts = [None] if app_ids is None else list(chunks(app_ids))
        out: dict[int, int] = {}
        for part in parts:
            query = stmt if part is None else stmt.where(_LINES.c.app_id.in_(part))
            out.update((app_id, int(cents)) for app_id, cents in self.conn.execute(query))
        return out
