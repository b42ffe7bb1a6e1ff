"""Usage: importing exported usage files (all or nothing), and reading an app's records.

The import itself (`usage_import`) reads and checks the whole file before it writes anything, and
then writes in short transactions, so it never stands in the way of a halt (domain.md §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import BinaryIO

from imtui.domain.calendar import Month
from imtui.domain.usage import FIELDS
from imtui.domain.usage_file import SHOWN_BAD_ROWS, ImportSummary, UsageRefused
from imtui.services.context import ServiceContext
from imtui.services.housekeeping import Housekeeping
from imtui.services.queries import get_app
from imtui.services.use_case import use_case

__all__ = ["SHOWN_BAD_ROWS", "ImportSummary", "UsageMonthView", "UsageRefused", "UsageService"]


@dataclass(frozen=True)
class UsageMonthView:
    """An app's records of one month and the month's peaks (None without records)."""

    app_id: int
    month: str
    peaks: dict[str, int | None]
    days: list[tuple[date, tuple[int, ...]]] = field(default_factory=list)


class UsageService:
    """Importing usage files; an app's usage by month and by day."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    @use_case(writes=True)
    async def import_file(self, stream: BinaryIO, name: str, chosen_format: str | None = None) -> ImportSummary:
        """Imports a usage file (CSV or JSON lines), all or nothing, as one operation."""
        from imtui.services import usage_files, usage_import  # NumPy: loaded by the import only, not on every start

        fmt = usage_files.input_format(name, chosen_format)
        run = usage_import.UsageImport(self.ctx).run
        return await self.ctx.audited("usage_import", None, lambda now: run(stream, name, fmt, now))

    @use_case()
    async def month(self, app_id: int, month: Month | None = None) -> UsageMonthView:
        """An app's daily records of a month (the current one by default) and its peaks."""

        def read() -> UsageMonthView:
            period = self.ctx.period()
            chosen = month or period.month
            first = date(chosen.year, chosen.month, 1)
            last = date(chosen.year, chosen.month, chosen.days)
            with self.ctx.uow() as uow:
                get_app(uow, app_id)
                records = uow.usage.records(app_id, first, last)
            days = sorted(records.items())
            peaks = {f: (max(v[i] for _, v in days) if days else None) for i, f in enumerate(FIELDS)}
            return UsageMonthView(app_id, chosen.key, peaks, days)

        return await self.ctx.run(read)

    @use_case(catches_up=False)
    async def series(self, app_id: int, days: int) -> list[tuple[date, tuple[int, ...] | None]]:
        """The app's records of the last `days` days (today included), a day without one as None."""

        def read():
            today = self.ctx.period().today_date
            first = today - timedelta(days=days - 1)
            with self.ctx.uow() as uow:
                get_app(uow, app_id)
                records = uow.usage.records(app_id, first, today)
            return [(first + timedelta(days=i), records.get(first + timedelta(days=i))) for i in range(days)]

        return await self.ctx.run(read)
