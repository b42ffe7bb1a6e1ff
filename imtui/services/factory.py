"""Builds the services for one run: open (and migrate) the database, then wire everything."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from imtui.clock import Clock, ServerClock, SystemClock
from imtui.config import Settings
from imtui.domain.errors import Refused
from imtui.domain.prices import load_price_list
from imtui.domain.roles import ADMIN
from imtui.persistence import repo
from imtui.persistence.engine import make_engine
from imtui.persistence.identity import server_time
from imtui.persistence.schema import migrate
from imtui.persistence.uow import UnitOfWork, translate_db_error
from imtui.services.apps import AppService
from imtui.services.audit import AuditService
from imtui.services.billing import BillingService
from imtui.services.context import ServiceContext
from imtui.services.costing import Costing
from imtui.services.control_plane import ControlPlane, SimulatedControlPlane
from imtui.services.fleet import FleetService
from imtui.services.housekeeping import Housekeeping
from imtui.services.identity import actor_of
from imtui.services.users import UserService


@dataclass
class Services:
    """Everything the CLI and the dashboard may call."""

    ctx: ServiceContext
    apps: AppService
    billing: BillingService
    audit: AuditService
    fleet: FleetService
    housekeeping: Housekeeping
    users: UserService

    def close(self) -> None:
        self.ctx.engine.dispose()


TEAM_NOW_REFUSED = "--now is refused on a shared team database that was not created for simulation"


def _is_real(clock: Clock) -> bool:
    """Whether the clock is the real "now" (not `--now` or a test's fixed clock)."""
    return isinstance(clock, (SystemClock, ServerClock))


def open_database(
    db: str, clock: Clock, default_tz: str, simulation: bool
) -> tuple[Engine, str, Clock]:
    """Opens the database, migrating it and recording its creation; returns the engine, its
    billing zone and the clock to run on.

    A database created with a clock other than the real one (`--now`) is a simulation database.
    On PostgreSQL (team mode) the real clock is the database server's, one source for everyone,
    and a shared database that was not created for simulation refuses any other clock."""
    engine = make_engine(db)
    try:
        migrate(engine)
        team = engine.dialect.name == "postgresql"
        if team and isinstance(clock, SystemClock):
            clock = ServerClock(lambda: server_time(engine))
        with UnitOfWork(engine) as uow:  # most starts only read: no writer's lock
            tz = repo.get_meta(uow.session, repo.BILLING_TZ)
            simulation_db = repo.get_meta(uow.session, repo.SIMULATION) == "1"
        if tz is not None:
            if team and not _is_real(clock) and not simulation_db:
                raise Refused(TEAM_NOW_REFUSED)
            return engine, tz, clock
        with UnitOfWork(engine, write=True) as uow:
            s = uow.session
            tz = repo.get_meta(s, repo.BILLING_TZ)
            if tz is None:
                now = clock.now()
                tz = default_tz
                simulated = simulation or not _is_real(clock)
                repo.set_meta(s, repo.BILLING_TZ, tz)
                repo.set_meta(s, repo.CREATED_AT, now.isoformat())
                repo.set_meta(s, repo.SIMULATION, "1" if simulated else "0")
                repo.set_meta(s, repo.CHANGE_COUNTER, "0")
                uow.commit()
            elif team and not _is_real(clock) and repo.get_meta(s, repo.SIMULATION) != "1":
                raise Refused(TEAM_NOW_REFUSED)
    except DBAPIError as exc:
        engine.dispose()
        raise translate_db_error(exc) from None
    except BaseException:
        engine.dispose()
        raise
    return engine, tz, clock


def _first_user_is_admin(ctx: ServiceContext) -> None:
    """The user who creates a database becomes its admin; everyone else starts as a viewer."""
    with ctx.uow() as uow:
        if repo.has_users(uow.session):
            return
    with ctx.uow(write=True) as uow:
        if not repo.has_users(uow.session):
            repo.set_role(uow.session, ctx.actor, ADMIN, ctx.now(), ctx.actor)
            uow.commit()


def build_services(
    settings: Settings,
    clock: Clock,
    control_plane: ControlPlane | None = None,
    actor: str | None = None,
    simulation: bool = False,
) -> Services:
    engine, tz, clock = open_database(settings.db, clock, settings.billing_tz, simulation)
    try:
        actor = actor or actor_of(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise translate_db_error(exc) from None
    ctx = ServiceContext(
        engine=engine,
        clock=clock,
        prices=load_price_list(settings.price_list),
        tz=tz,
        actor=actor,
        control_plane=control_plane or SimulatedControlPlane(settings.control_plane_latency),
        read_only=settings.read_only,
        bulk_concurrency=settings.bulk_concurrency,
    )
    _first_user_is_admin(ctx)
    housekeeping = Housekeeping(ctx)
    costing = Costing(ctx)
    return Services(
        ctx,
        AppService(ctx, housekeeping),
        BillingService(ctx, housekeeping, costing),
        AuditService(ctx, housekeeping),
        FleetService(ctx, housekeeping, costing),
        housekeeping,
        UserService(ctx),
    )
