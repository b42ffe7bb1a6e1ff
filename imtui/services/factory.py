"""Builds the services for one run: open (and migrate) the database, then wire everything."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from imtui.clock import Clock
from imtui.config import Settings
from imtui.domain.prices import load_price_list
from imtui.persistence import repo
from imtui.persistence.engine import make_engine
from imtui.persistence.schema import migrate
from imtui.persistence.uow import UnitOfWork, translate_db_error
from imtui.services.apps import AppService
from imtui.services.audit import AuditService
from imtui.services.billing import BillingService
from imtui.services.context import ServiceContext
from imtui.services.control_plane import ControlPlane, SimulatedControlPlane
from imtui.services.fleet import FleetService
from imtui.services.housekeeping import Housekeeping
from imtui.services.identity import os_user


@dataclass
class Services:
    """Everything the CLI and the dashboard may call."""

    ctx: ServiceContext
    apps: AppService
    billing: BillingService
    audit: AuditService
    fleet: FleetService
    housekeeping: Housekeeping

    def close(self) -> None:
        self.ctx.engine.dispose()


def open_database(db: str, clock: Clock, default_tz: str, simulation: bool) -> tuple[Engine, str]:
    """Opens the database, migrating it and recording its creation; returns its billing zone."""
    engine = make_engine(db)
    try:
        migrate(engine)
        with UnitOfWork(engine, write=True) as uow:
            s = uow.session
            tz = repo.get_meta(s, repo.BILLING_TZ)
            if tz is None:
                now = clock.now()
                tz = default_tz
                repo.set_meta(s, repo.BILLING_TZ, tz)
                repo.set_meta(s, repo.CREATED_AT, now.isoformat())
                repo.set_meta(s, repo.SIMULATION, "1" if simulation else "0")
                repo.set_meta(s, repo.CHANGE_COUNTER, "0")
                uow.commit()
    except DBAPIError as exc:
        engine.dispose()
        raise translate_db_error(exc) from None
    return engine, tz


def build_services(
    settings: Settings,
    clock: Clock,
    control_plane: ControlPlane | None = None,
    actor: str | None = None,
    simulation: bool = False,
) -> Services:
    engine, tz = open_database(settings.db, clock, settings.billing_tz, simulation)
    ctx = ServiceContext(
        engine=engine,
        clock=clock,
        prices=load_price_list(settings.price_list),
        tz=tz,
        actor=actor or os_user(),
        control_plane=control_plane or SimulatedControlPlane(settings.control_plane_latency),
        read_only=settings.read_only,
        bulk_concurrency=settings.bulk_concurrency,
    )
    housekeeping = Housekeeping(ctx)
    return Services(
        ctx,
        AppService(ctx, housekeeping),
        BillingService(ctx, housekeeping),
        AuditService(ctx, housekeeping),
        FleetService(ctx, housekeeping),
        housekeeping,
    )
