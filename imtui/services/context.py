"""What every service shares: the database, the clock, prices, billing time zone, the actor and
the control plane; and the helpers every use case needs (threads, permissions, refusal audits)."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from imtui.clock import Clock
from imtui.domain.audit import REFUSED, AuditEntry
from imtui.domain.errors import ImtuiError, PermissionDenied, Unavailable
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import PriceList
from imtui.domain.roles import DEFAULT_ROLE, check_allowed
from imtui.persistence.database import Database
from imtui.persistence.uow import UnitOfWork
from imtui.services.control_plane import ControlPlane

T = TypeVar("T")

READ_ONLY = "this run is read-only (--read-only); nothing can be changed"


@dataclass
class ServiceContext:
    """What every service shares: the database, the clock, prices, who acts, the control plane and the
    worker threads."""

    db: Database
    clock: Clock
    prices: PriceList
    tz: str
    actor: str
    control_plane: ControlPlane
    read_only: bool = False
    bulk_concurrency: int = 16
    """How many apps a bulk operation sends to the control plane at once."""

    def now(self) -> datetime:
        return self.clock.now()

    def period(self, now: datetime | None = None) -> BillingPeriod:
        """The billing period of `now` (the clock's reading by default)."""
        return BillingPeriod.of(now or self.now(), self.tz)

    def uow(self, write: bool = False) -> UnitOfWork:
        return self.db.uow(write=write)

    async def run(self, fn: Callable[[], T]) -> T:
        """Runs blocking database work off the event loop."""
        return await asyncio.to_thread(fn)

    async def run_detached(self, fn: Callable[[], T]) -> T:
        """Like `run`, for long reads: a daemon thread, so quitting never waits for it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def deliver(setter, value) -> None:
            if not future.done():
                setter(value)

        def target() -> None:
            try:
                outcome = (future.set_result, fn())
            except BaseException as exc:  # noqa: BLE001  (handed to the awaiting task)
                outcome = (future.set_exception, exc)
            try:
                loop.call_soon_threadsafe(deliver, *outcome)
            except RuntimeError:
                pass  # the event loop has closed: nobody is waiting any more

        threading.Thread(target=target, name="imtui-read", daemon=True).start()
        return await future

    # --- who may do what -------------------------------------------------------------------------

    def role(self, uow: UnitOfWork) -> str:
        """The operating user's role, read from the database each time (an admin may change it)."""
        return uow.users.role_of(self.actor) or DEFAULT_ROLE

    def require(self, uow: UnitOfWork, action: str) -> None:
        """Refuses an action the user's role does not allow (audited by the caller)."""
        check_allowed(self.actor, self.role(uow), action)

    def require_writable(self) -> None:
        if self.read_only:
            raise PermissionDenied(READ_ONLY)

    # --- the audit trail of refusals -------------------------------------------------------------

    def refusal(self, action: str, app_id: int | None, error: ImtuiError, at: datetime) -> AuditEntry:
        return AuditEntry(at, self.actor, action, app_id, REFUSED, error.message)

    def audit_refusals(self, entries: list[AuditEntry]) -> None:
        """Records refused operations at their request's instant, without moving the latest
        instant (a refusal changes nothing else)."""
        if not entries:
            return
        with self.uow(write=True) as uow:
            uow.audit.add_many(entries)
            uow.meta.bump_counter()
            uow.commit()

    async def audited(self, action: str, app_id: int | None, fn: Callable[[datetime], T]) -> T:
        """Runs one operation at the clock's instant, off the event loop; a refusal is audited
        and re-raised (a failure to reach the database is not a refusal and is not audited)."""
        now = self.now()
        try:
            return await self.run(lambda: fn(now))
        except ImtuiError as exc:
            if not isinstance(exc, Unavailable):
                entries = [self.refusal(action, app_id, exc, now)]
                await self.run(lambda: self.audit_refusals(entries))
            raise


@contextmanager
def no_cyclic_gc():
    """Pauses the cyclic garbage collector (reference counting still frees everything here)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
