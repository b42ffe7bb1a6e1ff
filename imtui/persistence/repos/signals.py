"""The reads signals need beyond what other repositories offer (signals.md §2): the fleet's recent
days of usage side by side, apps coming up for purge, the names sentences use, and when an app's
status was last set. Whole-fleet reads go through the driver in batches (no object per app)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple

from imtui.domain.lifecycle import DEACTIVATED
from imtui.domain.usage import FIELDS
from imtui.persistence.repos import Repo, chunks
from imtui.persistence.repos.usage import MISSING, SLOTS
from imtui.persistence.tables import App
from imtui.persistence.types import aware

_APPS = App.__table__


class RecentDays(NamedTuple):
    """Every app's records of the last days side by side (NumPy arrays)."""

    app_ids: object
    """int64 (n,), ascending: the apps with a record in the window."""
    days: object
    """int32 (n, 5, window): each figure (`FIELDS` order) by day, oldest first; -1: no record."""
    first: date
    """The window's first day."""


class Purging(NamedTuple):
    """A deactivated app with its purge instant (for `purge_soon`)."""

    app_id: int
    name: str
    account: str
    deactivated_at: datetime
    purge_at: datetime


class SignalRepo(Repo):
    """The fleet-wide reads signals are worked out from: recent days of usage, purges ahead."""

    def recent_days(self, today: date, window: int, app_ids: Sequence[int] | None = None) -> RecentDays:
        """The records of the `window` days ending `today` of every app (or the given ones, in
        ascending order) that has one, read a batch of packed months at a time."""
        import numpy as np

        first = today - timedelta(days=window - 1)
        spans = []
        day = first
        while day <= today:
            key = f"{day.year:04d}-{day.month:02d}"
            month_end = date(day.year + (day.month == 12), day.month % 12 + 1, 1) - timedelta(days=1)
            end = min(today, month_end)
            spans.append((key, day.day - 1, end.day, (day - first).days))
            day = end + timedelta(days=1)
        wanted = None if app_ids is None else np.asarray(app_ids, dtype=np.int64)
        parts: list[tuple] = []  # (ids, their days of one span, where the span starts in the window)
        for key, lo, hi, at in spans:
            sql = f"SELECT app_id, days FROM usage_months WHERE month = {self.mark}"
            if wanted is None:
                queries = [(sql, (key,))]
            else:
                queries = [
                    (f"{sql} AND app_id IN ({self.marks(len(p))})", (key, *p)) for p in chunks([int(a) for a in wanted])
                ]
            for query, params in queries:
                for rows in self.driver_batches(query, params, 2_000):
                    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                    packed = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="<i4").reshape(
                        len(rows), len(FIELDS), SLOTS
                    )
                    parts.append((ids, packed[:, :, lo:hi].copy(), at))
        if not parts:
            return RecentDays(np.zeros(0, dtype=np.int64), np.zeros((0, len(FIELDS), window), dtype=np.int32), first)
        unique = np.unique(np.concatenate([p[0] for p in parts]))
        merged = np.full((len(unique), len(FIELDS), window), MISSING, dtype=np.int32)
        for ids, block, at in parts:  # an app has one row a month: each span fills its own days
            merged[np.searchsorted(unique, ids), :, at : at + block.shape[2]] = block
        present = (merged[:, 0, :] != MISSING).any(axis=1)
        return RecentDays(unique[present], merged[present], first)

    def purging_by(self, instant: datetime) -> list[Purging]:
        """Deactivated apps whose purge instant is at or before `instant`, soonest first."""
        rows = self.driver_rows(
            "SELECT a.app_id, a.name, c.name, a.deactivated_at, a.purge_at FROM apps a "
            f"JOIN accounts c ON c.id = a.account_id WHERE a.status = {self.mark} AND a.purge_at <= {self.mark} "
            "ORDER BY a.purge_at, a.app_id",
            (DEACTIVATED, self.bind(_APPS, "purge_at", instant)),
        )
        return [Purging(a, n, c, aware(d), aware(p)) for a, n, c, d, p in rows]

    def refs(self, app_ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
        """(name, account, status) of the given apps."""
        sql = "SELECT a.app_id, a.name, c.name, a.status FROM apps a JOIN accounts c ON c.id = a.account_id WHERE 1 = 1"
        rows = self.driver_rows_in(sql, (), "a.app_id", sorted(set(app_ids)))
        return {a: (n, c, s) for a, n, c, s in rows}

    def status_set_at(self, app_ids: Iterable[int]) -> dict[int, datetime]:
        """The instant each app's current status was set: its last event whose status differs
        from the event before it (its creation if the status never changed)."""
        rows = self.driver_rows_in(
            "SELECT app_id, at, status, id FROM events WHERE 1 = 1", (), "app_id", sorted(set(app_ids))
        )
        rows.sort(key=lambda r: (r[0], aware(r[1]), r[3]))
        out: dict[int, datetime] = {}
        last: dict[int, str] = {}
        for app_id, at, status, _ in rows:
            if last.get(app_id) != status:
                out[app_id] = aware(at)
                last[app_id] = status
        return out

    def paid_since(self, app_ids: Iterable[int]) -> dict[int, datetime | None]:
        """When each of the given apps left trial (None: still trial)."""
        rows = self.driver_rows_in(
            "SELECT app_id, paid_since FROM apps WHERE 1 = 1", (), "app_id", sorted(set(app_ids))
        )
        return {a: (aware(p) if p is not None else None) for a, p in rows}
