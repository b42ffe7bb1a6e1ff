"""Intents: a halt or reactivation written down before the control plane is asked, so that no
death of imtui between the call and its record leaves the two disagreeing unseen.

An intent is `pending` until settled: `done` (the platform acted and the app was changed in the
same transaction), `failed` (the platform refused; nothing changed), or `abandoned` (no request
with its key ever acted, and the platform has fenced the key so none will). A pending intent
whose owner has died is settled by whichever imtui process finds it (`is_orphaned`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PENDING, DONE, FAILED, ABANDONED = "pending", "done", "failed", "abandoned"

LEASE = timedelta(seconds=60)
"""How long an owner is trusted to still be at work on its pending intents without renewing them
(owners renew while they work; on the same host imtui also asks the kernel whether it lives)."""


@dataclass(frozen=True)
class Intent:
    """A halt or reactivation written down before the control plane is asked, so whoever finds it
    unsettled can settle it."""

    key: str
    """The idempotency key every call for this intent carries."""
    app_id: int
    action: str
    """`halt` or `reactivate`."""
    actor: str
    requested_at: datetime
    reason: str | None = None
    state: str = PENDING
    owner: str = ""
    """`host:pid` of the process at work on it."""
    lease_until: datetime | None = None
    """Wall-clock instant (UTC) until which the owner's claim stands."""


def owner_host(owner: str) -> str:
    return owner.rpartition(":")[0]


def owner_pid(owner: str) -> int | None:
    pid = owner.rpartition(":")[2]
    return int(pid) if pid.isdigit() else None


def is_orphaned(intent: Intent, host: str, pid_alive: bool, wall_now: datetime) -> bool:
    """Whether another process may settle a pending intent: its owner let its lease lapse (owners
    renew it while they work), or ran on this host and is gone."""
    if intent.state != PENDING:
        return False
    lapsed = intent.lease_until is None or intent.lease_until < wall_now
    return lapsed or (owner_host(intent.owner) == host and not pid_alive)


def effective_instant(
    requested_at: datetime, confirmed_at: datetime | None, now: datetime, latest: datetime | None
) -> datetime:
    """The instant a confirmed action takes effect (billing, the 90-day clock): the platform's
    own instant of it, kept within the span it can truly have happened in, from the request to
    now on imtui's clock (hosts' clocks differ; a drill's `--now` is not the platform's), and
    never before what the database already holds (`latest`): history is not back-dated, so a
    confirmation recorded after a later one, or after another process's later change, takes
    effect at that later instant."""
    at = now if confirmed_at is None else min(max(confirmed_at, requested_at), now)
    return max(at, latest) if latest is not None else at
