"""Usage: importing exported usage files (all or nothing), and reading an app's records.

An import reads the file once, as a stream, checking every row against the rules of domain.md
§6 and gathering the records by app and month; only when every row is good does it write,
in one transaction, replacing the days already recorded. A refused file changes nothing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import BinaryIO

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.calendar import Month, zone
from imtui.domain.errors import ImtuiError, InvalidInput
from imtui.domain.timeline import check_not_before
from imtui.domain.usage import FIELDS, AppDays, ImportRules
from imtui.persistence.repos.usage import MISSING, SLOTS
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.housekeeping import Housekeeping
from imtui.services.queries import get_app

CSV, JSONL = "csv", "jsonl"
SHOWN_BAD_ROWS = 20
"""A refused file lists this many bad rows, then how many more."""
MERGE_CHUNK = 4_096
"""Packed months read, merged and written at once (bounds the memory an import takes)."""


class UsageRefused(ImtuiError):
    """A usage file with bad rows: nothing was imported. `lines` says what is wrong, row by row
    (the first ones, then how many more)."""

    def __init__(self, bad: list[tuple[int, int, str]], count: int):
        self.lines = [f"line {line}: {message}" for line, _, message in bad[:SHOWN_BAD_ROWS]]
        if count > SHOWN_BAD_ROWS:
            self.lines.append(f"… and {count - SHOWN_BAD_ROWS} more")
        super().__init__(
            f"the usage file was refused, nothing was imported: {count} bad row"
            f"{'s' if count > 1 else ''} ({self.lines[0]})"
        )
        self.exit_code = bad[0][1]


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    apps: int
    inserted: int
    replaced: int
    unchanged: int
    ignored: tuple[str, ...] = ()
    """Columns (or JSON fields) of the file that are not part of a record."""


@dataclass(frozen=True)
class UsageMonthView:
    """An app's records of one month and the month's peaks (None without records)."""

    app_id: int
    month: str
    peaks: dict[str, int | None]
    days: list[tuple[date, tuple[int, ...]]] = field(default_factory=list)


def input_format(name: str, chosen: str | None) -> str:
    """CSV or JSON lines: as chosen, else from the file's extension, else CSV."""
    if chosen:
        return chosen
    return JSONL if name.lower().endswith((".jsonl", ".ndjson")) else CSV


class UsageService:
    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    async def import_file(self, stream: BinaryIO, name: str, chosen_format: str | None = None) -> ImportSummary:
        """Imports a usage file (CSV or JSON lines), all or nothing, as one operation."""
        self.ctx.require_writable()
        await self.housekeeping.catch_up()
        fmt = input_format(name, chosen_format)
        return await self.ctx.audited("usage_import", None, lambda now: self._import(stream, name, fmt, now))

    def _import(self, stream: BinaryIO, name: str, fmt: str, now: datetime) -> ImportSummary:
        from imtui.services.usage_import import Gathered, read_csv, read_jsonl  # NumPy: loaded when needed

        ctx = self.ctx
        today = ctx.period(now).today_date
        with ctx.uow(write=True) as uow:
            ctx.require(uow, "usage_import")
            check_not_before(now, uow.meta.latest, ctx.tz)
            lives = self._lives(uow)
            issued = {m: at.astimezone(zone(ctx.tz)).date().isoformat() for m, at in uow.bills.issued().items()}
            gathered = Gathered(ImportRules(lives, today, issued), lives.ordinals())
            with no_cyclic_gc():  # a million short-lived rows would set the collector off again and again
                ignored = (read_jsonl if fmt == JSONL else read_csv)(stream, gathered)
            if gathered.bad_count:
                raise UsageRefused(gathered.bad, gathered.bad_count)
            if not gathered.rows:
                raise InvalidInput("the usage file holds no records (only a header)")
            summary = self._merge(uow, gathered, lives.paid_days({app_id for app_id, _ in gathered.keys}), ignored)
            uow.audit.add(
                AuditEntry(
                    now,
                    ctx.actor,
                    "usage_import",
                    None,
                    DONE,
                    f"imported usage from {name}: {summary.rows} records of {summary.apps} apps; "
                    f"{summary.inserted} new, {summary.replaced} replaced, {summary.unchanged} unchanged",
                )
            )
            uow.meta.advance_latest(now)
            uow.meta.bump_counter()
            uow.commit()
        return summary

    def _lives(self, uow: UnitOfWork) -> _Lives:
        """What the rules need of every app (creation and purge days, days deactivated whole,
        the day it left trial)."""
        return _Lives(uow.apps.lives(), uow.history.deactivations(), zone(self.ctx.tz))

    def _merge(self, uow: UnitOfWork, gathered, paid: dict, ignored: tuple[str, ...]) -> ImportSummary:
        """Merges the gathered months (`usage_import.Gathered`) into what is stored, a chunk at a
        time, counting new, replaced and unchanged records, and writes the months that changed."""
        import numpy as np

        from imtui.services.usage_import import UNTOUCHED

        counts = np.zeros(3, dtype="i8")
        keys = list(gathered.keys)
        for start in range(0, len(keys), MERGE_CHUNK):
            part = keys[start : start + MERGE_CHUNK]
            new = gathered.months(start, start + len(part))
            old = uow.usage.load_matrix(part)
            touched = new[:, :SLOTS] != UNTOUCHED
            missing = old[:, :SLOTS] == MISSING
            shape = (len(part), len(FIELDS), SLOTS)
            same = (new.reshape(shape) == old.reshape(shape)).all(axis=1)
            unchanged = touched & ~missing & same
            counts += (int((touched & missing).sum()), int((touched & ~missing & ~same).sum()), int(unchanged.sum()))
            merged = np.where(np.tile(touched, len(FIELDS)), new, old)
            rows = np.flatnonzero((touched & ~unchanged).any(axis=1))
            uow.usage.store_matrix([part[i] for i in rows], merged[rows], paid)
        inserted, replaced, unchanged = (int(c) for c in counts)
        apps = len({app_id for app_id, _ in keys})
        return ImportSummary(inserted + replaced + unchanged, apps, inserted, replaced, unchanged, ignored)

    async def month(self, app_id: int, month: Month | None = None) -> UsageMonthView:
        """An app's daily records of a month (the current one by default) and its peaks."""
        await self.housekeeping.catch_up()

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


class _Lives(Mapping):
    """Each app's `AppDays`, made on first use."""

    def __init__(self, raw: dict, spans: dict, tz):
        self._raw, self._spans, self._tz, self._made = raw, spans, tz, {}

    def __getitem__(self, app_id: int) -> AppDays:
        made = self._made.get(app_id)
        if made is None:
            created, purge_at, _ = self._raw[app_id]
            halted = tuple(_whole_days(self._spans[app_id], self._tz)) if app_id in self._spans else ()
            purged = purge_at.astimezone(self._tz).date() if purge_at is not None else None
            made = self._made[app_id] = AppDays(created.astimezone(self._tz).date(), purged, halted)
        return made

    def paid_days(self, app_ids: set[int]) -> dict[int, date]:
        """The day each of these apps left trial (apps still on trial left out)."""
        raw, tz = self._raw, self._tz
        return {a: p.astimezone(tz).date() for a in app_ids if (p := raw[a][2]) is not None}

    def ordinals(self) -> tuple[list[int], list[int], list[int], set[int]]:
        """Every app's ID (ascending), creation day and purge day (ordinals of the billing time
        zone's days; 0: not purged), and the apps with days deactivated whole: what an import's
        fast path looks apps up in."""
        tz, raw = self._tz, self._raw
        ids = sorted(raw)
        created = [raw[a][0].astimezone(tz).date().toordinal() for a in ids]
        purged = [p.astimezone(tz).date().toordinal() if (p := raw[a][1]) is not None else 0 for a in ids]
        return ids, created, purged, {a for a in self._spans if a in raw and self[a].halted}

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _whole_days(spans, tz) -> Iterator[tuple[date, date | None]]:
    """The runs of calendar days wholly inside deactivated spans (first, last or None)."""
    for start, end in spans:
        local = start.astimezone(tz)
        first = local.date() if local.time() == datetime.min.time() else local.date() + timedelta(days=1)
        last = None if end is None else end.astimezone(tz).date() - timedelta(days=1)
        if last is None or first <= last:
            yield first, last
