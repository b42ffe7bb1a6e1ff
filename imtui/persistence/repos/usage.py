"""Usage records, stored packed by app and month (one row holds a month of records), with each
row's peaks over the days the app was pro or flagship kept beside it for billing.

The packed form keeps a year of daily records for 100,000 apps at 1.2 million rows instead of 36
million, and lets the dashboard read every app's recent usage as a few hundred thousand rows."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, or_, select

from imtui.domain.calendar import Month
from imtui.domain.headroom import WindowPeaks
from imtui.domain.usage import DAU, FIELDS, GROUPS, Peaks
from imtui.persistence.packed import pack, unpack
from imtui.persistence.repos import Repo, chunks
from imtui.persistence.tables import App, UsageMonthRow
from imtui.persistence.types import aware

_USAGE = UsageMonthRow.__table__
_APPS = App.__table__
_PEAKS = select(_USAGE.c.app_id, _USAGE.c.paid_peak_dau, _USAGE.c.paid_peak_groups, _USAGE.c.paid_days)
"""A month's paid-days peaks, as `month_peaks` and `over_quota` read them."""
MANY_APPS = 5_000
"""From this many apps on, a month's usage is read whole (and the other apps' rows skipped)."""
SLOTS = 31
"""Days a packed month has room for."""
SIZE = SLOTS * len(FIELDS)
MISSING = -1
"""A day without a record."""
DAU_AT, GROUPS_AT = (FIELDS.index(f) * SLOTS for f in (DAU, GROUPS))
"""Where the daily active users' and the groups' days start in a packed month (fields in `FIELDS` order)."""

Key = tuple[int, str]
"""(app_id, month as `YYYY-MM`)."""


def empty() -> array:
    """A month with no record."""
    return array("i", [MISSING]) * SIZE


def _first_or_none(month: str, paid_from: date | None) -> int:
    """`first_paid_index`, with "never paid this month" as an index past the month."""
    first = first_paid_index(month, paid_from)
    return SLOTS if first is None else first


def first_paid_index(month: str, paid_from: date | None) -> int | None:
    """Index of the first day of `month` the app was paid on (0 if before it; None if after or
    never)."""
    if paid_from is None:
        return None
    key = f"{paid_from.year:04d}-{paid_from.month:02d}"
    if key < month:
        return 0
    if key > month:
        return None
    return paid_from.day - 1


class RecentDays(NamedTuple):
    """Every app's records of the last days side by side (NumPy arrays)."""

    app_ids: object
    """int64 (n,), ascending: the apps with a record in the window."""
    days: object
    """int32 (n, 5, window): each figure (`FIELDS` order) by day, oldest first; -1: no record."""
    first: date
    """The window's first day."""


class UsageRepo(Repo):
    """Usage records packed by app and month, with each month's paid-days peaks kept beside them."""

    def load(self, keys: Iterable[Key]) -> dict[Key, array]:
        """The packed months of the given (app, month) pairs that have records."""
        by_month: dict[str, list[int]] = {}
        for app_id, month in keys:
            by_month.setdefault(month, []).append(app_id)
        out: dict[Key, array] = {}
        for month, app_ids in by_month.items():
            for rows in self.month_rows(month, app_ids):
                for app_id, blob in rows:
                    out[(app_id, month)] = unpack(bytes(blob))
        return out

    def month_rows(self, month: str, app_ids: Sequence[int] | None = None, size: int = 1_000) -> Iterator[list[tuple]]:
        """The one read of packed months: the (app_id, packed days) rows of a month, of every
        app or of the given ones, a batch at a time (the driver's tuples)."""
        stmt = select(_USAGE.c.app_id, _USAGE.c.days).where(_USAGE.c.month == month)
        if app_ids is None:
            yield from self.driver_batches(stmt, size)
            return
        for part in chunks(app_ids):
            yield from self.driver_batches(stmt.where(_USAGE.c.app_id.in_(part)), size)

    def store(self, months: dict[Key, array | bytes], paid_from: dict[int, date | None]) -> None:
        """Writes packed months (replacing what was there), with their paid peaks."""
        import numpy as np

        keys = list(months)
        if not keys:
            return
        blobs = b"".join(m if isinstance(m, bytes) else pack(m) for m in months.values())
        self.store_matrix(keys, np.frombuffer(blobs, dtype="<i4").reshape(len(keys), SIZE), paid_from)

    def load_matrix(self, keys: list[Key]):
        """The packed months of `keys` as one NumPy matrix (a row a key, no record: -1)."""
        import numpy as np

        where = {key: row for row, key in enumerate(keys)}
        matrix = np.full((len(keys), SIZE), MISSING, dtype="<i4")
        by_month: dict[str, list[int]] = {}
        for app_id, month in keys:
            by_month.setdefault(month, []).append(app_id)
        for month, app_ids in by_month.items():
            for rows in self.month_rows(month, sorted(app_ids)):  # in key order: quicker
                at = [where[(app_id, month)] for app_id, _ in rows]
                matrix[at] = np.frombuffer(b"".join(bytes(b) for _, b in rows), dtype="<i4").reshape(len(rows), SIZE)
        return matrix

    def store_matrix(self, keys: list[Key], matrix, paid_from: dict[int, date | None]) -> None:
        """Writes the packed months of `keys` (a NumPy matrix, a row a key) with their paid peaks."""
        import numpy as np

        get = paid_from.get
        first = np.fromiter((_first_or_none(month, get(app_id)) for app_id, month in keys), np.int64, len(keys))
        day = np.arange(SLOTS)[None, :]
        paid = (day >= first[:, None]) & (matrix[:, DAU_AT : DAU_AT + SLOTS] != MISSING)
        counted = paid.sum(axis=1)
        dau = np.where(paid, matrix[:, DAU_AT : DAU_AT + SLOTS], -1).max(axis=1)
        groups = np.where(paid, matrix[:, GROUPS_AT : GROUPS_AT + SLOTS], -1).max(axis=1)
        blobs, size = np.ascontiguousarray(matrix, dtype="<i4").tobytes(), SIZE * 4
        rows = [
            (app_id, month, blobs[i * size : (i + 1) * size], d if c else None, g if c else None, c)
            for i, ((app_id, month), d, g, c) in enumerate(zip(keys, dau.tolist(), groups.tolist(), counted.tolist()))
        ]
        self.upsert_rows(
            _USAGE,
            ("app_id", "month", "days", "paid_peak_dau", "paid_peak_groups", "paid_days"),
            ("app_id", "month"),
            rows,
        )

    def paid_since(self, app_ids: Iterable[int]) -> dict[int, datetime | None]:
        """When each of these apps left trial (None: still on trial), as stored now: an import
        writes each chunk's paid peaks from it."""
        stmt = select(_APPS.c.app_id, _APPS.c.paid_since)
        rows = self.driver_rows_in(stmt, _APPS.c.app_id, sorted(set(app_ids)))
        return {app_id: aware(at) if at is not None else None for app_id, at in rows}

    def refresh_paid(self, app_id: int, month: str, paid_from: date | None) -> None:
        """Recomputes a month's paid peaks after the app left trial."""
        found = self.load([(app_id, month)])
        if found:
            self.store(found, {app_id: paid_from})

    def records(self, app_id: int, first: date, last: date) -> dict[date, tuple[int, ...]]:
        """The app's records of the days from `first` to `last`, by day."""
        months = []
        m = Month(first.year, first.month)
        while (m.year, m.month) <= (last.year, last.month):
            months.append(m.key)
            m = m.next()
        found = self.load((app_id, key) for key in months)
        out: dict[date, tuple[int, ...]] = {}
        day = first
        while day <= last:
            days = found.get((app_id, f"{day.year:04d}-{day.month:02d}"))
            i = day.day - 1
            if days is not None and days[i] != MISSING:
                out[day] = tuple(days[f * SLOTS + i] for f in range(len(FIELDS)))
            day += timedelta(days=1)
        return out

    def month_peaks(self, month: Month, app_ids: list[int] | None = None) -> dict[int, Peaks]:
        """Each app's peaks over the days of `month` it was paid on, where it has records."""
        stmt = _PEAKS.where(_USAGE.c.month == month.key, _USAGE.c.paid_days > 0)
        rows = self.driver_rows(stmt) if app_ids is None else self.driver_rows_in(stmt, _USAGE.c.app_id, app_ids)
        return {app_id: Peaks(dau, groups, days) for app_id, dau, groups, days in rows}

    def over_quota(self, month: Month, dau_included: int, groups_included: int) -> dict[int, Peaks]:
        """The peaks of the apps whose paid days of `month` went above an included quota."""
        u = _USAGE.c
        above = or_(u.paid_peak_dau > dau_included, u.paid_peak_groups > groups_included)
        rows = self.driver_rows(_PEAKS.where(u.month == month.key, above))
        return {app_id: Peaks(dau, groups, days) for app_id, dau, groups, days in rows}

    def latest_day(self) -> date | None:
        """The newest day any app has a record for (None: no record at all). Only the newest
        month with records is read, and of each row only its first figure's days (a record has
        every figure), a batch of rows at a time."""
        import numpy as np

        width = SLOTS * 4  # DAU_AT is 0: the row's first SLOTS int32 are its daily active users
        newest = select(func.max(_USAGE.c.month))
        month = self.conn.execute(newest).scalar()
        while month is not None:
            stmt = select(func.substr(_USAGE.c.days, 1, width)).where(_USAGE.c.month == month)
            seen = np.zeros(SLOTS, dtype=bool)
            for rows in self.driver_batches(stmt, size=5_000):
                dau = np.frombuffer(b"".join(bytes(r[0]) for r in rows), dtype="<i4").reshape(-1, SLOTS)
                seen |= (dau != MISSING).any(axis=0)
            if seen.any():
                year, number = map(int, month.split("-"))
                return date(year, number, int(np.flatnonzero(seen)[-1]) + 1)
            month = self.conn.execute(newest.where(_USAGE.c.month < month)).scalar()  # rows without a record
        return None

    def recent(self, today: date, app_ids: Sequence[int] | None = None, week: int = 7, month: int = 30):
        """The peaks of apps (ascending IDs; all with usage by default) over the last `week` and
        the last `month` days (today included), as a `domain.fleet_headroom.FleetUsage` (apps
        without a record in them left out). The months are read a batch of rows at a time, each
        batch reduced at once into one row per app: memory stays small at any size."""
        import numpy as np

        from imtui.domain.fleet_headroom import FleetUsage

        spans = _spans(today - timedelta(days=month - 1), today)
        if app_ids is None:
            app_ids = sorted(
                {
                    row[0]
                    for key, _, _ in spans
                    for row in self.driver_rows(select(_USAGE.c.app_id).where(_USAGE.c.month == key))
                }
            )
        wanted = np.asarray(app_ids, dtype=np.int64)
        n = len(wanted)
        week_peaks = np.full((n, len(FIELDS) + 1), MISSING, dtype=np.int32)
        week_days = np.zeros(n, dtype=np.int32)
        month_peaks = np.full((n, 3), MISSING, dtype=np.int32)
        month_days = np.zeros(n, dtype=np.int32)
        week_first = today - timedelta(days=week - 1)
        few = None if n > MANY_APPS else [int(a) for a in wanted]
        for key, lo, hi in spans:
            first_day = date(int(key[:4]), int(key[5:]), 1)
            w_lo = max((week_first - first_day).days, lo)  # the week's part of this month: [w_lo, hi)
            for rows in self.month_rows(key, few) if n else ():
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                blob = b"".join(bytes(r[1]) for r in rows)
                at = np.minimum(np.searchsorted(wanted, ids), n - 1)
                keep = wanted[at] == ids
                at = at[keep]
                days = np.frombuffer(blob, dtype="<i4").reshape(-1, len(FIELDS), SLOTS)[keep]
                month_peaks[at] = np.maximum(month_peaks[at], days[:, 2:, lo:hi].max(axis=2))
                month_days[at] += (days[:, 0, lo:hi] != MISSING).sum(axis=1, dtype=np.int32)
                if w_lo < hi:
                    recent = days[:, :, w_lo:hi]
                    present = recent[:, 0, :] != MISSING
                    other = np.where(present, np.maximum(recent[:, 1, :] - recent[:, 2, :], 0), MISSING)
                    peaks = np.column_stack([recent.max(axis=2), other.max(axis=1)])
                    week_peaks[at] = np.maximum(week_peaks[at], peaks)
                    week_days[at] += present.sum(axis=1, dtype=np.int32)
        keep = month_days > 0
        return FleetUsage(
            wanted[keep],
            *(column[keep].astype(np.int64) for column in (week_peaks, week_days, month_peaks, month_days)),
        )

    def recent_days(self, today: date, window: int, app_ids: Sequence[int] | None = None) -> RecentDays:
        """The records of the `window` days ending `today` of every app (or the given ones, in
        ascending order) that has one, read a batch of packed months at a time."""
        import numpy as np

        first = today - timedelta(days=window - 1)
        few = None if app_ids is None else [int(a) for a in app_ids]
        parts: list[tuple] = []  # (ids, their days of one month, where the month starts in the window)
        for key, lo, hi in _spans(first, today):
            at = (date(int(key[:4]), int(key[5:]), lo + 1) - first).days
            for rows in self.month_rows(key, few, 2_000):
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                packed = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="<i4").reshape(
                    len(rows), len(FIELDS), SLOTS
                )
                parts.append((ids, packed[:, :, lo:hi].copy(), at))
        if not parts:
            return RecentDays(np.zeros(0, dtype=np.int64), np.zeros((0, len(FIELDS), window), dtype=np.int32), first)
        unique = np.unique(np.concatenate([p[0] for p in parts]))
        merged = np.full((len(unique), len(FIELDS), window), MISSING, dtype=np.int32)
        for ids, block, at in parts:  # an app has one row a month: each month fills its own days
            merged[np.searchsorted(unique, ids), :, at : at + block.shape[2]] = block
        present = (merged[:, 0, :] != MISSING).any(axis=1)
        return RecentDays(unique[present], merged[present], first)

    def windows(
        self, today: date, app_ids: list[int] | None = None, week: int = 7, month: int = 30
    ) -> dict[int, tuple[WindowPeaks, WindowPeaks]]:
        """Each app's peaks over the last `week` and the last `month` days (today included), the
        apps without a record in them left out (`recent`, one app at a time)."""
        usage = self.recent(today, app_ids, week, month)
        out: dict[int, tuple[WindowPeaks, WindowPeaks]] = {}
        empty = WindowPeaks()
        for app_id, p7, c7, p30, c30 in zip(
            usage.app_ids.tolist(),
            usage.week.tolist(),
            usage.week_days.tolist(),
            usage.month.tolist(),
            usage.month_days.tolist(),
        ):
            week_peaks = WindowPeaks(*p7, c7) if c7 else empty
            out[app_id] = (week_peaks, WindowPeaks(None, None, *p30, None, c30))
        return out


def _spans(first: date, last: date) -> list[tuple[str, int, int]]:
    """(month, first index, end index) of the packed months a range of days covers."""
    spans = []
    day = first
    while day <= last:
        key = f"{day.year:04d}-{day.month:02d}"
        month_end = date(day.year + (day.month == 12), day.month % 12 + 1, 1) - timedelta(days=1)
        end = min(last, month_end)
        spans.append((key, day.day - 1, end.day))
        day = end + timedelta(days=1)
    return spans
