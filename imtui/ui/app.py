"""The dashboard's App: wiring of services, screens, keymap, styles and the command palette."""

from __future__ import annotations

import os
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from imtui.clock import Clock
from imtui.config import Settings
from imtui.domain.errors import ImtuiError
from imtui.domain.roles import VIEWER, allows
from imtui.services.factory import Services, build_services
from imtui.services.fleet import FleetRow
from imtui.ui.keymap import load_keymap


def styles_dir() -> Path:
    """`styles/` of a source checkout, or the copy an installed wheel carries in the package."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[1] / "styles", here.parents[2] / "styles"):
        if (candidate / "imtui.tcss").is_file():
            return candidate
    raise FileNotFoundError("the dashboard's stylesheets (styles/imtui.tcss) are missing")


class ImtuiApp(App):
    """imtui: the fleet, its costs, and the operations on it."""

    TITLE = "imtui"
    CSS_PATH = [styles_dir() / "imtui.tcss"]
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("question_mark", "help", "Help", show=False, id="app.help_alt"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, services: Services, settings: Settings, keymap_file: Path | None = None):
        from imtui.ui.commands import AppCommands, ScreenCommands

        self.COMMANDS = App.COMMANDS | {AppCommands, ScreenCommands}
        super().__init__()
        self.services = services
        self.settings = settings
        self.no_color = "NO_COLOR" in os.environ
        self._keymap_file = keymap_file if keymap_file is not None else settings.keymap

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """Notices carry names and reasons users typed: shown as plain text, never as markup."""
        super().notify(message, markup=markup, **kwargs)

    def on_mount(self) -> None:
        from imtui.ui.screens.main import MainScreen

        keymap, problems = load_keymap(self._keymap_file)
        if keymap:
            self.set_keymap(keymap)
        for problem in problems:
            self.notify(problem, severity="warning", title="Keymap")
        if self.no_color:
            self.theme = "ansi-dark"
        self.load_role()
        self.push_screen(MainScreen())

    @property
    def main(self):
        from imtui.ui.screens.main import MainScreen

        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the applications screen is not open")

    # --- navigation and dialogs (screens ask, the app routes) ---------------------------------------

    def action_help(self) -> None:
        from imtui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def open_detail(self, app_id: int) -> None:
        from imtui.ui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(app_id))

    def open_bills(self) -> None:
        from imtui.ui.screens.bills import BillsScreen

        self.push_screen(BillsScreen())

    def open_audit(self, app_id: int | None = None) -> None:
        from imtui.ui.screens.audit import AuditScreen

        self.push_screen(AuditScreen(app_id))

    role: str = VIEWER
    """The operating user's role (read at start); until known, only reading is offered."""

    @work(group="role")
    async def load_role(self) -> None:
        try:
            self.role = (await self.services.users.me()).role
        except ImtuiError as exc:
            self.notify(exc.message, severity="error", title="Could not read your role")
        for screen in self.screen_stack:
            screen.refresh_bindings()

    def may(self, action: str) -> bool:
        """Whether this run may do an action: not read-only, and the role allows it."""
        return not self.settings.read_only and allows(self.role, action)

    def refuse_unless_allowed(self, action: str = "modify") -> bool:
        if self.settings.read_only:
            self.notify("this run is read-only (--read-only); nothing can be changed", severity="warning")
            return True
        if not allows(self.role, action):
            self.notify(
                f"your role ({self.role}) does not allow {action}; ask an admin", severity="warning"
            )
            return True
        return False

    def open_change_form(self, kind: str, targets: list[FleetRow]) -> None:
        from imtui.ui.screens.change_form import ChangeForm

        if self.refuse_unless_allowed(kind) or not targets:
            return
        self.push_screen(ChangeForm(kind, targets))

    def open_halt(self, targets: list[FleetRow], hidden_marked: int = 0) -> None:
        from imtui.ui.screens.halt import HaltDialog

        if self.refuse_unless_allowed("halt") or not targets:
            return
        self.push_screen(HaltDialog(targets, hidden_marked), self._halt_confirmed)

    def _halt_confirmed(self, result) -> None:
        if result:
            app_ids, reason = result
            self.halt(app_ids, reason)

    @work(group="operations")
    async def halt(self, app_ids: list[int], reason: str) -> None:
        results = await self._bulk("Halting", lambda progress: self.services.apps.halt(app_ids, reason, progress))
        if results is None:
            return
        done = [r.app_id for r in results if r.ok]
        if done:
            self.main.last_halted = done
            self.main.refresh_bindings()
            self.notify(
                f"halted {len(done)} app{'s' if len(done) > 1 else ''}: "
                f"{', '.join(map(str, done[:5]))}{'…' if len(done) > 5 else ''}. "
                "Press z to reactivate them.",
                title="Halted",
                timeout=30,
            )

    @work(group="operations")
    async def reactivate(self, app_ids: list[int]) -> None:
        if self.refuse_unless_allowed("reactivate") or not app_ids:
            return
        results = await self._bulk("Reactivating", lambda progress: self.services.apps.reactivate(app_ids, progress))
        if results and all(r.ok for r in results):
            self.notify(f"reactivated {len(results)} app{'s' if len(results) > 1 else ''}", title="Reactivated")

    async def _bulk(self, verb: str, call):
        """Runs a bulk operation showing progress, then the result list (or a notice for one)."""
        from imtui.ui.screens.results import ResultsScreen

        main = self.main

        def progress(done: int, total: int) -> None:
            main.show_progress(f"{verb} {done}/{total}…" if done < total else "")

        main.show_progress(f"{verb}…")
        try:
            results = await call(progress)
        except ImtuiError as exc:
            self.notify(exc.message, severity="error", title=f"{verb} refused")
            return None
        finally:
            main.show_progress("")
        main.load_changes()
        failed = [r for r in results if not r.ok]
        if len(results) > 1:
            self.push_screen(ResultsScreen(f"{verb}: {len(results) - len(failed)} done, {len(failed)} refused", results))
        elif failed:
            self.notify(failed[0].error or "refused", severity="error", title=f"{verb} refused")
        return results


def run_dashboard(settings: Settings, clock: Clock, simulation: bool = False) -> int:
    """Opens the dashboard; returns the process exit code."""
    services = build_services(settings, clock, simulation=simulation)
    try:
        ImtuiApp(services, settings).run()
    finally:
        services.close()
    return 0
