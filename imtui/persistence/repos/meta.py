"""Database-wide facts: creation and latest instants, billing time zone, the change counter."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from imtui.persistence.repos import Repo
from imtui.persistence.tables import Meta

UTC = timezone.utc

CREATED_AT = "created_at"
LATEST_AT = "latest_at"
BILLING_TZ = "billing_tz"
CHANGE_COUNTER = "change_counter"
SIMULATION = "simulation"
PLANS_AFTER_EVENT = "plans_after_event"
"""Every event after this id was written with its app's month plan (set by migration 0004)."""
PLATFORM = "platform"
"""The identity of the platform the database belongs to (cli.md); unset until the first act."""
PLATFORM_URL = "platform_url"
"""Where that platform was last reached (redacted: no user, password or query); empty when embedded."""
PLATFORM_BOUND_AT = "platform_bound_at"

_META = Meta.__table__


class MetaRepo(Repo):
    """The database's own facts by key: its creation, latest instant, change counter and platform."""

    def get(self, key: str) -> str | None:
        return self.conn.execute(select(_META.c.value).where(_META.c.key == key)).scalar()

    def set(self, key: str, value: str) -> None:
        if self.get(key) is None:
            self.conn.execute(_META.insert().values(key=key, value=value))
        else:
            self.conn.execute(_META.update().where(_META.c.key == key).values(value=value))

    def instant(self, key: str) -> datetime | None:
        value = self.get(key)
        return datetime.fromisoformat(value) if value else None

    @property
    def latest(self) -> datetime | None:
        """The latest instant at which anything took effect in this database."""
        return self.instant(LATEST_AT)

    @property
    def created_at(self) -> datetime | None:
        return self.instant(CREATED_AT)

    @property
    def billing_tz(self) -> str | None:
        return self.get(BILLING_TZ)

    @property
    def simulation(self) -> bool:
        """Whether the database was created with a simulated clock (`--now`)."""
        return self.get(SIMULATION) == "1"

    @property
    def plans_after_event(self) -> int:
        value = self.get(PLANS_AFTER_EVENT)
        return int(value) if value else 0

    @property
    def platform(self) -> tuple[str | None, str | None, datetime | None]:
        """The platform the database belongs to: (identity, last-known URL, bound at), or Nones."""
        return self.get(PLATFORM) or None, self.get(PLATFORM_URL) or None, self.instant(PLATFORM_BOUND_AT)

    def bind_platform(self, identity: str, url: str | None, at: datetime | None) -> None:
        """Records the platform (and its redacted URL); `at` None keeps the binding's instant."""
        self.set(PLATFORM, identity)
        self.set(PLATFORM_URL, url or "")
        if at is not None:
            self.set(PLATFORM_BOUND_AT, at.astimezone(UTC).isoformat())

    def advance_latest(self, instant: datetime) -> None:
        """Records that something took effect at `instant` (time only moves forward)."""
        latest = self.latest
        if latest is None or instant > latest:
            self.set(LATEST_AT, instant.astimezone(UTC).isoformat())

    def bump_counter(self) -> None:
        """Tells other processes (the dashboard's poll) that something changed."""
        self.set(CHANGE_COUNTER, str(self.counter() + 1))

    def counter(self) -> int:
        value = self.get(CHANGE_COUNTER)
        return int(value) if value else 0

    def set_created(self, instant: datetime) -> None:
        """Moves the database's creation back (a demo fleet's history starts before it)."""
        self.set(CREATED_AT, instant.astimezone(UTC).isoformat())

    def create(self, tz: str, created_at: datetime, simulation: bool) -> None:
        """The facts of a new database."""
        self.set(BILLING_TZ, tz)
        self.set(CREATED_AT, created_at.astimezone(UTC).isoformat())
        self.set(SIMULATION, "1" if simulation else "0")
        self.set(CHANGE_COUNTER, "0")
