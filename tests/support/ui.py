"""Helpers shared by the dashboard tests: a test environment (clock, database, control plane,
services, App factory) and ways to wait for the App without guessing."""

from __future__ import annotations

from pathlib import Path

from textual.worker import WorkerCancelled

from imtui.bootstrap import open_services
from imtui.clock import FixedClock
from imtui.config import Settings
from imtui.domain.calendar import parse_instant
from imtui.domain.changes import ChangeRequest
from imtui.services.control_plane import SimulatedControlPlane
from imtui.services.face import Services
from imtui.ui.app import ImtuiApp

TZ = "Asia/Shanghai"
START = "2026-11-20T10:00"


def at(text: str):
    """An instant read in the billing zone."""
    return parse_instant(text, TZ)


class UiEnv:
    """One test's clock, database, control plane and services; builds Apps on them."""

    def __init__(self, tmp_path: Path, start: str = START) -> None:
        self.tmp_path = tmp_path
        self.db = str(tmp_path / "imtui.db")
        self.clock = FixedClock(at(start))
        self.cp = SimulatedControlPlane(latency=0)
        self.keymap_file = tmp_path / "keymap.toml"
        self._built: list[Services] = []
        self.settings, self.services = self.open()

    def open(self, read_only: bool = False) -> tuple[Settings, Services]:
        # a long poll interval: tests call `poll()` themselves when they want one
        settings = Settings(db=self.db, read_only=read_only, refresh_seconds=3600, keymap=self.keymap_file)
        services = open_services(settings, self.clock, self.cp, actor="tester")
        self._built.append(services)
        return settings, services

    def make_app(self, read_only: bool = False) -> ImtuiApp:
        if read_only:
            settings, services = self.open(read_only=True)
        else:
            settings, services = self.settings, self.services
        return ImtuiApp(services, settings, keymap_file=self.keymap_file)

    async def demo(self, apps: int = 40, seed: int = 3) -> None:
        await self.services.demo.build(apps=apps, seed=seed)
        self.clock.advance(minutes=1)

    async def trial(self, name: str, account: str = "acme") -> int:
        view = await self.services.changes.create(name, account)
        return view.app_id

    async def pro(self, name: str, account: str = "acme", **values) -> int:
        app_id = await self.trial(name, account)
        await self.services.changes.upgrade(app_id, ChangeRequest(edition="pro", **values))
        return app_id

    def close(self) -> None:
        for services in self._built:
            services.close()


def _busy(app) -> bool:
    """Whether anything is still to happen: a worker running, a message waiting anywhere, a
    callback waiting for the next refresh (`call_after_refresh`, `call_next`), or a table whose
    columns are still to be sized."""
    if any(w.is_running for w in app.workers):
        return True
    if any(screen._callbacks for screen in app.screen_stack):
        return True
    nodes = [app, *app.screen_stack]
    for screen in app.screen_stack:
        nodes.extend(screen.walk_children(with_self=False))
    return any(
        not node._message_queue.empty()
        or node._next_callbacks
        or getattr(node, "_require_update_dimensions", False)  # a DataTable sizes its columns on idle
        for node in nodes
    )


async def settle(pilot, most: int = 500) -> None:
    """Waits until the app is idle: every worker (and those their callbacks start) finished and
    every message handled. Fails if that never happens."""
    app = pilot.app
    for _ in range(most):
        await pilot.pause()
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            continue  # an exclusive worker was superseded by a newer one: wait for that
        if not _busy(app):
            await pilot.pause()
            if not _busy(app):
                return
    raise AssertionError("the dashboard never became idle")


async def wait_for(pilot, condition, most: int = 500) -> None:
    """Waits until `condition()` holds (the app keeps running meanwhile); fails if it never does."""
    for _ in range(most):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the condition never held")


def notices(app) -> list[str]:
    """The texts (with titles) of the notifications currently shown."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


def summary(app) -> str:
    return str(app.main.query_one("#summary").render())
