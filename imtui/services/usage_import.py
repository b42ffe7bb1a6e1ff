"""Importing a usage file (domain.md §6): read and checked whole first, then written in short
transactions, so a halt or reactivate never waits for an import.

Reading (`usage_files`, gathered by `usage_gather`) holds no lock and no transaction. Only when
every row was good is anything written: a chunk of packed months per transaction, each merged
with what is stored at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import BinaryIO

import numpy as np

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.calendar import zone
from imtui.domain.errors import InvalidInput, Refused
from imtui.domain.timeline import check_not_before
from imtui.domain.usage import FIELDS, AppDays, ImportRules
from imtui.domain.usage_file import ImportSummary, UsageRefused
from imtui.persistence.repos.usage import MISSING
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.usage_files import JSONL, read_csv, read_jsonl
from imtui.services.usage_gather import SLOTS, UNTOUCHED, Gathered

WRITE_CHUNK = 4_096
"""Packed months read, merged and written in one transaction (small, since a halt issued meanwhile
may have to wait for it)."""


class UsageImport:
    """One import of a usage file, at the run's instant `now`.

    1. What the rules need (apps, their days, issued months) is read in one short read
       transaction; the permission and the instant are checked there.
    2. The whole input is read and checked with no transaction open and no lock held.
    3. A file with a bad row is refused: nothing was written (all or nothing).
    4. The gathered packed months are written `WRITE_CHUNK` at a time, one short write
       transaction each, merged with what is stored at that moment (so a halt, an upgrade or
       another import between two chunks is never overwritten), each chunk's months checked
       again against the issued bills first.
    5. A last short transaction records the import in the audit trail.

    A halt or reactivate issued meanwhile waits at most one chunk's transaction."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def run(self, stream: BinaryIO, name: str, fmt: str, now: datetime) -> ImportSummary:
        ctx = self.ctx
        with ctx.uow() as uow:
            ctx.require(uow, "usage_import")
            check_not_before(now, uow.meta.latest, ctx.tz)
            lives = Lives(uow.apps.lives(), uow.history.deactivations(), zone(ctx.tz))
            issued = {m: at.astimezone(zone(ctx.tz)).date().isoformat() for m, at in uow.bills.issued().items()}
        gathered = Gathered(ImportRules(lives, ctx.period(now).today_date, issued), lives.ordinals())
        with no_cyclic_gc():  # a million short-lived rows would set the collector off again and again
            ignored = (read_jsonl if fmt == JSONL else read_csv)(stream, gathered)
        if gathered.bad_count:
            raise UsageRefused(gathered.bad, gathered.bad_count)
        if not gathered.rows:
            raise InvalidInput("the usage file holds no records (only a header)")
        summary = self._write(gathered, set(issued), ignored)
        with ctx.uow(write=True) as uow:
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

    def _write(self, gathered: Gathered, issued: set[str], ignored: tuple[str, ...]) -> ImportSummary:
        """Merges the gathered months into what is stored, `WRITE_CHUNK` packed months per short
        write transaction, counting new, replaced and unchanged records."""
        tz = zone(self.ctx.tz)
        counts = np.zeros(3, dtype="i8")
        keys = list(gathered.keys)
        for start in range(0, len(keys), WRITE_CHUNK):
            part = keys[start : start + WRITE_CHUNK]
            new = gathered.months(start, start + len(part))
            with self.ctx.uow(write=True) as uow:
                late = sorted({m for _, m in part if m not in issued} & set(uow.bills.issued()))
                if late:  # a month close ran meanwhile: what was written before stays (see report)
                    raise Refused(
                        f"the bill of {late[0]} was issued while the usage file was being imported; "
                        f"its usage can no longer change ({start} of {len(keys)} app months were written)"
                    )
                paid = {
                    a: at.astimezone(tz).date()
                    for a, at in uow.usage.paid_since(sorted({a for a, _ in part})).items()
                    if at is not None
                }
                old = uow.usage.load_matrix(part)
                touched = new[:, :SLOTS] != UNTOUCHED
                missing = old[:, :SLOTS] == MISSING
                shape = (len(part), len(FIELDS), SLOTS)
                same = (new.reshape(shape) == old.reshape(shape)).all(axis=1)
                unchanged = touched & ~missing & same
                counts += (
                    int((touched & missing).sum()),
                    int((touched & ~missing & ~same).sum()),
                    int(unchanged.sum()),
                )
                merged = np.where(np.tile(touched, len(FIELDS)), new, old)
                rows = np.flatnonzero((touched & ~unchanged).any(axis=1))
                uow.usage.store_matrix([part[i] for i in rows], merged[rows], paid)
                uow.commit()
        inserted, replaced, unchanged = (int(c) for c in counts)
        apps = len({app_id for app_id, _ in keys})
        return ImportSummary(inserted + replaced + unchanged, apps, inserted, replaced, unchanged, ignored)


class Lives(Mapping):
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
