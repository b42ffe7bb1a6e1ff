"""Reading apps: list, show, several at once, and an app's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from imtui.domain.apps import App
from imtui.domain.billing import State
from imtui.domain.editions import EDITIONS
from imtui.domain.errors import InvalidInput, NotFound
from imtui.domain.lifecycle import STATUSES
from imtui.domain.text import MAX_NAME
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext
from imtui.services.housekeeping import Housekeeping
from imtui.services.models import AppView, HistoryEntry
from imtui.services.use_case import use_case


@dataclass(frozen=True)
class AppFilter:
    """What `apps list` and the dashboard narrow the fleet by."""

    status: str | None = None
    edition: str | None = None
    account: str | None = None
    search: str | None = None

    def check(self) -> None:
        """Refuses (exit 2) a filter that names no status or edition, or holds a NUL."""
        for text in (self.search, self.account):
            if text is not None and "\x00" in text:
                raise InvalidInput("a filter cannot contain a NUL character")
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput(f"unknown status {self.status!r}; allowed: {', '.join(STATUSES)}")
        if self.edition is not None and self.edition not in EDITIONS:
            raise InvalidInput(f"unknown edition {self.edition!r}; allowed: {', '.join(EDITIONS)}")

    @property
    def matches_nothing(self) -> bool:
        """A search text longer than any ID or name (at most `MAX_NAME` characters) is found in
        none: answered without handing the database a pattern longer than it takes."""
        return self.search is not None and len(self.search) > MAX_NAME


def get_app(uow: UnitOfWork, app_id: int, lock: bool = False) -> App:
    """The app, or `NotFound` (exit 4)."""
    app = uow.apps.get(app_id, lock=lock)
    if app is None:
        raise NotFound(f"no app {app_id}")
    return app


def view_of(uow: UnitOfWork, ctx: ServiceContext, app: App, now: datetime | None = None) -> AppView:
    """The app's read model with the locks of the month of `now` (the clock's by default)."""
    return AppView.of(app, uow.locks.of_app(app.app_id, ctx.period(now).month), ctx.tz)


class AppQueries:
    """Reading apps: list, show and history."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    @use_case()
    async def show(self, app_id: int) -> AppView:
        """One app, with its locks of this month."""

        def read() -> AppView:
            with self.ctx.uow() as uow:
                return view_of(uow, self.ctx, get_app(uow, app_id))

        return await self.ctx.run(read)

    @use_case(catches_up=False)
    async def views(self, app_ids: list[int]) -> list[AppView]:
        """Several apps at once, in the order asked (unknown IDs are left out)."""

        def read() -> list[AppView]:
            month = self.ctx.period().month
            with self.ctx.uow() as uow:
                apps = uow.apps.many(app_ids)
                locks = uow.locks.of_apps(list(apps), month)
            return [AppView.of(apps[a], locks.get(a, {}), self.ctx.tz) for a in app_ids if a in apps]

        return await self.ctx.run(read)

    @use_case(check=lambda args: args["filt"].check())
    async def list(self, filt: AppFilter = AppFilter()) -> list[AppView]:
        """The apps the filter keeps (checked before anything is read)."""

        def read() -> list[AppView]:
            month = self.ctx.period().month
            with self.ctx.uow() as uow:
                account_id = None
                if filt.account is not None:
                    account_id = uow.accounts.find(filt.account)
                    if account_id is None:
                        raise NotFound(f"no account named {filt.account!r}")
                if filt.matches_nothing:
                    return []
                apps = uow.apps.search(filt.status, filt.edition, account_id, filt.search)
                locks = uow.locks.of_apps([a.app_id for a in apps], month)
            return [AppView.of(a, locks.get(a.app_id, {}), self.ctx.tz) for a in apps]

        return await self.ctx.run(read)

    @use_case(catches_up=False)
    async def history(self, app_id: int) -> list[HistoryEntry]:
        """The app's change history, oldest first."""

        def read() -> list[HistoryEntry]:
            with self.ctx.uow() as uow:
                get_app(uow, app_id)
                return uow.history.of_app(app_id)

        return await self.ctx.run(read)

    @use_case(catches_up=False)
    async def states(self, app_id: int) -> list[State]:
        """The app's billing states this month (for its daily-cost chart)."""

        def read() -> list[State]:
            period = self.ctx.period()
            with self.ctx.uow() as uow:
                get_app(uow, app_id)
                return uow.history.states_between(period.start, period.end, [app_id]).get(app_id, [])

        return await self.ctx.run(read)
