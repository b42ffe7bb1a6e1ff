"""The intent rules: who may settle a pending intent, and when a confirmed action takes effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from imtui.domain.drift import START, STOP, drifted
from imtui.domain.intents import DONE, PENDING, Intent, effective_instant, is_orphaned

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def intent(owner: str, lease: datetime | None = None, state: str = PENDING) -> Intent:
    return Intent("k", 1, "halt", "ops", T0, None, state, owner, lease)


def test_an_intent_is_orphaned_when_its_local_owner_is_gone_or_its_lease_lapsed():
    soon = T0 + timedelta(seconds=30)
    assert is_orphaned(intent("here:10", soon), "here", pid_alive=False, wall_now=T0)
    assert not is_orphaned(intent("here:10", soon), "here", pid_alive=True, wall_now=T0)
    assert is_orphaned(intent("here:10", T0 - timedelta(seconds=1)), "here", pid_alive=True, wall_now=T0)
    assert not is_orphaned(intent("there:10", T0 + timedelta(seconds=1)), "here", pid_alive=False, wall_now=T0)
    assert is_orphaned(intent("there:10", T0 - timedelta(seconds=1)), "here", pid_alive=True, wall_now=T0)
    assert not is_orphaned(intent("here:10", soon, state=DONE), "here", pid_alive=False, wall_now=T0)


def test_the_effective_instant_stays_between_request_and_now_and_never_before_the_latest():
    now = T0 + timedelta(seconds=10)
    assert effective_instant(T0, T0 + timedelta(seconds=4), now, None) == T0 + timedelta(seconds=4)
    assert effective_instant(T0, T0 - timedelta(hours=1), now, None) == T0  # a platform clock behind
    assert effective_instant(T0, T0 + timedelta(hours=1), now, None) == now  # a platform clock ahead
    assert effective_instant(T0, None, now, None) == now
    assert effective_instant(T0, T0, now, T0 + timedelta(seconds=7)) == T0 + timedelta(seconds=7)


def test_drift_is_each_app_whose_platform_state_differs_except_those_still_settling():
    not_active = {1: "deactivated", 2: "purged", 3: "deactivated"}
    stopped = {1, 4, 5, 99}
    known = {1, 4, 5}  # 99 is not imtui's
    found = drifted(not_active, stopped, known, settling={5})
    assert [(d.app_id, d.status, d.serving, d.fix) for d in found] == [
        (2, "purged", True, STOP),
        (3, "deactivated", True, STOP),
        (4, "active", False, START),
    ]
