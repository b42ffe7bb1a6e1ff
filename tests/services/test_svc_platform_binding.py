"""The platform a database belongs to (cli.md), in the service layer: bound at the first act
(audited `bind`; `embedded` for the simulator inside the process), never by a read; every later
halt, reactivation, recovery or reconcile through another platform (or none) refused, naming the
database's; recovery never asks another platform; `platform bind` admin only and audited; and an
app the platform never acted on because it did not answer is "not done", not refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from imtui.domain.errors import InvalidInput, PermissionDenied, Refused
from imtui.domain.intents import PENDING, Intent
from imtui.services.control_plane import (
    EMBEDDED,
    ControlPlaneSilent,
    ControlPlaneUnreachable,
    SimulatedControlPlane,
    redact,
)
from tests.support.services import count_audit, sql, trail


class Remote(SimulatedControlPlane):
    """A platform apart from imtui (as over HTTP): an identity of its own, an address, a state."""

    def __init__(self, ident: str, location: str = "http://127.0.0.1:8765"):
        super().__init__(latency=0)
        self.ident = ident
        self.location = location
        self.asked = 0
        self.silent = False

    async def identity(self) -> str:
        self.asked += 1
        if self.silent:
            raise ControlPlaneSilent(
                "the control plane did not answer to say which platform it is (connection refused)"
            )
        return self.ident

    async def stopped(self) -> set[int] | None:
        return set()


@pytest.fixture
async def apps(services, clock):
    ids = [(await services.changes.create(f"app-{i}", "acme")).app_id for i in range(3)]
    clock.advance(hours=1)
    return ids


def meta(db_path) -> dict[str, str]:
    return dict(sql(db_path, "SELECT key, value FROM meta WHERE key LIKE 'platform%'"))


def states(db_path) -> dict[int, str]:
    return dict(sql(db_path, "SELECT app_id, state FROM intents"))


async def test_reads_do_not_bind_and_the_first_halt_binds_to_the_embedded_platform(services, db_path, apps):
    a, b, _ = apps
    await services.apps.show(a)
    with pytest.raises(InvalidInput):  # nothing to compare with the embedded platform
        await services.reconcile.check()
    assert await services.intents.require_bound_platform() is None  # a dry run's check writes nothing
    assert (await services.platform.show()).platform is None and meta(db_path) == {}

    assert all(r.ok for r in await services.lifecycle.halt([a], "drill"))
    bound = await services.platform.show()
    assert (bound.platform, bound.url, bound.bound_at) == (EMBEDDED, None, services.now())
    [entry] = [e for e in await trail(services) if e.action == "bind"]
    assert (entry.result, entry.app_id, entry.actor) == ("done", None, "tester")
    assert "embedded platform" in entry.detail

    assert all(r.ok for r in await services.lifecycle.halt([b], "drill"))  # bound once
    assert await count_audit(services, "bind") == 1


async def test_a_database_of_the_embedded_platform_refuses_a_run_through_another(
    services, make_services, db_path, apps
):
    a, b, _ = apps
    await services.lifecycle.halt([a], "drill")
    remote = Remote("5f3c0d7e-1111-4222-8333-944455556666")
    other = make_services(cp_=remote)
    results = await other.lifecycle.halt([b], "drill")
    [r] = results
    assert (r.ok, r.exit_code, r.outcome) == (False, 3, "refused")
    assert "belongs to the embedded platform" in r.error and "imtui platform bind URL" in r.error
    assert remote.calls == [] and remote.asked == 0  # refused without asking it anything
    assert (await other.apps.show(b)).status == "active"
    assert await count_audit(other, "halt", "refused", app_id=b) == 1
    with pytest.raises(Refused) as refused:
        await other.reconcile.check()
    assert refused.value.exit_code == 3 and "embedded platform" in refused.value.message
    assert meta(db_path)["platform"] == EMBEDDED


async def test_a_database_of_a_remote_platform_refuses_the_embedded_one_and_any_other(
    make_services, db_path, clock, apps
):
    a, b, c = apps
    home = Remote("p-home", "http://10.0.0.5:8765")
    mine = make_services(cp_=home)
    assert all(r.ok for r in await mine.lifecycle.halt([a], "drill"))
    assert meta(db_path) == {
        "platform": "p-home",
        "platform_url": "http://10.0.0.5:8765",
        "platform_bound_at": clock.now().astimezone(UTC).isoformat(),
    }
    [entry] = [e for e in await trail(mine) if e.action == "bind"]
    assert entry.detail.startswith("bound to platform p-home (http://10.0.0.5:8765)")

    clock.advance(minutes=1)
    embedded = make_services()  # no IMTUI_CONTROL_PLANE
    for call in (embedded.lifecycle.halt([b], "x"), embedded.lifecycle.reactivate([a])):
        [r] = await call
        assert (r.ok, r.exit_code) == (False, 3)
        assert r.error.startswith("this database belongs to platform p-home (http://10.0.0.5:8765)")
        assert "set IMTUI_CONTROL_PLANE to http://10.0.0.5:8765" in r.error
    with pytest.raises(Refused):
        await embedded.reconcile.check()
    with pytest.raises(Refused):
        await embedded.reconcile.fix()
    assert await count_audit(embedded, "reconcile", "refused") == 1  # the fix's refusal is audited

    stranger = make_services(cp_=Remote("p-other", "http://10.0.0.9:8765"))
    [r] = await stranger.lifecycle.halt([c], "x")
    assert r.exit_code == 3 and "not to platform p-other at http://10.0.0.9:8765" in r.error
    assert [(await mine.apps.show(x)).status for x in (a, b, c)] == ["deactivated", "active", "active"]

    # the same platform reached at another address: allowed, the address remembered
    moved = make_services(cp_=Remote("p-home", "http://platform.internal:8765"))
    assert all(r.ok for r in await moved.lifecycle.halt([b], "drill"))
    assert meta(db_path)["platform_url"] == "http://platform.internal:8765"
    assert await count_audit(moved, "bind") == 1


def orphan(app_id: int, key: str, at: datetime) -> Intent:
    lapsed = datetime.now(UTC) - timedelta(minutes=5)
    return Intent(key, app_id, "halt", "someone", at, "incident", PENDING, "elsewhere:42", lapsed)


async def write(services, intent: Intent) -> None:
    def go():
        with services._ctx.uow(write=True) as uow:
            uow.intents.add_many([intent])
            uow.commit()

    await services._ctx.run(go)


async def test_recovery_never_asks_a_platform_that_is_not_the_databases(make_services, db_path, clock, apps):
    a, b, _ = apps
    home = Remote("p-home")
    mine = make_services(cp_=home)
    await mine.lifecycle.halt([b], "bind it")  # bound to p-home
    await write(mine, orphan(a, "k-a", clock.now()))
    home.keys["k-a"] = "done"  # the platform stopped it; the process that asked died

    embedded = SimulatedControlPlane(latency=0)
    other = make_services(cp_=embedded)
    assert await other.intents.recover() == 0
    assert "k-a" not in embedded.keys  # never asked (asking would have fenced the key: abandoned)
    assert states(db_path)[a] == "pending"
    assert other.intents.waiting and "belongs to platform p-home" in other.intents.waiting
    assert "not known yet" in other.intents.waiting
    assert await count_audit(other, "recover") == 0
    assert (await other.apps.show(a)).status == "active"  # as it was, until its platform answers

    # its own platform unreachable: the intent stays pending too, nothing said
    home.silent = True
    assert await make_services(cp_=home).intents.recover() == 0
    assert states(db_path)[a] == "pending"

    home.silent = False
    clock.advance(minutes=1)
    back = make_services(cp_=home)
    assert await back.intents.recover() == 1
    assert states(db_path)[a] == "done" and back.intents.waiting is None
    assert (await back.apps.show(a)).status == "deactivated"
    assert await count_audit(back, "recover", "done", app_id=a) == 1


async def test_recovery_binds_an_unbound_database_it_acts_on(make_services, db_path, clock, apps):
    a, _, _ = apps
    home = Remote("p-home")
    first = make_services(cp_=home)
    await write(first, orphan(a, "k-a", clock.now()))
    home.keys["k-a"] = "done"
    assert await first.intents.recover() == 1
    assert meta(db_path)["platform"] == "p-home"
    assert await count_audit(first, "bind", "done") == 1


async def test_platform_bind_is_for_admins_audited_and_refused_read_only(make_services, db_path, clock, apps):
    admin = make_services()  # the database's creator ("tester") is its admin
    viewer = make_services(actor="bob")
    with pytest.raises(PermissionDenied) as refused:
        await viewer.platform.bind(Remote("p-new"))
    assert refused.value.exit_code == 3 and "needs the admin role" in refused.value.message
    [entry] = [e for e in await trail(admin) if e.action == "bind"]
    assert (entry.actor, entry.result) == ("bob", "refused")
    assert meta(db_path) == {}

    with pytest.raises(PermissionDenied):
        await make_services(read_only=True).platform.bind(Remote("p-new"))

    result = await admin.platform.bind(Remote("p-new", "https://platform.example:443/cp"))
    assert result.changed and result.binding.platform == "p-new"
    assert (await admin.platform.show()).url == "https://platform.example:443/cp"
    assert not (await admin.platform.bind(Remote("p-new", "https://platform.example:443/cp"))).changed
    clock.advance(minutes=1)
    moved = await admin.platform.bind(SimulatedControlPlane(latency=0))
    assert (moved.binding.platform, moved.binding.url) == (EMBEDDED, None)
    done = [e for e in await trail(admin) if e.action == "bind" and e.result == "done"]
    assert len(done) == 2 and "(was platform p-new (https://platform.example:443/cp))" in done[0].detail


async def test_platform_bind_is_refused_while_intents_wait_for_the_old_platform(make_services, db_path, clock, apps):
    a, b, _ = apps
    home = Remote("p-home")
    mine = make_services(cp_=home)
    await mine.lifecycle.halt([b], "bind it")
    await write(mine, orphan(a, "k-a", clock.now()))
    with pytest.raises(Refused) as refused:
        await mine.platform.bind(Remote("p-new"))
    assert "1 halt(s) or reactivation(s) are still being settled with platform p-home" in refused.value.message
    assert meta(db_path)["platform"] == "p-home"
    assert await count_audit(mine, "bind", "refused") == 1


async def test_a_platform_that_does_not_say_who_it_is_gets_not_done_and_no_binding(make_services, db_path, apps):
    a, b, _ = apps
    home = Remote("p-home")
    home.silent = True
    services = make_services(cp_=home)
    results = await services.lifecycle.halt([a, b], "drill")
    for r in results:
        assert (r.ok, r.exit_code, r.outcome) == (False, 1, "not done")
        assert r.error.startswith("not done: the platform did not answer; nothing changed")
    assert home.calls == [] and meta(db_path) == {} and states(db_path) == {}
    assert [(await services.apps.show(x)).status for x in (a, b)] == ["active", "active"]


async def test_not_done_and_not_known_yet_are_told_apart(make_services, db_path, clock, apps):
    """No request reached the platform → "not done" (nothing changed); sent, no answer, and the
    platform cannot say → "not known yet" (pending); the platform said no → refused."""
    a, b, c = apps

    class Flaky(Remote):
        async def deactivate(self, app_id, key):
            if app_id == a:
                raise ControlPlaneSilent("the control plane did not answer to deactivate (connection refused)")
            if app_id == b:
                raise ControlPlaneUnreachable("the control plane did not answer to deactivate (no answer)")
            return await super().deactivate(app_id, key)

        async def resolve(self, key):
            raise ControlPlaneSilent("no answer")

    plane = Flaky("p-home")
    plane.fail.add(c)
    services = make_services(cp_=plane)
    ra, rb, rc = await services.lifecycle.halt([a, b, c], "drill")
    assert (ra.outcome, ra.exit_code) == ("not done", 1)
    assert ra.error.startswith("not done: the platform did not answer; nothing changed")
    assert (rb.outcome, rb.exit_code) == ("not known yet", 1) and "not known yet" in rb.error
    assert (rc.outcome, rc.exit_code) == ("refused", 1) and "failed to deactivate" in rc.error
    assert states(db_path) == {a: "abandoned", b: "pending", c: "failed"}
    refusals = {e.app_id: e.detail for e in await trail(services) if e.action == "halt"}
    assert refusals[a].startswith("not done: the platform did not answer")


async def test_a_viewers_refused_reconcile_fix_is_audited(make_services, apps):
    viewer = make_services(actor="bob", cp_=Remote("p-home"))
    with pytest.raises(PermissionDenied):
        await viewer.reconcile.fix()
    [entry] = [e for e in await trail(viewer) if e.action == "reconcile"]
    assert (entry.actor, entry.result, entry.app_id) == ("bob", "refused", None)
    assert "needs the responder role" in entry.detail


def test_urls_are_recorded_and_shown_without_their_secret_parts():
    assert redact("http://ops:hunter2@127.0.0.1:8765/?token=abc#x") == "http://127.0.0.1:8765/"
    assert redact("https://platform.example/cp?sig=1") == "https://platform.example/cp"
    assert redact("unix:///run/imtui/cp.sock") == "unix:///run/imtui/cp.sock"
    assert redact("http://[::1]:8765") == "http://[::1]:8765"
    assert "hunter2" not in redact("http://ops:hunter2@host:99999/")  # malformed port: still cut
