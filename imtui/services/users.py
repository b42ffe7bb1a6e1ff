"""Roles: who may read, halt, change apps, and grant roles (team mode)."""

from __future__ import annotations

from datetime import datetime

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.errors import InvalidInput
from imtui.domain.roles import DEFAULT_ROLE, Grant, check_role
from imtui.domain.text import check_name
from imtui.services.context import ServiceContext
from imtui.services.models import UserView
from imtui.services.use_case import use_case


class UserService:
    """Who operates and with what role; granting and revoking roles."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    @use_case(catches_up=False)
    async def me(self) -> UserView:
        """The operating user and their role."""

        def read() -> UserView:
            with self.ctx.uow() as uow:
                return Grant(self.ctx.actor, self.ctx.role(uow))

        return await self.ctx.run(read)

    @use_case(catches_up=False)
    async def list(self) -> list[UserView]:
        """Every user given a role, by name."""

        def read() -> list[UserView]:
            with self.ctx.uow() as uow:
                return uow.users.all()

        return await self.ctx.run(read)

    @use_case(writes=True, catches_up=False)
    async def grant(self, user: str, role: str) -> UserView:
        """Gives a user a role (admin only)."""
        return await self._change("grant", user, role)

    @use_case(writes=True, catches_up=False)
    async def revoke(self, user: str) -> UserView:
        """Takes a user's grant away: they read only (admin only)."""
        return await self._change("revoke", user, None)

    async def _change(self, action: str, user: str, role: str | None) -> UserView:
        ctx = self.ctx

        def write(now: datetime) -> UserView:
            name = check_name("user", user)
            if role is not None:
                check_role(role)
            with ctx.uow(write=True) as uow:
                ctx.require(uow, action)
                if action == "revoke" and name == ctx.actor:
                    raise InvalidInput("an admin cannot revoke their own role (ask another admin)")
                before = uow.users.role_of(name) or DEFAULT_ROLE
                uow.users.set_role(name, role, now, ctx.actor)
                after = role or DEFAULT_ROLE
                uow.audit.add(AuditEntry(now, ctx.actor, action, None, DONE, f"user {name}: {before} → {after}"))
                uow.meta.bump_counter()
                uow.commit()
                return Grant(name, after, now, ctx.actor)

        return await ctx.audited(action, None, write)
