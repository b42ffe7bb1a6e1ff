"""The append-only history of every app (`events`): what billing is computed from, and the
once-per-month changes (`item_changes`, whose primary key makes the database enforce the rule)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from imtui.domain.apps import App, AppEvent
from imtui.domain.billing import State
from imtui.domain.calendar import Month
from imtui.domain.editions import Package
from imtui.domain.errors import Conflict
from imtui.domain.lifecycle import ACTIVE
from imtui.persistence.mapping import PACKAGE_COLUMNS, event_columns, package_of
from imtui.persistence.repos import IN_CHUNK, Repo, chunks
from imtui.persistence.tables import Event, ItemChange
from imtui.persistence.types import aware

UTC = timezone.utc
_EVENTS = Event.__table__
_CHANGES = ItemChange.__table__


class HistoryRepo(Repo):
    """Each app's events: its status and package from each change on, what bills and plans are worked out from."""

    def add(self, app: App, kind: str, at: datetime, actor: str) -> int:
        """Appends the app's state from `at` on; returns the event's id."""
        return self.conn.execute(
            _EVENTS.insert().values(**event_columns(app, kind, at, actor)).returning(_EVENTS.c.id)
        ).scalar_one()

    def add_many(self, changes: list[tuple[App, datetime]], kind: str, actor: str) -> None:
        """Appends each app's state from its own instant on."""
        self.insert_rows(_EVENTS, [event_columns(a, kind, at, actor) for a, at in changes])

    def insert_many(self, events: list[tuple[int, App, str, datetime]], actor: str) -> None:
        """Events (id, the app's state, kind, instant) written in bulk with their ids (the demo)."""
        self.insert_rows(_EVENTS, [{"id": i, **event_columns(app, kind, at, actor)} for i, app, kind, at in events])

    def of_app(self, app_id: int) -> list[AppEvent]:
        """The app's history, oldest first."""
        rows = self.conn.execute(
            select(_EVENTS).where(_EVENTS.c.app_id == app_id).order_by(_EVENTS.c.at, _EVENTS.c.id)
        ).mappings()
        return [AppEvent(r["at"], r["kind"], r["actor"], r["status"], package_of(r)) for r in rows]

    def states_between(
        self, start: datetime, end: datetime, app_ids: list[int] | None = None
    ) -> dict[int, list[State]]:
        """Each app's billing states relevant to [start, end): the one in effect at `start`,
        then every event before `end`, in time order (the driver's rows: a bulk halt's plans read
        them for 1,000 apps, the fleet's for every app)."""
        if app_ids is not None and not app_ids:
            return {}
        if app_ids is not None and len(app_ids) > IN_CHUNK:
            out: dict[int, list[State]] = {}
            for part in chunks(app_ids):
                out.update(self.states_between(start, end, list(part)))
            return out
        e = _EVENTS.c
        columns = (e.app_id, e.at, *(e[c] for c in PACKAGE_COLUMNS), e.status)

        def of_apps(stmt):
            return stmt if app_ids is None else stmt.where(e.app_id.in_(app_ids))

        latest = func.row_number().over(partition_by=e.app_id, order_by=(e.at.desc(), e.id.desc()))
        ranked = of_apps(select(*columns, latest.label("rn")).where(e.at <= start)).subquery("ranked")
        before = select(*(ranked.c[c.name] for c in columns)).where(ranked.c.rn == 1)
        # Each app's own events in time order is all that is needed. Given apps are ordered by app
        # first, as their index holds them: ordered by time alone, SQLite walks every event of the
        # month once more than a few hundred apps are given, instead of just theirs.
        order = (e.at, e.id) if app_ids is None else (e.app_id, e.at, e.id)
        within = of_apps(select(*columns).where(e.at > start, e.at < end)).order_by(*order)
        out: dict[int, list[State]] = defaultdict(list)
        packages: dict[tuple, Package] = {}
        for stmt in (before, within):
            for rows in self.driver_batches(stmt, 10_000):
                for app_id, at, *pkg, status in rows:
                    key = tuple(pkg)
                    package = packages.get(key)
                    if package is None:
                        package = packages[key] = Package(*key)
                    out[app_id].append(State(aware(at), package, status == ACTIVE))
        return out

    def deactivations(self) -> dict[int, list[tuple[datetime, datetime | None]]]:
        """The spans each app spent deactivated or purged (the last one open-ended), of the apps
        that ever were."""
        e = _EVENTS.c
        ever = select(e.app_id).where(e.status != ACTIVE).distinct()
        rows = self.driver_rows(
            select(e.app_id, e.at, e.status).where(e.app_id.in_(ever)).order_by(e.app_id, e.at, e.id)
        )
        out: dict[int, list[tuple[datetime, datetime | None]]] = {}
        since: dict[int, datetime] = {}
        for app_id, at, status in rows:
            at = aware(at)
            spans = out.setdefault(app_id, [])
            if status != ACTIVE and app_id not in since:
                since[app_id] = at
            elif status == ACTIVE and app_id in since:
                spans.append((since.pop(app_id), at))
        for app_id, start in since.items():
            out[app_id].append((start, None))
        return out

    def newest_between(
        self, start: datetime, end: datetime, app_ids: list[int] | None = None, up_to: int | None = None
    ) -> dict[int, int]:
        """The newest event id of each app (of all, or the given ones) with events in [start, end)
        (only events with ids up to `up_to`, when given)."""
        e = _EVENTS.c
        stmt = select(e.app_id, func.max(e.id)).where(e.at >= start, e.at < end).group_by(e.app_id)
        if up_to is not None:
            stmt = stmt.where(e.id <= up_to)
        if app_ids is None:
            return dict(self.driver_rows(stmt))
        return dict(self.driver_rows_in(stmt, e.app_id, app_ids))

    def apps_changed_since(self, instant: datetime) -> set[int]:
        """Apps with an event at or after an instant."""
        stmt = select(_EVENTS.c.app_id).where(_EVENTS.c.at >= instant)  # no DISTINCT: it would scan every app
        return set(self.conn.execute(stmt).scalars())

    def last_id(self) -> int:
        return self.conn.execute(select(func.max(_EVENTS.c.id))).scalar() or 0

    def apps_after(self, event_id: int) -> set[int]:
        """Apps with events newer than `event_id`."""
        stmt = select(_EVENTS.c.app_id).where(_EVENTS.c.id > event_id).distinct()
        return set(self.conn.execute(stmt).scalars())


class LockRepo(Repo):
    """The once-per-month changes: an item's change of a month is used once it is recorded."""

    def of_app(self, app_id: int, month: Month) -> dict[str, datetime]:
        rows = self.conn.execute(
            select(_CHANGES.c.item, _CHANGES.c.at).where(_CHANGES.c.app_id == app_id, _CHANGES.c.month == month.key)
        )
        return dict(rows.all())

    def of_month(self, month: Month) -> dict[int, dict[str, datetime]]:
        """Every app's items changed in a month."""
        out: dict[int, dict[str, datetime]] = defaultdict(dict)
        rows = self.conn.execute(
            select(_CHANGES.c.app_id, _CHANGES.c.item, _CHANGES.c.at).where(_CHANGES.c.month == month.key)
        )
        for app_id, item, at in rows:
            out[app_id][item] = at
        return out

    def of_apps(self, app_ids: Iterable[int], month: Month) -> dict[int, dict[str, datetime]]:
        out: dict[int, dict[str, datetime]] = defaultdict(dict)
        for part in chunks(list(app_ids)):
            rows = self.conn.execute(
                select(_CHANGES.c.app_id, _CHANGES.c.item, _CHANGES.c.at).where(
                    _CHANGES.c.month == month.key, _CHANGES.c.app_id.in_(part)
                )
            )
            for app_id, item, at in rows:
                out[app_id][item] = at
        return out

    def record(self, app_id: int, items: Iterable[str], month: Month, at: datetime, event_id: int) -> None:
        """Uses the items' change of the month; two operators racing for it cannot both win."""
        rows = [{"app_id": app_id, "month": month.key, "item": item, "at": at, "event_id": event_id} for item in items]
        if not rows:
            return
        try:
            self.conn.execute(_CHANGES.insert(), rows)
        except IntegrityError:
            raise Conflict(
                f"app {app_id} was changed by someone else at the same moment; nothing was "
                "changed; look at it again and retry"
            ) from None

    def insert_many(self, changes: list[tuple[int, str, str, datetime, int]]) -> None:
        """Monthly changes (app, month, item, instant, event id) written in bulk (the demo)."""
        fields = ("app_id", "month", "item", "at", "event_id")
        self.insert_rows(_CHANGES, [dict(zip(fields, change)) for change in changes])
