"""The platform a database belongs to (cli.md): recorded at the first act through a control plane,
checked before every act after it, moved only on purpose by an admin.

Halting and reactivating act on one platform, and what became of an intent can only be asked of
the platform that received its key: another platform (or the simulator inside the process) never
saw the key, would fence it as unknown and have recovery abandon a halt that really happened. So
the database records the identity of its platform (`GET /v1/identity`; `embedded` for the
simulator inside the process) and the last address it was reached at (redacted: no user,
password or query), and an act through any other is refused (exit 3, naming the platform).

Acts: a halt or reactivation that calls the platform, intent recovery that asks it, `reconcile
--fix`. They bind an unbound database; a plain `reconcile` (a read) and `--dry-run` are checked
(`require(bind=False)`) but never bind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.errors import Refused, Unavailable
from imtui.services.context import ServiceContext
from imtui.services.control_plane import (
    EMBEDDED,
    NOT_DONE,
    ControlPlane,
    ControlPlaneError,
    ControlPlaneSilent,
    ControlPlaneUnreachable,
    NotDone,
)
from imtui.services.use_case import use_case

BIND = "bind"
"""The audit trail's action for recording (or moving) the platform a database belongs to."""
MOVE = "move it with `imtui platform bind URL`"


@dataclass(frozen=True)
class Binding:
    """The platform a database belongs to; all None while no act has bound it."""

    platform: str | None
    url: str | None
    bound_at: datetime | None


@dataclass(frozen=True)
class BindResult:
    """What binding a database to a platform did."""

    binding: Binding
    changed: bool
    """False when the database already belonged to that platform at that address."""


def describe(platform: str, url: str | None) -> str:
    """A platform as a sentence names it."""
    if platform == EMBEDDED:
        return "the embedded platform (the simulator inside imtui, used without IMTUI_CONTROL_PLANE)"
    return f"platform {platform} ({url or 'address not known'})"


def _where(plane: ControlPlane) -> str | None:
    return getattr(plane, "location", None)


class PlatformBinding:
    """Which platform the database belongs to, and the guard that refuses to act through another."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    @use_case(catches_up=False)
    async def show(self) -> Binding:
        """The platform the database belongs to (all None while unbound)."""
        return await self.ctx.run(self._read)

    def _read(self) -> Binding:
        with self.ctx.uow() as uow:
            return Binding(*uow.meta.platform)

    # --- the guard ---------------------------------------------------------------------------------

    @use_case(catches_up=False)
    async def require(self, bind: bool = False) -> str | None:
        """Refuses (exit 3, naming the database's platform) when this run's control plane is not
        the platform the database belongs to; with `bind`, an unbound database is bound to it
        (audited). Exit 1 when the platform does not answer who it is. Returns the identity
        checked (None: unbound and not binding, nothing was asked)."""
        ctx = self.ctx
        bound = await ctx.run(self._read)
        plane = ctx.control_plane
        here = _where(plane)
        if bound.platform is None and not bind:
            return None
        if bound.platform is not None and (bound.platform == EMBEDDED) != (here is None):
            raise Refused(self._elsewhere(bound, None, here))  # embedded against a URL: no need to ask
        identity = await identity_of(plane)
        if bound.platform is None:
            await ctx.run(lambda: self._bind_first(identity, here))
        elif identity != bound.platform:
            raise Refused(self._elsewhere(bound, identity, here))
        elif bind and here != bound.url:
            await ctx.run(lambda: self._moved(identity, here))
        return identity

    def _elsewhere(self, bound: Binding, identity: str | None, here: str | None) -> str:
        """The refusal: whose the database is, what this run goes through, and the way out."""
        if here is None:
            run = "this run, which has no IMTUI_CONTROL_PLANE (the simulator inside imtui)"
        elif identity is None:
            run = f"the control plane at {here}"
        else:
            run = f"platform {identity} at {here}"
        advice = (
            "unset IMTUI_CONTROL_PLANE (and --control-plane)"
            if bound.platform == EMBEDDED
            else f"set IMTUI_CONTROL_PLANE to {bound.url or 'its address'}"
        )
        return f"this database belongs to {describe(bound.platform, bound.url)}, not to {run}; {advice}, or {MOVE}"

    def _bind_first(self, identity: str, here: str | None) -> None:
        """Binds an unbound database (the first act through a platform), audited; a process that
        bound it to another platform meanwhile wins and this act is refused."""
        ctx = self.ctx
        with ctx.uow(write=True) as uow:
            bound = Binding(*uow.meta.platform)
            if bound.platform is not None:
                if bound.platform != identity:
                    raise Refused(self._elsewhere(bound, identity, here))
                return
            now = ctx.now()
            uow.meta.bind_platform(identity, here, now)
            detail = f"bound to {describe(identity, here)}, the first act through it"
            uow.audit.add(AuditEntry(now, ctx.actor, BIND, None, DONE, detail))
            uow.meta.bump_counter()
            uow.commit()

    def _moved(self, identity: str, here: str | None) -> None:
        """The database's platform was reached at another address: remembered as the last known."""
        with self.ctx.uow(write=True) as uow:
            if uow.meta.platform[0] == identity:
                uow.meta.bind_platform(identity, here, None)
                uow.commit()

    # --- moving a database on purpose ---------------------------------------------------------------

    @use_case(writes=True, catches_up=False)
    async def bind(self, plane: ControlPlane) -> BindResult:
        """`imtui platform bind URL` (admin, audited): the database belongs to `plane`'s platform
        from now on. Refused while halts or reactivations are still being settled on another
        platform: only it can say what became of them."""
        ctx = self.ctx
        await ctx.audited(BIND, None, lambda _: self._require_admin())
        here = _where(plane)
        identity = await identity_of(plane)

        def write(now: datetime) -> BindResult:
            with ctx.uow(write=True) as uow:
                ctx.require(uow, BIND)
                before = Binding(*uow.meta.platform)
                if before.platform == identity and before.url == here:
                    return BindResult(before, False)
                pending = uow.intents.pending_count()
                if pending and before.platform not in (None, identity):
                    raise Refused(
                        f"{pending} halt(s) or reactivation(s) are still being settled with "
                        f"{describe(before.platform, before.url)}, and only it can say what became of "
                        "them; run any imtui command through it first (IMTUI_CONTROL_PLANE), then move "
                        "the database"
                    )
                uow.meta.bind_platform(identity, here, now)
                was = f" (was {describe(before.platform, before.url)})" if before.platform else ""
                detail = f"bound to {describe(identity, here)}{was}"
                uow.audit.add(AuditEntry(now, ctx.actor, BIND, None, DONE, detail))
                uow.meta.bump_counter()
                uow.commit()
                return BindResult(Binding(identity, here, now), True)

        return await ctx.audited(BIND, None, write)

    def _require_admin(self) -> None:
        with self.ctx.uow() as uow:
            self.ctx.require(uow, BIND)


async def identity_of(plane: ControlPlane) -> str:
    """Who the platform is; exit 1 when it does not say (nothing was asked to act)."""
    try:
        return await plane.identity()
    except (ControlPlaneSilent, ControlPlaneUnreachable) as exc:
        raise NotDone(f"{NOT_DONE} ({exc})") from None
    except ControlPlaneError as exc:
        raise Unavailable(f"{exc}; nothing changed") from None
