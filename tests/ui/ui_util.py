"""Helpers shared by the dashboard tests."""

from __future__ import annotations

from pathlib import Path

from imtui.clock import FixedClock
from imtui.config import Settings
from imtui.domain.calendar import parse_instant
from imtui.domain.rules import ChangeRequest
from imtui.services.control_plane import SimulatedControlPlane
from imtui.services.factory import Services, build_services
from imtui.ui.app import ImtuiApp
from textual.worker import WorkerCancelled

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
        services = build_services(settings, self.clock, self.cp, actor="tester")
        self._built.append(services)
        return settings, services

    def make_app(self, read_only: bool = False) -> ImtuiApp:
        if read_only:
            settings, services = self.open(read_only=True)
        else:
            settings, services = self.settings, self.services
        return ImtuiApp(services, settings, keymap_file=self.keymap_file)

    async def demo(self, apps: int = 40, seed: int = 3) -> None:
        from imtui.services.demo import build_demo

        await build_demo(self.services.ctx, apps=apps, seed=seed)
        self.clock.advance(minutes=1)

    async def trial(self, name: str, account: str = "acme") -> int:
        view = await self.services.apps.create(name, account)
        return view.app_id

    async def pro(self, name: str, account: str = "acme", **values) -> int:
        app_id = await self.trial(name, account)
        await self.services.apps.upgrade(app_id, ChangeRequest(edition="pro", **values))
        return app_id

    def close(self) -> None:
        for services in self._built:
            services.close()


async def settle(pilot, rounds: int = 4) -> None:
    """Lets messages, workers and workers started by callbacks of those run to the end."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        while True:
            try:
                await app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                continue  # an exclusive worker was superseded by a newer one: wait for that
    await pilot.pause()


def notices(app) -> list[str]:
    """The texts (with titles) of the notifications currently shown."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


def summary(app) -> str:
    return str(app.main.query_one("#summary").render())
