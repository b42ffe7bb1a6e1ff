"""The dashboard's App: wiring of services, screens, keymap, styles and the command palette."""

from __future__ import annotations

from pathlib import Path

from textual import events, work
from textual.app import App
from textual.binding import Binding

from imtui.config import Settings, environment
from imtui.domain.errors import ImtuiError
from imtui.domain.roles import VIEWER, allows
from imtui.services.face import Services
from imtui.ui.keymap import load_keymap
from imtui.ui.typeahead import KeysInOrder


def styles_dir() -> Path:
    """`styles/` of a source checkout, or the copy an installed wheel carries in the package."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[1] / "styles", here.parents[2] / "styles"):
        if (candidate / "imtui.tcss").is_file():
            return candidate
    raise FileNotFoundError("the dashboard's stylesheets (styles/imtui.tcss) are missing")


class ImtuiApp(KeysInOrder, App):
    """imtui: the fleet, its costs, and the operations on it. Keys typed ahead are routed one at a
    time, each once the one before it has had its effect (`KeysInOrder`)."""

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
        self.no_color = environment().no_color
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
        self.release_keys()  # keys typed during start-up go to the fleet once it is shown

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

    def on_key(self, event: events.Key) -> None:
        """A key whose action this run may not take (dimmed in the footer) says why, in one
        line, instead of doing nothing: screens name such actions in `PERMISSIONS`."""
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.enabled:
            return
        permission = getattr(active.node, "PERMISSIONS", {}).get(active.binding.action)
        if permission is not None and not self.may(permission):
            self.refuse_unless_allowed(permission)

    def refuse_unless_allowed(self, action: str = "modify") -> bool:
        if self.settings.read_only:
            self.notify("this run is read-only (--read-only); nothing can be changed", severity="warning")
            return True
        if not allows(self.role, action):
            self.notify(f"your role ({self.role}) does not allow {action}; ask an admin", severity="warning")
            return True
        return False


def run_dashboard(services: Services, settings: Settings) -> int:
    """Opens the dashboard on services built by the composition root; returns the exit code."""
    ImtuiApp(services, settings).run()
    return 0
