"""Roles: who may read, halt, change apps, and grant roles (team mode)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from imtui.domain.errors import ImtuiError, InvalidInput
from imtui.domain.roles import DEFAULT_ROLE, check_role
from imtui.persistence import repo
from imtui.services.context import ServiceContext


@dataclass(frozen=True)
class UserView:
    name: str
    role: str
    granted_at: datetime | None
    granted_by: str | None


class UserService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    async def me(self) -> UserView:
        """The operating user and their role."""
        def read() -> UserView:
            with self.ctx.uow() as uow:
                return UserView(self.ctx.actor, self.ctx.role(uow.session), None, None)

        return await self.ctx.run(read)

    async def list(self) -> list[UserView]:
        def read() -> list[UserView]:
            with self.ctx.uow() as uow:
                return [UserView(u.name, u.role, u.granted_at, u.granted_by) for u in repo.users(uow.session)]

        return await self.ctx.run(read)

    async def grant(self, user: str, role: str) -> UserView:
        """Gives a user a role (admin only)."""
        return await self._change("grant", user, role)

    async def revoke(self, user: str) -> UserView:
        """Takes a user's grant away: they read only (admin only)."""
        return await self._change("revoke", user, None)

    async def _change(self, action: str, user: str, role: str | None) -> UserView:
        ctx = self.ctx
        ctx.require_writable()
        now = ctx.now()

        def write() -> UserView:
            name = user.strip()
            if not name or len(name) > 200 or not name.isprintable():
                raise InvalidInput(f"{user!r} is not a user name")
            if role is not None:
                check_role(role)
            with ctx.uow(write=True) as uow:
                s = uow.session
                ctx.require(s, action)
                if action == "revoke" and name == ctx.actor:
                    raise InvalidInput("an admin cannot revoke their own role (ask another admin)")
                before = repo.role_of(s, name) or DEFAULT_ROLE
                repo.set_role(s, name, role, now, ctx.actor)
                after = role or DEFAULT_ROLE
                repo.add_audit(s, now, ctx.actor, action, None, "done", f"user {name}: {before} → {after}")
                repo.bump_counter(s)
                uow.commit()
                return UserView(name, after, now, ctx.actor)

        try:
            return await ctx.run(write)
        except ImtuiError as exc:
            await ctx.run(partial(ctx.audit_refusal, action, None, exc, now))
            raise
