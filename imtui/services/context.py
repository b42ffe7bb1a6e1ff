"""What every service shares: engine, clock, prices, billing time zone, actor, control plane."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from imtui.clock import Clock
from imtui.domain.calendar import Month
from imtui.domain.errors import ImtuiError, PermissionDenied
from imtui.domain.prices import PriceList
from imtui.domain.roles import DEFAULT_ROLE, check_allowed
from imtui.persistence import repo
from imtui.persistence.uow import UnitOfWork, translate_db_error
from imtui.services.control_plane import ControlPlane

T = TypeVar("T")


@dataclass
class ServiceContext:
    engine: Engine
    clock: Clock
    prices: PriceList
    tz: str
    actor: str
    control_plane: ControlPlane
    read_only: bool = False
    bulk_concurrency: int = 16
    bulk_batch: int = 500

    def now(self) -> datetime:
        return self.clock.now()

    def month(self, now: datetime | None = None) -> Month:
        return Month.of(now or self.now(), self.tz)

    def uow(self, write: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, write=write)

    async def run(self, fn: Callable[[], T]) -> T:
        """Runs blocking database work off the event loop; database failures become user errors."""
        return await asyncio.to_thread(self._guarded, fn)

    async def run_detached(self, fn: Callable[[], T]) -> T:
        """Like `run`, for long reads: a daemon thread, so quitting never waits for it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def deliver(setter, value) -> None:
            if not future.done():
                setter(value)

        def target() -> None:
            try:
                result = self._guarded(fn)
            except BaseException as exc:  # noqa: BLE001  (handed to the awaiting task)
                outcome = (future.set_exception, exc)
            else:
                outcome = (future.set_result, result)
            try:
                loop.call_soon_threadsafe(deliver, *outcome)
            except RuntimeError:
                pass  # the event loop has closed: nobody is waiting any more

        threading.Thread(target=target, name="imtui-read", daemon=True).start()
        return await future

    @staticmethod
    def _guarded(fn: Callable[[], T]) -> T:
        try:
            return fn()
        except DBAPIError as exc:
            raise translate_db_error(exc) from None

    def role(self, session) -> str:
        """The operating user's role, read from the database each time (an admin may change it)."""
        return repo.role_of(session, self.actor) or DEFAULT_ROLE

    def require(self, session, action: str) -> None:
        """Refuses an action the user's role does not allow (audited by the caller)."""
        check_allowed(self.actor, self.role(session), action)

    def require_writable(self) -> None:
        if self.read_only:
            raise PermissionDenied("this run is read-only (--read-only); nothing can be changed")

    def audit_refusal(self, action: str, app_id: int | None, error: ImtuiError, at: datetime) -> None:
        """Records a refused operation at the request's instant, without moving the latest instant."""
        with self.uow(write=True) as uow:
            repo.add_audit(uow.session, at, self.actor, action, app_id, "refused", error.message)
            repo.bump_counter(uow.session)
            uow.commit()
