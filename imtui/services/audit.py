"""Reading the audit trail (records are written by the operations themselves)."""

from __future__ import annotations

from imtui.domain.errors import InvalidInput, NotFound
from imtui.persistence import repo
from imtui.services.context import ServiceContext
from imtui.services.models import AuditView


class AuditService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    async def trail(self, app_id: int | None = None, limit: int = 100, offset: int = 0) -> list[AuditView]:
        """Newest first, optionally for one app."""
        if limit < 1:
            raise InvalidInput(f"--limit must be a positive number, not {limit}")

        def read() -> list[AuditView]:
            with self.ctx.uow() as uow:
                if app_id is not None and repo.get_app(uow.session, app_id) is None:
                    raise NotFound(f"no app {app_id}")
                return [
                    AuditView(r.at, r.actor, r.action, r.app_id, r.result, r.detail)
                    for r in repo.audit_trail(uow.session, app_id, limit, offset)
                ]

        return await self.ctx.run(read)

    async def change_counter(self) -> int:
        """A number that grows with every change anyone makes (cheap to poll)."""
        def read() -> int:
            with self.ctx.uow() as uow:
                return repo.change_counter(uow.session)

        return await self.ctx.run(read)
