"""Opening a database for a run: migrate it, record its creation, settle which clock and actor
the run has, and make the creator its admin."""

from __future__ import annotations

from imtui.clock import Clock, ServerClock, SystemClock
from imtui.config import DEFAULT_BILLING_TZ
from imtui.domain.calendar import check_zone, closest_zone, is_zone, shown_zone
from imtui.domain.errors import Refused, Unavailable
from imtui.domain.roles import ADMIN
from imtui.persistence.database import Database
from imtui.persistence.repos.meta import BILLING_TZ

"""What a repair suggests when no known zone is close to the stored one (the default zone)."""

REAL_CLOCK_NOW_REFUSED = "this database runs on the real clock; --now is only for databases created with --now"


def is_real(clock: Clock) -> bool:
    """Whether the clock is the real "now" (not `--now` or a test's fixed clock)."""
    return isinstance(clock, (SystemClock, ServerClock))


def open_database(db: Database, clock: Clock, default_tz: str, simulation: bool) -> tuple[str, Clock]:
    """Migrates the database and records its creation; returns its billing zone and the clock to
    run on.

    A database created with a clock other than the real one (`--now`) is a simulation database.
    One created on the real clock (on PostgreSQL the database server's, one source for everyone)
    refuses any other clock, on every backend, before anything is read or done at it: no run, a
    read-only or a viewer's included, can carry out a future purge or month close. A stored
    billing zone the zone database does not know is refused with the way to repair it."""
    db.migrate()
    if db.team and isinstance(clock, SystemClock):
        clock = ServerClock(db.server_time)
    with db.uow() as uow:  # most starts only read: no writer's lock
        tz, simulation_db = uow.meta.billing_tz, uow.meta.simulation
    if tz is None:
        check_zone(default_tz)  # a new database stores only a zone that bills can be computed in
        with db.uow(write=True) as uow:
            tz, simulation_db = uow.meta.billing_tz, uow.meta.simulation
            if tz is None:
                tz = default_tz
                simulation_db = simulation or not is_real(clock)
                uow.meta.create(tz, clock.now(), simulation_db)
                uow.commit()
    if not is_real(clock) and not simulation_db:
        raise Refused(REAL_CLOCK_NOW_REFUSED)
    check_stored_zone(tz)
    return tz, clock


def check_stored_zone(tz: str) -> None:
    """A database that stored a zone the zone database does not know (a typo in
    `IMTUI_BILLING_TZ` at creation, before creation refused one) cannot bill: one sentence says
    how to repair it (exit 1) instead of failing deep in every command."""
    if is_zone(tz):
        return
    to = closest_zone(tz) or DEFAULT_BILLING_TZ
    raise Unavailable(
        f"this database's billing time zone {shown_zone(tz)} is not a known time zone; set the zone its bills "
        f"are meant for (e.g. {to}) with the SQL: UPDATE meta SET value = '{to}' WHERE key = '{BILLING_TZ}'"
    )


def make_first_user_admin(db: Database, actor: str, clock: Clock) -> None:
    """The user who creates a database becomes its admin; everyone else starts as a viewer."""
    with db.uow() as uow:
        if uow.users.any():
            return
    with db.uow(write=True) as uow:
        if not uow.users.any():
            uow.users.set_role(actor, ADMIN, clock.now(), actor)
            uow.commit()
