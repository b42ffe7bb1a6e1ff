"""Drift in the dashboard: the number of apps the platform runs otherwise than their status says,
and a filter to exactly those; halts recorded by the dashboard leave nothing unsettled."""

from __future__ import annotations

from imtui.services.control_plane import SimulatedControlPlane
from tests.support.ui import settle, summary


class PlatformWithState(SimulatedControlPlane):
    """A platform that keeps which apps it does not serve, so it can drift from imtui."""

    def __init__(self) -> None:
        super().__init__(latency=0)
        self.stopped_apps: set[int] = set()

    async def deactivate(self, app_id: int, key: str):
        await super().deactivate(app_id, key)
        self.stopped_apps.add(app_id)

    async def activate(self, app_id: int, key: str):
        await super().activate(app_id, key)
        self.stopped_apps.discard(app_id)

    async def stopped(self) -> set[int] | None:
        return set(self.stopped_apps)


async def test_drift_count_and_filter(env):
    plane = PlatformWithState()
    env.cp = plane
    env.settings, env.services = env.open()
    await env.demo(apps=30)
    rows = await env.services.fleet.snapshot(with_costs=False)
    status = {r.app_id: r.status for r in rows.rows}
    plane.stopped_apps = {a for a, s in status.items() if s != "active"}
    running = next(a for a, s in status.items() if s == "active")
    halted = next(a for a, s in status.items() if s == "deactivated")
    plane.stopped_apps.add(running)  # another tool stopped an app imtui has active
    plane.stopped_apps.discard(halted)  # and started one imtui has halted

    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "2 drifted [D]" in summary(app)
        await pilot.press("D")
        await settle(pilot)
        model = app.main.model
        assert sorted(model.rows[i].app_id for i in model.view) == sorted([running, halted])
        assert "only these shown" in summary(app)

        # the drift is repaired (reconcile --fix); the next look shows none
        await env.services.reconcile.fix()
        app.main.load_drift()
        await settle(pilot)
        assert "0 drifted" in summary(app)
        assert model.view == []


async def test_without_a_separate_platform_no_drift_figure_is_shown(env):
    await env.demo(apps=10)
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "drifted" not in summary(app)
        await pilot.press("D")
        await settle(pilot)
        assert any("--control-plane" in n.message for n in app._notifications)
        assert len(app.main.model.view) == 10


async def test_no_poll_reads_changes_before_the_first_read_is_done(env):
    """A poll while the first read of the fleet is still under way (a big fleet, a slow disk)
    must not read "every app changed since event 0" again and again in the background."""
    await env.demo(apps=10)
    app = env.make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        app.main.counter, app.main.last_event = -1, 0  # as before the first read has finished
        await app.main.poll()
        assert not [w for w in app.workers if w.group == "fleet" and w.is_running]
