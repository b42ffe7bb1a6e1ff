"""Opening a database for a run: migrate it, record its creation, settle which clock and actor
the run has, and make the creator its admin."""

from __future__ import annotations

from imtui.clock import Clock, ServerClock, SystemClock
from imtui.domain.errors import Refused
from imtui.domain.roles import ADMIN
from imtui.persistence.database import Database

TEAM_NOW_REFUSED = "--now is refused on a shared team database that was not created for simulation"


def is_real(clock: Clock) -> bool:
    """Whether the clock is the real "now" (not `--now` or a test's fixed clock)."""
    return isinstance(clock, (SystemClock, ServerClock))


def open_database(db: Database, clock: Clock, default_tz: str, simulation: bool) -> tuple[str, Clock]:
    """Migrates the database and records its creation; returns its billing zone and the clock to
    run on.

    A database created with a clock other than the real one (`--now`) is a simulation database.
    On PostgreSQL (team mode) the real clock is the database server's, one source for everyone,
    and a shared database that was not created for simulation refuses any other clock."""
    db.migrate()
    if db.team and isinstance(clock, SystemClock):
        clock = ServerClock(db.server_time)
    with db.uow() as uow:  # most starts only read: no writer's lock
        tz, simulation_db = uow.meta.billing_tz, uow.meta.simulation
    if tz is None:
        with db.uow(write=True) as uow:
            tz, simulation_db = uow.meta.billing_tz, uow.meta.simulation
            if tz is None:
                tz = default_tz
                simulation_db = simulation or not is_real(clock)
                uow.meta.create(tz, clock.now(), simulation_db)
                uow.commit()
    if db.team and not is_real(clock) and not simulation_db:
        raise Refused(TEAM_NOW_REFUSED)
    return tz, clock


def make_first_user_admin(db: Database, actor: str, clock: Clock) -> None:
    """The user who creates a database becomes its admin; everyone else starts as a viewer."""
    with db.uow() as uow:
        if uow.users.any():
            return
    with db.uow(write=True) as uow:
        if not uow.users.any():
            uow.users.set_role(actor, ADMIN, clock.now(), actor)
            uow.commit()
