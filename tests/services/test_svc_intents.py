"""Intents in the service layer: written before the call, settled with the change, and settled by
recovery when their owner died (the platform says whether it acted)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from imtui.domain.intents import PENDING, Intent
from imtui.services.control_plane import ControlPlaneError
from tests.support.services import count_audit, sql


@pytest.fixture
async def apps(services, clock):
    ids = [(await services.changes.create(f"app-{i}", "acme")).app_id for i in range(3)]
    clock.advance(hours=1)
    return ids


def intents(db_path) -> dict[int, str]:
    return {app_id: state for app_id, state in sql(db_path, "SELECT app_id, state FROM intents")}


async def test_each_halt_is_an_intent_settled_with_its_change(services, db_path, apps):
    a, b, c = apps
    results = await services.lifecycle.halt([a, b], "drill")
    assert all(r.ok for r in results)
    assert intents(db_path) == {a: "done", b: "done"}
    assert (await services.apps.show(c)).status == "active"


async def test_a_refused_call_fails_its_intent_and_changes_nothing(services, db_path, cp, apps):
    a, b, _ = apps
    cp.fail.add(b)
    results = await services.lifecycle.halt([a, b], "drill")
    assert [r.ok for r in results] == [True, False]
    assert intents(db_path) == {a: "done", b: "failed"}
    assert (await services.apps.show(b)).status == "active"


async def test_an_unanswered_call_is_asked_about_and_abandoned_when_it_never_acted(services, db_path, cp, apps):
    a, b, _ = apps
    cp.hang.add(b)
    cp.timeout = 0.05
    results = await services.lifecycle.halt([a, b], "drill")
    # tui.md: an app the platform never acted on because it did not answer is "not done", not refused
    assert results[1].error.startswith("not done: the platform did not answer; nothing changed")
    assert (results[1].outcome, results[1].exit_code) == ("not done", 1)
    assert intents(db_path) == {a: "done", b: "abandoned"}
    assert (await services.apps.show(b)).status == "active"


async def test_when_the_platform_cannot_say_the_intent_stays_pending_and_blocks_a_second_halt(
    services, db_path, cp, clock, apps
):
    a, _, _ = apps
    cp.hang.add(a)
    cp.timeout = 0.05

    async def silent(key):
        raise ControlPlaneError("the control plane did not answer")

    cp.resolve = silent
    [first] = await services.lifecycle.halt([a], "drill")
    assert not first.ok and "next imtui run settles it" in first.error
    assert intents(db_path) == {a: "pending"}
    clock.advance(minutes=1)
    [second] = await services.lifecycle.halt([a], "again")
    assert not second.ok and "still being settled" in second.error

    del cp.resolve  # the platform answers again: it never acted on the key
    assert await services.intents.recover() == 1
    assert intents(db_path)[a] == "abandoned"
    assert await count_audit(services, "recover", "refused", app_id=a) == 1


def orphan(app_id: int, key: str, requested_at: datetime, owner: str, lease: datetime) -> Intent:
    return Intent(key, app_id, "halt", "someone", requested_at, "drill", PENDING, owner, lease)


async def write(services, intent: Intent) -> None:
    def go():
        with services._ctx.uow(write=True) as uow:
            uow.intents.add_many([intent])
            uow.commit()

    await services._ctx.run(go)


async def test_recovery_records_what_the_platform_did_for_a_dead_owner(services, db_path, cp, clock, apps):
    a, b, c = apps
    requested = clock.now()
    past = datetime.now(UTC) - timedelta(minutes=5)
    # a is an orphan on another host whose lease lapsed, and the platform stopped it
    await write(services, orphan(a, "k-a", requested, "elsewhere:42", past))
    cp.keys["k-a"] = "done"
    # b's owner is alive on this host (pid 1) and its lease stands: left alone
    await write(
        services, orphan(b, "k-b", requested, f"{socket.gethostname()}:1", datetime.now(UTC) + timedelta(minutes=5))
    )
    # c's owner is another host whose lease still stands: left alone
    await write(services, orphan(c, "k-c", requested, "elsewhere:43", datetime.now(UTC) + timedelta(minutes=5)))
    clock.advance(minutes=3)
    assert await services.intents.recover() == 1
    shown = await services.apps.show(a)
    assert shown.status == "deactivated" and shown.halt_reason == "drill"
    assert shown.deactivated_at == clock.now()  # the embedded platform gives no instant: when it is recorded
    assert intents(db_path) == {a: "done", b: "pending", c: "pending"}
    assert await count_audit(services, "recover", "done", app_id=a) == 1
    assert await count_audit(services, "halt", "done", app_id=a) == 1


def test_intent_keys_are_unique_and_sort_in_the_order_they_were_made(monkeypatch):
    """Time-ordered like UUIDv7 (a bulk's intents go to the end of the key index, not into a
    thousand of its pages), unique within one millisecond, 32 hex digits as before."""
    import imtui.services.intents as module

    ms = iter([1_795_000_000_000, 1_795_000_000_000, 1_795_000_000_001, 1_795_000_000_002])
    monkeypatch.setattr(module.time, "time_ns", lambda: next(ms) * 1_000_000)
    keys = [module.new_key() for _ in range(4)]
    monkeypatch.undo()
    assert len(set(keys)) == 4 and all(len(k) == 32 and int(k, 16) >= 0 for k in keys)
    assert keys[1:] == sorted(keys[1:]) and keys[0] < keys[2]
