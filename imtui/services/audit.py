"""Reading the audit trail (records are written by the operations themselves)."""

from __future__ import annotations

from imtui.domain.errors import InvalidInput, NotFound
from imtui.services.context import ServiceContext
from imtui.services.housekeeping import Housekeeping
from imtui.services.models import AuditView
from imtui.services.use_case import use_case


class AuditService:
    """Reading the audit trail."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    @use_case(check=lambda args: _positive(args["limit"]))
    async def trail(self, app_id: int | None = None, limit: int = 100, offset: int = 0) -> list[AuditView]:
        """Newest first, optionally for one app."""

        def read() -> list[AuditView]:
            with self.ctx.uow() as uow:
                if app_id is not None and uow.apps.get(app_id) is None:
                    raise NotFound(f"no app {app_id}")
                return uow.audit.trail(app_id, limit, offset)

        return await self.ctx.run(read)


def _positive(limit: int) -> None:
    """At least one record is asked for (exit 2 otherwise)."""
    if limit < 1:
        raise InvalidInput(f"--limit must be a positive number, not {limit}")
