"""Apps with their current package and status (denormalised from the history for fast listing)."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import String, func, or_, select

from imtui.domain.apps import App
from imtui.domain.editions import Package
from imtui.domain.lifecycle import ACTIVE, DEACTIVATED, PURGED
from imtui.persistence.mapping import PACKAGE_COLUMNS, app_columns, app_of
from imtui.persistence.repos import Repo, chunks
from imtui.persistence.tables import Account
from imtui.persistence.tables import App as AppRow
from imtui.persistence.types import UTCDateTime, aware

_APPS = AppRow.__table__
_ACCOUNTS = Account.__table__
_WITH_ACCOUNT = select(_APPS, _ACCOUNTS.c.name.label("account")).join(_ACCOUNTS, _ACCOUNTS.c.id == _APPS.c.account_id)
_PACKAGE = tuple(_APPS.c[name] for name in PACKAGE_COLUMNS)
_MANY_COLUMNS = tuple(c.name for c in _APPS.c)
_INSTANTS = tuple(c.name for c in _APPS.c if isinstance(c.type, UTCDateTime))

FLEET_COLUMNS = (
    "app_id",
    "name",
    "account",
    "edition",
    "status",
    "live_groups",
    "groups_per_user",
    "members_per_group",
    "history_days",
)
"""The columns of `fleet_rows`, in order (with the account's ID for its name)."""
FLEET_AT = {name: i for i, name in enumerate(FLEET_COLUMNS)}
"""Where each of `FLEET_COLUMNS` is in a fleet row."""
FLEET_PACKAGE = slice(FLEET_AT["edition"], FLEET_AT["history_days"] + 1)
"""A fleet row's edition, status and package: what apps alike share."""


class ActivePackages(NamedTuple):
    """The active apps and their packages, row for row (`AppRepo.active_packages`)."""

    app_ids: Any
    """Ascending app IDs (a NumPy int64 array)."""
    kinds: Any
    """Each app's package as an index into `packages` (a NumPy int64 array)."""
    packages: list[Package]
    """The distinct packages."""


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere (`%`, `_` and `\\` are not wildcards;
    the escape is explicit because PostgreSQL and SQLite differ in their default)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class AppRepo(Repo):
    """Apps as domain values: read, saved under their version, and the fleet's rows for the applications table."""

    def get(self, app_id: int, lock: bool = False) -> App | None:
        stmt = _WITH_ACCOUNT.where(_APPS.c.app_id == app_id)
        if lock and self.postgres:
            stmt = stmt.with_for_update(of=_APPS)
        row = self.conn.execute(stmt).mappings().first()
        return None if row is None else app_of(row, row["account"])

    def many(self, app_ids: Iterable[int]) -> dict[int, App]:
        """The apps with these IDs that exist, by ID (the driver's rows: bulks read a thousand)."""
        out: dict[int, App] = {}
        for *values, account in self.driver_rows_in(_WITH_ACCOUNT, _APPS.c.app_id, list(app_ids)):
            row = dict(zip(_MANY_COLUMNS, values))
            for name in _INSTANTS:
                if row[name] is not None:
                    row[name] = aware(row[name])
            out[row["app_id"]] = app_of(row, account)
        return out

    def versions(self, app_ids: list[int]) -> dict[int, int]:
        """Each existing app's version: whether it changed since it was read."""
        return dict(self.driver_rows_in(select(_APPS.c.app_id, _APPS.c.version), _APPS.c.app_id, app_ids))

    def search(
        self,
        status: str | None = None,
        edition: str | None = None,
        account_id: int | None = None,
        text: str | None = None,
    ) -> list[App]:
        """Apps by ID, narrowed by status, edition, account and a text found in the ID, the
        name or the account name (case-insensitive, taken literally)."""
        stmt = _WITH_ACCOUNT
        if account_id is not None:
            stmt = stmt.where(_APPS.c.account_id == account_id)
        if status:
            stmt = stmt.where(_APPS.c.status == status)
        if edition:
            stmt = stmt.where(_APPS.c.edition == edition)
        if text:
            pattern = _contains(text.lower())
            stmt = stmt.where(
                or_(
                    func.lower(_APPS.c.name).like(pattern, escape="\\"),
                    func.lower(_ACCOUNTS.c.name).like(pattern, escape="\\"),
                    func.cast(_APPS.c.app_id, String()).like(pattern, escape="\\"),
                )
            )
        rows = self.conn.execute(stmt.order_by(_APPS.c.app_id)).mappings()
        return [app_of(row, row["account"]) for row in rows]

    def next_id(self, first: int) -> int:
        top = self.conn.execute(select(func.max(_APPS.c.app_id))).scalar()
        return first if top is None else max(first, top + 1)

    def add(self, app: App, account_id: int) -> None:
        self.conn.execute(_APPS.insert().values(**app_columns(app, account_id)))

    def save(self, app: App) -> bool:
        """Writes a changed app (its version already bumped) if nobody changed it meanwhile;
        False when the stored version is not the one before."""
        values = app_columns(app, 0)
        for fixed in ("app_id", "account_id", "name", "created_at"):
            del values[fixed]
        done = self.conn.execute(
            _APPS.update().where(_APPS.c.app_id == app.app_id, _APPS.c.version == app.version - 1).values(**values)
        )
        return done.rowcount == 1

    def save_many(self, apps: list[App]) -> None:
        """Writes changed apps' status fields (versions already bumped) in one batch; the caller
        checked their versions in the same transaction."""
        self.update_rows(
            _APPS,
            ("status", "deactivated_at", "purge_at", "halt_reason", "version", "updated_by"),
            ("app_id", "version"),
            [
                (
                    a.status,
                    a.deactivated_at,
                    a.purge_at,
                    a.halt_reason,
                    a.version,
                    a.updated_by,
                    a.app_id,
                    a.version - 1,
                )
                for a in apps
            ],
        )

    def insert_many(self, apps: list[tuple[App, int]]) -> None:
        """Apps (with their account ids) written in bulk (the demo fleet)."""
        self.insert_rows(_APPS, [app_columns(app, account_id) for app, account_id in apps])

    def fleet_rows(self, app_ids: list[int] | None = None) -> Iterator[list[tuple]]:
        """The applications table's columns (`FLEET_COLUMNS`, the account's ID where its name
        would be: `AccountRepo.names` has them, and the fleet is read without a join, which is
        the larger part of reading it) of every app or of the given ones, a batch at a time (see
        `driver_batches`), in storage order: nearly always app ID order, but the caller must not
        rely on it (`ORDER BY app_id` would walk the primary key's index and look every row up, a
        large part of the read)."""
        stmt = select(*(_APPS.c["account_id" if c == "account" else c] for c in FLEET_COLUMNS))
        if app_ids is None:
            return self.driver_batches(stmt)
        return (self.driver_rows(stmt.where(_APPS.c.app_id.in_(part))) for part in chunks(app_ids))

    def active_packages(self) -> ActivePackages:
        """Every active app by app ID with its package as a kind (an index into the distinct
        packages): what the fleet-wide rules (headroom, limits reached) are worked out from with
        NumPy, read a batch at a time."""
        import numpy as np

        packages: list[Package] = []
        index: dict[tuple, int] = {}
        ids, kinds = array("q"), array("q")
        stmt = select(_APPS.c.app_id, *_PACKAGE).where(_APPS.c.status == ACTIVE).order_by(_APPS.c.app_id)
        for batch in self.driver_batches(stmt):
            for row in batch:
                key = row[1:]
                kind = index.get(key)
                if kind is None:
                    kind = index[key] = len(packages)
                    packages.append(Package(*key))
                ids.append(row[0])
                kinds.append(kind)
        return ActivePackages(np.frombuffer(ids, dtype=np.int64), np.frombuffer(kinds, dtype=np.int64), packages)

    def packages(self, app_ids: list[int] | None = None) -> list[tuple[int, Package, str]]:
        """(app_id, current package, status) of the given apps or all; apps with the same
        package share one `Package`."""
        stmt = select(_APPS.c.app_id, *_PACKAGE, _APPS.c.status)
        rows = self.driver_rows(stmt) if app_ids is None else self.driver_rows_in(stmt, _APPS.c.app_id, app_ids)
        shared: dict[tuple, Package] = {}
        out = []
        for app_id, *pkg, status in rows:
            key = tuple(pkg)
            package = shared.get(key)
            if package is None:
                package = shared[key] = Package(*key)
            out.append((app_id, package, status))
        return out

    def due_purges(self, now: datetime) -> list[App]:
        """Deactivated apps whose purge instant has come, in the order they are due."""
        rows = self.conn.execute(
            _WITH_ACCOUNT.where(_APPS.c.status == DEACTIVATED, _APPS.c.purge_at <= now).order_by(
                _APPS.c.purge_at, _APPS.c.app_id
            )
        ).mappings()
        return [app_of(row, row["account"]) for row in rows]

    def earliest_purge(self) -> datetime | None:
        return self.conn.execute(select(func.min(_APPS.c.purge_at)).where(_APPS.c.status == DEACTIVATED)).scalar()

    def owners(self) -> dict[int, int]:
        """Account id of every app."""
        return dict(self.driver_rows(select(_APPS.c.app_id, _APPS.c.account_id)))

    def accounts_of(self, app_ids: list[int] | None = None) -> dict[int, str]:
        """Account name of the given apps, or of all."""
        stmt = select(_APPS.c.app_id, _ACCOUNTS.c.name).join(_ACCOUNTS, _ACCOUNTS.c.id == _APPS.c.account_id)
        if app_ids is None:
            return dict(self.conn.execute(stmt).all())
        out: dict[int, str] = {}
        for part in chunks(app_ids):
            out.update(self.conn.execute(stmt.where(_APPS.c.app_id.in_(part))).all())
        return out

    def lives(self) -> dict[int, tuple[datetime, datetime | None, datetime | None]]:
        """(created_at, purge_at if purged or due, paid_since) of every app (usage imports)."""
        a = _APPS.c
        rows = self.driver_rows(select(a.app_id, a.created_at, a.status, a.purge_at, a.paid_since))
        return {
            app_id: (
                aware(created),
                aware(purge_at) if status != "active" and purge_at is not None else None,
                aware(paid) if paid is not None else None,
            )
            for app_id, created, status, purge_at, paid in rows
        }

    def names(self) -> dict[int, str]:
        """Every app's name by app ID (an export names each app it bills)."""
        return dict(self.driver_rows(select(_APPS.c.app_id, _APPS.c.name)))

    def counts(self) -> dict[tuple[str, str], int]:
        """How many apps there are by (status, edition)."""
        a = _APPS.c
        rows = self.driver_rows(select(a.status, a.edition, func.count()).group_by(a.status, a.edition))
        return {(status, edition): n for status, edition, n in rows}

    def count(self) -> int:
        return self.conn.execute(select(func.count()).select_from(_APPS)).scalar_one()

    def not_purged_by_account(self) -> dict[int, int]:
        """How many apps each account has that are not purged (by account id)."""
        a = _APPS.c
        return dict(
            self.driver_rows(select(a.account_id, func.count()).where(a.status != PURGED).group_by(a.account_id))
        )

    def not_active(self) -> dict[int, str]:
        """The status of every app that is deactivated or purged (their service must be stopped)."""
        return dict(self.conn.execute(select(_APPS.c.app_id, _APPS.c.status).where(_APPS.c.status != "active")).all())

    def existing(self, app_ids: Iterable[int]) -> set[int]:
        out: set[int] = set()
        for part in chunks(list(app_ids)):
            out.update(self.conn.execute(select(_APPS.c.app_id).where(_APPS.c.app_id.in_(part))).scalars())
        return out

    def ids_starting(self, prefix: str, limit: int = 1000) -> list[int]:
        """App IDs whose digits start with `prefix` (shell completion)."""
        stmt = select(_APPS.c.app_id).order_by(_APPS.c.app_id).limit(limit)
        if prefix:
            stmt = stmt.where(func.cast(_APPS.c.app_id, String()).startswith(prefix, autoescape=True))
        return list(self.conn.execute(stmt).scalars())
